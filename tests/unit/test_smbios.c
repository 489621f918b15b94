#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smbios.h"
#include "rng.h"

#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)
#define TIB (1024ull * GIB)

/* An independent reading of the table (DSP0134 section 6.1): a formatted
 * area of the length byte's size, then a string set ending in a double
 * NUL (two NULs when there are no strings). */
struct sm_struct {
    const uint8_t *p;
    uint8_t type, len;
    uint16_t handle;
    const char *strings[256];
    unsigned nstrings;
    size_t size;            /* formatted area + string set */
};

struct sm_table {
    struct sm_struct *s;
    unsigned n;
    size_t len;             /* bytes walked */
    size_t max_size;
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* Walk the whole table; every structure must be complete and the last one
 * must be type 127, ending exactly at the end of the table. */
static void walk(const uint8_t *t, size_t len, struct sm_table *out)
{
    memset(out, 0, sizeof(*out));
    out->s = calloc(len / 6 + 1, sizeof(*out->s));
    assert_non_null(out->s);
    size_t off = 0;
    bool ended = false;
    while (off < len) {
        assert_false(ended);
        assert_true(off + 4 <= len);
        struct sm_struct *s = &out->s[out->n++];
        s->p = t + off;
        s->type = t[off];
        s->len = t[off + 1];
        s->handle = rd16(t + off + 2);
        assert_true(s->len >= 4);
        assert_true(off + s->len + 2 <= len);
        size_t q = off + s->len;
        if (t[q] == 0) {
            /* No strings: the set is two NULs. */
            assert_int_equal(t[q + 1], 0);
            q += 2;
        } else {
            for (;;) {
                assert_true(q < len);
                if (t[q] == 0) {
                    q++;
                    break;
                }
                assert_true(s->nstrings < 255);
                s->strings[s->nstrings++] = (const char *)t + q;
                size_t n = strnlen((const char *)t + q, len - q);
                assert_true(q + n < len);
                assert_true(n <= SMBIOS_STRING_MAX);
                q += n + 1;
            }
        }
        s->size = q - off;
        if (s->size > out->max_size)
            out->max_size = s->size;
        if (s->type == SMBIOS_TYPE_END)
            ended = true;
        off = q;
    }
    assert_true(ended);
    out->len = off;
}

static const struct sm_struct *find(const struct sm_table *w, uint8_t type, unsigned nth)
{
    for (unsigned i = 0; i < w->n; i++)
        if (w->s[i].type == type && nth-- == 0)
            return &w->s[i];
    return NULL;
}

static unsigned count(const struct sm_table *w, uint8_t type)
{
    unsigned c = 0;
    for (unsigned i = 0; i < w->n; i++)
        c += w->s[i].type == type;
    return c;
}

/* The string a structure's byte at off refers to; NULL for index 0. */
static const char *str_at(const struct sm_struct *s, unsigned off)
{
    assert_true(off < s->len);
    unsigned idx = s->p[off];
    if (idx == 0)
        return NULL;
    assert_true(idx <= s->nstrings);
    return s->strings[idx - 1];
}

/* String fields per type and layout (DSP0134 section 7). */
static const struct { uint8_t type; uint8_t offs[8]; } string_fields[] = {
    { 0, { 0x04, 0x05, 0x08 } },
    { 1, { 0x04, 0x05, 0x06, 0x07, 0x19, 0x1A } },
    { 3, { 0x04, 0x06, 0x07, 0x08, 0x15 } },
    { 4, { 0x04, 0x07, 0x10, 0x20, 0x21, 0x22 } },
    { 17, { 0x10, 0x11, 0x17, 0x18, 0x19, 0x1A } },
};

/* Every string field refers to an existing string, and every string is
 * referred to by some field. */
static void check_strings(const struct sm_struct *s)
{
    bool used[256] = { false };
    for (size_t i = 0; i < sizeof(string_fields) / sizeof(string_fields[0]); i++) {
        if (string_fields[i].type != s->type)
            continue;
        for (int j = 0; j < 8 && string_fields[i].offs[j]; j++) {
            unsigned off = string_fields[i].offs[j];
            if (off >= s->len)
                continue;
            unsigned idx = s->p[off];
            assert_true(idx <= s->nstrings);
            used[idx] = true;
        }
    }
    for (unsigned k = 1; k <= s->nstrings; k++)
        assert_true(used[k]);
}

struct built {
    uint8_t *ep, *t;
    size_t ep_len, t_len;
    struct sm_table w;
};

/* Build, walk and check everything that holds for any valid config. */
static void build_and_check(const struct smbios_config *cfg, struct built *b)
{
    assert_int_equal(smbios_build(cfg, &b->ep, &b->ep_len, &b->t, &b->t_len), 0);
    assert_non_null(b->ep);
    assert_non_null(b->t);

    /* Entry point (section 5.2.1) as SeaBIOS takes it: 31 bytes, both
     * checksums zero, table length matching the tables file. */
    assert_int_equal(b->ep_len, 0x1F);
    assert_memory_equal(b->ep, "_SM_", 4);
    assert_int_equal(b->ep[5], 0x1F);
    assert_int_equal(b->ep[6], 2);
    assert_int_equal(b->ep[7], 8);
    assert_int_equal(b->ep[0x1E], 0x28);
    assert_memory_equal(b->ep + 0x10, "_DMI_", 5);
    assert_int_equal(sum(b->ep, 0x1F), 0);
    assert_int_equal(sum(b->ep + 0x10, 0x0F), 0);
    assert_int_equal(rd32(b->ep + 0x18), 0);
    assert_int_equal(rd16(b->ep + 0x16), b->t_len);

    walk(b->t, b->t_len, &b->w);
    assert_int_equal(b->w.len, b->t_len);
    assert_int_equal(rd16(b->ep + 0x1C), b->w.n);
    assert_int_equal(rd16(b->ep + 0x08), b->w.max_size);

    /* Handles unique and sequential; string references valid. */
    for (unsigned i = 0; i < b->w.n; i++) {
        assert_int_equal(b->w.s[i].handle, i);
        check_strings(&b->w.s[i]);
    }

    /* Types and counts. */
    assert_int_equal(count(&b->w, 0), 1);
    assert_int_equal(count(&b->w, 1), 1);
    assert_int_equal(count(&b->w, 3), 1);
    assert_int_equal(count(&b->w, 4), cfg->ncpus);
    assert_int_equal(count(&b->w, 16), 1);
    assert_int_equal(count(&b->w, 17), 1);
    assert_int_equal(count(&b->w, 19), cfg->ram_above_4g ? 2 : 1);
    assert_int_equal(count(&b->w, 32), 1);
    assert_int_equal(count(&b->w, 127), 1);
    assert_int_equal(b->w.s[b->w.n - 1].type, 127);
    assert_int_equal(b->w.n, 7 + cfg->ncpus + (cfg->ram_above_4g ? 2 : 1));

    /* Memory references: 17 and 19 point at the 16; 16 counts the 17s. */
    const struct sm_struct *a = find(&b->w, 16, 0);
    assert_true(a->len >= 0x0F);
    assert_int_equal(rd16(a->p + 0x0D), count(&b->w, 17));
    const struct sm_struct *d = find(&b->w, 17, 0);
    assert_int_equal(rd16(d->p + 0x04), a->handle);
    for (unsigned i = 0; i < count(&b->w, 19); i++)
        assert_int_equal(rd16(find(&b->w, 19, i)->p + 0x0C), a->handle);

    /* Processors: sockets "CPU n", all distinct. */
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        const struct sm_struct *s = find(&b->w, 4, i);
        char want[24];
        snprintf(want, sizeof(want), "CPU %u", i);
        assert_string_equal(str_at(s, 0x04), want);
    }
}

