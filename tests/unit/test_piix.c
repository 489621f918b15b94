/* The PIIX3 ISA bridge and PIIX4 power management functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "piix3_isa.h"
#include "piix4_pm.h"
#include "rng.h"

/* A 12-port register block standing in for the ACPI PM registers. */
static uint64_t blk_read(void *opaque, uint64_t off, unsigned size)
{
    return 0xa0 + off;
}
static void blk_write(void *opaque, uint64_t off, uint64_t v, unsigned size) {}
static const struct bus_ops blk_ops = { .read = blk_read, .write = blk_write, .sizes = BUS_SIZE_1 };

/* The ISA IRQ lines the bridge drives, recorded. */
static int isa_level[PIIX3_ISA_IRQS];
static void on_isa_irq(void *opaque, unsigned n, int level) { isa_level[n] = level; }

static struct irq_line *isa_lines(void)
{
    static struct irq_line lines[PIIX3_ISA_IRQS];
    for (unsigned i = 0; i < PIIX3_ISA_IRQS; i++) {
        irq_line_init(&lines[i], on_isa_irq, NULL, i);
        isa_level[i] = 0;
    }
    return lines;
}

static void test_isa_bridge(void **state)
{
    struct piix3_isa isa;
    piix3_isa_init(&isa, NULL, isa_lines());
    assert_int_equal(pci_device_config_read(&isa.pci, 0, 4), 0x70008086);
    assert_int_equal(pci_device_config_read(&isa.pci, 0x0e, 1) & 0x80, 0x80);
    assert_int_equal(pci_device_config_read(&isa.pci, 0x4c, 1), 0x4d);
    /* PIRQ routing is off after reset. */
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(piix3_isa_pirq_irq(&isa, i), -1);
    pci_device_config_write(&isa.pci, 0x60, 0x0b0b0a0a, 4);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 0), 10);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 3), 11);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 4), -1);
    /* Reserved bits 6-4 do not stick; IRQs 0-2, 8 and 13 cannot be routed. */
    pci_device_config_write(&isa.pci, 0x61, 0x72, 1);
    assert_int_equal(pci_device_config_read(&isa.pci, 0x61, 1), 0x02);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 1), -1);
    pci_device_config_write(&isa.pci, 0x61, 0x08, 1);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 1), -1);
    pci_device_config_write(&isa.pci, 0x62, 0x85, 1);  /* IRQEN# set */
    assert_int_equal(piix3_isa_pirq_irq(&isa, 2), -1);
    /* Identity is read-only; state survives a save/load. */
    pci_device_config_write(&isa.pci, 0, 0, 4);
    assert_int_equal(pci_device_config_read(&isa.pci, 0, 4), 0x70008086);
    uint8_t buf[600];
    long n = vmstate_save(piix3_isa_device_ops.vmstate, &isa, buf, sizeof(buf));
    piix3_isa_device_ops.reset(&isa);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 0), -1);
    char err[200];
    assert_int_equal(vmstate_load(piix3_isa_device_ops.vmstate, &isa, sizeof(isa), buf, (size_t)n,
                                  err, sizeof(err)), 0);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 0), 10);
    /* Preset routing (no firmware): in effect at once and after a reset. */
    const uint8_t preset[4] = { 5, 9, 10, 11 };
    piix3_isa_init(&isa, preset, isa_lines());
    assert_int_equal(piix3_isa_pirq_irq(&isa, 1), 9);
    pci_device_config_write(&isa.pci, 0x61, 0x80, 1);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 1), -1);
    piix3_isa_device_ops.reset(&isa);
    assert_int_equal(piix3_isa_pirq_irq(&isa, 1), 9);
}

/* PIRQ levels reach the ISA IRQs they are routed to; PIRQs sharing an IRQ
 * are OR-ed; a route change lets go of the old IRQ only when nothing else
 * holds it, and takes the level along. */
