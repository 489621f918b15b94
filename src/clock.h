/* Injectable clock and timers.
 *
 * Devices ask a clock for the time and arm timers on it, so unit tests can
 * drive them on a fake clock (clock_fake_*) and the VM runs them on the
 * host's monotonic clock from its GLib main loop.
 *
 * Timer callbacks run with the VM's device lock held (the real clock takes
 * it before calling them; the fake clock runs them from the test's thread).
 */
#ifndef HOSTEL_CLOCK_H
#define HOSTEL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct clock;
struct clock_timer;

typedef void (*clock_timer_cb)(void *opaque);

struct clock_ops {
    uint64_t (*now_ns)(struct clock *clock);
    /* Real (wall-clock) time in seconds since the epoch, for the RTC. */
    int64_t (*wall_seconds)(struct clock *clock);
    /* Called after a timer's deadline changed, so the implementation can
     * re-arm its own wake-up. */
    void (*rearm)(struct clock *clock);
};

#define CLOCK_MAX_TIMERS 32

struct clock_timer {
    struct clock *clock;
    clock_timer_cb cb;
    void *opaque;
    uint64_t deadline_ns;
    bool armed;
};

struct clock {
    const struct clock_ops *ops;
    void *impl;                 /* implementation data */
    struct clock_timer *timers[CLOCK_MAX_TIMERS];
    unsigned ntimers;
    /* Fake clock state. */
    uint64_t fake_now_ns;
    int64_t fake_wall_s;
};

uint64_t clock_now_ns(struct clock *clock);
int64_t clock_wall_seconds(struct clock *clock);

/* Register a timer (not yet armed). Returns 0, or -1 if the clock is full. */
int clock_timer_init(struct clock *clock, struct clock_timer *t, clock_timer_cb cb, void *opaque);
void clock_timer_mod(struct clock_timer *t, uint64_t deadline_ns);
void clock_timer_del(struct clock_timer *t);
/* Unregister (on device teardown). */
void clock_timer_remove(struct clock_timer *t);

/* Earliest armed deadline, or UINT64_MAX if none. */
uint64_t clock_next_deadline(struct clock *clock);
/* Run every timer whose deadline is <= now (each at most once per call). */
void clock_run_expired(struct clock *clock);

/* Fake clock for tests: time only moves when the test says so. */
void clock_fake_init(struct clock *clock, uint64_t start_ns, int64_t wall_s);
/* Advance by ns, firing timers in deadline order as their time comes. */
void clock_fake_advance(struct clock *clock, uint64_t ns);

#endif
