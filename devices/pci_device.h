/* Generic PCI function configuration space.
 *
 * A struct pci_device is the 256-byte configuration space of one PCI
 * function plus the masks that say which bits the guest may change. Device
 * models embed one, fill it with pci_device_init and the pci_config_set*
 * helpers, and register it with the host bridge (pci_host.h).
 *
 * BARs need nothing special here: a BAR of size N gets a write mask of
 * ~(N - 1) over its address bits, which makes the guest's all-ones sizing
 * write read back the size, and the config_written hook tells the device to
 * move its bus mapping.
 */
#ifndef HOSTEL_PCI_DEVICE_H
#define HOSTEL_PCI_DEVICE_H

#include <stdint.h>

#define PCI_CONFIG_SPACE_SIZE 256

struct pci_device;

struct pci_device_ops {
    /* Optional: called after the guest wrote `size` bytes at `reg` (masks
     * already applied), e.g. to remap a BAR or follow the command register. */
    void (*config_written)(struct pci_device *dev, unsigned reg, unsigned size);
};

struct pci_device {
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];   /* 1 = guest-writable bit */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE]; /* 1 = write-1-to-clear bit */
    const struct pci_device_ops *ops;       /* may be NULL */
    void *opaque;                           /* for the device's hooks */
};

/* Clear the space and set the identity registers. For header type 0 the
 * standard writable bits are opened too (command, cache line size, latency
 * timer, interrupt line; the status error bits as write-1-to-clear). */
void pci_device_init(struct pci_device *dev, uint16_t vendor_id, uint16_t device_id,
                     uint8_t revision, uint32_t class_code, uint8_t header_type,
                     const struct pci_device_ops *ops, void *opaque);

/* Guest accesses of 1, 2 or 4 bytes at reg. Bytes beyond the space read as
 * 0xff and are not written. */
uint32_t pci_device_config_read(const struct pci_device *dev, unsigned reg, unsigned size);
void pci_device_config_write(struct pci_device *dev, unsigned reg, uint32_t value, unsigned size);

/* Set up registers from the device model's side: no masks, no hook. */
void pci_config_set8(struct pci_device *dev, unsigned reg, uint8_t value);
void pci_config_set16(struct pci_device *dev, unsigned reg, uint16_t value);
void pci_config_set32(struct pci_device *dev, unsigned reg, uint32_t value);
uint16_t pci_config_get16(const struct pci_device *dev, unsigned reg);
uint32_t pci_config_get32(const struct pci_device *dev, unsigned reg);
/* Set the writable-bit mask for `size` bytes at reg. */
void pci_config_set_wmask(struct pci_device *dev, unsigned reg, uint32_t mask, unsigned size);

/* Type 00h header layout: PCI Local Bus Specification 3.0, section 6.1
 * (Figure 6-1); command and status bits: sections 6.2.2 and 6.2.3. */
enum {
    PCI_VENDOR_ID = 0x00,
    PCI_DEVICE_ID = 0x02,
    PCI_COMMAND = 0x04,
    PCI_STATUS = 0x06,
    PCI_REVISION_ID = 0x08,
    PCI_CLASS_PROG = 0x09,
    PCI_CLASS_DEVICE = 0x0a,
    PCI_CACHE_LINE_SIZE = 0x0c,
    PCI_LATENCY_TIMER = 0x0d,
    PCI_HEADER_TYPE = 0x0e,
    PCI_BIST = 0x0f,
    PCI_BASE_ADDRESS_0 = 0x10,
    PCI_SUBSYSTEM_VENDOR_ID = 0x2c,
    PCI_SUBSYSTEM_ID = 0x2e,
    PCI_ROM_ADDRESS = 0x30,
    PCI_CAPABILITY_LIST = 0x34,
    PCI_INTERRUPT_LINE = 0x3c,
    PCI_INTERRUPT_PIN = 0x3d,
};

enum {
    PCI_COMMAND_IO = 0x0001,
    PCI_COMMAND_MEMORY = 0x0002,
    PCI_COMMAND_MASTER = 0x0004,
    PCI_COMMAND_PARITY = 0x0040,
    PCI_COMMAND_SERR = 0x0100,
    PCI_COMMAND_INTX_DISABLE = 0x0400,

    PCI_STATUS_INTERRUPT = 0x0008,
    PCI_STATUS_CAP_LIST = 0x0010,
    PCI_STATUS_FAST_BACK = 0x0080,
    PCI_STATUS_PARITY = 0x0100,
    PCI_STATUS_DEVSEL_MEDIUM = 0x0200,
    PCI_STATUS_SIG_TARGET_ABORT = 0x0800,
    PCI_STATUS_REC_TARGET_ABORT = 0x1000,
    PCI_STATUS_REC_MASTER_ABORT = 0x2000,
    PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000,
    PCI_STATUS_DETECTED_PARITY = 0x8000,

    PCI_HEADER_TYPE_NORMAL = 0x00,
    PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80,
};

#endif
