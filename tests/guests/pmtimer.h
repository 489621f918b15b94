/* Time in the test guests from the ACPI PM timer (3.579545 MHz, 32 bits). */
#ifndef HOSTEL_TEST_PMTIMER_H
#define HOSTEL_TEST_PMTIMER_H

#include "guest.h"

#define PM_TMR_PORT 0x608
#define PM_TMR_HZ 3579545u

static inline uint32_t pm_ticks(void) { return inl(PM_TMR_PORT); }

/* Milliseconds since start (wraps after ~20 minutes, plenty for a test). */
static inline uint32_t pm_ms_since(uint32_t start)
{
    return (pm_ticks() - start) / (PM_TMR_HZ / 1000);
}

static inline void pm_delay_ms(uint32_t ms)
{
    uint32_t t0 = pm_ticks();
    while (pm_ms_since(t0) < ms)
        ;
}

#endif