static void free_built(struct built *b)
{
    free(b->ep);
    free(b->t);
    free(b->w.s);
}

static const uint8_t test_uuid[16] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};

static struct smbios_config base_config(unsigned ncpus)
{
    struct smbios_config cfg = {
        .ncpus = ncpus, .ram_below_4g = 1 * GIB, .ram_above_4g = 0, .version = "0.1.0",
    };
    memcpy(cfg.uuid, test_uuid, 16);
    return cfg;
}

static void test_cpu_counts(void **state)
{
    (void)state;
    unsigned counts[] = { 1, 2, 8, 64 };
    for (unsigned i = 0; i < 4; i++) {
        struct smbios_config cfg = base_config(counts[i]);
        struct built b;
        build_and_check(&cfg, &b);
        for (unsigned c = 0; c < counts[i]; c++) {
            const struct sm_struct *s = find(&b.w, 4, c);
            assert_int_equal(s->len, 0x2A);
            assert_int_equal(s->p[0x05], 0x03);            /* central processor */
            assert_int_equal(s->p[0x18], 0x41);            /* populated, enabled */
            assert_int_equal(s->p[0x23], 1);               /* cores */
            assert_int_equal(s->p[0x24], 1);               /* cores enabled */
            assert_int_equal(s->p[0x25], 1);               /* threads */
            assert_int_equal(rd16(s->p + 0x1A), 0xFFFF);    /* no cache structures */
            assert_non_null(str_at(s, 0x07));
        }
        free_built(&b);
    }
}

