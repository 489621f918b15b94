/* Kernel image loaders: put a kernel into guest RAM and build the
 * information structure its boot protocol hands it.
 *
 * Supported images:
 *  - bzImage (Linux boot protocol >= 2.08). The payload is decompressed here
 *    (gzip, xz, lzma, lz4, zstd or uncompressed) and its vmlinux ELF loaded at
 *    its physical addresses, so the vCPU can start straight at startup_64.
 *    Payloads compressed with bzip2 or lzo fall back to BOOT_LINUX32, which
 *    lets the kernel's own decompressor run.
 *  - ELF vmlinux (ELF64 x86-64, or ELF32/ELF64 with a PVH note).
 *  - Multiboot v1 kernels (ELF or a.out kludge).
 *
 * Every function returns 0, or -1 with one sentence in err that tells the
 * user what to do. Nothing here keeps state between calls. */
#ifndef HOSTEL_LOADER_H
#define HOSTEL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memory.h"

/* How the vCPU must be started. */
enum boot_kind {
    /* Only as a request to loader_load_kernel: pick the best protocol. */
    BOOT_AUTO = 0,
    /* Linux 64-bit boot protocol: long mode, identity-mapped paging, flat
     * segments, RSI = zero page (loader_build_zero_page), RIP = entry. */
    BOOT_LINUX64,
    /* Linux 32-bit boot protocol: protected mode without paging, flat
     * segments with __BOOT_CS 0x10 / __BOOT_DS 0x18, ESI = zero page,
     * EIP = entry (code32_start); the kernel decompresses itself. */
    BOOT_LINUX32,
    /* PVH (Xen's direct boot ABI): protected mode without paging, flat
     * segments, EBX = hvm_start_info (loader_build_pvh_start_info),
     * EIP = entry from the XEN_ELFNOTE_PHYS32_ENTRY note. */
    BOOT_PVH,
    /* Multiboot v1: protected mode without paging, flat segments,
     * EAX = 0x2BADB002, EBX = info (loader_build_multiboot_info). */
    BOOT_MULTIBOOT,
};

#define LOADER_MULTIBOOT_EAX 0x2BADB002u

/* E820 memory types (also used by the PVH memmap and multiboot mmap). */
#define E820_RAM 1u
#define E820_RESERVED 2u
#define E820_ACPI 3u
#define E820_NVS 4u
#define E820_UNUSABLE 5u

struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

/* The Linux setup header lives at 0x1f1..0x290 of both the bzImage and the
 * zero page (struct setup_header plus the padding the kernel reserves). */
#define LOADER_SETUP_HEADER_OFFSET 0x1f1
#define LOADER_SETUP_HEADER_MAX (0x290 - 0x1f1)

struct boot_image {
    enum boot_kind kind;
    uint64_t entry;              /* guest-physical entry point */
    uint64_t load_start;         /* guest-physical range the kernel occupies, */
    uint64_t load_end;           /* end exclusive; boot data must stay out of it */
    bool from_bzimage;
    /* "gzip", "xz", "lzma", "lz4", "zstd", "bzip2", "lzo" or "none"
     * (a static string; "none" also for ELF and multiboot images). */
    const char *compression;
    /* Linux only: setup header bytes for zero page offset 0x1f1 (copied from
     * the bzImage, or synthesized for a bare vmlinux). */
    uint8_t setup_header[LOADER_SETUP_HEADER_MAX];
    size_t setup_header_len;
    uint16_t protocol;           /* Linux boot protocol version, e.g. 0x020f */
    /* What the image offers, whichever kind was chosen. */
    bool has_pvh_entry;
    uint32_t pvh_entry;
    bool has_multiboot;
    uint32_t multiboot_flags;
};

/* What the guest gets told at boot. */
struct boot_config {
    const char *cmdline;          /* NULL means empty */
    uint64_t initrd_addr;         /* from loader_place_initrd */
    uint64_t initrd_size;         /* 0 = no initrd / module */
    const char *initrd_cmdline;   /* multiboot module string / PVH module cmdline; may be NULL */
    const struct e820_entry *e820;
    unsigned e820_count;
    uint64_t acpi_rsdp;           /* 0 = the guest scans for it */
};

/* Detect the format of file (bzImage, ELF, multiboot), load it into guest
 * RAM and describe it in *img. want is BOOT_AUTO or a protocol the caller
 * insists on; an image that cannot be started that way is an error (never
 * a silent switch). BOOT_AUTO picks:
 *   bzImage                        -> LINUX64 (decompressed here), or LINUX32
 *                                     for 32-bit kernels and bzip2/lzo payloads
 *   ELF with a multiboot header    -> MULTIBOOT
 *   ELF64 x86-64 vmlinux           -> LINUX64 (PVH only if the file has a PVH
 *                                     note but no "Linux" note, i.e. is not Linux)
 *   other ELF with a PVH note      -> PVH
 *   a.out-kludge multiboot         -> MULTIBOOT
 * Guest RAM is written only once the whole image has been validated; on
 * failure *img is zeroed. A bzImage payload is decompressed into a bounded
 * host buffer (at most init_size, never over 512 MiB). */
int loader_load_kernel(const struct guest_mem *mem, const uint8_t *file, size_t len,
                       enum boot_kind want, struct boot_image *img, char *err, size_t errlen);

/* Copy an initrd (or multiboot module) into RAM at the highest 4 KiB-aligned
 * address that lies above the kernel, below the low RAM end, below the
 * kernel's initrd_addr_max (Linux) or 4 GiB, and below limit (0 = no extra
 * limit; use it to keep room for boot data at the top of RAM). */
int loader_place_initrd(const struct guest_mem *mem, const struct boot_image *img,
                        const uint8_t *initrd, size_t len, uint64_t limit,
                        uint64_t *gpa, char *err, size_t errlen);

/* The three builders below lay their structure out at area_gpa and put the
 * pieces it points to (command line, module list, memory map) after it,
 * all within [area_gpa, area_gpa + area_size), which must be RAM and must
 * not overlap the kernel. The vCPU register then gets area_gpa. */

/* Linux zero page (struct boot_params, 4 KiB) for BOOT_LINUX64/LINUX32,
 * command line at area_gpa + 4096. area_gpa should be 4 KiB-aligned. */
int loader_build_zero_page(const struct guest_mem *mem, const struct boot_image *img,
                           const struct boot_config *cfg, uint64_t area_gpa, uint64_t area_size,
                           char *err, size_t errlen);

/* PVH struct hvm_start_info (version 1) with module list and memory map. */
int loader_build_pvh_start_info(const struct guest_mem *mem, const struct boot_image *img,
                                const struct boot_config *cfg, uint64_t area_gpa,
                                uint64_t area_size, char *err, size_t errlen);

/* Multiboot v1 information structure: memory sizes, command line, the
 * initrd as the only module, memory map, boot loader name "hostel".
 * Everything must lie below 4 GiB. */
int loader_build_multiboot_info(const struct guest_mem *mem, const struct boot_image *img,
                                const struct boot_config *cfg, uint64_t area_gpa,
                                uint64_t area_size, char *err, size_t errlen);

/* "linux64", "linux32", "pvh", "multiboot" or "auto". */
const char *loader_boot_kind_name(enum boot_kind kind);

#endif
