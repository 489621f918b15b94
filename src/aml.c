#include "aml.h"

#include <string.h>

/* Opcodes (ACPI 6.4 section 20.3). */
enum {
    OP_ZERO = 0x00,
    OP_ONE = 0x01,
    OP_NAME = 0x08,
    OP_BYTE = 0x0a,
    OP_WORD = 0x0b,
    OP_DWORD = 0x0c,
    OP_STRING = 0x0d,
    OP_QWORD = 0x0e,
    OP_SCOPE = 0x10,
    OP_BUFFER = 0x11,
    OP_PACKAGE = 0x12,
    OP_METHOD = 0x14,
    OP_DUAL_NAME = 0x2e,
    OP_MULTI_NAME = 0x2f,
    OP_EXT = 0x5b,
    OP_EXT_DEVICE = 0x82,
    OP_ROOT = 0x5c,
    OP_IF = 0xa0,
    OP_ONES = 0xff,
};

/* What kind of object each open level is, to finish it in aml_close. */
enum { KIND_PLAIN, KIND_BUFFER };

void aml_init(struct aml *a)
{
    memset(a, 0, sizeof(*a));
    a->buf = g_byte_array_new();
}

void aml_free(struct aml *a)
{
    if (a->buf)
        g_byte_array_unref(a->buf);
    a->buf = NULL;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    g_byte_array_append(a->buf, p, (guint)n);
}

void aml_byte(struct aml *a, uint8_t b)
{
    g_byte_array_append(a->buf, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
    if (v == 0) {
        aml_byte(a, OP_ZERO);
    } else if (v == 1) {
        aml_byte(a, OP_ONE);
    } else if (v <= 0xff) {
        aml_byte(a, OP_BYTE);
        aml_le(a, v, 1);
    } else if (v <= 0xffff) {
        aml_byte(a, OP_WORD);
        aml_le(a, v, 2);
    } else if (v <= 0xffffffffu) {
        aml_byte(a, OP_DWORD);
        aml_le(a, v, 4);
    } else {
        aml_byte(a, OP_QWORD);
        aml_le(a, v, 8);
    }
}

void aml_string(struct aml *a, const char *s)
{
    aml_byte(a, OP_STRING);
    aml_bytes(a, s, strlen(s) + 1);
}

/* NameSeg: 4 characters, A-Z, 0-9 or '_' (not a digit first), padded with '_'. */
static void aml_nameseg(struct aml *a, const char *seg, size_t len)
{
    if (len == 0 || len > 4 || (seg[0] >= '0' && seg[0] <= '9')) {
        a->error = 1;
        return;
    }
    char out[4] = { '_', '_', '_', '_' };
    for (size_t i = 0; i < len; i++) {
        char ch = seg[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')) {
            a->error = 1;
            return;
        }
        out[i] = ch;
    }
    aml_bytes(a, out, 4);
}

void aml_namestring(struct aml *a, const char *name)
{
    if (name[0] == '\\') {
        aml_byte(a, OP_ROOT);
        name++;
    }
    const char *segs[8];
    size_t lens[8];
    unsigned n = 0;
    for (const char *p = name; *p;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 8) {
            a->error = 1;
            return;
        }
        segs[n] = p;
        lens[n++] = len;
        p += len + (dot ? 1 : 0);
    }
    if (n == 0) {
        aml_byte(a, OP_ZERO);   /* NullName: the root itself */
        return;
    }
    if (n == 2)
        aml_byte(a, OP_DUAL_NAME);
    else if (n > 2) {
        aml_byte(a, OP_MULTI_NAME);
        aml_byte(a, (uint8_t)n);
    }
    for (unsigned i = 0; i < n; i++)
        aml_nameseg(a, segs[i], lens[i]);
}

/* EISA ID (section 6.1.5): three letters in 5 bits each, then four hex
 * digits, stored big-endian. */
void aml_eisaid(struct aml *a, const char *id)
{
    if (strlen(id) != 7) {
        a->error = 1;
        return;
    }
    uint32_t v = 0;
    for (int i = 0; i < 3; i++) {
        if (id[i] < 'A' || id[i] > 'Z') {
            a->error = 1;
            return;
        }
        v = (v << 5) | (uint32_t)(id[i] - 'A' + 1);
    }
    for (int i = 3; i < 7; i++) {
        char ch = id[i];
        unsigned d = (ch >= '0' && ch <= '9') ? (unsigned)(ch - '0')
                   : (ch >= 'A' && ch <= 'F') ? (unsigned)(ch - 'A' + 10) : 16;
        if (d == 16) {
            a->error = 1;
            return;
        }
        v = (v << 4) | d;
    }
    uint32_t be = ((v >> 24) & 0xff) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
    aml_integer(a, be);
}

void aml_name(struct aml *a, const char *name)
{
    aml_byte(a, OP_NAME);
    aml_namestring(a, name);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
    aml_name(a, name);
    aml_integer(a, v);
}

/* Opening an object writes its opcode; the PkgLength is inserted on close
 * in front of the body, once its size is known. */
static void aml_open(struct aml *a, unsigned kind)
{
    if (a->depth == AML_MAX_DEPTH) {
        a->error = 1;
        return;
    }
    a->open[a->depth++] = a->buf->len | ((guint)kind << 31);
}

void aml_open_scope(struct aml *a, const char *name)
{
    aml_byte(a, OP_SCOPE);
    aml_open(a, KIND_PLAIN);
    aml_namestring(a, name);
}