static void test_bios_and_system(void **state)
{
    (void)state;
    struct smbios_config cfg = base_config(2);
    struct built b;
    build_and_check(&cfg, &b);
    assert_int_equal(b.w.s[0].type, 0);     /* first, so SeaBIOS adds none */

    const struct sm_struct *t0 = find(&b.w, 0, 0);
    assert_int_equal(t0->len, 0x18);
    assert_string_equal(str_at(t0, 0x04), "Hostel");
    assert_string_equal(str_at(t0, 0x05), "0.1.0");
    const char *date = str_at(t0, 0x08);
    assert_int_equal(strlen(date), 10);     /* mm/dd/yyyy */
    assert_true(date[2] == '/' && date[5] == '/');
    uint64_t ch = rd64(t0->p + 0x0A);
    assert_false(ch & (1u << 3));           /* "not supported" clear */
    assert_true(ch & (1u << 7));            /* PCI */
    assert_true(ch & (1u << 12));           /* shadowing */
    assert_true(ch & (1u << 16));           /* selectable boot */
    assert_true(ch & (1u << 19));           /* EDD */
    assert_true(t0->p[0x12] & 0x01);        /* ACPI */
    assert_true(t0->p[0x13] & 0x10);        /* virtual machine */
    assert_int_equal(t0->p[0x14], 0);       /* "0.1.0" */
    assert_int_equal(t0->p[0x15], 1);

    const struct sm_struct *t1 = find(&b.w, 1, 0);
    assert_int_equal(t1->len, 0x1B);
    assert_string_equal(str_at(t1, 0x04), "Hostel");
    assert_string_equal(str_at(t1, 0x05), "Hostel Virtual Machine");
    assert_string_equal(str_at(t1, 0x06), "0.1.0");
    assert_string_equal(str_at(t1, 0x1A), "Virtual Machine");
    assert_non_null(str_at(t1, 0x19));
    assert_int_equal(t1->p[0x18], 0x06);    /* power switch */
    /* Section 7.2.1: 00112233-4455-6677-8899-aabbccddeeff is stored
     * 33 22 11 00 55 44 77 66 88 99 aa bb cc dd ee ff. */
    static const uint8_t want_uuid[16] = {
        0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
        0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    };
    assert_memory_equal(t1->p + 0x08, want_uuid, 16);

    const struct sm_struct *t3 = find(&b.w, 3, 0);
    assert_true(t3->len >= 0x15);
    assert_string_equal(str_at(t3, 0x04), "Hostel");
    assert_true(t3->p[0x05] == 0x01 || t3->p[0x05] == 0x03);   /* other or desktop */
    assert_int_equal(t3->p[0x09], 0x03);    /* safe */
    assert_int_equal(t3->p[0x0A], 0x03);
    assert_int_equal(t3->p[0x0B], 0x03);
    assert_int_equal(t3->p[0x13], 0);       /* no contained elements */

    const struct sm_struct *t32 = find(&b.w, 32, 0);
    assert_int_equal(t32->len, 0x0B);
    assert_int_equal(t32->p[0x0A], 0);      /* no errors */
    assert_int_equal(t32->nstrings, 0);
    assert_int_equal(t32->size, 0x0B + 2);

    const struct sm_struct *t127 = find(&b.w, 127, 0);
    assert_int_equal(t127->len, 4);
    assert_int_equal(t127->size, 6);
    free_built(&b);
}

