#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"
#include "hpet.h"
#include "rng.h"

#define NS 1ull
#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

/* Register offsets and bits as the IA-PC HPET 1.0a specification gives
 * them (section 2.3), written out here rather than taken from hpet.h so the
 * test checks the header too. */
#define CAP 0x000
#define CONFIG 0x010
#define ISR 0x020
#define COUNTER 0x0f0
#define T_CFG(n) (0x100 + 0x20 * (n))
#define T_CMP(n) (0x108 + 0x20 * (n))
#define T_FSB(n) (0x110 + 0x20 * (n))

#define ENABLE_CNF 0x1ull
#define LEG_RT_CNF 0x2ull
#define TN_LEVEL (1ull << 1)
#define TN_ENB (1ull << 2)
#define TN_PERIODIC (1ull << 3)
#define TN_PER_CAP (1ull << 4)
#define TN_SIZE_CAP (1ull << 5)
#define TN_VAL_SET (1ull << 6)
#define TN_32MODE (1ull << 8)
#define TN_ROUTE(g) ((uint64_t)(g) << 9)
#define TN_FSB_EN (1ull << 14)
#define TN_FSB_CAP (1ull << 15)

/* 100 MHz: one tick per 10 ns. */
#define TICKS(ns) ((ns) / 10)

struct fixture {
    struct clock clock;
    struct hpet hpet;
    struct irq_line *gsi;   /* exactly ngsi lines, so valgrind sees any overrun */
    unsigned ngsi;
    struct bus *bus;
    int level[32];
    unsigned edges[32];
    unsigned bad;           /* set() calls for a line number >= ngsi */
    unsigned legacy_calls;
    bool legacy_on;
};

static void probe_set(void *opaque, unsigned n, int level)
{
    struct fixture *f = opaque;
    if (n >= f->ngsi || n >= 32) {
        f->bad++;
        return;
    }
    if (level && !f->level[n])
        f->edges[n]++;
    f->level[n] = level;
}

static void on_legacy(void *opaque, bool on)
{
    struct fixture *f = opaque;
    f->legacy_calls++;
    f->legacy_on = on;
}

static struct fixture *fixture_new(unsigned ngsi)
{
    struct fixture *f = calloc(1, sizeof(*f));
    clock_fake_init(&f->clock, 5 * SEC, 0);
    f->ngsi = ngsi;
    f->gsi = malloc(ngsi * sizeof(*f->gsi));
    for (unsigned i = 0; i < ngsi; i++)
        irq_line_init(&f->gsi[i], probe_set, f, i);
    assert_int_equal(hpet_init(&f->hpet, &f->clock, f->gsi, ngsi, on_legacy, f), 0);
    f->bus = bus_new("mmio", 1ull << 36);
    assert_int_equal(bus_map(f->bus, HPET_MMIO_BASE, HPET_MMIO_SIZE, &hpet_bus_ops, &f->hpet, "hpet"), 0);
    return f;
}

static void fixture_free(struct fixture *f)
{
    hpet_device_ops.finalize(&f->hpet);
    assert_int_equal(f->clock.ntimers, 0);
    assert_int_equal(f->bad, 0);
    bus_free(f->bus);
    free(f->gsi);
    free(f);
}

static int setup24(void **state)
{
    *state = fixture_new(24);
    return 0;
}

static int teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

static uint64_t rd(struct fixture *f, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    bus_read(f->bus, HPET_MMIO_BASE + off, &v, size);
    return v;
}

static void wr(struct fixture *f, uint64_t off, uint64_t v, unsigned size)
{
    bus_write(f->bus, HPET_MMIO_BASE + off, &v, size);
}

static uint64_t rd64(struct fixture *f, uint64_t off) { return rd(f, off, 8); }
static uint32_t rd32(struct fixture *f, uint64_t off) { return (uint32_t)rd(f, off, 4); }
static void wr64(struct fixture *f, uint64_t off, uint64_t v) { wr(f, off, v, 8); }
static void wr32(struct fixture *f, uint64_t off, uint32_t v) { wr(f, off, v, 4); }

static void advance(struct fixture *f, uint64_t ns)
{
    clock_fake_advance(&f->clock, ns);
}

static unsigned total_edges(const struct fixture *f)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 32; i++)
        n += f->edges[i];
    return n;
}

/* ---- capabilities and reset ---------------------------------------------- */

