#include "virtio_input.h"

#include <string.h>

/* Linux event codes (include/uapi/linux/input-event-codes.h, a stable ABI). */
enum {
    EV_SYN = 0x00,
    EV_KEY = 0x01,
    EV_REL = 0x02,
    EV_ABS = 0x03,
    SYN_REPORT = 0,
    REL_WHEEL = 0x08,
    ABS_X = 0x00,
    ABS_Y = 0x01,
    BTN_LEFT = 0x110,
    BTN_RIGHT = 0x111,
    BTN_MIDDLE = 0x112,
    BUS_VIRTUAL = 0x06,
};

enum {
    EVENTQ = 0,
    STATUSQ = 1,
    CFG_UNION = 8,      /* select, subsel, size, reserved[5], then the union */
    CFG_UNION_SIZE = 128,
};

static const uint16_t tablet_buttons[] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE };

static struct virtio_input *of_dev(void *dev)
{
    return dev;
}

static void set_bit(uint8_t *bitmap, unsigned bit, uint8_t *size)
{
    bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
    if (*size < bit / 8 + 1)
        *size = (uint8_t)(bit / 8 + 1);
}

/* The configuration the driver sees for the current select/subsel
 * (section 5.8.2): size says how many bytes of the union are valid. */
static void config_image(const struct virtio_input *t, uint8_t img[VIRTIO_INPUT_CFG_SIZE])
{
    memset(img, 0, VIRTIO_INPUT_CFG_SIZE);
    img[0] = t->select;
    img[1] = t->subsel;
    uint8_t *u = img + CFG_UNION, size = 0;
    switch (t->select) {
    case VIRTIO_INPUT_CFG_ID_NAME:
        if (t->subsel == 0) {
            size = (uint8_t)strlen(VIRTIO_TABLET_NAME);
            memcpy(u, VIRTIO_TABLET_NAME, size);
        }
        break;
    case VIRTIO_INPUT_CFG_ID_DEVIDS:
        if (t->subsel == 0) {
            const uint16_t ids[4] = { BUS_VIRTUAL, VIRTIO_PCI_VENDOR, 0x0001, 0x0001 };
            memcpy(u, ids, sizeof(ids));
            size = sizeof(ids);
        }
        break;
    case VIRTIO_INPUT_CFG_EV_BITS:
        if (t->subsel == EV_KEY) {
            for (unsigned i = 0; i < sizeof(tablet_buttons) / sizeof(tablet_buttons[0]); i++)
                set_bit(u, tablet_buttons[i], &size);
        } else if (t->subsel == EV_REL) {
            set_bit(u, REL_WHEEL, &size);
        } else if (t->subsel == EV_ABS) {
            set_bit(u, ABS_X, &size);
            set_bit(u, ABS_Y, &size);
        }
        break;
    case VIRTIO_INPUT_CFG_ABS_INFO:
        if (t->subsel == ABS_X || t->subsel == ABS_Y) {
            /* le32 min, max, fuzz, flat, res */
            const uint32_t info[5] = { 0, VIRTIO_TABLET_ABS_MAX, 0, 0, 0 };
            memcpy(u, info, sizeof(info));
            size = sizeof(info);
        }
        break;
    default:    /* UNSET, ID_SERIAL, PROP_BITS and unknown selectors: nothing */
        break;
    }
    img[2] = size;
}

static uint32_t virtio_input_config_read(void *dev, uint32_t offset, unsigned size)
{
    uint8_t img[VIRTIO_INPUT_CFG_SIZE];
    config_image(of_dev(dev), img);
    uint32_t v = 0;
    for (unsigned i = 0; i < size && offset + i < VIRTIO_INPUT_CFG_SIZE; i++)
        v |= (uint32_t)img[offset + i] << (8 * i);
    return v;
}

static void virtio_input_config_write(void *dev, uint32_t offset, uint32_t value, unsigned size)
{
    struct virtio_input *t = of_dev(dev);
    /* Only select (byte 0) and subsel (byte 1) are the driver's to write. */
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (offset + i == 0)
            t->select = b;
        else if (offset + i == 1)
            t->subsel = b;
    }
}

static bool virtio_input_queue_update(struct virtio_input *t, unsigned x, unsigned y, int dz, unsigned buttons);

/* After a dropped update, the latest state goes out once the queue has
 * drained (it then fits). */
