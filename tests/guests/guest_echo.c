/* Echo: a guest that stays up for the control-interface test. It prints a
 * ready line, then sends back each line received on COM1 in upper case,
 * and exits with GUEST_PASS when it receives "quit". */
#include "guest.h"

#define COM1 0x3f8

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    print("echo test guest: ready\n");
    char line[80];
    unsigned n = 0;
    for (;;) {
        if (!(inb(COM1 + 5) & 0x01)) {
            __asm__ volatile("pause");
            continue;
        }
        char ch = (char)inb(COM1);
        if (ch != '\n' && ch != '\r' && n < sizeof(line) - 1) {
            line[n++] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
            continue;
        }
        if (ch != '\n')
            continue;
        line[n] = 0;
        if (n == 4 && line[0] == 'Q' && line[1] == 'U' && line[2] == 'I' && line[3] == 'T')
            return GUEST_PASS;
        print("echo: ");
        print(line);
        print("\n");
        n = 0;
    }
}
