#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "display.h"
#include "vga.h"
#include "rng.h"

#define MMIO_BAR2 0xfeb00000u

struct lfb_call {
    uint64_t gpa;
    bool mapped;
};

struct fixture {
    struct vga vga;
    struct bus *pio;
    struct bus *mmio;
    struct display disp;
    struct lfb_call calls[32];
    unsigned ncalls;
};

static void lfb_probe(void *opaque, uint64_t gpa, bool mapped)
{
    struct fixture *f = opaque;
    if (f->ncalls < 32)
        f->calls[f->ncalls] = (struct lfb_call){ gpa, mapped };
    f->ncalls++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[200];
    f->pio = bus_new("pio", 0x10000);
    f->mmio = bus_new("mmio", 1ull << 32);
    assert_int_equal(vga_init(&f->vga, f->mmio, lfb_probe, f, err, sizeof(err)), 0);
    assert_int_equal(bus_map(f->pio, VGA_IOPORT_BASE, VGA_IOPORT_LEN, &vga_ioport_bus_ops, &f->vga, "vga"), 0);
    assert_int_equal(bus_map(f->pio, VGA_MONO_BASE, VGA_MONO_LEN, &vga_mono_bus_ops, &f->vga, "vga-mono"), 0);
    assert_int_equal(bus_map(f->pio, VGA_DISPI_IO_BASE, VGA_DISPI_IO_LEN, &vga_dispi_bus_ops, &f->vga, "dispi"), 0);
    assert_int_equal(bus_map(f->mmio, VGA_MEM_BASE, VGA_MEM_SIZE, &vga_mem_bus_ops, &f->vga, "vga-mem"), 0);
    assert_int_equal(display_init(&f->disp, err, sizeof(err)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vga_device_ops.finalize(&f->vga);
    display_destroy(&f->disp);
    bus_free(f->pio);
    bus_free(f->mmio);
    free(f);
    return 0;
}

/* ---- Guest-side helpers ---- */

static uint8_t inb(struct fixture *f, uint16_t port)
{
    uint8_t v = 0;
    bus_read(f->pio, port, &v, 1);
    return v;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
    bus_write(f->pio, port, &v, 1);
}

static uint16_t inw(struct fixture *f, uint16_t port)
{
    uint16_t v = 0;
    bus_read(f->pio, port, &v, 2);
    return v;
}

static void outw(struct fixture *f, uint16_t port, uint16_t v)
{
    bus_write(f->pio, port, &v, 2);
}

static uint8_t memr(struct fixture *f, uint32_t addr)
{
    uint8_t v = 0;
    bus_read(f->mmio, addr, &v, 1);
    return v;
}

static void memw(struct fixture *f, uint32_t addr, uint8_t v)
{
    bus_write(f->mmio, addr, &v, 1);
}

static void sr(struct fixture *f, uint8_t idx, uint8_t v)
{
    outb(f, 0x3c4, idx);
    outb(f, 0x3c5, v);
}

static uint8_t sr_get(struct fixture *f, uint8_t idx)
{
    outb(f, 0x3c4, idx);
    return inb(f, 0x3c5);
}

static void gr(struct fixture *f, uint8_t idx, uint8_t v)
{
    outb(f, 0x3ce, idx);
    outb(f, 0x3cf, v);
}

static uint8_t gr_get(struct fixture *f, uint8_t idx)
{
    outb(f, 0x3ce, idx);
    return inb(f, 0x3cf);
}

static void cr(struct fixture *f, uint8_t idx, uint8_t v)
{
    outb(f, 0x3d4, idx);
    outb(f, 0x3d5, v);
}

static uint8_t cr_get(struct fixture *f, uint8_t idx)
{
    outb(f, 0x3d4, idx);
    return inb(f, 0x3d5);
}

/* Attribute write with the screen left on (PAS set) afterwards. */
static void ar(struct fixture *f, uint8_t idx, uint8_t v)
{
    (void)inb(f, 0x3da);
    outb(f, 0x3c0, idx);
    outb(f, 0x3c0, v);
    outb(f, 0x3c0, 0x20);
}

static uint8_t ar_get(struct fixture *f, uint8_t idx)
{
    (void)inb(f, 0x3da);
    outb(f, 0x3c0, idx);
    uint8_t v = inb(f, 0x3c1);
    (void)inb(f, 0x3da);
    outb(f, 0x3c0, 0x20);
    return v;
}

static void dac(struct fixture *f, uint8_t idx, uint8_t r, uint8_t g, uint8_t b)
{
    outb(f, 0x3c8, idx);
    outb(f, 0x3c9, r);
    outb(f, 0x3c9, g);
    outb(f, 0x3c9, b);
}

static void dispi_write(struct fixture *f, uint16_t idx, uint16_t v)
{
    outw(f, 0x1ce, idx);
    outw(f, 0x1cf, v);
}

static uint16_t dispi_read(struct fixture *f, uint16_t idx)
{
    outw(f, 0x1ce, idx);
    return inw(f, 0x1cf);
}

static uint32_t pixel(struct fixture *f, unsigned x, unsigned y)
{
    uint32_t *row = display_row(&f->disp, y);
    assert_non_null(row);
    assert_true(x < f->disp.width);
    return row[x];
}

static void render(struct fixture *f)
{
    vga_render(&f->vga, &f->disp);
}

static void drain_damage(struct fixture *f)
{
    struct display_rect r[DISPLAY_MAX_DAMAGE];
    display_take_damage(&f->disp, r, DISPLAY_MAX_DAMAGE);
}

static void load_regs(struct fixture *f, uint8_t misc, const uint8_t *seq, const uint8_t *crtc,
                      const uint8_t *grc, const uint8_t *attr)
{
    outb(f, 0x3c2, misc);
    for (unsigned i = 0; i < 5; i++)
        sr(f, (uint8_t)i, seq[i]);
    cr(f, 0x11, crtc[0x11] & 0x7f);     /* unprotect CR00-CR07 first */
    for (unsigned i = 0; i < 25; i++)
        cr(f, (uint8_t)i, crtc[i]);
    for (unsigned i = 0; i < 9; i++)
        gr(f, (uint8_t)i, grc[i]);
    for (unsigned i = 0; i < 21; i++)
        ar(f, (uint8_t)i, attr[i]);
}

/* Mode 13h and mode 12h register sets from the IBM VGA reference tables. */
static const uint8_t mode13_seq[5] = { 0x03, 0x01, 0x0f, 0x00, 0x0e };
static const uint8_t mode13_crtc[25] = {
    0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode13_gc[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff };
static const uint8_t mode13_ac[21] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x41, 0x00, 0x0f, 0x00, 0x00,
};
static const uint8_t mode12_seq[5] = { 0x03, 0x01, 0x0f, 0x00, 0x06 };
static const uint8_t mode12_crtc[25] = {
    0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff,
};
static const uint8_t mode12_gc[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff };
static const uint8_t mode12_ac[21] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x01, 0x00, 0x0f, 0x00, 0x00,
};

/* ---- Registers ---- */

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    /* Power-on state is BIOS mode 03h (IBM reference mode table). */
    assert_int_equal(inb(f, 0x3cc), 0x67);
    static const uint8_t seq[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(sr_get(f, (uint8_t)i), seq[i]);
    static const uint8_t grc[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
    for (unsigned i = 0; i < 9; i++)
        assert_int_equal(gr_get(f, (uint8_t)i), grc[i]);
    assert_int_equal(cr_get(f, 0x01), 0x4f);
    assert_int_equal(cr_get(f, 0x09), 0x4f);
    assert_int_equal(cr_get(f, 0x0a), 0x0d);
    assert_int_equal(cr_get(f, 0x0b), 0x0e);
    assert_int_equal(cr_get(f, 0x11), 0x8e);
    assert_int_equal(cr_get(f, 0x12), 0x8f);
    assert_int_equal(cr_get(f, 0x13), 0x28);
    assert_int_equal(cr_get(f, 0x17), 0xa3);
    (void)inb(f, 0x3da);
    assert_int_equal(inb(f, 0x3c0), 0x20);          /* index 0, screen on */
    assert_int_equal(ar_get(f, 0x06), 0x14);
    assert_int_equal(ar_get(f, 0x10), 0x0c);
    assert_int_equal(ar_get(f, 0x12), 0x0f);
    assert_int_equal(inb(f, 0x3c6), 0xff);
    /* DAC 07h and 3Fh of the EGA-compatible palette: light grey is 2/3 of
     * each gun (2Ah of 3Fh), 3Fh is white. */
    outb(f, 0x3c7, 0x07);
    assert_int_equal(inb(f, 0x3c9), 0x2a);
    assert_int_equal(inb(f, 0x3c9), 0x2a);
    assert_int_equal(inb(f, 0x3c9), 0x2a);
    outb(f, 0x3c7, 0x3f);
    assert_int_equal(inb(f, 0x3c9), 0x3f);
    outb(f, 0x3c7, 0x14);           /* brown: red 2/3, green 1/3 */
    assert_int_equal(inb(f, 0x3c9), 0x2a);
    assert_int_equal(inb(f, 0x3c9), 0x15);
    assert_int_equal(inb(f, 0x3c9), 0x00);
    /* PCI identity and BAR0. */
    assert_int_equal(pci_device_config_read(&f->vga.pci, PCI_VENDOR_ID, 4), 0x11111234);
    assert_int_equal(pci_device_config_read(&f->vga.pci, PCI_REVISION_ID, 4) >> 8, 0x030000);
    assert_int_equal(pci_device_config_read(&f->vga.pci, PCI_BASE_ADDRESS_0, 4), 0x00000008);
    assert_int_equal(pci_device_config_read(&f->vga.pci, PCI_COMMAND, 2), 0);
    /* DISPI. */
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_ID), 0xb0c5);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_ENABLE), 0);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
    assert_int_equal(f->ncalls, 0);
    assert_true(f->vga.vram_fd >= 0);
    assert_int_equal(f->vga.vram_size, 16u << 20);
}

