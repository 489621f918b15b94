#include "acpi_pm.h"

#include <stddef.h>

uint32_t acpi_pm_timer(struct acpi_pm *pm)
{
    unsigned __int128 ticks = (unsigned __int128)clock_now_ns(pm->clock) * ACPI_PM_TIMER_HZ / 1000000000u;
    return (uint32_t)ticks;
}

static void acpi_pm_update_sci(struct acpi_pm *pm)
{
    bool level = (pm->pm1_sts & pm->pm1_en) && (pm->pm1_cnt & ACPI_PM1_SCI_EN);
    irq_set_level(pm->sci, level);
}

static void acpi_pm_reset(void *dev)
{
    struct acpi_pm *pm = dev;
    pm->pm1_sts = 0;
    pm->pm1_en = 0;
    /* No SMI command port is announced, so the OS finds ACPI mode on. */
    pm->pm1_cnt = ACPI_PM1_SCI_EN;
    acpi_pm_update_sci(pm);
}

static uint64_t acpi_pm_read(void *opaque, uint64_t off, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint8_t regs[12] = {0};
    uint32_t tmr = acpi_pm_timer(pm);
    regs[0] = (uint8_t)pm->pm1_sts;
    regs[1] = (uint8_t)(pm->pm1_sts >> 8);
    regs[2] = (uint8_t)pm->pm1_en;
    regs[3] = (uint8_t)(pm->pm1_en >> 8);
    regs[4] = (uint8_t)pm->pm1_cnt;
    regs[5] = (uint8_t)(pm->pm1_cnt >> 8);
    for (unsigned i = 0; i < 4; i++)
        regs[8 + i] = (uint8_t)(tmr >> (8 * i));
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < sizeof(regs); i++)
        v |= (uint64_t)regs[off + i] << (8 * i);
    return v;
}

static void acpi_pm_write_cnt(struct acpi_pm *pm, uint16_t cnt)
{
    if (cnt & ACPI_PM1_SLP_EN) {
        unsigned typ = (cnt >> ACPI_PM1_SLP_TYP_SHIFT) & 7;
        cnt &= (uint16_t)~ACPI_PM1_SLP_EN; /* write-only bit, reads as 0 */
        if (typ == pm->s5_type && pm->power_off)
            pm->power_off(pm->opaque);
    }
    pm->pm1_cnt = cnt;
}

/* The enable bits the PM1 block defines (table 4.12): TMR_EN, GBL_EN,
 * PWRBTN_EN, SLPBTN_EN, RTC_EN, PCIEXP_WAKE_DIS. They read back as written,
 * as on a PIIX4, because ACPICA checks that an enable sticks before it uses
 * the event (the global lock, the RTC alarm); only the power button ever
 * sets its status bit here. Reserved bits read as zero. */
#define ACPI_PM1_EN_IMPLEMENTED ((1u << 0) | (1u << 5) | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 14))

static void acpi_pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct acpi_pm *pm = opaque;
    /* An access may span PM1 status, enable and control (a dword at 0
     * writes status and enable). Collect the effect byte by byte, then
     * apply control once, so SLP_TYP and SLP_EN written together act
     * together. */
    uint16_t clear = 0, en = pm->pm1_en, cnt = pm->pm1_cnt;
    bool cnt_written = false;
    for (unsigned i = 0; i < size; i++) {
        uint64_t at = off + i;
        uint16_t byte = (uint16_t)((val >> (8 * i)) & 0xff);
        unsigned sh = 8 * (unsigned)(at & 1);
        if (at < 2) {
            clear |= (uint16_t)(byte << sh);   /* status: write one to clear */
        } else if (at < 4) {
            en = (uint16_t)((en & ~(0xffu << sh)) | ((unsigned)byte << sh));
        } else if (at < 6) {
            cnt = (uint16_t)((cnt & ~(0xffu << sh)) | ((unsigned)byte << sh));
            cnt_written = true;
        }
        /* Reserved bytes and the read-only timer ignore writes. */
    }
    pm->pm1_sts &= (uint16_t)~clear;
    pm->pm1_en = en & ACPI_PM1_EN_IMPLEMENTED;
    if (cnt_written)
        acpi_pm_write_cnt(pm, cnt);
    acpi_pm_update_sci(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
    pm->pm1_sts |= ACPI_PM1_PWRBTN_STS;
    acpi_pm_update_sci(pm);
}

void acpi_pm_init(struct acpi_pm *pm, struct clock *clock, struct irq_line *sci, unsigned s5_type,
                  void (*power_off)(void *opaque), void *opaque)
{
    pm->clock = clock;
    pm->sci = sci;
    pm->s5_type = s5_type;
    pm->power_off = power_off;
    pm->opaque = opaque;
    acpi_pm_reset(pm);
}

static void acpi_pm_post_load(void *dev)
{
    acpi_pm_update_sci(dev);
}

static const struct vmstate_field acpi_pm_fields[] = {
    VMSTATE_FIELD(struct acpi_pm, pm1_sts, 1),
    VMSTATE_FIELD(struct acpi_pm, pm1_en, 1),
    VMSTATE_FIELD(struct acpi_pm, pm1_cnt, 1),
};

static const struct vmstate_desc acpi_pm_vmstate = {
    .name = "acpi-pm",
    .version = 1,
    .fields = acpi_pm_fields,
    .nfields = sizeof(acpi_pm_fields) / sizeof(acpi_pm_fields[0]),
    .post_load = acpi_pm_post_load,
};

const struct bus_ops acpi_pm_bus_ops = {
    .read = acpi_pm_read,
    .write = acpi_pm_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

const struct device_ops acpi_pm_device_ops = {
    .name = "acpi-pm",
    .reset = acpi_pm_reset,
    .vmstate = &acpi_pm_vmstate,
    .size = sizeof(struct acpi_pm),
};
