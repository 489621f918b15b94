/* HPET timer block.
 *
 * Register semantics follow the IA-PC HPET specification 1.0a, section 2.3
 * (register descriptions) and 2.3.9 (one-shot and periodic comparators);
 * the legacy replacement mapping is LEG_RT_CNF's (section 2.3.5).
 *
 * Time model: the main counter is not ticked; it is computed from the
 * injected clock (see struct hpet). Each timer has one clock timer armed for
 * the tick at which the counter next equals its comparator, in 64 or 32 bits
 * (Tn_SIZE_CAP / Tn_32MODE_CNF). A match raises the interrupt: an edge timer
 * pulses its line, a level timer sets its Tn_INT_STS bit and holds its line
 * high until the guest writes 1 to that bit (section 2.3.6). A one-shot
 * timer matches again when the counter wraps to the same value; a periodic
 * timer adds the last value written to its comparator (section 2.3.9).
 *
 * Choices where the specification leaves room, on purpose:
 *  - Comparator writes: with Tn_VAL_SET_CNF set, a periodic timer's write
 *    sets both the accumulator and the period; without it, only the period.
 *    A one-shot timer's write sets the comparator (and the period, which is
 *    "the last value written"). Tn_VAL_SET_CNF clears after any comparator
 *    write. This serves both a single write with VAL_SET and Linux's and
 *    FreeBSD's two writes (absolute with VAL_SET, then the period).
 *  - A host timer that fires late delivers one interrupt, not one per
 *    missed match, and one timer interrupts at most every 10 us (periods
 *    below that coalesce); a periodic accumulator skips ahead accordingly,
 *    staying a whole number of periods from where it was.
 *  - An edge-triggered timer with Tn_INT_ENB_CNF clear does not run, so a
 *    periodic accumulator does not advance while its interrupt is masked
 *    (no host wake-ups for a timer nobody hears). A level timer runs with its
 *    interrupt masked, since its status bit stays observable.
 *  - Writes to the main counter while it runs are ignored (the specification
 *    says software must halt it first).
 *  - Legacy routing and legacy_changed follow LEG_RT_CNF alone, so the PIT
 *    does not come back each time the guest halts the counter to program a
 *    timer; no HPET interrupt is delivered while ENABLE_CNF is clear.
 *  - A comparator written equal to the counter's present value matches at
 *    once.
 */
#include "hpet.h"

#include <stddef.h>
#include <string.h>

#define HPET_REV_ID 1u
#define HPET_VENDOR_ID 0x8086u
#define HPET_MASK32 0xffffffffull
#define HPET_ALL_TIMERS ((1ull << HPET_NUM_TIMERS) - 1)
/* Closest spacing of two interrupts from one timer: 10 us. A guest that
 * programs a shorter period gets the matches in between coalesced, so it
 * cannot keep the host's timer thread busy. */
#define HPET_MIN_REARM_TICKS 1000u

/* ---- capabilities ------------------------------------------------------ */

uint64_t hpet_capabilities(void)
{
    return HPET_REV_ID |
           (uint64_t)(HPET_NUM_TIMERS - 1) << HPET_CAP_NUM_TIM_SHIFT |
           HPET_CAP_COUNT_SIZE |
           HPET_CAP_LEG_RT |
           (uint64_t)HPET_VENDOR_ID << HPET_CAP_VENDOR_SHIFT |
           (uint64_t)HPET_PERIOD_FS << HPET_CAP_PERIOD_SHIFT;
}

uint32_t hpet_acpi_block_id(void)
{
    return (uint32_t)hpet_capabilities();
}

bool hpet_legacy_enabled(const struct hpet *h)
{
    return (h->config & HPET_CFG_LEGACY) != 0;
}

/* Timer 0 is the 64-bit, periodic-capable one. */
static bool timer_is_64bit_capable(unsigned n)
{
    return n == 0;
}

static bool timer_is_periodic_capable(unsigned n)
{
    return n == 0;
}