static void test_register_roundtrip(void **state)
{
    struct fixture *f = *state;
    /* Reserved bits read back as 0. */
    sr(f, 0x02, 0xff);
    assert_int_equal(sr_get(f, 0x02), 0x0f);
    sr(f, 0x04, 0xff);
    assert_int_equal(sr_get(f, 0x04), 0x0e);
    sr(f, 0x01, 0xff);
    assert_int_equal(sr_get(f, 0x01), 0x3d);
    gr(f, 0x05, 0xff);
    assert_int_equal(gr_get(f, 0x05), 0x7b);
    gr(f, 0x08, 0x5a);
    assert_int_equal(gr_get(f, 0x08), 0x5a);
    gr(f, 0x03, 0xff);
    assert_int_equal(gr_get(f, 0x03), 0x1f);
    outb(f, 0x3ce, 0xff);
    assert_int_equal(inb(f, 0x3ce), 0x0f);
    outb(f, 0x3c4, 0xff);
    assert_int_equal(inb(f, 0x3c4), 0x07);

    /* A 16-bit OUT to an index port is index then data. */
    outw(f, 0x3c4, 0x0502);
    assert_int_equal(sr_get(f, 0x02), 0x05);
    outw(f, 0x3ce, 0x3c08);
    assert_int_equal(gr_get(f, 0x08), 0x3c);

    /* CRTC write protect (CR11 bit 7, set in mode 03h): CR00-CR07 keep
     * their values except the line compare bit 8 in CR07. */
    cr(f, 0x01, 0x27);
    assert_int_equal(cr_get(f, 0x01), 0x4f);
    cr(f, 0x07, 0x00);
    assert_int_equal(cr_get(f, 0x07), 0x0f);
    cr(f, 0x0c, 0x12);              /* not protected */
    assert_int_equal(cr_get(f, 0x0c), 0x12);
    cr(f, 0x11, 0x0e);
    cr(f, 0x01, 0x27);
    assert_int_equal(cr_get(f, 0x01), 0x27);
    outb(f, 0x3d4, 0x40);           /* no such register */
    assert_int_equal(inb(f, 0x3d5), 0xff);

    /* Colour/mono address select: the CRTC and status 1 move. */
    assert_int_equal(inb(f, 0x3b4), 0xff);
    outb(f, 0x3b4, 0x0c);
    outb(f, 0x3c2, 0x66);
    assert_int_equal(inb(f, 0x3d4), 0xff);
    assert_int_equal(inb(f, 0x3da), 0xff);
    outb(f, 0x3b4, 0x0d);
    outb(f, 0x3b5, 0x77);
    assert_int_equal(inb(f, 0x3b5), 0x77);
    outb(f, 0x3d5, 0x11);           /* not decoded: dropped */
    assert_int_equal(inb(f, 0x3b5), 0x77);
    uint8_t s1 = inb(f, 0x3ba), s2 = inb(f, 0x3ba);
    assert_int_equal(s1 ^ s2, 0x09);
    outb(f, 0x3c2, 0x67);
    assert_int_equal(cr_get(f, 0x0d), 0x77);
    assert_int_equal(inb(f, 0x3b5), 0xff);
    assert_int_equal(inb(f, 0x3b0), 0xff);          /* unused port */

    /* Input status 1 toggles vertical retrace and display disabled, so
     * loops waiting for either edge finish. */
    bool seen_on = false, seen_off = false;
    for (int i = 0; i < 4; i++) {
        uint8_t st = inb(f, 0x3da);
        if (st & 0x08)
            seen_on = true;
        else
            seen_off = true;
    }
    assert_true(seen_on && seen_off);

    /* Attribute controller flip-flop. */
    (void)inb(f, 0x3da);
    outb(f, 0x3c0, 0x10);           /* index 10h, PAS clear */
    assert_int_equal(inb(f, 0x3c0), 0x10);
    outb(f, 0x3c0, 0x41);           /* data */
    assert_int_equal(inb(f, 0x3c1), 0x41);
    outb(f, 0x3c0, 0x32);           /* index again: 12h with PAS */
    assert_int_equal(inb(f, 0x3c0), 0x32);
    outb(f, 0x3c0, 0x07);           /* data for 12h, masked to 6 bits */
    assert_int_equal(ar_get(f, 0x12), 0x07);
    (void)inb(f, 0x3da);
    outb(f, 0x3c0, 0x11);           /* index... */
    (void)inb(f, 0x3da);            /* ...reset before the data */
    outb(f, 0x3c0, 0x13);           /* so this is an index */
    assert_int_equal(inb(f, 0x3c0), 0x13);
    outb(f, 0x3c0, 0xff);
    assert_int_equal(ar_get(f, 0x13), 0x0f);
    ar(f, 0x05, 0xff);
    assert_int_equal(ar_get(f, 0x05), 0x3f);
    ar(f, 0x10, 0xff);
    assert_int_equal(ar_get(f, 0x10), 0xef);
    assert_int_equal(ar_get(f, 0x15), 0x00);        /* beyond the registers */

    /* DAC: three bytes per entry, 6 bits each, separate read and write
     * indices, state at 0x3C7. */
    outb(f, 0x3c8, 0x05);
    outb(f, 0x3c9, 0x3f);
    outb(f, 0x3c9, 0x40);
    outb(f, 0x3c9, 0x15);
    outb(f, 0x3c9, 0x01);           /* entry 6 */
    outb(f, 0x3c9, 0x02);
    outb(f, 0x3c9, 0x03);
    assert_int_equal(inb(f, 0x3c8), 0x07);
    assert_int_equal(inb(f, 0x3c7), 0x00);
    outb(f, 0x3c7, 0x05);
    assert_int_equal(inb(f, 0x3c7), 0x03);
    static const uint8_t expect[6] = { 0x3f, 0x00, 0x15, 0x01, 0x02, 0x03 };
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(inb(f, 0x3c9), expect[i]);
    /* Entry 255 wraps to 0. */
    outb(f, 0x3c8, 0xff);
    for (int i = 0; i < 6; i++)
        outb(f, 0x3c9, (uint8_t)(0x10 + i));
    outb(f, 0x3c7, 0x00);
    assert_int_equal(inb(f, 0x3c9), 0x13);
    outb(f, 0x3c6, 0x0f);
    assert_int_equal(inb(f, 0x3c6), 0x0f);
    outb(f, 0x3da, 0x55);           /* feature control write, read at 0x3CA */
    assert_int_equal(inb(f, 0x3ca), 0x55);
    outb(f, 0x3c3, 0xff);
    assert_int_equal(inb(f, 0x3c3), 0x01);
}

