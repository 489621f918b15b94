#include "fwboot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Setup header fields (Documentation/x86/boot.rst, "The real-mode kernel
 * header"), as offsets into the bzImage. */
enum {
    HDR_SETUP_SECTS = 0x1f1,
    HDR_MAGIC = 0x202,
    HDR_VERSION = 0x206,
    HDR_TYPE_OF_LOADER = 0x210,
    HDR_LOADFLAGS = 0x211,
    HDR_RAMDISK_IMAGE = 0x218,
    HDR_RAMDISK_SIZE = 0x21c,
    HDR_HEAP_END_PTR = 0x224,
    HDR_CMD_LINE_PTR = 0x228,
    HDR_INITRD_ADDR_MAX = 0x22c,
    HDR_CMDLINE_SIZE = 0x238,
    LOADFLAGS_LOADED_HIGH = 0x01,
    LOADFLAGS_CAN_USE_HEAP = 0x80,
    LOADER_TYPE_UNDEFINED = 0xff,
};

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int add32(struct fw_cfg *fw, uint16_t key, uint32_t v)
{
    uint8_t le[4];
    put32(le, v);
    return fw_cfg_add(fw, key, le, sizeof(le));
}

int fwboot_check_linux(const uint8_t *kernel, size_t kernel_len, const char *cmdline, char *err, size_t errlen)
{
    if (kernel_len < 0x400 || memcmp(kernel + HDR_MAGIC, "HdrS", 4) != 0) {
        snprintf(err, errlen, "Only a Linux bzImage can boot through the firmware; leave out --firmware "
                 "to boot other kernels directly.");
        return -1;
    }
    uint16_t version = (uint16_t)(kernel[HDR_VERSION] | kernel[HDR_VERSION + 1] << 8);
    if (version < 0x202 || !(kernel[HDR_LOADFLAGS] & LOADFLAGS_LOADED_HIGH)) {
        snprintf(err, errlen, "This kernel uses boot protocol %u.%02u without loading high; booting it through "
                 "the firmware needs 2.02 or later.", version >> 8, version & 0xff);
        return -1;
    }
    size_t setup_len = ((size_t)(kernel[HDR_SETUP_SECTS] ? kernel[HDR_SETUP_SECTS] : 4) + 1) * 512;
    if (setup_len >= kernel_len || setup_len > FWBOOT_CMDLINE_ADDR - FWBOOT_SETUP_ADDR) {
        snprintf(err, errlen, "The kernel's setup code is larger than the kernel, or than 64 KiB; "
                 "it is not a bzImage this can boot.");
        return -1;
    }
    size_t cl_len = strlen(cmdline ? cmdline : "");
    uint32_t cl_max = version >= 0x206 ? get32(kernel + HDR_CMDLINE_SIZE) : 255;
    if (cl_len > cl_max || cl_len >= 0x10000) {
        snprintf(err, errlen, "The kernel command line is %zu bytes; this kernel takes at most %u.", cl_len, cl_max);
        return -1;
    }
    return 0;
}

int fwboot_add_linux(struct fw_cfg *fw, const uint8_t *kernel, size_t kernel_len, const uint8_t *initrd,
                     size_t initrd_len, const char *cmdline, uint64_t ram_below_4g, const uint8_t *rom,
                     size_t rom_len, char *err, size_t errlen)
{
    if (fwboot_check_linux(kernel, kernel_len, cmdline, err, errlen) < 0)
        return -1;
    uint16_t version = (uint16_t)(kernel[HDR_VERSION] | kernel[HDR_VERSION + 1] << 8);
    size_t setup_len = ((size_t)(kernel[HDR_SETUP_SECTS] ? kernel[HDR_SETUP_SECTS] : 4) + 1) * 512;
    const char *cl = cmdline ? cmdline : "";
    size_t cl_len = strlen(cl) + 1;
    /* The initrd goes as high as the kernel allows, below the end of low
     * RAM minus 1 MiB left for firmware tables, page-aligned. */
    uint32_t initrd_addr = 0;
    if (initrd && initrd_len) {
        uint64_t max = version >= 0x203 ? get32(kernel + HDR_INITRD_ADDR_MAX) : 0x37ffffffu;
        uint64_t top = ram_below_4g > (1u << 20) ? ram_below_4g - (1u << 20) : 0;
        if (max + 1 < top)
            top = max + 1;
        uint64_t kernel_end = FWBOOT_KERNEL_ADDR + (kernel_len - setup_len);
        if (initrd_len > top || ((top - initrd_len) & ~0xfffull) < kernel_end) {
            snprintf(err, errlen, "The initrd (%zu MiB) does not fit in guest memory below %llu MiB next to "
                     "the kernel; give the VM more --memory.", initrd_len >> 20, (unsigned long long)(top >> 20));
            return -1;
        }
        initrd_addr = (uint32_t)((top - initrd_len) & ~0xfffull);
    }

    uint8_t *setup = malloc(setup_len);
    if (!setup) {
        snprintf(err, errlen, "Out of memory.");
        return -1;
    }
    memcpy(setup, kernel, setup_len);
    setup[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
    setup[HDR_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
    /* The heap ends 512 bytes below the command line, relative to the setup. */
    put16(setup + HDR_HEAP_END_PTR, (uint16_t)(FWBOOT_CMDLINE_ADDR - FWBOOT_SETUP_ADDR - 0x200));
    put32(setup + HDR_CMD_LINE_PTR, FWBOOT_CMDLINE_ADDR);
    put32(setup + HDR_RAMDISK_IMAGE, initrd_addr);
    put32(setup + HDR_RAMDISK_SIZE, initrd_addr ? (uint32_t)initrd_len : 0);

    int rc = -1;
    if (add32(fw, FW_CFG_SETUP_ADDR, FWBOOT_SETUP_ADDR) == 0 &&
        add32(fw, FW_CFG_SETUP_SIZE, (uint32_t)setup_len) == 0 &&
        fw_cfg_add(fw, FW_CFG_SETUP_DATA, setup, (uint32_t)setup_len) == 0 &&
        add32(fw, FW_CFG_KERNEL_ADDR, FWBOOT_KERNEL_ADDR) == 0 &&
        add32(fw, FW_CFG_KERNEL_SIZE, (uint32_t)(kernel_len - setup_len)) == 0 &&
        fw_cfg_add(fw, FW_CFG_KERNEL_DATA, kernel + setup_len, (uint32_t)(kernel_len - setup_len)) == 0 &&
        add32(fw, FW_CFG_CMDLINE_ADDR, FWBOOT_CMDLINE_ADDR) == 0 &&
        add32(fw, FW_CFG_CMDLINE_SIZE, (uint32_t)cl_len) == 0 &&
        fw_cfg_add(fw, FW_CFG_CMDLINE_DATA, cl, (uint32_t)cl_len) == 0 &&
        add32(fw, FW_CFG_INITRD_ADDR, initrd_addr) == 0 &&
        add32(fw, FW_CFG_INITRD_SIZE, initrd_addr ? (uint32_t)initrd_len : 0) == 0 &&
        fw_cfg_add(fw, FW_CFG_INITRD_DATA, initrd_addr ? initrd : (const uint8_t *)"", initrd_addr ?
                   (uint32_t)initrd_len : 0) == 0 &&
        fw_cfg_add_file(fw, FWBOOT_ROM_NAME, rom, (uint32_t)rom_len) == 0)
        rc = 0;
    else
        snprintf(err, errlen, "Internal error: the kernel does not fit in the firmware configuration.");
    free(setup);
    return rc;
}
