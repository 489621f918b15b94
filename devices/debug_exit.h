/* Debug-exit port, compatible with QEMU's isa-debug-exit: a test guest
 * writes a value and the VM stops with status (value << 1) | 1. Hostel maps
 * it at I/O port 0xf4, length 4, the address test guests use under QEMU
 * with "-device isa-debug-exit,iobase=0xf4,iosize=4".
 *
 * Statuses are always odd, so they never collide with Hostel's own (even)
 * exit statuses; a process exit status keeps only the low 8 bits.
 */
#ifndef HOSTEL_DEBUG_EXIT_H
#define HOSTEL_DEBUG_EXIT_H

#include "bus.h"
#include "device.h"

#define DEBUG_EXIT_PORT 0xf4u
#define DEBUG_EXIT_SIZE 4u

struct debug_exit {
    void (*exit_request)(void *opaque, int status);
    void *opaque;
};

/* No state to save (vmstate is NULL) and nothing to reset. */
extern const struct device_ops debug_exit_device_ops;
/* Accesses of 1, 2 or 4 bytes at any offset of the 4-byte window. */
extern const struct bus_ops debug_exit_bus_ops;

/* exit_request(opaque, (value << 1) | 1) runs for every guest write. */
void debug_exit_init(struct debug_exit *d, void (*exit_request)(void *opaque, int status), void *opaque);

#endif