static void test_capabilities(void **state)
{
    struct fixture *f = *state;
    uint64_t cap = rd64(f, CAP);
    assert_int_equal(cap & 0xff, 1);                    /* REV_ID */
    assert_int_equal((cap >> 8) & 0x1f, 2);             /* NUM_TIM_CAP: 3 timers */
    assert_true(cap & (1ull << 13));                    /* COUNT_SIZE_CAP: 64-bit */
    assert_false(cap & (1ull << 14));                   /* reserved */
    assert_true(cap & (1ull << 15));                    /* LEG_RT_CAP */
    assert_int_equal((cap >> 16) & 0xffff, 0x8086);     /* VENDOR_ID */
    assert_int_equal(cap >> 32, 10000000);              /* 10 ns in fs */
    /* Linux reads the period as the dword at offset 4. */
    assert_int_equal(rd32(f, CAP + 4), 10000000);
    assert_int_equal(rd32(f, CAP), (uint32_t)cap);
    assert_int_equal(hpet_acpi_block_id(), (uint32_t)cap);
    assert_int_equal(hpet_capabilities(), cap);
    /* Read-only. */
    wr64(f, CAP, 0);
    assert_int_equal(rd64(f, CAP), cap);

    /* Power-on state: halted, legacy off, nothing pending. */
    assert_int_equal(rd64(f, CONFIG), 0);
    assert_int_equal(rd64(f, ISR), 0);
    assert_int_equal(rd64(f, COUNTER), 0);
    advance(f, 10 * MS);
    assert_int_equal(rd64(f, COUNTER), 0);

    /* Timer capabilities: timer 0 periodic and 64-bit; timers 1, 2 neither;
     * IOAPIC inputs 20-23; no FSB delivery; interrupts masked. */
    for (unsigned n = 0; n < 3; n++) {
        uint64_t c = rd64(f, T_CFG(n));
        assert_int_equal(c >> 32, 0x00f00000);
        assert_int_equal(!!(c & TN_PER_CAP), n == 0);
        assert_int_equal(!!(c & TN_SIZE_CAP), n == 0);
        assert_false(c & TN_FSB_CAP);
        assert_false(c & (TN_ENB | TN_PERIODIC | TN_LEVEL | TN_FSB_EN | TN_32MODE));
        assert_int_equal(rd64(f, T_FSB(n)), 0);
    }
    assert_int_equal(rd64(f, T_CMP(0)), UINT64_MAX);
    assert_int_equal(rd64(f, T_CMP(1)), 0xffffffffull);
    assert_int_equal(rd64(f, T_CMP(2)), 0xffffffffull);

    /* Bits a timer does not have stay clear. */
    wr64(f, T_CFG(1), TN_PERIODIC | TN_VAL_SET | TN_32MODE | TN_FSB_EN | (1ull << 7) | (1ull << 0));
    assert_false(rd64(f, T_CFG(1)) & 0xffff);
    wr64(f, T_CFG(0), TN_FSB_EN | TN_PER_CAP | TN_SIZE_CAP | TN_FSB_CAP);
    assert_int_equal(rd64(f, T_CFG(0)) & 0xffff, TN_PER_CAP | TN_SIZE_CAP);
    /* Reserved and unimplemented registers read 0 and ignore writes. */
    wr64(f, 0x008, ~0ull);
    wr64(f, 0x0f8, ~0ull);
    wr64(f, T_CFG(3), ~0ull);
    wr64(f, 0x3f8, ~0ull);
    assert_int_equal(rd64(f, 0x008), 0);
    assert_int_equal(rd64(f, 0x0f8), 0);
    assert_int_equal(rd64(f, T_CFG(3)), 0);
    assert_int_equal(rd64(f, 0x3f8), 0);
    /* General config keeps only its two bits. */
    wr64(f, CONFIG, ~0ull);
    assert_int_equal(rd64(f, CONFIG), ENABLE_CNF | LEG_RT_CNF);
    wr64(f, CONFIG, 0);
}

static void test_access_sizes(void **state)
{
    struct fixture *f = *state;
    /* Bytes, words and misaligned dwords/qwords read 0 and are dropped. */
    assert_int_equal(rd(f, CAP, 1), 0);
    assert_int_equal(rd(f, CAP + 2, 2), 0);
    assert_int_equal(rd(f, CAP + 2, 4), 0);
    assert_int_equal(rd(f, CAP + 4, 8), 0);
    wr(f, CONFIG, ENABLE_CNF, 1);
    wr(f, CONFIG, ENABLE_CNF, 2);
    wr(f, CONFIG + 1, 0x0100, 4);
    assert_int_equal(rd64(f, CONFIG), 0);
    /* The upper dword of a register on its own. */
    wr64(f, COUNTER, 0x1122334455667788ull);
    assert_int_equal(rd32(f, COUNTER + 4), 0x11223344);
    wr32(f, COUNTER + 4, 0xaabbccdd);
    assert_int_equal(rd64(f, COUNTER), 0xaabbccdd55667788ull);
    wr32(f, COUNTER, 0x01020304);
    assert_int_equal(rd64(f, COUNTER), 0xaabbccdd01020304ull);
    /* The last dword of the block; nothing past it is ours. */
    assert_int_equal(rd(f, HPET_MMIO_SIZE - 4, 4), 0);
    assert_int_equal(hpet_bus_ops.read(&f->hpet, HPET_MMIO_SIZE, 4), 0);
    assert_int_equal(hpet_bus_ops.read(&f->hpet, HPET_MMIO_SIZE - 4, 8), 0);
    hpet_bus_ops.write(&f->hpet, UINT64_MAX - 3, ~0ull, 4);
    hpet_bus_ops.write(&f->hpet, HPET_MMIO_SIZE - 4, ~0ull, 8);
    assert_int_equal(rd64(f, CONFIG), 0);
}

/* ---- main counter -------------------------------------------------------- */

static void test_counter(void **state)
{
    struct fixture *f = *state;
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 1 * MS);
    assert_int_equal(rd64(f, COUNTER), 100000);         /* 100 MHz */
    advance(f, 25 * NS);
    assert_int_equal(rd64(f, COUNTER), 100002);         /* whole ticks only */
    advance(f, 5 * NS);
    assert_int_equal(rd64(f, COUNTER), 100003);
    /* Writes while running are ignored. */
    wr64(f, COUNTER, 7);
    assert_int_equal(rd64(f, COUNTER), 100003);
    /* Halted: holds still and takes writes. */
    wr64(f, CONFIG, 0);
    advance(f, 3 * SEC);
    assert_int_equal(rd64(f, COUNTER), 100003);
    wr64(f, COUNTER, 0xfffffffffffffff0ull);
    assert_int_equal(rd64(f, COUNTER), 0xfffffffffffffff0ull);
    /* Runs on from the written value and wraps through zero. */
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 150 * NS);
    assert_int_equal(rd64(f, COUNTER), 0xffffffffffffffffull);
    advance(f, 20 * NS);
    assert_int_equal(rd64(f, COUNTER), 1);
    advance(f, 1 * SEC);
    assert_int_equal(rd64(f, COUNTER), 100000001);
    /* Legacy routing alone does not run the counter. */
    wr64(f, CONFIG, LEG_RT_CNF);
    uint64_t held = rd64(f, COUNTER);
    advance(f, 1 * MS);
    assert_int_equal(rd64(f, COUNTER), held);
    /* Reset: halted at zero. */
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 1 * MS);
    hpet_device_ops.reset(&f->hpet);
    assert_int_equal(rd64(f, COUNTER), 0);
    assert_int_equal(rd64(f, CONFIG), 0);
    advance(f, 1 * MS);
    assert_int_equal(rd64(f, COUNTER), 0);
}

