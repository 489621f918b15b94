#include "piix3_isa.h"

#include <stddef.h>

/* Registers kept as written, with their reset values (datasheet table
 * "PCI to ISA Bridge Configuration Registers"). */
static const struct {
    uint8_t reg, reset, wmask;
} piix3_isa_regs[] = {
    { 0x4c, 0x4d, 0xff },   /* IORT: ISA I/O recovery timer */
    { 0x4e, 0x03, 0xff },   /* XBCS: X-bus chip select (low byte) */
    { 0x4f, 0x00, 0x03 },   /* XBCS high byte */
    { 0x60, 0x80, 0x8f },   /* PIRQRCA */
    { 0x61, 0x80, 0x8f },
    { 0x62, 0x80, 0x8f },
    { 0x63, 0x80, 0x8f },   /* PIRQRCD */
    { 0x69, 0x02, 0xfe },   /* TOM: top of memory */
    { 0x6a, 0x00, 0xff },   /* MSTAT: miscellaneous status */
    { 0x6b, 0x00, 0xff },
    { 0x70, 0x80, 0xcf },   /* MBIRQ0: motherboard IRQ route */
    { 0x76, 0x04, 0x8f },   /* MBDMA0 */
    { 0x77, 0x04, 0x8f },   /* MBDMA1 */
    { 0x80, 0x00, 0x3f },   /* APICBASE */
    { 0x82, 0x00, 0x0f },   /* DLC: deterministic latency control */
    { 0xa0, 0x08, 0x1f },   /* SMICNTL */
    { 0xa2, 0x00, 0xff },   /* SMIEN */
    { 0xa3, 0x00, 0x01 },
    { 0xa4, 0x00, 0xff },   /* SEE: system event enable */
    { 0xa5, 0x00, 0xff },
    { 0xa6, 0x00, 0xff },
    { 0xa7, 0x00, 0xff },
    { 0xa8, 0x0f, 0xff },   /* FTMR: fast-off timer */
    { 0xaa, 0x00, 0xff },   /* SMIREQ */
    { 0xab, 0x00, 0xff },
    { 0xac, 0x00, 0xff },   /* CTLTMR */
    { 0xae, 0x00, 0xff },   /* CTHTMR */
};

/* ISA IRQ irq: high while any PIRQ routed to it is. */
static void piix3_isa_drive(struct piix3_isa *isa, int irq)
{
    if (irq < 0 || irq >= PIIX3_ISA_IRQS || !isa->irqs)
        return;
    int level = 0;
    for (unsigned p = 0; p < 4; p++)
        if (isa->routed[p] == irq && isa->pirq_level[p])
            level = 1;
    irq_set_level(&isa->irqs[irq], level);
}

/* Follow the route registers: every IRQ a PIRQ left or joined is driven
 * anew, once all routes are known. */
static void piix3_isa_reroute(struct piix3_isa *isa)
{
    int8_t old[4];
    for (unsigned p = 0; p < 4; p++) {
        old[p] = isa->routed[p];
        isa->routed[p] = (int8_t)piix3_isa_pirq_irq(isa, p);
    }
    for (unsigned p = 0; p < 4; p++) {
        if (old[p] != isa->routed[p])
            piix3_isa_drive(isa, old[p]);
        piix3_isa_drive(isa, isa->routed[p]);
    }
}

void piix3_isa_set_pirq(struct piix3_isa *isa, unsigned pirq, int level)
{
    if (pirq > 3)
        return;
    isa->pirq_level[pirq] = level ? 1 : 0;
    piix3_isa_drive(isa, isa->routed[pirq]);
}

static void piix3_isa_written(struct pci_device *pci, unsigned reg, unsigned size)
{
    struct piix3_isa *isa = pci->opaque;
    if (reg < PIIX3_PIRQRC + 4 && reg + size > PIIX3_PIRQRC)
        piix3_isa_reroute(isa);
}

static const struct pci_device_ops piix3_isa_pci_ops = {
    .config_written = piix3_isa_written,
};

static void piix3_isa_reset(void *dev)
{
    struct piix3_isa *isa = dev;
    /* Class 0x060100: bridge, PCI-to-ISA. Header type 0x80: functions
     * 1-7 (IDE, power management) follow. */
    pci_device_init(&isa->pci, 0x8086, PIIX3_ISA_DEVICE_ID, 0x00, 0x060100,
                    PCI_HEADER_TYPE_MULTI_FUNCTION, &piix3_isa_pci_ops, isa);
    pci_config_set16(&isa->pci, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_config_set16(&isa->pci, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
    /* The ISA bridge's command register is fixed but for two bits. */
    pci_config_set_wmask(&isa->pci, PCI_COMMAND, 0x0108, 2);
    pci_config_set_wmask(&isa->pci, PCI_INTERRUPT_LINE, 0, 1);
    for (size_t i = 0; i < sizeof(piix3_isa_regs) / sizeof(piix3_isa_regs[0]); i++) {
        pci_config_set8(&isa->pci, piix3_isa_regs[i].reg, piix3_isa_regs[i].reset);
        pci_config_set_wmask(&isa->pci, piix3_isa_regs[i].reg, piix3_isa_regs[i].wmask, 1);
    }
    for (unsigned i = 0; i < 4; i++)
        pci_config_set8(&isa->pci, PIIX3_PIRQRC + i, isa->reset_pirq[i]);
    /* The PIRQ levels are the board's: they stay as the functions drive them. */
    piix3_isa_reroute(isa);
}

int piix3_isa_pirq_irq(const struct piix3_isa *isa, unsigned pirq)
{
    if (pirq > 3)
        return -1;
    uint8_t r = isa->pci.config[PIIX3_PIRQRC + pirq];
    unsigned irq = r & PIIX3_PIRQ_IRQ_MASK;
    if ((r & PIIX3_PIRQ_DISABLE) || irq < 3 || irq == 8 || irq == 13)
        return -1;
    return (int)irq;
}

void piix3_isa_init(struct piix3_isa *isa, const uint8_t reset_pirq[4], struct irq_line *irqs)
{
    for (unsigned i = 0; i < 4; i++) {
        isa->reset_pirq[i] = reset_pirq ? reset_pirq[i] & 0x0f : PIIX3_PIRQ_DISABLE;
        isa->pirq_level[i] = 0;
        isa->routed[i] = -1;
    }
    isa->irqs = irqs;
    piix3_isa_reset(isa);
}

static void piix3_isa_post_load(void *dev)
{
    struct piix3_isa *isa = dev;
    isa->pci.ops = &piix3_isa_pci_ops;
    isa->pci.opaque = isa;
    for (unsigned p = 0; p < 4; p++)
        isa->pirq_level[p] = isa->pirq_level[p] ? 1 : 0;
    piix3_isa_reroute(isa);
}

static const struct vmstate_field piix3_isa_vmstate_fields[] = {
    VMSTATE_FIELD(struct piix3_isa, pci.config, 1),
    VMSTATE_FIELD(struct piix3_isa, pirq_level, 2),
};

static const struct vmstate_desc piix3_isa_vmstate = {
    .name = "piix3_isa",
    .version = 2,
    .fields = piix3_isa_vmstate_fields,
    .nfields = sizeof(piix3_isa_vmstate_fields) / sizeof(piix3_isa_vmstate_fields[0]),
    .post_load = piix3_isa_post_load,
};

const struct device_ops piix3_isa_device_ops = {
    .name = "piix3_isa",
    .reset = piix3_isa_reset,
    .vmstate = &piix3_isa_vmstate,
    .size = sizeof(struct piix3_isa),
};
