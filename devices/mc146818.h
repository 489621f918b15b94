/* MC146818 real-time clock and 128-byte CMOS RAM, as on PCs at ports
 * 0x70 (index; bit 7 disables NMI) and 0x71 (data).
 *
 * The guest's time is the host's wall-clock time plus an offset the guest
 * sets by writing the time registers, ticking on the clock's monotonic time
 * so it never jumps under the guest. Periodic, alarm and update-ended
 * interrupts run on clock timers and drive one IRQ line (IRQ 8 on PCs).
 */
#ifndef HOSTEL_MC146818_H
#define HOSTEL_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "clock.h"
#include "device.h"
#include "irq.h"

#define MC146818_CMOS_SIZE 128

struct mc146818 {
    /* Wiring and derived state (not saved). */
    struct clock *clock;
    struct irq_line *irq;
    struct clock_timer periodic_timer;
    struct clock_timer update_timer;
    bool timers_registered;
    int irq_level;
    /* Host wall-clock seconds at monotonic time anchor_ns; re-taken after a
     * load, since monotonic time means nothing in another process. The
     * clock's wall time has whole seconds only, so a restored guest clock
     * may be off by up to a second. */
    int64_t anchor_wall_s;
    uint64_t anchor_ns;

    /* Saved state. Guest time in seconds is
     *   anchor_wall_s + offset_s + (now - anchor_ns + phase_ns) / 1e9,
     * so offset_s is "guest time minus host time" and phase_ns places the
     * guest's second boundaries. */
    uint8_t cmos[MC146818_CMOS_SIZE];
    uint8_t index;
    uint8_t nmi_disabled;
    int64_t offset_s;
    uint32_t phase_ns;
};

extern const struct device_ops mc146818_device_ops;
/* Offset 0 = index port (0x70), offset 1 = data port (0x71); map length 2. */
extern const struct bus_ops mc146818_bus_ops;

/* Wire the RTC to its clock and IRQ line (irq may be NULL), set the time
 * from the clock's wall time and fill the CMOS memory-size fields from the
 * RAM below 4 GiB (up to the PCI hole) and above 4 GiB. The struct must not
 * move afterwards (its timers are registered with the clock). Returns 0, or
 * -1 if the clock has no room for two more timers. */
int mc146818_init(struct mc146818 *rtc, struct clock *clock, struct irq_line *irq,
                  uint64_t ram_below_4g, uint64_t ram_above_4g);

/* Host-side CMOS access for the machine (equipment byte, boot order, CPU
 * count...). Writes do not have the side effects of guest writes. */
void mc146818_cmos_set(struct mc146818 *rtc, unsigned index, uint8_t value);
uint8_t mc146818_cmos_get(const struct mc146818 *rtc, unsigned index);

/* Whether the guest last wrote the index port with the NMI-disable bit. */
bool mc146818_nmi_disabled(const struct mc146818 *rtc);

/* Register indices and bits: Motorola MC146818A datasheet, sections
 * "Address Map" and "Registers" (Register A to D). */
enum {
    RTC_SECONDS = 0x00,
    RTC_SECONDS_ALARM = 0x01,
    RTC_MINUTES = 0x02,
    RTC_MINUTES_ALARM = 0x03,
    RTC_HOURS = 0x04,
    RTC_HOURS_ALARM = 0x05,
    RTC_DAY_OF_WEEK = 0x06,
    RTC_DAY_OF_MONTH = 0x07,
    RTC_MONTH = 0x08,
    RTC_YEAR = 0x09,
    RTC_REG_A = 0x0a,
    RTC_REG_B = 0x0b,
    RTC_REG_C = 0x0c,
    RTC_REG_D = 0x0d,
    /* PC/AT CMOS layout (not part of the chip). */
    CMOS_BASE_MEM_LO = 0x15,
    CMOS_BASE_MEM_HI = 0x16,
    CMOS_EXT_MEM_LO = 0x17,
    CMOS_EXT_MEM_HI = 0x18,
    CMOS_EXT_MEM2_LO = 0x30,
    CMOS_EXT_MEM2_HI = 0x31,
    CMOS_CENTURY = 0x32,
    CMOS_MEM_ABOVE_16M_LO = 0x34,
    CMOS_MEM_ABOVE_16M_HI = 0x35,
    CMOS_MEM_ABOVE_4G_LO = 0x5b,
    CMOS_MEM_ABOVE_4G_MID = 0x5c,
    CMOS_MEM_ABOVE_4G_HI = 0x5d,
};

enum {
    RTC_A_UIP = 0x80,
    RTC_A_DV_MASK = 0x70,
    RTC_A_DV_32KHZ = 0x20,      /* the PC's 32.768 kHz time base */
    RTC_A_DV_RESET = 0x60,      /* 11x: divider chain held in reset */
    RTC_A_RS_MASK = 0x0f,

    RTC_B_SET = 0x80,
    RTC_B_PIE = 0x40,
    RTC_B_AIE = 0x20,
    RTC_B_UIE = 0x10,
    RTC_B_SQWE = 0x08,
    RTC_B_DM_BINARY = 0x04,
    RTC_B_24H = 0x02,
    RTC_B_DSE = 0x01,

    RTC_C_IRQF = 0x80,
    RTC_C_PF = 0x40,
    RTC_C_AF = 0x20,
    RTC_C_UF = 0x10,

    RTC_D_VRT = 0x80,
};

#endif