/* ---- one-shot ------------------------------------------------------------ */

static void test_oneshot(void **state)
{
    struct fixture *f = *state;
    /* Timer 2 (32-bit), edge, to IOAPIC input 21, 500 us after start. */
    wr64(f, T_CFG(2), TN_ENB | TN_ROUTE(21));
    assert_int_equal((rd64(f, T_CFG(2)) >> 9) & 0x1f, 21);
    wr64(f, T_CMP(2), TICKS(500 * US));
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 500 * US - 10 * NS);
    assert_int_equal(total_edges(f), 0);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[21], 1);
    assert_int_equal(f->level[21], 0);                  /* a pulse */
    assert_int_equal(total_edges(f), 1);
    /* Once: the comparator stays, the counter has passed it. */
    advance(f, 10 * SEC);
    assert_int_equal(total_edges(f), 1);
    assert_int_equal(rd64(f, T_CMP(2)), TICKS(500 * US));
    assert_int_equal(rd64(f, ISR), 0);                  /* edge: no status */
    /* A 32-bit comparator matches again when the counter's low half wraps:
     * 2^32 ticks after the first match. */
    uint64_t now_ticks = rd64(f, COUNTER);
    uint64_t wrap = TICKS(500 * US) + (1ull << 32);
    advance(f, (wrap - now_ticks) * 10 - 10 * NS);
    assert_int_equal(total_edges(f), 1);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[21], 2);

    /* Re-programming: a new comparator ahead of the counter fires there. */
    uint64_t c = rd64(f, COUNTER);
    wr64(f, T_CMP(2), (c + 1234) & 0xffffffff);
    advance(f, 1233 * 10 * NS);
    assert_int_equal(f->edges[21], 2);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[21], 3);

    /* Masked (Tn_INT_ENB_CNF clear): no interrupt. */
    wr64(f, T_CFG(2), TN_ROUTE(21));
    c = rd64(f, COUNTER);
    wr64(f, T_CMP(2), (c + 100) & 0xffffffff);
    advance(f, 1 * MS);
    assert_int_equal(f->edges[21], 3);

    /* Halted counter: no match, however long we wait. */
    wr64(f, T_CFG(2), TN_ENB | TN_ROUTE(21));
    wr64(f, CONFIG, 0);
    c = rd64(f, COUNTER);
    wr64(f, T_CMP(2), (c + 100) & 0xffffffff);
    advance(f, 1 * SEC);
    assert_int_equal(f->edges[21], 3);
    assert_int_equal(clock_next_deadline(&f->clock), UINT64_MAX);
    /* Started again: 100 ticks later. */
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 990 * NS);
    assert_int_equal(f->edges[21], 3);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[21], 4);

    /* A comparator equal to the counter's value matches at once, once. */
    wr64(f, CONFIG, 0);
    wr64(f, COUNTER, 5000);
    wr64(f, T_CMP(2), 5000);
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 0);
    assert_int_equal(f->edges[21], 5);
    advance(f, 1 * SEC);
    assert_int_equal(f->edges[21], 5);
}

/* ---- periodic ------------------------------------------------------------ */

