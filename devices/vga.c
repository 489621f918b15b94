/* VGA registers, Bochs VBE DISPI interface, PCI function and VRAM.
 *
 * Register layouts follow the IBM VGA Technical Reference as laid out by
 * FreeVGA ("Accessing the VGA Registers", "Sequencer", "Graphics", "CRT
 * Controller", "Attribute Controller" and "DAC Operation" pages); the DISPI
 * interface follows the Bochs VBE extension as SeaBIOS's bochsvga driver
 * uses it. The memory window is in vga_mem.c, rendering in vga_render.c.
 *
 * Deliberate simplifications:
 *  - No timing: input status 1 toggles its retrace and display-disabled
 *    bits on every read, so polling loops in either direction progress.
 *  - Attribute palette registers 00h-0Fh accept writes whatever the palette
 *    address source bit says (the reference says the CPU cannot change them
 *    while the screen shows them; software never relies on the write being
 *    lost, and some only ever writes them with the bit set).
 *  - DAC writes take effect per component, not per completed triple.
 */
#include "vga.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writable bits per register (FreeVGA register pages; reserved bits read 0). */
static const uint8_t vga_sr_mask[VGA_SR_COUNT] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0, 0, 0 };
static const uint8_t vga_gr_mask[VGA_GR_COUNT] = {
    0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff, 0, 0, 0, 0, 0, 0, 0,
};
static const uint8_t vga_ar_mask[VGA_AR_COUNT] = {
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
    0xef, 0xff, 0x3f, 0x0f, 0x0f,
};

/* Power-on register contents: BIOS mode 03h (80x25 text, 720x400), the
 * values of the IBM reference's mode table, so a guest started without a
 * VGA BIOS finds a consistent text mode. */
static const uint8_t vga_mode3_sr[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t vga_mode3_cr[VGA_CR_COUNT] = {
    0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
    0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t vga_mode3_gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
static const uint8_t vga_mode3_ar[VGA_AR_COUNT] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x0c, 0x00, 0x0f, 0x08, 0x00,
};

#define VGA_ENABLE_BITS (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | VBE_DISPI_8BIT_DAC | \
                         VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM)
#define VGA_BAR0_MASK 0xff000000u     /* 16 MiB */
#define VGA_BAR0_FLAGS 0x00000008u    /* memory, 32-bit, prefetchable */
#define VGA_BAR2_MASK 0xfffff000u     /* 4 KiB */
#define VGA_PCI_BAR2 0x18

/* BAR2 layout (the one QEMU's stdvga uses, which Linux's bochs-drm knows). */
#define VGA_MMIO_PORTS 0x400u         /* 0x3C0-0x3DF as bytes */
#define VGA_MMIO_DISPI 0x500u         /* DISPI register i as a word at 0x500 + 2i */

