/* PCI configuration mechanism #1: the i440FX host bridge at 00.0, nothing
 * else on bus 0, and all-ones for disabled or absent functions. */
#include "guest.h"

static uint32_t cfg_read(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t reg)
{
    outl(0xcf8, 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc));
    return inl(0xcfc);
}

uint32_t guest_main(uint32_t magic, uint32_t mbi)
{
    serial_init();
    CHECK(cfg_read(0, 0, 0, 0) == 0x12378086);
    CHECK((cfg_read(0, 0, 0, 8) >> 8) == 0x060000);     /* host bridge class */
    /* The address register reads back. */
    outl(0xcf8, 0x80000008u);
    CHECK(inl(0xcf8) == 0x80000008u);
    /* Byte and word reads of the data port honour the offset. */
    outl(0xcf8, 0x80000000u);
    CHECK(inw(0xcfe) == 0x1237);
    CHECK(inb(0xcfc) == 0x86);
    unsigned present = 0;
    for (uint32_t dev = 0; dev < 32; dev++)
        if (cfg_read(0, dev, 0, 0) != 0xffffffffu)
            present++;
    CHECK(present == 1);
    CHECK(cfg_read(1, 0, 0, 0) == 0xffffffffu);
    /* With the enable bit clear the data port reads all-ones. */
    outl(0xcf8, 0x00000000u);
    CHECK(inl(0xcfc) == 0xffffffffu);
    /* Vendor ID is read-only. */
    outl(0xcf8, 0x80000000u);
    outl(0xcfc, 0);
    CHECK(cfg_read(0, 0, 0, 0) == 0x12378086);
    print("pci test guest: host bridge 8086:1237 alone on bus 0\n");
    return GUEST_PASS;
}
