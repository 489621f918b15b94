#include "virtio_pci.h"

#include <stdio.h>
#include <string.h>

/* Vendor-specific capabilities (section 4.1.4): le-packed
 *   u8 cap_vndr (0x09), u8 cap_next, u8 cap_len, u8 cfg_type, u8 bar,
 *   u8 id, u8 padding[2], le32 offset, le32 length
 * and for notifications one more le32, notify_off_multiplier. */
enum {
    CAP_VENDOR = 0x09,
    CAP_COMMON_CFG = 1,
    CAP_NOTIFY_CFG = 2,
    CAP_ISR_CFG = 3,
    CAP_DEVICE_CFG = 4,
    CAP_FIRST = 0x40,
    BAR0_MASK = (uint32_t)~(VIRTIO_PCI_BAR_SIZE - 1),
};

static void virtio_pci_update_irq(struct virtio_pci *vp)
{
    bool pending = vp->isr != 0;
    uint16_t status = pci_config_get16(&vp->pci, PCI_STATUS);
    status = pending ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT;
    pci_config_set16(&vp->pci, PCI_STATUS, status);
    bool disabled = pci_config_get16(&vp->pci, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
    if (vp->intx)
        irq_set_level(vp->intx, pending && !disabled);
}

/* The transport's own state back to power-on; the device's follows. */
static void virtio_pci_reset_transport(struct virtio_pci *vp)
{
    bool was_ok = vp->status & VIRTIO_STATUS_DRIVER_OK;
    vp->dfselect = vp->gfselect = 0;
    vp->guest_features = 0;
    vp->status = 0;
    vp->isr = 0;
    vp->queue_select = 0;
    for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
        virtq_reset(&vp->vq[i]);
        if (i < vp->ops->num_queues)
            vp->vq[i].size = vp->ops->queue_max;
    }
    vp->error[0] = 0;
    virtio_pci_update_irq(vp);
    if (vp->ops->reset)
        vp->ops->reset(vp->dev);
    if (was_ok && vp->ops->driver_ok)
        vp->ops->driver_ok(vp->dev, false);
}

/* ---- common configuration ---- */

static struct virtq *selected_queue(struct virtio_pci *vp)
{
    return vp->queue_select < vp->ops->num_queues ? &vp->vq[vp->queue_select] : NULL;
}

static uint64_t offered_features(const struct virtio_pci *vp)
{
    return vp->ops->features | VIRTIO_F_VERSION_1;
}

/* The registers as the driver reads them, laid out as in section 4.1.4.3. */
static void common_image(struct virtio_pci *vp, uint8_t img[VIRTIO_COMMON_SIZE])
{
    memset(img, 0, VIRTIO_COMMON_SIZE);
    uint64_t df = vp->dfselect < 2 ? offered_features(vp) >> (32 * vp->dfselect) : 0;
    uint32_t df32 = (uint32_t)df;
    uint32_t gf32 = vp->gfselect < 2 ? (uint32_t)(vp->guest_features >> (32 * vp->gfselect)) : 0;
    uint16_t msix = VIRTIO_MSI_NO_VECTOR, numq = (uint16_t)vp->ops->num_queues;
    memcpy(img + VIRTIO_COMMON_DFSELECT, &vp->dfselect, 4);
    memcpy(img + VIRTIO_COMMON_DF, &df32, 4);
    memcpy(img + VIRTIO_COMMON_GFSELECT, &vp->gfselect, 4);
    memcpy(img + VIRTIO_COMMON_GF, &gf32, 4);
    memcpy(img + VIRTIO_COMMON_MSIX, &msix, 2);
    memcpy(img + VIRTIO_COMMON_NUMQ, &numq, 2);
    img[VIRTIO_COMMON_STATUS] = vp->status;
    img[VIRTIO_COMMON_CFGGENERATION] = 0;
    memcpy(img + VIRTIO_COMMON_Q_SELECT, &vp->queue_select, 2);
    struct virtq *q = selected_queue(vp);
    if (!q)
        return;
    uint16_t enable = q->enabled, noff = vp->queue_select;
    memcpy(img + VIRTIO_COMMON_Q_SIZE, &q->size, 2);
    memcpy(img + VIRTIO_COMMON_Q_MSIX, &msix, 2);
    memcpy(img + VIRTIO_COMMON_Q_ENABLE, &enable, 2);
    memcpy(img + VIRTIO_COMMON_Q_NOFF, &noff, 2);
    memcpy(img + VIRTIO_COMMON_Q_DESCLO, &q->desc_gpa, 8);
    memcpy(img + VIRTIO_COMMON_Q_AVAILLO, &q->avail_gpa, 8);
    memcpy(img + VIRTIO_COMMON_Q_USEDLO, &q->used_gpa, 8);
}

