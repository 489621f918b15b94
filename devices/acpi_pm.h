/* ACPI fixed-hardware power management registers (ACPI 6.4 section 4.8):
 * PM1 event block (status/enable), PM1 control block (SCI_EN, SLP_TYP,
 * SLP_EN) and the 3.579545 MHz PM timer, at the ports the FADT announces.
 * Entering the S5 sleep type powers the VM off. */
#ifndef HOSTEL_ACPI_PM_H
#define HOSTEL_ACPI_PM_H

#include <stdint.h>

#include "bus.h"
#include "clock.h"
#include "device.h"
#include "irq.h"

/* PM1 status / enable bits (section 4.8.3.1). */
#define ACPI_PM1_TMR_STS (1u << 0)
#define ACPI_PM1_PWRBTN_STS (1u << 8)
#define ACPI_PM1_WAK_STS (1u << 15)
/* PM1 control bits (section 4.8.3.2.1). */
#define ACPI_PM1_SCI_EN (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_EN (1u << 13)

#define ACPI_PM_TIMER_HZ 3579545ull

struct acpi_pm {
    uint16_t pm1_sts;
    uint16_t pm1_en;
    uint16_t pm1_cnt;
    /* wiring */
    struct clock *clock;
    struct irq_line *sci;
    unsigned s5_type;
    void (*power_off)(void *opaque);
    void *opaque;
};

extern const struct bus_ops acpi_pm_bus_ops;   /* map ACPI_PM_LEN (12) ports */
extern const struct device_ops acpi_pm_device_ops;

void acpi_pm_init(struct acpi_pm *pm, struct clock *clock, struct irq_line *sci, unsigned s5_type,
                  void (*power_off)(void *opaque), void *opaque);
/* Press the fixed-feature power button (sets PWRBTN_STS, raises the SCI if enabled). */
void acpi_pm_power_button(struct acpi_pm *pm);
/* Current PM timer value (32 bits). */
uint32_t acpi_pm_timer(struct acpi_pm *pm);

#endif
