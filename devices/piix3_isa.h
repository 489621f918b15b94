/* PIIX3 PCI-to-ISA bridge, function 0 of the PIIX3 (Intel 82371SB PIIX3
 * datasheet, "PCI to ISA Bridge Configuration Registers").
 *
 * Its registers that matter to a virtual board are the PIRQ route control
 * registers (0x60-0x63), which steer the four PCI interrupt lines to ISA
 * IRQs. The board tells the bridge the level of each PIRQ line (the
 * wired-OR of the PCI functions' INTx pins on it); the bridge drives the
 * ISA IRQ lines it routes them to, each the OR of the PIRQs routed there,
 * and follows route changes (an IRQ a PIRQ leaves is driven anew). The
 * rest of the bridge's configuration registers keep what the firmware
 * writes, with their datasheet reset values.
 */
#ifndef HOSTEL_PIIX3_ISA_H
#define HOSTEL_PIIX3_ISA_H

#include "device.h"
#include "irq.h"
#include "pci_device.h"

enum {
    PIIX3_ISA_DEVICE_ID = 0x7000,
    PIIX3_PIRQRC = 0x60,        /* PIRQRC[A:D], 0x60-0x63 */
    PIIX3_PIRQ_DISABLE = 0x80,  /* IRQEN#: routing off */
    PIIX3_PIRQ_IRQ_MASK = 0x0f,
};

#define PIIX3_ISA_IRQS 16

struct piix3_isa {
    struct pci_device pci;      /* saved */
    uint8_t pirq_level[4];      /* saved: the PIRQ lines' levels (0/1) */
    /* Wiring: the ISA IRQ lines 0-15 (NULL: routing goes nowhere). */
    struct irq_line *irqs;
    uint8_t reset_pirq[4];      /* PIRQRC values at reset */
    int8_t routed[4];           /* where each PIRQ was last driven, -1: nowhere */
};

extern const struct device_ops piix3_isa_device_ops;

/* reset_pirq: the ISA IRQs PIRQA-D are routed to at reset, as firmware
 * would have left them (for booting without firmware), or NULL for the
 * datasheet's reset value (routing off). irqs: PIIX3_ISA_IRQS lines. */
void piix3_isa_init(struct piix3_isa *isa, const uint8_t reset_pirq[4], struct irq_line *irqs);

/* PIRQ line pirq (0-3 = PIRQA-D) is now at level (0 or 1). */
void piix3_isa_set_pirq(struct piix3_isa *isa, unsigned pirq, int level);

/* The ISA IRQ PCI interrupt line pirq (0-3 = PIRQA-D) is routed to, or -1
 * when routing is off or names an IRQ the PIIX3 cannot route to (0-2, 8, 13). */
int piix3_isa_pirq_irq(const struct piix3_isa *isa, unsigned pirq);

#endif
