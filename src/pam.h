/* The firmware ROM and the i440FX's PAM decoding of 0xC0000-0xFFFFF.
 *
 * The ROM image sits just below 4 GiB (where the CPU fetches its first
 * instruction) and its last 128 KiB also appear at 0xE0000-0xFFFFF while
 * the PAM registers leave those segments to the ROM. Each of the 13 PAM
 * segments (Intel 82441FX datasheet, "PAM - Programmable Attribute Map
 * Registers") is RAM, read-only RAM, the ROM, or nothing, mapped as a KVM
 * memory slot wherever that can express it; what a slot cannot (writes to
 * read-only or ROM segments, and the write-only mode) exits to
 * pam_mmio_bus_ops.
 */
#ifndef HOSTEL_PAM_H
#define HOSTEL_PAM_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"

struct vm;

#define PAM_SEGMENTS 13
#define PAM_ROM_MAX (16u << 20)
#define PAM_ISA_BIOS_SIZE 0x20000u  /* the ROM's tail seen at 0xE0000 */

/* Segment access modes: bit 0 read enable, bit 1 write enable (to RAM). */
enum {
    PAM_MODE_ROM = 0,
    PAM_MODE_READ = 1,
    PAM_MODE_WRITE = 2,
    PAM_MODE_RAM = 3,
};

struct pam {
    struct vm *vm;
    uint8_t *rom;           /* page-aligned copy of the image, or NULL */
    size_t rom_size;
    uint8_t mode[PAM_SEGMENTS];
};

/* Is size right for a firmware image (a multiple of 64 KiB, at most
 * 16 MiB)? Returns 0, or -1 with a sentence naming the file in err. */
int pam_check_rom(const char *name, size_t size, char *err, size_t errlen);
/* Copy the firmware image and map it below 4 GiB. Returns 0, or -1 with a
 * sentence in err. */
int pam_load_rom(struct pam *pam, struct vm *vm, const uint8_t *image, size_t size, const char *name,
                 char *err, size_t errlen);
/* Without firmware: every segment stays plain RAM. */
void pam_init_ram(struct pam *pam, struct vm *vm);
void pam_destroy(struct pam *pam);

/* Apply the seven PAM registers (PAM0 at regs[0]). Returns 0, or -1 with a
 * sentence in err if KVM refused a mapping. */
int pam_update(struct pam *pam, const uint8_t regs[7], char *err, size_t errlen);

/* Segment i's base address and size. */
uint64_t pam_segment_base(unsigned i);
uint64_t pam_segment_size(unsigned i);

/* Map at VM_BIOS_AREA_START, length 0x40000, on the MMIO bus. */
extern const struct bus_ops pam_mmio_bus_ops;

#endif
