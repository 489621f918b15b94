/* PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, section
 * 3.2.2.3.2) and the i440FX host bridge.
 *
 * Only bus 0 exists. Reads of functions nobody registered return all-ones,
 * which is how software finds an empty slot (a master abort on real
 * hardware); writes to them are dropped.
 */
#include "pci_host.h"

#include <string.h>

/* ---- i440FX host bridge ------------------------------------------------ */

/* The PAM registers (BIOS shadowing of 0xC0000-0xFFFFF) and SMRAM are kept
 * here; the board decodes PAM (src/pam.c) from the bridge_written hook.
 * SMRAM reads back what was written: there is no SMM. The rest of the
 * chipset space reads as 0 and ignores writes. */
static void pci_host_bridge_written(struct pci_device *bridge, unsigned reg, unsigned size)
{
    struct pci_host *host = bridge->opaque;
    if (host->bridge_written)
        host->bridge_written(host->bridge_opaque, reg, size);
}

static const struct pci_device_ops pci_host_bridge_ops = {
    .config_written = pci_host_bridge_written,
};

static void pci_host_bridge_init(struct pci_host *host)
{
    struct pci_device *bridge = &host->bridge;
    pci_device_init(bridge, I440FX_VENDOR_ID, I440FX_DEVICE_ID, I440FX_REVISION,
                    I440FX_CLASS, PCI_HEADER_TYPE_NORMAL, &pci_host_bridge_ops, host);
    /* The subsystem IDs virtual i440FX boards carry (Red Hat, "QEMU virtual
     * machine"): SeaBIOS looks for them to know it runs on a virtual board
     * with fw_cfg. */
    pci_config_set16(bridge, PCI_SUBSYSTEM_VENDOR_ID, I440FX_SUBSYS_VENDOR);
    pci_config_set16(bridge, PCI_SUBSYSTEM_ID, I440FX_SUBSYS_ID);
    /* 82441FX defaults: memory and bus master enabled, medium DEVSEL
     * timing and fast back-to-back capable; SMRAM's C_BASE_SEG = 010. */
    pci_config_set16(bridge, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_config_set16(bridge, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FAST_BACK);
    /* Each PAM register holds read/write enables for two ranges in bits 1-0
     * and 5-4, except PAM0 whose low half is reserved. */
    pci_config_set_wmask(bridge, I440FX_PAM0, 0x30, 1);
    for (unsigned i = 1; i < I440FX_PAM_COUNT; i++)
        pci_config_set_wmask(bridge, I440FX_PAM0 + i, 0x33, 1);
    /* SMRAM: D_OPEN, D_CLS, D_LCK, G_SMRAME writable (D_LCK's locking is not
     * modelled); C_BASE_SEG is fixed at 010. */
    pci_config_set8(bridge, I440FX_SMRAM, 0x02);
    pci_config_set_wmask(bridge, I440FX_SMRAM, 0x78, 1);
}

/* ---- Configuration mechanism #1 --------------------------------------- */

/* The function CONFIG_ADDRESS points at, or NULL when disabled or absent. */
static struct pci_device *pci_host_target(struct pci_host *host)
{
    uint32_t a = host->config_address;
    if (!(a & PCI_CONFIG_ENABLE))
        return NULL;
    if (((a >> PCI_CONFIG_BUS_SHIFT) & 0xff) != 0)
        return NULL;            /* no bridges behind bus 0 */
    return pci_host_lookup(host, (a >> PCI_CONFIG_DEV_SHIFT) & 0x1f, (a >> PCI_CONFIG_FN_SHIFT) & 0x7);
}

static uint64_t pci_host_data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_host *host = opaque;
    if (offset >= 4 || size > 4 - offset)
        return ~0ull;
    struct pci_device *dev = pci_host_target(host);
    if (!dev)
        return (size == 4) ? 0xffffffffu : (1u << (8 * size)) - 1;
    /* The low address bits of the data port pick bytes within the dword. */
    unsigned reg = (host->config_address & PCI_CONFIG_REG_MASK) + (unsigned)offset;
    return pci_device_config_read(dev, reg, size);
}

static void pci_host_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_host *host = opaque;
    if (offset >= 4 || size > 4 - offset)
        return;
    struct pci_device *dev = pci_host_target(host);
    if (!dev)
        return;
    unsigned reg = (host->config_address & PCI_CONFIG_REG_MASK) + (unsigned)offset;
    pci_device_config_write(dev, reg, (uint32_t)value, size);
}

/* A non-dword access to 0xCF8-0xCFB, byte by byte to any attached port. */
static uint64_t pci_host_narrow_read(struct pci_host *host, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b = 0xff;
        uint64_t o = offset + i;
        if (o < 4 && host->ports[o].ops)
            b = host->ports[o].ops->read(host->ports[o].opaque, 0, 1) & 0xff;
        v |= b << (8 * i);
    }
    return v;
}

