/* A triple fault: with an empty IDT, int3 raises #GP, delivering it fails
 * (#DF), and so does that. hostel-vm must stop with a report and status 4. */
#include "guest.h"

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    print("triple test guest: loading an empty IDT\n");
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(idtr));
    fail("still running after a triple fault");
    return GUEST_FAIL;
}
