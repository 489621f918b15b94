#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "clock.h"
#include "mc146818.h"
#include "rng.h"

#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)
#define MS 1000000ull
#define US 1000ull
#define SEC 1000000000ull

/* 2024-02-28 23:59:58 UTC, a Wednesday, two seconds before a leap day. */
#define WALL 1709164798

struct fixture {
    struct clock clock;
    struct mc146818 rtc;
    struct irq_line irq;
    struct bus *bus;
    int level;
    unsigned edges;
};

static void probe_set(void *opaque, unsigned n, int level)
{
    struct fixture *f = opaque;
    if (level && !f->level)
        f->edges++;
    f->level = level;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    clock_fake_init(&f->clock, 0, WALL);
    irq_line_init(&f->irq, probe_set, f, 8);
    assert_int_equal(mc146818_init(&f->rtc, &f->clock, &f->irq, 3 * GIB, 5 * GIB), 0);
    f->bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(f->bus, 0x70, 2, &mc146818_bus_ops, &f->rtc, "rtc"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    mc146818_device_ops.finalize(&f->rtc);
    assert_int_equal(f->clock.ntimers, 0);
    bus_free(f->bus);
    free(f);
    return 0;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
    bus_write(f->bus, port, &v, 1);
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
    uint8_t v = 0;
    bus_read(f->bus, port, &v, 1);
    return v;
}

static uint8_t cmos_read(struct fixture *f, uint8_t idx)
{
    outb(f, 0x70, idx);
    return inb(f, 0x71);
}

static void cmos_write(struct fixture *f, uint8_t idx, uint8_t v)
{
    outb(f, 0x70, idx);
    outb(f, 0x71, v);
}

static void advance(struct fixture *f, uint64_t ns)
{
    clock_fake_advance(&f->clock, ns);
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    /* Power-on: we are right at the start of a second, inside the update
     * cycle, so UIP shows; 2 ms later it is gone. */
    assert_int_equal(cmos_read(f, RTC_REG_A), 0x26 | RTC_A_UIP);
    advance(f, 2 * MS);
    assert_int_equal(cmos_read(f, RTC_REG_A), 0x26);
    assert_int_equal(cmos_read(f, RTC_REG_B), 0x02);
    assert_int_equal(cmos_read(f, RTC_REG_C), 0x00);
    assert_int_equal(cmos_read(f, RTC_REG_D), 0x80);
    /* BCD, 24 h: 2024-02-28 23:59:58, Wednesday (4). */
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x58);
    assert_int_equal(cmos_read(f, RTC_MINUTES), 0x59);
    assert_int_equal(cmos_read(f, RTC_HOURS), 0x23);
    assert_int_equal(cmos_read(f, RTC_DAY_OF_WEEK), 0x04);
    assert_int_equal(cmos_read(f, RTC_DAY_OF_MONTH), 0x28);
    assert_int_equal(cmos_read(f, RTC_MONTH), 0x02);
    assert_int_equal(cmos_read(f, RTC_YEAR), 0x24);
    assert_int_equal(cmos_read(f, CMOS_CENTURY), 0x20);
    assert_int_equal(f->level, 0);

    /* The RESET pin clears enables and flags but not time, A or RAM. */
    cmos_write(f, RTC_REG_A, 0x23);
    cmos_write(f, RTC_REG_B, RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE | RTC_B_24H | RTC_B_DM_BINARY);
    cmos_write(f, 0x40, 0xab);
    advance(f, 1 * MS);
    assert_int_equal(f->level, 1);
    mc146818_device_ops.reset(&f->rtc);
    assert_int_equal(f->level, 0);
    assert_int_equal(cmos_read(f, RTC_REG_B), RTC_B_24H | RTC_B_DM_BINARY);
    assert_int_equal(cmos_read(f, RTC_REG_C), 0);
    assert_int_equal(cmos_read(f, RTC_REG_A), 0x23);
    assert_int_equal(cmos_read(f, 0x40), 0xab);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 58);
    /* No timer keeps running after reset. */
    assert_int_equal(clock_next_deadline(&f->clock), UINT64_MAX);
    advance(f, 3 * SEC);
    assert_int_equal(f->level, 0);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 1);
}