static uint64_t common_read(struct virtio_pci *vp, uint64_t off, unsigned size)
{
    uint8_t img[VIRTIO_COMMON_SIZE];
    common_image(vp, img);
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < VIRTIO_COMMON_SIZE; i++)
        v |= (uint64_t)img[off + i] << (8 * i);
    return v;
}

static void write_status(struct virtio_pci *vp, uint8_t value)
{
    if (value == 0) {
        virtio_pci_reset_transport(vp);
        return;
    }
    uint8_t old = vp->status;
    /* FEATURES_OK sticks only for a subset of the offered features that
     * includes VERSION_1 (sections 2.2 and 6.1): legacy drivers are not
     * served by this transport. */
    if ((value & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
        ((vp->guest_features & ~offered_features(vp)) || !(vp->guest_features & VIRTIO_F_VERSION_1)))
        value &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    /* DRIVER_OK without FEATURES_OK is a driver bug; the device stays unusable. */
    if ((value & VIRTIO_STATUS_DRIVER_OK) && !(value & VIRTIO_STATUS_FEATURES_OK))
        value &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
    vp->status = (uint8_t)(value | (old & VIRTIO_STATUS_NEEDS_RESET));
    bool was_ok = old & VIRTIO_STATUS_DRIVER_OK, ok = vp->status & VIRTIO_STATUS_DRIVER_OK;
    if (was_ok != ok && vp->ops->driver_ok)
        vp->ops->driver_ok(vp->dev, ok);
}

static void set_half(uint64_t *reg, bool high, uint32_t value)
{
    if (high)
        *reg = (*reg & 0xffffffffull) | (uint64_t)value << 32;
    else
        *reg = (*reg & ~0xffffffffull) | value;
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint64_t value, unsigned size)
{
    struct virtq *q = selected_queue(vp);
    /* Each register takes writes of its own width; a 64-bit address also
     * takes its two halves (section 4.1.3.1). */
    switch (off) {
    case VIRTIO_COMMON_DFSELECT:
        if (size == 4)
            vp->dfselect = (uint32_t)value;
        return;
    case VIRTIO_COMMON_GFSELECT:
        if (size == 4)
            vp->gfselect = (uint32_t)value;
        return;
    case VIRTIO_COMMON_GF:
        if (size == 4 && vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK))
            set_half(&vp->guest_features, vp->gfselect == 1, (uint32_t)value);
        return;
    case VIRTIO_COMMON_STATUS:
        if (size == 1)
            write_status(vp, (uint8_t)value);
        return;
    case VIRTIO_COMMON_Q_SELECT:
        if (size == 2)
            vp->queue_select = (uint16_t)value;
        return;
    case VIRTIO_COMMON_MSIX:
    case VIRTIO_COMMON_Q_MSIX:
        return;     /* no MSI-X: the vectors stay VIRTIO_MSI_NO_VECTOR */
    }
    /* The rest configure the selected queue, only while it is disabled. */
    if (!q || q->enabled)
        return;
    switch (off) {
    case VIRTIO_COMMON_Q_SIZE:
        if (size == 2 && value && !(value & (value - 1)) && value <= vp->ops->queue_max)
            q->size = (uint16_t)value;
        return;
    case VIRTIO_COMMON_Q_ENABLE:
        if (size == 2 && value == 1) {
            q->enabled = true;
            q->last_avail = q->used_idx = 0;
        }
        return;
    case VIRTIO_COMMON_Q_DESCLO:
    case VIRTIO_COMMON_Q_DESCHI:
    case VIRTIO_COMMON_Q_AVAILLO:
    case VIRTIO_COMMON_Q_AVAILHI:
    case VIRTIO_COMMON_Q_USEDLO:
    case VIRTIO_COMMON_Q_USEDHI: {
        uint64_t *reg = off < VIRTIO_COMMON_Q_AVAILLO ? &q->desc_gpa
                        : off < VIRTIO_COMMON_Q_USEDLO ? &q->avail_gpa : &q->used_gpa;
        bool high = off & 4;
        if (size == 4)
            set_half(reg, high, (uint32_t)value);
        else if (size == 8 && !high)
            *reg = value;
        return;
    }
    }
}