/* Read-only capability bits of Timer N Configuration (section 2.3.8). */
static uint64_t timer_caps(const struct hpet *h, unsigned n)
{
    uint64_t caps = (uint64_t)h->route_cap << HPET_TN_ROUTE_CAP_SHIFT;
    if (timer_is_periodic_capable(n))
        caps |= HPET_TN_PERIODIC_CAP;
    if (timer_is_64bit_capable(n))
        caps |= HPET_TN_SIZE_CAP;
    return caps;
}

/* Bits of Timer N Configuration the guest may set. FSB delivery is not
 * offered, so Tn_FSB_EN_CNF stays 0. */
static uint64_t timer_writable(unsigned n)
{
    uint64_t w = HPET_TN_LEVEL | HPET_TN_ENABLE | HPET_TN_ROUTE_MASK;
    if (timer_is_periodic_capable(n))
        w |= HPET_TN_PERIODIC | HPET_TN_VAL_SET;
    if (timer_is_64bit_capable(n))
        w |= HPET_TN_32MODE;
    return w;
}

/* Comparator width as a mask: 32 bits for 32-bit timers and for a 64-bit
 * timer in 32-bit mode. */
static uint64_t timer_mask(const struct hpet *h, unsigned n)
{
    if (!timer_is_64bit_capable(n) || (h->tim_config[n] & HPET_TN_32MODE))
        return HPET_MASK32;
    return UINT64_MAX;
}

static bool timer_periodic(const struct hpet *h, unsigned n)
{
    return timer_is_periodic_capable(n) && (h->tim_config[n] & HPET_TN_PERIODIC);
}

/* ---- main counter ------------------------------------------------------ */

static bool hpet_running(const struct hpet *h)
{
    return (h->config & HPET_CFG_ENABLE) != 0;
}

/* Ticks since the counter was last started. */
static uint64_t hpet_elapsed(const struct hpet *h)
{
    uint64_t now = clock_now_ns(h->clock);
    return now > h->run_start_ns ? (now - h->run_start_ns) / HPET_NS_PER_TICK : 0;
}

static uint64_t hpet_counter_now(const struct hpet *h)
{
    return hpet_running(h) ? h->counter + hpet_elapsed(h) : h->counter;
}

/* ---- interrupt lines ---------------------------------------------------- */

/* The GSI timer n interrupts, or -1 if none: the legacy mapping for timers 0
 * and 1 (section 2.3.5, LEG_RT_CNF), else the route if it is advertised. */
static int timer_gsi(const struct hpet *h, unsigned n)
{
    if (hpet_legacy_enabled(h) && n < 2) {
        unsigned g = n == 0 ? HPET_LEGACY_GSI_TIMER0 : HPET_LEGACY_GSI_TIMER1;
        return g < h->ngsi ? (int)g : -1;
    }
    unsigned route = (unsigned)((h->tim_config[n] & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
    /* route_cap only has bits below ngsi. */
    if ((h->route_cap >> route) & 1)
        return (int)route;
    return -1;
}

/* The GSI a level-triggered timer should hold high now, or -1. */
static int timer_wanted_level_gsi(const struct hpet *h, unsigned n)
{
    uint64_t cfg = h->tim_config[n];
    if (!hpet_running(h) || !(cfg & HPET_TN_LEVEL) || !(cfg & HPET_TN_ENABLE) ||
        !(h->isr & (1ull << n)))
        return -1;
    return timer_gsi(h, n);
}

static bool gsi_held(const struct hpet *h, int g)
{
    for (unsigned m = 0; m < HPET_NUM_TIMERS; m++)
        if (h->timers[m].line_gsi == g)
            return true;
    return false;
}

/* Drive every GSI whose wired-OR of level-triggered timers changed. Timers
 * that share a GSI keep it high until the last of them lets go. */
static void hpet_update_lines(struct hpet *h)
{
    int want[HPET_NUM_TIMERS];
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++)
        want[n] = timer_wanted_level_gsi(h, n);
    int done[2 * HPET_NUM_TIMERS];
    unsigned ndone = 0;
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        int cand[2] = { h->timers[n].line_gsi, want[n] };
        for (unsigned c = 0; c < 2; c++) {
            int g = cand[c];
            if (g < 0)
                continue;
            bool seen = false;
            for (unsigned i = 0; i < ndone; i++)
                seen |= done[i] == g;
            if (seen)
                continue;
            done[ndone++] = g;
            bool was = gsi_held(h, g), now = false;
            for (unsigned m = 0; m < HPET_NUM_TIMERS; m++)
                now |= want[m] == g;
            if (was != now)
                irq_set_level(&h->gsi[g], now);
        }
    }
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++)
        h->timers[n].line_gsi = want[n];
}

