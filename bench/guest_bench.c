/* Benchmark guest: one multiboot image for every side-by-side benchmark,
 * told what to do by words on its multiboot command line (hostel-vm
 * --append, QEMU -append, kvm-pio-loop's second argument):
 *
 *   (nothing)   exit through the debug-exit port at once (boot benchmark)
 *   pio=N       N byte writes to port 0x80, then exit (port-I/O round trip)
 *   spin        print "bench-guest: ready" on COM1, then halt with
 *               interrupts off until the VMM is killed (memory benchmark)
 *
 * The exit is GUEST_PASS (exit status 85) in every case. The guest touches
 * only its own image, its 16 KiB stack and the multiboot structures, so the
 * guest RAM a VMM has faulted in is what the VMM or its firmware touched. */
#include "guest.h"

#define PIO_PORT 0x80          /* POST-code port: what Linux uses for I/O delays */
#define MBI_FLAG_CMDLINE (1u << 2)

/* Find "name=" or the word "name" in the command line; returns a pointer just
 * past the name (at '=' or the word's end) or 0. */
static const char *find_word(const char *s, const char *name)
{
    while (*s) {
        while (*s == ' ')
            s++;
        const char *w = s, *n = name;
        while (*n && *w == *n)
            w++, n++;
        if (!*n && (*w == 0 || *w == ' ' || *w == '='))
            return w;
        while (*s && *s != ' ')
            s++;
    }
    return 0;
}

static uint32_t parse_u32(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    const char *cmdline = "";
    if (magic == 0x2BADB002 && (((const volatile uint32_t *)mbi)[0] & MBI_FLAG_CMDLINE))
        cmdline = (const char *)((const volatile uint32_t *)mbi)[4];

    const char *w = find_word(cmdline, "pio");
    if (w && *w == '=') {
        uint32_t n = parse_u32(w + 1);
        for (uint32_t i = 0; i < n; i++)
            outb(PIO_PORT, (uint8_t)i);
        return GUEST_PASS;
    }
    if (find_word(cmdline, "spin")) {
        serial_init();
        print("bench-guest: ready\n");
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    return GUEST_PASS;
}