void aml_open_device(struct aml *a, const char *name)
{
    aml_byte(a, OP_EXT);
    aml_byte(a, OP_EXT_DEVICE);
    aml_open(a, KIND_PLAIN);
    aml_namestring(a, name);
}

void aml_open_method(struct aml *a, const char *name, unsigned nargs)
{
    aml_byte(a, OP_METHOD);
    aml_open(a, KIND_PLAIN);
    aml_namestring(a, name);
    aml_byte(a, (uint8_t)(nargs & 7));   /* not serialized, sync level 0 */
}

void aml_open_package(struct aml *a, unsigned nelems)
{
    aml_byte(a, OP_PACKAGE);
    aml_open(a, KIND_PLAIN);
    aml_byte(a, (uint8_t)nelems);
}

void aml_open_buffer(struct aml *a)
{
    aml_byte(a, OP_BUFFER);
    aml_open(a, KIND_BUFFER);
}

void aml_open_if(struct aml *a)
{
    aml_byte(a, OP_IF);
    aml_open(a, KIND_PLAIN);
}

/* PkgLength (section 20.2.4): the length counts its own bytes; 1 byte up
 * to 63, else a lead byte with the count of following bytes in bits 7-6
 * and the low nibble, then 8 bits per byte. */
static unsigned pkglen_encode(uint32_t body, uint8_t out[4])
{
    for (unsigned n = 1; n <= 4; n++) {
        uint32_t total = body + n;
        if (n == 1 && total < 64) {
            out[0] = (uint8_t)total;
            return 1;
        }
        if (n > 1 && total < (1u << (4 + 8 * (n - 1)))) {
            out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
            for (unsigned i = 1; i < n; i++)
                out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
            return n;
        }
    }
    return 0;
}

void aml_close(struct aml *a)
{
    if (a->depth == 0) {
        a->error = 1;
        return;
    }
    guint mark = a->open[--a->depth];
    guint start = mark & 0x7fffffffu;
    unsigned kind = mark >> 31;
    uint8_t prefix[16];
    unsigned plen = 0;
    if (kind == KIND_BUFFER) {
        /* Buffer: PkgLength, then the size as an integer, then the bytes. */
        struct aml size = { .buf = g_byte_array_new() };
        aml_integer(&size, a->buf->len - start);
        memcpy(prefix + 4, size.buf->data, size.buf->len);
        unsigned slen = size.buf->len;
        g_byte_array_unref(size.buf);
        uint8_t pl[4];
        unsigned n = pkglen_encode(a->buf->len - start + slen, pl);
        memmove(prefix + n, prefix + 4, slen);
        memcpy(prefix, pl, n);
        plen = n + slen;
    } else {
        plen = pkglen_encode(a->buf->len - start, prefix);
    }
    if (plen == 0) {
        a->error = 1;
        return;
    }
    g_byte_array_set_size(a->buf, a->buf->len + plen);
    memmove(a->buf->data + start + plen, a->buf->data + start, a->buf->len - plen - start);
    memcpy(a->buf->data + start, prefix, plen);
}

/* ---- Resource descriptors (section 6.4) ---------------------------------- */

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
    /* I/O port descriptor: 16-bit decode, fixed range. */
    uint8_t d[8] = { 0x47, 0x01, (uint8_t)base, (uint8_t)(base >> 8), (uint8_t)base, (uint8_t)(base >> 8),
                     0x01, len };
    aml_bytes(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, unsigned irq)
{
    /* IRQ descriptor without flags: edge-triggered, active high. */
    uint16_t mask = (uint16_t)(1u << (irq & 15));
    uint8_t d[3] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };
    aml_bytes(a, d, sizeof(d));
}

void aml_res_memory32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
    uint8_t d[12] = { 0x86, 9, 0, 1 /* read-write */ };
    memcpy(d + 4, &base, 4);
    memcpy(d + 8, &len, 4);
    aml_bytes(a, d, sizeof(d));
}

/* Word address space descriptor: type 1 I/O, 2 bus number. */
static void aml_res_word(struct aml *a, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
    uint16_t len = (uint16_t)(max - min + 1);
    /* General flags 0x0c: min and max fixed, producer-consumer bit 0 =
     * producer (the bridge hands the range down). */
    uint8_t d[16] = { 0x88, 13, 0, type, 0x0c, type_flags, 0, 0 };
    memcpy(d + 8, &min, 2);
    memcpy(d + 10, &max, 2);
    memcpy(d + 14, &len, 2);
    aml_bytes(a, d, sizeof(d));
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
    aml_res_word(a, 2, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
    aml_res_word(a, 1, 3 /* ISA and non-ISA ranges */, min, max);
}

void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max)
{
    uint32_t len = max - min + 1;
    /* Type-specific flags 0x01: read-write, non-cacheable. */
    uint8_t d[26] = { 0x87, 23, 0, 0, 0x0c, 0x01 };
    memcpy(d + 10, &min, 4);
    memcpy(d + 14, &max, 4);
    memcpy(d + 22, &len, 4);
    aml_bytes(a, d, sizeof(d));
}

void aml_res_end(struct aml *a)
{
    uint8_t d[2] = { 0x79, 0 };
    aml_bytes(a, d, sizeof(d));
}

const uint8_t *aml_data(const struct aml *a, size_t *len)
{
    if (a->error || a->depth)
        return NULL;
    *len = a->buf->len;
    return a->buf->data;
}
