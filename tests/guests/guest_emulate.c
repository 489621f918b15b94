/* The instruction assist on a real KVM: KVM's forced-emulation prefix
 * (kvm.force_emulation_prefix=1, set by tests/nested/kvm-run.sh) makes KVM
 * run the next instruction through its own emulator. For int3 in kernel
 * mode that emulator gives up and exits to userspace, so hostel-vm must
 * emulate it and deliver #BP through the guest's IDT itself. (Instructions
 * KVM cannot even decode, such as popcnt or xsave, get a #UD from KVM under
 * the prefix instead of an exit, so they are covered by the unit tests of
 * src/emulate/ only.) Without the prefix enabled the guest reports
 * "skipped" (exit status 119). */
#include "guest.h"

#define GUEST_SKIP 0x3b     /* exit status 119 */
#define FEP "ud2; .ascii \"kvm\"; "

volatile uint32_t ud_count, bp_count, int41_count;
void ud_isr(void);
void bp_isr(void);
void int41_isr(void);

/* #UD (only when the prefix is off): count it and skip the 5-byte prefix.
 * #BP and vector 0x41: count. */
__asm__(".text\n"
        "ud_isr: lock incl ud_count; addl $5, (%esp); iret\n"
        "bp_isr: lock incl bp_count; iret\n"
        "int41_isr: lock incl int41_count; iret\n");

static uint64_t idt[256];

static void set_gate(unsigned vec, void (*fn)(void), unsigned dpl)
{
    uint32_t off = (uint32_t)fn;
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[vec] = (off & 0xffff) | ((uint64_t)cs << 16) | ((uint64_t)(0x8e00 | (dpl << 13)) << 32) |
               ((uint64_t)(off >> 16) << 48);
}

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    set_gate(3, bp_isr, 3);
    set_gate(6, ud_isr, 0);
    set_gate(0x41, int41_isr, 3);
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr = { sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));

    __asm__ volatile(FEP "nop");
    if (ud_count) {
        print("emulate test guest: KVM's forced-emulation prefix is off; skipped\n");
        return GUEST_SKIP;
    }
    print("emulate test guest:");

    /* int3 through the emulator: #BP reaches our handler, once. */
    __asm__ volatile(FEP "int3");
    CHECK(bp_count == 1);
    print(" int3");

    /* int n through the emulator reaches its gate too. */
    __asm__ volatile(FEP "int $0x41");
    CHECK(int41_count == 1);
    print(" int-0x41");

    CHECK(ud_count == 0);
    print(" ok\n");
    return GUEST_PASS;
}
