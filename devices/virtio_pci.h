/* Virtio over PCI, the modern (1.x) transport (Virtual I/O Device (VIRTIO)
 * Version 1.2, section 4.1 "Virtio Over PCI Bus").
 *
 * A PCI function 1af4:(1040 + device type), revision 1, with one 32-bit
 * memory BAR (BAR0, 16 KiB) holding, one page each:
 *   0x0000 common configuration (section 4.1.4.3)
 *   0x1000 ISR status (4.1.4.5)
 *   0x2000 device-specific configuration (4.1.4.6)
 *   0x3000 notifications (4.1.4.4): queue n at 0x3000 + 4n
 * found by the driver through vendor-specific PCI capabilities (4.1.4).
 * Interrupts are INTx (pin A, level, cleared by reading the ISR): there is
 * no MSI-X capability, which drivers handle by falling back to INTx. The
 * optional PCI configuration access capability is not offered.
 *
 * The device proper (input, block, ...) plugs in through a const
 * virtio_device_ops and drives its queues with virtqueue.h; it calls
 * virtio_pci_used() after returning buffers so the driver is interrupted.
 * A device that finds the driver's rings malformed calls
 * virtio_pci_device_error(): the device then needs a reset (status bit
 * DEVICE_NEEDS_RESET, a configuration-change interrupt) and takes no more
 * buffers until the driver resets it.
 */
#ifndef HOSTEL_VIRTIO_PCI_H
#define HOSTEL_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "device.h"
#include "irq.h"
#include "memory.h"
#include "pci_device.h"
#include "virtqueue.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_PCI_BAR_SIZE 0x4000u
#define VIRTIO_PCI_MAX_QUEUES 8
#define VIRTIO_PCI_COMMON 0x0000u
#define VIRTIO_PCI_ISR 0x1000u
#define VIRTIO_PCI_DEVICE_CFG 0x2000u
#define VIRTIO_PCI_NOTIFY 0x3000u
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4u
#define VIRTIO_PCI_ERROR_LEN 160

/* Device status bits (section 2.1) and feature bits (section 6). */
enum {
    VIRTIO_STATUS_ACKNOWLEDGE = 1,
    VIRTIO_STATUS_DRIVER = 2,
    VIRTIO_STATUS_DRIVER_OK = 4,
    VIRTIO_STATUS_FEATURES_OK = 8,
    VIRTIO_STATUS_NEEDS_RESET = 64,
    VIRTIO_STATUS_FAILED = 128,
    VIRTIO_ISR_QUEUE = 1,
    VIRTIO_ISR_CONFIG = 2,
};
#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Common configuration registers (section 4.1.4.3). */
enum {
    VIRTIO_COMMON_DFSELECT = 0x00,
    VIRTIO_COMMON_DF = 0x04,
    VIRTIO_COMMON_GFSELECT = 0x08,
    VIRTIO_COMMON_GF = 0x0c,
    VIRTIO_COMMON_MSIX = 0x10,
    VIRTIO_COMMON_NUMQ = 0x12,
    VIRTIO_COMMON_STATUS = 0x14,
    VIRTIO_COMMON_CFGGENERATION = 0x15,
    VIRTIO_COMMON_Q_SELECT = 0x16,
    VIRTIO_COMMON_Q_SIZE = 0x18,
    VIRTIO_COMMON_Q_MSIX = 0x1a,
    VIRTIO_COMMON_Q_ENABLE = 0x1c,
    VIRTIO_COMMON_Q_NOFF = 0x1e,
    VIRTIO_COMMON_Q_DESCLO = 0x20,
    VIRTIO_COMMON_Q_DESCHI = 0x24,
    VIRTIO_COMMON_Q_AVAILLO = 0x28,
    VIRTIO_COMMON_Q_AVAILHI = 0x2c,
    VIRTIO_COMMON_Q_USEDLO = 0x30,
    VIRTIO_COMMON_Q_USEDHI = 0x34,
    VIRTIO_COMMON_SIZE = 0x38,
    VIRTIO_MSI_NO_VECTOR = 0xffff,
};

struct virtio_pci;

struct virtio_device_ops {
    uint16_t device_type;       /* section 5, e.g. 18 for input */
    uint32_t class_code;        /* PCI class, subclass, prog-if */
    uint64_t features;          /* offered besides VIRTIO_F_VERSION_1 */
    unsigned num_queues;        /* at most VIRTIO_PCI_MAX_QUEUES */
    uint16_t queue_max;         /* largest queue size, a power of two */
    uint32_t config_size;       /* bytes of device configuration, <= 4096 */
    /* Device configuration accesses of 1, 2 or 4 bytes inside config_size. */
    uint32_t (*config_read)(void *dev, uint32_t offset, unsigned size);
    void (*config_write)(void *dev, uint32_t offset, uint32_t value, unsigned size);
    /* The driver made buffers available on queue q (it is ready). */
    void (*queue_notify)(void *dev, unsigned q);
    /* The driver reset the device (status 0), or the machine did. */
    void (*reset)(void *dev);
    /* Optional: the driver set DRIVER_OK, or the device left that state. */
    void (*driver_ok)(void *dev, bool ok);
};

struct virtio_pci {
    struct pci_device pci;
    /* Wiring. */
    const struct virtio_device_ops *ops;
    void *dev;
    struct bus *mmio;
    const struct guest_mem *mem;
    struct irq_line *intx;
    bool bar_mapped;
    uint64_t bar_gpa;
    /* Transport state. */
    uint32_t dfselect, gfselect;
    uint64_t guest_features;
    uint8_t status;
    uint8_t isr;
    uint16_t queue_select;
    struct virtq vq[VIRTIO_PCI_MAX_QUEUES];
    char error[VIRTIO_PCI_ERROR_LEN];    /* why the device needs a reset, or "" */
};

extern const struct device_ops virtio_pci_device_ops;

/* Set up the function for the device `dev` with `ops`. mmio: the bus the
 * BAR is mapped on; mem: guest RAM for the queues; intx: the line INTA#
 * drives. */
void virtio_pci_init(struct virtio_pci *vp, const struct virtio_device_ops *ops, void *dev, struct bus *mmio,
                     const struct guest_mem *mem, struct irq_line *intx);

/* Whether the driver has set the device up (DRIVER_OK) and it is usable. */
bool virtio_pci_driver_ok(const struct virtio_pci *vp);

/* Queue q if the driver has it ready for use, else NULL. */
struct virtq *virtio_pci_queue(struct virtio_pci *vp, unsigned q);

/* Take the next buffer from queue q (ready, from virtio_pci_queue): 1 with
 * elem filled, 0 when there is none, -1 when the ring is malformed (the
 * device then needs a reset, as by virtio_pci_device_error). */
int virtio_pci_pop(struct virtio_pci *vp, struct virtq *q, struct virtq_elem *elem);
/* Return a buffer with `written` bytes filled; false (and the device needs
 * a reset) if the used ring is not in RAM. */
bool virtio_pci_push(struct virtio_pci *vp, struct virtq *q, uint16_t head, uint32_t written);

/* Buffers were returned on queue q: interrupt the driver unless it asked not to be. */
void virtio_pci_used(struct virtio_pci *vp, unsigned q);

/* The driver broke the rules (reason is a short phrase): mark the device as
 * needing a reset and tell the driver. */
void virtio_pci_device_error(struct virtio_pci *vp, const char *reason);

/* Register accesses within the BAR, for tests (the bus uses these). */
extern const struct bus_ops virtio_pci_bar_ops;

#endif
