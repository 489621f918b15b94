/* Standard VGA with the Bochs VBE "DISPI" extensions, as the PCI function
 * 1234:1111 (class 030000h) that SeaBIOS's vgabios-stdvga.bin drives.
 *
 * Video memory is a 16 MiB memfd. VGA planes are stored interleaved: byte
 * `offset` of plane p is vram[offset * 4 + p], so one 32-bit load fetches
 * the four planes (and the latches) at one address; the legacy modes use
 * the first 256 KiB. VBE packed-pixel modes see vram linearly, and the board
 * maps the same memory into the guest as the linear framebuffer (BAR0) with
 * a KVM memory slot, which is why it must be an mmap of a memfd.
 *
 * Wiring (the board, under the VM's device lock):
 *   I/O 0x3C0 len 32  vga_ioport_bus_ops   (0x3D4/0x3D5/0x3DA decode only in colour mode)
 *   I/O 0x3B0 len 16  vga_mono_bus_ops     (0x3B4/0x3B5/0x3BA decode only in mono mode)
 *   I/O 0x1CE len VGA_DISPI_IO_LEN (3)  vga_dispi_bus_ops  — 3, not 2: a 16-bit
 *       access to the data port 0x1CF covers 0x1CF-0x1D0, and the bus clips
 *       accesses at the end of a mapping.
 *   MMIO 0xA0000 len 0x20000  vga_mem_bus_ops
 *   PCI: pci_host_register(host, &vga->pci, slot, fn); BAR0 (16 MiB LFB) is
 *       reported through the lfb_map callback, BAR2 (4 KiB registers) is
 *       mapped by the device itself on the MMIO bus given to vga_init.
 * The legacy ranges decode regardless of the PCI command register, as on a
 * primary VGA, so a guest booted without firmware still reaches them.
 *
 * VRAM contents are NOT part of the vmstate (16 MiB): whoever snapshots the
 * VM must save vga->vram (the memfd) alongside guest RAM. The registers,
 * latches, palette, DISPI registers and PCI config space are in it.
 *
 * The board must vet the LFB address it is told about (a guest can program
 * BAR0 over RAM or other slots) and fail that slot quietly if it overlaps.
 */
#ifndef HOSTEL_VGA_H
#define HOSTEL_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "device.h"
#include "display.h"
#include "pci_device.h"

#define VGA_VRAM_SIZE (16u << 20)
#define VGA_PLANE_SIZE 0x10000u         /* one legacy plane: 64 KiB */
#define VGA_MEM_BASE 0xA0000u           /* legacy window */
#define VGA_MEM_SIZE 0x20000u
#define VGA_IOPORT_BASE 0x3C0u
#define VGA_IOPORT_LEN 32u
#define VGA_MONO_BASE 0x3B0u
#define VGA_MONO_LEN 16u
#define VGA_DISPI_IO_BASE 0x1CEu
#define VGA_DISPI_IO_LEN 3u
#define VGA_MMIO_BAR_SIZE 0x1000u       /* BAR2 */

#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
#define VGA_PCI_CLASS 0x030000          /* display controller, VGA compatible */
#define VGA_PCI_REVISION 0x02

#define VGA_SR_COUNT 8                  /* index is 3 bits; 0-4 exist */
#define VGA_GR_COUNT 16                 /* index is 4 bits; 0-8 exist */
#define VGA_CR_COUNT 0x19
#define VGA_AR_COUNT 0x15
#define VGA_PALETTE_BYTES 768

/* Bochs VBE DISPI registers (index at 0x1CE, data at 0x1CF). */
enum {
    VBE_DISPI_INDEX_ID = 0x0,
    VBE_DISPI_INDEX_XRES = 0x1,
    VBE_DISPI_INDEX_YRES = 0x2,
    VBE_DISPI_INDEX_BPP = 0x3,
    VBE_DISPI_INDEX_ENABLE = 0x4,
    VBE_DISPI_INDEX_BANK = 0x5,
    VBE_DISPI_INDEX_VIRT_WIDTH = 0x6,
    VBE_DISPI_INDEX_VIRT_HEIGHT = 0x7,
    VBE_DISPI_INDEX_X_OFFSET = 0x8,
    VBE_DISPI_INDEX_Y_OFFSET = 0x9,
    VBE_DISPI_INDEX_VIDEO_MEMORY_64K = 0xa,
    VBE_DISPI_NREGS = 0xb,

    VBE_DISPI_ID0 = 0xB0C0,
    VBE_DISPI_ID5 = 0xB0C5,

    VBE_DISPI_ENABLED = 0x01,
    VBE_DISPI_GETCAPS = 0x02,
    VBE_DISPI_8BIT_DAC = 0x20,
    VBE_DISPI_LFB_ENABLED = 0x40,
    VBE_DISPI_NOCLEARMEM = 0x80,