/* Comparator match: the interrupt of section 2.3.8 (Tn_INT_TYPE_CNF). */
static void timer_interrupt(struct hpet *h, unsigned n)
{
    uint64_t cfg = h->tim_config[n];
    if (cfg & HPET_TN_LEVEL) {
        h->isr |= 1ull << n;
        hpet_update_lines(h);
    } else if (cfg & HPET_TN_ENABLE) {
        int g = timer_gsi(h, n);
        /* A line a level timer holds high cannot show another edge. */
        if (g >= 0 && !gsi_held(h, g))
            irq_pulse(&h->gsi[g]);
    }
}

static void hpet_report_legacy(struct hpet *h)
{
    int on = hpet_legacy_enabled(h) ? 1 : 0;
    if (on == h->legacy_reported)
        return;
    h->legacy_reported = on;
    if (h->legacy_changed)
        h->legacy_changed(h->opaque, on);
}

/* ---- timer scheduling --------------------------------------------------- */

/* A timer runs while the counter runs and a match has an effect. */
static bool timer_should_run(const struct hpet *h, unsigned n)
{
    return hpet_running(h) && (h->tim_config[n] & (HPET_TN_ENABLE | HPET_TN_LEVEL));
}

static void timer_stop(struct hpet *h, unsigned n)
{
    struct hpet_timer *t = &h->timers[n];
    t->active = false;
    if (h->timers_registered)
        clock_timer_del(&t->timer);
}

/* Arm the clock timer for next_tick; a match beyond what a 64-bit
 * nanosecond clock can name (centuries away) is never armed. */
static void timer_schedule(struct hpet *h, unsigned n)
{
    struct hpet_timer *t = &h->timers[n];
    if (!h->timers_registered || t->next_tick > (UINT64_MAX - h->run_start_ns) / HPET_NS_PER_TICK) {
        timer_stop(h, n);
        return;
    }
    t->active = true;
    clock_timer_mod(&t->timer, h->run_start_ns + t->next_tick * HPET_NS_PER_TICK);
}

/* Find the next tick at which the counter equals the comparator, from the
 * present one on, and arm for it (or stop if the timer should not run). */
static void timer_restart(struct hpet *h, unsigned n)
{
    if (!timer_should_run(h, n)) {
        timer_stop(h, n);
        return;
    }
    struct hpet_timer *t = &h->timers[n];
    uint64_t e = hpet_elapsed(h);
    uint64_t d = (h->tim_cmp[n] - (h->counter + e)) & timer_mask(h, n);
    t->next_tick = d > UINT64_MAX - e ? UINT64_MAX : e + d;
    timer_schedule(h, n);
}

static void hpet_restart_all(struct hpet *h)
{
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++)
        timer_restart(h, n);
}

