/* PCI configuration mechanism #1: the i440FX host bridge at 00.0, the
 * PIIX at slot 1 (ISA bridge 1.0, IDE 1.1, power management 1.3), the VGA
 * at 2.0, the virtio tablet at 3.0, and all-ones for disabled or absent
 * functions. */
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
    /* Slot 1: a multi-function PIIX. Without firmware its ISA bridge
     * routes PIRQA-D to IRQs 10, 10, 11, 11, as the DSDT says. */
    CHECK(cfg_read(0, 1, 0, 0) == 0x70008086);
    CHECK((cfg_read(0, 1, 0, 8) >> 8) == 0x060100);
    CHECK(cfg_read(0, 1, 0, 0x0c) & 0x00800000u);
    CHECK(cfg_read(0, 1, 0, 0x60) == 0x0b0b0a0au);
    CHECK(cfg_read(0, 1, 1, 0) == 0x70108086);              /* IDE */
    CHECK((cfg_read(0, 1, 1, 8) >> 8) == 0x010180);
    CHECK(cfg_read(0, 2, 0, 0) == 0x11111234);              /* VGA */
    CHECK((cfg_read(0, 2, 0, 8) >> 8) == 0x030000);
    CHECK(cfg_read(0, 1, 3, 0) == 0x71138086);
    /* The virtio tablet: modern virtio-pci (1af4:1052, revision 1), input
     * class, INTA#, a capability list, and interrupt line untouched. */
    CHECK(cfg_read(0, 3, 0, 0) == 0x10521af4u);
    CHECK(cfg_read(0, 3, 0, 8) == 0x09800001u);
    CHECK((cfg_read(0, 3, 0, 4) >> 16) & 0x10);
    CHECK(((cfg_read(0, 3, 0, 0x3c) >> 8) & 0xff) == 1);
    /* PIIX4 PM: PMBA reads as an I/O BAR, enabled at 0x600 when there is
     * no firmware; APMC_EN is set (no SMM to set up). */
    CHECK(cfg_read(0, 1, 3, 0x40) == 0x601);
    CHECK(cfg_read(0, 1, 3, 0x58) & (1u << 25));
    /* Every function present anywhere has a real vendor ID. */
    unsigned present = 0;
    for (uint32_t dev = 0; dev < 32; dev++)
        for (uint32_t fn = 0; fn < 8; fn++) {
            uint32_t id = cfg_read(0, dev, fn, 0);
            if (id == 0xffffffffu)
                continue;
            CHECK((id & 0xffff) != 0 && (id & 0xffff) != 0xffff);
            present++;
        }
    CHECK(present == 6);
    CHECK(cfg_read(1, 0, 0, 0) == 0xffffffffu);
    /* With the enable bit clear the data port reads all-ones. */
    outl(0xcf8, 0x00000000u);
    CHECK(inl(0xcfc) == 0xffffffffu);
    /* Vendor ID is read-only. */
    outl(0xcf8, 0x80000000u);
    outl(0xcfc, 0);
    CHECK(cfg_read(0, 0, 0, 0) == 0x12378086);
    print("pci test guest: i440FX 0.0, PIIX3 ISA 1.0, IDE 1.1, PM 1.3, VGA 2.0, virtio tablet 3.0\n");
    return GUEST_PASS;
}
