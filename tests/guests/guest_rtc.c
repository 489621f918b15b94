/* RTC/CMOS: a plausible current date, a ticking clock, and the memory size
 * fields matching what multiboot reports. */
#include "guest.h"

static uint8_t cmos(uint8_t idx)
{
    outb(0x70, idx);
    return inb(0x71);
}

static uint32_t bcd(uint8_t v, int binary)
{
    return binary ? v : (uint32_t)((v >> 4) * 10 + (v & 0xf));
}

static uint32_t read_seconds_of_day(int binary)
{
    /* Wait (bounded) until no update is in progress, as BIOSes do. */
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
        ;
    uint32_t s = bcd(cmos(0x00), binary), m = bcd(cmos(0x02), binary), h = bcd(cmos(0x04) & 0x7f, binary);
    return h * 3600 + m * 60 + s;
}

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    uint8_t b = cmos(0x0b);
    int binary = (b & 0x04) != 0;
    CHECK(b & 0x02);                                /* 24-hour mode */
    CHECK(cmos(0x0d) & 0x80);                       /* VRT: valid RAM and time */
    uint32_t year = bcd(cmos(0x32), binary) * 100 + bcd(cmos(0x09), binary);
    uint32_t month = bcd(cmos(0x08), binary), day = bcd(cmos(0x07), binary);
    CHECK(year >= 2024 && year < 2200);
    CHECK(month >= 1 && month <= 12);
    CHECK(day >= 1 && day <= 31);
    uint32_t t0 = read_seconds_of_day(binary);
    CHECK(t0 < 86400);
    print("rtc test guest: ");
    print_dec(year); print("-"); print_dec(month); print("-"); print_dec(day);
    print("\n");
    /* Memory size: multiboot's mem_upper (KiB above 1 MiB) against CMOS
     * 0x34/0x35 (64 KiB units above 16 MiB). */
    const uint32_t *info = (const uint32_t *)mbi;
    CHECK(info[0] & 1);
    uint32_t mem_upper_kib = info[2];
    uint32_t above16 = (uint32_t)cmos(0x34) | ((uint32_t)cmos(0x35) << 8);
    uint32_t expect = mem_upper_kib > 15 * 1024 ? (mem_upper_kib - 15 * 1024) / 64 : 0;
    /* Allow for the holes multiboot leaves out. */
    CHECK(above16 + 16 >= expect && above16 <= expect + 16);
    /* Changing the time through register B's SET bit sticks. */
    cmos(0x0b);
    outb(0x70, 0x0b);
    outb(0x71, b | 0x80);
    outb(0x70, 0x04);
    outb(0x71, binary ? 23 : 0x23);
    outb(0x70, 0x0b);
    outb(0x71, b);
    CHECK(bcd(cmos(0x04) & 0x7f, binary) == 23);
    return GUEST_PASS;
}
