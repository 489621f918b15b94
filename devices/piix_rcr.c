#include "piix_rcr.h"

static void piix_rcr_reset(void *dev)
{
    ((struct piix_rcr *)dev)->value = 0;
}

static uint64_t piix_rcr_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix_rcr *rcr = opaque;
    return off == 0 ? rcr->value : 0xff;
}

static void piix_rcr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct piix_rcr *rcr = opaque;
    if (off != 0)
        return;
    /* RST_CPU is a trigger and reads back as 0; SYS_RST only selects hard
     * vs soft reset, which are the same for a VM. */
    rcr->value = (uint8_t)(val & PIIX_RCR_SYS_RST);
    if ((val & PIIX_RCR_RST_CPU) && rcr->reset_request)
        rcr->reset_request(rcr->opaque);
}

void piix_rcr_init(struct piix_rcr *rcr, void (*reset_request)(void *opaque), void *opaque)
{
    rcr->reset_request = reset_request;
    rcr->opaque = opaque;
    piix_rcr_reset(rcr);
}

static const struct vmstate_field piix_rcr_fields[] = {
    VMSTATE_FIELD(struct piix_rcr, value, 1),
};

static const struct vmstate_desc piix_rcr_vmstate = {
    .name = "piix-rcr",
    .version = 1,
    .fields = piix_rcr_fields,
    .nfields = 1,
};

const struct bus_ops piix_rcr_bus_ops = {
    .read = piix_rcr_read,
    .write = piix_rcr_write,
    .sizes = BUS_SIZE_1,
};

const struct device_ops piix_rcr_device_ops = {
    .name = "piix-rcr",
    .reset = piix_rcr_reset,
    .vmstate = &piix_rcr_vmstate,
    .size = sizeof(struct piix_rcr),
};