/* Expected type 19 contents for [start, start + size). */
static void check_range(const struct sm_struct *s, uint64_t start, uint64_t size)
{
    assert_int_equal(s->len, 0x1F);
    uint64_t end = start + size - 1;
    if (end / 1024 < 0xFFFFFFFFu && start % 1024 == 0 && size % 1024 == 0) {
        assert_int_equal(rd32(s->p + 0x04), start / 1024);
        assert_int_equal(rd32(s->p + 0x08), end / 1024);
    } else {
        assert_int_equal(rd32(s->p + 0x04), 0xFFFFFFFFu);
        assert_int_equal(rd32(s->p + 0x08), 0xFFFFFFFFu);
        assert_int_equal(rd64(s->p + 0x0F), start);
        assert_int_equal(rd64(s->p + 0x17), end);
    }
}

static void check_memory(uint64_t below, uint64_t above)
{
    struct smbios_config cfg = base_config(1);
    cfg.ram_below_4g = below;
    cfg.ram_above_4g = above;
    struct built b;
    build_and_check(&cfg, &b);
    check_range(find(&b.w, 19, 0), 0, below);
    if (above)
        check_range(find(&b.w, 19, 1), 4 * GIB, above);

    uint64_t total = below + above;
    const struct sm_struct *a = find(&b.w, 16, 0);
    assert_int_equal(a->len, 0x17);
    assert_int_equal(a->p[0x04], 0x03);     /* system board */
    assert_int_equal(a->p[0x05], 0x03);     /* system memory */
    assert_int_equal(a->p[0x06], 0x03);     /* no error correction */
    if (total / 1024 < 0x80000000u) {
        assert_int_equal(rd32(a->p + 0x07), (total + 1023) / 1024);
    } else {
        assert_int_equal(rd32(a->p + 0x07), 0x80000000u);
        assert_int_equal(rd64(a->p + 0x0F), total);
    }

    const struct sm_struct *d = find(&b.w, 17, 0);
    assert_int_equal(d->len, 0x28);
    assert_int_equal(d->p[0x0E], 0x09);     /* DIMM */
    assert_int_equal(d->p[0x12], 0x07);     /* RAM */
    assert_non_null(str_at(d, 0x10));
    uint16_t size = rd16(d->p + 0x0C);
    uint64_t mib = total / MIB;
    if (total % MIB == 0 && mib < 0x7FFF) {
        assert_int_equal(size, mib);
    } else if (total % MIB == 0) {
        /* 32 GiB - 1 MiB and up: 7FFFh and the Extended Size in MiB. */
        assert_int_equal(size, 0x7FFF);
        assert_int_equal(rd32(d->p + 0x1C), mib);
    }
    free_built(&b);
}

