/* The VGA memory window at 0xA0000-0xBFFFF: how CPU accesses reach the
 * four planes (IBM VGA Technical Reference, "Graphics Controller" and
 * "Sequencer"; FreeVGA "VGA Memory Organization", "Read/Write Modes").
 *
 * Address mapping, chosen so CPU and CRTC views agree (vga_render.c):
 *  - chain 4 (SR04 bit 3): CPU address bits 0-1 pick the plane, the plane
 *    address is the CPU address with those bits cleared;
 *  - odd/even (SR04 bit 2 clear for writes, GR05 bit 4 set for reads):
 *    address bit 0 picks plane 0/2 or 1/3 (reads take bit 1 of the plane
 *    from the read map select), the plane address is the CPU address with
 *    bit 0 cleared;
 *  - otherwise the map mask (writes) or read map select (reads) picks the
 *    planes and the plane address is the CPU address.
 * Plane addresses wrap at 64 KiB, the size of a plane on the VGA.
 *
 * In a VBE mode the window shows 64 KiB banks: packed-pixel modes see VRAM
 * bytes directly, the 4-bpp planar modes go through the same logic as VGA
 * with the bank added to the plane address.
 */
#include "vga.h"

/* Offset inside the window the memory map select (GR06 bits 3-2) decodes,
 * or -1 when the address is outside it. */
static int64_t vga_mem_window(const struct vga *v, uint64_t off)
{
    switch ((v->gr[VGA_GR_MISC] >> 2) & 3) {
    case 0:                         /* A0000-BFFFF */
        return off < VGA_MEM_SIZE ? (int64_t)off : -1;
    case 1:                         /* A0000-AFFFF */
        return off < 0x10000 ? (int64_t)off : -1;
    case 2:                         /* B0000-B7FFF */
        return off >= 0x10000 && off < 0x18000 ? (int64_t)(off - 0x10000) : -1;
    default:                        /* B8000-BFFFF */
        return off >= 0x18000 && off < 0x20000 ? (int64_t)(off - 0x18000) : -1;
    }
}

static bool vga_mem_vbe_packed(const struct vga *v)
{
    return vga_dispi_enabled(v) && vga_dispi_bpp(v) != 4;
}

/* Turn a plane address into a VRAM byte index of plane 0, or -1 when it
 * lies outside the planes. Legacy addresses wrap at 64 KiB; in a 4-bpp VBE
 * mode the bank is added and the limit is a quarter of VRAM. */
static int64_t vga_mem_plane_index(const struct vga *v, uint64_t pa)
{
    if (vga_dispi_enabled(v)) {
        pa += (uint64_t)v->dispi[VBE_DISPI_INDEX_BANK] * VBE_DISPI_BANK_SIZE;
        if (pa >= v->vram_size / 4)
            return -1;
    } else {
        pa &= VGA_PLANE_SIZE - 1;
    }
    return (int64_t)(pa * 4);
}

static uint32_t vga_load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Each of the low four bits becomes 0x00 or 0xff in its plane's byte. */
static uint32_t vga_expand4(unsigned bits)
{
    uint32_t v = 0;
    for (unsigned p = 0; p < 4; p++)
        if (bits & (1u << p))
            v |= 0xffu << (8 * p);
    return v;
}

static uint32_t vga_rep4(uint8_t b)
{
    return b * 0x01010101u;
}

uint8_t vga_mem_readb(struct vga *v, uint64_t offset)
{
    int64_t w = vga_mem_window(v, offset);
    if (w < 0)
        return 0xff;
    if (vga_mem_vbe_packed(v)) {
        uint64_t a = (uint64_t)v->dispi[VBE_DISPI_INDEX_BANK] * VBE_DISPI_BANK_SIZE + (uint64_t)w;
        return a < v->vram_size ? v->vram[a] : 0xff;
    }
    uint64_t pa;
    unsigned plane;
    if (v->sr[VGA_SR_MEMMODE] & VGA_SR04_CHAIN4) {
        plane = (unsigned)w & 3;
        pa = (uint64_t)w & ~3ull;
    } else if (v->gr[VGA_GR_MODE] & VGA_GR05_HOST_OE) {
        plane = (v->gr[VGA_GR_READ_MAP] & 2) | ((unsigned)w & 1);
        pa = (uint64_t)w & ~1ull;
    } else {
        plane = v->gr[VGA_GR_READ_MAP] & 3;
        pa = (uint64_t)w;
    }
    int64_t idx = vga_mem_plane_index(v, pa);
    if (idx < 0)
        return 0xff;
    /* Every read loads all four latches. */
    v->latch = vga_load32(v->vram + idx);
    if (!(v->gr[VGA_GR_MODE] & VGA_GR05_READ_MODE1))
        return (uint8_t)(v->latch >> (8 * plane));
    /* Read mode 1: a bit is 1 where every plane selected by colour don't
     * care matches its colour compare bit. */
    uint32_t diff = (v->latch ^ vga_expand4(v->gr[VGA_GR_COLOR_COMPARE])) &
                    vga_expand4(v->gr[VGA_GR_DONT_CARE]);
    return (uint8_t)~(diff | diff >> 8 | diff >> 16 | diff >> 24);
}