static void timer_expired(void *opaque)
{
    struct hpet_timer *t = opaque;
    struct hpet *h = t->hpet;
    unsigned n = t->index;
    if (!t->active || !timer_should_run(h, n)) {
        t->active = false;
        return;
    }
    uint64_t e = hpet_elapsed(h);
    if (e < t->next_tick) {
        timer_schedule(h, n);
        return;
    }
    /* Distance to the following match: the period for a periodic timer
     * (section 2.3.9), else a full turn of the comparator's width. 0 stands
     * for 2^64, which never comes. A period of 0 is a full turn too, so
     * nothing can fire back to back. */
    uint64_t mask = timer_mask(h, n);
    uint64_t step = mask == HPET_MASK32 ? HPET_MASK32 + 1 : 0;
    bool periodic = timer_periodic(h, n);
    if (periodic && (h->tim_period[n] & mask))
        step = h->tim_period[n] & mask;
    if (step == 0) {
        t->next_tick = UINT64_MAX;
    } else {
        /* Move to the first match at least HPET_MIN_REARM_TICKS ahead:
         * matches a late host timer missed, or that come faster than the
         * host can deliver, share this one interrupt. */
        uint64_t delta = e + HPET_MIN_REARM_TICKS - t->next_tick;
        uint64_t k = delta / step + (delta % step != 0);
        if (k > UINT64_MAX / step || k * step > UINT64_MAX - t->next_tick)
            t->next_tick = UINT64_MAX;
        else
            t->next_tick += k * step;
        if (periodic)
            h->tim_cmp[n] = (h->tim_cmp[n] + k * step) & mask;
    }
    timer_interrupt(h, n);
    timer_schedule(h, n);
}

/* ---- register writes ---------------------------------------------------- */

static void hpet_write_config(struct hpet *h, uint64_t val)
{
    uint64_t old = h->config;
    h->config = val & (HPET_CFG_ENABLE | HPET_CFG_LEGACY);
    if ((old ^ h->config) & HPET_CFG_ENABLE) {
        if (h->config & HPET_CFG_ENABLE) {
            h->run_start_ns = clock_now_ns(h->clock);
        } else {
            /* Halt: the counter keeps the value it reached. */
            uint64_t now = clock_now_ns(h->clock);
            uint64_t e = now > h->run_start_ns ? (now - h->run_start_ns) / HPET_NS_PER_TICK : 0;
            h->counter += e;
        }
        hpet_restart_all(h);
    }
    hpet_update_lines(h);
    hpet_report_legacy(h);
}

