/* Character sink for serial-like devices: where guest output goes (stdout,
 * a socket, a test buffer). Input flows the other way through the device's
 * own receive function, called from the main loop. */
#ifndef HOSTEL_CHARDEV_H
#define HOSTEL_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

struct chardev {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
};

#endif