static void test_memory_fields(void **state)
{
    struct fixture *f = *state;
    /* 3 GiB below the hole, 5 GiB above 4 GiB (from setup). */
    assert_int_equal(cmos_read(f, CMOS_BASE_MEM_LO), 0x80);
    assert_int_equal(cmos_read(f, CMOS_BASE_MEM_HI), 0x02);
    assert_int_equal(cmos_read(f, CMOS_EXT_MEM_LO), 0xff);
    assert_int_equal(cmos_read(f, CMOS_EXT_MEM_HI), 0xff);
    assert_int_equal(cmos_read(f, CMOS_EXT_MEM2_LO), 0xff);
    assert_int_equal(cmos_read(f, CMOS_EXT_MEM2_HI), 0xff);
    unsigned above16 = cmos_read(f, CMOS_MEM_ABOVE_16M_LO) | cmos_read(f, CMOS_MEM_ABOVE_16M_HI) << 8;
    assert_int_equal(above16, (3 * GIB - 16 * MIB) / 65536);
    unsigned high = cmos_read(f, CMOS_MEM_ABOVE_4G_LO) | cmos_read(f, CMOS_MEM_ABOVE_4G_MID) << 8 |
                    (unsigned)cmos_read(f, CMOS_MEM_ABOVE_4G_HI) << 16;
    assert_int_equal(high, 5 * GIB / 65536);

    /* A small guest: 32 MiB. */
    struct clock c;
    struct mc146818 rtc;
    clock_fake_init(&c, 0, WALL);
    assert_int_equal(mc146818_init(&rtc, &c, NULL, 32 * MIB, 0), 0);
    assert_int_equal(mc146818_cmos_get(&rtc, CMOS_EXT_MEM_LO) | mc146818_cmos_get(&rtc, CMOS_EXT_MEM_HI) << 8,
                     31 * 1024);
    assert_int_equal(mc146818_cmos_get(&rtc, CMOS_EXT_MEM2_LO) | mc146818_cmos_get(&rtc, CMOS_EXT_MEM2_HI) << 8,
                     31 * 1024);
    assert_int_equal(mc146818_cmos_get(&rtc, CMOS_MEM_ABOVE_16M_LO) |
                     mc146818_cmos_get(&rtc, CMOS_MEM_ABOVE_16M_HI) << 8, 256);
    assert_int_equal(mc146818_cmos_get(&rtc, CMOS_MEM_ABOVE_4G_LO), 0);
    mc146818_device_ops.finalize(&rtc);

    /* Under 16 MiB and huge high memory (capped at 24 bits). */
    assert_int_equal(mc146818_init(&rtc, &c, NULL, 8 * MIB, 2048 * GIB), 0);
    assert_int_equal(mc146818_cmos_get(&rtc, CMOS_EXT_MEM_LO) | mc146818_cmos_get(&rtc, CMOS_EXT_MEM_HI) << 8,
                     7 * 1024);
    assert_int_equal(mc146818_cmos_get(&rtc, CMOS_MEM_ABOVE_16M_LO), 0);
    assert_int_equal(mc146818_cmos_get(&rtc, CMOS_MEM_ABOVE_4G_HI), 0xff);
    assert_int_equal(mc146818_cmos_get(&rtc, CMOS_MEM_ABOVE_4G_LO), 0xff);
    mc146818_device_ops.finalize(&rtc);
    assert_int_equal(c.ntimers, 0);
}

