/* Decompressing bzImage payloads with the system libraries.
 *
 * The payload is hostile input: output is bounded (a "bomb" that expands
 * past the bound is an error, not an allocation), truncation is reported,
 * and trailing bytes after the stream are ignored, because Linux appends the
 * uncompressed size as 4 bytes to every format but gzip
 * (arch/x86/boot/compressed/Makefile, "*_with_size"). */
#include "loader/loader_internal.h"

#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_BLOCK (8u << 20)   /* every legacy block expands to at most this */
#define DECOMPRESS_XZ_MEMLIMIT (256ull << 20)
#define DECOMPRESS_ZSTD_WINDOW_LOG 27 /* what zstd -22 --ultra uses, 128 MiB */

struct decompress_buf {
    uint8_t *p;
    size_t len, cap, max;
};

const char *decompress_detect(const uint8_t *d, size_t len, bool *supported)
{
    static const struct {
        const char *name;
        uint8_t magic[6];
        size_t n;
        bool supported;
    } formats[] = {
        { "gzip", { 0x1f, 0x8b }, 2, true },
        { "xz", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6, true },
        { "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4, true },
        { "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, true },
        /* Legacy .lzma has no magic; this is lc=3 lp=0 pb=2, what lzma -9 writes. */
        { "lzma", { 0x5d, 0x00, 0x00 }, 3, true },
        { "none", { 0x7f, 'E', 'L', 'F' }, 4, true },
        { "bzip2", { 'B', 'Z', 'h' }, 3, false },
        { "lzo", { 0x89, 'L', 'Z', 'O' }, 4, false },
    };
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (len >= formats[i].n && memcmp(d, formats[i].magic, formats[i].n) == 0) {
            if (supported)
                *supported = formats[i].supported;
            return formats[i].name;
        }
    }
    if (supported)
        *supported = false;
    return NULL;
}

/* Make at least min(want, max - len) bytes free. Returns false when the
 * buffer is already at its bound (the caller then reports a bomb). */
static bool decompress_reserve(struct decompress_buf *b, size_t want)
{
    if (b->len >= b->max)
        return false;
    if (want > b->max - b->len)
        want = b->max - b->len;
    if (b->cap - b->len >= want)
        return true;
    size_t cap = b->cap ? b->cap : (1u << 20);
    while (cap - b->len < want)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

static int decompress_bomb(const struct decompress_buf *b, const char *name, char *err, size_t errlen)
{
    if (b->len < b->max)
        return loader_fail(err, errlen, "Hostel ran out of memory decompressing the kernel; close other "
                           "programs and try again.");
    return loader_fail(err, errlen,
                       "The kernel's %s payload expands to more than %zu MiB, more than its header allows; "
                       "the file is damaged.", name, b->max >> 20);
}

static int decompress_truncated(const char *name, char *err, size_t errlen)
{
    return loader_fail(err, errlen, "The kernel's %s payload ends in the middle of the compressed data; "
                       "the file is truncated.", name);
}

static int decompress_corrupt(const char *name, char *err, size_t errlen)
{
    return loader_fail(err, errlen, "The kernel's %s payload is corrupt and cannot be decompressed; the "
                       "file is damaged.", name);
}

static int decompress_gzip(const uint8_t *d, size_t len, struct decompress_buf *b, char *err,
                           size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return loader_fail(err, errlen, "Hostel could not start the gzip decompressor; it may be out of "
                           "memory.");
    zs.next_in = (Bytef *)d;
    zs.avail_in = (uInt)len;
    int ret = 0;
    for (;;) {
        if (!decompress_reserve(b, 1u << 20)) {
            ret = decompress_bomb(b, "gzip", err, errlen);
            break;
        }
        size_t room = b->cap - b->len;
        zs.next_out = b->p + b->len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = zs.avail_out;
        int r = inflate(&zs, Z_NO_FLUSH);
        b->len += before - zs.avail_out;
        if (r == Z_STREAM_END)
            break;
        if (r == Z_OK)
            continue;
        if (r == Z_BUF_ERROR && zs.avail_out == 0)
            continue;   /* only needs room */
        ret = r == Z_BUF_ERROR ? decompress_truncated("gzip", err, errlen)
                               : decompress_corrupt("gzip", err, errlen);
        break;
    }
    inflateEnd(&zs);
    return ret;
}

static int decompress_xz(const uint8_t *d, size_t len, bool alone, struct decompress_buf *b, char *err,
                         size_t errlen)
{
    const char *name = alone ? "lzma" : "xz";
    lzma_stream s = LZMA_STREAM_INIT;
    /* No LZMA_CONCATENATED: the decoder stops after one stream, so the
     * appended size is never parsed as a second one. */
    lzma_ret r = alone ? lzma_alone_decoder(&s, DECOMPRESS_XZ_MEMLIMIT)
                       : lzma_stream_decoder(&s, DECOMPRESS_XZ_MEMLIMIT, 0);
    if (r != LZMA_OK)
        return loader_fail(err, errlen, "Hostel could not start the %s decompressor; it may be out of "
                           "memory.", name);
    s.next_in = d;
    s.avail_in = len;
    int ret = 0;
    for (;;) {
        if (!decompress_reserve(b, 1u << 20)) {
            ret = decompress_bomb(b, name, err, errlen);
            break;
        }
        s.next_out = b->p + b->len;
        s.avail_out = b->cap - b->len;
        size_t before = s.avail_out;
        r = lzma_code(&s, LZMA_FINISH);
        b->len += before - s.avail_out;
        if (r == LZMA_STREAM_END)
            break;
        if ((r == LZMA_OK || r == LZMA_BUF_ERROR) && s.avail_out == 0)
            continue;
        if (r == LZMA_OK && s.avail_in > 0)
            continue;
        if (r == LZMA_MEMLIMIT_ERROR)
            ret = loader_fail(err, errlen, "The kernel's %s payload needs more than %llu MiB of memory to "
                              "decompress; the file is damaged.", name,
                              (unsigned long long)(DECOMPRESS_XZ_MEMLIMIT >> 20));
        else if (r == LZMA_OK || r == LZMA_BUF_ERROR)
            ret = decompress_truncated(name, err, errlen);
        else
            ret = decompress_corrupt(name, err, errlen);
        break;
    }
    lzma_end(&s);
    return ret;
}

/* The LZ4 legacy frame the kernel's "lz4 -l" writes: a magic, then blocks
 * that each start with their compressed size, the magic possibly repeated. */
static int decompress_lz4(const uint8_t *d, size_t len, struct decompress_buf *b, char *err,
                          size_t errlen)
{
    size_t off = 4;
    uint32_t bound = (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK);
    for (;;) {
        if (len - off < 4)
            break;
        uint32_t c = loader_get32(d + off);
        if (c == LZ4_LEGACY_MAGIC) {
            off += 4;
            continue;
        }
        if (len - off == 4)
            break;   /* the appended uncompressed size */
        off += 4;
        if (c == 0 || c > bound) {
            /* Not a block: whatever follows the last block is not ours. */
            if (b->len)
                break;
            return decompress_corrupt("lz4", err, errlen);
        }
        if (c > len - off)
            return decompress_truncated("lz4", err, errlen);
        if (!decompress_reserve(b, LZ4_LEGACY_BLOCK))
            return decompress_bomb(b, "lz4", err, errlen);
        size_t room = b->cap - b->len;
        if (room > LZ4_LEGACY_BLOCK)
            room = LZ4_LEGACY_BLOCK;
        int n = LZ4_decompress_safe((const char *)d + off, (char *)b->p + b->len, (int)c, (int)room);
        if (n < 0) {
            /* With less than a full block of room, "does not fit" and
             * "corrupt" look the same to LZ4. */
            if (room < LZ4_LEGACY_BLOCK && b->len + room >= b->max)
                return loader_fail(err, errlen,
                                   "The kernel's lz4 payload is corrupt or expands to more than %zu MiB, more "
                                   "than its header allows; the file is damaged.", b->max >> 20);
            return decompress_corrupt("lz4", err, errlen);
        }
        b->len += (size_t)n;
        off += c;
    }
    return 0;
}

static int decompress_zstd(const uint8_t *d, size_t len, struct decompress_buf *b, char *err,
                           size_t errlen)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return loader_fail(err, errlen, "Hostel could not start the zstd decompressor; it may be out of "
                           "memory.");
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, DECOMPRESS_ZSTD_WINDOW_LOG);
    ZSTD_inBuffer in = { d, len, 0 };
    int ret = 0;
    for (;;) {
        if (!decompress_reserve(b, 1u << 20)) {
            ret = decompress_bomb(b, "zstd", err, errlen);
            break;
        }
        ZSTD_outBuffer out = { b->p + b->len, b->cap - b->len, 0 };
        size_t r = ZSTD_decompressStream(dctx, &out, &in);
        b->len += out.pos;
        if (ZSTD_isError(r)) {
            ret = decompress_corrupt("zstd", err, errlen);
            break;
        }
        if (r == 0)
            break;   /* first frame complete; the rest is the appended size */
        if (in.pos == in.size && out.pos < out.size) {
            ret = decompress_truncated("zstd", err, errlen);
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return ret;
}

int decompress_buffer(const uint8_t *data, size_t len, size_t max_out, uint8_t **out,
                      size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    bool supported;
    const char *name = decompress_detect(data, len, &supported);
    if (!name)
        return loader_fail(err, errlen, "The kernel's payload is in an unknown compression format; the file "
                           "is damaged or too new for Hostel.");
    if (!supported)
        return loader_fail(err, errlen, "The kernel is compressed with %s, which Hostel cannot decompress; "
                           "use a kernel built with gzip, xz, lz4 or zstd.", name);
    if (max_out > DECOMPRESS_MAX_OUT)
        max_out = DECOMPRESS_MAX_OUT;
    if (len > UINT32_MAX)
        return loader_fail(err, errlen, "The kernel's payload is over 4 GiB, which no real kernel is; the "
                           "file is damaged.");
    struct decompress_buf b = { .max = max_out };
    /* Start at the size the kernel appended, when it is believable, to save
     * reallocations; the bound is what really protects us. */
    size_t hint = len >= 8 ? loader_get32(data + len - 4) : 0;
    if (hint && hint <= max_out && strcmp(name, "none") != 0)
        decompress_reserve(&b, hint + 4096);
    int r;
    if (strcmp(name, "none") == 0) {
        if (len > max_out)
            r = loader_fail(err, errlen, "The kernel's payload is larger than its header allows (%zu MiB); the "
                            "file is damaged.", max_out >> 20);
        else if (!decompress_reserve(&b, len))
            r = loader_fail(err, errlen, "Hostel ran out of memory loading the kernel; close other programs "
                            "and try again.");
        else {
            memcpy(b.p, data, len);
            b.len = len;
            r = 0;
        }
    } else if (strcmp(name, "gzip") == 0) {
        r = decompress_gzip(data, len, &b, err, errlen);
    } else if (strcmp(name, "xz") == 0) {
        r = decompress_xz(data, len, false, &b, err, errlen);
    } else if (strcmp(name, "lzma") == 0) {
        r = decompress_xz(data, len, true, &b, err, errlen);
    } else if (strcmp(name, "lz4") == 0) {
        r = decompress_lz4(data, len, &b, err, errlen);
    } else {
        r = decompress_zstd(data, len, &b, err, errlen);
    }
    if (r == 0 && b.len == 0)
        r = loader_fail(err, errlen, "The kernel's %s payload decompresses to nothing; the file is damaged.",
                        name);
    if (r < 0) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *out_len = b.len;
    return 0;
}