static void test_pirq_levels(void **state)
{
    struct piix3_isa isa;
    piix3_isa_init(&isa, NULL, isa_lines());
    piix3_isa_set_pirq(&isa, 2, 1);             /* routing off: nowhere */
    for (unsigned i = 0; i < PIIX3_ISA_IRQS; i++)
        assert_int_equal(isa_level[i], 0);
    pci_device_config_write(&isa.pci, 0x60, 0x0b0b0a0a, 4);    /* A,B -> 10; C,D -> 11 */
    assert_int_equal(isa_level[11], 1);         /* C was already high */
    piix3_isa_set_pirq(&isa, 3, 1);
    piix3_isa_set_pirq(&isa, 2, 0);
    assert_int_equal(isa_level[11], 1);         /* D still holds it */
    piix3_isa_set_pirq(&isa, 3, 0);
    assert_int_equal(isa_level[11], 0);
    /* Rewriting the routes with C high keeps IRQ 11 high (D low goes too). */
    piix3_isa_set_pirq(&isa, 2, 1);
    pci_device_config_write(&isa.pci, 0x60, 0x0b0b0a0a, 4);
    assert_int_equal(isa_level[11], 1);
    /* C moves to 5: 11 drops, 5 rises. */
    pci_device_config_write(&isa.pci, 0x62, 0x05, 1);
    assert_int_equal(isa_level[11], 0);
    assert_int_equal(isa_level[5], 1);
    /* D joins 5 while C is high; C leaves for 11; 5 stays only while D is high. */
    piix3_isa_set_pirq(&isa, 3, 1);
    pci_device_config_write(&isa.pci, 0x63, 0x05, 1);
    pci_device_config_write(&isa.pci, 0x62, 0x0b, 1);
    assert_int_equal(isa_level[5], 1);
    assert_int_equal(isa_level[11], 1);
    piix3_isa_set_pirq(&isa, 3, 0);
    assert_int_equal(isa_level[5], 0);
    /* Disabling C's route (IRQEN#) drops 11. */
    pci_device_config_write(&isa.pci, 0x62, 0x8b, 1);
    assert_int_equal(isa_level[11], 0);
    /* Saved levels come back with a load: C routed to 11 and high. */
    pci_device_config_write(&isa.pci, 0x62, 0x0b, 1);
    assert_int_equal(isa_level[11], 1);
    uint8_t buf[600];
    long n = vmstate_save(piix3_isa_device_ops.vmstate, &isa, buf, sizeof(buf));
    struct piix3_isa copy;
    piix3_isa_init(&copy, NULL, isa_lines());
    char err[200];
    assert_int_equal(vmstate_load(piix3_isa_device_ops.vmstate, &copy, sizeof(copy), buf, (size_t)n, err,
                                  sizeof(err)), 0);
    assert_int_equal(isa_level[11], 1);
    /* Nonsense is ignored. */
    piix3_isa_set_pirq(&copy, 4, 1);
    piix3_isa_set_pirq(&copy, 99, 1);
}

static uint8_t inb(struct bus *bus, uint16_t port)
{
    uint8_t v = 0;
    bus_read(bus, port, &v, 1);
    return v;
}

static void test_pm_relocation(void **state)
{
    struct bus *pio = bus_new("pio", 0x10000);
    struct piix4_pm pm;
    /* Firmware mode: off until PMBA and PMIOSE are programmed. */
    piix4_pm_init(&pm, pio, &blk_ops, NULL, 12, false, 0x600);
    assert_int_equal(pci_device_config_read(&pm.pci, 0, 4), 0x71138086);
    assert_int_equal(pci_device_config_read(&pm.pci, 0x40, 4), 1);
    assert_int_equal(piix4_pm_io_base(&pm), 0);
    assert_int_equal(inb(pio, 0x600), 0xff);
    assert_true(pci_device_config_read(&pm.pci, 0x58, 4) & (1u << 25));
    pci_device_config_write(&pm.pci, 0x58, 0, 4);           /* APMC_EN stays */
    assert_true(pci_device_config_read(&pm.pci, 0x58, 4) & (1u << 25));

    pci_device_config_write(&pm.pci, 0x40, 0xb001, 4);
    assert_int_equal(piix4_pm_io_base(&pm), 0);              /* not enabled yet */
    pci_device_config_write(&pm.pci, 0x80, 1, 1);
    assert_int_equal(piix4_pm_io_base(&pm), 0xb000);
    assert_int_equal(inb(pio, 0xb008), 0xa8);
    /* Move it: the old ports are free again. */
    pci_device_config_write(&pm.pci, 0x40, 0x0637, 4);      /* low bits ignored */
    assert_int_equal(pci_device_config_read(&pm.pci, 0x40, 4), 0x601);
    assert_int_equal(piix4_pm_io_base(&pm), 0x600);
    assert_int_equal(inb(pio, 0xb008), 0xff);
    assert_int_equal(inb(pio, 0x604), 0xa4);
    /* On top of another device it stays unmapped instead of clashing. */
    assert_int_equal(bus_map(pio, 0x700, 4, &blk_ops, NULL, "other"), 0);
    pci_device_config_write(&pm.pci, 0x40, 0x0701, 4);
    assert_int_equal(piix4_pm_io_base(&pm), 0);
    pci_device_config_write(&pm.pci, 0x80, 0, 1);
    /* The SMBus host controller does not exist: its enable stays clear. */
    pci_device_config_write(&pm.pci, 0xd2, 0x09, 1);
    assert_int_equal(pci_device_config_read(&pm.pci, 0xd2, 1), 0);
    piix4_pm_device_ops.finalize(&pm);
    bus_free(pio);
}

