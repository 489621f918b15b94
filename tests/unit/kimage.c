/* Kernel images for the loader tests; see kimage.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "kimage.h"
#include "loader/loader_internal.h"

/* ---- buffer ---- */

void kimage_buf_reserve(struct kimage_buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    size_t c = b->cap ? b->cap : 4096;
    while (c < b->len + n)
        c *= 2;
    b->p = realloc(b->p, c);
    assert_non_null(b->p);
    b->cap = c;
}

size_t kimage_buf_put(struct kimage_buf *b, const void *d, size_t n)
{
    kimage_buf_reserve(b, n);
    if (d)
        memcpy(b->p + b->len, d, n);
    else
        memset(b->p + b->len, 0, n);
    size_t off = b->len;
    b->len += n;
    return off;
}

void kimage_buf_align(struct kimage_buf *b, size_t a)
{
    while (b->len % a)
        kimage_buf_put(b, NULL, 1);
}

void kimage_buf_put32(struct kimage_buf *b, uint32_t v)
{
    uint8_t t[4];
    loader_put32(t, v);
    kimage_buf_put(b, t, 4);
}

void kimage_buf_free(struct kimage_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---- ELF ---- */

static void kimage_put_phdr(uint8_t *p, bool is64, uint32_t type, uint64_t off, uint64_t vaddr,
                            uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t align)
{
    loader_put32(p, type);
    if (is64) {
        loader_put32(p + 4, 5);
        loader_put64(p + 8, off);
        loader_put64(p + 16, vaddr);
        loader_put64(p + 24, paddr);
        loader_put64(p + 32, filesz);
        loader_put64(p + 40, memsz);
        loader_put64(p + 48, align);
    } else {
        loader_put32(p + 4, (uint32_t)off);
        loader_put32(p + 8, (uint32_t)vaddr);
        loader_put32(p + 12, (uint32_t)paddr);
        loader_put32(p + 16, (uint32_t)filesz);
        loader_put32(p + 20, (uint32_t)memsz);
        loader_put32(p + 24, 5);
        loader_put32(p + 28, (uint32_t)align);
    }
}

static void kimage_build_notes(struct kimage_buf *n, const struct kimage_elf *t)
{
    if (t->pvh_descsz) {
        kimage_buf_put32(n, 4);
        kimage_buf_put32(n, t->pvh_descsz);
        kimage_buf_put32(n, 18);   /* XEN_ELFNOTE_PHYS32_ENTRY */
        kimage_buf_put(n, "Xen", 4);
        uint8_t d[16] = { 0 };
        loader_put64(d, t->pvh_entry);
        kimage_buf_put(n, d, t->pvh_descsz);
        kimage_buf_align(n, 4);
    }
    if (t->linux_note) {
        kimage_buf_put32(n, 6);
        kimage_buf_put32(n, 4);
        kimage_buf_put32(n, 0x100);
        kimage_buf_put(n, "Linux\0\0", 8);
        kimage_buf_put32(n, 0x12345678);
    }
}

void kimage_build_elf(struct kimage_buf *out, const struct kimage_elf *t)
{
    size_t ehsz = t->is64 ? 64 : 52, phsz = t->is64 ? 56 : 32, shsz = t->is64 ? 64 : 40;
    struct kimage_buf notes = { 0 };
    kimage_build_notes(&notes, t);
    bool pt_note = notes.len && !t->notes_as_section;
    unsigned phnum = t->nseg + pt_note;
    out->len = 0;
    kimage_buf_put(out, NULL, ehsz + phnum * phsz);
    size_t note_off = 0, seg_off[4], shoff = 0;
    if (notes.len) {
        kimage_buf_align(out, 4);
        note_off = kimage_buf_put(out, notes.p, notes.len);
    }
    for (unsigned i = 0; i < t->nseg; i++) {
        kimage_buf_align(out, 16);
        seg_off[i] = kimage_buf_put(out, t->seg[i].data, t->seg[i].filesz);
    }
    if (notes.len && t->notes_as_section) {
        kimage_buf_align(out, 8);
        shoff = kimage_buf_put(out, NULL, 2 * shsz);
        uint8_t *s = out->p + shoff + shsz;
        loader_put32(s + 4, 7);   /* SHT_NOTE */
        if (t->is64) {
            loader_put64(s + 24, note_off);
            loader_put64(s + 32, notes.len);
            loader_put64(s + 48, 4);
        } else {
            loader_put32(s + 16, (uint32_t)note_off);
            loader_put32(s + 20, (uint32_t)notes.len);
            loader_put32(s + 32, 4);
        }
    }
    for (size_t i = 0; i < t->trailer; i++) {
        uint8_t v = (uint8_t)(0x5a ^ i);
        kimage_buf_put(out, &v, 1);
    }
    uint8_t *h = out->p;
    memcpy(h, "\x7f" "ELF", 4);
    h[4] = t->is64 ? 2 : 1;
    h[5] = 1;
    h[6] = 1;
    loader_put16(h + 16, t->type ? t->type : 2);
    loader_put16(h + 18, t->machine);
    loader_put32(h + 20, 1);
    if (t->is64) {
        loader_put64(h + 24, t->entry);
        loader_put64(h + 32, ehsz);
        loader_put64(h + 40, shoff);
        loader_put16(h + 52, (uint16_t)ehsz);
        loader_put16(h + 54, (uint16_t)phsz);
        loader_put16(h + 56, (uint16_t)phnum);
        loader_put16(h + 58, (uint16_t)shsz);
        loader_put16(h + 60, shoff ? 2 : 0);
    } else {
        loader_put32(h + 24, (uint32_t)t->entry);
        loader_put32(h + 28, (uint32_t)ehsz);
        loader_put32(h + 32, (uint32_t)shoff);
        loader_put16(h + 40, (uint16_t)ehsz);
        loader_put16(h + 42, (uint16_t)phsz);
        loader_put16(h + 44, (uint16_t)phnum);
        loader_put16(h + 46, (uint16_t)shsz);
        loader_put16(h + 48, shoff ? 2 : 0);
    }
    for (unsigned i = 0; i < t->nseg; i++)
        kimage_put_phdr(h + ehsz + i * phsz, t->is64, 1, seg_off[i], t->seg[i].vaddr, t->seg[i].paddr,
                        t->seg[i].filesz, t->seg[i].memsz, 0x1000);
    if (pt_note)
        kimage_put_phdr(h + ehsz + t->nseg * phsz, t->is64, 4, note_off, 0, 0, notes.len, notes.len, 4);
    kimage_buf_free(&notes);
}

/* ---- bzImage ---- */

void kimage_bzimage(struct kimage_buf *out, const uint8_t *payload, size_t plen, uint16_t version,
                    uint16_t xlf, uint32_t init_size, uint32_t initrd_max)
{
    out->len = 0;
    kimage_buf_put(out, NULL, KIMAGE_BZ_PM_OFF);
    uint8_t stub[KIMAGE_BZ_STUB];
    for (size_t i = 0; i < sizeof(stub); i++)
        stub[i] = (uint8_t)(0x90 ^ i);
    kimage_buf_put(out, stub, sizeof(stub));
    kimage_buf_put(out, payload, plen);
    kimage_buf_align(out, 16);
    size_t pm_len = out->len - KIMAGE_BZ_PM_OFF;
    kimage_buf_put(out, "signature-like trailer", 22);
    uint8_t *f = out->p;
    f[0] = 'M';
    f[1] = 'Z';
    f[0x1f1] = KIMAGE_BZ_SETUP_SECTS;
    loader_put32(f + 0x1f4, (uint32_t)(pm_len / 16));
    loader_put16(f + 0x1fe, 0xaa55);
    f[0x200] = 0xeb;
    f[0x201] = 0x6a;
    memcpy(f + 0x202, "HdrS", 4);
    loader_put16(f + 0x206, version);
    f[0x211] = 0x01;
    loader_put32(f + 0x214, 0x100000);
    loader_put32(f + 0x22c, initrd_max);
    loader_put32(f + 0x230, 0x200000);
    f[0x234] = 1;
    loader_put16(f + 0x236, xlf);
    loader_put32(f + 0x238, 2047);
    loader_put32(f + 0x248, KIMAGE_BZ_STUB);
    loader_put32(f + 0x24c, (uint32_t)plen);
    loader_put64(f + 0x258, 0x1000000);
    loader_put32(f + 0x260, init_size);
}

static void kimage_append_size(struct kimage_buf *out, size_t n)
{
    kimage_buf_put32(out, (uint32_t)n);
}

/* Compress the way the kernel build does, size appended for all but gzip. */
void kimage_compress(const char *fmt, const uint8_t *in, size_t n, struct kimage_buf *out)
{
    out->len = 0;
    if (strcmp(fmt, "gzip") == 0) {
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
        kimage_buf_reserve(out, deflateBound(&zs, n));
        zs.next_in = (Bytef *)in;
        zs.avail_in = (uInt)n;
        zs.next_out = out->p;
        zs.avail_out = (uInt)out->cap;
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        out->len = zs.total_out;
        deflateEnd(&zs);
    } else if (strcmp(fmt, "xz") == 0) {
        lzma_options_lzma opt;
        assert_false(lzma_lzma_preset(&opt, 6));
        lzma_filter f[] = { { LZMA_FILTER_X86, NULL }, { LZMA_FILTER_LZMA2, &opt },
                            { LZMA_VLI_UNKNOWN, NULL } };
        kimage_buf_reserve(out, n + n / 2 + 4096);
        size_t pos = 0;
        assert_int_equal(lzma_stream_buffer_encode(f, LZMA_CHECK_CRC32, NULL, in, n, out->p, &pos, out->cap),
                         LZMA_OK);
        out->len = pos;
        kimage_append_size(out, n);
    } else if (strcmp(fmt, "lzma") == 0) {
        lzma_options_lzma opt;
        assert_false(lzma_lzma_preset(&opt, 6));
        lzma_stream s = LZMA_STREAM_INIT;
        assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
        kimage_buf_reserve(out, n + n / 2 + 4096);
        s.next_in = in;
        s.avail_in = n;
        s.next_out = out->p;
        s.avail_out = out->cap;
        assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
        out->len = s.total_out;
        lzma_end(&s);
        kimage_append_size(out, n);
    } else if (strcmp(fmt, "lz4") == 0) {
        kimage_buf_put32(out, 0x184C2102);
        for (size_t off = 0; off < n;) {
            size_t c = n - off < (8u << 20) ? n - off : (8u << 20);
            int bound = LZ4_compressBound((int)c);
            kimage_buf_reserve(out, 4 + (size_t)bound);
            int k = LZ4_compress_default((const char *)in + off, (char *)out->p + out->len + 4, (int)c, bound);
            assert_true(k > 0);
            loader_put32(out->p + out->len, (uint32_t)k);
            out->len += 4 + (size_t)k;
            off += c;
        }
        kimage_append_size(out, n);
    } else if (strcmp(fmt, "zstd") == 0) {
        kimage_buf_reserve(out, ZSTD_compressBound(n));
        size_t k = ZSTD_compress(out->p, out->cap, in, n, 19);
        assert_false(ZSTD_isError(k));
        out->len = k;
        kimage_append_size(out, n);
    } else if (strcmp(fmt, "none") == 0) {
        kimage_buf_put(out, in, n);
    } else if (strcmp(fmt, "bzip2") == 0) {
        kimage_buf_put(out, "BZh91AY&SY", 10);
        kimage_buf_put(out, in, n < 64 ? n : 64);
        kimage_append_size(out, n);
    } else if (strcmp(fmt, "lzo") == 0) {
        kimage_buf_put(out, "\x89LZO\0\r\n\x1a\n", 9);
        kimage_buf_put(out, in, n < 64 ? n : 64);
        kimage_append_size(out, n);
    } else {
        fail_msg("unknown format %s", fmt);
    }
}

/* ---- multiboot ---- */

void kimage_mb_header(uint8_t *p, uint32_t flags, uint32_t header_addr, uint32_t load_addr,
                      uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    loader_put32(p, 0x1BADB002u);
    loader_put32(p + 4, flags);
    loader_put32(p + 8, (uint32_t)(0u - 0x1BADB002u - flags));
    if (flags & (1u << 16)) {
        loader_put32(p + 12, header_addr);
        loader_put32(p + 16, load_addr);
        loader_put32(p + 20, load_end);
        loader_put32(p + 24, bss_end);
        loader_put32(p + 28, entry);
    }
}