static void test_memory_ranges(void **state)
{
    (void)state;
    check_memory(1 * GIB, 0);
    check_memory(3 * GIB, 0);
    check_memory(4 * GIB, 0);
    check_memory(3 * GIB, 1 * GIB);
    check_memory(3 * GIB, 61 * GIB);                /* 64 GiB: extended size */
    check_memory(3 * GIB, 32766 * MIB - 3 * GIB);   /* largest plain size */
    check_memory(3 * GIB, 32767 * MIB - 3 * GIB);   /* 7FFFh means "extended" */
    check_memory(2 * GIB, 3 * TIB);                 /* capacity past 2 TiB */
    check_memory(3 * GIB, 8 * TIB);                 /* addresses past 4 TiB */
    check_memory(640 * 1024 + 512, 0);              /* not KiB-aligned */
}

static void test_extended_fields(void **state)
{
    (void)state;
    /* Spelled out once, independently of check_memory's rules. */
    struct smbios_config cfg = base_config(1);
    cfg.ram_below_4g = 3 * GIB;
    cfg.ram_above_4g = 61 * GIB;
    struct built b;
    build_and_check(&cfg, &b);
    const struct sm_struct *d = find(&b.w, 17, 0);
    assert_int_equal(rd16(d->p + 0x0C), 0x7FFF);
    assert_int_equal(rd32(d->p + 0x1C), 65536);
    const struct sm_struct *hi = find(&b.w, 19, 1);
    assert_int_equal(rd32(hi->p + 0x04), 0x400000);     /* 4 GiB in KiB */
    assert_int_equal(rd32(hi->p + 0x08), 0x4100000 - 1); /* 65 GiB in KiB, less 1 */
    free_built(&b);

    cfg.ram_above_4g = 8 * TIB;
    build_and_check(&cfg, &b);
    hi = find(&b.w, 19, 1);
    assert_int_equal(rd32(hi->p + 0x04), 0xFFFFFFFFu);
    assert_int_equal(rd64(hi->p + 0x0F), 0x100000000ull);
    assert_int_equal(rd64(hi->p + 0x17), 0x100000000ull + 8 * TIB - 1);
    free_built(&b);

    cfg.ram_below_4g = 16 * MIB;
    cfg.ram_above_4g = 0;
    build_and_check(&cfg, &b);
    d = find(&b.w, 17, 0);
    assert_int_equal(rd16(d->p + 0x0C), 16);
    assert_int_equal(rd32(d->p + 0x1C), 0);
    free_built(&b);
}