static void test_periodic(void **state)
{
    struct fixture *f = *state;
    const uint64_t period = TICKS(1 * MS);
    /* Timer 0 periodic with VAL_SET: one 64-bit write sets accumulator and
     * period; the counter starts at 0. */
    wr64(f, T_CFG(0), TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20));
    assert_true(rd64(f, T_CFG(0)) & TN_PERIODIC);
    wr64(f, T_CMP(0), period);
    assert_false(rd64(f, T_CFG(0)) & TN_VAL_SET);       /* clears itself */
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 1 * MS - 10 * NS);
    assert_int_equal(f->edges[20], 0);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[20], 1);
    /* The accumulator now holds the next match. */
    assert_int_equal(rd64(f, T_CMP(0)), 2 * period);
    for (unsigned i = 0; i < 100; i++)
        advance(f, 100 * US);
    assert_int_equal(f->edges[20], 11);
    assert_int_equal(total_edges(f), 11);
    assert_int_equal(rd64(f, T_CMP(0)), 12 * period);

    /* A write without VAL_SET changes only the period: the pending match
     * at 12 ms stays, then every 250 us. */
    wr64(f, T_CMP(0), TICKS(250 * US));
    assert_int_equal(rd64(f, T_CMP(0)), 12 * period);
    advance(f, 1 * MS - 10 * NS);
    assert_int_equal(f->edges[20], 11);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[20], 12);
    advance(f, 10 * 250 * US);
    assert_int_equal(f->edges[20], 22);

    /* Linux's sequence: halt, read the counter, VAL_SET + absolute first
     * match, then the period, start. */
    wr64(f, CONFIG, 0);
    uint64_t now = rd64(f, COUNTER);
    wr64(f, T_CFG(0), TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_32MODE | TN_ROUTE(20));
    wr32(f, T_CMP(0), (uint32_t)(now + TICKS(50 * US)));
    wr32(f, T_CMP(0), (uint32_t)TICKS(200 * US));
    assert_int_equal(rd64(f, T_CMP(0)), (uint32_t)(now + TICKS(50 * US)));
    wr64(f, CONFIG, ENABLE_CNF);
    unsigned base = f->edges[20];
    advance(f, 50 * US);
    assert_int_equal(f->edges[20], base + 1);
    advance(f, 200 * US - 10 * NS);
    assert_int_equal(f->edges[20], base + 1);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[20], base + 2);
    advance(f, 2 * MS);
    assert_int_equal(f->edges[20], base + 12);

    /* The datasheet recipe for a 64-bit accumulator in 32-bit halves:
     * VAL_SET, low half, VAL_SET, high half. */
    wr64(f, T_CFG(0), TN_PERIODIC | TN_ROUTE(20));
    wr32(f, T_CFG(0), (uint32_t)(TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20)));
    wr32(f, T_CMP(0), 0x89abcdef);
    wr32(f, T_CFG(0), (uint32_t)(TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20)));
    wr32(f, T_CMP(0) + 4, 0x01234567);
    assert_int_equal(rd64(f, T_CMP(0)), 0x0123456789abcdefull);

    /* Switched to one-shot: no more repeats. */
    wr64(f, CONFIG, 0);
    wr64(f, COUNTER, 0);
    wr64(f, T_CFG(0), TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20));
    wr64(f, T_CMP(0), TICKS(100 * US));
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 350 * US);
    base = f->edges[20];
    wr64(f, T_CFG(0), TN_ENB | TN_ROUTE(20));
    advance(f, 1 * SEC);
    assert_int_equal(f->edges[20], base + 1);           /* the pending 400 us match */
}

static void test_periodic_extremes(void **state)
{
    struct fixture *f = *state;
    /* Period 0: the accumulator never moves, so the 64-bit comparator
     * matches once and then only after 2^64 ticks. No spinning. */
    wr64(f, T_CFG(0), TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20));
    wr64(f, T_CMP(0), 0);
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 1 * SEC);
    assert_int_equal(f->edges[20], 1);
    assert_int_equal(rd64(f, T_CMP(0)), 0);
    assert_int_equal(clock_next_deadline(&f->clock), UINT64_MAX);

    /* A 1-tick period: the host cannot deliver 100 million interrupts a
     * second; matches closer than 10 us coalesce, and the accumulator stays
     * a whole number of periods from where it started. */
    wr64(f, CONFIG, 0);
    wr64(f, COUNTER, 0);
    wr64(f, T_CFG(0), TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20));
    wr64(f, T_CMP(0), 7);
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 1 * MS);
    unsigned n = f->edges[20] - 1;
    assert_true(n >= 95 && n <= 101);
    uint64_t cmp = rd64(f, T_CMP(0));
    assert_int_equal(cmp % 7, 0);
    assert_true(cmp > rd64(f, COUNTER));

    /* A long stall of the host: one interrupt, accumulator skips ahead. */
    wr64(f, CONFIG, 0);
    wr64(f, COUNTER, 0);
    wr64(f, T_CMP(0), 0);   /* period only (VAL_SET is clear) */
    wr64(f, T_CFG(0), TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20));
    wr64(f, T_CMP(0), TICKS(1 * MS));
    wr64(f, CONFIG, ENABLE_CNF);
    unsigned before = f->edges[20];
    f->clock.fake_now_ns += 50 * MS + 500 * US;         /* main loop asleep */
    clock_run_expired(&f->clock);
    assert_int_equal(f->edges[20], before + 1);
    assert_int_equal(rd64(f, T_CMP(0)), TICKS(51 * MS));
    advance(f, 500 * US);
    assert_int_equal(f->edges[20], before + 2);
}

/* ---- level-triggered ----------------------------------------------------- */

