/* UART: scratch register, loopback, line status, interrupt identification,
 * and output that the host test reads back. */
#include "guest.h"

#define COM1 0x3f8

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    CHECK(magic == 0x2BADB002);
    outb(COM1 + 7, 0x5a);
    CHECK(inb(COM1 + 7) == 0x5a);
    CHECK(inb(COM1 + 5) & 0x20);               /* THRE */
    CHECK(inb(COM1 + 5) & 0x40);               /* TEMT */
    CHECK((inb(COM1 + 2) & 0x01) == 0x01);     /* no interrupt pending */
    CHECK((inb(COM1 + 2) & 0xc0) == 0xc0);     /* FIFOs enabled */
    /* Divisor latch round trip. */
    outb(COM1 + 3, 0x83);
    outb(COM1 + 0, 0x0c);
    CHECK(inb(COM1 + 0) == 0x0c);
    outb(COM1 + 3, 0x03);
    /* Loopback: what we send comes back on the receive side. */
    outb(COM1 + 4, 0x10);
    outb(COM1, 0xa5);
    for (int i = 0; i < 1000 && !(inb(COM1 + 5) & 0x01); i++)
        ;
    CHECK(inb(COM1 + 5) & 0x01);               /* DR */
    CHECK(inb(COM1) == 0xa5);
    CHECK(!(inb(COM1 + 5) & 0x01));
    outb(COM1 + 4, 0x03);
    /* THR-empty interrupt identification with IER set. */
    outb(COM1 + 1, 0x02);
    CHECK((inb(COM1 + 2) & 0x0f) == 0x02);
    outb(COM1 + 1, 0x00);
    print("uart test guest: hello through the 16550A\n");
    return GUEST_PASS;
}