static void test_version_strings(void **state)
{
    (void)state;
    struct smbios_config cfg = base_config(1);
    struct built b;

    cfg.version = NULL;
    build_and_check(&cfg, &b);
    const struct sm_struct *t0 = find(&b.w, 0, 0);
    assert_null(str_at(t0, 0x05));
    assert_int_equal(t0->p[0x14], 0xFF);
    assert_int_equal(t0->p[0x15], 0xFF);
    assert_null(str_at(find(&b.w, 1, 0), 0x06));
    free_built(&b);

    cfg.version = "";
    build_and_check(&cfg, &b);
    assert_null(str_at(find(&b.w, 0, 0), 0x05));
    free_built(&b);

    cfg.version = "12.34-rc1";
    build_and_check(&cfg, &b);
    t0 = find(&b.w, 0, 0);
    assert_string_equal(str_at(t0, 0x05), "12.34-rc1");
    assert_int_equal(t0->p[0x14], 12);
    assert_int_equal(t0->p[0x15], 34);
    free_built(&b);

    char longv[300];
    memset(longv, 'v', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = 0;
    cfg.version = longv;
    build_and_check(&cfg, &b);
    assert_int_equal(strlen(str_at(find(&b.w, 0, 0), 0x05)), SMBIOS_STRING_MAX);
    free_built(&b);
}

static void expect_fail(const struct smbios_config *cfg)
{
    uint8_t *ep = (uint8_t *)1, *t = (uint8_t *)1;
    size_t el = 1, tl = 1;
    assert_int_equal(smbios_build(cfg, &ep, &el, &t, &tl), -1);
    assert_null(ep);
    assert_null(t);
    assert_int_equal(el, 0);
    assert_int_equal(tl, 0);
}

static void test_invalid_configs(void **state)
{
    (void)state;
    struct smbios_config cfg = base_config(0);
    expect_fail(&cfg);
    cfg = base_config(1);
    cfg.ram_below_4g = 0;
    expect_fail(&cfg);
    cfg.ram_below_4g = 4 * GIB + 1;
    expect_fail(&cfg);
    cfg.ram_below_4g = 3 * GIB;
    cfg.ram_above_4g = UINT64_MAX - GIB;    /* the end would wrap */
    expect_fail(&cfg);
    cfg.ram_above_4g = 4096 * TIB;          /* beyond Extended Size */
    expect_fail(&cfg);
    cfg = base_config(100000);              /* the table would pass 64 KiB */
    expect_fail(&cfg);
    cfg = base_config(~0u);
    expect_fail(&cfg);
}

/* Random configurations, valid or not: builds either fail cleanly or give
 * a table that walks and checks. */
static void test_random_configs(void **state)
{
    (void)state;
    uint32_t seed = 0x5eb105u;
    char version[100];
    for (int iter = 0; iter < 4000; iter++) {
        struct smbios_config cfg = { 0 };
        uint32_t r = rng_next(&seed);
        cfg.ncpus = (r & 7) == 0 ? rng_next(&seed) % 2000 : 1 + rng_next(&seed) % 64;
        uint64_t r64 = (uint64_t)rng_next(&seed) << 32 | rng_next(&seed);
        switch (r >> 3 & 3) {
        case 0: cfg.ram_below_4g = r64 % (4 * GIB + 2); break;
        case 1: cfg.ram_below_4g = (1 + r64 % 4096) * MIB; break;
        default: cfg.ram_below_4g = (1 + r64 % 4) * GIB; break;
        }
        r64 = (uint64_t)rng_next(&seed) << 32 | rng_next(&seed);
        switch (r >> 5 & 3) {
        case 0: cfg.ram_above_4g = 0; break;
        case 1: cfg.ram_above_4g = r64; break;
        case 2: cfg.ram_above_4g = (r64 % (16 * 1024 * 1024)) * MIB; break;
        default: cfg.ram_above_4g = r64 % (64 * GIB); break;
        }
        for (int i = 0; i < 16; i++)
            cfg.uuid[i] = (uint8_t)rng_next(&seed);
        unsigned vlen = rng_next(&seed) % (sizeof(version) - 1);
        for (unsigned i = 0; i < vlen; i++)
            version[i] = (char)(1 + rng_next(&seed) % 255);
        version[vlen] = 0;
        cfg.version = (r >> 7 & 7) == 0 ? NULL : version;

        uint8_t *ep, *t;
        size_t el, tl;
        if (smbios_build(&cfg, &ep, &el, &t, &tl) < 0) {
            assert_null(ep);
            assert_null(t);
            continue;
        }
        free(ep);
        free(t);
        struct built b;
        build_and_check(&cfg, &b);
        check_range(find(&b.w, 19, 0), 0, cfg.ram_below_4g);
        if (cfg.ram_above_4g)
            check_range(find(&b.w, 19, 1), 4 * GIB, cfg.ram_above_4g);
        assert_memory_equal(find(&b.w, 1, 0)->p + 0x10, cfg.uuid + 8, 8);
        free_built(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_counts),
        cmocka_unit_test(test_bios_and_system),
        cmocka_unit_test(test_memory_ranges),
        cmocka_unit_test(test_extended_fields),
        cmocka_unit_test(test_version_strings),
        cmocka_unit_test(test_invalid_configs),
        cmocka_unit_test(test_random_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