static void test_time_formats(void **state)
{
    struct fixture *f = *state;
    advance(f, 500 * MS);
    /* Binary mode. */
    cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 58);
    assert_int_equal(cmos_read(f, RTC_HOURS), 23);
    assert_int_equal(cmos_read(f, RTC_YEAR), 24);
    assert_int_equal(cmos_read(f, CMOS_CENTURY), 20);
    /* 12-hour binary: 11 PM. */
    cmos_write(f, RTC_REG_B, RTC_B_DM_BINARY);
    assert_int_equal(cmos_read(f, RTC_HOURS), 0x80 | 11);
    /* 12-hour BCD. */
    cmos_write(f, RTC_REG_B, 0);
    assert_int_equal(cmos_read(f, RTC_HOURS), 0x80 | 0x11);
    /* Roll over into the leap day: midnight is 12 AM. */
    advance(f, 2 * SEC);
    assert_int_equal(cmos_read(f, RTC_HOURS), 0x12);
    assert_int_equal(cmos_read(f, RTC_MINUTES), 0x00);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x00);
    assert_int_equal(cmos_read(f, RTC_DAY_OF_MONTH), 0x29);
    assert_int_equal(cmos_read(f, RTC_MONTH), 0x02);
    assert_int_equal(cmos_read(f, RTC_DAY_OF_WEEK), 0x05);
    /* Noon is 12 PM. */
    advance(f, 12 * 3600 * SEC);
    assert_int_equal(cmos_read(f, RTC_HOURS), 0x80 | 0x12);
    cmos_write(f, RTC_REG_B, RTC_B_24H);
    assert_int_equal(cmos_read(f, RTC_HOURS), 0x12);
}

/* Set the time the way Linux's mc146818_set_time does. */
static void set_time_linux(struct fixture *f, const uint8_t regs[7], uint8_t century)
{
    uint8_t b = cmos_read(f, RTC_REG_B);
    uint8_t a = cmos_read(f, RTC_REG_A) & 0x7f;
    cmos_write(f, RTC_REG_B, b | RTC_B_SET);
    cmos_write(f, RTC_REG_A, a | RTC_A_DV_RESET);
    cmos_write(f, RTC_YEAR, regs[0]);
    cmos_write(f, RTC_MONTH, regs[1]);
    cmos_write(f, RTC_DAY_OF_MONTH, regs[2]);
    cmos_write(f, RTC_HOURS, regs[3]);
    cmos_write(f, RTC_MINUTES, regs[4]);
    cmos_write(f, RTC_SECONDS, regs[5]);
    cmos_write(f, CMOS_CENTURY, century);
    (void)regs[6];
    cmos_write(f, RTC_REG_B, b);
    cmos_write(f, RTC_REG_A, a);
}

static void test_set_time(void **state)
{
    struct fixture *f = *state;
    advance(f, 300 * MS);
    static const uint8_t y2k[7] = { 0x00, 0x01, 0x01, 0x12, 0x34, 0x56, 0 };
    set_time_linux(f, y2k, 0x20);
    /* Divider released: first update half a second later. */
    advance(f, 490 * MS);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x56);
    advance(f, 20 * MS);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x57);
    assert_int_equal(cmos_read(f, RTC_MINUTES), 0x34);
    assert_int_equal(cmos_read(f, RTC_HOURS), 0x12);
    assert_int_equal(cmos_read(f, RTC_DAY_OF_MONTH), 0x01);
    assert_int_equal(cmos_read(f, RTC_MONTH), 0x01);
    assert_int_equal(cmos_read(f, RTC_YEAR), 0x00);
    assert_int_equal(cmos_read(f, CMOS_CENTURY), 0x20);
    assert_int_equal(cmos_read(f, RTC_DAY_OF_WEEK), 7);   /* Saturday */

    /* While SET is on, the registers hold still and take writes. */
    cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_SET);
    assert_int_equal(cmos_read(f, RTC_REG_A) & RTC_A_UIP, 0);
    advance(f, 5 * SEC);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x57);
    cmos_write(f, RTC_MINUTES, 0x00);
    cmos_write(f, RTC_REG_B, RTC_B_24H);
    assert_int_equal(cmos_read(f, RTC_MINUTES), 0x00);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x57);
    advance(f, 1 * SEC);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x58);

    /* Writing a running clock changes one field and runs on. */
    cmos_write(f, RTC_HOURS, 0x05);
    assert_int_equal(cmos_read(f, RTC_HOURS), 0x05);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x58);
    advance(f, 2 * SEC);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x00);
    assert_int_equal(cmos_read(f, RTC_MINUTES), 0x01);

    /* Garbage time values are clamped, never trusted. */
    static const uint8_t junk[7] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
    set_time_linux(f, junk, 0xff);
    advance(f, 3 * SEC);
    uint8_t sec = cmos_read(f, RTC_SECONDS);
    assert_true((sec & 0x0f) <= 9 && sec < 0x60);
}

