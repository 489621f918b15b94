#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "bus.h"

struct probe {
    uint8_t regs[16];
    unsigned reads, writes;
    unsigned last_size;
    uint64_t last_off;
};

static uint64_t probe_read(void *opaque, uint64_t off, unsigned size)
{
    struct probe *p = opaque;
    p->reads++;
    p->last_size = size;
    p->last_off = off;
    uint64_t v = 0;
    if (off + size <= sizeof(p->regs))
        memcpy(&v, p->regs + off, size);
    return v;
}

static void probe_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct probe *p = opaque;
    p->writes++;
    p->last_size = size;
    p->last_off = off;
    if (off + size <= sizeof(p->regs))
        memcpy(p->regs + off, &val, size);
}

static const struct bus_ops probe_ops_all = { probe_read, probe_write, 0 };
static const struct bus_ops probe_ops_byte = { probe_read, probe_write, BUS_SIZE_1 };
static const struct bus_ops probe_ops_word = { probe_read, probe_write, BUS_SIZE_1 | BUS_SIZE_2 };

static void test_overlap_rejected(void **state)
{
    (void)state;
    struct probe a = {0}, b = {0};
    struct bus *bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(bus, 0x100, 0x10, &probe_ops_all, &a, "a"), 0);
    assert_int_equal(bus_map(bus, 0x108, 0x10, &probe_ops_all, &b, "b"), -1);
    assert_int_equal(bus_map(bus, 0xf8, 0x10, &probe_ops_all, &b, "b"), -1);
    assert_int_equal(bus_map(bus, 0x100, 1, &probe_ops_all, &b, "b"), -1);
    assert_int_equal(bus_map(bus, 0x90, 0x100, &probe_ops_all, &b, "b"), -1);
    assert_int_equal(bus_map(bus, 0x110, 0x10, &probe_ops_all, &b, "b"), 0);
    assert_int_equal(bus_map(bus, 0xf0, 0x10, &probe_ops_all, &b, "c"), 0);
    /* Beyond the limit, wrap-around, empty. */
    assert_int_equal(bus_map(bus, 0xfff0, 0x20, &probe_ops_all, &b, "d"), -1);
    assert_int_equal(bus_map(bus, 0x1000, 0, &probe_ops_all, &b, "d"), -1);
    assert_int_equal(bus_map(bus, UINT64_MAX - 1, 4, &probe_ops_all, &b, "d"), -1);
    assert_string_equal(bus_lookup_name(bus, 0x10f), "a");
    assert_string_equal(bus_lookup_name(bus, 0x110), "b");
    assert_string_equal(bus_lookup_name(bus, 0xff), "c");
    assert_null(bus_lookup_name(bus, 0x120));
    assert_int_equal(bus_unmap(bus, 0x108), -1);
    assert_int_equal(bus_unmap(bus, 0x100), 0);
    assert_null(bus_lookup_name(bus, 0x100));
    assert_int_equal(bus_map(bus, 0x100, 0x10, &probe_ops_all, &a, "a2"), 0);
    bus_free(bus);
}

static void test_offsets(void **state)
{
    (void)state;
    struct probe a = {0};
    struct bus *bus = bus_new("mmio", UINT64_MAX);
    assert_int_equal(bus_map(bus, 0xfee00000, 16, &probe_ops_all, &a, "a"), 0);
    uint32_t v = 0xdeadbeef;
    assert_true(bus_write(bus, 0xfee00004, &v, 4));
    assert_int_equal(a.last_off, 4);
    assert_int_equal(a.last_size, 4);
    uint32_t r = 0;
    assert_true(bus_read(bus, 0xfee00004, &r, 4));
    assert_int_equal(r, 0xdeadbeef);
    /* Move the mapping: the device sees the same offsets. */
    assert_int_equal(bus_unmap(bus, 0xfee00000), 0);
    assert_int_equal(bus_map(bus, 0xe0000000, 16, &probe_ops_all, &a, "a"), 0);
    r = 0;
    assert_true(bus_read(bus, 0xe0000004, &r, 4));
    assert_int_equal(r, 0xdeadbeef);
    assert_int_equal(a.last_off, 4);
    bus_free(bus);
}

static void test_unmapped(void **state)
{
    (void)state;
    struct bus *bus = bus_new("pio", 0x10000);
    uint32_t r = 0;
    assert_false(bus_read(bus, 0x80, &r, 4));
    assert_int_equal(r, 0xffffffff);
    assert_false(bus_write(bus, 0x80, &r, 4));
    assert_false(bus_read(bus, 0x80, &r, 0));
    assert_false(bus_read(bus, 0x80, &r, 9));
    bus_free(bus);
}

static void test_access_sizes_split(void **state)
{
    (void)state;
    struct probe a = {0};
    struct bus *bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(bus, 0x3f8, 8, &probe_ops_byte, &a, "uart"), 0);
    uint32_t v = 0x44332211;
    assert_true(bus_write(bus, 0x3f8, &v, 4));
    assert_int_equal(a.writes, 4);
    assert_int_equal(a.last_size, 1);
    assert_int_equal(a.regs[0], 0x11);
    assert_int_equal(a.regs[3], 0x44);
    uint32_t r = 0;
    assert_true(bus_read(bus, 0x3f8, &r, 4));
    assert_int_equal(a.reads, 4);
    assert_int_equal(r, 0x44332211);

    struct probe w = {0};
    assert_int_equal(bus_map(bus, 0x1000, 8, &probe_ops_word, &w, "w"), 0);
    uint64_t q = 0x8877665544332211ull;
    assert_true(bus_write(bus, 0x1000, &q, 8));
    assert_int_equal(w.writes, 4);
    assert_int_equal(w.last_size, 2);
    assert_int_equal(w.last_off, 6);
    bus_free(bus);
}

static void test_access_crossing_end(void **state)
{
    (void)state;
    struct probe a = {0};
    memset(a.regs, 0x5a, sizeof(a.regs));
    struct bus *bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(bus, 0x100, 2, &probe_ops_all, &a, "a"), 0);
    uint32_t r = 0;
    assert_true(bus_read(bus, 0x101, &r, 4));
    /* One byte from the device, three unmapped bytes read as 0xff. */
    assert_int_equal(r, 0xffffff5a);
    assert_int_equal(a.last_off, 1);
    assert_int_equal(a.last_size, 1);
    bus_free(bus);
}

static void test_many_ranges(void **state)
{
    (void)state;
    struct probe a = {0};
    struct bus *bus = bus_new("pio", 0x10000);
    /* Map in a scrambled order; lookups must still be right. */
    for (unsigned i = 0; i < 200; i++) {
        unsigned slot = (i * 37) % 200;
        char name[16];
        snprintf(name, sizeof(name), "r%u", slot);
        assert_int_equal(bus_map(bus, slot * 16, 8, &probe_ops_all, &a, name), 0);
    }
    for (unsigned slot = 0; slot < 200; slot++) {
        char name[16];
        snprintf(name, sizeof(name), "r%u", slot);
        assert_string_equal(bus_lookup_name(bus, slot * 16 + 7), name);
        assert_null(bus_lookup_name(bus, slot * 16 + 8));
    }
    bus_free(bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlap_rejected),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_unmapped),
        cmocka_unit_test(test_access_sizes_split),
        cmocka_unit_test(test_access_crossing_end),
        cmocka_unit_test(test_many_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