bool vga_dispi_enabled(const struct vga *v)
{
    return v->dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

unsigned vga_dispi_bpp(const struct vga *v)
{
    unsigned bpp = v->dispi[VBE_DISPI_INDEX_BPP];
    return bpp ? bpp : 8;
}

static bool vga_dispi_bpp_valid(unsigned bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

/* VRAM bytes one line of `width` pixels occupies (all four planes at 4 bpp). */
static uint64_t vga_dispi_line_bytes(unsigned bpp, unsigned width)
{
    if (bpp == 4)
        return ((uint64_t)width + 7) / 8 * 4;
    return (uint64_t)width * ((bpp + 7) / 8);
}

static void vga_dispi_update_virt_height(struct vga *v)
{
    uint64_t lb = vga_dispi_line_bytes(vga_dispi_bpp(v), v->dispi[VBE_DISPI_INDEX_VIRT_WIDTH]);
    uint64_t h = lb ? v->vram_size / lb : 0;
    v->dispi[VBE_DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)(h > 0xffff ? 0xffff : h);
}

static void vga_dispi_write_enable(struct vga *v, uint16_t val)
{
    val &= VGA_ENABLE_BITS;
    bool was = vga_dispi_enabled(v);
    v->dispi[VBE_DISPI_INDEX_ENABLE] = val;
    if (!(val & VBE_DISPI_ENABLED) || was)
        return;
    /* Entering a VBE mode: the virtual screen starts as the visible one. */
    unsigned bpp = vga_dispi_bpp(v);
    v->dispi[VBE_DISPI_INDEX_VIRT_WIDTH] = v->dispi[VBE_DISPI_INDEX_XRES];
    v->dispi[VBE_DISPI_INDEX_X_OFFSET] = 0;
    v->dispi[VBE_DISPI_INDEX_Y_OFFSET] = 0;
    v->dispi[VBE_DISPI_INDEX_BANK] = 0;
    vga_dispi_update_virt_height(v);
    if (!(val & VBE_DISPI_NOCLEARMEM)) {
        uint64_t n = vga_dispi_line_bytes(bpp, v->dispi[VBE_DISPI_INDEX_XRES]) *
                     v->dispi[VBE_DISPI_INDEX_YRES];
        memset(v->vram, 0, n < v->vram_size ? n : v->vram_size);
    }
}

static uint16_t vga_dispi_reg_read(struct vga *v, unsigned idx)
{
    bool caps = v->dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS;
    switch (idx) {
    case VBE_DISPI_INDEX_XRES:
        return caps ? VBE_DISPI_MAX_XRES : v->dispi[idx];
    case VBE_DISPI_INDEX_YRES:
        return caps ? VBE_DISPI_MAX_YRES : v->dispi[idx];
    case VBE_DISPI_INDEX_BPP:
        return caps ? VBE_DISPI_MAX_BPP : v->dispi[idx];
    case VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
        return (uint16_t)(v->vram_size >> 16);
    case VBE_DISPI_INDEX_ID:
    case VBE_DISPI_INDEX_ENABLE:
    case VBE_DISPI_INDEX_BANK:
    case VBE_DISPI_INDEX_VIRT_WIDTH:
    case VBE_DISPI_INDEX_VIRT_HEIGHT:
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        return v->dispi[idx];
    default:
        return 0;
    }
}

static void vga_dispi_reg_write(struct vga *v, unsigned idx, uint16_t val)
{
    switch (idx) {
    case VBE_DISPI_INDEX_ID:
        /* A driver selects the interface version it speaks. */
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5)
            v->dispi[idx] = val;
        break;
    case VBE_DISPI_INDEX_XRES:
        if (val <= VBE_DISPI_MAX_XRES)
            v->dispi[idx] = val;
        break;
    case VBE_DISPI_INDEX_YRES:
        if (val <= VBE_DISPI_MAX_YRES)
            v->dispi[idx] = val;
        break;
    case VBE_DISPI_INDEX_BPP:
        if (val == 0)
            val = 8;
        if (vga_dispi_bpp_valid(val))
            v->dispi[idx] = val;
        break;
    case VBE_DISPI_INDEX_ENABLE:
        vga_dispi_write_enable(v, val);
        break;
    case VBE_DISPI_INDEX_BANK: {
        /* 64 KiB banks; at 4 bpp a bank is 64 KiB of each plane. An
         * out-of-range bank is refused, so a read-back shows the failure. */
        uint64_t span = vga_dispi_bpp(v) == 4 ? v->vram_size / 4 : v->vram_size;
        if (val < span / VBE_DISPI_BANK_SIZE)
            v->dispi[idx] = val;
        break;
    }
    case VBE_DISPI_INDEX_VIRT_WIDTH: {
        uint64_t lb = vga_dispi_line_bytes(vga_dispi_bpp(v), val);
        if (val && lb && lb <= v->vram_size) {
            v->dispi[idx] = val;
            vga_dispi_update_virt_height(v);
        }
        break;
    }
    case VBE_DISPI_INDEX_VIRT_HEIGHT: {
        uint64_t lb = vga_dispi_line_bytes(vga_dispi_bpp(v), v->dispi[VBE_DISPI_INDEX_VIRT_WIDTH]);
        if (lb && (uint64_t)val * lb <= v->vram_size)
            v->dispi[idx] = val;
        break;
    }
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        /* Any value: the renderer shows what lies outside VRAM as black. */
        v->dispi[idx] = val;
        break;
    default:
        break;              /* VIDEO_MEMORY_64K is read-only; others do not exist */
    }
}

/* ---- Legacy I/O ports ---------------------------------------------------- */

static bool vga_colour(const struct vga *v)
{
    return v->misc & VGA_MISC_IOAS;
}

/* The CRTC and input status 1 answer at 0x3Bx or 0x3Dx depending on the
 * misc output I/O address select bit (FreeVGA "External Registers"). */
static bool vga_port_decoded(const struct vga *v, unsigned port)
{
    switch (port) {
    case 0x3b4: case 0x3b5: case 0x3ba:
        return !vga_colour(v);
    case 0x3d4: case 0x3d5: case 0x3da:
        return vga_colour(v);
    default:
        return true;
    }
}

static bool vga_dac_8bit(const struct vga *v)
{
    return v->dispi[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC;
}

static uint8_t vga_port_read(struct vga *v, unsigned port)
{
    if (!vga_port_decoded(v, port))
        return 0xff;
    switch (port) {
    case 0x3c0:
        return v->ar_index;
    case 0x3c1: {
        unsigned idx = v->ar_index & 0x1f;
        return idx < VGA_AR_COUNT ? v->ar[idx] : 0;
    }
    case 0x3c2:
        return 0x00;        /* input status 0: no pending retrace interrupt */
    case 0x3c3:
        return v->vse;
    case 0x3c4:
        return v->sr_index;
    case 0x3c5:
        return v->sr[v->sr_index & (VGA_SR_COUNT - 1)];
    case 0x3c6:
        return v->pel_mask;
    case 0x3c7:
        return v->dac_state;
    case 0x3c8:
        return v->dac_write_index;
    case 0x3c9: {
        uint8_t val = v->palette[v->dac_read_index * 3u + v->dac_sub % 3u];
        if (++v->dac_sub >= 3) {
            v->dac_sub = 0;
            v->dac_read_index++;
        }
        return val;
    }
    case 0x3ca:
        return v->feature;
    case 0x3cc:
        return v->misc;
    case 0x3ce:
        return v->gr_index;
    case 0x3cf:
        return v->gr[v->gr_index & (VGA_GR_COUNT - 1)];
    case 0x3b4: case 0x3d4:
        return v->cr_index;
    case 0x3b5: case 0x3d5:
        return v->cr_index < VGA_CR_COUNT ? v->cr[v->cr_index] : 0xff;
    case 0x3ba: case 0x3da:
        /* Reading input status 1 resets the attribute flip-flop to index. */
        v->ar_flip = 0;
        v->st01 ^= VGA_ST01_VRETRACE | VGA_ST01_DISP_DISABLED;
        return v->st01;
    default:
        return 0xff;
    }
}

static void vga_crtc_write(struct vga *v, uint8_t val)
{
    unsigned idx = v->cr_index;
    if (idx >= VGA_CR_COUNT)
        return;
    /* CR11 bit 7 protects CR00-CR07, except the line compare bit 8 in the
     * overflow register (FreeVGA "CRTC Registers Protect Enable"). */
    if ((v->cr[VGA_CR_VRETRACE_END] & VGA_CR11_PROTECT) && idx <= VGA_CR_OVERFLOW) {
        if (idx == VGA_CR_OVERFLOW)
            v->cr[idx] = (uint8_t)((v->cr[idx] & ~0x10) | (val & 0x10));
        return;
    }
    v->cr[idx] = val;
}

static void vga_port_write(struct vga *v, unsigned port, uint8_t val)
{
    if (!vga_port_decoded(v, port))
        return;
    switch (port) {
    case 0x3c0:
        if (!v->ar_flip) {
            v->ar_index = val & 0x3f;
        } else {
            unsigned idx = v->ar_index & 0x1f;
            if (idx < VGA_AR_COUNT)
                v->ar[idx] = val & vga_ar_mask[idx];
        }
        v->ar_flip ^= 1;
        break;
    case 0x3c2:
        v->misc = val;
        break;
    case 0x3c3:
        v->vse = val & 0x01;
        break;
    case 0x3c4:
        v->sr_index = val & (VGA_SR_COUNT - 1);
        break;
    case 0x3c5: {
        unsigned idx = v->sr_index & (VGA_SR_COUNT - 1);
        v->sr[idx] = val & vga_sr_mask[idx];
        break;
    }
    case 0x3c6:
        v->pel_mask = val;
        break;
    case 0x3c7:
        v->dac_read_index = val;
        v->dac_sub = 0;
        v->dac_state = 0x03;
        break;
    case 0x3c8:
        v->dac_write_index = val;
        v->dac_sub = 0;
        v->dac_state = 0x00;
        break;
    case 0x3c9:
        v->palette[v->dac_write_index * 3u + v->dac_sub % 3u] = vga_dac_8bit(v) ? val : (val & 0x3f);
        if (++v->dac_sub >= 3) {
            v->dac_sub = 0;
            v->dac_write_index++;
        }
        break;
    case 0x3ce:
        v->gr_index = val & (VGA_GR_COUNT - 1);
        break;
    case 0x3cf: {
        unsigned idx = v->gr_index & (VGA_GR_COUNT - 1);
        v->gr[idx] = val & vga_gr_mask[idx];
        break;
    }
    case 0x3b4: case 0x3d4:
        v->cr_index = val;
        break;
    case 0x3b5: case 0x3d5:
        vga_crtc_write(v, val);
        break;
    case 0x3ba: case 0x3da:
        v->feature = val;
        break;
    default:
        break;
    }
}

static uint64_t vga_ioport_read(void *opaque, uint64_t offset, unsigned size)
{
    if (offset >= VGA_IOPORT_LEN)
        return 0xff;
    return vga_port_read(opaque, VGA_IOPORT_BASE + (unsigned)offset);
}

static void vga_ioport_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset >= VGA_IOPORT_LEN)
        return;
    vga_port_write(opaque, VGA_IOPORT_BASE + (unsigned)offset, (uint8_t)value);
}

