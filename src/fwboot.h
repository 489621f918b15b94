/* Booting a Linux kernel given on the command line through the firmware:
 * the kernel, initrd and command line go into fw_cfg items, and an option
 * ROM (QEMU's linuxboot_dma.bin, from Debian's qemu-system-data) that
 * SeaBIOS runs as a boot device copies them into place and enters the
 * kernel's real-mode setup code, as a boot loader would. */
#ifndef HOSTEL_FWBOOT_H
#define HOSTEL_FWBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "fw_cfg.h"

/* Where the parts go (boot protocol 2.02+, "loaded high" kernels). */
#define FWBOOT_SETUP_ADDR 0x10000u
#define FWBOOT_CMDLINE_ADDR 0x20000u
#define FWBOOT_KERNEL_ADDR 0x100000u
/* The bootorder entry that makes SeaBIOS boot the option ROM first. */
#define FWBOOT_ROM_NAME "genroms/linuxboot_dma.bin"

/* fw_cfg items of the linuxboot protocol. */
enum {
    FW_CFG_KERNEL_ADDR = 0x07,
    FW_CFG_KERNEL_SIZE = 0x08,
    FW_CFG_INITRD_ADDR = 0x0a,
    FW_CFG_INITRD_SIZE = 0x0b,
    FW_CFG_KERNEL_DATA = 0x11,
    FW_CFG_INITRD_DATA = 0x12,
    FW_CFG_CMDLINE_ADDR = 0x13,
    FW_CFG_CMDLINE_SIZE = 0x14,
    FW_CFG_CMDLINE_DATA = 0x15,
    FW_CFG_SETUP_ADDR = 0x16,
    FW_CFG_SETUP_SIZE = 0x17,
    FW_CFG_SETUP_DATA = 0x18,
};

/* Can kernel boot this way with cmdline? Returns 0, or -1 with a sentence
 * in err. */
int fwboot_check_linux(const uint8_t *kernel, size_t kernel_len, const char *cmdline, char *err, size_t errlen);

/* Check that kernel is a bzImage this path can boot (boot protocol 2.02
 * or later, loaded high) and add the items, the patched setup header and
 * the option ROM (rom, rom_len). ram_below_4g bounds the initrd. Returns 0,
 * or -1 with a sentence in err. */
int fwboot_add_linux(struct fw_cfg *fw, const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd,
                     size_t initrd_len, const char *cmdline, uint64_t ram_below_4g, const uint8_t *rom,
                     size_t rom_len, char *err, size_t errlen);

#endif