static void test_uip_window(void **state)
{
    struct fixture *f = *state;
    /* Sample A every 4 us over two seconds: UIP is up 244 us before each
     * second and 1984 us after, and the seconds change only under it. */
    unsigned high = 0;
    uint8_t last_sec = cmos_read(f, RTC_SECONDS);
    for (unsigned i = 0; i < 500000; i++) {
        advance(f, 4 * US);
        bool uip = cmos_read(f, RTC_REG_A) & RTC_A_UIP;
        uint8_t sec = cmos_read(f, RTC_SECONDS);
        if (sec != last_sec)
            assert_true(uip);
        last_sec = sec;
        high += uip;
    }
    /* (244 + 1984) us per second, give or take one sample. */
    assert_true(high >= 2 * 556 && high <= 2 * 558);
    /* A stopped divider has no update cycle. */
    cmos_write(f, RTC_REG_A, 0x66);
    for (unsigned i = 0; i < 1000; i++) {
        advance(f, 4 * US);
        assert_int_equal(cmos_read(f, RTC_REG_A), 0x66);
    }
}

/* Advance in small steps, acknowledging the interrupt like a driver would;
 * return how many interrupts carried `flag`. */
static unsigned run_and_ack(struct fixture *f, uint64_t total, uint64_t step, uint8_t flag)
{
    unsigned n = 0;
    for (uint64_t t = 0; t < total; t += step) {
        advance(f, step);
        if (f->level) {
            uint8_t c = cmos_read(f, RTC_REG_C);
            assert_true(c & RTC_C_IRQF);
            if (c & flag)
                n++;
            assert_int_equal(f->level, 0);
        }
    }
    return n;
}

static void test_periodic(void **state)
{
    struct fixture *f = *state;
    /* PIE off: no timer, no flag. */
    advance(f, 10 * MS);
    assert_int_equal(clock_next_deadline(&f->clock), UINT64_MAX);
    assert_int_equal(cmos_read(f, RTC_REG_C), 0);

    cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    assert_int_equal(run_and_ack(f, 1 * SEC, 100 * US, RTC_C_PF), 1024);
    cmos_write(f, RTC_REG_A, 0x2f);         /* 2 Hz */
    assert_int_equal(run_and_ack(f, 3 * SEC, 10 * MS, RTC_C_PF), 6);
    cmos_write(f, RTC_REG_A, 0x21);         /* RS=1 aliases to 256 Hz */
    assert_int_equal(run_and_ack(f, 1 * SEC, 100 * US, RTC_C_PF), 256);
    cmos_write(f, RTC_REG_A, 0x23);         /* 8192 Hz */
    assert_int_equal(run_and_ack(f, 1 * SEC, 50 * US, RTC_C_PF), 8192);
    /* RS=0 and a held divider stop it. */
    cmos_write(f, RTC_REG_A, 0x20);
    assert_int_equal(run_and_ack(f, 1 * SEC, 1 * MS, RTC_C_PF), 0);
    cmos_write(f, RTC_REG_A, 0x66);
    assert_int_equal(run_and_ack(f, 1 * SEC, 1 * MS, RTC_C_PF), 0);
    /* Disabling PIE lowers a pending IRQ at once (IRQF is combinational). */
    cmos_write(f, RTC_REG_A, 0x26);
    advance(f, 2 * MS);
    assert_int_equal(f->level, 1);
    cmos_write(f, RTC_REG_B, RTC_B_24H);
    assert_int_equal(f->level, 0);
    assert_int_equal(cmos_read(f, RTC_REG_C), RTC_C_PF);
}

