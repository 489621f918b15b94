/* MC146818 RTC and CMOS RAM.
 *
 * Register semantics follow the Motorola MC146818A datasheet ("Registers",
 * "Update Cycle", "Interrupts"); the memory-size bytes follow the PC/AT CMOS
 * layout that BIOSes and Linux read.
 *
 * Time model: while the clock runs, the time registers are computed from the
 * clock when read (see struct mc146818), so nothing ticks in the background.
 * While it is stopped (SET, or the divider not at 32.768 kHz) the registers
 * hold a latched copy the guest may edit; starting the clock again turns that
 * copy back into an offset from host time.
 *
 * Deviations, on purpose:
 *  - The PF/AF/UF flags are produced by timers that only run while the
 *    matching interrupt is enabled, so a guest polling a flag with its
 *    interrupt masked never sees it set. Neither Linux nor SeaBIOS does that;
 *    the alternative is a 1024 Hz timer that runs forever.
 *  - Late timers do not replay missed periodic ticks or updates.
 *  - Day of week is recomputed from the date rather than kept as written;
 *    daylight-saving (DSE) and the square-wave output are not modelled.
 *  - Only the 32.768 kHz time base runs; other DV settings stop the clock.
 */
#include "mc146818.h"

#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000ull
/* Update cycle with a 32.768 kHz time base (datasheet Table 6, "Update Cycle
 * Times"): UIP rises 244 us before the update, which then takes 1984 us; the
 * update-ended flag is set when it finishes. */
#define RTC_UIP_LEAD_NS 244000u
#define RTC_UPDATE_NS 1984000u
#define RTC_TICK_HZ 32768u
/* 0001-01-01 .. 9999-12-31: what four decimal digits of year can name. */
#define RTC_TIME_MIN (-62135596800ll)
#define RTC_TIME_MAX 253402300799ll
/* Bound a loaded offset so no sum can overflow. */
#define RTC_OFFSET_LIMIT (1ll << 40)

static bool rtc_divider_running(const struct mc146818 *rtc)
{
    return (rtc->cmos[RTC_REG_A] & RTC_A_DV_MASK) == RTC_A_DV_32KHZ;
}

/* The time registers are frozen (latched, guest-editable) rather than live. */
static bool rtc_frozen(const struct mc146818 *rtc)
{
    return !rtc_divider_running(rtc) || (rtc->cmos[RTC_REG_B] & RTC_B_SET);
}

static bool rtc_is_time_reg(unsigned idx)
{
    switch (idx) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case CMOS_CENTURY:
        return true;
    default:
        return false;
    }
}

/* Monotonic nanoseconds of guest time since the anchor, phase included. */
static uint64_t rtc_total_ns(const struct mc146818 *rtc)
{
    uint64_t now = clock_now_ns(rtc->clock);
    uint64_t elapsed = now >= rtc->anchor_ns ? now - rtc->anchor_ns : 0;
    return elapsed + rtc->phase_ns;
}

static int64_t rtc_clamp_time(int64_t t)
{
    return t < RTC_TIME_MIN ? RTC_TIME_MIN : t > RTC_TIME_MAX ? RTC_TIME_MAX : t;
}

static int64_t rtc_guest_seconds(const struct mc146818 *rtc, uint64_t total)
{
    return rtc_clamp_time(rtc->anchor_wall_s + rtc->offset_s + (int64_t)(total / NS_PER_S));
}

/* Make the guest time read `target` seconds and `sub` ns into that second
 * right now. */
static void rtc_set_guest_time(struct mc146818 *rtc, int64_t target, uint32_t sub)
{
    uint64_t now = clock_now_ns(rtc->clock);
    uint64_t elapsed = now >= rtc->anchor_ns ? now - rtc->anchor_ns : 0;
    rtc->phase_ns = (uint32_t)((sub + NS_PER_S - elapsed % NS_PER_S) % NS_PER_S);
    uint64_t total = elapsed + rtc->phase_ns;
    rtc->offset_s = rtc_clamp_time(target) - rtc->anchor_wall_s - (int64_t)(total / NS_PER_S);
}

/* Register B's DM bit picks binary or BCD for every time and alarm byte. */
static uint8_t rtc_to_reg(const struct mc146818 *rtc, unsigned v)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_DM_BINARY)
        return (uint8_t)v;
    return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static unsigned rtc_from_reg(const struct mc146818 *rtc, uint8_t v)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_DM_BINARY)
        return v;
    return (v >> 4) * 10u + (v & 0x0f);
}

