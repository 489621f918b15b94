/* System Control Port A (0x92).
 *
 * Only the fast-reset bit has an effect. The A20 bit is kept so the guest
 * reads back what it wrote; Hostel does not emulate A20 masking, so memory
 * above 1 MiB never wraps whatever the bit says. */
#include "port92.h"

#include <string.h>

static uint64_t port92_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct port92 *p = opaque;
    return offset == 0 ? p->value : 0xff;
}

static void port92_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct port92 *p = opaque;
    if (offset != 0)
        return;
    uint8_t old = p->value;
    p->value = (uint8_t)value;
    /* The reset fires on the bit's rising edge; it stays set (and reads
     * back as 1) until the machine reset clears it. */
    if ((p->value & PORT92_FAST_RESET) && !(old & PORT92_FAST_RESET) && p->reset_request)
        p->reset_request(p->opaque);
}

const struct bus_ops port92_bus_ops = {
    .read = port92_read,
    .write = port92_write,
    .sizes = BUS_SIZE_1,
};

/* A20 reads as enabled after reset because it effectively is. */
static void port92_reset(void *dev)
{
    struct port92 *p = dev;
    p->value = PORT92_A20;
}

static void port92_finalize(void *dev)
{
    (void)dev;
}

static const struct vmstate_field port92_vmstate_fields[] = {
    VMSTATE_FIELD(struct port92, value, 1),
};

static const struct vmstate_desc port92_vmstate = {
    .name = "port92",
    .version = 1,
    .fields = port92_vmstate_fields,
    .nfields = sizeof(port92_vmstate_fields) / sizeof(port92_vmstate_fields[0]),
    .post_load = NULL,
};

const struct device_ops port92_device_ops = {
    .name = "port92",
    .reset = port92_reset,
    .finalize = port92_finalize,
    .vmstate = &port92_vmstate,
    .size = sizeof(struct port92),
};

void port92_init(struct port92 *p, void (*reset_request)(void *opaque), void *opaque)
{
    memset(p, 0, sizeof(*p));
    p->reset_request = reset_request;
    p->opaque = opaque;
    port92_reset(p);
}

bool port92_a20_enabled(const struct port92 *p)
{
    return p->value & PORT92_A20;
}
