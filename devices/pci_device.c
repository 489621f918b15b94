/* Generic PCI configuration space: masks decide what a guest write may
 * change, so each device model only describes its registers. */
#include "pci_device.h"

#include <string.h>

/* Command bits a plain type 0 function implements: I/O and memory decode,
 * bus mastering, parity and SERR# reporting, INTx disable. */
#define PCI_COMMAND_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
                              PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
/* Status error bits are cleared by writing 1 (PCI 3.0 section 6.2.3). */
#define PCI_STATUS_W1C (PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
                        PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | \
                        PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)

static void pci_put_le(uint8_t *p, unsigned reg, uint32_t value, unsigned size)
{
    for (unsigned i = 0; i < size && reg + i < PCI_CONFIG_SPACE_SIZE; i++)
        p[reg + i] = (uint8_t)(value >> (8 * i));
}

static uint32_t pci_get_le(const uint8_t *p, unsigned reg, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; i++) {
        uint32_t b = reg + i < PCI_CONFIG_SPACE_SIZE ? p[reg + i] : 0xff;
        v |= b << (8 * i);
    }
    return v;
}

void pci_config_set8(struct pci_device *dev, unsigned reg, uint8_t value)
{
    pci_put_le(dev->config, reg, value, 1);
}

void pci_config_set16(struct pci_device *dev, unsigned reg, uint16_t value)
{
    pci_put_le(dev->config, reg, value, 2);
}

void pci_config_set32(struct pci_device *dev, unsigned reg, uint32_t value)
{
    pci_put_le(dev->config, reg, value, 4);
}

uint16_t pci_config_get16(const struct pci_device *dev, unsigned reg)
{
    return (uint16_t)pci_get_le(dev->config, reg, 2);
}

uint32_t pci_config_get32(const struct pci_device *dev, unsigned reg)
{
    return pci_get_le(dev->config, reg, 4);
}

void pci_config_set_wmask(struct pci_device *dev, unsigned reg, uint32_t mask, unsigned size)
{
    pci_put_le(dev->wmask, reg, mask, size);
}

void pci_device_init(struct pci_device *dev, uint16_t vendor_id, uint16_t device_id,
                     uint8_t revision, uint32_t class_code, uint8_t header_type,
                     const struct pci_device_ops *ops, void *opaque)
{
    memset(dev, 0, sizeof(*dev));
    dev->ops = ops;
    dev->opaque = opaque;
    pci_config_set16(dev, PCI_VENDOR_ID, vendor_id);
    pci_config_set16(dev, PCI_DEVICE_ID, device_id);
    pci_config_set8(dev, PCI_REVISION_ID, revision);
    pci_config_set8(dev, PCI_CLASS_PROG, (uint8_t)class_code);
    pci_config_set16(dev, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
    pci_config_set8(dev, PCI_HEADER_TYPE, header_type);
    if ((header_type & 0x7f) != PCI_HEADER_TYPE_NORMAL)
        return;     /* bridges and CardBus set their own masks */
    pci_config_set_wmask(dev, PCI_COMMAND, PCI_COMMAND_WRITABLE, 2);
    pci_put_le(dev->w1cmask, PCI_STATUS, PCI_STATUS_W1C, 2);
    pci_config_set_wmask(dev, PCI_CACHE_LINE_SIZE, 0xff, 1);
    pci_config_set_wmask(dev, PCI_LATENCY_TIMER, 0xff, 1);
    pci_config_set_wmask(dev, PCI_INTERRUPT_LINE, 0xff, 1);
}

uint32_t pci_device_config_read(const struct pci_device *dev, unsigned reg, unsigned size)
{
    return pci_get_le(dev->config, reg, size);
}

void pci_device_config_write(struct pci_device *dev, unsigned reg, uint32_t value, unsigned size)
{
    if (size > 4)
        size = 4;
    for (unsigned i = 0; i < size && reg + i < PCI_CONFIG_SPACE_SIZE; i++) {
        unsigned r = reg + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        uint8_t m = dev->wmask[r];
        dev->config[r] = (uint8_t)((dev->config[r] & ~m) | (b & m));
        dev->config[r] &= (uint8_t)~(b & dev->w1cmask[r]);
    }
    if (reg < PCI_CONFIG_SPACE_SIZE && dev->ops && dev->ops->config_written)
        dev->ops->config_written(dev, reg, size);
}