static void test_dispi(void **state)
{
    struct fixture *f = *state;
    /* Version negotiation as SeaBIOS does it. */
    dispi_write(f, VBE_DISPI_INDEX_ID, 0xb0c0);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_ID), 0xb0c0);
    dispi_write(f, VBE_DISPI_INDEX_ID, 0xb0c6);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_ID), 0xb0c0);
    dispi_write(f, VBE_DISPI_INDEX_ID, 0xb0c5);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_ID), 0xb0c5);
    assert_int_equal(inw(f, 0x1ce), VBE_DISPI_INDEX_ID);

    /* GETCAPS: resolution and depth registers report the maxima. */
    dispi_write(f, VBE_DISPI_INDEX_XRES, 1024);
    dispi_write(f, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_XRES), 2560);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_YRES), 1600);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_BPP), 32);
    dispi_write(f, VBE_DISPI_INDEX_ENABLE, 0);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_XRES), 1024);

    /* Invalid values are refused. */
    dispi_write(f, VBE_DISPI_INDEX_XRES, 2561);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_XRES), 1024);
    dispi_write(f, VBE_DISPI_INDEX_YRES, 4000);
    dispi_write(f, VBE_DISPI_INDEX_BPP, 7);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_BPP), 8);
    dispi_write(f, VBE_DISPI_INDEX_BPP, 0);            /* 0 means 8 */
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_BPP), 8);
    dispi_write(f, VBE_DISPI_INDEX_VIDEO_MEMORY_64K, 1);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
    assert_int_equal(dispi_read(f, 0x40), 0);

    /* Mode set 800x600x32: the virtual screen follows, memory is cleared. */
    memset(f->vga.vram, 0xaa, f->vga.vram_size);
    dispi_write(f, VBE_DISPI_INDEX_BPP, 32);
    dispi_write(f, VBE_DISPI_INDEX_XRES, 800);
    dispi_write(f, VBE_DISPI_INDEX_YRES, 600);
    dispi_write(f, VBE_DISPI_INDEX_X_OFFSET, 5);
    dispi_write(f, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_ENABLE), 0x41);
    /* The mode's size, before any render, is what a render then draws. */
    unsigned sw, sh;
    vga_screen_size(&f->vga, &sw, &sh);
    assert_int_equal(sw, 800);
    assert_int_equal(sh, 600);
    render(f);
    assert_int_equal(f->disp.width, sw);
    assert_int_equal(f->disp.height, sh);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_VIRT_WIDTH), 800);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_VIRT_HEIGHT), (16u << 20) / (800 * 4));
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_X_OFFSET), 0);
    assert_int_equal(f->vga.vram[0], 0);
    assert_int_equal(f->vga.vram[800 * 600 * 4 - 1], 0);
    assert_int_equal(f->vga.vram[800 * 600 * 4], 0xaa);

    /* Virtual width and offsets. */
    dispi_write(f, VBE_DISPI_INDEX_VIRT_WIDTH, 1024);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_VIRT_WIDTH), 1024);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_VIRT_HEIGHT), 4096);
    dispi_write(f, VBE_DISPI_INDEX_VIRT_WIDTH, 0);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_VIRT_WIDTH), 1024);
    dispi_write(f, VBE_DISPI_INDEX_Y_OFFSET, 600);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_Y_OFFSET), 600);

    /* Banks of 64 KiB: 256 of them in 16 MiB. */
    dispi_write(f, VBE_DISPI_INDEX_BANK, 255);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_BANK), 255);
    dispi_write(f, VBE_DISPI_INDEX_BANK, 256);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_BANK), 255);
    dispi_write(f, VBE_DISPI_INDEX_BANK, 2);
    gr(f, 0x06, 0x05);              /* A0000, 64 KiB, as the VGA BIOS sets it */
    memw(f, 0xa0005, 0x5c);
    assert_int_equal(f->vga.vram[2 * 65536 + 5], 0x5c);
    f->vga.vram[2 * 65536 + 6] = 0x6d;
    assert_int_equal(memr(f, 0xa0006), 0x6d);
    assert_int_equal(memr(f, 0xb0000), 0xff);           /* outside the 64 KiB window */

    /* Disable and re-enable without clearing. */
    dispi_write(f, VBE_DISPI_INDEX_ENABLE, 0);
    f->vga.vram[10] = 0x77;
    dispi_write(f, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_NOCLEARMEM);
    assert_int_equal(f->vga.vram[10], 0x77);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_BANK), 0);

    /* A byte access to the data port and a word at 0x1CF both work. */
    outw(f, 0x1ce, VBE_DISPI_INDEX_X_OFFSET);
    outb(f, 0x1cf, 0x12);
    assert_int_equal(inw(f, 0x1cf), 0x12);
    outw(f, 0x1cf, 0x1234);
    assert_int_equal(inb(f, 0x1cf), 0x34);
    assert_int_equal(inb(f, 0x1d0), 0x12);

    /* 8-bit DAC: palette writes keep all 8 bits. */
    dispi_write(f, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_8BIT_DAC | VBE_DISPI_NOCLEARMEM);
    dac(f, 9, 0xff, 0x80, 0x41);
    outb(f, 0x3c7, 9);
    assert_int_equal(inb(f, 0x3c9), 0xff);
    assert_int_equal(inb(f, 0x3c9), 0x80);
    assert_int_equal(inb(f, 0x3c9), 0x41);
}

