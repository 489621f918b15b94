/* Guest-requested reset: through the reset control register at 0xCF9 (the
 * FADT's reset register), or with "kbc" on the command line through the
 * i8042's pulse-reset command 0xFE. hostel-vm stops with status 2. */
#include "guest.h"

static int has_word(const char *s, const char *w)
{
    for (; s && *s; s++) {
        const char *a = s, *b = w;
        while (*a && *b && *a == *b) {
            a++;
            b++;
        }
        if (!*b)
            return 1;
    }
    return 0;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    const uint32_t *info = (const uint32_t *)mbi;
    const char *cmdline = (info[0] & (1u << 2)) ? (const char *)info[4] : "";
    if (has_word(cmdline, "kbc")) {
        print("reset test guest: pulsing reset through the i8042\n");
        outb(0x64, 0xfe);
    } else {
        print("reset test guest: resetting through port 0xcf9\n");
        outb(0xcf9, 0x02);   /* select hard reset: no reset yet */
        outb(0xcf9, 0x06);
    }
    fail("still running after a reset request");
    return GUEST_FAIL;
}
