/* PIIX3 Reset Control Register at I/O port 0xCF9 (Intel 82371SB datasheet,
 * section 4.1.17): writing with RST_CPU (bit 2) set resets the system. The
 * FADT names it as the ACPI reset register. */
#ifndef HOSTEL_PIIX_RCR_H
#define HOSTEL_PIIX_RCR_H

#include <stdint.h>

#include "bus.h"
#include "device.h"

#define PIIX_RCR_PORT 0xCF9u
#define PIIX_RCR_SYS_RST (1u << 1)
#define PIIX_RCR_RST_CPU (1u << 2)

struct piix_rcr {
    uint8_t value;
    void (*reset_request)(void *opaque);
    void *opaque;
};

extern const struct bus_ops piix_rcr_bus_ops;     /* map 1 port */
extern const struct device_ops piix_rcr_device_ops;

void piix_rcr_init(struct piix_rcr *rcr, void (*reset_request)(void *opaque), void *opaque);

#endif
