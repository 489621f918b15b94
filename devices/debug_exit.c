/* Debug-exit port (QEMU isa-debug-exit compatible). */
#include "debug_exit.h"

#include <string.h>

/* Reads return 0, as QEMU's device does. */
static uint64_t debug_exit_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0;
}

/* Any write, at any offset and width, is the exit request. The status is
 * computed on 32 bits like an int exit status; only an exit status's low
 * bits survive anyway. */
static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct debug_exit *d = opaque;
    if (offset >= DEBUG_EXIT_SIZE || !d->exit_request)
        return;
    uint32_t status = ((uint32_t)value << 1) | 1u;
    d->exit_request(d->opaque, (int)status);
}

const struct bus_ops debug_exit_bus_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

static void debug_exit_reset(void *dev)
{
    (void)dev;
}

static void debug_exit_finalize(void *dev)
{
    (void)dev;
}

const struct device_ops debug_exit_device_ops = {
    .name = "debug_exit",
    .reset = debug_exit_reset,
    .finalize = debug_exit_finalize,
    .vmstate = NULL,
    .size = sizeof(struct debug_exit),
};

void debug_exit_init(struct debug_exit *d, void (*exit_request)(void *opaque, int status), void *opaque)
{
    memset(d, 0, sizeof(*d));
    d->exit_request = exit_request;
    d->opaque = opaque;
}