static void test_update_and_alarm(void **state)
{
    struct fixture *f = *state;
    advance(f, 100 * MS);
    cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    /* One update-ended interrupt per second, 1984 us after the boundary. */
    advance(f, 900 * MS);
    assert_int_equal(f->level, 0);
    advance(f, 1983 * US);
    assert_int_equal(f->level, 0);
    advance(f, 1 * US);
    assert_int_equal(f->level, 1);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x59);
    assert_int_equal(cmos_read(f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
    assert_int_equal(run_and_ack(f, 10 * SEC, 10 * MS, RTC_C_UF), 10);

    /* Alarm three seconds ahead, update interrupts off. Time is now
     * 00:00:09 and 2 ms. */
    cmos_write(f, RTC_REG_B, RTC_B_24H);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x09);
    cmos_write(f, RTC_SECONDS_ALARM, 0x12);
    cmos_write(f, RTC_MINUTES_ALARM, 0x00);
    cmos_write(f, RTC_HOURS_ALARM, 0x00);
    cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
    (void)cmos_read(f, RTC_REG_C);
    advance(f, 2 * SEC);
    assert_int_equal(f->level, 0);
    advance(f, 1 * SEC);
    assert_int_equal(f->level, 1);
    /* UF is set with AF even though UIE is off; only AF raised IRQF. */
    assert_int_equal(cmos_read(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
    assert_int_equal(run_and_ack(f, 5 * SEC, 10 * MS, RTC_C_AF), 0);
    /* "Don't care" seconds (0xC0-0xFF): an alarm every second of 00:00. */
    cmos_write(f, RTC_SECONDS_ALARM, 0xc0);
    assert_int_equal(run_and_ack(f, 5 * SEC, 10 * MS, RTC_C_AF), 5);
    cmos_write(f, RTC_MINUTES_ALARM, 0x01);
    assert_int_equal(run_and_ack(f, 5 * SEC, 10 * MS, RTC_C_AF), 0);
}

static void test_ram_and_index(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0x0e; i < 0x80; i++) {
        if (i == CMOS_CENTURY)
            continue;
        cmos_write(f, (uint8_t)i, (uint8_t)(i ^ 0x5a));
    }
    for (unsigned i = 0x0e; i < 0x80; i++) {
        if (i == CMOS_CENTURY)
            continue;
        /* Bit 7 of the index is the NMI mask, not part of the address. */
        assert_int_equal(cmos_read(f, (uint8_t)(i | 0x80)), i ^ 0x5a);
    }
    assert_true(mc146818_nmi_disabled(&f->rtc));
    outb(f, 0x70, 0x0e);
    assert_false(mc146818_nmi_disabled(&f->rtc));
    assert_int_equal(inb(f, 0x70), 0xff);
    /* C and D are read-only. */
    cmos_write(f, RTC_REG_C, 0xff);
    cmos_write(f, RTC_REG_D, 0x00);
    assert_int_equal(cmos_read(f, RTC_REG_C), 0);
    assert_int_equal(cmos_read(f, RTC_REG_D), 0x80);
    /* UIP is read-only. */
    advance(f, 10 * MS);
    cmos_write(f, RTC_REG_A, 0xa6);
    assert_int_equal(cmos_read(f, RTC_REG_A), 0x26);
    /* Host-side access. */
    mc146818_cmos_set(&f->rtc, 0x5f, 3);
    assert_int_equal(cmos_read(f, 0x5f), 3);
    mc146818_cmos_set(&f->rtc, 0x200, 3);
    assert_int_equal(mc146818_cmos_get(&f->rtc, 0x200), 0xff);
}

static void test_vmstate_roundtrip(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = mc146818_device_ops.vmstate;
    advance(f, 5 * SEC);                    /* 00:00:03 on the leap day */
    static const uint8_t t[7] = { 0x99, 0x12, 0x31, 0x23, 0x59, 0x50, 0 };
    set_time_linux(f, t, 0x19);
    advance(f, SEC / 2);                    /* 23:59:51, phase 0 again */
    cmos_write(f, 0x50, 0x42);
    cmos_write(f, RTC_REG_A, 0x2a);         /* 64 Hz */
    cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    advance(f, 20 * MS);
    assert_int_equal(f->level, 1);
    outb(f, 0x70, 0x80 | RTC_SECONDS);
    assert_int_equal(inb(f, 0x71), 0x51);

    uint8_t buf[512], buf2[512];
    long n = vmstate_save(desc, &f->rtc, buf, sizeof(buf));
    assert_true(n > 0);

    /* Change: reset (clears PIE and flags), different RAM and time. */
    mc146818_device_ops.reset(&f->rtc);
    cmos_write(f, 0x50, 0x00);
    cmos_write(f, RTC_REG_B, RTC_B_24H | RTC_B_SET);
    cmos_write(f, RTC_YEAR, 0x50);
    cmos_write(f, RTC_REG_B, RTC_B_24H);
    outb(f, 0x70, 0x01);
    assert_int_equal(f->level, 0);
    /* Load on a whole second of the fake clock: the RTC re-anchors on the
     * clock's wall seconds, which carry no fraction (see mc146818.h). */
    advance(f, 480 * MS);

    char err[200];
    assert_int_equal(vmstate_load(desc, &f->rtc, mc146818_device_ops.size, buf, (size_t)n,
                                  err, sizeof(err)), 0);
    long n2 = vmstate_save(desc, &f->rtc, buf2, sizeof(buf2));
    assert_int_equal(n, n2);
    assert_memory_equal(buf, buf2, (size_t)n);
    assert_int_equal(f->level, 1);          /* IRQF was pending when saved */
    assert_true(mc146818_nmi_disabled(&f->rtc));
    assert_int_equal(inb(f, 0x71), 0x51);   /* index restored: seconds */
    assert_int_equal(cmos_read(f, RTC_YEAR), 0x99);
    assert_int_equal(cmos_read(f, CMOS_CENTURY), 0x19);
    assert_int_equal(cmos_read(f, 0x50), 0x42);
    /* Timers are re-armed: the periodic interrupt keeps coming at 64 Hz. */
    (void)cmos_read(f, RTC_REG_C);
    assert_int_equal(run_and_ack(f, 1 * SEC, 1 * MS, RTC_C_PF), 64);
    assert_int_equal(cmos_read(f, RTC_SECONDS), 0x52);
    advance(f, 8 * SEC);
    assert_int_equal(cmos_read(f, RTC_YEAR), 0x00);
    assert_int_equal(cmos_read(f, CMOS_CENTURY), 0x20);

    /* A hostile stream: indices and offsets out of range. */
    struct mc146818 evil = f->rtc;
    evil.index = 0xff;
    evil.phase_ns = 0xffffffffu;
    evil.offset_s = INT64_MAX;
    n = vmstate_save(desc, &evil, buf, sizeof(buf));
    assert_int_equal(vmstate_load(desc, &f->rtc, sizeof(f->rtc), buf, (size_t)n, err, sizeof(err)), 0);
    assert_true(f->rtc.index < MC146818_CMOS_SIZE);
    assert_true(f->rtc.phase_ns < 1000000000u);
    advance(f, 2 * SEC);
    assert_int_equal(cmos_read(f, RTC_YEAR), 0x99);  /* clamped to 9999 */
}

static void test_random_access(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 146818;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint64_t addr = 0x6e + ((r >> 2) % 6);
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        switch ((r >> 8) % 8) {
        case 0: case 1: case 2:
            bus_write(f->bus, addr, &val, size);
            break;
        case 3: case 4: case 5:
            bus_read(f->bus, addr, &val, size);
            break;
        case 6:
            advance(f, (r >> 12) % (2 * MS));
            break;
        default:
            if ((r >> 12) % 2048 == 0)
                mc146818_device_ops.reset(&f->rtc);
            break;
        }
        assert_true(f->rtc.phase_ns < 1000000000u);
        assert_int_equal(f->level, f->rtc.irq_level);
    }
    /* Every armed timer is in the future. */
    uint64_t next = clock_next_deadline(&f->clock);
    assert_true(next == UINT64_MAX || next > clock_now_ns(&f->clock));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uip_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_and_alarm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ram_and_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