static void pci_host_narrow_write(struct pci_host *host, uint64_t offset, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        uint64_t o = offset + i;
        if (o < 4 && host->ports[o].ops)
            host->ports[o].ops->write(host->ports[o].opaque, 0, (value >> (8 * i)) & 0xff, 1);
    }
}

static uint64_t pci_host_addr_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_host *host = opaque;
    if (offset == 0 && size == 4)
        return host->config_address;
    return pci_host_narrow_read(host, offset, size > 4 ? 4 : size);
}

static void pci_host_addr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_host *host = opaque;
    if (offset == 0 && size == 4)
        host->config_address = (uint32_t)value & PCI_CONFIG_WRITABLE;
    else
        pci_host_narrow_write(host, offset, value, size > 4 ? 4 : size);
}

const struct bus_ops pci_host_addr_bus_ops = {
    .read = pci_host_addr_read,
    .write = pci_host_addr_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

const struct bus_ops pci_host_data_bus_ops = {
    .read = pci_host_data_read,
    .write = pci_host_data_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

/* ---- Registration ------------------------------------------------------ */

struct pci_device *pci_host_lookup(struct pci_host *host, unsigned slot, unsigned fn)
{
    if (slot >= PCI_HOST_SLOTS || fn >= PCI_HOST_FUNCS)
        return NULL;
    return host->devices[slot][fn];
}

/* Software only scans functions 1-7 when function 0 says it is a
 * multi-function device (header type bit 7), so keep that bit true. */
static void pci_host_update_multifunction(struct pci_host *host, unsigned slot)
{
    struct pci_device *fn0 = host->devices[slot][0];
    if (!fn0)
        return;
    for (unsigned fn = 1; fn < PCI_HOST_FUNCS; fn++) {
        if (host->devices[slot][fn]) {
            fn0->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION;
            return;
        }
    }
}

int pci_host_register(struct pci_host *host, struct pci_device *dev, unsigned slot, unsigned fn)
{
    if (!dev || slot >= PCI_HOST_SLOTS || fn >= PCI_HOST_FUNCS || host->devices[slot][fn])
        return -1;
    host->devices[slot][fn] = dev;
    pci_host_update_multifunction(host, slot);
    return 0;
}

int pci_host_attach_port(struct pci_host *host, unsigned offset, const struct bus_ops *ops, void *opaque)
{
    if (offset >= 4 || !ops || host->ports[offset].ops)
        return -1;
    host->ports[offset].ops = ops;
    host->ports[offset].opaque = opaque;
    return 0;
}

/* ---- Device ops -------------------------------------------------------- */

static void pci_host_reset(void *dev)
{
    struct pci_host *host = dev;
    host->config_address = 0;
    pci_host_bridge_init(host);
    pci_host_update_multifunction(host, 0);
    if (host->bridge_written)
        host->bridge_written(host->bridge_opaque, 0, PCI_CONFIG_SPACE_SIZE);
}

void pci_host_set_bridge_hook(struct pci_host *host, void (*written)(void *opaque, unsigned reg, unsigned size),
                              void *opaque)
{
    host->bridge_written = written;
    host->bridge_opaque = opaque;
}

static void pci_host_finalize(void *dev)
{
    struct pci_host *host = dev;
    memset(host->devices, 0, sizeof(host->devices));
    memset(host->ports, 0, sizeof(host->ports));
}

static void pci_host_post_load(void *dev)
{
    struct pci_host *host = dev;
    host->config_address &= PCI_CONFIG_WRITABLE;
    if (host->bridge_written)
        host->bridge_written(host->bridge_opaque, 0, PCI_CONFIG_SPACE_SIZE);
}

static const struct vmstate_field pci_host_vmstate_fields[] = {
    VMSTATE_FIELD(struct pci_host, config_address, 1),
    VMSTATE_FIELD(struct pci_host, bridge.config, 1),
};

static const struct vmstate_desc pci_host_vmstate = {
    .name = "pci_host",
    .version = 1,
    .fields = pci_host_vmstate_fields,
    .nfields = sizeof(pci_host_vmstate_fields) / sizeof(pci_host_vmstate_fields[0]),
    .post_load = pci_host_post_load,
};

const struct device_ops pci_host_device_ops = {
    .name = "pci_host",
    .reset = pci_host_reset,
    .finalize = pci_host_finalize,
    .vmstate = &pci_host_vmstate,
    .size = sizeof(struct pci_host),
};

void pci_host_init(struct pci_host *host)
{
    memset(host, 0, sizeof(*host));
    host->devices[0][0] = &host->bridge;
    pci_host_reset(host);
}
