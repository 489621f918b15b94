/* Device model interface.
 *
 * Each device model has one const `struct device_ops`. Devices are created by
 * their own typed init functions (their wiring differs: IRQ lines, backends,
 * buses), then registered with the machine, which from then on resets and
 * saves them through these ops only. There is no constructor magic: the
 * machine's device list is an explicit array.
 */
#ifndef HOSTEL_DEVICE_H
#define HOSTEL_DEVICE_H

#include "vmstate.h"

struct device_ops {
    const char *name;
    /* Put the device in its power-on state. */
    void (*reset)(void *dev);
    /* Release what the device allocated (not the struct itself). */
    void (*finalize)(void *dev);
    /* What the device saves; NULL if it has no state. */
    const struct vmstate_desc *vmstate;
    /* Size of the device's struct, for vmstate_load's copy. */
    size_t size;
};

struct device {
    const struct device_ops *ops;
    void *dev;
};

#endif
