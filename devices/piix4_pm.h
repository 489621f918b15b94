/* PIIX4 power management function (Intel 82371AB PIIX4 datasheet, "Power
 * Management Configuration Registers"), function 3 of the PIIX, as virtual
 * PCs place it next to a PIIX3.
 *
 * It owns where the ACPI fixed-hardware registers (devices/acpi_pm.c)
 * appear in I/O space: the guest programs PMBA (0x40) and enables the
 * block with PMIOSE (0x80 bit 0), and the block moves on the I/O bus.
 * Hostel has no System Management Mode, so DEVACTB's APMC_EN reads as set
 * from reset: firmware then finds SMM set up and leaves it alone. The SMBus
 * host controller is absent (its enable bit stays 0).
 */
#ifndef HOSTEL_PIIX4_PM_H
#define HOSTEL_PIIX4_PM_H

#include <stdbool.h>

#include "bus.h"
#include "device.h"
#include "pci_device.h"

enum {
    PIIX4_PM_DEVICE_ID = 0x7113,
    PIIX4_PM_PMBA = 0x40,       /* power management base address */
    PIIX4_PM_DEVACTB = 0x58,
    PIIX4_PM_PMREGMISC = 0x80,  /* bit 0: PMIOSE, the PM I/O space enable */
    PIIX4_PM_SMBBA = 0x90,      /* SMBus base address */
    PIIX4_PM_SMBHSTCFG = 0xd2,
    PIIX4_PM_IO_SIZE = 64,
};

struct piix4_pm {
    struct pci_device pci;      /* saved */
    /* Wiring (not saved). */
    struct bus *pio;
    const struct bus_ops *pm_ops;   /* the ACPI register block */
    void *pm_opaque;
    unsigned pm_len;
    bool enabled_at_reset;
    uint16_t reset_base;
    uint16_t mapped_base;           /* 0 = not mapped */
};

extern const struct device_ops piix4_pm_device_ops;

/* pm_ops/pm_opaque: the register block to map (pm_len ports) where PMBA
 * says. enabled_at_reset: start as if firmware had put the block at
 * reset_base (for booting without firmware); otherwise it is off until the
 * guest enables it. */
void piix4_pm_init(struct piix4_pm *pm, struct bus *pio, const struct bus_ops *pm_ops, void *pm_opaque,
                   unsigned pm_len, bool enabled_at_reset, uint16_t reset_base);

/* The port the block is mapped at, or 0. */
uint16_t piix4_pm_io_base(const struct piix4_pm *pm);

#endif