static uint8_t rtc_hours_to_reg(const struct mc146818 *rtc, unsigned h24)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return rtc_to_reg(rtc, h24);
    /* 12-hour mode: 1-12 with bit 7 meaning PM. */
    unsigned h12 = h24 % 12 ? h24 % 12 : 12;
    return (uint8_t)(rtc_to_reg(rtc, h12) | (h24 >= 12 ? 0x80 : 0));
}

static unsigned rtc_hours_from_reg(const struct mc146818 *rtc, uint8_t v)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return rtc_from_reg(rtc, v);
    unsigned h = rtc_from_reg(rtc, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

/* Copy the running time into the time registers. */
static void rtc_latch(struct mc146818 *rtc)
{
    time_t t = (time_t)rtc_guest_seconds(rtc, rtc_total_ns(rtc));
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return;
    unsigned year = (unsigned)(tm.tm_year + 1900);
    rtc->cmos[RTC_SECONDS] = rtc_to_reg(rtc, (unsigned)tm.tm_sec);
    rtc->cmos[RTC_MINUTES] = rtc_to_reg(rtc, (unsigned)tm.tm_min);
    rtc->cmos[RTC_HOURS] = rtc_hours_to_reg(rtc, (unsigned)tm.tm_hour);
    rtc->cmos[RTC_DAY_OF_WEEK] = rtc_to_reg(rtc, (unsigned)tm.tm_wday + 1);
    rtc->cmos[RTC_DAY_OF_MONTH] = rtc_to_reg(rtc, (unsigned)tm.tm_mday);
    rtc->cmos[RTC_MONTH] = rtc_to_reg(rtc, (unsigned)tm.tm_mon + 1);
    rtc->cmos[RTC_YEAR] = rtc_to_reg(rtc, year % 100);
    rtc->cmos[CMOS_CENTURY] = rtc_to_reg(rtc, year / 100);
}

static unsigned rtc_clamp(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Interpret the time registers as the guest's time. Out-of-range values
 * (the guest may write anything) are clamped; timegm normalises the rest,
 * e.g. 31 February. */
static int64_t rtc_registers_to_time(const struct mc146818 *rtc)
{
    unsigned year = rtc_clamp(rtc_from_reg(rtc, rtc->cmos[RTC_YEAR]), 0, 99);
    unsigned century = rtc_from_reg(rtc, rtc->cmos[CMOS_CENTURY]);
    if (century > 99)
        century = year < 70 ? 20 : 19;
    struct tm tm = {
        .tm_sec = (int)rtc_clamp(rtc_from_reg(rtc, rtc->cmos[RTC_SECONDS]), 0, 59),
        .tm_min = (int)rtc_clamp(rtc_from_reg(rtc, rtc->cmos[RTC_MINUTES]), 0, 59),
        .tm_hour = (int)rtc_clamp(rtc_hours_from_reg(rtc, rtc->cmos[RTC_HOURS]), 0, 23),
        .tm_mday = (int)rtc_clamp(rtc_from_reg(rtc, rtc->cmos[RTC_DAY_OF_MONTH]), 1, 31),
        .tm_mon = (int)rtc_clamp(rtc_from_reg(rtc, rtc->cmos[RTC_MONTH]), 1, 12) - 1,
        .tm_year = (int)(century * 100 + year) - 1900,
    };
    return rtc_clamp_time((int64_t)timegm(&tm));
}

/* Start the clock from the time registers, `sub` ns into the second. */
static void rtc_apply(struct mc146818 *rtc, uint32_t sub)
{
    rtc_set_guest_time(rtc, rtc_registers_to_time(rtc), sub);
}

static uint32_t rtc_sub_ns(const struct mc146818 *rtc)
{
    return (uint32_t)(rtc_total_ns(rtc) % NS_PER_S);
}

/* IRQF = PF.PIE + AF.AIE + UF.UIE (Register C); the IRQ pin follows it. */
static void rtc_update_irq(struct mc146818 *rtc)
{
    uint8_t flags = rtc->cmos[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);
    if (flags & rtc->cmos[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE))
        flags |= RTC_C_IRQF;
    rtc->cmos[RTC_REG_C] = flags;
    int level = (flags & RTC_C_IRQF) ? 1 : 0;
    if (level != rtc->irq_level) {
        rtc->irq_level = level;
        irq_set_level(rtc->irq, level);
    }
}

/* Periodic interrupt period in 32.768 kHz ticks (Register A, RS3-RS0,
 * datasheet Table 5): 0 is off, 1 and 2 alias to 8 and 9. */
static uint32_t rtc_period_ticks(const struct mc146818 *rtc)
{
    unsigned rs = rtc->cmos[RTC_REG_A] & RTC_A_RS_MASK;
    if (rs == 0)
        return 0;
    if (rs <= 2)
        rs += 7;
    return 1u << (rs - 1);
}

/* Nanoseconds from now to the next periodic tick. Ticks are aligned to the
 * guest's second, like the divider chain taps they come from. */
static uint64_t rtc_periodic_delay(const struct mc146818 *rtc, uint32_t period)
{
    uint64_t sub = rtc_sub_ns(rtc);
    uint64_t ticks = sub * RTC_TICK_HZ / NS_PER_S;
    uint64_t next = (ticks / period + 1) * period;
    uint64_t next_sub = (next * NS_PER_S + RTC_TICK_HZ - 1) / RTC_TICK_HZ;
    return next_sub - sub;
}

/* Nanoseconds from now to the end of the next update cycle. */
static uint64_t rtc_update_delay(const struct mc146818 *rtc)
{
    uint64_t sub = rtc_sub_ns(rtc);
    uint64_t d = (RTC_UPDATE_NS + NS_PER_S - sub) % NS_PER_S;
    return d ? d : NS_PER_S;
}

static void rtc_rearm(struct mc146818 *rtc)
{
    if (!rtc->timers_registered)
        return;
    uint64_t now = clock_now_ns(rtc->clock);
    uint32_t period = rtc_period_ticks(rtc);
    if (rtc_divider_running(rtc) && (rtc->cmos[RTC_REG_B] & RTC_B_PIE) && period)
        clock_timer_mod(&rtc->periodic_timer, now + rtc_periodic_delay(rtc, period));
    else
        clock_timer_del(&rtc->periodic_timer);
    if (!rtc_frozen(rtc) && (rtc->cmos[RTC_REG_B] & (RTC_B_UIE | RTC_B_AIE)))
        clock_timer_mod(&rtc->update_timer, now + rtc_update_delay(rtc));
    else
        clock_timer_del(&rtc->update_timer);
}

static void rtc_periodic_cb(void *opaque)
{
    struct mc146818 *rtc = opaque;
    rtc->cmos[RTC_REG_C] |= RTC_C_PF;
    rtc_update_irq(rtc);
    rtc_rearm(rtc);
}

/* An alarm byte of 0xC0-0xFF matches any value ("don't care"). */
static bool rtc_alarm_field_matches(uint8_t alarm, uint8_t now)
{
    return (alarm & 0xc0) == 0xc0 || alarm == now;
}

static void rtc_update_cb(void *opaque)
{
    struct mc146818 *rtc = opaque;
    if (rtc_frozen(rtc))
        return;
    rtc_latch(rtc);
    uint8_t flags = RTC_C_UF;
    if (rtc_alarm_field_matches(rtc->cmos[RTC_SECONDS_ALARM], rtc->cmos[RTC_SECONDS]) &&
        rtc_alarm_field_matches(rtc->cmos[RTC_MINUTES_ALARM], rtc->cmos[RTC_MINUTES]) &&
        rtc_alarm_field_matches(rtc->cmos[RTC_HOURS_ALARM], rtc->cmos[RTC_HOURS]))
        flags |= RTC_C_AF;
    rtc->cmos[RTC_REG_C] |= flags;
    rtc_update_irq(rtc);
    rtc_rearm(rtc);
}

static bool rtc_uip(const struct mc146818 *rtc)
{
    /* SET clears UIP; a stopped divider has no update cycle. */
    if (rtc_frozen(rtc))
        return false;
    uint32_t sub = rtc_sub_ns(rtc);
    return sub >= NS_PER_S - RTC_UIP_LEAD_NS || sub < RTC_UPDATE_NS;
}

static uint8_t rtc_data_read(struct mc146818 *rtc)
{
    unsigned idx = rtc->index & (MC146818_CMOS_SIZE - 1);
    switch (idx) {
    case RTC_REG_A:
        return (uint8_t)((rtc->cmos[RTC_REG_A] & ~RTC_A_UIP) | (rtc_uip(rtc) ? RTC_A_UIP : 0));
    case RTC_REG_C: {
        /* Reading C clears every flag and releases the IRQ pin. */
        uint8_t val = rtc->cmos[RTC_REG_C];
        rtc->cmos[RTC_REG_C] = 0;
        rtc_update_irq(rtc);
        return val;
    }
    case RTC_REG_D:
        /* VRT: the (imaginary) battery is fine. */
        return RTC_D_VRT;
    default:
        if (rtc_is_time_reg(idx) && !rtc_frozen(rtc))
            rtc_latch(rtc);
        return rtc->cmos[idx];
    }
}

static void rtc_write_a(struct mc146818 *rtc, uint8_t val)
{
    bool was_frozen = rtc_frozen(rtc);
    bool was_reset = (rtc->cmos[RTC_REG_A] & RTC_A_DV_RESET) == RTC_A_DV_RESET;
    uint32_t sub = rtc_sub_ns(rtc);
    if (!was_frozen)
        rtc_latch(rtc);
    rtc->cmos[RTC_REG_A] = val & (uint8_t)~RTC_A_UIP;
    if (was_frozen && !rtc_frozen(rtc)) {
        /* Leaving divider reset: the first update comes half a second
         * later (Register A, DV2-DV0). */
        rtc_apply(rtc, was_reset ? (uint32_t)(NS_PER_S / 2) : sub);
    }
    rtc_rearm(rtc);
}

static void rtc_write_b(struct mc146818 *rtc, uint8_t val)
{
    bool was_frozen = rtc_frozen(rtc);
    uint32_t sub = rtc_sub_ns(rtc);
    /* Setting SET clears UIE (Register B). */
    if (val & RTC_B_SET)
        val &= (uint8_t)~RTC_B_UIE;
    if (!was_frozen)
        rtc_latch(rtc);
    rtc->cmos[RTC_REG_B] = val;
    if (was_frozen && !rtc_frozen(rtc))
        rtc_apply(rtc, sub);
    rtc_update_irq(rtc);
    rtc_rearm(rtc);
}

static void rtc_data_write(struct mc146818 *rtc, uint8_t val)
{
    unsigned idx = rtc->index & (MC146818_CMOS_SIZE - 1);
    switch (idx) {
    case RTC_REG_A:
        rtc_write_a(rtc, val);
        break;
    case RTC_REG_B:
        rtc_write_b(rtc, val);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;      /* read-only */
    default:
        if (rtc_is_time_reg(idx) && !rtc_frozen(rtc)) {
            /* Writing a running clock: take the other fields as they are
             * now, change one, and run on from there in the same phase. */
            uint32_t sub = rtc_sub_ns(rtc);
            rtc_latch(rtc);
            rtc->cmos[idx] = val;
            rtc_apply(rtc, sub);
            rtc_rearm(rtc);
        } else {
            rtc->cmos[idx] = val;
        }
        break;
    }
}

static uint64_t mc146818_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    /* The index port is write-only on the PC; reads float. */
    if (offset != 1)
        return 0xff;
    return rtc_data_read(opaque);
}

static void mc146818_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct mc146818 *rtc = opaque;
    if (offset == 0) {
        rtc->index = (uint8_t)(value & 0x7f);
        rtc->nmi_disabled = (value & 0x80) ? 1 : 0;
    } else if (offset == 1) {
        rtc_data_write(rtc, (uint8_t)value);
    }
}

