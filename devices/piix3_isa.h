/* PIIX3 PCI-to-ISA bridge, function 0 of the PIIX3 (Intel 82371SB PIIX3
 * datasheet, "PCI to ISA Bridge Configuration Registers").
 *
 * Its registers that matter to a virtual board are the PIRQ route control
 * registers (0x60-0x63), which steer the four PCI interrupt lines to ISA
 * IRQs; the board asks piix3_isa_pirq_irq where a PCI interrupt lands. The
 * rest of the bridge's configuration registers keep what the firmware
 * writes, with their datasheet reset values.
 */
#ifndef HOSTEL_PIIX3_ISA_H
#define HOSTEL_PIIX3_ISA_H

#include "device.h"
#include "pci_device.h"

enum {
    PIIX3_ISA_DEVICE_ID = 0x7000,
    PIIX3_PIRQRC = 0x60,        /* PIRQRC[A:D], 0x60-0x63 */
    PIIX3_PIRQ_DISABLE = 0x80,  /* IRQEN#: routing off */
    PIIX3_PIRQ_IRQ_MASK = 0x0f,
};

struct piix3_isa {
    struct pci_device pci;      /* saved */
    /* Wiring: called after a PIRQ route register changed (may be NULL). */
    void (*pirq_changed)(void *opaque);
    void *opaque;
    uint8_t reset_pirq[4];      /* PIRQRC values at reset */
};

extern const struct device_ops piix3_isa_device_ops;

/* reset_pirq: the ISA IRQs PIRQA-D are routed to at reset, as firmware
 * would have left them (for booting without firmware), or NULL for the
 * datasheet's reset value (routing off). */
void piix3_isa_init(struct piix3_isa *isa, const uint8_t reset_pirq[4], void (*pirq_changed)(void *opaque),
                    void *opaque);

/* The ISA IRQ PCI interrupt line pirq (0-3 = PIRQA-D) is routed to, or -1
 * when routing is off or names an IRQ the PIIX3 cannot route to (0-2, 8, 13). */
int piix3_isa_pirq_irq(const struct piix3_isa *isa, unsigned pirq);

#endif