static void virtio_input_resync(struct virtio_input *t)
{
    if (t->stale && t->count == 0) {
        t->stale = false;
        virtio_input_queue_update(t, t->last_x, t->last_y, 0, t->last_buttons);
    }
}

/* Hand pending events to the driver while it offers buffers. */
static void virtio_input_flush(struct virtio_input *t)
{
    struct virtq *q = virtio_pci_queue(&t->vp, EVENTQ);
    if (!q)
        return;
    bool pushed = false;
    struct virtq_elem elem;
    virtio_input_resync(t);
    while (t->count && virtio_pci_pop(&t->vp, q, &elem) == 1) {
        const struct virtio_input_event *ev = &t->pending[t->head];
        uint8_t bytes[8];
        memcpy(bytes, &ev->type, 2);
        memcpy(bytes + 2, &ev->code, 2);
        memcpy(bytes + 4, &ev->value, 4);
        long n = elem.in_len >= sizeof(bytes) ? virtq_elem_fill(t->vp.mem, &elem, bytes, sizeof(bytes)) : -1;
        if (n < 0) {
            virtio_pci_device_error(&t->vp, "an event buffer is shorter than an event");
            return;
        }
        if (!virtio_pci_push(&t->vp, q, elem.head, (uint32_t)n))
            return;
        pushed = true;
        t->head = (t->head + 1) % VIRTIO_INPUT_PENDING;
        t->count--;
        virtio_input_resync(t);
    }
    if (pushed)
        virtio_pci_used(&t->vp, EVENTQ);
}

/* Buffers on the status queue are read and returned: a tablet has no LEDs
 * or sounds for what they say. */
static void virtio_input_drain_status(struct virtio_input *t)
{
    struct virtq *q = virtio_pci_queue(&t->vp, STATUSQ);
    if (!q)
        return;
    bool pushed = false;
    struct virtq_elem elem;
    for (unsigned n = 0; n < q->size && virtio_pci_pop(&t->vp, q, &elem) == 1; n++) {
        if (!virtio_pci_push(&t->vp, q, elem.head, 0))
            return;
        pushed = true;
    }
    if (pushed)
        virtio_pci_used(&t->vp, STATUSQ);
}

static void virtio_input_queue_notify(void *dev, unsigned q)
{
    struct virtio_input *t = of_dev(dev);
    if (q == EVENTQ)
        virtio_input_flush(t);
    else
        virtio_input_drain_status(t);
}

static void virtio_input_reset_state(void *dev)
{
    struct virtio_input *t = of_dev(dev);
    t->select = t->subsel = 0;
    t->buttons = 0;
    t->head = t->count = 0;
    t->stale = false;
}

static void virtio_input_driver_ok(void *dev, bool ok)
{
    struct virtio_input *t = of_dev(dev);
    /* What was queued for a driver that went away is stale for the next. */
    if (!ok) {
        t->head = t->count = 0;
        t->buttons = 0;
        t->stale = false;
    }
}

static const struct virtio_device_ops virtio_tablet_ops = {
    .device_type = VIRTIO_INPUT_DEVICE_TYPE,
    .class_code = 0x098000,     /* input device controller, other */
    .features = 0,
    .num_queues = 2,
    .queue_max = 64,
    .config_size = VIRTIO_INPUT_CFG_SIZE,
    .config_read = virtio_input_config_read,
    .config_write = virtio_input_config_write,
    .queue_notify = virtio_input_queue_notify,
    .reset = virtio_input_reset_state,
    .driver_ok = virtio_input_driver_ok,
};

void virtio_tablet_init(struct virtio_input *t, struct bus *mmio, const struct guest_mem *mem, struct irq_line *intx)
{
    memset(t, 0, sizeof(*t));
    virtio_pci_init(&t->vp, &virtio_tablet_ops, t, mmio, mem, intx);
}

unsigned virtio_tablet_axis(unsigned pos, unsigned pixels)
{
    if (pixels == 0)
        return 0;
    if (pos > pixels - 1)
        pos = pixels - 1;
    uint64_t v = ((2 * (uint64_t)pos + 1) * (VIRTIO_TABLET_ABS_MAX + 1)) / (2 * (uint64_t)pixels);
    return (unsigned)(v > VIRTIO_TABLET_ABS_MAX ? VIRTIO_TABLET_ABS_MAX : v);
}

bool virtio_tablet_active(const struct virtio_input *t)
{
    return virtio_pci_driver_ok(&t->vp);
}