static void test_level(void **state)
{
    struct fixture *f = *state;
    wr64(f, T_CFG(1), TN_LEVEL | TN_ENB | TN_ROUTE(22));
    wr64(f, T_CMP(1), TICKS(10 * US));
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 10 * US);
    assert_int_equal(f->level[22], 1);
    assert_int_equal(rd64(f, ISR), 1u << 1);
    /* Writing 0, or another timer's bit, changes nothing. */
    wr64(f, ISR, 0);
    wr64(f, ISR, 1u << 0);
    assert_int_equal(f->level[22], 1);
    assert_int_equal(rd64(f, ISR), 1u << 1);
    /* Halting the counter stops interrupts; the status stays. */
    wr64(f, CONFIG, 0);
    assert_int_equal(f->level[22], 0);
    assert_int_equal(rd64(f, ISR), 1u << 1);
    wr64(f, CONFIG, ENABLE_CNF);
    assert_int_equal(f->level[22], 1);
    assert_int_equal(f->edges[22], 2);
    /* Write 1 to clear. */
    wr32(f, ISR, 1u << 1);
    assert_int_equal(f->level[22], 0);
    assert_int_equal(rd64(f, ISR), 0);

    /* Masked: the status bit is still set, the line stays low until the
     * interrupt is enabled. */
    wr64(f, T_CFG(1), TN_LEVEL | TN_ROUTE(22));
    uint64_t c = rd64(f, COUNTER);
    wr64(f, T_CMP(1), (c + 1000) & 0xffffffff);
    advance(f, 10 * US);
    assert_int_equal(rd64(f, ISR), 1u << 1);
    assert_int_equal(f->level[22], 0);
    wr64(f, T_CFG(1), TN_LEVEL | TN_ENB | TN_ROUTE(22));
    assert_int_equal(f->level[22], 1);
    /* Moving the route moves the line. */
    wr64(f, T_CFG(1), TN_LEVEL | TN_ENB | TN_ROUTE(23));
    assert_int_equal(f->level[22], 0);
    assert_int_equal(f->level[23], 1);
    /* Switching to edge drops it. */
    wr64(f, T_CFG(1), TN_ENB | TN_ROUTE(23));
    assert_int_equal(f->level[23], 0);
    wr64(f, ISR, 7);
    assert_int_equal(rd64(f, ISR), 0);

    /* Two level timers on one input: a wired OR. */
    wr64(f, T_CFG(1), TN_LEVEL | TN_ENB | TN_ROUTE(20));
    wr64(f, T_CFG(2), TN_LEVEL | TN_ENB | TN_ROUTE(20));
    c = rd64(f, COUNTER);
    wr64(f, T_CMP(1), (c + 100) & 0xffffffff);
    wr64(f, T_CMP(2), (c + 200) & 0xffffffff);
    advance(f, 3 * US);
    assert_int_equal(f->level[20], 1);
    assert_int_equal(f->edges[20], 1);
    assert_int_equal(rd64(f, ISR), 6);
    wr64(f, ISR, 1u << 1);
    assert_int_equal(f->level[20], 1);
    wr64(f, ISR, 1u << 2);
    assert_int_equal(f->level[20], 0);
    /* An edge timer on a line a level timer holds high adds nothing. */
    wr64(f, T_CFG(0), TN_ENB | TN_ROUTE(20));
    c = rd64(f, COUNTER);
    wr64(f, T_CMP(1), (c + 100) & 0xffffffff);
    wr64(f, T_CMP(0), c + 200);
    advance(f, 1 * US);
    assert_int_equal(f->edges[20], 2);
    assert_true(f->hpet.timers[0].active);
    advance(f, 2 * US);
    assert_false(f->hpet.timers[0].active);     /* it did match */
    assert_int_equal(f->level[20], 1);
    assert_int_equal(f->edges[20], 2);
    /* Reset drops the line. */
    hpet_device_ops.reset(&f->hpet);
    assert_int_equal(f->level[20], 0);
    assert_int_equal(rd64(f, ISR), 0);
}

/* ---- 32-bit mode ---------------------------------------------------------- */

static void test_32bit_mode(void **state)
{
    struct fixture *f = *state;
    wr64(f, T_CMP(0), 0xaaaaaaaa00000010ull);
    assert_int_equal(rd64(f, T_CMP(0)), 0xaaaaaaaa00000010ull);
    /* Entering 32-bit mode zeroes the upper half, which then ignores
     * writes and reads 0. */
    wr64(f, T_CFG(0), TN_32MODE | TN_ENB | TN_ROUTE(20));
    assert_true(rd64(f, T_CFG(0)) & TN_32MODE);
    assert_int_equal(rd64(f, T_CMP(0)), 0x10);
    wr64(f, T_CMP(0), 0xbbbbbbbb00000010ull);
    wr32(f, T_CMP(0) + 4, 0xcccccccc);
    assert_int_equal(rd64(f, T_CMP(0)), 0x10);
    assert_int_equal(rd32(f, T_CMP(0) + 4), 0);
    /* The comparison takes the counter's low 32 bits: from 0xfffffff0 the
     * counter meets 0x10 after 0x20 ticks. */
    wr64(f, COUNTER, 0xfffffff0);
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 0x1f * 10 * NS);
    assert_int_equal(f->edges[20], 0);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[20], 1);
    assert_int_equal(rd64(f, COUNTER), 0x100000010ull);

    /* The same in 64-bit mode is 2^64 - 2^32 ticks away: never. */
    wr64(f, CONFIG, 0);
    wr64(f, COUNTER, 0xfffffff0);
    wr64(f, T_CFG(0), TN_ENB | TN_ROUTE(20));
    wr64(f, T_CMP(0), 0x10);
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 1 * SEC);
    assert_int_equal(f->edges[20], 1);

    /* Timer 1 is 32-bit only: the upper half reads 0, writes vanish. */
    wr64(f, T_CMP(1), 0x1234567800000040ull);
    assert_int_equal(rd64(f, T_CMP(1)), 0x40);
    wr64(f, T_CFG(1), TN_32MODE | TN_ENB | TN_ROUTE(21));
    assert_false(rd64(f, T_CFG(1)) & TN_32MODE);
    wr64(f, CONFIG, 0);
    wr64(f, COUNTER, 0x7fffffffffffffc0ull);
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 0x7f * 10 * NS);
    assert_int_equal(f->edges[21], 0);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[21], 1);

    /* A periodic 32-bit accumulator wraps through 0. */
    wr64(f, CONFIG, 0);
    wr64(f, COUNTER, 0xfffffe00);
    wr64(f, T_CFG(0), TN_32MODE | TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20));
    wr64(f, T_CMP(0), 0xffffff00);
    wr64(f, T_CMP(0), 0x20000);
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 0x100 * 10 * NS);
    assert_int_equal(f->edges[20], 2);
    assert_int_equal(rd64(f, T_CMP(0)), 0x1ff00);
    advance(f, 0x20000 * 10 * NS);
    assert_int_equal(f->edges[20], 3);
    assert_int_equal(rd64(f, T_CMP(0)), 0x3ff00);
    /* Leaving 32-bit mode keeps the (zero) upper half. */
    wr64(f, T_CFG(0), TN_ENB | TN_PERIODIC | TN_ROUTE(20));
    assert_int_equal(rd64(f, T_CMP(0)), 0x3ff00);
}

