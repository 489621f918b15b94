/* The PC board's device set, shared by pc.c (wiring, firmware, storage,
 * screen) and pc_input.c (keyboard and mouse input from the host). */
#ifndef HOSTEL_PC_INTERNAL_H
#define HOSTEL_PC_INTERNAL_H

#include <stdbool.h>

#include "acpi_pm.h"
#include "blockdev.h"
#include "clock.h"
#include "debug_exit.h"
#include "debugcon.h"
#include "display.h"
#include "fw_cfg.h"
#include "hpet.h"
#include "i8042.h"
#include "ide.h"
#include "irq.h"
#include "mc146818.h"
#include "pam.h"
#include "pci_host.h"
#include "piix3_isa.h"
#include "piix4_pm.h"
#include "piix_rcr.h"
#include "port92.h"
#include "uart16550.h"
#include "vga.h"
#include "virtio_input.h"

#define PC_NUM_GSI 24
/* PCI functions: slot 1 is the PIIX (ISA bridge, IDE, power management),
 * slot 2 the VGA, slot 3 the virtio tablet. */
#define PC_PIIX_SLOT 1
#define PC_VGA_SLOT 2
#define PC_TABLET_SLOT 3
#define PC_PCI_SLOTS 32
/* KVM's TSS and identity-map pages (host-driver/kvm.c), kept out of RAM. */
#define PC_KVM_RESERVED_START 0xfffbc000ull
#define PC_KVM_RESERVED_SIZE 0x4000ull
/* Host key events waiting to be typed into the guest's keyboard. */
#define PC_KEY_QUEUE 8192
/* How often a queued key event is offered to the keyboard. */
#define PC_KEY_INTERVAL_NS 2000000ull

struct pc_key_event {
    uint16_t code;
    bool pressed;
};

struct pc {
    struct vm *vm;
    bool firmware;
    struct irq_line gsi[PC_NUM_GSI];
    struct irq_line rtc_irq;        /* the RTC's output, cut while the HPET owns IRQ 8 */
    bool hpet_legacy;
    struct pam pam;
    struct fw_cfg fw_cfg;
    struct piix3_isa isa;
    struct piix4_pm pmdev;
    struct debugcon debugcon;
    struct uart16550 com1;
    struct mc146818 rtc;
    struct i8042 kbc;
    struct port92 port92;
    struct pci_host pci;
    struct debug_exit debug_exit;
    struct acpi_pm pm;
    struct piix_rcr rcr;
    struct hpet hpet;
    struct ide ide;
    struct blockdev *disks[VM_MAX_DISKS];   /* see pc_config */
    unsigned ndisks;
    struct blockdev *cdrom;         /* secondary master's medium, or NULL */
    bool has_cdrom_drive;
    struct vga vga;
    bool vga_ready;
    struct display display;
    bool display_ready;
    struct virtio_input tablet;
    struct irq_line tablet_intx;    /* INTA# of the tablet's slot */
    uint32_t pirq_slots[4];         /* PCI INTx: per PIRQ line, the slots asserting it */

    /* Typing (pc_input.c). */
    struct pc_key_event keys[PC_KEY_QUEUE];
    unsigned key_head, key_count;
    struct clock_timer key_timer;
};

#endif
