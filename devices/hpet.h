/* HPET: High Precision Event Timer, after the IA-PC HPET specification
 * 1.0a (Intel, October 2004), as one timer block at 0xFED00000.
 *
 * What the guest sees (General Capabilities and ID, section 2.3.4): revision
 * 1, three timers, a 64-bit main counter at 100 MHz (period 10,000,000 fs),
 * legacy replacement routing, vendor 8086h.
 *
 *  - Timer 0: 64-bit (Tn_SIZE_CAP = 1, Tn_32MODE_CNF settable), periodic
 *    capable.
 *  - Timers 1 and 2: 32-bit only, one-shot only (like the ICH family, whose
 *    timers 1 and up are 32-bit): the upper halves of their comparators read
 *    as zero and ignore writes.
 *  - Interrupt routes (Tn_INT_ROUTE_CAP): IOAPIC inputs 20-23 only, and only
 *    those below the board's GSI count; GSIs 0-15 belong to ISA devices.
 *    Writing a route that is not advertised leaves the old route in place;
 *    a timer whose route is not advertised (0, the reset value) interrupts
 *    nothing. FSB (MSI-style) delivery is not offered.
 *  - Legacy replacement route (LEG_RT_CNF): timer 0 drives GSI 0 (the ISA
 *    IRQ0 line, IOAPIC pin 2 behind the ISA override) and timer 1 drives
 *    GSI 8 (the RTC line); legacy_changed(opaque, on) tells the board so it
 *    can silence the PIT's and the RTC's own interrupts while it is on.
 *
 * Register access: 4-byte accesses at 4-byte-aligned offsets and 8-byte
 * accesses at 8-byte-aligned offsets (an 8-byte write is one register write,
 * so Tn_VAL_SET_CNF covers all 64 bits of it). Any other size or alignment
 * reads as 0 and is ignored on write.
 */
#ifndef HOSTEL_HPET_H
#define HOSTEL_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "clock.h"
#include "device.h"
#include "irq.h"

#define HPET_MMIO_BASE 0xfed00000ull
#define HPET_MMIO_SIZE 0x400u           /* one timer block, section 2.3.1 */
#define HPET_NUM_TIMERS 3u
#define HPET_PERIOD_FS 10000000u        /* 10 ns: 100 MHz */
#define HPET_NS_PER_TICK 10u
/* Minimum periodic tick the ACPI HPET table should announce, in main
 * counter ticks: 100 us. Host timers cannot keep up with much less. */
#define HPET_MIN_TICK 10000u
/* The IOAPIC inputs the timers may be routed to (section 2.3.8,
 * Tn_INT_ROUTE_CAP). */
#define HPET_ROUTE_CAP_INPUTS 0x00f00000u
#define HPET_LEGACY_GSI_TIMER0 0u
#define HPET_LEGACY_GSI_TIMER1 8u

/* Register offsets (section 2.3.1). Timer n's registers are at
 * HPET_TIMER_BASE + n * HPET_TIMER_STRIDE + HPET_TN_*. */
enum {
    HPET_REG_CAP = 0x000,
    HPET_REG_CONFIG = 0x010,
    HPET_REG_ISR = 0x020,
    HPET_REG_COUNTER = 0x0f0,
    HPET_TIMER_BASE = 0x100,
    HPET_TIMER_STRIDE = 0x20,
    HPET_TN_CONFIG = 0x00,
    HPET_TN_CMP = 0x08,
    HPET_TN_FSB = 0x10,
};

