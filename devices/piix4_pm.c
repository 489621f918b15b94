#include "piix4_pm.h"

static void piix4_pm_remap(struct piix4_pm *pm)
{
    uint16_t want = 0;
    if (pm->pci.config[PIIX4_PM_PMREGMISC] & 1)
        want = pci_config_get16(&pm->pci, PIIX4_PM_PMBA) & 0xffc0;
    if (want == pm->mapped_base)
        return;
    if (pm->mapped_base)
        bus_unmap(pm->pio, pm->mapped_base);
    pm->mapped_base = 0;
    /* A base on top of another device's ports stays unmapped, as a
     * decoding conflict would leave it on real hardware. */
    if (want && bus_map(pm->pio, want, pm->pm_len, pm->pm_ops, pm->pm_opaque, "piix4-pm") == 0)
        pm->mapped_base = want;
}

static void piix4_pm_written(struct pci_device *pci, unsigned reg, unsigned size)
{
    piix4_pm_remap(pci->opaque);
}

static const struct pci_device_ops piix4_pm_pci_ops = {
    .config_written = piix4_pm_written,
};

static void piix4_pm_setup(struct piix4_pm *pm, bool enabled, uint16_t base)
{
    /* Class 0x068000: bridge, other. */
    pci_device_init(&pm->pci, 0x8086, PIIX4_PM_DEVICE_ID, 0x03, 0x068000, PCI_HEADER_TYPE_NORMAL,
                    &piix4_pm_pci_ops, pm);
    pci_config_set16(&pm->pci, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FAST_BACK);
    pci_config_set8(&pm->pci, PCI_INTERRUPT_PIN, 1);
    /* PMBA: I/O space indicator bit 0 reads 1; 64-byte aligned base. */
    pci_config_set32(&pm->pci, PIIX4_PM_PMBA, (enabled ? base : 0) | 1);
    pci_config_set_wmask(&pm->pci, PIIX4_PM_PMBA, 0x0000ffc0, 4);
    /* CNTA, CNTB, GENCFG and the device activity/resource registers keep
     * what is written (0x44-0x67). */
    for (unsigned r = 0x44; r < 0x68; r++)
        pci_config_set_wmask(&pm->pci, r, 0xff, 1);
    /* DEVACTB bit 25, APMC_EN: set and fixed (no SMM, see the header). */
    pm->pci.config[PIIX4_PM_DEVACTB + 3] = 0x02;
    pm->pci.wmask[PIIX4_PM_DEVACTB + 3] = 0xfd;
    pci_config_set8(&pm->pci, PIIX4_PM_PMREGMISC, enabled ? 1 : 0);
    pci_config_set_wmask(&pm->pci, PIIX4_PM_PMREGMISC, 0x01, 1);
    pci_config_set32(&pm->pci, PIIX4_PM_SMBBA, 1);
    pci_config_set_wmask(&pm->pci, PIIX4_PM_SMBBA, 0x0000fff0, 4);
}

static void piix4_pm_reset(void *dev)
{
    struct piix4_pm *pm = dev;
    piix4_pm_setup(pm, pm->enabled_at_reset, pm->reset_base);
    piix4_pm_remap(pm);
}

void piix4_pm_init(struct piix4_pm *pm, struct bus *pio, const struct bus_ops *pm_ops, void *pm_opaque,
                   unsigned pm_len, bool enabled_at_reset, uint16_t reset_base)
{
    pm->pio = pio;
    pm->pm_ops = pm_ops;
    pm->pm_opaque = pm_opaque;
    pm->pm_len = pm_len;
    pm->enabled_at_reset = enabled_at_reset;
    pm->reset_base = reset_base & 0xffc0;
    pm->mapped_base = 0;
    piix4_pm_reset(pm);
}

uint16_t piix4_pm_io_base(const struct piix4_pm *pm)
{
    return pm->mapped_base;
}

static void piix4_pm_finalize(void *dev)
{
    struct piix4_pm *pm = dev;
    if (pm->mapped_base)
        bus_unmap(pm->pio, pm->mapped_base);
    pm->mapped_base = 0;
}

static void piix4_pm_post_load(void *dev)
{
    struct piix4_pm *pm = dev;
    pm->pci.ops = &piix4_pm_pci_ops;
    pm->pci.opaque = pm;
    piix4_pm_remap(pm);
}

static const struct vmstate_field piix4_pm_vmstate_fields[] = {
    VMSTATE_FIELD(struct piix4_pm, pci.config, 1),
};

static const struct vmstate_desc piix4_pm_vmstate = {
    .name = "piix4_pm",
    .version = 1,
    .fields = piix4_pm_vmstate_fields,
    .nfields = sizeof(piix4_pm_vmstate_fields) / sizeof(piix4_pm_vmstate_fields[0]),
    .post_load = piix4_pm_post_load,
};

const struct device_ops piix4_pm_device_ops = {
    .name = "piix4_pm",
    .reset = piix4_pm_reset,
    .finalize = piix4_pm_finalize,
    .vmstate = &piix4_pm_vmstate,
    .size = sizeof(struct piix4_pm),
};
