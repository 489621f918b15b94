#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmstate.h"

struct dev_v2 {
    uint8_t a;
    uint32_t b;
    uint64_t c[3];
    uint16_t added_in_v2;
    int post_loaded;
};

static void dev_post_load(void *d) { ((struct dev_v2 *)d)->post_loaded++; }

static const struct vmstate_field fields_v2[] = {
    VMSTATE_FIELD(struct dev_v2, a, 1),
    VMSTATE_FIELD(struct dev_v2, b, 1),
    VMSTATE_FIELD(struct dev_v2, c, 1),
    VMSTATE_FIELD(struct dev_v2, added_in_v2, 2),
};
static const struct vmstate_desc desc_v2 = { "dev", 2, fields_v2, 4, dev_post_load };
static const struct vmstate_desc desc_v1 = { "dev", 1, fields_v2, 3, NULL };

static void test_roundtrip(void **state)
{
    (void)state;
    struct dev_v2 d = { 7, 0x12345678, { 1, 2, 3 }, 0xabcd, 0 };
    uint8_t buf[256];
    long n = vmstate_save(&desc_v2, &d, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(vmstate_save(&desc_v2, &d, NULL, 0), n);
    assert_int_equal(vmstate_save(&desc_v2, &d, buf, (size_t)n - 1), -1);
    struct dev_v2 e = {0};
    char err[200];
    assert_int_equal(vmstate_load(&desc_v2, &e, sizeof(e), buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(e.a, 7);
    assert_int_equal(e.b, 0x12345678);
    assert_int_equal(e.c[2], 3);
    assert_int_equal(e.added_in_v2, 0xabcd);
    assert_int_equal(e.post_loaded, 1);
}

static void test_old_version_keeps_new_fields(void **state)
{
    (void)state;
    struct dev_v2 d = { 1, 2, { 3, 4, 5 }, 6, 0 };
    uint8_t buf[256];
    long n = vmstate_save(&desc_v1, &d, buf, sizeof(buf));
    struct dev_v2 e = { .added_in_v2 = 0x77 };
    char err[200];
    assert_int_equal(vmstate_load(&desc_v2, &e, sizeof(e), buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(e.b, 2);
    assert_int_equal(e.added_in_v2, 0x77);
}

static void test_newer_version_rejected(void **state)
{
    (void)state;
    struct dev_v2 d = {0};
    uint8_t buf[256];
    long n = vmstate_save(&desc_v2, &d, buf, sizeof(buf));
    struct dev_v2 e = {0};
    char err[200];
    assert_int_equal(vmstate_load(&desc_v1, &e, sizeof(e), buf, (size_t)n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "newer"));
}

static void test_truncated_and_garbage(void **state)
{
    (void)state;
    struct dev_v2 d = { 9, 9, { 9, 9, 9 }, 9, 0 };
    uint8_t buf[256];
    long n = vmstate_save(&desc_v2, &d, buf, sizeof(buf));
    char err[200];
    for (long cut = 0; cut < n; cut++) {
        struct dev_v2 e = { 1, 1, { 1, 1, 1 }, 1, 0 };
        assert_int_equal(vmstate_load(&desc_v2, &e, sizeof(e), buf, (size_t)cut, err, sizeof(err)), -1);
        assert_int_equal(e.a, 1);        /* unchanged on failure */
        assert_int_equal(e.added_in_v2, 1);
    }
    /* Random garbage must never crash and never half-load. */
    unsigned seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t g[64];
        for (size_t i = 0; i < sizeof(g); i++) {
            seed = seed * 1103515245u + 12345u;
            g[i] = (uint8_t)(seed >> 16);
        }
        if (iter & 1)
            memcpy(g, buf, 12); /* valid header, garbage body */
        struct dev_v2 e = {0};
        vmstate_load(&desc_v2, &e, sizeof(e), g, sizeof(g), err, sizeof(err));
    }
}

static void test_size_mismatch(void **state)
{
    (void)state;
    struct dev_v2 d = {0};
    uint8_t buf[256];
    long n = vmstate_save(&desc_v2, &d, buf, sizeof(buf));
    /* Field "a" is 1 byte: patch its recorded size to 2. */
    uint8_t *p = memmem(buf, (size_t)n, "\x01\x00" "a", 3);
    assert_non_null(p);
    p[3] = 2;
    struct dev_v2 e = {0};
    char err[200];
    assert_int_equal(vmstate_load(&desc_v2, &e, sizeof(e), buf, (size_t)n, err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_old_version_keeps_new_fields),
        cmocka_unit_test(test_newer_version_rejected),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_size_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