/* The graphics controller's write data path: the four plane bytes a CPU
 * byte turns into (write modes 0-3, function select, bit mask). */
static uint32_t vga_mem_write_data(const struct vga *v, uint8_t val)
{
    const uint8_t *gr = v->gr;
    unsigned mode = gr[VGA_GR_MODE] & 3;
    uint32_t latch = v->latch;
    if (mode == 1)
        return latch;           /* write mode 1: the latches as they are */
    unsigned rot = gr[VGA_GR_ROTATE] & 7;
    uint8_t rotated = (uint8_t)((val >> rot) | (val << ((8 - rot) & 7)));
    uint8_t mask = gr[VGA_GR_BIT_MASK];
    uint32_t data;
    switch (mode) {
    case 0: {
        /* Rotated data, replaced by set/reset in planes enable set/reset picks. */
        uint32_t esr = vga_expand4(gr[VGA_GR_ENABLE_SET_RESET]);
        data = (vga_rep4(rotated) & ~esr) | (vga_expand4(gr[VGA_GR_SET_RESET]) & esr);
        break;
    }
    case 2:
        /* Bit p of the CPU byte fills plane p; rotation and set/reset unused. */
        data = vga_expand4(val);
        break;
    default:
        /* Write mode 3: set/reset fills every plane, the rotated CPU byte
         * ANDed with the bit mask becomes the bit mask. */
        data = vga_expand4(gr[VGA_GR_SET_RESET]);
        mask &= rotated;
        break;
    }
    /* Function select (GR03 bits 4-3) combines with the latches in every
     * mode but 1. */
    switch ((gr[VGA_GR_ROTATE] >> 3) & 3) {
    case 1:
        data &= latch;
        break;
    case 2:
        data |= latch;
        break;
    case 3:
        data ^= latch;
        break;
    default:
        break;
    }
    uint32_t m = vga_rep4(mask);
    return (data & m) | (latch & ~m);
}

void vga_mem_writeb(struct vga *v, uint64_t offset, uint8_t value)
{
    int64_t w = vga_mem_window(v, offset);
    if (w < 0)
        return;
    if (vga_mem_vbe_packed(v)) {
        uint64_t a = (uint64_t)v->dispi[VBE_DISPI_INDEX_BANK] * VBE_DISPI_BANK_SIZE + (uint64_t)w;
        if (a < v->vram_size)
            v->vram[a] = value;
        return;
    }
    unsigned planes = v->sr[VGA_SR_MAP_MASK] & 0x0f;
    uint64_t pa;
    if (v->sr[VGA_SR_MEMMODE] & VGA_SR04_CHAIN4) {
        planes &= 1u << ((unsigned)w & 3);
        pa = (uint64_t)w & ~3ull;
    } else if (!(v->sr[VGA_SR_MEMMODE] & VGA_SR04_SEQUENTIAL)) {
        planes &= (w & 1) ? 0x0a : 0x05;
        pa = (uint64_t)w & ~1ull;
    } else {
        pa = (uint64_t)w;
    }
    int64_t idx = vga_mem_plane_index(v, pa);
    if (idx < 0 || !planes)
        return;
    uint32_t data = vga_mem_write_data(v, value);
    uint8_t *dst = v->vram + idx;
    for (unsigned p = 0; p < 4; p++)
        if (planes & (1u << p))
            dst[p] = (uint8_t)(data >> (8 * p));
}
