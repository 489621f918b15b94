/* Firmware debug console: a write-only I/O port whose bytes are a log
 * (SeaBIOS writes its messages to port 0x402 on virtual PCs). Reading the
 * port returns 0xe9, which is how firmware detects that the port exists. */
#ifndef HOSTEL_DEBUGCON_H
#define HOSTEL_DEBUGCON_H

#include "bus.h"
#include "chardev.h"
#include "device.h"

#define DEBUGCON_PORT 0x402
#define DEBUGCON_READBACK 0xe9

struct debugcon {
    const struct chardev *out;  /* may be NULL: output dropped */
};

extern const struct device_ops debugcon_device_ops;
extern const struct bus_ops debugcon_bus_ops;   /* map 1 port */

void debugcon_init(struct debugcon *d, const struct chardev *out);

#endif