/* General Capabilities and ID (section 2.3.4). */
#define HPET_CAP_REV_ID_MASK 0xffull
#define HPET_CAP_NUM_TIM_SHIFT 8
#define HPET_CAP_COUNT_SIZE (1ull << 13)
#define HPET_CAP_LEG_RT (1ull << 15)
#define HPET_CAP_VENDOR_SHIFT 16
#define HPET_CAP_PERIOD_SHIFT 32
/* General Configuration (section 2.3.5). */
#define HPET_CFG_ENABLE (1ull << 0)
#define HPET_CFG_LEGACY (1ull << 1)
/* Timer N Configuration and Capabilities (section 2.3.8). */
#define HPET_TN_LEVEL (1ull << 1)           /* Tn_INT_TYPE_CNF */
#define HPET_TN_ENABLE (1ull << 2)          /* Tn_INT_ENB_CNF */
#define HPET_TN_PERIODIC (1ull << 3)        /* Tn_TYPE_CNF */
#define HPET_TN_PERIODIC_CAP (1ull << 4)    /* Tn_PER_INT_CAP */
#define HPET_TN_SIZE_CAP (1ull << 5)        /* Tn_SIZE_CAP: 64-bit */
#define HPET_TN_VAL_SET (1ull << 6)         /* Tn_VAL_SET_CNF */
#define HPET_TN_32MODE (1ull << 8)          /* Tn_32MODE_CNF */
#define HPET_TN_ROUTE_SHIFT 9               /* Tn_INT_ROUTE_CNF, 5 bits */
#define HPET_TN_ROUTE_MASK (0x1full << HPET_TN_ROUTE_SHIFT)
#define HPET_TN_FSB_EN (1ull << 14)         /* Tn_FSB_EN_CNF */
#define HPET_TN_FSB_CAP (1ull << 15)        /* Tn_FSB_INT_DEL_CAP */
#define HPET_TN_ROUTE_CAP_SHIFT 32

struct hpet;

struct hpet_timer {
    /* Derived state (not saved). */
    struct hpet *hpet;
    unsigned index;
    struct clock_timer timer;
    /* Armed for the next comparator match, which comes when the counter
     * has run next_tick ticks since it was started (run_start_ns). */
    bool active;
    uint64_t next_tick;
    /* GSI this timer holds high as a level interrupt, or -1. */
    int line_gsi;
};

struct hpet {
    /* Wiring and derived state (not saved). */
    struct clock *clock;
    struct irq_line *gsi;
    unsigned ngsi;
    void (*legacy_changed)(void *opaque, bool on);
    void *opaque;
    uint32_t route_cap;         /* HPET_ROUTE_CAP_INPUTS below ngsi */
    bool timers_registered;
    int legacy_reported;        /* last value given to legacy_changed, -1 unknown */
    struct hpet_timer timers[HPET_NUM_TIMERS];

    /* Saved state. While ENABLE_CNF is set the main counter reads
     *   counter + (now - run_start_ns) / HPET_NS_PER_TICK;
     * while it is clear it reads counter. run_start_ns is the clock's own
     * time: restored on the same clock (or one that continues it) the
     * counter carries on exactly; if the loading clock is behind it, the
     * counter resumes from `counter` (post_load clamps the start to now).
     * vmstate has no pre-save hook to fold the running count in first. */
    uint64_t config;            /* ENABLE_CNF, LEG_RT_CNF */
    uint64_t isr;               /* Tn_INT_STS bits */
    uint64_t counter;
    uint64_t run_start_ns;
    uint64_t tim_config[HPET_NUM_TIMERS];   /* writable bits only */
    uint64_t tim_cmp[HPET_NUM_TIMERS];      /* the comparator (accumulator) */
    uint64_t tim_period[HPET_NUM_TIMERS];   /* last value written to it */
};

extern const struct device_ops hpet_device_ops;
/* Map HPET_MMIO_SIZE bytes at HPET_MMIO_BASE on the MMIO bus. */
extern const struct bus_ops hpet_bus_ops;

/* Wire the HPET to its clock and to the board's GSI lines: gsi[i] is GSI i,
 * for i < ngsi (gsi may be NULL when ngsi is 0). legacy_changed (may be
 * NULL) is called with on = true when the guest turns legacy replacement
 * routing on and false when it turns it off (or a reset or load does). The
 * struct must not move afterwards (its timers are registered with the
 * clock). Starts in the power-on state. Returns 0, or -1 if the clock has
 * no room for three more timers. */
int hpet_init(struct hpet *hpet, struct clock *clock, struct irq_line *gsi, unsigned ngsi,
              void (*legacy_changed)(void *opaque, bool on), void *opaque);

/* The General Capabilities and ID register, and its low 32 bits as the ACPI
 * HPET table's Event Timer Block ID (section 3.2.4). */
uint64_t hpet_capabilities(void);
uint32_t hpet_acpi_block_id(void);

/* Whether legacy replacement routing is on (LEG_RT_CNF). */
bool hpet_legacy_enabled(const struct hpet *hpet);

#endif
