#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"

struct counter { int fired; uint64_t at[8]; struct clock_timer *rearm; uint64_t period; };

static void on_timer(void *opaque)
{
    struct counter *c = opaque;
    if (c->fired < 8)
        c->at[c->fired] = 0;
    c->fired++;
    if (c->rearm)
        clock_timer_mod(c->rearm, c->rearm->deadline_ns + c->period);
}

static void test_fake_clock_order(void **state)
{
    (void)state;
    struct clock clk;
    clock_fake_init(&clk, 1000, 1700000000);
    struct clock_timer t1, t2;
    struct counter c1 = {0}, c2 = {0};
    assert_int_equal(clock_timer_init(&clk, &t1, on_timer, &c1), 0);
    assert_int_equal(clock_timer_init(&clk, &t2, on_timer, &c2), 0);
    clock_timer_mod(&t1, 5000);
    clock_timer_mod(&t2, 3000);
    assert_int_equal(clock_next_deadline(&clk), 3000);
    clock_fake_advance(&clk, 1000);
    assert_int_equal(c1.fired + c2.fired, 0);
    clock_fake_advance(&clk, 1000);
    assert_int_equal(c2.fired, 1);
    assert_int_equal(c1.fired, 0);
    clock_fake_advance(&clk, 10000);
    assert_int_equal(c1.fired, 1);
    assert_int_equal(clock_now_ns(&clk), 13000);
    assert_int_equal(clock_next_deadline(&clk), UINT64_MAX);
    clock_timer_mod(&t1, 20000);
    clock_timer_del(&t1);
    clock_fake_advance(&clk, 100000);
    assert_int_equal(c1.fired, 1);
}

static void test_periodic(void **state)
{
    (void)state;
    struct clock clk;
    clock_fake_init(&clk, 0, 0);
    struct clock_timer t;
    struct counter c = { .rearm = &t, .period = 1000 };
    clock_timer_init(&clk, &t, on_timer, &c);
    clock_timer_mod(&t, 1000);
    clock_fake_advance(&clk, 10500);
    assert_int_equal(c.fired, 10);
    assert_int_equal(clock_wall_seconds(&clk), 0);
    clock_fake_advance(&clk, 2000000000ull);
    assert_int_equal(clock_wall_seconds(&clk), 2);
}

static void test_remove(void **state)
{
    (void)state;
    struct clock clk;
    clock_fake_init(&clk, 0, 0);
    struct clock_timer t[CLOCK_MAX_TIMERS + 1];
    struct counter c = {0};
    for (unsigned i = 0; i < CLOCK_MAX_TIMERS; i++)
        assert_int_equal(clock_timer_init(&clk, &t[i], on_timer, &c), 0);
    assert_int_equal(clock_timer_init(&clk, &t[CLOCK_MAX_TIMERS], on_timer, &c), -1);
    clock_timer_remove(&t[3]);
    assert_int_equal(clock_timer_init(&clk, &t[CLOCK_MAX_TIMERS], on_timer, &c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_clock_order),
        cmocka_unit_test(test_periodic),
        cmocka_unit_test(test_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