/* Queue one update (the changes from what was queued before), whole or
 * not at all; false when it does not fit. */
static bool virtio_input_queue_update(struct virtio_input *t, unsigned x, unsigned y, int dz, unsigned buttons)
{
    struct virtio_input_event packet[3 + 3 + 1 + 1];
    unsigned n = 0;
    packet[n++] = (struct virtio_input_event){ EV_ABS, ABS_X, x > VIRTIO_TABLET_ABS_MAX ? VIRTIO_TABLET_ABS_MAX : x };
    packet[n++] = (struct virtio_input_event){ EV_ABS, ABS_Y, y > VIRTIO_TABLET_ABS_MAX ? VIRTIO_TABLET_ABS_MAX : y };
    for (unsigned i = 0; i < sizeof(tablet_buttons) / sizeof(tablet_buttons[0]); i++) {
        unsigned bit = 1u << i;
        if ((buttons ^ t->buttons) & bit)
            packet[n++] = (struct virtio_input_event){ EV_KEY, tablet_buttons[i], (buttons & bit) ? 1 : 0 };
    }
    if (dz)
        packet[n++] = (struct virtio_input_event){ EV_REL, REL_WHEEL, (uint32_t)dz };
    packet[n++] = (struct virtio_input_event){ EV_SYN, SYN_REPORT, 0 };
    if (n > VIRTIO_INPUT_PENDING - t->count)
        return false;
    for (unsigned i = 0; i < n; i++) {
        t->pending[(t->head + t->count) % VIRTIO_INPUT_PENDING] = packet[i];
        t->count++;
    }
    t->buttons = buttons & (VIRTIO_TABLET_LEFT | VIRTIO_TABLET_RIGHT | VIRTIO_TABLET_MIDDLE);
    return true;
}

bool virtio_tablet_event(struct virtio_input *t, unsigned x, unsigned y, int dz, unsigned buttons)
{
    if (!virtio_tablet_active(t))
        return false;
    t->last_x = x;
    t->last_y = y;
    t->last_buttons = buttons;
    if (!virtio_input_queue_update(t, x, y, dz, buttons)) {
        t->dropped++;
        t->stale = true;
    }
    virtio_input_flush(t);
    return true;
}

/* ---- lifecycle ----
 *
 * The board registers two devices: the transport (&t->vp with
 * virtio_pci_device_ops: PCI function, queues, and the reset and mapping of
 * both) and the tablet's own state with the ops below, after it. */

static void virtio_input_post_load(void *opaque)
{
    struct virtio_input *t = opaque;
    /* A stream is input like any other: the queue indices stay in range. */
    t->head %= VIRTIO_INPUT_PENDING;
    if (t->count > VIRTIO_INPUT_PENDING)
        t->count = 0;
    t->buttons &= VIRTIO_TABLET_LEFT | VIRTIO_TABLET_RIGHT | VIRTIO_TABLET_MIDDLE;
    t->stale = t->stale ? true : false;
}

static const struct vmstate_field virtio_input_vmstate_fields[] = {
    VMSTATE_FIELD(struct virtio_input, select, 1),
    VMSTATE_FIELD(struct virtio_input, subsel, 1),
    VMSTATE_FIELD(struct virtio_input, buttons, 1),
    VMSTATE_FIELD(struct virtio_input, pending, 1),
    VMSTATE_FIELD(struct virtio_input, head, 1),
    VMSTATE_FIELD(struct virtio_input, count, 1),
    VMSTATE_FIELD(struct virtio_input, stale, 1),
    VMSTATE_FIELD(struct virtio_input, last_x, 1),
    VMSTATE_FIELD(struct virtio_input, last_y, 1),
    VMSTATE_FIELD(struct virtio_input, last_buttons, 1),
};

static const struct vmstate_desc virtio_input_vmstate = {
    .name = "virtio-tablet",
    .version = 1,
    .fields = virtio_input_vmstate_fields,
    .nfields = sizeof(virtio_input_vmstate_fields) / sizeof(virtio_input_vmstate_fields[0]),
    .post_load = virtio_input_post_load,
};

const struct device_ops virtio_input_device_ops = {
    .name = "virtio-tablet",
    .reset = virtio_input_reset_state,
    .vmstate = &virtio_input_vmstate,
    .size = sizeof(struct virtio_input),
};
