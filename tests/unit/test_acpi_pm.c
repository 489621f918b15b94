#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "piix_rcr.h"

struct sink { int level; int changes; int power_offs; int resets; };

static void sci_set(void *opaque, unsigned n, int level)
{
    struct sink *s = opaque;
    s->level = level;
    s->changes++;
}

static void on_power_off(void *opaque) { ((struct sink *)opaque)->power_offs++; }
static void on_reset(void *opaque) { ((struct sink *)opaque)->resets++; }

static void setup(struct acpi_pm *pm, struct clock *clk, struct irq_line *sci, struct sink *s)
{
    memset(pm, 0, sizeof(*pm));
    memset(s, 0, sizeof(*s));
    clock_fake_init(clk, 0, 0);
    irq_line_init(sci, sci_set, s, 9);
    acpi_pm_init(pm, clk, sci, 5, on_power_off, s);
}

static void test_reset_values(void **state)
{
    (void)state;
    struct acpi_pm pm; struct clock clk; struct irq_line sci; struct sink s;
    setup(&pm, &clk, &sci, &s);
    assert_int_equal(acpi_pm_bus_ops.read(&pm, 0, 2), 0);
    assert_int_equal(acpi_pm_bus_ops.read(&pm, 2, 2), 0);
    assert_int_equal(acpi_pm_bus_ops.read(&pm, 4, 2), ACPI_PM1_SCI_EN);
    assert_int_equal(s.level, 0);
}

static void test_timer_rate(void **state)
{
    (void)state;
    struct acpi_pm pm; struct clock clk; struct irq_line sci; struct sink s;
    setup(&pm, &clk, &sci, &s);
    uint32_t t0 = (uint32_t)acpi_pm_bus_ops.read(&pm, 8, 4);
    clock_fake_advance(&clk, 1000000000ull);
    uint32_t t1 = (uint32_t)acpi_pm_bus_ops.read(&pm, 8, 4);
    assert_int_equal(t1 - t0, 3579545);
    /* Writes to the timer are ignored. */
    acpi_pm_bus_ops.write(&pm, 8, 0, 4);
    assert_int_equal((uint32_t)acpi_pm_bus_ops.read(&pm, 8, 4), t1);
}

static void test_s5_powers_off(void **state)
{
    (void)state;
    struct acpi_pm pm; struct clock clk; struct irq_line sci; struct sink s;
    setup(&pm, &clk, &sci, &s);
    /* S3-like type: nothing happens. */
    acpi_pm_bus_ops.write(&pm, 4, ACPI_PM1_SCI_EN | (3u << 10) | ACPI_PM1_SLP_EN, 2);
    assert_int_equal(s.power_offs, 0);
    assert_int_equal(acpi_pm_bus_ops.read(&pm, 4, 2) & ACPI_PM1_SLP_EN, 0);
    /* SLP_TYP alone does nothing until SLP_EN. */
    acpi_pm_bus_ops.write(&pm, 4, ACPI_PM1_SCI_EN | (5u << 10), 2);
    assert_int_equal(s.power_offs, 0);
    acpi_pm_bus_ops.write(&pm, 5, (ACPI_PM1_SLP_EN | (5u << 10)) >> 8, 1);
    assert_int_equal(s.power_offs, 1);
}

static void test_power_button_sci(void **state)
{
    (void)state;
    struct acpi_pm pm; struct clock clk; struct irq_line sci; struct sink s;
    setup(&pm, &clk, &sci, &s);
    acpi_pm_power_button(&pm);
    assert_int_equal(s.level, 0); /* not enabled */
    acpi_pm_bus_ops.write(&pm, 2, ACPI_PM1_PWRBTN_STS, 2);
    assert_int_equal(s.level, 1);
    assert_true(acpi_pm_bus_ops.read(&pm, 0, 2) & ACPI_PM1_PWRBTN_STS);
    acpi_pm_bus_ops.write(&pm, 0, ACPI_PM1_PWRBTN_STS, 2); /* write one to clear */
    assert_int_equal(s.level, 0);
    assert_int_equal(acpi_pm_bus_ops.read(&pm, 0, 2) & ACPI_PM1_PWRBTN_STS, 0);
}

