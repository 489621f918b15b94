/* The PIT's interrupt travels ISA IRQ 0 -> IOAPIC pin 2 -> local APIC ->
 * the IDT. Checks that ticks arrive at about the programmed rate. */
#include "guest.h"
#include "pmtimer.h"

#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u
#define VECTOR 0x30

extern volatile uint32_t timer_ticks;
void timer_isr(void);
void spurious_isr(void);

static uint64_t idt[256];

static void set_gate(unsigned vec, void (*fn)(void))
{
    uint32_t off = (uint32_t)fn;
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[vec] = (off & 0xffff) | ((uint64_t)cs << 16) | ((uint64_t)0x8e00 << 32) |
               ((uint64_t)(off >> 16) << 48);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(IOAPIC, reg);
    mmio_write32(IOAPIC + 0x10, v);
}

static uint32_t ioapic_read(uint32_t reg)
{
    mmio_write32(IOAPIC, reg);
    return mmio_read32(IOAPIC + 0x10);
}

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    for (unsigned i = 0; i < 256; i++)
        set_gate(i, spurious_isr);
    set_gate(VECTOR, timer_isr);
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr = { sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));

    outb(0x21, 0xff);                              /* mask both 8259s */
    outb(0xa1, 0xff);
    CHECK(((ioapic_read(1) >> 16) & 0xff) >= 23);  /* 24 redirection entries */
    mmio_write32(LAPIC + 0xf0, 0x1ff);             /* software-enable, spurious 0xff */
    mmio_write32(LAPIC + 0x80, 0);                 /* task priority 0 */
    uint32_t apic_id = mmio_read32(LAPIC + 0x20) >> 24;
    ioapic_write(0x10 + 2 * 2 + 1, apic_id << 24); /* pin 2: to this CPU */
    ioapic_write(0x10 + 2 * 2, VECTOR);            /* fixed, edge, active high, unmasked */

    /* PIT channel 0, mode 2, 1 kHz. */
    outb(0x43, 0x34);
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);

    uint32_t t0 = pm_ticks();
    __asm__ volatile("sti");
    while (timer_ticks < 50 && pm_ms_since(t0) < 20000)
        __asm__ volatile("pause");
    uint32_t elapsed = pm_ms_since(t0);
    __asm__ volatile("cli");
    print("pit test guest: ");
    print_dec(timer_ticks);
    print(" ticks in ");
    print_dec(elapsed);
    print(" ms\n");
    CHECK(timer_ticks >= 50);
    /* 50 ticks at 1 kHz: at least ~40 ms must have passed (not a storm). */
    CHECK(elapsed >= 40);
    return GUEST_PASS;
}