/* ---- legacy replacement ---------------------------------------------------- */

static void test_legacy(void **state)
{
    struct fixture *f = *state;
    wr64(f, T_CFG(0), TN_ENB | TN_ROUTE(20));
    wr64(f, T_CFG(1), TN_ENB | TN_ROUTE(21));
    wr64(f, T_CMP(0), 1000);
    wr64(f, T_CMP(1), 2000);
    /* The routes stay as written; legacy routing overrides them. */
    wr64(f, CONFIG, ENABLE_CNF | LEG_RT_CNF);
    assert_int_equal(f->legacy_calls, 1);
    assert_true(f->legacy_on);
    assert_int_equal(hpet_legacy_enabled(&f->hpet), true);
    assert_int_equal((rd64(f, T_CFG(0)) >> 9) & 0x1f, 20);
    advance(f, 30 * US);
    assert_int_equal(f->edges[0], 1);
    assert_int_equal(f->edges[8], 1);
    assert_int_equal(total_edges(f), 2);
    /* Rewriting the same value reports nothing new. */
    wr64(f, CONFIG, ENABLE_CNF | LEG_RT_CNF);
    wr32(f, CONFIG + 4, 0);
    assert_int_equal(f->legacy_calls, 1);
    /* Off: the timers' own routes again. */
    wr64(f, CONFIG, ENABLE_CNF);
    assert_int_equal(f->legacy_calls, 2);
    assert_false(f->legacy_on);
    uint64_t c = rd64(f, COUNTER);
    wr64(f, T_CMP(0), c + 1000);
    wr64(f, T_CMP(1), (c + 2000) & 0xffffffff);
    advance(f, 30 * US);
    assert_int_equal(f->edges[20], 1);
    assert_int_equal(f->edges[21], 1);
    assert_int_equal(f->edges[0], 1);
    assert_int_equal(f->edges[8], 1);
    /* Timer 2 keeps its route under legacy routing. */
    wr64(f, T_CFG(2), TN_ENB | TN_ROUTE(23));
    wr64(f, CONFIG, ENABLE_CNF | LEG_RT_CNF);
    assert_int_equal(f->legacy_calls, 3);
    c = rd64(f, COUNTER);
    wr64(f, T_CMP(2), (c + 1000) & 0xffffffff);
    advance(f, 30 * US);
    assert_int_equal(f->edges[23], 1);
    /* A pending level interrupt follows the routing switch. */
    wr64(f, CONFIG, ENABLE_CNF);
    wr64(f, T_CFG(1), TN_LEVEL | TN_ENB | TN_ROUTE(21));
    c = rd64(f, COUNTER);
    wr64(f, T_CMP(1), (c + 1000) & 0xffffffff);
    advance(f, 30 * US);
    assert_int_equal(f->level[21], 1);
    wr64(f, CONFIG, ENABLE_CNF | LEG_RT_CNF);
    assert_int_equal(f->level[21], 0);
    assert_int_equal(f->level[8], 1);
    /* Legacy routing is reported with the counter halted, too. */
    wr64(f, CONFIG, LEG_RT_CNF);
    assert_int_equal(f->level[8], 0);
    assert_true(f->legacy_on);
    assert_int_equal(f->legacy_calls, 5);
    /* Reset turns it off and says so. */
    hpet_device_ops.reset(&f->hpet);
    assert_int_equal(f->legacy_calls, 6);
    assert_false(f->legacy_on);
    assert_int_equal(f->level[8], 0);
}

/* ---- routing limits --------------------------------------------------------- */

static void test_routes(void **state)
{
    (void)state;
    /* A board with 22 GSIs: only inputs 20 and 21 are advertised. */
    struct fixture *f = fixture_new(22);
    for (unsigned n = 0; n < 3; n++)
        assert_int_equal(rd64(f, T_CFG(n)) >> 32, 0x00300000);
    wr64(f, T_CFG(2), TN_ENB | TN_ROUTE(22));
    assert_int_equal((rd64(f, T_CFG(2)) >> 9) & 0x1f, 0);
    wr64(f, T_CFG(2), TN_ENB | TN_ROUTE(21));
    assert_int_equal((rd64(f, T_CFG(2)) >> 9) & 0x1f, 21);
    for (unsigned r = 0; r < 32; r++) {
        if (r == 20 || r == 21)
            continue;
        wr64(f, T_CFG(2), TN_ENB | TN_ROUTE(r));
        assert_int_equal((rd64(f, T_CFG(2)) >> 9) & 0x1f, 21);
    }
    /* The other bits of a refused write still apply. */
    wr64(f, T_CFG(2), TN_LEVEL | TN_ENB | TN_ROUTE(5));
    assert_int_equal(rd64(f, T_CFG(2)) & 0xffff, TN_LEVEL | TN_ENB | TN_ROUTE(21));
    wr64(f, T_CFG(2), TN_ENB | TN_ROUTE(21));
    wr64(f, T_CMP(2), 100);
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 10 * US);
    assert_int_equal(f->edges[21], 1);
    /* A timer left on route 0 (reset value, not advertised) interrupts
     * nothing, not GSI 0. */
    wr64(f, T_CFG(1), TN_ENB);
    uint64_t c = rd64(f, COUNTER);
    wr64(f, T_CMP(1), (c + 100) & 0xffffffff);
    advance(f, 10 * US);
    assert_int_equal(total_edges(f), 1);
    fixture_free(f);

    /* A board with 4 GSIs: no routes at all, legacy timer 1 has no line. */
    f = fixture_new(4);
    assert_int_equal(rd64(f, T_CFG(0)) >> 32, 0);
    wr64(f, T_CFG(0), TN_ENB | TN_ROUTE(20));
    wr64(f, T_CFG(1), TN_LEVEL | TN_ENB | TN_ROUTE(20));
    wr64(f, T_CMP(0), 100);
    wr64(f, T_CMP(1), 100);
    wr64(f, CONFIG, ENABLE_CNF | LEG_RT_CNF);
    advance(f, 10 * US);
    assert_int_equal(f->edges[0], 1);
    assert_int_equal(total_edges(f), 1);
    assert_int_equal(rd64(f, ISR), 2);
    wr64(f, ISR, 2);
    fixture_free(f);

    /* No lines at all. */
    struct clock clk;
    struct hpet h;
    clock_fake_init(&clk, 0, 0);
    assert_int_equal(hpet_init(&h, &clk, NULL, 24, NULL, NULL), 0);
    hpet_bus_ops.write(&h, T_CFG(0), TN_ENB | TN_ROUTE(20), 8);
    hpet_bus_ops.write(&h, T_CMP(0), 100, 8);
    hpet_bus_ops.write(&h, CONFIG, ENABLE_CNF | LEG_RT_CNF, 8);
    clock_fake_advance(&clk, 1 * MS);
    assert_int_equal(hpet_bus_ops.read(&h, COUNTER, 8), 100000);
    hpet_device_ops.finalize(&h);

    /* A full clock: init fails cleanly. */
    struct clock_timer filler[CLOCK_MAX_TIMERS];
    clock_fake_init(&clk, 0, 0);
    for (unsigned i = 0; i < CLOCK_MAX_TIMERS - 2; i++)
        assert_int_equal(clock_timer_init(&clk, &filler[i], NULL, NULL), 0);
    assert_int_equal(hpet_init(&h, &clk, NULL, 0, NULL, NULL), -1);
    assert_int_equal(clk.ntimers, CLOCK_MAX_TIMERS - 2);
}