static void test_pci_bars(void **state)
{
    struct fixture *f = *state;
    struct pci_device *pci = &f->vga.pci;
    /* BAR0 sizing: 16 MiB, prefetchable 32-bit memory. */
    pci_device_config_write(pci, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
    assert_int_equal(pci_device_config_read(pci, PCI_BASE_ADDRESS_0, 4), 0xff000008);
    pci_device_config_write(pci, 0x18, 0xffffffff, 4);
    assert_int_equal(pci_device_config_read(pci, 0x18, 4), 0xfffff000);
    pci_device_config_write(pci, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    /* Still the sizing pattern: nothing is placed. */
    assert_int_equal(f->ncalls, 0);
    pci_device_config_write(pci, PCI_COMMAND, 0, 2);
    pci_device_config_write(pci, PCI_BASE_ADDRESS_0, 0xe0000000, 4);
    pci_device_config_write(pci, 0x18, MMIO_BAR2, 4);
    assert_int_equal(pci_device_config_read(pci, PCI_BASE_ADDRESS_0, 4), 0xe0000008);
    assert_int_equal(f->ncalls, 0);

    pci_device_config_write(pci, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    assert_int_equal(f->ncalls, 1);
    assert_int_equal(f->calls[0].gpa, 0xe0000000);
    assert_true(f->calls[0].mapped);
    assert_string_equal(bus_lookup_name(f->mmio, MMIO_BAR2 + 0x400), "vga-mmio");

    /* BAR2: VGA ports at 0x400, DISPI words at 0x500 + 2 * index. */
    uint16_t w = 0;
    bus_read(f->mmio, MMIO_BAR2 + 0x500, &w, 2);
    assert_int_equal(w, 0xb0c5);
    w = 640;
    bus_write(f->mmio, MMIO_BAR2 + 0x500 + 2 * VBE_DISPI_INDEX_XRES, &w, 2);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_XRES), 640);
    bus_read(f->mmio, MMIO_BAR2 + 0x500 + 2 * VBE_DISPI_INDEX_VIDEO_MEMORY_64K, &w, 2);
    assert_int_equal(w, 256);
    uint8_t b = 0x02;
    bus_write(f->mmio, MMIO_BAR2 + 0x404, &b, 1);       /* 0x3C4 */
    b = 0x09;
    bus_write(f->mmio, MMIO_BAR2 + 0x405, &b, 1);       /* 0x3C5 */
    assert_int_equal(sr_get(f, 0x02), 0x09);
    uint32_t d = 0;
    bus_read(f->mmio, MMIO_BAR2 + 0x700, &d, 4);
    assert_int_equal(d, 0);

    /* Moving BAR0: unmapped at the old place first. */
    pci_device_config_write(pci, PCI_BASE_ADDRESS_0, 0xd0000000, 4);
    assert_int_equal(f->ncalls, 3);
    assert_int_equal(f->calls[1].gpa, 0xe0000000);
    assert_false(f->calls[1].mapped);
    assert_int_equal(f->calls[2].gpa, 0xd0000000);
    assert_true(f->calls[2].mapped);
    /* Writing the same value again changes nothing. */
    pci_device_config_write(pci, PCI_BASE_ADDRESS_0, 0xd0000000, 4);
    assert_int_equal(f->ncalls, 3);
    /* Memory decoding off: unmapped. */
    pci_device_config_write(pci, PCI_COMMAND, PCI_COMMAND_IO, 2);
    assert_int_equal(f->ncalls, 4);
    assert_int_equal(f->calls[3].gpa, 0xd0000000);
    assert_false(f->calls[3].mapped);
    assert_null(bus_lookup_name(f->mmio, MMIO_BAR2 + 0x400));
    /* On again, then a reset takes it away. */
    pci_device_config_write(pci, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    assert_int_equal(f->ncalls, 5);
    assert_true(f->calls[4].mapped);
    vga_device_ops.reset(&f->vga);
    assert_int_equal(f->ncalls, 6);
    assert_false(f->calls[5].mapped);
    assert_int_equal(pci_device_config_read(pci, PCI_BASE_ADDRESS_0, 4), 0x00000008);
    assert_null(bus_lookup_name(f->mmio, MMIO_BAR2 + 0x400));
}

/* ---- Memory access ---- */

/* Graphics-mode memory setup: sequential planes, A0000-AFFFF. */
static void planar_setup(struct fixture *f)
{
    sr(f, 0x04, 0x06);
    gr(f, 0x06, 0x05);
    gr(f, 0x05, 0x00);
    gr(f, 0x01, 0x00);
    gr(f, 0x03, 0x00);
    gr(f, 0x08, 0xff);
    sr(f, 0x02, 0x0f);
}

/* Put one byte in each plane at addr with plain write mode 0. */
static void set_planes(struct fixture *f, uint32_t addr, const uint8_t p[4])
{
    uint8_t mode = gr_get(f, 0x05), esr = gr_get(f, 0x01), rot = gr_get(f, 0x03), mask = gr_get(f, 0x08);
    uint8_t map = sr_get(f, 0x02);
    gr(f, 0x05, 0x00);
    gr(f, 0x01, 0x00);
    gr(f, 0x03, 0x00);
    gr(f, 0x08, 0xff);
    for (unsigned i = 0; i < 4; i++) {
        sr(f, 0x02, (uint8_t)(1u << i));
        memw(f, addr, p[i]);
    }
    gr(f, 0x05, mode);
    gr(f, 0x01, esr);
    gr(f, 0x03, rot);
    gr(f, 0x08, mask);
    sr(f, 0x02, map);
}

/* Read one plane at addr with read mode 0 and read map select. */
static uint8_t get_plane(struct fixture *f, uint32_t addr, unsigned plane)
{
    uint8_t mode = gr_get(f, 0x05), map = gr_get(f, 0x04);
    gr(f, 0x05, 0x00);
    gr(f, 0x04, (uint8_t)plane);
    uint8_t v = memr(f, addr);
    gr(f, 0x05, mode);
    gr(f, 0x04, map);
    return v;
}

static void assert_planes(struct fixture *f, uint32_t addr, uint8_t p0, uint8_t p1, uint8_t p2, uint8_t p3)
{
    assert_int_equal(get_plane(f, addr, 0), p0);
    assert_int_equal(get_plane(f, addr, 1), p1);
    assert_int_equal(get_plane(f, addr, 2), p2);
    assert_int_equal(get_plane(f, addr, 3), p3);
}

static const uint8_t base_planes[4] = { 0x0f, 0xf0, 0xaa, 0x55 };

static void test_write_mode0(void **state)
{
    struct fixture *f = *state;
    planar_setup(f);
    const uint32_t a = 0xa0100;
    set_planes(f, a, base_planes);
    assert_planes(f, a, 0x0f, 0xf0, 0xaa, 0x55);
    (void)memr(f, a);               /* latches = 0F F0 AA 55 */
    /* Rotate right 4, OR with the latches, set/reset enabled for planes 0
     * and 1 with value 1 for plane 0, bit mask 3Ch. CPU byte 81h:
     *   rotated 81h -> 18h; plane data FF, 00, 18, 18;
     *   OR latches -> FF, F0, BA, 5D;
     *   bit mask: (alu & 3C) | (latch & C3) -> 3F, F0, BA, 5D. */
    gr(f, 0x03, 0x14);
    gr(f, 0x01, 0x03);
    gr(f, 0x00, 0x01);
    gr(f, 0x08, 0x3c);
    memw(f, a, 0x81);
    assert_planes(f, a, 0x3f, 0xf0, 0xba, 0x5d);

    /* AND, no rotation, set/reset off, map mask planes 0 and 2 only:
     * data 3Ch AND latches (0F F0 AA 55) -> 0C 30 28 14, full bit mask;
     * planes 1 and 3 are not written and keep F0 and 55. */
    set_planes(f, a, base_planes);
    (void)memr(f, a);
    gr(f, 0x03, 0x08);
    gr(f, 0x01, 0x00);
    gr(f, 0x08, 0xff);
    sr(f, 0x02, 0x05);
    memw(f, a, 0x3c);
    assert_planes(f, a, 0x0c, 0xf0, 0x28, 0x55);

    /* XOR with set/reset in all planes (value 1010b), bit mask 0Fh:
     * data 00 FF 00 FF XOR latches (0F F0 AA 55) -> 0F 0F AA AA;
     * (alu & 0F) | (latch & F0) -> 0F, FF, AA, 5A. */
    sr(f, 0x02, 0x0f);
    set_planes(f, a, base_planes);
    (void)memr(f, a);
    gr(f, 0x03, 0x18);
    gr(f, 0x01, 0x0f);
    gr(f, 0x00, 0x0a);
    gr(f, 0x08, 0x0f);
    memw(f, a, 0x00);
    assert_planes(f, a, 0x0f, 0xff, 0xaa, 0x5a);
}

static void test_write_mode1_2_3(void **state)
{
    struct fixture *f = *state;
    planar_setup(f);
    const uint32_t a = 0xa0200, b = 0xa0300;
    /* Write mode 1: a read loads the latches, a write stores them. */
    set_planes(f, a, base_planes);
    (void)memr(f, a);
    gr(f, 0x05, 0x01);
    gr(f, 0x08, 0x00);              /* the bit mask does not apply */
    memw(f, b, 0x99);
    assert_planes(f, b, 0x0f, 0xf0, 0xaa, 0x55);

    /* Write mode 2: bit p of the CPU byte fills plane p; rotation is not
     * applied. 05h -> FF 00 FF 00; XOR latches -> F0 F0 55 55;
     * bit mask F0h: (alu & F0) | (latch & 0F) -> FF F0 5A 55. */
    gr(f, 0x05, 0x00);
    set_planes(f, a, base_planes);
    (void)memr(f, a);
    gr(f, 0x05, 0x02);
    gr(f, 0x03, 0x1f);              /* XOR, rotate 7 (ignored) */
    gr(f, 0x08, 0xf0);
    memw(f, a, 0x05);
    assert_planes(f, a, 0xff, 0xf0, 0x5a, 0x55);

    /* Write mode 3: set/reset (1010b) is the data for every plane, enable
     * set/reset is ignored, rotated CPU byte AND bit mask is the mask.
     * F0h rotated right 2 -> 3Ch; AND bit mask 0Fh -> 0Ch;
     * (00 FF 00 FF & 0C) | (latch & F3) -> 03 FC A2 5D. */
    gr(f, 0x05, 0x00);
    set_planes(f, a, base_planes);
    (void)memr(f, a);
    gr(f, 0x05, 0x03);
    gr(f, 0x00, 0x0a);
    gr(f, 0x01, 0x01);
    gr(f, 0x03, 0x02);
    gr(f, 0x08, 0x0f);
    memw(f, a, 0xf0);
    assert_planes(f, a, 0x03, 0xfc, 0xa2, 0x5d);
}

static void test_read_modes(void **state)
{
    struct fixture *f = *state;
    planar_setup(f);
    const uint32_t a = 0xa0400;
    set_planes(f, a, base_planes);
    /* Read mode 0: the plane the read map select names. */
    gr(f, 0x04, 0x02);
    assert_int_equal(memr(f, a), 0xaa);
    gr(f, 0x04, 0x03);
    assert_int_equal(memr(f, a), 0x55);
    /* Read mode 1: colour compare 0101b, don't care 0111b (plane 3
     * ignored): a bit is 1 where plane 0 is 1, plane 1 is 0 and plane 2
     * is 1. Planes 0F/F0/AA: bits 3 and 1 -> 0Ah. */
    gr(f, 0x05, 0x08);
    gr(f, 0x02, 0x05);
    gr(f, 0x07, 0x07);
    assert_int_equal(memr(f, a), 0x0a);
    /* Plane 3 included (its compare bit 0): 55h has bits 3 and 1 clear,
     * so both stay set. */
    gr(f, 0x07, 0x0f);
    assert_int_equal(memr(f, a), 0x0a);
    /* Plane 3 compared against 1 instead: no bit satisfies all four. */
    gr(f, 0x02, 0x0d);
    assert_int_equal(memr(f, a), 0x00);
    /* Nothing compared: every bit matches. */
    gr(f, 0x07, 0x00);
    assert_int_equal(memr(f, a), 0xff);
    gr(f, 0x05, 0x00);

    /* Memory map select: with A0000-AFFFF, B8000 is not decoded. */
    static const uint8_t at_zero[4] = { 0x77, 0x66, 0x55, 0x44 };
    set_planes(f, 0xa0000, at_zero);
    assert_int_equal(memr(f, 0xb8000), 0xff);
    memw(f, 0xb8000, 0x12);
    gr(f, 0x06, 0x01);              /* 128 KiB at A0000 */
    gr(f, 0x04, 0x00);
    /* B8000 is window offset 18000h; planes wrap at 64 KiB -> 8000h. */
    set_planes(f, 0xa8000, base_planes);
    assert_int_equal(memr(f, 0xb8000), 0x0f);
    gr(f, 0x06, 0x0d);              /* B8000-BFFFF only */
    assert_int_equal(memr(f, 0xa8000), 0xff);
    assert_int_equal(memr(f, 0xb8000), 0x77);       /* plane address 0 */
}

static void test_chain4_and_odd_even(void **state)
{
    struct fixture *f = *state;
    /* Mode 13h memory setup: chain 4. */
    sr(f, 0x04, 0x0e);
    gr(f, 0x05, 0x40);
    gr(f, 0x06, 0x05);
    sr(f, 0x02, 0x0f);
    memw(f, 0xa0000, 0x11);
    memw(f, 0xa0001, 0x22);
    memw(f, 0xa0002, 0x33);
    memw(f, 0xa0003, 0x44);
    memw(f, 0xa0005, 0x55);
    memw(f, 0xa1002, 0x66);
    /* The map mask still gates the plane chain 4 picks. */
    sr(f, 0x02, 0x0e);
    memw(f, 0xa0008, 0x77);
    sr(f, 0x02, 0x0f);
    assert_int_equal(memr(f, 0xa0005), 0x55);
    assert_int_equal(memr(f, 0xa0003), 0x44);
    /* Look at the planes with chaining off: the address bits 1-0 pick the
     * plane, and four consecutive bytes share one plane address. */
    sr(f, 0x04, 0x06);
    gr(f, 0x05, 0x00);
    assert_planes(f, 0xa0000, 0x11, 0x22, 0x33, 0x44);
    assert_int_equal(get_plane(f, 0xa0004, 1), 0x55);
    assert_int_equal(get_plane(f, 0xa1000, 2), 0x66);
    assert_int_equal(get_plane(f, 0xa0008, 0), 0x00);

    /* Odd/even (text modes): even bytes to plane 0, odd to plane 1. */
    sr(f, 0x04, 0x02);
    gr(f, 0x05, 0x10);
    gr(f, 0x06, 0x0e);
    sr(f, 0x02, 0x03);
    memw(f, 0xb8000, 'A');
    memw(f, 0xb8001, 0x1f);
    memw(f, 0xb8002, 'B');
    memw(f, 0xb8003, 0x2e);
    assert_int_equal(memr(f, 0xb8001), 0x1f);
    assert_int_equal(memr(f, 0xb8002), 'B');
    sr(f, 0x04, 0x06);
    gr(f, 0x05, 0x00);
    gr(f, 0x06, 0x05);
    assert_int_equal(get_plane(f, 0xa0000, 0), 'A');
    assert_int_equal(get_plane(f, 0xa0000, 1), 0x1f);
    assert_int_equal(get_plane(f, 0xa0002, 0), 'B');
    assert_int_equal(get_plane(f, 0xa0002, 1), 0x2e);
    assert_int_equal(get_plane(f, 0xa0001, 0), 0x00);
}

/* ---- Rendering ---- */

/* A test font: 16 rows per glyph; 'A' and a line-drawing character. */
static const uint8_t font_A[16] = {
    0x00, 0x00, 0x18, 0x3c, 0x66, 0xc3, 0xc3, 0xff, 0xc3, 0xc3, 0xc3, 0x81, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t font_C4[16] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t font_A_map1[16] = {
    0xff, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0xff,
};

/* Load glyphs into plane 2 the way a VGA BIOS does, then return to the
 * text-mode memory setup (mode 03h). */
static void load_font(struct fixture *f, unsigned base, unsigned ch, const uint8_t *rows)
{
    sr(f, 0x02, 0x04);
    sr(f, 0x04, 0x06);
    gr(f, 0x04, 0x02);
    gr(f, 0x05, 0x00);
    gr(f, 0x06, 0x04);
    for (unsigned r = 0; r < 16; r++)
        memw(f, 0xa0000 + base + ch * 32 + r, rows[r]);
    sr(f, 0x02, 0x03);
    sr(f, 0x04, 0x02);
    gr(f, 0x04, 0x00);
    gr(f, 0x05, 0x10);
    gr(f, 0x06, 0x0e);
}

static void put_char(struct fixture *f, unsigned col, unsigned row, uint8_t ch, uint8_t attr)
{
    uint32_t a = 0xb8000 + (row * 80 + col) * 2;
    memw(f, a, ch);
    memw(f, a + 1, attr);
}

#define RED 0xff0000u
#define TEAL 0x0055aau      /* DAC 00h, 15h, 2Ah: 0, 21*255/63, 42*255/63 */

static void text_setup(struct fixture *f)
{
    load_font(f, 0, 'A', font_A);
    load_font(f, 0, 0xc4, font_C4);
    /* Attribute palette (mode 03h): 1 -> DAC 01h, 4 -> DAC 04h. */
    dac(f, 0x01, 0x3f, 0x00, 0x00);
    dac(f, 0x04, 0x00, 0x15, 0x2a);
    dac(f, 0x00, 0x00, 0x00, 0x00);
}

static void assert_cell(struct fixture *f, unsigned col, unsigned row, const uint8_t *rows,
                        uint32_t fg, uint32_t bg, bool ninth_repeats)
{
    for (unsigned r = 0; r < 16; r++) {
        for (unsigned d = 0; d < 9; d++) {
            unsigned bit;
            if (d < 8)
                bit = (rows[r] >> (7 - d)) & 1;
            else
                bit = ninth_repeats ? rows[r] & 1 : 0;
            assert_int_equal(pixel(f, col * 9 + d, row * 16 + r), bit ? fg : bg);
        }
    }
}

static void test_text_render(void **state)
{
    struct fixture *f = *state;
    text_setup(f);
    put_char(f, 5, 2, 'A', 0x41);
    put_char(f, 6, 2, 0xc4, 0x41);
    put_char(f, 7, 2, 0xc4, 0x41);
    render(f);
    /* Mode 03h: 80 columns of 9 dots, 25 rows of 16 lines. */
    assert_int_equal(f->disp.width, 720);
    assert_int_equal(f->disp.height, 400);
    assert_cell(f, 5, 2, font_A, RED, TEAL, false);
    /* Line-graphics enable (AR10 bit 2, set in mode 03h): the ninth dot of
     * C0h-DFh repeats the eighth. */
    assert_cell(f, 6, 2, font_C4, RED, TEAL, true);
    ar(f, 0x10, 0x08);
    render(f);
    assert_cell(f, 6, 2, font_C4, RED, TEAL, false);
    /* An empty cell shows attribute 00h: black. */
    assert_int_equal(pixel(f, 40 * 9 + 3, 10 * 16 + 5), 0);

    /* 8-dot characters (SR01 bit 0): 640 wide. */
    sr(f, 0x01, 0x01);
    render(f);
    assert_int_equal(f->disp.width, 640);
    for (unsigned r = 0; r < 16; r++)
        for (unsigned d = 0; d < 8; d++)
            assert_int_equal(pixel(f, 5 * 8 + d, 2 * 16 + r), ((font_A[r] >> (7 - d)) & 1) ? RED : TEAL);
    /* Half dot clock (SR01 bit 3, 40-column modes): every dot twice. */
    sr(f, 0x01, 0x09);
    cr(f, 0x11, 0x0e);
    cr(f, 0x01, 39);
    cr(f, 0x13, 20);
    render(f);
    assert_int_equal(f->disp.width, 640);
    /* Row 2 now starts at cell 80 (40 per row): (5, 2) of 80 columns is
     * cell 165 = row 4, column 5 of 40. */
    for (unsigned r = 0; r < 16; r++)
        for (unsigned d = 0; d < 16; d++)
            assert_int_equal(pixel(f, 5 * 16 + d, 4 * 16 + r),
                             ((font_A[r] >> (7 - d / 2)) & 1) ? RED : TEAL);
}

static void test_text_font_select_cursor_blink(void **state)
{
    struct fixture *f = *state;
    text_setup(f);
    /* Character map select: map A (attribute bit 3 set) = map 1 at plane 2
     * offset 4000h (SR03 bits 3-2 = 01), map B = map 0. */
    load_font(f, 0x4000, 'A', font_A_map1);
    sr(f, 0x03, 0x04);
    put_char(f, 0, 1, 'A', 0x41);       /* bit 3 clear: map B */
    put_char(f, 1, 1, 'A', 0x49);       /* bit 3 set: map A, colour 9 */
    dac(f, 0x39, 0x00, 0x3f, 0x00);     /* AR09 = 39h in mode 03h */
    render(f);
    assert_cell(f, 0, 1, font_A, RED, TEAL, false);
    assert_cell(f, 1, 1, font_A_map1, 0x00ff00, TEAL, false);
    /* Map 4 is at 2000h (SR03 bit 5 with bits 3-2 = 00). */
    load_font(f, 0x2000, 'A', font_C4);
    sr(f, 0x03, 0x20);
    render(f);
    assert_cell(f, 1, 1, font_C4, 0x00ff00, TEAL, false);
    sr(f, 0x03, 0x00);

    /* Cursor at cell (3, 0), lines 13-14 in the foreground colour. */
    put_char(f, 3, 0, ' ', 0x41);
    cr(f, 0x0e, 0x00);
    cr(f, 0x0f, 0x03);
    render(f);
    for (unsigned r = 0; r < 16; r++)
        for (unsigned d = 0; d < 9; d++)
            assert_int_equal(pixel(f, 3 * 9 + d, r), (r == 13 || r == 14) ? RED : TEAL);
    cr(f, 0x0a, 0x20);                  /* cursor off */
    render(f);
    assert_int_equal(pixel(f, 3 * 9 + 1, 13), TEAL);

    /* Blink (AR10 bit 3, on in mode 03h): attribute bit 7 blinks the
     * character and is not background intensity. */
    put_char(f, 2, 1, 'A', 0xc1);       /* blink, background 4 */
    bool saw_visible = false, saw_hidden = false;
    for (int i = 0; i < 40; i++) {
        render(f);
        uint32_t p = pixel(f, 2 * 9 + 3, 16 + 2);       /* a foreground dot of 'A' */
        if (p == RED)
            saw_visible = true;
        else if (p == TEAL)
            saw_hidden = true;
        else
            fail_msg("unexpected blink colour %06x", p);
    }
    assert_true(saw_visible && saw_hidden);
    /* Without blink enable, bit 7 is background intensity: 0Ch -> AR0C
     * = 3Ch. */
    ar(f, 0x10, 0x04);
    dac(f, 0x3c, 0x3f, 0x3f, 0x00);
    render(f);
    assert_int_equal(pixel(f, 2 * 9 + 0, 16 + 2), 0xffff00);
    assert_int_equal(pixel(f, 2 * 9 + 3, 16 + 2), RED);

    /* Screen off (SR01 bit 5) and palette address source clear: black. */
    sr(f, 0x01, 0x20);
    render(f);
    assert_int_equal(pixel(f, 2 * 9 + 3, 16 + 2), 0);
    sr(f, 0x01, 0x00);
    render(f);
    assert_int_equal(pixel(f, 2 * 9 + 3, 16 + 2), RED);
    (void)inb(f, 0x3da);
    outb(f, 0x3c0, 0x00);
    render(f);
    assert_int_equal(pixel(f, 2 * 9 + 3, 16 + 2), 0);
}

static void test_damage(void **state)
{
    struct fixture *f = *state;
    text_setup(f);
    put_char(f, 10, 5, 'A', 0x41);
    render(f);
    drain_damage(f);
    /* Nothing changed: no damage. */
    render(f);
    struct display_rect r[DISPLAY_MAX_DAMAGE];
    assert_int_equal(display_take_damage(&f->disp, r, DISPLAY_MAX_DAMAGE), 0);
    render(f);
    assert_int_equal(display_take_damage(&f->disp, r, DISPLAY_MAX_DAMAGE), 0);

    /* One character changes: damage lies within its cell. */
    put_char(f, 20, 7, 'A', 0x41);
    render(f);
    unsigned n = display_take_damage(&f->disp, r, DISPLAY_MAX_DAMAGE);
    assert_true(n >= 1);
    unsigned area = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_true(r[i].x >= 20 * 9 && r[i].x + r[i].w <= 21 * 9);
        assert_true(r[i].y >= 7 * 16 && r[i].y + r[i].h <= 8 * 16);
        area += r[i].w * r[i].h;
    }
    assert_true(area > 0);
    assert_int_equal(pixel(f, 20 * 9 + 3, 7 * 16 + 3), RED);

    /* A palette change repaints what uses the entry, nothing else. */
    drain_damage(f);
    render(f);
    assert_int_equal(display_take_damage(&f->disp, r, DISPLAY_MAX_DAMAGE), 0);
    dac(f, 0x01, 0x00, 0x3f, 0x00);
    render(f);
    n = display_take_damage(&f->disp, r, DISPLAY_MAX_DAMAGE);
    assert_true(n >= 1);
    for (unsigned i = 0; i < n; i++) {
        assert_true(r[i].y >= 5 * 16 && r[i].y + r[i].h <= 8 * 16);
        assert_true(r[i].x >= 10 * 9 && r[i].x + r[i].w <= 21 * 9);
    }
    assert_int_equal(pixel(f, 20 * 9 + 3, 7 * 16 + 3), 0x00ff00);
}

static void test_mode13(void **state)
{
    struct fixture *f = *state;
    load_regs(f, 0x63, mode13_seq, mode13_crtc, mode13_gc, mode13_ac);
    dac(f, 0x00, 0, 0, 0);
    dac(f, 0x01, 0x3f, 0x00, 0x00);
    dac(f, 0x80, 0x00, 0x3f, 0x00);
    dac(f, 0xfe, 0x00, 0x00, 0x3f);
    /* 320x200, one byte per pixel at A0000 + 320 y + x. */
    memw(f, 0xa0000 + 0 * 320 + 0, 0x01);
    memw(f, 0xa0000 + 3 * 320 + 5, 0x80);
    memw(f, 0xa0000 + 100 * 320 + 161, 0xfe);
    memw(f, 0xa0000 + 199 * 320 + 319, 0x01);
    render(f);
    /* Each pixel two dots wide (8-bit colour halves the pixel clock) and
     * two lines high (CR09 maximum scan line 1): 640x400. */
    assert_int_equal(f->disp.width, 640);
    assert_int_equal(f->disp.height, 400);
    struct { unsigned x, y; uint32_t c; } px[] = {
        { 0, 0, RED }, { 5, 3, 0x00ff00 }, { 161, 100, 0x0000ff }, { 319, 199, RED },
        { 1, 0, 0 }, { 4, 3, 0 }, { 6, 3, 0 }, { 160, 100, 0 },
    };
    for (unsigned i = 0; i < sizeof(px) / sizeof(px[0]); i++)
        for (unsigned dy = 0; dy < 2; dy++)
            for (unsigned dx = 0; dx < 2; dx++)
                assert_int_equal(pixel(f, px[i].x * 2 + dx, px[i].y * 2 + dy), px[i].c);
    /* The pel mask applies to the DAC index: 80h & 7Fh = 0 (black). */
    outb(f, 0x3c6, 0x7f);
    render(f);
    assert_int_equal(pixel(f, 10, 6), 0);
    assert_int_equal(vga_screen_text(&f->vga, NULL, 0), -1);
}

static void test_mode12(void **state)
{
    struct fixture *f = *state;
    load_regs(f, 0xe3, mode12_seq, mode12_crtc, mode12_gc, mode12_ac);
    dac(f, 0x3c, 0x3f, 0x3f, 0x00);     /* AR0C = 3Ch */
    dac(f, 0x05, 0x00, 0x3f, 0x3f);     /* AR05 = 05h */
    /* Pixel (10, 7) colour 0Ch with write mode 2 and the bit mask for
     * bit 7 - (10 % 8) = 5. */
    gr(f, 0x05, 0x02);
    gr(f, 0x08, 0x20);
    uint32_t a = 0xa0000 + 7 * 80 + 10 / 8;
    (void)memr(f, a);
    memw(f, a, 0x0c);
    /* Pixels (632..639, 479): colour 5 through set/reset in mode 0. */
    gr(f, 0x05, 0x00);
    gr(f, 0x08, 0xff);
    gr(f, 0x01, 0x0f);
    gr(f, 0x00, 0x05);
    memw(f, 0xa0000 + 479 * 80 + 79, 0x00);
    render(f);
    assert_int_equal(f->disp.width, 640);
    assert_int_equal(f->disp.height, 480);
    assert_int_equal(pixel(f, 10, 7), 0xffff00);
    assert_int_equal(pixel(f, 9, 7), 0);
    assert_int_equal(pixel(f, 11, 7), 0);
    for (unsigned x = 632; x < 640; x++)
        assert_int_equal(pixel(f, x, 479), 0x00ffff);
    assert_int_equal(pixel(f, 631, 479), 0);
    /* Colour plane enable (AR12) masks the value: planes 2-3 only -> 0Ch
     * stays 0Ch, 05h becomes 04h (AR04 = 04h). */
    dac(f, 0x04, 0x15, 0x15, 0x15);
    ar(f, 0x12, 0x0c);
    render(f);
    assert_int_equal(pixel(f, 10, 7), 0xffff00);
    assert_int_equal(pixel(f, 635, 479), 0x555555);
    /* Start address: scroll down one line (80 bytes). */
    ar(f, 0x12, 0x0f);
    cr(f, 0x0c, 0x00);
    cr(f, 0x0d, 80);
    render(f);
    assert_int_equal(pixel(f, 10, 6), 0xffff00);
}

static void dispi_mode(struct fixture *f, unsigned w, unsigned h, unsigned bpp)
{
    dispi_write(f, VBE_DISPI_INDEX_ENABLE, 0);
    dispi_write(f, VBE_DISPI_INDEX_BPP, (uint16_t)bpp);
    dispi_write(f, VBE_DISPI_INDEX_XRES, (uint16_t)w);
    dispi_write(f, VBE_DISPI_INDEX_YRES, (uint16_t)h);
    dispi_write(f, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void test_vbe_32_24(void **state)
{
    struct fixture *f = *state;
    dispi_mode(f, 64, 48, 32);
    uint8_t *fb = f->vga.vram;
    put32(fb + (0 * 64 + 0) * 4, 0x00123456);
    put32(fb + (47 * 64 + 63) * 4, 0xff00ff00);     /* top byte ignored */
    put32(fb + (10 * 64 + 20) * 4, 0x00abcdef);
    render(f);
    assert_int_equal(f->disp.width, 64);
    assert_int_equal(f->disp.height, 48);
    assert_int_equal(pixel(f, 0, 0), 0x123456);
    assert_int_equal(pixel(f, 63, 47), 0x00ff00);
    assert_int_equal(pixel(f, 20, 10), 0xabcdef);
    assert_int_equal(pixel(f, 21, 10), 0);

    /* Virtual width 100 and display start (3, 2): screen (x, y) shows
     * memory pixel (x + 3, y + 2) of a 100-pixel-wide virtual screen. */
    dispi_write(f, VBE_DISPI_INDEX_VIRT_WIDTH, 100);
    dispi_write(f, VBE_DISPI_INDEX_X_OFFSET, 3);
    dispi_write(f, VBE_DISPI_INDEX_Y_OFFSET, 2);
    put32(fb + (2 * 100 + 3) * 4, 0x00111111);
    put32(fb + (12 * 100 + 23) * 4, 0x00222222);
    render(f);
    assert_int_equal(pixel(f, 0, 0), 0x111111);
    assert_int_equal(pixel(f, 20, 10), 0x222222);
    /* Beyond the end of VRAM: black, no crash. */
    dispi_write(f, VBE_DISPI_INDEX_Y_OFFSET, 0xffff);
    dispi_write(f, VBE_DISPI_INDEX_X_OFFSET, 0xffff);
    render(f);
    assert_int_equal(pixel(f, 63, 47), 0);

    /* 24 bpp: blue, green, red bytes. */
    dispi_mode(f, 32, 16, 24);
    fb[(5 * 32 + 7) * 3 + 0] = 0x01;
    fb[(5 * 32 + 7) * 3 + 1] = 0x02;
    fb[(5 * 32 + 7) * 3 + 2] = 0x03;
    render(f);
    assert_int_equal(f->disp.width, 32);
    assert_int_equal(pixel(f, 7, 5), 0x030201);
    assert_int_equal(pixel(f, 8, 5), 0);
}

static void test_vbe_16_15_8(void **state)
{
    struct fixture *f = *state;
    dispi_mode(f, 40, 30, 16);
    uint8_t *fb = f->vga.vram;
    static const struct { uint16_t v; uint32_t c; } c16[] = {
        { 0xf800, 0xff0000 }, { 0x07e0, 0x00ff00 }, { 0x001f, 0x0000ff }, { 0xffff, 0xffffff },
        /* 5-bit 16 -> 16*255/31 = 131.6 ~ 84h; 6-bit 32 -> 129.5 ~ 82h */
        { 0x8410, 0x848284 },
    };
    for (unsigned i = 0; i < 5; i++) {
        fb[(3 * 40 + i) * 2] = (uint8_t)c16[i].v;
        fb[(3 * 40 + i) * 2 + 1] = (uint8_t)(c16[i].v >> 8);
    }
    render(f);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(pixel(f, i, 3), c16[i].c);

    dispi_mode(f, 40, 30, 15);
    static const struct { uint16_t v; uint32_t c; } c15[] = {
        { 0x7c00, 0xff0000 }, { 0x03e0, 0x00ff00 }, { 0x001f, 0x0000ff }, { 0x8000, 0x000000 },
    };
    for (unsigned i = 0; i < 4; i++) {
        fb[(3 * 40 + i) * 2] = (uint8_t)c15[i].v;
        fb[(3 * 40 + i) * 2 + 1] = (uint8_t)(c15[i].v >> 8);
    }
    render(f);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(pixel(f, i, 3), c15[i].c);

    /* 8 bpp through the DAC, banked writes through the VGA window. */
    dispi_mode(f, 320, 240, 8);
    dac(f, 0x42, 0x3f, 0x00, 0x3f);
    gr(f, 0x06, 0x05);
    dispi_write(f, VBE_DISPI_INDEX_BANK, 1);
    /* Pixel (96, 204) is byte 204 * 320 + 96 = 65376 -> bank 0...
     * pixel (0, 205) is 65600 = bank 1 offset 64. */
    memw(f, 0xa0000 + 64, 0x42);
    render(f);
    assert_int_equal(pixel(f, 0, 205), 0xff00ff);
    assert_int_equal(pixel(f, 1, 205), 0);

    /* 4 bpp planar through the VGA write logic and the attribute palette. */
    load_regs(f, 0xe3, mode12_seq, mode12_crtc, mode12_gc, mode12_ac);
    dispi_mode(f, 800, 600, 4);
    dac(f, 0x3c, 0x3f, 0x3f, 0x00);
    gr(f, 0x06, 0x05);
    gr(f, 0x05, 0x02);
    gr(f, 0x08, 0x80);
    /* Pixel (8, 599): plane byte 599 * 100 + 1 = 59901 in bank 0. */
    (void)memr(f, 0xa0000 + 59901);
    memw(f, 0xa0000 + 59901, 0x0c);
    render(f);
    assert_int_equal(f->disp.width, 800);
    assert_int_equal(f->disp.height, 600);
    assert_int_equal(pixel(f, 8, 599), 0xffff00);
    assert_int_equal(pixel(f, 9, 599), 0);
    assert_int_equal(vga_screen_text(&f->vga, NULL, 0), -1);
}

static void test_screen_text(void **state)
{
    struct fixture *f = *state;
    text_setup(f);
    const char *hello = "Hello";
    for (unsigned i = 0; hello[i]; i++)
        put_char(f, i, 0, (uint8_t)hello[i], 0x07);
    const char *world = "World!";
    for (unsigned i = 0; world[i]; i++)
        put_char(f, 74 + i, 24, (uint8_t)world[i], 0x07);
    put_char(f, 0, 1, 0xc4, 0x07);      /* not ASCII */
    put_char(f, 1, 1, 0xff, 0x07);      /* blank glyph */
    static char buf[81 * 50 + 1];
    int n = vga_screen_text(&f->vga, buf, sizeof(buf));
    assert_int_equal(n, 81 * 25);
    assert_int_equal((int)strlen(buf), n);
    assert_memory_equal(buf, "Hello     ", 10);
    assert_int_equal(buf[80], '\n');
    assert_memory_equal(buf + 81, "? ", 2);
    char last[82];
    memset(last, ' ', 74);
    memcpy(last + 74, "World!\n", 8);
    assert_memory_equal(buf + 81 * 24, last, 81);

    /* 80x50: 8-line characters. */
    cr(f, 0x09, 0x47);
    n = vga_screen_text(&f->vga, buf, sizeof(buf));
    assert_int_equal(n, 81 * 50);
    /* Start address moves the view. */
    cr(f, 0x09, 0x4f);
    cr(f, 0x0c, 0x00);
    cr(f, 0x0d, 80);
    n = vga_screen_text(&f->vga, buf, sizeof(buf));
    assert_memory_equal(buf, "? ", 2);
    /* Truncation keeps the string terminated. */
    char small[10];
    n = vga_screen_text(&f->vga, small, sizeof(small));
    assert_int_equal(n, 9);
    assert_int_equal(small[9], '\0');
    /* Graphics mode: not text. */
    gr(f, 0x06, 0x05);
    assert_int_equal(vga_screen_text(&f->vga, buf, sizeof(buf)), -1);
}

static void test_vmstate_roundtrip(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = vga_device_ops.vmstate;
    sr(f, 0x02, 0x05);
    gr(f, 0x08, 0x3c);
    cr(f, 0x0e, 0x07);
    ar(f, 0x10, 0x41);
    dac(f, 0x20, 0x01, 0x02, 0x03);
    dispi_write(f, VBE_DISPI_INDEX_XRES, 1024);
    pci_device_config_write(&f->vga.pci, PCI_BASE_ADDRESS_0, 0xe0000000, 4);
    pci_device_config_write(&f->vga.pci, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    assert_int_equal(f->ncalls, 1);

    static uint8_t buf[8192], buf2[8192];
    long n = vmstate_save(desc, &f->vga, buf, sizeof(buf));
    assert_true(n > 0);
    vga_device_ops.reset(&f->vga);
    assert_int_equal(f->ncalls, 2);         /* reset unmapped the LFB */
    assert_int_equal(sr_get(f, 0x02), 0x03);
    char err[200];
    assert_int_equal(vmstate_load(desc, &f->vga, vga_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    /* post_load put the LFB back. */
    assert_int_equal(f->ncalls, 3);
    assert_int_equal(f->calls[2].gpa, 0xe0000000);
    assert_true(f->calls[2].mapped);
    long n2 = vmstate_save(desc, &f->vga, buf2, sizeof(buf2));
    assert_int_equal(n, n2);
    assert_memory_equal(buf, buf2, (size_t)n);
    assert_int_equal(sr_get(f, 0x02), 0x05);
    assert_int_equal(gr_get(f, 0x08), 0x3c);
    assert_int_equal(cr_get(f, 0x0e), 0x07);
    assert_int_equal(ar_get(f, 0x10), 0x41);
    assert_int_equal(dispi_read(f, VBE_DISPI_INDEX_XRES), 1024);
    outb(f, 0x3c7, 0x20);
    assert_int_equal(inb(f, 0x3c9), 0x01);
    assert_int_equal(inb(f, 0x3c9), 0x02);
    assert_int_equal(inb(f, 0x3c9), 0x03);
}

static void test_vmstate_hostile(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = vga_device_ops.vmstate;
    struct vga *evil = malloc(sizeof(*evil));
    memcpy(evil, &f->vga, sizeof(*evil));
    evil->sr_index = 0xff;
    evil->gr_index = 0xff;
    evil->dac_sub = 200;
    evil->ar_flip = 7;
    evil->dispi[VBE_DISPI_INDEX_XRES] = 60000;
    evil->dispi[VBE_DISPI_INDEX_YRES] = 60000;
    evil->dispi[VBE_DISPI_INDEX_BPP] = 3;
    evil->dispi[VBE_DISPI_INDEX_BANK] = 9999;
    evil->dispi[VBE_DISPI_INDEX_ENABLE] = 0xffff;
    evil->dispi[VBE_DISPI_INDEX_VIRT_WIDTH] = 0xffff;
    evil->dispi[VBE_DISPI_INDEX_X_OFFSET] = 0xffff;
    evil->dispi[VBE_DISPI_INDEX_Y_OFFSET] = 0xffff;
    evil->cr[VGA_CR_HDISP_END] = 0xff;
    static uint8_t buf[8192];
    long n = vmstate_save(desc, evil, buf, sizeof(buf));
    free(evil);
    char err[200];
    assert_int_equal(vmstate_load(desc, &f->vga, sizeof(f->vga), buf, (size_t)n, err, sizeof(err)), 0);
    assert_true(f->vga.sr_index < VGA_SR_COUNT);
    assert_true(f->vga.gr_index < VGA_GR_COUNT);
    assert_true(f->vga.dac_sub < 3);
    assert_true(f->vga.dispi[VBE_DISPI_INDEX_XRES] <= 2560);
    assert_true(f->vga.dispi[VBE_DISPI_INDEX_YRES] <= 1600);
    assert_int_equal(f->vga.dispi[VBE_DISPI_INDEX_BPP], 8);
    /* And it still renders and accepts accesses. */
    render(f);
    assert_true(f->disp.width <= 2560 && f->disp.height <= 1600);
    for (int i = 0; i < 16; i++) {
        (void)inb(f, 0x3c9);
        memw(f, 0xa0000 + (uint32_t)i * 4099, 0x5a);
        (void)memr(f, 0xa0000 + (uint32_t)i * 4099);
    }
}

static void test_random_access(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 0x0b0c5u;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        switch ((r >> 2) % 10) {
        case 0: case 1: {           /* VGA ports, colour and mono */
            uint16_t port = (uint16_t)(0x3b0 + (r >> 8) % 0x30);
            if ((r >> 20) & 1)
                bus_write(f->pio, port, &val, size);
            else
                bus_read(f->pio, port, &val, size);
            break;
        }
        case 2: {                   /* DISPI, mostly valid indices */
            uint16_t idx = (r >> 8) & 1 ? (uint16_t)((r >> 9) % 12) : (uint16_t)val;
            outw(f, 0x1ce, idx);
            if ((r >> 20) & 1)
                outw(f, 0x1cf, (uint16_t)(val >> 16));
            else
                (void)inw(f, 0x1cf);
            bus_read(f->pio, (uint16_t)(0x1cd + (r >> 24) % 5), &val, size);
            break;
        }
        case 3: case 4: case 5: {   /* the memory window */
            uint64_t addr = 0x9ffff + (r >> 8) % 0x20002;
            if ((r >> 30) & 1)
                bus_write(f->mmio, addr, &val, size);
            else
                bus_read(f->mmio, addr, &val, size);
            break;
        }
        case 6: {                   /* BAR2 when placed */
            uint64_t addr = MMIO_BAR2 + (r >> 8) % 0x1004;
            if ((r >> 30) & 1)
                bus_write(f->mmio, addr, &val, size);
            else
                bus_read(f->mmio, addr, &val, size);
            break;
        }
        case 7:                     /* PCI config */
            if ((r >> 8) % 8 == 0)
                pci_device_config_write(&f->vga.pci, PCI_COMMAND, (uint32_t)val & 0x7, 2);
            else if ((r >> 8) % 8 == 1)
                pci_device_config_write(&f->vga.pci, 0x18, (r >> 12) & 1 ? MMIO_BAR2 : (uint32_t)val, 4);
            else
                pci_device_config_write(&f->vga.pci, (r >> 12) % 0x40, (uint32_t)val, size > 4 ? 4 : size);
            break;
        case 8:                     /* straight into the LFB, as the guest does */
            f->vga.vram[(r >> 8) % f->vga.vram_size] = (uint8_t)val;
            break;
        default:
            if ((r >> 8) % 2048 == 0)
                render(f);
            if ((r >> 8) % 512 == 1) {
                char text[128];
                (void)vga_screen_text(&f->vga, text, sizeof(text));
            }
            if ((r >> 8) % 8192 == 2)
                vga_device_ops.reset(&f->vga);
            break;
        }
        assert_true(f->vga.sr_index < VGA_SR_COUNT);
        assert_true(f->vga.dac_sub < 3);
        assert_true(f->vga.dispi[VBE_DISPI_INDEX_XRES] <= 2560);
        assert_true(f->vga.dispi[VBE_DISPI_INDEX_YRES] <= 1600);
    }
    render(f);
    assert_true(f->disp.width >= 1 && f->disp.width <= 2560);
    assert_true(f->disp.height >= 1 && f->disp.height <= 1600);
    /* Every map reported was later unmapped or is the current one. */
    int mapped = 0;
    for (unsigned i = 0; i < f->ncalls && i < 32; i++)
        mapped += f->calls[i].mapped ? 1 : -1;
    if (f->ncalls <= 32)
        assert_int_equal(mapped, f->vga.lfb_mapped ? 1 : 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pci_bars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_mode0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_mode1_2_3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain4_and_odd_even, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_render, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_font_select_cursor_blink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode13, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode12, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vbe_32_24, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vbe_16_15_8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screen_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
