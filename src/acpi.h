/* ACPI tables, for direct kernel boot and for firmware: RSDP, RSDT/XSDT, FADT
 * (PM1 blocks, PM timer, reset register), a DSDT with the S5 sleep state,
 * and a MADT listing the local APICs, the IOAPIC and the ISA overrides.
 * ACPI 6.4 specification, chapter 5. */
#ifndef HOSTEL_ACPI_H
#define HOSTEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw_cfg.h"
#include "memory.h"

/* Where the tables go: the BIOS area that Linux scans for the RSDP. */
#define ACPI_TABLES_BASE 0xE0000u
#define ACPI_TABLES_SIZE 0x10000u
#define ACPI_RSDP_SPACE 0x40u        /* the RSDP comes first */

/* The fixed hardware the tables describe (devices/acpi_pm.c). */
#define ACPI_PM_BASE 0x600u
#define ACPI_PM1_EVT (ACPI_PM_BASE + 0)
#define ACPI_PM1_CNT (ACPI_PM_BASE + 4)
#define ACPI_PM_TMR (ACPI_PM_BASE + 8)
#define ACPI_PM_LEN 12u
#define ACPI_SCI_IRQ 9u
#define ACPI_RESET_PORT 0xCF9u
#define ACPI_RESET_VALUE 0x06u
#define ACPI_S5_TYPE 5u
#define ACPI_PCI_GSI_BASE 16u     /* PIRQA-D on IOAPIC inputs 16-19 */
#define ACPI_PCI_HOLE_END 0xFEBFFFFFu
#define ACPI_HPET_BASE 0xFED00000u
#define IOAPIC_BASE 0xFEC00000u
#define LAPIC_BASE 0xFEE00000u

/* The ISA IRQs PIRQA-D are routed to: what firmware programs into the
 * PIIX3's route registers, and what the DSDT's PIC-mode routing says. */
extern const uint8_t acpi_pirq_isa_irq[4];

struct acpi_config {
    unsigned ncpus;
    uint64_t pci_hole_start;    /* where RAM below 4 GiB ends */
    bool hpet;                  /* an HPET at ACPI_HPET_BASE */
    uint32_t hpet_block_id;     /* its capabilities' low half */
    uint16_t hpet_min_tick;     /* smallest periodic tick, in counter ticks */
};

/* Write the tables into guest RAM at ACPI_TABLES_BASE. Returns the RSDP's
 * guest-physical address, or 0 if they do not fit (cannot happen for
 * ncpus <= VM_MAX_CPUS). */
uint64_t acpi_build_tables(const struct guest_mem *mem, const struct acpi_config *cfg);

/* Hand the same tables to firmware: fw_cfg files "etc/acpi/tables",
 * "etc/acpi/rsdp" and the loader script "etc/table-loader" that tells the
 * firmware where to put them and how to link them. Returns 0 or -1. */
int acpi_add_to_fw_cfg(struct fw_cfg *fw, const struct acpi_config *cfg);

#endif