/* Byte ports only: a 16-bit OUT to an index port is split by the bus into
 * index then data, which is exactly what the hardware does with it. */
const struct bus_ops vga_ioport_bus_ops = {
    .read = vga_ioport_read,
    .write = vga_ioport_write,
    .sizes = BUS_SIZE_1,
};

static uint64_t vga_mono_read(void *opaque, uint64_t offset, unsigned size)
{
    if (offset >= VGA_MONO_LEN)
        return 0xff;
    return vga_port_read(opaque, VGA_MONO_BASE + (unsigned)offset);
}

static void vga_mono_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset >= VGA_MONO_LEN)
        return;
    vga_port_write(opaque, VGA_MONO_BASE + (unsigned)offset, (uint8_t)value);
}

const struct bus_ops vga_mono_bus_ops = {
    .read = vga_mono_read,
    .write = vga_mono_write,
    .sizes = BUS_SIZE_1,
};

/* DISPI ports: offset 0 is the index (0x1CE), offset 1 the data (0x1CF).
 * Offset 2 (0x1D0) only exists so a word at 0x1CF reaches us whole; on its
 * own it reads the data register's high byte and ignores writes. */
static uint64_t vga_dispi_io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct vga *v = opaque;
    uint16_t val;
    switch (offset) {
    case 0:
        val = v->dispi_index;
        break;
    case 1:
        val = vga_dispi_reg_read(v, v->dispi_index);
        break;
    case 2:
        val = (uint16_t)(vga_dispi_reg_read(v, v->dispi_index) >> 8);
        break;
    default:
        return 0xffff;
    }
    return size == 1 ? (uint8_t)val : val;
}

