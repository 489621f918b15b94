#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "memory.h"

static void test_small_layout(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200];
    assert_int_equal(guest_mem_init(&mem, 64 << 20, err, sizeof(err)), 0);
    assert_int_equal(mem.nregions, 1);
    assert_int_equal(guest_mem_low_size(&mem), 64 << 20);
    assert_non_null(guest_mem_ptr(&mem, 0, 64 << 20));
    assert_null(guest_mem_ptr(&mem, 1, 64 << 20));
    assert_null(guest_mem_ptr(&mem, 64 << 20, 1));
    assert_non_null(guest_mem_ptr(&mem, (64 << 20) - 1, 1));
    assert_null(guest_mem_ptr(&mem, UINT64_MAX, 2));
    uint32_t v = 0x11223344, r = 0;
    assert_int_equal(guest_mem_write(&mem, 0x1000, &v, 4), 0);
    assert_int_equal(guest_mem_read(&mem, 0x1000, &r, 4), 0);
    assert_int_equal(r, v);
    assert_int_equal(guest_mem_write(&mem, (64 << 20) - 2, &v, 4), -1);
    guest_mem_destroy(&mem);
}

static void test_hole_layout(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200];
    /* 3.5 GiB: 3 GiB low, 0.5 GiB above 4 GiB (memfd is sparse). */
    assert_int_equal(guest_mem_init(&mem, 3584ull << 20, err, sizeof(err)), 0);
    assert_int_equal(mem.nregions, 2);
    assert_int_equal(guest_mem_low_size(&mem), GUEST_PCI_HOLE_START);
    assert_null(guest_mem_ptr(&mem, GUEST_PCI_HOLE_START, 1));
    assert_non_null(guest_mem_ptr(&mem, GUEST_HIGH_RAM_START, 512 << 20));
    assert_null(guest_mem_ptr(&mem, GUEST_HIGH_RAM_START, (512 << 20) + 1));
    /* A copy across the hole fails as a whole. */
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(guest_mem_write(&mem, GUEST_PCI_HOLE_START - 4, buf, 8), -1);
    uint8_t *low = guest_mem_ptr(&mem, GUEST_PCI_HOLE_START - 4, 4);
    assert_int_equal(low[0], 0);
    guest_mem_destroy(&mem);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200];
    assert_int_equal(guest_mem_init(&mem, 4096, err, sizeof(err)), -1);
    assert_true(strlen(err) > 10);
    assert_int_equal(guest_mem_init(&mem, (64 << 20) + 1, err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_layout),
        cmocka_unit_test(test_hole_layout),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
