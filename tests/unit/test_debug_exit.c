#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "debug_exit.h"
#include "rng.h"

struct fixture {
    struct debug_exit dev;
    struct bus *bus;
    unsigned calls;
    int last_status;
};

static void on_exit_request(void *opaque, int status)
{
    struct fixture *f = opaque;
    f->calls++;
    f->last_status = status;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    debug_exit_init(&f->dev, on_exit_request, f);
    f->bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(f->bus, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, &debug_exit_bus_ops, &f->dev,
                             "debug-exit"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    debug_exit_device_ops.finalize(&f->dev);
    bus_free(f->bus);
    free(f);
    return 0;
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    uint32_t v = 0xdeadbeef;
    assert_true(bus_read(f->bus, DEBUG_EXIT_PORT, &v, 4));
    assert_int_equal(v, 0);
    uint8_t b = 0xaa;
    assert_true(bus_read(f->bus, DEBUG_EXIT_PORT + 3, &b, 1));
    assert_int_equal(b, 0);
    debug_exit_device_ops.reset(&f->dev);
    assert_int_equal(f->calls, 0);
    /* Stateless: nothing to save, by design. */
    assert_null(debug_exit_device_ops.vmstate);
    assert_string_equal(debug_exit_device_ops.name, "debug_exit");
}

static void test_exit_status(void **state)
{
    struct fixture *f = *state;
    uint8_t b = 0x10;
    bus_write(f->bus, DEBUG_EXIT_PORT, &b, 1);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->last_status, 0x21);
    b = 0;
    bus_write(f->bus, DEBUG_EXIT_PORT + 2, &b, 1);
    assert_int_equal(f->last_status, 1);
    uint16_t w = 0x1234;
    bus_write(f->bus, DEBUG_EXIT_PORT, &w, 2);
    assert_int_equal(f->last_status, 0x2469);
    /* outl as the Rust/Zig test kernels do. */
    uint32_t l = 0x20;
    bus_write(f->bus, DEBUG_EXIT_PORT, &l, 4);
    assert_int_equal(f->last_status, 0x41);
    assert_int_equal(f->calls, 4);
    /* The top bit shifts out. */
    l = 0x80000001u;
    bus_write(f->bus, DEBUG_EXIT_PORT, &l, 4);
    assert_int_equal(f->last_status, 3);
    /* Without a callback a write is harmless. */
    debug_exit_init(&f->dev, NULL, NULL);
    bus_write(f->bus, DEBUG_EXIT_PORT, &l, 4);
    assert_int_equal(f->calls, 5);
}

static void test_vmstate_roundtrip(void **state)
{
    struct fixture *f = *state;
    /* No vmstate: save/restore leaves the wiring as it is, so the device
     * works the same afterwards. */
    assert_null(debug_exit_device_ops.vmstate);
    struct debug_exit copy = f->dev;
    debug_exit_device_ops.reset(&f->dev);
    assert_memory_equal(&copy, &f->dev, sizeof(copy));
    uint8_t b = 1;
    bus_write(f->bus, DEBUG_EXIT_PORT, &b, 1);
    assert_int_equal(f->last_status, 3);
}

static void test_random_access(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 0xf4;
    unsigned writes_in_range = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint64_t addr = DEBUG_EXIT_PORT - 4 + ((r >> 2) % 12);
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        if ((r >> 8) % 2) {
            unsigned before = f->calls;
            bus_write(f->bus, addr, &val, size);
            /* An 8-byte write is split by the bus into two 4-byte ones. */
            assert_true(f->calls - before <= 2);
            if (f->calls != before) {
                writes_in_range += f->calls - before;
                assert_true(f->last_status & 1);
            }
        } else {
            bus_read(f->bus, addr, &val, size);
        }
    }
    assert_true(writes_in_range > 0);
    assert_int_equal(f->calls, writes_in_range);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
