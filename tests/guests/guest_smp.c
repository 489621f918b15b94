/* Second vCPU start-up: INIT-SIPI-SIPI through the local APIC; the AP runs
 * a real-mode trampoline that checks in with its APIC ID. */
#include "guest.h"
#include "pmtimer.h"

#define LAPIC 0xfee00000u

extern const uint8_t ap_tramp_start[], ap_tramp_end[];

static void send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    mmio_write32(LAPIC + 0x310, apic_id << 24);
    mmio_write32(LAPIC + 0x300, icr_low);
    for (int i = 0; i < 100000 && (mmio_read32(LAPIC + 0x300) & (1u << 12)); i++)
        ;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    volatile uint32_t *count = (volatile uint32_t *)0x7000;
    volatile uint32_t *ap_id = (volatile uint32_t *)0x7004;
    *count = 0;
    *ap_id = 0xffffffffu;
    uint8_t *dst = (uint8_t *)0x8000;
    for (const uint8_t *p = ap_tramp_start; p < ap_tramp_end; p++)
        *dst++ = *p;
    mmio_write32(LAPIC + 0xf0, 0x1ff);
    CHECK((mmio_read32(LAPIC + 0x20) >> 24) == 0); /* we are the BSP */

    send_ipi(1, 0x00004500);                      /* INIT, assert */
    pm_delay_ms(10);
    send_ipi(1, 0x00004608);                      /* SIPI, vector 0x08 -> 0x8000 */
    uint32_t t0 = pm_ticks();
    while (*count == 0 && pm_ms_since(t0) < 200)
        ;
    if (*count == 0)
        send_ipi(1, 0x00004608);                  /* second SIPI, as the MP spec says */
    t0 = pm_ticks();
    while (*count == 0 && pm_ms_since(t0) < 20000)
        __asm__ volatile("pause");
    print("smp test guest: ");
    print_dec(*count);
    print(" AP(s) started, APIC ID ");
    print_dec(*ap_id);
    print("\n");
    CHECK(*count == 1);
    CHECK(*ap_id == 1);
    return GUEST_PASS;
}