static void vga_dispi_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct vga *v = opaque;
    uint16_t val = size == 1 ? (uint8_t)value : (uint16_t)value;
    if (offset == 0)
        v->dispi_index = val;
    else if (offset == 1)
        vga_dispi_reg_write(v, v->dispi_index, val);
}

const struct bus_ops vga_dispi_bus_ops = {
    .read = vga_dispi_io_read,
    .write = vga_dispi_io_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2,
};

/* ---- Legacy memory window ------------------------------------------------ */

static uint64_t vga_mem_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    if (offset >= VGA_MEM_SIZE)
        return 0xff;
    return vga_mem_readb(opaque, offset);
}

static void vga_mem_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset >= VGA_MEM_SIZE)
        return;
    vga_mem_writeb(opaque, offset, (uint8_t)value);
}

/* Bytes only: each byte goes through the latches and the write logic, as
 * the CPU's wider accesses do on the 8-bit-per-plane hardware. */
const struct bus_ops vga_mem_bus_ops = {
    .read = vga_mem_bus_read,
    .write = vga_mem_bus_write,
    .sizes = BUS_SIZE_1,
};

/* ---- BAR2 register window ----------------------------------------------- */

static uint8_t vga_mmio_readb(struct vga *v, uint64_t off)
{
    if (off >= VGA_MMIO_PORTS && off < VGA_MMIO_PORTS + VGA_IOPORT_LEN)
        return vga_port_read(v, VGA_IOPORT_BASE + (unsigned)(off - VGA_MMIO_PORTS));
    if (off >= VGA_MMIO_DISPI && off < VGA_MMIO_DISPI + 2u * VBE_DISPI_NREGS) {
        unsigned rel = (unsigned)(off - VGA_MMIO_DISPI);
        return (uint8_t)(vga_dispi_reg_read(v, rel / 2) >> (8 * (rel & 1)));
    }
    return 0;
}