static void hpet_write_timer_config(struct hpet *h, unsigned n, uint64_t val)
{
    uint64_t old = h->tim_config[n];
    bool was_running = timer_should_run(h, n);
    uint64_t w = timer_writable(n);
    uint64_t cfg = (old & ~w) | (val & w);
    /* An unadvertised route is not taken (section 2.3.8: the value read
     * back will not match what was written). */
    unsigned route = (unsigned)((cfg & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
    if (!((h->route_cap >> route) & 1))
        cfg = (cfg & ~HPET_TN_ROUTE_MASK) | (old & HPET_TN_ROUTE_MASK);
    h->tim_config[n] = cfg;
    bool width_changed = ((old ^ cfg) & HPET_TN_32MODE) != 0;
    if ((cfg & HPET_TN_32MODE) && width_changed) {
        /* Entering 32-bit mode loads zeros into the upper halves. */
        h->tim_cmp[n] &= HPET_MASK32;
        h->tim_period[n] &= HPET_MASK32;
    }
    if (!was_running || width_changed || !timer_should_run(h, n))
        timer_restart(h, n);
    hpet_update_lines(h);
}

/* Section 2.3.9: see the comment at the top of this file for VAL_SET. */
static void hpet_write_comparator(struct hpet *h, unsigned n, uint64_t val, uint64_t mask)
{
    mask &= timer_mask(h, n);
    if (!mask)
        return;
    uint64_t cmp = (h->tim_cmp[n] & ~mask) | (val & mask);
    uint64_t period = (h->tim_period[n] & ~mask) | (val & mask);
    bool set_cmp = !timer_periodic(h, n) || (h->tim_config[n] & HPET_TN_VAL_SET);
    h->tim_config[n] &= ~HPET_TN_VAL_SET;
    h->tim_period[n] = period;
    if (set_cmp && cmp != h->tim_cmp[n]) {
        h->tim_cmp[n] = cmp;
        timer_restart(h, n);
    }
}

/* Apply a write of the bits in mask (a 32-bit half or all 64 bits) to the
 * 64-bit register at the 8-byte-aligned offset reg. */
static void hpet_write_reg(struct hpet *h, uint64_t reg, uint64_t val, uint64_t mask)
{
    val &= mask;
    switch (reg) {
    case HPET_REG_CONFIG:
        hpet_write_config(h, (h->config & ~mask) | val);
        return;
    case HPET_REG_ISR:
        /* Write 1 to clear (section 2.3.6). */
        h->isr &= ~(val & HPET_ALL_TIMERS);
        hpet_update_lines(h);
        return;
    case HPET_REG_COUNTER:
        if (!hpet_running(h))
            h->counter = (h->counter & ~mask) | val;
        return;
    default:
        break;
    }
    if (reg < HPET_TIMER_BASE)
        return;     /* capabilities (read-only) and reserved */
    uint64_t n = (reg - HPET_TIMER_BASE) / HPET_TIMER_STRIDE;
    if (n >= HPET_NUM_TIMERS)
        return;
    switch ((reg - HPET_TIMER_BASE) % HPET_TIMER_STRIDE) {
    case HPET_TN_CONFIG:
        hpet_write_timer_config(h, (unsigned)n, (h->tim_config[n] & ~mask) | val);
        break;
    case HPET_TN_CMP:
        hpet_write_comparator(h, (unsigned)n, val, mask);
        break;
    default:
        break;      /* FSB route (not offered) and reserved */
    }
}

static uint64_t hpet_read_reg(struct hpet *h, uint64_t reg)
{
    switch (reg) {
    case HPET_REG_CAP:
        return hpet_capabilities();
    case HPET_REG_CONFIG:
        return h->config;
    case HPET_REG_ISR:
        return h->isr;
    case HPET_REG_COUNTER:
        return hpet_counter_now(h);
    default:
        break;
    }
    if (reg < HPET_TIMER_BASE)
        return 0;
    uint64_t n = (reg - HPET_TIMER_BASE) / HPET_TIMER_STRIDE;
    if (n >= HPET_NUM_TIMERS)
        return 0;
    switch ((reg - HPET_TIMER_BASE) % HPET_TIMER_STRIDE) {
    case HPET_TN_CONFIG:
        return h->tim_config[n] | timer_caps(h, (unsigned)n);
    case HPET_TN_CMP:
        return h->tim_cmp[n] & timer_mask(h, (unsigned)n);
    default:
        return 0;
    }
}

static uint64_t hpet_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    if (offset >= HPET_MMIO_SIZE || size > HPET_MMIO_SIZE - offset)
        return 0;
    if (size == 8 && (offset & 7) == 0)
        return hpet_read_reg(opaque, offset);
    if (size == 4 && (offset & 3) == 0) {
        unsigned shift = (unsigned)(offset & 4) * 8;
        return (hpet_read_reg(opaque, offset & ~7ull) >> shift) & HPET_MASK32;
    }
    return 0;
}

static void hpet_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset >= HPET_MMIO_SIZE || size > HPET_MMIO_SIZE - offset)
        return;
    if (size == 8 && (offset & 7) == 0) {
        hpet_write_reg(opaque, offset, value, UINT64_MAX);
    } else if (size == 4 && (offset & 3) == 0) {
        unsigned shift = (unsigned)(offset & 4) * 8;
        hpet_write_reg(opaque, offset & ~7ull, (value & HPET_MASK32) << shift, HPET_MASK32 << shift);
    }
}

const struct bus_ops hpet_bus_ops = {
    .read = hpet_bus_read,
    .write = hpet_bus_write,
    .sizes = BUS_SIZE_4 | BUS_SIZE_8,
};