static void test_pm_without_firmware(void **state)
{
    struct bus *pio = bus_new("pio", 0x10000);
    struct piix4_pm pm;
    piix4_pm_init(&pm, pio, &blk_ops, NULL, 12, true, 0x600);
    assert_int_equal(piix4_pm_io_base(&pm), 0x600);
    assert_int_equal(pci_device_config_read(&pm.pci, 0x40, 4), 0x601);
    pci_device_config_write(&pm.pci, 0x80, 0, 1);
    assert_int_equal(piix4_pm_io_base(&pm), 0);
    piix4_pm_device_ops.reset(&pm);
    assert_int_equal(piix4_pm_io_base(&pm), 0x600);
    /* A state load remaps. */
    uint8_t buf[600];
    pci_device_config_write(&pm.pci, 0x40, 0x0801, 4);
    long n = vmstate_save(piix4_pm_device_ops.vmstate, &pm, buf, sizeof(buf));
    piix4_pm_device_ops.reset(&pm);
    char err[200];
    assert_int_equal(vmstate_load(piix4_pm_device_ops.vmstate, &pm, sizeof(pm), buf, (size_t)n,
                                  err, sizeof(err)), 0);
    assert_int_equal(piix4_pm_io_base(&pm), 0x800);
    assert_int_equal(inb(pio, 0x600), 0xff);
    piix4_pm_device_ops.finalize(&pm);
    bus_free(pio);
}

static void test_random_config(void **state)
{
    struct bus *pio = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(pio, 0x3f8, 8, &blk_ops, NULL, "com1"), 0);
    struct piix4_pm pm;
    struct piix3_isa isa;
    piix4_pm_init(&pm, pio, &blk_ops, NULL, 12, false, 0x600);
    piix3_isa_init(&isa, NULL, isa_lines());
    uint32_t seed = 0x7113u;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r % 3);
        unsigned reg = (r >> 4) & 0xff;
        uint32_t v = rng_next(&seed);
        struct pci_device *dev = (r >> 12) & 1 ? &pm.pci : &isa.pci;
        if ((r >> 13) & 1)
            pci_device_config_write(dev, reg, v, size);
        else
            (void)pci_device_config_read(dev, reg, size);
        assert_int_equal(pm.pci.config[0x40] & 1, 1);
        int irq = piix3_isa_pirq_irq(&isa, (r >> 20) & 3);
        assert_true(irq == -1 || (irq >= 3 && irq <= 15 && irq != 8 && irq != 13));
        piix3_isa_set_pirq(&isa, (r >> 26) & 3, (r >> 28) & 1);
        /* Every ISA IRQ is exactly the OR of the PIRQs routed to it. */
        for (int q = 0; q < PIIX3_ISA_IRQS; q++) {
            int want = 0;
            for (unsigned p = 0; p < 4; p++)
                want |= piix3_isa_pirq_irq(&isa, p) == q && isa.pirq_level[p];
            assert_int_equal(isa_level[q], want);
        }
        if ((r >> 24) == 0)
            piix4_pm_device_ops.reset(&pm);
    }
    /* Whatever happened, COM1's mapping is intact. */
    assert_string_equal(bus_lookup_name(pio, 0x3f8), "com1");
    piix4_pm_device_ops.finalize(&pm);
    bus_free(pio);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_bridge),
        cmocka_unit_test(test_pirq_levels),
        cmocka_unit_test(test_pm_relocation),
        cmocka_unit_test(test_pm_without_firmware),
        cmocka_unit_test(test_random_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
