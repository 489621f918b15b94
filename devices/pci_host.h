/* PCI host bridge: configuration mechanism #1 at 0xCF8/0xCFC and bus 0,
 * with an Intel 440FX-compatible host bridge at 00.0. Other functions are
 * registered by their device models (struct pci_device, pci_device.h).
 *
 * Wiring: map pci_host_addr_bus_ops at 0xCF8 (length 4) and
 * pci_host_data_bus_ops at 0xCFC (length 4). Only 32-bit accesses to 0xCF8
 * reach CONFIG_ADDRESS; narrower ones are ordinary I/O, which is how PIIX
 * chipsets put their Reset Control Register at 0xCF9. Attach such byte
 * ports with pci_host_attach_port instead of mapping them on the bus (the
 * bus would reject the overlap).
 */
#ifndef HOSTEL_PCI_HOST_H
#define HOSTEL_PCI_HOST_H

#include <stdint.h>

#include "bus.h"
#include "device.h"
#include "pci_device.h"

#define PCI_HOST_SLOTS 32
#define PCI_HOST_FUNCS 8

struct pci_host_port {
    const struct bus_ops *ops;
    void *opaque;
};

struct pci_host {
    /* Wiring (not saved). */
    struct pci_device *devices[PCI_HOST_SLOTS][PCI_HOST_FUNCS];
    struct pci_host_port ports[4];      /* byte ports at 0xCF8-0xCFB */
    void (*bridge_written)(void *opaque, unsigned reg, unsigned size);
    void *bridge_opaque;

    /* Saved: CONFIG_ADDRESS and the host bridge's own configuration space. */
    uint32_t config_address;
    struct pci_device bridge;
};

extern const struct device_ops pci_host_device_ops;
extern const struct bus_ops pci_host_addr_bus_ops;     /* 0xCF8, length 4 */
extern const struct bus_ops pci_host_data_bus_ops;     /* 0xCFC, length 4 */

/* Empty bus 0 with the host bridge at 00.0, in its power-on state. The
 * host must not move afterwards (00.0 points into it). */
void pci_host_init(struct pci_host *host);

/* Put dev at bus 0, slot:fn. Returns 0, or -1 if the place is out of range
 * or taken (00.0 is the host bridge). dev must stay valid until the host is
 * finalized; saving and resetting dev's config space is its owner's job. */
int pci_host_register(struct pci_host *host, struct pci_device *dev, unsigned slot, unsigned fn);

/* Call written(opaque, reg, size) after the guest wrote the host bridge's
 * configuration space, and with (0, 256) after a reset or a state load:
 * the board decodes PAM from it. */
void pci_host_set_bridge_hook(struct pci_host *host, void (*written)(void *opaque, unsigned reg, unsigned size),
                              void *opaque);

/* The function at bus 0, slot:fn, or NULL. */
struct pci_device *pci_host_lookup(struct pci_host *host, unsigned slot, unsigned fn);

/* Route byte accesses at 0xCF8 + offset (0-3) to ops/opaque, which see
 * offset 0. Returns 0, or -1 if offset is out of range or taken. */
int pci_host_attach_port(struct pci_host *host, unsigned offset, const struct bus_ops *ops, void *opaque);

/* CONFIG_ADDRESS layout: PCI Local Bus Specification 3.0, section 3.2.2.3.2. */
enum {
    PCI_CONFIG_ENABLE = 0x80000000u,
    PCI_CONFIG_BUS_SHIFT = 16,
    PCI_CONFIG_DEV_SHIFT = 11,
    PCI_CONFIG_FN_SHIFT = 8,
    PCI_CONFIG_REG_MASK = 0xfc,
    /* Bits 30-24 are reserved and 1-0 select the cycle type: both read 0. */
    PCI_CONFIG_WRITABLE = 0x80fffffcu,
};

/* The i440FX host bridge (Intel 82441FX PMC datasheet, "PCI Configuration
 * Registers"). */
enum {
    I440FX_VENDOR_ID = 0x8086,
    I440FX_DEVICE_ID = 0x1237,
    I440FX_REVISION = 0x02,
    I440FX_CLASS = 0x060000,    /* host bridge */
    I440FX_PAM0 = 0x59,         /* PAM0-PAM6: 0x59-0x5f */
    I440FX_PAM_COUNT = 7,
    I440FX_SMRAM = 0x72,
    I440FX_SUBSYS_VENDOR = 0x1af4,
    I440FX_SUBSYS_ID = 0x1100,
};

#endif