/* ---- the BAR ---- */

static uint64_t virtio_pci_bar_read(void *opaque, uint64_t offset, unsigned size)
{
    struct virtio_pci *vp = opaque;
    if (offset < VIRTIO_PCI_COMMON + VIRTIO_COMMON_SIZE)
        return common_read(vp, offset, size);
    if (offset >= VIRTIO_PCI_ISR && offset < VIRTIO_PCI_ISR + 4) {
        /* Reading the ISR acknowledges the interrupt (section 4.1.4.5). */
        uint8_t v = offset == VIRTIO_PCI_ISR ? vp->isr : 0;
        if (offset == VIRTIO_PCI_ISR) {
            vp->isr = 0;
            virtio_pci_update_irq(vp);
        }
        return v;
    }
    if (offset >= VIRTIO_PCI_DEVICE_CFG && offset < VIRTIO_PCI_DEVICE_CFG + vp->ops->config_size) {
        uint32_t off = (uint32_t)(offset - VIRTIO_PCI_DEVICE_CFG);
        if (size > 4 || off + size > vp->ops->config_size || !vp->ops->config_read)
            return 0;
        return vp->ops->config_read(vp->dev, off, size);
    }
    return 0;
}

static void virtio_pci_bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct virtio_pci *vp = opaque;
    if (offset < VIRTIO_PCI_COMMON + VIRTIO_COMMON_SIZE) {
        common_write(vp, offset, value, size);
    } else if (offset >= VIRTIO_PCI_DEVICE_CFG && offset < VIRTIO_PCI_DEVICE_CFG + vp->ops->config_size) {
        uint32_t off = (uint32_t)(offset - VIRTIO_PCI_DEVICE_CFG);
        if (size <= 4 && off + size <= vp->ops->config_size && vp->ops->config_write)
            vp->ops->config_write(vp->dev, off, (uint32_t)value, size);
    } else if (offset >= VIRTIO_PCI_NOTIFY &&
               offset < VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULTIPLIER * vp->ops->num_queues) {
        unsigned q = (unsigned)((offset - VIRTIO_PCI_NOTIFY) / VIRTIO_PCI_NOTIFY_MULTIPLIER);
        if (virtio_pci_queue(vp, q) && vp->ops->queue_notify)
            vp->ops->queue_notify(vp->dev, q);
    }
}

const struct bus_ops virtio_pci_bar_ops = {
    .read = virtio_pci_bar_read,
    .write = virtio_pci_bar_write,
    .sizes = BUS_SIZE_ALL,
};

/* ---- PCI configuration ---- */

static void virtio_pci_update_bar(struct virtio_pci *vp)
{
    if (!vp->mmio)
        return;
    bool mem = pci_config_get16(&vp->pci, PCI_COMMAND) & PCI_COMMAND_MEMORY;
    uint32_t bar = pci_config_get32(&vp->pci, PCI_BASE_ADDRESS_0) & BAR0_MASK;
    bool want = mem && bar != 0 && bar != BAR0_MASK;
    if (vp->bar_mapped && (!want || vp->bar_gpa != bar)) {
        bus_unmap(vp->mmio, vp->bar_gpa);
        vp->bar_mapped = false;
    }
    /* A BAR placed over another device's range stays unmapped. */
    if (want && !vp->bar_mapped &&
        bus_map(vp->mmio, bar, VIRTIO_PCI_BAR_SIZE, &virtio_pci_bar_ops, vp, "virtio-pci") == 0) {
        vp->bar_mapped = true;
        vp->bar_gpa = bar;
    }
}

static bool overlaps(unsigned reg, unsigned size, unsigned start, unsigned len)
{
    return reg < start + len && start < reg + size;
}

static void virtio_pci_config_written(struct pci_device *dev, unsigned reg, unsigned size)
{
    struct virtio_pci *vp = dev->opaque;
    if (overlaps(reg, size, PCI_COMMAND, 2) || overlaps(reg, size, PCI_BASE_ADDRESS_0, 4))
        virtio_pci_update_bar(vp);
    if (overlaps(reg, size, PCI_COMMAND, 2))
        virtio_pci_update_irq(vp);
}

static const struct pci_device_ops virtio_pci_config_ops = {
    .config_written = virtio_pci_config_written,
};