    VBE_DISPI_MAX_XRES = 2560,
    VBE_DISPI_MAX_YRES = 1600,
    VBE_DISPI_MAX_BPP = 32,
    VBE_DISPI_BANK_SIZE = 0x10000,
};

/* Called when the LFB (BAR0) appears at gpa (mapped) or goes away. A move
 * is reported as mapped=false at the old address, then mapped=true at the
 * new one. The board adds/removes a KVM memory slot over vga->vram. */
typedef void (*vga_lfb_map_fn)(void *opaque, uint64_t gpa, bool mapped);

struct vga {
    /* Wiring and host resources (not saved). */
    uint8_t *vram;
    int vram_fd;
    uint64_t vram_size;
    vga_lfb_map_fn lfb_map;
    void *lfb_opaque;
    struct bus *mmio_bus;       /* where BAR2 is mapped; NULL: no BAR2 */
    bool lfb_mapped;
    uint64_t lfb_gpa;
    bool bar2_mapped;
    uint64_t bar2_gpa;
    uint32_t frame;             /* renders so far: the text blink phase */
    uint32_t line[DISPLAY_MAX_WIDTH];   /* renderer scratch: one output row */
    uint32_t dac_rgb[256];      /* renderer scratch: DAC entries as XRGB */
    uint32_t ac_rgb[16];        /* renderer scratch: 4-bit values through the attribute palette */

    /* Saved state. */
    struct pci_device pci;
    uint8_t misc;               /* miscellaneous output */
    uint8_t feature;            /* feature control */
    uint8_t vse;                /* video subsystem enable (0x3C3) */
    uint8_t st01;               /* input status 1 retrace bits, toggled on read */
    uint8_t sr_index;
    uint8_t sr[VGA_SR_COUNT];
    uint8_t gr_index;
    uint8_t gr[VGA_GR_COUNT];
    uint8_t cr_index;
    uint8_t cr[VGA_CR_COUNT];
    uint8_t ar_index;           /* bits 0-4 index, bit 5 palette address source */
    uint8_t ar_flip;            /* 0: next 0x3C0 write is the index, 1: data */
    uint8_t ar[VGA_AR_COUNT];
    uint8_t pel_mask;
    uint8_t dac_read_index;
    uint8_t dac_write_index;
    uint8_t dac_sub;            /* 0-2: red, green, blue of the current entry */
    uint8_t dac_state;          /* 0x3C7 read: 0 after a write index, 3 after a read index */
    uint8_t palette[VGA_PALETTE_BYTES];
    uint32_t latch;             /* planes 0-3 in bytes 0-3 */
    uint16_t dispi_index;
    uint16_t dispi[VBE_DISPI_NREGS];
};

extern const struct device_ops vga_device_ops;
extern const struct bus_ops vga_ioport_bus_ops;     /* 0x3C0, len 32 */
extern const struct bus_ops vga_mono_bus_ops;       /* 0x3B0, len 16 */
extern const struct bus_ops vga_dispi_bus_ops;      /* 0x1CE, len 3 */
extern const struct bus_ops vga_mem_bus_ops;        /* 0xA0000, len 0x20000 */
extern const struct bus_ops vga_mmio_bus_ops;       /* BAR2, mapped by the device */

/* Allocate VRAM, set up the PCI function and put everything in its
 * power-on state. mmio_bus (may be NULL) is where the device maps BAR2;
 * lfb_map (may be NULL) is told about BAR0. Returns 0, or -1 with a
 * sentence in err. vga must not move afterwards (the PCI hooks point to it).
 * Before vga_device_ops.finalize the board must remove its LFB memory slot:
 * finalize unmaps the VRAM it points to. */
int vga_init(struct vga *vga, struct bus *mmio_bus, vga_lfb_map_fn lfb_map, void *opaque,
             char *err, size_t errlen);

/* Render the current mode into the display, marking only what changed
 * since the previous render. Called from the main loop at ~30 Hz with the
 * device lock held (it reads the registers; it never blocks). */
void vga_render(struct vga *vga, struct display *d);

/* The size in pixels of what vga_render draws for the current mode. */
void vga_screen_size(const struct vga *vga, unsigned *width, unsigned *height);

/* The text-mode screen as rows of text, one '\n'-terminated line per row of
 * exactly `columns` characters (CP437 printable ASCII as is, blank cells as
 * spaces, anything else '?'), NUL-terminated and truncated to cap. Returns
 * the length written (without the NUL), or -1 when not in a text mode. */
int vga_screen_text(struct vga *vga, char *buf, size_t cap);

/* Memory window accesses (vga_mem.c), also used by the bus ops. offset is
 * relative to 0xA0000. */
