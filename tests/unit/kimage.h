/* Kernel images built in memory for the loader tests: a growable byte
 * buffer, an ELF32/ELF64 writer with PVH and Linux notes, a fake bzImage
 * around any payload, the kernel build's compressors, multiboot headers. */
#ifndef HOSTEL_TEST_KIMAGE_H
#define HOSTEL_TEST_KIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kimage_buf {
    uint8_t *p;
    size_t len, cap;
};

void kimage_buf_reserve(struct kimage_buf *b, size_t n);
/* Append n bytes of d (zeros if d is NULL); returns their offset. */
size_t kimage_buf_put(struct kimage_buf *b, const void *d, size_t n);
void kimage_buf_align(struct kimage_buf *b, size_t a);
void kimage_buf_put32(struct kimage_buf *b, uint32_t v);
void kimage_buf_free(struct kimage_buf *b);

struct kimage_seg {
    uint64_t paddr, vaddr, memsz;
    const uint8_t *data;
    uint64_t filesz;
};

struct kimage_elf {
    bool is64;
    uint16_t machine, type;     /* type 0 means ET_EXEC */
    uint64_t entry;
    struct kimage_seg seg[4];
    unsigned nseg;
    unsigned pvh_descsz;        /* 0: no PVH note */
    uint64_t pvh_entry;
    bool linux_note;
    bool notes_as_section;      /* SHT_NOTE section instead of PT_NOTE */
    size_t trailer;             /* unloaded bytes at the end, like vmlinux.relocs */
};

/* Layout: ELF header, program headers, notes, segments, sections, trailer. */
void kimage_build_elf(struct kimage_buf *out, const struct kimage_elf *t);

/* A bzImage with KIMAGE_BZ_SETUP_SECTS setup sectors, a KIMAGE_BZ_STUB-byte
 * stand-in for the decompressor, then the payload, then a fake signature. */
#define KIMAGE_BZ_SETUP_SECTS 3
#define KIMAGE_BZ_PM_OFF ((KIMAGE_BZ_SETUP_SECTS + 1) * 512)
#define KIMAGE_BZ_STUB 0x200
void kimage_bzimage(struct kimage_buf *out, const uint8_t *payload, size_t plen, uint16_t version,
                    uint16_t xlf, uint32_t init_size, uint32_t initrd_max);

/* Compress like the kernel build: fmt is gzip, xz, lzma, lz4 (legacy
 * frame), zstd, none, or bzip2/lzo (only a header: Hostel only detects them). */
void kimage_compress(const char *fmt, const uint8_t *in, size_t n, struct kimage_buf *out);

/* A multiboot v1 header at p with a correct checksum (32 bytes if flag 16). */
void kimage_mb_header(uint8_t *p, uint32_t flags, uint32_t header_addr, uint32_t load_addr,
                      uint32_t load_end, uint32_t bss_end, uint32_t entry);

#endif