const struct bus_ops mc146818_bus_ops = {
    .read = mc146818_bus_read,
    .write = mc146818_bus_write,
    .sizes = BUS_SIZE_1,
};

/* The chip's RESET pin: clears the interrupt enables and flags and releases
 * IRQ, but leaves time, Register A, the data mode and the RAM alone (the
 * CMOS is battery-backed and survives a PC reset). */
static void mc146818_reset(void *dev)
{
    struct mc146818 *rtc = dev;
    rtc->cmos[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
    rtc->cmos[RTC_REG_C] = 0;
    rtc_update_irq(rtc);
    rtc_rearm(rtc);
}

static void mc146818_finalize(void *dev)
{
    struct mc146818 *rtc = dev;
    if (rtc->timers_registered) {
        clock_timer_remove(&rtc->periodic_timer);
        clock_timer_remove(&rtc->update_timer);
        rtc->timers_registered = false;
    }
}

static void rtc_anchor(struct mc146818 *rtc)
{
    rtc->anchor_ns = clock_now_ns(rtc->clock);
    rtc->anchor_wall_s = clock_wall_seconds(rtc->clock);
}

/* offset_s is relative to host wall time, so re-anchoring on the loading
 * side keeps the guest's distance from real time (the guest clock catches
 * up with the time it spent saved, as a battery-backed RTC would). */
static void mc146818_post_load(void *dev)
{
    struct mc146818 *rtc = dev;
    rtc->index &= MC146818_CMOS_SIZE - 1;
    rtc->nmi_disabled = rtc->nmi_disabled ? 1 : 0;
    rtc->phase_ns %= NS_PER_S;
    if (rtc->offset_s > RTC_OFFSET_LIMIT)
        rtc->offset_s = RTC_OFFSET_LIMIT;
    if (rtc->offset_s < -RTC_OFFSET_LIMIT)
        rtc->offset_s = -RTC_OFFSET_LIMIT;
    rtc_anchor(rtc);
    rtc->irq_level = -1;
    rtc_update_irq(rtc);
    rtc_rearm(rtc);
}

static const struct vmstate_field mc146818_vmstate_fields[] = {
    VMSTATE_FIELD(struct mc146818, cmos, 1),
    VMSTATE_FIELD(struct mc146818, index, 1),
    VMSTATE_FIELD(struct mc146818, nmi_disabled, 1),
    VMSTATE_FIELD(struct mc146818, offset_s, 1),
    VMSTATE_FIELD(struct mc146818, phase_ns, 1),
};

static const struct vmstate_desc mc146818_vmstate = {
    .name = "mc146818",
    .version = 1,
    .fields = mc146818_vmstate_fields,
    .nfields = sizeof(mc146818_vmstate_fields) / sizeof(mc146818_vmstate_fields[0]),
    .post_load = mc146818_post_load,
};

const struct device_ops mc146818_device_ops = {
    .name = "mc146818",
    .reset = mc146818_reset,
    .finalize = mc146818_finalize,
    .vmstate = &mc146818_vmstate,
    .size = sizeof(struct mc146818),
};

static void cmos_put16(struct mc146818 *rtc, unsigned lo, uint64_t v)
{
    if (v > 0xffff)
        v = 0xffff;
    rtc->cmos[lo] = (uint8_t)v;
    rtc->cmos[lo + 1] = (uint8_t)(v >> 8);
}

/* PC/AT CMOS memory bytes, as BIOSes and Linux's early boot read them. */
static void rtc_fill_memory_size(struct mc146818 *rtc, uint64_t below_4g, uint64_t above_4g)
{
    const uint64_t mib = 1024 * 1024;
    cmos_put16(rtc, CMOS_BASE_MEM_LO, 640);
    uint64_t ext_kib = below_4g > mib ? (below_4g - mib) / 1024 : 0;
    cmos_put16(rtc, CMOS_EXT_MEM_LO, ext_kib);
    cmos_put16(rtc, CMOS_EXT_MEM2_LO, ext_kib);
    uint64_t above_16m = below_4g > 16 * mib ? (below_4g - 16 * mib) / 65536 : 0;
    cmos_put16(rtc, CMOS_MEM_ABOVE_16M_LO, above_16m);
    uint64_t high = above_4g / 65536;
    if (high > 0xffffff)
        high = 0xffffff;
    rtc->cmos[CMOS_MEM_ABOVE_4G_LO] = (uint8_t)high;
    rtc->cmos[CMOS_MEM_ABOVE_4G_MID] = (uint8_t)(high >> 8);
    rtc->cmos[CMOS_MEM_ABOVE_4G_HI] = (uint8_t)(high >> 16);
}

int mc146818_init(struct mc146818 *rtc, struct clock *clock, struct irq_line *irq,
                  uint64_t ram_below_4g, uint64_t ram_above_4g)
{
    memset(rtc, 0, sizeof(*rtc));
    rtc->clock = clock;
    rtc->irq = irq;
    rtc->irq_level = -1;
    if (clock_timer_init(clock, &rtc->periodic_timer, rtc_periodic_cb, rtc) < 0)
        return -1;
    if (clock_timer_init(clock, &rtc->update_timer, rtc_update_cb, rtc) < 0) {
        clock_timer_remove(&rtc->periodic_timer);
        return -1;
    }
    rtc->timers_registered = true;
    rtc_anchor(rtc);
    /* What a PC BIOS programs: 32.768 kHz time base, 1024 Hz periodic rate,
     * BCD, 24-hour mode; the battery is good. */
    rtc->cmos[RTC_REG_A] = RTC_A_DV_32KHZ | 0x06;
    rtc->cmos[RTC_REG_B] = RTC_B_24H;
    rtc->cmos[RTC_REG_D] = RTC_D_VRT;
    rtc_latch(rtc);
    rtc_fill_memory_size(rtc, ram_below_4g, ram_above_4g);
    rtc_update_irq(rtc);
    rtc_rearm(rtc);
    return 0;
}

void mc146818_cmos_set(struct mc146818 *rtc, unsigned index, uint8_t value)
{
    if (index < MC146818_CMOS_SIZE)
        rtc->cmos[index] = value;
}

uint8_t mc146818_cmos_get(const struct mc146818 *rtc, unsigned index)
{
    return index < MC146818_CMOS_SIZE ? rtc->cmos[index] : 0xff;
}

bool mc146818_nmi_disabled(const struct mc146818 *rtc)
{
    return rtc->nmi_disabled;
}