/* ---- device ------------------------------------------------------------- */

/* Power-on: counter halted at 0, legacy routing off, every timer one-shot,
 * edge, interrupt masked, route 0, comparator all ones, no status. */
static void hpet_reset(void *dev)
{
    struct hpet *h = dev;
    h->config = 0;
    h->isr = 0;
    h->counter = 0;
    h->run_start_ns = clock_now_ns(h->clock);
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        h->tim_config[n] = 0;
        h->tim_cmp[n] = timer_mask(h, n);
        h->tim_period[n] = 0;
        timer_stop(h, n);
    }
    hpet_update_lines(h);
    hpet_report_legacy(h);
}

static void hpet_finalize(void *dev)
{
    struct hpet *h = dev;
    if (!h->timers_registered)
        return;
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        clock_timer_remove(&h->timers[n].timer);
        h->timers[n].active = false;
    }
    h->timers_registered = false;
}

/* A stream may hold anything: keep only bits that exist, and a running
 * counter whose start lies ahead of this clock (another process's time)
 * resumes from its saved base instead of reading a huge jump. */
static void hpet_post_load(void *dev)
{
    struct hpet *h = dev;
    h->config &= HPET_CFG_ENABLE | HPET_CFG_LEGACY;
    h->isr &= HPET_ALL_TIMERS;
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        h->tim_config[n] &= timer_writable(n);
        h->tim_cmp[n] &= timer_mask(h, n);
        h->tim_period[n] &= timer_mask(h, n);
    }
    uint64_t now = clock_now_ns(h->clock);
    if (h->run_start_ns > now)
        h->run_start_ns = now;
    hpet_restart_all(h);
    hpet_update_lines(h);
    h->legacy_reported = -1;
    hpet_report_legacy(h);
}

static const struct vmstate_field hpet_vmstate_fields[] = {
    VMSTATE_FIELD(struct hpet, config, 1),
    VMSTATE_FIELD(struct hpet, isr, 1),
    VMSTATE_FIELD(struct hpet, counter, 1),
    VMSTATE_FIELD(struct hpet, run_start_ns, 1),
    VMSTATE_FIELD(struct hpet, tim_config, 1),
    VMSTATE_FIELD(struct hpet, tim_cmp, 1),
    VMSTATE_FIELD(struct hpet, tim_period, 1),
};

static const struct vmstate_desc hpet_vmstate = {
    .name = "hpet",
    .version = 1,
    .fields = hpet_vmstate_fields,
    .nfields = sizeof(hpet_vmstate_fields) / sizeof(hpet_vmstate_fields[0]),
    .post_load = hpet_post_load,
};

const struct device_ops hpet_device_ops = {
    .name = "hpet",
    .reset = hpet_reset,
    .finalize = hpet_finalize,
    .vmstate = &hpet_vmstate,
    .size = sizeof(struct hpet),
};

int hpet_init(struct hpet *h, struct clock *clock, struct irq_line *gsi, unsigned ngsi,
              void (*legacy_changed)(void *opaque, bool on), void *opaque)
{
    memset(h, 0, sizeof(*h));
    h->clock = clock;
    h->gsi = gsi;
    h->ngsi = gsi ? ngsi : 0;
    h->legacy_changed = legacy_changed;
    h->opaque = opaque;
    h->route_cap = HPET_ROUTE_CAP_INPUTS;
    if (h->ngsi < 32)
        h->route_cap &= (uint32_t)((1ull << h->ngsi) - 1);
    h->legacy_reported = 0;
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        struct hpet_timer *t = &h->timers[n];
        t->hpet = h;
        t->index = n;
        t->line_gsi = -1;
        if (clock_timer_init(clock, &t->timer, timer_expired, t) < 0) {
            while (n-- > 0)
                clock_timer_remove(&h->timers[n].timer);
            return -1;
        }
    }
    h->timers_registered = true;
    hpet_reset(h);
    return 0;
}
