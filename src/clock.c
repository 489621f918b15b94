#include "clock.h"

#include <stddef.h>

uint64_t clock_now_ns(struct clock *clock)
{
    return clock->ops->now_ns(clock);
}

int64_t clock_wall_seconds(struct clock *clock)
{
    return clock->ops->wall_seconds(clock);
}

int clock_timer_init(struct clock *clock, struct clock_timer *t, clock_timer_cb cb, void *opaque)
{
    if (clock->ntimers >= CLOCK_MAX_TIMERS)
        return -1;
    t->clock = clock;
    t->cb = cb;
    t->opaque = opaque;
    t->armed = false;
    t->deadline_ns = 0;
    clock->timers[clock->ntimers++] = t;
    return 0;
}

void clock_timer_mod(struct clock_timer *t, uint64_t deadline_ns)
{
    t->deadline_ns = deadline_ns;
    t->armed = true;
    if (t->clock->ops->rearm)
        t->clock->ops->rearm(t->clock);
}

void clock_timer_del(struct clock_timer *t)
{
    t->armed = false;
}

void clock_timer_remove(struct clock_timer *t)
{
    struct clock *c = t->clock;
    if (!c)
        return;
    for (unsigned i = 0; i < c->ntimers; i++) {
        if (c->timers[i] == t) {
            c->timers[i] = c->timers[--c->ntimers];
            break;
        }
    }
    t->armed = false;
    t->clock = NULL;
}

uint64_t clock_next_deadline(struct clock *clock)
{
    uint64_t best = UINT64_MAX;
    for (unsigned i = 0; i < clock->ntimers; i++)
        if (clock->timers[i]->armed && clock->timers[i]->deadline_ns < best)
            best = clock->timers[i]->deadline_ns;
    return best;
}

void clock_run_expired(struct clock *clock)
{
    uint64_t now = clock_now_ns(clock);
    for (unsigned i = 0; i < clock->ntimers; i++) {
        struct clock_timer *t = clock->timers[i];
        if (t->armed && t->deadline_ns <= now) {
            t->armed = false;
            t->cb(t->opaque);   /* may re-arm itself */
        }
    }
}

static uint64_t fake_now(struct clock *clock)
{
    return clock->fake_now_ns;
}

static int64_t fake_wall(struct clock *clock)
{
    return clock->fake_wall_s + (int64_t)(clock->fake_now_ns / 1000000000ull);
}

static const struct clock_ops fake_clock_ops = {
    .now_ns = fake_now,
    .wall_seconds = fake_wall,
    .rearm = NULL,
};

void clock_fake_init(struct clock *clock, uint64_t start_ns, int64_t wall_s)
{
    *clock = (struct clock){ .ops = &fake_clock_ops, .fake_now_ns = start_ns, .fake_wall_s = wall_s };
}

void clock_fake_advance(struct clock *clock, uint64_t ns)
{
    uint64_t end = clock->fake_now_ns + ns;
    /* Fire timers in deadline order; bound the loop so a device that keeps
     * re-arming at "now" cannot spin forever. */
    for (unsigned guard = 0; guard < 1000000; guard++) {
        uint64_t next = clock_next_deadline(clock);
        if (next > end)
            break;
        if (next > clock->fake_now_ns)
            clock->fake_now_ns = next;
        clock_run_expired(clock);
    }
    clock->fake_now_ns = end;
}
