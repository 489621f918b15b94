#include "debugcon.h"

static uint64_t debugcon_read(void *opaque, uint64_t offset, unsigned size)
{
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct debugcon *d = opaque;
    uint8_t b = (uint8_t)value;
    if (d->out && d->out->write)
        d->out->write(d->out->opaque, &b, 1);
}

const struct bus_ops debugcon_bus_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .sizes = BUS_SIZE_1,
};

void debugcon_init(struct debugcon *d, const struct chardev *out)
{
    d->out = out;
}

const struct device_ops debugcon_device_ops = {
    .name = "debugcon",
};