static uint64_t vga_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct vga *v = opaque;
    uint64_t val = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        val |= (uint64_t)vga_mmio_readb(v, offset + i) << (8 * i);
    return val;
}

static void vga_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct vga *v = opaque;
    unsigned i = 0;
    while (i < size && i < 8) {
        uint64_t off = offset + i;
        if (off >= VGA_MMIO_PORTS && off < VGA_MMIO_PORTS + VGA_IOPORT_LEN) {
            vga_port_write(v, VGA_IOPORT_BASE + (unsigned)(off - VGA_MMIO_PORTS), (uint8_t)(value >> (8 * i)));
            i++;
        } else if (off >= VGA_MMIO_DISPI && off < VGA_MMIO_DISPI + 2u * VBE_DISPI_NREGS) {
            unsigned rel = (unsigned)(off - VGA_MMIO_DISPI);
            unsigned reg = rel / 2;
            if (!(rel & 1) && size - i >= 2) {
                vga_dispi_reg_write(v, reg, (uint16_t)(value >> (8 * i)));
                i += 2;
            } else {
                /* A lone byte updates its half of the register. */
                unsigned shift = 8 * (rel & 1);
                uint16_t cur = v->dispi[reg];
                cur = (uint16_t)((cur & ~(0xffu << shift)) | (((value >> (8 * i)) & 0xff) << shift));
                vga_dispi_reg_write(v, reg, cur);
                i++;
            }
        } else {
            i++;
        }
    }
}

