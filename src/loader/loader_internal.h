/* Shared between the loader's files; not for the rest of Hostel.
 * (Unit tests include it to reach the decompressor directly.) */
#ifndef HOSTEL_LOADER_INTERNAL_H
#define HOSTEL_LOADER_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"

/* Image files are little-endian byte streams; read them bytewise so an
 * unaligned or truncated field can never fault. Callers bound-check first. */
static inline uint16_t loader_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t loader_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t loader_get64(const uint8_t *p)
{
    return (uint64_t)loader_get32(p) | ((uint64_t)loader_get32(p + 4) << 32);
}

static inline void loader_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void loader_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void loader_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* [off, off + size) lies within [0, total), without overflowing. */
static inline bool loader_range_ok(uint64_t off, uint64_t size, uint64_t total)
{
    return off <= total && size <= total - off;
}

/* Write a sentence into err and return -1. */
int loader_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Check that [start, start + size) is guest RAM; if not, say why in a
 * sentence that starts with what ("The kernel"). */
int loader_check_ram(const struct guest_mem *mem, uint64_t start, uint64_t size, const char *what,
                     char *err, size_t errlen);

/* Setup header offsets (absolute, as in the bzImage and the zero page;
 * Documentation/x86/boot.rst, "The real-mode kernel header"). */
#define SETUP_SETUP_SECTS 0x1f1
#define SETUP_SYSSIZE 0x1f4
#define SETUP_BOOT_FLAG 0x1fe
#define SETUP_JUMP 0x200
#define SETUP_HEADER 0x202
#define SETUP_VERSION 0x206
#define SETUP_TYPE_OF_LOADER 0x210
#define SETUP_LOADFLAGS 0x211
#define SETUP_CODE32_START 0x214
#define SETUP_RAMDISK_IMAGE 0x218
#define SETUP_RAMDISK_SIZE 0x21c
#define SETUP_CMD_LINE_PTR 0x228
#define SETUP_INITRD_ADDR_MAX 0x22c
#define SETUP_KERNEL_ALIGNMENT 0x230
#define SETUP_RELOCATABLE 0x234
#define SETUP_XLOADFLAGS 0x236
#define SETUP_CMDLINE_SIZE 0x238
#define SETUP_PAYLOAD_OFFSET 0x248
#define SETUP_PAYLOAD_LENGTH 0x24c
#define SETUP_PREF_ADDRESS 0x258
#define SETUP_INIT_SIZE 0x260
#define SETUP_KERNEL_INFO_OFFSET 0x268
#define SETUP_HEADER_END_V215 0x26c

#define LOADFLAGS_LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02

/* A setup header field of img, by its absolute zero-page offset. */
static inline uint8_t *loader_setup_field(struct boot_image *img, unsigned off)
{
    return img->setup_header + (off - LOADER_SETUP_HEADER_OFFSET);
}

static inline const uint8_t *loader_setup_field_const(const struct boot_image *img, unsigned off)
{
    return img->setup_header + (off - LOADER_SETUP_HEADER_OFFSET);
}

/* Fill img->setup_header for a bare vmlinux, which has none of its own. */
void loader_synth_setup_header(struct boot_image *img);

/* ---- elf.c ---- */

struct elf_image {
    bool is64;
    uint16_t machine;            /* EM_386 or EM_X86_64 */
    bool entry_valid;            /* e_entry maps into a loaded segment */
    uint64_t entry;              /* e_entry as a physical address */
    uint64_t load_start, load_end;
    bool has_pvh;                /* a usable XEN_ELFNOTE_PHYS32_ENTRY */
    bool pvh_malformed;          /* a PVH note exists but cannot be used */
    uint32_t pvh_entry;
    bool has_linux_note;         /* a "Linux" ELF note: this is a vmlinux */
};

#define ELF_EM_386 3
#define ELF_EM_X86_64 62

bool elf_is_elf(const uint8_t *file, size_t len);

/* Validate an ELF file and every segment's place in guest RAM; writes
 * nothing, so the caller can still refuse the image. */
int elf_parse(const struct guest_mem *mem, const uint8_t *file, size_t len, struct elf_image *out,
              char *err, size_t errlen);

/* Copy the PT_LOAD segments of a file elf_parse accepted, zeroing bss. */
void elf_copy(const struct guest_mem *mem, const uint8_t *file, size_t len);

/* ---- bzimage.c ---- */

bool bzimage_is_bzimage(const uint8_t *file, size_t len);
int bzimage_load(const struct guest_mem *mem, const uint8_t *file, size_t len, enum boot_kind want,
                 struct boot_image *img, char *err, size_t errlen);

/* ---- multiboot.c ---- */

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT_SEARCH_LIMIT 8192
#define MULTIBOOT_PAGE_ALIGN (1u << 0)
#define MULTIBOOT_MEMORY_INFO (1u << 1)
#define MULTIBOOT_VIDEO_MODE (1u << 2)
#define MULTIBOOT_AOUT_KLUDGE (1u << 16)

struct multiboot_header {
    size_t offset;               /* of the magic within the file */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* 1: found a valid header; 0: none; -1: a magic with a bad checksum or cut off. */
int multiboot_find_header(const uint8_t *file, size_t len, struct multiboot_header *hdr);
int multiboot_load(const struct guest_mem *mem, const uint8_t *file, size_t len,
                   const struct multiboot_header *hdr, struct boot_image *img, char *err,
                   size_t errlen);

/* ---- decompress.c ---- */

/* Upper bound on any decompressed kernel, whatever its header claims. */
#define DECOMPRESS_MAX_OUT (512ull << 20)

/* Name of the compression format data starts with ("gzip", "xz", "lzma",
 * "lz4", "zstd", "bzip2", "lzo", or "none" for an ELF), NULL if unknown.
 * *supported says whether decompress_buffer can undo it. */
const char *decompress_detect(const uint8_t *data, size_t len, bool *supported);

/* Decompress data into a malloc'd buffer of at most max_out bytes; trailing
 * bytes after the compressed stream (the kernel's appended size) are
 * ignored. "none" data is copied. */
int decompress_buffer(const uint8_t *data, size_t len, size_t max_out, uint8_t **out,
                      size_t *out_len, char *err, size_t errlen);

#endif