/* ---- vmstate ------------------------------------------------------------- */

static void test_vmstate(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = hpet_device_ops.vmstate;
    wr64(f, T_CFG(0), TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_ROUTE(20));
    wr64(f, T_CMP(0), TICKS(1 * MS));
    wr64(f, T_CFG(1), TN_LEVEL | TN_ENB | TN_ROUTE(22));
    wr64(f, T_CMP(1), TICKS(2 * MS));
    wr64(f, CONFIG, ENABLE_CNF);
    advance(f, 3500 * US);
    assert_int_equal(f->edges[20], 3);
    assert_int_equal(f->level[22], 1);
    uint64_t counter = rd64(f, COUNTER);

    uint8_t buf[1024], buf2[1024];
    long n = vmstate_save(desc, &f->hpet, buf, sizeof(buf));
    assert_true(n > 0);

    /* Change everything. */
    hpet_device_ops.reset(&f->hpet);
    assert_int_equal(f->level[22], 0);
    wr64(f, T_CFG(2), TN_ENB | TN_ROUTE(23));
    wr64(f, T_CMP(2), 5);
    advance(f, 0);

    char err[200];
    assert_int_equal(vmstate_load(desc, &f->hpet, hpet_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    long n2 = vmstate_save(desc, &f->hpet, buf2, sizeof(buf2));
    assert_int_equal(n, n2);
    assert_memory_equal(buf, buf2, (size_t)n);
    assert_int_equal(f->level[22], 1);                  /* pending level re-raised */
    assert_int_equal(rd64(f, ISR), 2);
    assert_int_equal(rd64(f, COUNTER), counter);
    assert_int_equal(rd64(f, T_CMP(0)), TICKS(4 * MS));
    assert_int_equal(f->legacy_calls, 1);               /* load reports routing */
    assert_false(f->legacy_on);
    /* Timers are re-armed: timer 0 keeps its 1 ms rhythm. */
    advance(f, 500 * US - 10 * NS);
    assert_int_equal(f->edges[20], 3);
    advance(f, 10 * NS);
    assert_int_equal(f->edges[20], 4);
    advance(f, 10 * MS);
    assert_int_equal(f->edges[20], 14);
    assert_int_equal(f->edges[23], 0);

    /* A hostile stream: every bit set, a start time in the future. */
    struct hpet evil = f->hpet;
    evil.config = ~0ull;
    evil.isr = ~0ull;
    evil.counter = 1000;
    evil.run_start_ns = UINT64_MAX;
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        evil.tim_config[i] = ~0ull;
        evil.tim_cmp[i] = ~0ull;
        evil.tim_period[i] = ~0ull;
    }
    n = vmstate_save(desc, &evil, buf, sizeof(buf));
    assert_int_equal(vmstate_load(desc, &f->hpet, hpet_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(rd64(f, CONFIG), ENABLE_CNF | LEG_RT_CNF);
    assert_true(f->legacy_on);
    assert_int_equal(rd64(f, ISR), 7);
    assert_false(rd64(f, T_CFG(0)) & (TN_FSB_EN | (1ull << 7) | 1));
    assert_int_equal(rd64(f, T_CMP(1)), 0xffffffff);
    assert_int_equal(rd64(f, T_CMP(0)), 0xffffffff);     /* 32-bit mode set */
    assert_int_equal(rd64(f, COUNTER), 1000);
    advance(f, 1 * US);
    assert_int_equal(rd64(f, COUNTER), 1100);
    advance(f, 100 * MS);
    /* Wrong-sized streams are refused. */
    buf[12 + 2 + 6 + 0] = 9;   /* size field of "config" */
    assert_int_equal(vmstate_load(desc, &f->hpet, hpet_device_ops.size, buf, (size_t)n, err, sizeof(err)), -1);
}

/* ---- random access ------------------------------------------------------- */

static const uint16_t reg_offsets[] = {
    CAP, CAP + 4, CONFIG, CONFIG + 4, ISR, ISR + 4, COUNTER, COUNTER + 4,
    T_CFG(0), T_CFG(0) + 4, T_CMP(0), T_CMP(0) + 4, T_FSB(0),
    T_CFG(1), T_CFG(1) + 4, T_CMP(1), T_CMP(1) + 4, T_FSB(1),
    T_CFG(2), T_CFG(2) + 4, T_CMP(2), T_CMP(2) + 4, T_FSB(2),
    T_CFG(3), 0x3fc,
};

/* Most random writes carry values a driver might write, so timers are
 * enabled, routed and due often enough to fire. */
static uint64_t plausible_value(struct fixture *f, uint64_t off, uint64_t r)
{
    uint64_t reg = off & ~7ull;
    unsigned shift = (off & 4) ? 32 : 0;
    uint64_t v;
    if (reg == CONFIG) {
        v = (r >> 8) & 3 ? ENABLE_CNF | ((r >> 10) & LEG_RT_CNF) : (r >> 10) & 3;
    } else if (reg == COUNTER) {
        static const uint64_t starts[] = { 0, 0xffffff00ull, 0xffffffffffffff00ull, 12345 };
        v = starts[(r >> 8) & 3] + ((r >> 10) & 0xff);
    } else if (reg == ISR) {
        v = (r >> 8) & 7;
    } else if (reg >= T_CFG(0) && reg < T_CFG(3) && (reg & 0x1f) == 0) {
        static const unsigned routes[] = { 20, 21, 22, 23, 0, 5, 31, 20 };
        v = ((r >> 8) & 0x1ff) | TN_ENB | TN_ROUTE(routes[(r >> 20) & 7]);
    } else if (reg >= T_CFG(0) && reg < T_CFG(3) && (reg & 0x1f) == 8) {
        /* Due within about 0-650 us, or a short period; sometimes 0. */
        uint64_t d = (r >> 8) & 0xffff;
        v = (r >> 30) & 1 ? d : rd64(f, COUNTER) + d;
    } else {
        v = r;
    }
    return v >> shift;
}

static void test_random_access(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(22);
    const struct vmstate_desc *desc = hpet_device_ops.vmstate;
    static uint8_t buf[1024];
    char err[200];
    uint32_t seed = 0x48504554;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        uint64_t off;
        if (r & 7)
            off = reg_offsets[(r >> 3) % (sizeof(reg_offsets) / sizeof(reg_offsets[0]))];
        else
            off = (r >> 3) % (HPET_MMIO_SIZE + 8);
        static const unsigned sizes[] = { 4, 8, 4, 8, 4, 8, 1, 2 };
        unsigned size = sizes[(r >> 12) & 7];
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        switch ((r >> 16) % 16) {
        case 0: case 1: case 2: case 3: case 4:
            if (val & 3)
                val = plausible_value(f, off, val);
            bus_write(f->bus, HPET_MMIO_BASE + off, &val, size);
            break;
        case 5: case 6: case 7: case 8: case 9:
            bus_read(f->bus, HPET_MMIO_BASE + off, &val, size);
            break;
        case 10: case 11: case 12: case 13:
            advance(f, (r >> 20) % 2 ? (val % (20 * US)) : (val % (400 * US)));
            /* Nothing due is left behind, nothing spins at "now". */
            {
                uint64_t next = clock_next_deadline(&f->clock);
                assert_true(next == UINT64_MAX || next > clock_now_ns(&f->clock));
            }
            break;
        case 14:
            if ((r >> 20) % 64 == 0)
                hpet_device_ops.reset(&f->hpet);
            break;
        default:
            if ((r >> 20) % 64 == 0) {
                long n = vmstate_save(desc, &f->hpet, buf, sizeof(buf));
                assert_true(n > 0);
                assert_int_equal(vmstate_load(desc, &f->hpet, hpet_device_ops.size, buf, (size_t)n,
                                              err, sizeof(err)), 0);
            }
            break;
        }
        /* Lines only inside 0..ngsi-1, and each is high exactly when a
         * level-triggered timer holds it. */
        assert_int_equal(f->bad, 0);
        for (unsigned g = 0; g < f->ngsi; g++) {
            bool held = false;
            for (unsigned t = 0; t < HPET_NUM_TIMERS; t++)
                held |= f->hpet.timers[t].line_gsi == (int)g;
            assert_int_equal(f->level[g], held);
        }
        assert_int_equal(f->hpet.isr & ~7ull, 0);
        assert_int_equal(f->hpet.config & ~3ull, 0);
    }
    /* The loop did make the timers fire, on every kind of route. */
    assert_true(f->edges[0] > 50 && f->edges[8] > 50 && f->edges[20] > 50 && f->edges[21] > 50);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capabilities, setup24, teardown),
        cmocka_unit_test_setup_teardown(test_access_sizes, setup24, teardown),
        cmocka_unit_test_setup_teardown(test_counter, setup24, teardown),
        cmocka_unit_test_setup_teardown(test_oneshot, setup24, teardown),
        cmocka_unit_test_setup_teardown(test_periodic, setup24, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_extremes, setup24, teardown),
        cmocka_unit_test_setup_teardown(test_level, setup24, teardown),
        cmocka_unit_test_setup_teardown(test_32bit_mode, setup24, teardown),
        cmocka_unit_test_setup_teardown(test_legacy, setup24, teardown),
        cmocka_unit_test(test_routes),
        cmocka_unit_test_setup_teardown(test_vmstate, setup24, teardown),
        cmocka_unit_test(test_random_access),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