uint8_t vga_mem_readb(struct vga *vga, uint64_t offset);
void vga_mem_writeb(struct vga *vga, uint64_t offset, uint8_t value);

/* True when the DISPI interface is enabled (a VBE mode is set). */
bool vga_dispi_enabled(const struct vga *vga);
/* Bits per pixel of the VBE mode (0 in the register reads as 8). */
unsigned vga_dispi_bpp(const struct vga *vga);

/* Register indices and bits, from the IBM VGA Technical Reference
 * ("Sequencer Registers", "CRT Controller Registers", "Graphics Controller
 * Registers", "Attribute Controller Registers"), as FreeVGA lays them out. */
enum {
    VGA_MISC_IOAS = 0x01,       /* 1: CRTC at 0x3Dx, 0: at 0x3Bx */

    VGA_SR_RESET = 0x00,
    VGA_SR_CLOCKING = 0x01,
    VGA_SR_MAP_MASK = 0x02,
    VGA_SR_CHARMAP = 0x03,
    VGA_SR_MEMMODE = 0x04,
    VGA_SR01_8DOT = 0x01,       /* 8-dot characters (else 9) */
    VGA_SR01_DOT_HALF = 0x08,   /* dot clock / 2: each pixel twice as wide */
    VGA_SR01_SCREEN_OFF = 0x20,
    VGA_SR04_EXT_MEM = 0x02,
    VGA_SR04_SEQUENTIAL = 0x04, /* odd/even host addressing disabled */
    VGA_SR04_CHAIN4 = 0x08,

    VGA_GR_SET_RESET = 0x00,
    VGA_GR_ENABLE_SET_RESET = 0x01,
    VGA_GR_COLOR_COMPARE = 0x02,
    VGA_GR_ROTATE = 0x03,
    VGA_GR_READ_MAP = 0x04,
    VGA_GR_MODE = 0x05,
    VGA_GR_MISC = 0x06,
    VGA_GR_DONT_CARE = 0x07,
    VGA_GR_BIT_MASK = 0x08,
    VGA_GR05_READ_MODE1 = 0x08,
    VGA_GR05_HOST_OE = 0x10,
    VGA_GR05_INTERLEAVE = 0x20, /* CGA 4-colour shift register format */
    VGA_GR05_256 = 0x40,
    VGA_GR06_GRAPHICS = 0x01,

    VGA_CR_HDISP_END = 0x01,
    VGA_CR_OVERFLOW = 0x07,
    VGA_CR_PRESET_ROW = 0x08,
    VGA_CR_MAX_SCAN = 0x09,
    VGA_CR_CURSOR_START = 0x0a,
    VGA_CR_CURSOR_END = 0x0b,
    VGA_CR_START_HI = 0x0c,
    VGA_CR_START_LO = 0x0d,
    VGA_CR_CURSOR_HI = 0x0e,
    VGA_CR_CURSOR_LO = 0x0f,
    VGA_CR_VRETRACE_END = 0x11,
    VGA_CR_VDISP_END = 0x12,
    VGA_CR_OFFSET = 0x13,
    VGA_CR_UNDERLINE = 0x14,
    VGA_CR_MODE = 0x17,
    VGA_CR_LINE_COMPARE = 0x18,
    VGA_CR11_PROTECT = 0x80,
    VGA_CR14_DWORD = 0x40,
    VGA_CR14_COUNT4 = 0x20,
    VGA_CR17_CMS = 0x01,        /* 0: row scan bit 0 on address bit 13 */
    VGA_CR17_SRS = 0x02,        /* 0: row scan bit 1 on address bit 14 */
    VGA_CR17_COUNT2 = 0x08,
    VGA_CR17_ADDR_WRAP = 0x20,  /* word mode: 1 puts MA15 on bit 0, 0 puts MA13 */
    VGA_CR17_BYTE_MODE = 0x40,

    VGA_AR_MODE = 0x10,
    VGA_AR_OVERSCAN = 0x11,
    VGA_AR_PLANE_ENABLE = 0x12,
    VGA_AR_PANNING = 0x13,
    VGA_AR_COLOR_SELECT = 0x14,
    VGA_AR_INDEX_PAS = 0x20,    /* palette address source: display on */
    VGA_AR10_GRAPHICS = 0x01,
    VGA_AR10_MONO = 0x02,
    VGA_AR10_LINE_GFX = 0x04,
    VGA_AR10_BLINK = 0x08,
    VGA_AR10_8BIT = 0x40,
    VGA_AR10_P54S = 0x80,

    VGA_ST01_DISP_DISABLED = 0x01, /* in horizontal or vertical blanking */
    VGA_ST01_VRETRACE = 0x08,
};

#endif
