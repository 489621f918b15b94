#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "port92.h"
#include "rng.h"

struct fixture {
    struct port92 p92;
    struct bus *bus;
    unsigned resets;
};

static void on_reset(void *opaque)
{
    struct fixture *f = opaque;
    f->resets++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    port92_init(&f->p92, on_reset, f);
    f->bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(f->bus, 0x92, 1, &port92_bus_ops, &f->p92, "port92"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    port92_device_ops.finalize(&f->p92);
    bus_free(f->bus);
    free(f);
    return 0;
}

static uint8_t inb(struct fixture *f)
{
    uint8_t v = 0;
    bus_read(f->bus, 0x92, &v, 1);
    return v;
}

static void outb(struct fixture *f, uint8_t v)
{
    bus_write(f->bus, 0x92, &v, 1);
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    /* A20 reads as enabled: Hostel never masks it. */
    assert_int_equal(inb(f), PORT92_A20);
    assert_true(port92_a20_enabled(&f->p92));
    outb(f, 0xc8);
    port92_device_ops.reset(&f->p92);
    assert_int_equal(inb(f), PORT92_A20);
    assert_int_equal(f->resets, 0);
}

static void test_a20_and_fast_reset(void **state)
{
    struct fixture *f = *state;
    outb(f, 0x00);
    assert_false(port92_a20_enabled(&f->p92));
    outb(f, PORT92_A20 | PORT92_LED_MASK);
    assert_true(port92_a20_enabled(&f->p92));
    assert_int_equal(inb(f), PORT92_A20 | PORT92_LED_MASK);
    assert_int_equal(f->resets, 0);
    /* Fast reset fires on the rising edge of bit 0 and stays set. */
    outb(f, PORT92_A20 | PORT92_FAST_RESET);
    assert_int_equal(f->resets, 1);
    assert_int_equal(inb(f), PORT92_A20 | PORT92_FAST_RESET);
    outb(f, PORT92_A20 | PORT92_FAST_RESET);
    assert_int_equal(f->resets, 1);
    /* The machine reset clears it; the next edge resets again. */
    port92_device_ops.reset(&f->p92);
    assert_int_equal(inb(f) & PORT92_FAST_RESET, 0);
    outb(f, PORT92_FAST_RESET);
    assert_int_equal(f->resets, 2);
    outb(f, 0);
    outb(f, PORT92_FAST_RESET);
    assert_int_equal(f->resets, 3);
    /* Without a callback nothing happens. */
    port92_init(&f->p92, NULL, NULL);
    outb(f, PORT92_FAST_RESET);
    assert_int_equal(f->resets, 3);
}

static void test_vmstate_roundtrip(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = port92_device_ops.vmstate;
    outb(f, 0x40);
    uint8_t buf[64], buf2[64];
    long n = vmstate_save(desc, &f->p92, buf, sizeof(buf));
    assert_true(n > 0);
    port92_device_ops.reset(&f->p92);
    outb(f, PORT92_A20 | PORT92_LOCK);
    char err[200];
    assert_int_equal(vmstate_load(desc, &f->p92, port92_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(vmstate_save(desc, &f->p92, buf2, sizeof(buf2)), n);
    assert_memory_equal(buf, buf2, (size_t)n);
    assert_int_equal(inb(f), 0x40);
    assert_false(port92_a20_enabled(&f->p92));
    /* Loading is not a write: no reset even if the stream has bit 0 set. */
    struct port92 set = f->p92;
    set.value = PORT92_FAST_RESET;
    n = vmstate_save(desc, &set, buf, sizeof(buf));
    assert_int_equal(vmstate_load(desc, &f->p92, sizeof(f->p92), buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(f->resets, 0);
}

static void test_random_access(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 92;
    unsigned edges = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint64_t addr = 0x8e + ((r >> 2) % 8);
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        uint8_t before = f->p92.value;
        if ((r >> 8) % 2) {
            bus_write(f->bus, addr, &val, size);
            /* Only a 0 -> 1 change of bit 0 counts as a reset. */
            if (!(before & PORT92_FAST_RESET) && (f->p92.value & PORT92_FAST_RESET))
                edges++;
        } else {
            bus_read(f->bus, addr, &val, size);
        }
    }
    assert_int_equal(f->resets, edges);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a20_and_fast_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