const struct bus_ops vga_mmio_bus_ops = {
    .read = vga_mmio_read,
    .write = vga_mmio_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

/* ---- PCI ------------------------------------------------------------------ */

/* Follow BAR0/BAR2 and the memory enable bit. A BAR that is 0 or still
 * holds the all-ones sizing pattern is not a placement. */
static void vga_update_bars(struct vga *v)
{
    bool mem = pci_config_get16(&v->pci, PCI_COMMAND) & PCI_COMMAND_MEMORY;

    uint32_t bar0 = pci_config_get32(&v->pci, PCI_BASE_ADDRESS_0) & VGA_BAR0_MASK;
    bool want = mem && bar0 != 0 && bar0 != VGA_BAR0_MASK;
    if (v->lfb_mapped && (!want || v->lfb_gpa != bar0)) {
        v->lfb_mapped = false;
        if (v->lfb_map)
            v->lfb_map(v->lfb_opaque, v->lfb_gpa, false);
    }
    if (want && !v->lfb_mapped) {
        v->lfb_mapped = true;
        v->lfb_gpa = bar0;
        if (v->lfb_map)
            v->lfb_map(v->lfb_opaque, bar0, true);
    }

    if (!v->mmio_bus)
        return;
    uint32_t bar2 = pci_config_get32(&v->pci, VGA_PCI_BAR2) & VGA_BAR2_MASK;
    want = mem && bar2 != 0 && bar2 != VGA_BAR2_MASK;
    if (v->bar2_mapped && (!want || v->bar2_gpa != bar2)) {
        bus_unmap(v->mmio_bus, v->bar2_gpa);
        v->bar2_mapped = false;
    }
    if (want && !v->bar2_mapped &&
        bus_map(v->mmio_bus, bar2, VGA_MMIO_BAR_SIZE, &vga_mmio_bus_ops, v, "vga-mmio") == 0) {
        v->bar2_mapped = true;
        v->bar2_gpa = bar2;
    }
}

static bool vga_overlaps(unsigned reg, unsigned size, unsigned start, unsigned len)
{
    return reg < start + len && start < reg + size;
}

static void vga_pci_config_written(struct pci_device *dev, unsigned reg, unsigned size)
{
    if (vga_overlaps(reg, size, PCI_COMMAND, 2) || vga_overlaps(reg, size, PCI_BASE_ADDRESS_0, 4) ||
        vga_overlaps(reg, size, VGA_PCI_BAR2, 4))
        vga_update_bars(dev->opaque);
}

static const struct pci_device_ops vga_pci_ops = {
    .config_written = vga_pci_config_written,
};

static void vga_pci_setup(struct vga *v)
{
    pci_device_init(&v->pci, VGA_PCI_VENDOR, VGA_PCI_DEVICE, VGA_PCI_REVISION, VGA_PCI_CLASS,
                    PCI_HEADER_TYPE_NORMAL, &vga_pci_ops, v);
    pci_config_set32(&v->pci, PCI_BASE_ADDRESS_0, VGA_BAR0_FLAGS);
    pci_config_set_wmask(&v->pci, PCI_BASE_ADDRESS_0, VGA_BAR0_MASK, 4);
    if (v->mmio_bus)
        pci_config_set_wmask(&v->pci, VGA_PCI_BAR2, VGA_BAR2_MASK, 4);
}

/* ---- Device lifecycle ---------------------------------------------------- */

/* The EGA-compatible 64-colour palette in DAC entries 0-63 (6-bit values:
 * bits 0-2 of the index are primary blue/green/red at 2/3 intensity, bits
 * 3-5 secondary blue/green/red at 1/3), so the power-on text mode has
 * visible colours before any BIOS loads its own. */
static void vga_default_palette(struct vga *v)
{
    memset(v->palette, 0, sizeof(v->palette));
    for (unsigned i = 0; i < 64; i++) {
        unsigned r = ((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15;
        unsigned g = ((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15;
        unsigned b = (i & 1) * 0x2a + ((i >> 3) & 1) * 0x15;
        v->palette[i * 3 + 0] = (uint8_t)r;
        v->palette[i * 3 + 1] = (uint8_t)g;
        v->palette[i * 3 + 2] = (uint8_t)b;
    }
}

static void vga_reset(void *dev)
{
    struct vga *v = dev;
    v->misc = 0x67;
    v->feature = 0;
    v->vse = 0x01;
    v->st01 = 0;
    v->sr_index = 0;
    memset(v->sr, 0, sizeof(v->sr));
    memcpy(v->sr, vga_mode3_sr, sizeof(vga_mode3_sr));
    v->gr_index = 0;
    memset(v->gr, 0, sizeof(v->gr));
    memcpy(v->gr, vga_mode3_gr, sizeof(vga_mode3_gr));
    v->cr_index = 0;
    memcpy(v->cr, vga_mode3_cr, sizeof(v->cr));
    v->ar_index = VGA_AR_INDEX_PAS;
    v->ar_flip = 0;
    memcpy(v->ar, vga_mode3_ar, sizeof(v->ar));
    v->pel_mask = 0xff;
    v->dac_read_index = 0;
    v->dac_write_index = 0;
    v->dac_sub = 0;
    v->dac_state = 0;
    vga_default_palette(v);
    v->latch = 0;
    v->dispi_index = 0;
    memset(v->dispi, 0, sizeof(v->dispi));
    v->dispi[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    v->dispi[VBE_DISPI_INDEX_XRES] = 640;
    v->dispi[VBE_DISPI_INDEX_YRES] = 480;
    v->dispi[VBE_DISPI_INDEX_BPP] = 8;
    /* PCI: identity and BAR flags stay, the guest's settings go; the LFB
     * and BAR2 disappear with the memory enable bit. */
    vga_pci_setup(v);
    vga_update_bars(v);
}

static void vga_finalize(void *dev)
{
    struct vga *v = dev;
    if (v->vram)
        munmap(v->vram, v->vram_size);
    if (v->vram_fd >= 0)
        close(v->vram_fd);
    v->vram = NULL;
    v->vram_fd = -1;
}

/* A saved stream is as hostile as the guest: bring every index and value
 * back into the range the code relies on, then re-place the BARs. */
static void vga_post_load(void *dev)
{
    struct vga *v = dev;
    v->sr_index &= VGA_SR_COUNT - 1;
    v->gr_index &= VGA_GR_COUNT - 1;
    v->ar_index &= 0x3f;
    v->ar_flip &= 1;
    v->vse &= 1;
    v->st01 &= VGA_ST01_VRETRACE | VGA_ST01_DISP_DISABLED;
    v->dac_sub %= 3;
    v->dac_state = v->dac_state ? 0x03 : 0x00;
    for (unsigned i = 0; i < VGA_SR_COUNT; i++)
        v->sr[i] &= vga_sr_mask[i];
    for (unsigned i = 0; i < VGA_GR_COUNT; i++)
        v->gr[i] &= vga_gr_mask[i];
    for (unsigned i = 0; i < VGA_AR_COUNT; i++)
        v->ar[i] &= vga_ar_mask[i];
    uint16_t *d = v->dispi;
    if (d[VBE_DISPI_INDEX_ID] < VBE_DISPI_ID0 || d[VBE_DISPI_INDEX_ID] > VBE_DISPI_ID5)
        d[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    if (d[VBE_DISPI_INDEX_XRES] > VBE_DISPI_MAX_XRES)
        d[VBE_DISPI_INDEX_XRES] = VBE_DISPI_MAX_XRES;
    if (d[VBE_DISPI_INDEX_YRES] > VBE_DISPI_MAX_YRES)
        d[VBE_DISPI_INDEX_YRES] = VBE_DISPI_MAX_YRES;
    if (!vga_dispi_bpp_valid(vga_dispi_bpp(v)))
        d[VBE_DISPI_INDEX_BPP] = 8;
    d[VBE_DISPI_INDEX_ENABLE] &= VGA_ENABLE_BITS;
    uint64_t span = vga_dispi_bpp(v) == 4 ? v->vram_size / 4 : v->vram_size;
    if (d[VBE_DISPI_INDEX_BANK] >= span / VBE_DISPI_BANK_SIZE)
        d[VBE_DISPI_INDEX_BANK] = 0;
    if (vga_dispi_line_bytes(vga_dispi_bpp(v), d[VBE_DISPI_INDEX_VIRT_WIDTH]) > v->vram_size)
        d[VBE_DISPI_INDEX_VIRT_WIDTH] = d[VBE_DISPI_INDEX_XRES];
    d[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = 0;
    /* Identity and BAR flag bits are not the stream's to change. */
    pci_config_set16(&v->pci, PCI_VENDOR_ID, VGA_PCI_VENDOR);
    pci_config_set16(&v->pci, PCI_DEVICE_ID, VGA_PCI_DEVICE);
    pci_config_set32(&v->pci, PCI_BASE_ADDRESS_0,
                     (pci_config_get32(&v->pci, PCI_BASE_ADDRESS_0) & VGA_BAR0_MASK) | VGA_BAR0_FLAGS);
    pci_config_set32(&v->pci, VGA_PCI_BAR2,
                     v->mmio_bus ? pci_config_get32(&v->pci, VGA_PCI_BAR2) & VGA_BAR2_MASK : 0);
    vga_update_bars(v);
}

static const struct vmstate_field vga_vmstate_fields[] = {
    VMSTATE_FIELD(struct vga, pci.config, 1),
    VMSTATE_FIELD(struct vga, misc, 1),
    VMSTATE_FIELD(struct vga, feature, 1),
    VMSTATE_FIELD(struct vga, vse, 1),
    VMSTATE_FIELD(struct vga, st01, 1),
    VMSTATE_FIELD(struct vga, sr_index, 1),
    VMSTATE_FIELD(struct vga, sr, 1),
    VMSTATE_FIELD(struct vga, gr_index, 1),
    VMSTATE_FIELD(struct vga, gr, 1),
    VMSTATE_FIELD(struct vga, cr_index, 1),
    VMSTATE_FIELD(struct vga, cr, 1),
    VMSTATE_FIELD(struct vga, ar_index, 1),
    VMSTATE_FIELD(struct vga, ar_flip, 1),
    VMSTATE_FIELD(struct vga, ar, 1),
    VMSTATE_FIELD(struct vga, pel_mask, 1),
    VMSTATE_FIELD(struct vga, dac_read_index, 1),
    VMSTATE_FIELD(struct vga, dac_write_index, 1),
    VMSTATE_FIELD(struct vga, dac_sub, 1),
    VMSTATE_FIELD(struct vga, dac_state, 1),
    VMSTATE_FIELD(struct vga, palette, 1),
    VMSTATE_FIELD(struct vga, latch, 1),
    VMSTATE_FIELD(struct vga, dispi_index, 1),
    VMSTATE_FIELD(struct vga, dispi, 1),
};

static const struct vmstate_desc vga_vmstate = {
    .name = "vga",
    .version = 1,
    .fields = vga_vmstate_fields,
    .nfields = sizeof(vga_vmstate_fields) / sizeof(vga_vmstate_fields[0]),
    .post_load = vga_post_load,
};

const struct device_ops vga_device_ops = {
    .name = "vga",
    .reset = vga_reset,
    .finalize = vga_finalize,
    .vmstate = &vga_vmstate,
    .size = sizeof(struct vga),
};

int vga_init(struct vga *v, struct bus *mmio_bus, vga_lfb_map_fn lfb_map, void *opaque,
             char *err, size_t errlen)
{
    memset(v, 0, sizeof(*v));
    v->vram_fd = -1;
    v->mmio_bus = mmio_bus;
    v->lfb_map = lfb_map;
    v->lfb_opaque = opaque;
    int fd = memfd_create("hostel-vram", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "Could not create the video memory (memfd_create: %s).", strerror(errno));
        return -1;
    }
    if (ftruncate(fd, VGA_VRAM_SIZE) < 0) {
        snprintf(err, errlen, "Could not size the video memory to %u MiB (%s).", VGA_VRAM_SIZE >> 20,
                 strerror(errno));
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, VGA_VRAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "Could not map the video memory (%s).", strerror(errno));
        close(fd);
        return -1;
    }
    v->vram = p;
    v->vram_fd = fd;
    v->vram_size = VGA_VRAM_SIZE;
    vga_reset(v);
    return 0;
}
