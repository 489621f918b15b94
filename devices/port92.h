/* System Control Port A at I/O port 0x92 ("fast A20 and reset"), as on
 * PS/2 machines and every PC chipset since. */
#ifndef HOSTEL_PORT92_H
#define HOSTEL_PORT92_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "device.h"

struct port92 {
    /* Wiring (not saved). */
    void (*reset_request)(void *opaque);
    void *opaque;
    /* Saved. */
    uint8_t value;
};

extern const struct device_ops port92_device_ops;
/* One byte-wide register; map at 0x92, length 1. */
extern const struct bus_ops port92_bus_ops;

/* Wire the port and reset it. reset_request is called when the guest sets
 * the fast-reset bit. */
void port92_init(struct port92 *p, void (*reset_request)(void *opaque), void *opaque);

/* A20 gate as last set through this port. Hostel never masks A20; the bit is
 * only recorded and reported back. */
bool port92_a20_enabled(const struct port92 *p);

/* Bits: IBM PS/2 Hardware Interface Technical Reference, "System Control
 * Port A (Hex 0092)"; also Intel 82371 (PIIX) "Port 92h". */
enum {
    PORT92_FAST_RESET = 0x01,   /* 0 -> 1 pulses the CPU's reset */
    PORT92_A20 = 0x02,
    PORT92_LOCK = 0x08,         /* CMOS password security lock */
    PORT92_LED_MASK = 0xc0,     /* fixed-disk activity light */
};

#endif