static unsigned add_cap(struct virtio_pci *vp, unsigned at, unsigned len, uint8_t type, uint32_t offset,
                        uint32_t length)
{
    pci_config_set8(&vp->pci, at, CAP_VENDOR);
    pci_config_set8(&vp->pci, at + 1, 0);
    pci_config_set8(&vp->pci, at + 2, (uint8_t)len);
    pci_config_set8(&vp->pci, at + 3, type);
    pci_config_set8(&vp->pci, at + 4, 0);   /* BAR0 */
    pci_config_set32(&vp->pci, at + 8, offset);
    pci_config_set32(&vp->pci, at + 12, length);
    return at + len;
}

static void virtio_pci_setup_config(struct virtio_pci *vp)
{
    const struct virtio_device_ops *ops = vp->ops;
    pci_device_init(&vp->pci, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_type), 1,
                    ops->class_code, PCI_HEADER_TYPE_NORMAL, &virtio_pci_config_ops, vp);
    pci_config_set16(&vp->pci, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
    pci_config_set16(&vp->pci, PCI_SUBSYSTEM_ID, (uint16_t)(0x40 + ops->device_type));
    pci_config_set8(&vp->pci, PCI_INTERRUPT_PIN, 1);
    pci_config_set_wmask(&vp->pci, PCI_BASE_ADDRESS_0, BAR0_MASK, 4);
    pci_config_set16(&vp->pci, PCI_STATUS, PCI_STATUS_CAP_LIST);
    pci_config_set8(&vp->pci, PCI_CAPABILITY_LIST, CAP_FIRST);
    /* Each capability's next pointer is filled as the following one is added. */
    unsigned at = CAP_FIRST, prev;
    prev = at;
    at = add_cap(vp, at, 16, CAP_COMMON_CFG, VIRTIO_PCI_COMMON, VIRTIO_COMMON_SIZE);
    pci_config_set8(&vp->pci, prev + 1, (uint8_t)at);
    prev = at;
    at = add_cap(vp, at, 16, CAP_ISR_CFG, VIRTIO_PCI_ISR, 1);
    pci_config_set8(&vp->pci, prev + 1, (uint8_t)at);
    if (ops->config_size) {
        prev = at;
        at = add_cap(vp, at, 16, CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_CFG, ops->config_size);
        pci_config_set8(&vp->pci, prev + 1, (uint8_t)at);
    }
    add_cap(vp, at, 20, CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY, VIRTIO_PCI_NOTIFY_MULTIPLIER * ops->num_queues);
    pci_config_set32(&vp->pci, at + 16, VIRTIO_PCI_NOTIFY_MULTIPLIER);
}

/* ---- the device's side ---- */

bool virtio_pci_driver_ok(const struct virtio_pci *vp)
{
    return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_NEEDS_RESET);
}

struct virtq *virtio_pci_queue(struct virtio_pci *vp, unsigned q)
{
    /* No bus mastering, no access to the guest's memory (PCI 3.0, 6.2.2). */
    if (q >= vp->ops->num_queues || !virtio_pci_driver_ok(vp) ||
        !(pci_config_get16(&vp->pci, PCI_COMMAND) & PCI_COMMAND_MASTER))
        return NULL;
    /* A queue the driver enabled with rings that are misaligned or not in
     * RAM cannot be used: say so rather than ignore it silently. */
    if (!virtq_ready(&vp->vq[q], vp->mem)) {
        if (vp->vq[q].enabled)
            virtio_pci_device_error(vp, "the driver enabled a queue whose rings are misaligned or outside RAM");
        return NULL;
    }
    return &vp->vq[q];
}

int virtio_pci_pop(struct virtio_pci *vp, struct virtq *q, struct virtq_elem *elem)
{
    char err[VIRTIO_PCI_ERROR_LEN];
    int rc = virtq_pop(q, vp->mem, elem, err, sizeof(err));
    if (rc < 0)
        virtio_pci_device_error(vp, err);
    return rc;
}

bool virtio_pci_push(struct virtio_pci *vp, struct virtq *q, uint16_t head, uint32_t written)
{
    if (virtq_push(q, vp->mem, head, written) == 0)
        return true;
    virtio_pci_device_error(vp, "the used ring is outside RAM");
    return false;
}

void virtio_pci_used(struct virtio_pci *vp, unsigned q)
{
    if (q >= vp->ops->num_queues || !virtq_wants_interrupt(&vp->vq[q], vp->mem))
        return;
    vp->isr |= VIRTIO_ISR_QUEUE;
    virtio_pci_update_irq(vp);
}