static void test_dword_and_mask(void **state)
{
    (void)state;
    struct acpi_pm pm; struct clock clk; struct irq_line sci; struct sink s;
    setup(&pm, &clk, &sci, &s);
    acpi_pm_power_button(&pm);
    /* One dword at PM1_EVT: clear nothing, enable the power button. */
    acpi_pm_bus_ops.write(&pm, 0, (uint64_t)ACPI_PM1_PWRBTN_STS << 16, 4);
    assert_int_equal(pm.pm1_en, ACPI_PM1_PWRBTN_STS);
    assert_int_equal(s.level, 1);
    /* Defined enables read back (ACPICA checks GBL_EN and RTC_EN stick);
     * reserved bits do not; events that never happen raise no SCI. */
    acpi_pm_bus_ops.write(&pm, 2, 0xffff, 2);
    assert_int_equal(acpi_pm_bus_ops.read(&pm, 2, 2), 0x4721);
    acpi_pm_bus_ops.write(&pm, 0, ACPI_PM1_PWRBTN_STS, 2);
    assert_int_equal(s.level, 0);
    acpi_pm_bus_ops.write(&pm, 2, 0x0421, 2);
    assert_int_equal(pm.pm1_en, 0x0421);
    assert_int_equal(s.level, 0);
    /* A dword at 2 reaches PM1_CNT too: S5 in the same write powers off. */
    acpi_pm_bus_ops.write(&pm, 2, (uint64_t)(ACPI_PM1_SLP_EN | (5u << 10) | ACPI_PM1_SCI_EN) << 16, 4);
    assert_int_equal(s.power_offs, 1);
}

static void test_save_restore(void **state)
{
    (void)state;
    struct acpi_pm pm; struct clock clk; struct irq_line sci; struct sink s;
    setup(&pm, &clk, &sci, &s);
    acpi_pm_bus_ops.write(&pm, 2, 0x0120, 2);
    uint8_t buf[256];
    long n = vmstate_save(acpi_pm_device_ops.vmstate, &pm, buf, sizeof(buf));
    assert_true(n > 0);
    struct acpi_pm copy = pm;
    acpi_pm_bus_ops.write(&pm, 2, 0, 2);
    acpi_pm_bus_ops.write(&pm, 4, 0, 2);
    char err[200];
    assert_int_equal(vmstate_load(acpi_pm_device_ops.vmstate, &pm, sizeof(pm), buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(pm.pm1_en, copy.pm1_en);
    assert_int_equal(pm.pm1_cnt, copy.pm1_cnt);
}

static void test_random_access(void **state)
{
    (void)state;
    struct acpi_pm pm; struct clock clk; struct irq_line sci; struct sink s;
    setup(&pm, &clk, &sci, &s);
    unsigned seed = 42;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned size = 1u << ((seed >> 8) & 3);
        uint64_t off = (seed >> 12) % (ACPI_PM_LEN + 4);
        if (seed & 1)
            acpi_pm_bus_ops.write(&pm, off, seed * 2654435761u, size > 4 ? 4 : size);
        else
            acpi_pm_bus_ops.read(&pm, off, size > 4 ? 4 : size);
    }
    /* SCI level always matches the registers. */
    assert_int_equal(s.level, (pm.pm1_sts & pm.pm1_en) && (pm.pm1_cnt & ACPI_PM1_SCI_EN));
}

static void test_reset_control(void **state)
{
    (void)state;
    struct piix_rcr rcr;
    struct sink s = {0};
    piix_rcr_init(&rcr, on_reset, &s);
    assert_int_equal(piix_rcr_bus_ops.read(&rcr, 0, 1), 0);
    piix_rcr_bus_ops.write(&rcr, 0, PIIX_RCR_SYS_RST, 1);
    assert_int_equal(s.resets, 0);
    assert_int_equal(piix_rcr_bus_ops.read(&rcr, 0, 1), PIIX_RCR_SYS_RST);
    piix_rcr_bus_ops.write(&rcr, 0, 0x06, 1);
    assert_int_equal(s.resets, 1);
    assert_int_equal(piix_rcr_bus_ops.read(&rcr, 0, 1) & PIIX_RCR_RST_CPU, 0);
}

static void test_reset_control_random(void **state)
{
    (void)state;
    struct piix_rcr rcr;
    struct sink s = {0};
    piix_rcr_init(&rcr, on_reset, &s);
    unsigned seed = 7, expect_resets = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t off = (seed >> 10) % 4;
        uint8_t v = (uint8_t)(seed >> 20);
        if (seed & 1) {
            piix_rcr_bus_ops.write(&rcr, off, v, 1);
            if (off == 0 && (v & PIIX_RCR_RST_CPU))
                expect_resets++;
        } else {
            uint64_t r = piix_rcr_bus_ops.read(&rcr, off, 1);
            assert_true(off != 0 || (r & ~(uint64_t)PIIX_RCR_SYS_RST) == 0);
        }
    }
    assert_int_equal(s.resets, expect_resets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_values),
        cmocka_unit_test(test_timer_rate),
        cmocka_unit_test(test_s5_powers_off),
        cmocka_unit_test(test_power_button_sci),
        cmocka_unit_test(test_dword_and_mask),
        cmocka_unit_test(test_save_restore),
        cmocka_unit_test(test_random_access),
        cmocka_unit_test(test_reset_control),
        cmocka_unit_test(test_reset_control_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