void virtio_pci_device_error(struct virtio_pci *vp, const char *reason)
{
    if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
        return;
    snprintf(vp->error, sizeof(vp->error), "%s", reason);
    bool was_ok = virtio_pci_driver_ok(vp);
    vp->status |= VIRTIO_STATUS_NEEDS_RESET;
    /* Section 2.1.2: the device tells the driver with a configuration change. */
    if (vp->status & VIRTIO_STATUS_DRIVER_OK) {
        vp->isr |= VIRTIO_ISR_CONFIG;
        virtio_pci_update_irq(vp);
    }
    if (was_ok && vp->ops->driver_ok)
        vp->ops->driver_ok(vp->dev, false);
}

/* ---- lifecycle ---- */

void virtio_pci_init(struct virtio_pci *vp, const struct virtio_device_ops *ops, void *dev, struct bus *mmio,
                     const struct guest_mem *mem, struct irq_line *intx)
{
    memset(vp, 0, sizeof(*vp));
    vp->ops = ops;
    vp->dev = dev;
    vp->mmio = mmio;
    vp->mem = mem;
    vp->intx = intx;
    virtio_pci_setup_config(vp);
    virtio_pci_reset_transport(vp);
}

static void virtio_pci_device_reset(void *opaque)
{
    struct virtio_pci *vp = opaque;
    if (vp->bar_mapped && vp->mmio)
        bus_unmap(vp->mmio, vp->bar_gpa);
    vp->bar_mapped = false;
    virtio_pci_setup_config(vp);
    virtio_pci_reset_transport(vp);
}

static void virtio_pci_finalize(void *opaque)
{
    struct virtio_pci *vp = opaque;
    if (vp->bar_mapped && vp->mmio)
        bus_unmap(vp->mmio, vp->bar_gpa);
    vp->bar_mapped = false;
}

/* After a load: the identity and capabilities are this build's, only the
 * guest-writable bits come from the stream; the BAR is mapped where the
 * loaded register says (the mapping before the load is let go first). */
static void virtio_pci_post_load(void *opaque)
{
    struct virtio_pci *vp = opaque;
    uint8_t loaded[PCI_CONFIG_SPACE_SIZE];
    memcpy(loaded, vp->pci.config, sizeof(loaded));
    virtio_pci_setup_config(vp);
    for (unsigned i = 0; i < PCI_CONFIG_SPACE_SIZE; i++)
        vp->pci.config[i] = (uint8_t)((vp->pci.config[i] & ~vp->pci.wmask[i]) | (loaded[i] & vp->pci.wmask[i]));
    vp->error[VIRTIO_PCI_ERROR_LEN - 1] = 0;
    if (vp->bar_mapped && vp->mmio)
        bus_unmap(vp->mmio, vp->bar_gpa);
    vp->bar_mapped = false;
    virtio_pci_update_bar(vp);
    virtio_pci_update_irq(vp);
}

static const struct vmstate_field virtio_pci_vmstate_fields[] = {
    VMSTATE_FIELD(struct virtio_pci, pci.config, 1),
    VMSTATE_FIELD(struct virtio_pci, dfselect, 1),
    VMSTATE_FIELD(struct virtio_pci, gfselect, 1),
    VMSTATE_FIELD(struct virtio_pci, guest_features, 1),
    VMSTATE_FIELD(struct virtio_pci, status, 1),
    VMSTATE_FIELD(struct virtio_pci, isr, 1),
    VMSTATE_FIELD(struct virtio_pci, queue_select, 1),
    VMSTATE_FIELD(struct virtio_pci, vq, 1),
    VMSTATE_FIELD(struct virtio_pci, error, 1),
};

static const struct vmstate_desc virtio_pci_vmstate = {
    .name = "virtio-pci",
    .version = 1,
    .fields = virtio_pci_vmstate_fields,
    .nfields = sizeof(virtio_pci_vmstate_fields) / sizeof(virtio_pci_vmstate_fields[0]),
    .post_load = virtio_pci_post_load,
};

const struct device_ops virtio_pci_device_ops = {
    .name = "virtio-pci",
    .reset = virtio_pci_device_reset,
    .finalize = virtio_pci_finalize,
    .vmstate = &virtio_pci_vmstate,
    .size = sizeof(struct virtio_pci),
};
