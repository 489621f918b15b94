#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "pci_host.h"
#include "rng.h"

struct fixture {
    struct pci_host host;
    struct bus *bus;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    pci_host_init(&f->host);
    f->bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(f->bus, 0xcf8, 4, &pci_host_addr_bus_ops, &f->host, "pci-addr"), 0);
    assert_int_equal(bus_map(f->bus, 0xcfc, 4, &pci_host_data_bus_ops, &f->host, "pci-data"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pci_host_device_ops.finalize(&f->host);
    bus_free(f->bus);
    free(f);
    return 0;
}

static uint32_t in(struct fixture *f, uint16_t port, unsigned size)
{
    uint32_t v = 0;
    bus_read(f->bus, port, &v, size);
    return v;
}

static void out(struct fixture *f, uint16_t port, uint32_t v, unsigned size)
{
    bus_write(f->bus, port, &v, size);
}

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return PCI_CONFIG_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

/* Read `size` bytes of config space at reg, the way an OS does. */
static uint32_t cfg_read(struct fixture *f, unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
    out(f, 0xcf8, cfg_addr(0, dev, fn, reg), 4);
    return in(f, (uint16_t)(0xcfc + (reg & 3)), size);
}

static void cfg_write(struct fixture *f, unsigned dev, unsigned fn, unsigned reg, uint32_t v, unsigned size)
{
    out(f, 0xcf8, cfg_addr(0, dev, fn, reg), 4);
    out(f, (uint16_t)(0xcfc + (reg & 3)), v, size);
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(in(f, 0xcf8, 4), 0);
    /* Enable bit clear: the data port is plain, empty I/O. */
    assert_int_equal(in(f, 0xcfc, 4), 0xffffffff);
    /* Host bridge identity. */
    assert_int_equal(cfg_read(f, 0, 0, PCI_VENDOR_ID, 4), 0x12378086);
    assert_int_equal(cfg_read(f, 0, 0, PCI_REVISION_ID, 4), 0x06000002);
    assert_int_equal(cfg_read(f, 0, 0, PCI_HEADER_TYPE, 1), 0x00);
    assert_int_equal(cfg_read(f, 0, 0, PCI_COMMAND, 2), 0x0006);
    assert_int_equal(cfg_read(f, 0, 0, PCI_STATUS, 2), 0x0280);
    assert_int_equal(cfg_read(f, 0, 0, I440FX_SMRAM, 1), 0x02);
    assert_int_equal(cfg_read(f, 0, 0, PCI_BASE_ADDRESS_0, 4), 0);

    cfg_write(f, 0, 0, PCI_INTERRUPT_LINE, 0x0b, 1);
    cfg_write(f, 0, 0, I440FX_PAM0 + 1, 0x33, 1);
    pci_host_device_ops.reset(&f->host);
    assert_int_equal(in(f, 0xcf8, 4), 0);
    assert_int_equal(cfg_read(f, 0, 0, PCI_INTERRUPT_LINE, 1), 0);
    assert_int_equal(cfg_read(f, 0, 0, I440FX_PAM0 + 1, 1), 0);
}

static void test_address_register(void **state)
{
    struct fixture *f = *state;
    /* Reserved bits 30-24 and type bits 1-0 read as 0. */
    out(f, 0xcf8, 0xffffffff, 4);
    assert_int_equal(in(f, 0xcf8, 4), 0x80fffffc);
    out(f, 0xcf8, 0x80000003, 4);
    assert_int_equal(in(f, 0xcf8, 4), 0x80000000);
    /* Byte and word accesses are not CONFIG_ADDRESS. */
    out(f, 0xcf8, 0x12, 1);
    out(f, 0xcfa, 0x3456, 2);
    assert_int_equal(in(f, 0xcf8, 4), 0x80000000);
    assert_int_equal(in(f, 0xcf8, 1), 0xff);
    assert_int_equal(in(f, 0xcf9, 1), 0xff);
    assert_int_equal(in(f, 0xcfa, 2), 0xffff);
}

static void test_sub_dword_access(void **state)
{
    struct fixture *f = *state;
    /* The data port's low bits pick bytes within the addressed dword. */
    out(f, 0xcf8, cfg_addr(0, 0, 0, 0), 4);
    assert_int_equal(in(f, 0xcfc, 1), 0x86);
    assert_int_equal(in(f, 0xcfd, 1), 0x80);
    assert_int_equal(in(f, 0xcfe, 1), 0x37);
    assert_int_equal(in(f, 0xcff, 1), 0x12);
    assert_int_equal(in(f, 0xcfc, 2), 0x8086);
    assert_int_equal(in(f, 0xcfe, 2), 0x1237);
    /* A word at 0xCFF runs off the data port: one config byte, one 0xff. */
    assert_int_equal(in(f, 0xcff, 2), 0xff12);
    /* Class code bytes. */
    assert_int_equal(cfg_read(f, 0, 0, PCI_CLASS_DEVICE + 1, 1), 0x06);
    assert_int_equal(cfg_read(f, 0, 0, PCI_CLASS_DEVICE, 2), 0x0600);
    /* Writes through sub-dword accesses: latency timer (byte 0x0d). */
    cfg_write(f, 0, 0, PCI_LATENCY_TIMER, 0x40, 1);
    assert_int_equal(cfg_read(f, 0, 0, PCI_CACHE_LINE_SIZE, 4), 0x00004000);
    cfg_write(f, 0, 0, PCI_CACHE_LINE_SIZE, 0x2010, 2);
    assert_int_equal(cfg_read(f, 0, 0, PCI_CACHE_LINE_SIZE, 4), 0x00002010);
}

static void test_read_only_and_w1c(void **state)
{
    struct fixture *f = *state;
    /* IDs, class and header type do not change. */
    cfg_write(f, 0, 0, PCI_VENDOR_ID, 0xffffffff, 4);
    cfg_write(f, 0, 0, PCI_REVISION_ID, 0xffffffff, 4);
    assert_int_equal(cfg_read(f, 0, 0, PCI_VENDOR_ID, 4), 0x12378086);
    assert_int_equal(cfg_read(f, 0, 0, PCI_REVISION_ID, 4), 0x06000002);
    /* Command: only implemented bits stick. Writing the dword also writes
     * all-ones to status, which must not set any status bit. */
    cfg_write(f, 0, 0, PCI_COMMAND, 0xffffffff, 4);
    assert_int_equal(cfg_read(f, 0, 0, PCI_COMMAND, 2), 0x0547);
    assert_int_equal(cfg_read(f, 0, 0, PCI_STATUS, 2), 0x0280);
    /* Status error bits: set by the device, cleared by writing 1. */
    pci_config_set16(&f->host.bridge, PCI_STATUS, 0x0280 | PCI_STATUS_REC_MASTER_ABORT |
                     PCI_STATUS_DETECTED_PARITY);
    cfg_write(f, 0, 0, PCI_STATUS, 0, 2);
    assert_int_equal(cfg_read(f, 0, 0, PCI_STATUS, 2), 0xa280);
    cfg_write(f, 0, 0, PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT, 2);
    assert_int_equal(cfg_read(f, 0, 0, PCI_STATUS, 2), 0x8280);
    /* PAM registers keep only their enable bits; SMRAM's base is fixed. */
    cfg_write(f, 0, 0, I440FX_PAM0, 0xffffffff, 4);
    assert_int_equal(cfg_read(f, 0, 0, I440FX_PAM0 - 1, 4), 0x33333000);
    cfg_write(f, 0, 0, I440FX_SMRAM, 0xff, 1);
    assert_int_equal(cfg_read(f, 0, 0, I440FX_SMRAM, 1), 0x7a);
    /* Chipset registers without a model read 0 and ignore writes. */
    cfg_write(f, 0, 0, 0x90, 0xffffffff, 4);
    assert_int_equal(cfg_read(f, 0, 0, 0x90, 4), 0);
}

static void test_absent_functions(void **state)
{
    struct fixture *f = *state;
    static const unsigned where[][3] = { { 0, 0, 1 }, { 0, 1, 0 }, { 0, 31, 7 }, { 1, 0, 0 }, { 255, 0, 0 } };
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        uint32_t a = cfg_addr(where[i][0], where[i][1], where[i][2], 0);
        out(f, 0xcf8, a, 4);
        assert_int_equal(in(f, 0xcfc, 4), 0xffffffff);
        assert_int_equal(in(f, 0xcfe, 2), 0xffff);
        assert_int_equal(in(f, 0xcfd, 1), 0xff);
        out(f, 0xcfc, 0, 4);
        assert_int_equal(in(f, 0xcfc, 4), 0xffffffff);
    }
    /* The bridge was not touched by any of that. */
    assert_int_equal(cfg_read(f, 0, 0, PCI_VENDOR_ID, 4), 0x12378086);
}

struct test_dev {
    struct pci_device pci;
    unsigned writes;
    unsigned last_reg;
    uint32_t bar;
};

static void test_dev_written(struct pci_device *dev, unsigned reg, unsigned size)
{
    struct test_dev *t = dev->opaque;
    t->writes++;
    t->last_reg = reg;
    t->bar = pci_config_get32(dev, PCI_BASE_ADDRESS_0);
}

static const struct pci_device_ops test_dev_ops = { .config_written = test_dev_written };

static void test_registration_and_bar_sizing(void **state)
{
    struct fixture *f = *state;
    struct test_dev d = { 0 };
    pci_device_init(&d.pci, 0x1af4, 0x1000, 0, 0x020000, PCI_HEADER_TYPE_NORMAL, &test_dev_ops, &d);
    /* A 4 KiB memory BAR: the address bits above 4 KiB are writable. */
    pci_config_set_wmask(&d.pci, PCI_BASE_ADDRESS_0, 0xfffff000, 4);
    pci_config_set8(&d.pci, PCI_INTERRUPT_PIN, 1);
    assert_int_equal(pci_host_register(&f->host, &d.pci, 3, 0), 0);
    assert_int_equal(pci_host_register(&f->host, &d.pci, 3, 0), -1);
    assert_int_equal(pci_host_register(&f->host, &d.pci, 0, 0), -1);     /* host bridge */
    assert_int_equal(pci_host_register(&f->host, &d.pci, 32, 0), -1);
    assert_int_equal(pci_host_register(&f->host, &d.pci, 3, 8), -1);
    assert_int_equal(pci_host_register(&f->host, NULL, 4, 0), -1);
    assert_ptr_equal(pci_host_lookup(&f->host, 3, 0), &d.pci);
    assert_null(pci_host_lookup(&f->host, 3, 1));

    assert_int_equal(cfg_read(f, 3, 0, PCI_VENDOR_ID, 4), 0x10001af4);
    assert_int_equal(cfg_read(f, 3, 0, PCI_INTERRUPT_PIN, 1), 1);
    /* Sizing: write all-ones, read back the size mask, then place it. */
    cfg_write(f, 3, 0, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
    assert_int_equal(cfg_read(f, 3, 0, PCI_BASE_ADDRESS_0, 4), 0xfffff000);
    assert_int_equal(d.writes, 1);
    assert_int_equal(d.last_reg, PCI_BASE_ADDRESS_0);
    cfg_write(f, 3, 0, PCI_BASE_ADDRESS_0, 0xfebf1234, 4);
    assert_int_equal(d.bar, 0xfebf1000);
    /* Interrupt pin is read-only. */
    cfg_write(f, 3, 0, PCI_INTERRUPT_PIN, 4, 1);
    assert_int_equal(cfg_read(f, 3, 0, PCI_INTERRUPT_PIN, 1), 1);

    /* A second function turns on function 0's multi-function bit. */
    assert_int_equal(cfg_read(f, 3, 0, PCI_HEADER_TYPE, 1), 0x00);
    struct test_dev d1 = { 0 };
    pci_device_init(&d1.pci, 0x1af4, 0x1001, 0, 0x010000, PCI_HEADER_TYPE_NORMAL, NULL, NULL);
    assert_int_equal(pci_host_register(&f->host, &d1.pci, 3, 2), 0);
    assert_int_equal(cfg_read(f, 3, 0, PCI_HEADER_TYPE, 1), 0x80);
    assert_int_equal(cfg_read(f, 3, 2, PCI_DEVICE_ID, 2), 0x1001);
    /* ...also when function 0 arrives last. */
    struct test_dev e0 = { 0 }, e5 = { 0 };
    pci_device_init(&e5.pci, 0x8086, 0x7113, 3, 0x068000, PCI_HEADER_TYPE_NORMAL, NULL, NULL);
    pci_device_init(&e0.pci, 0x8086, 0x7000, 0, 0x060100, PCI_HEADER_TYPE_NORMAL, NULL, NULL);
    assert_int_equal(pci_host_register(&f->host, &e5.pci, 1, 5), 0);
    assert_int_equal(pci_host_register(&f->host, &e0.pci, 1, 0), 0);
    assert_int_equal(cfg_read(f, 1, 0, PCI_HEADER_TYPE, 1), 0x80);
    pci_host_device_ops.finalize(&f->host);
}

struct byte_port {
    uint8_t value;
    unsigned writes;
};

static uint64_t byte_port_read(void *opaque, uint64_t offset, unsigned size)
{
    struct byte_port *p = opaque;
    return offset == 0 ? p->value : 0xff;
}

static void byte_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct byte_port *p = opaque;
    if (offset == 0) {
        p->value = (uint8_t)value;
        p->writes++;
    }
}

static const struct bus_ops byte_port_ops = { byte_port_read, byte_port_write, BUS_SIZE_1 };

static void test_narrow_port(void **state)
{
    struct fixture *f = *state;
    struct byte_port rcr = { 0 };
    assert_int_equal(pci_host_attach_port(&f->host, 1, &byte_port_ops, &rcr), 0);
    assert_int_equal(pci_host_attach_port(&f->host, 1, &byte_port_ops, &rcr), -1);
    assert_int_equal(pci_host_attach_port(&f->host, 4, &byte_port_ops, &rcr), -1);
    /* Dword writes to 0xCF8 never reach the byte port (address 00.4.0 has
     * bit 10 set, byte 1 = 0x04: PIIX's "reset CPU" bit). */
    out(f, 0xcf8, cfg_addr(0, 0, 4, 0), 4);
    assert_int_equal(rcr.writes, 0);
    /* Byte accesses at 0xCF9 do, and leave CONFIG_ADDRESS alone. */
    out(f, 0xcf9, 0x06, 1);
    assert_int_equal(rcr.writes, 1);
    assert_int_equal(rcr.value, 0x06);
    assert_int_equal(in(f, 0xcf9, 1), 0x06);
    assert_int_equal(in(f, 0xcf8, 4), cfg_addr(0, 0, 4, 0));
    /* A word at 0xCF8 covers the port's byte too. */
    out(f, 0xcf8, 0x0200, 2);
    assert_int_equal(rcr.value, 0x02);
    assert_int_equal(in(f, 0xcf8, 2), 0x02ff);
}

static void test_vmstate_roundtrip(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = pci_host_device_ops.vmstate;
    cfg_write(f, 0, 0, I440FX_PAM0, 0x10, 1);
    cfg_write(f, 0, 0, PCI_LATENCY_TIMER, 0x20, 1);
    out(f, 0xcf8, cfg_addr(0, 0, 0, PCI_COMMAND), 4);
    uint8_t buf[1024], buf2[1024];
    long n = vmstate_save(desc, &f->host, buf, sizeof(buf));
    assert_true(n > 0);

    pci_host_device_ops.reset(&f->host);
    out(f, 0xcf8, cfg_addr(0, 7, 0, 0), 4);
    char err[200];
    assert_int_equal(vmstate_load(desc, &f->host, pci_host_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    long n2 = vmstate_save(desc, &f->host, buf2, sizeof(buf2));
    assert_int_equal(n, n2);
    assert_memory_equal(buf, buf2, (size_t)n);
    /* The address register survived: the data port hits the command word. */
    assert_int_equal(in(f, 0xcfc, 2), 0x0006);
    assert_int_equal(cfg_read(f, 0, 0, I440FX_PAM0, 1), 0x10);
    assert_int_equal(cfg_read(f, 0, 0, PCI_LATENCY_TIMER, 1), 0x20);

    /* Reserved address bits from a hostile stream are dropped. */
    struct pci_host evil = f->host;
    evil.config_address = 0xffffffff;
    n = vmstate_save(desc, &evil, buf, sizeof(buf));
    assert_int_equal(vmstate_load(desc, &f->host, sizeof(f->host), buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(in(f, 0xcf8, 4), 0x80fffffc);
    /* Still the same bridge at 00.0. */
    assert_ptr_equal(pci_host_lookup(&f->host, 0, 0), &f->host.bridge);
}

static void test_random_access(void **state)
{
    struct fixture *f = *state;
    struct test_dev d = { 0 };
    pci_device_init(&d.pci, 0x1af4, 0x1000, 0, 0x020000, PCI_HEADER_TYPE_NORMAL, &test_dev_ops, &d);
    pci_config_set_wmask(&d.pci, PCI_BASE_ADDRESS_0, 0xffffffe0, 4);
    assert_int_equal(pci_host_register(&f->host, &d.pci, 2, 0), 0);
    struct byte_port rcr = { 0 };
    assert_int_equal(pci_host_attach_port(&f->host, 1, &byte_port_ops, &rcr), 0);
    uint32_t seed = 0xcf8;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint64_t addr = 0xcf6 + ((r >> 2) % 12);
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        /* Steer half the addresses at present functions. */
        if ((r >> 8) % 4 == 0) {
            uint32_t a = cfg_addr(0, (r >> 10) % 2 ? 2 : 0, 0, (unsigned)val);
            out(f, 0xcf8, a, 4);
        } else if ((r >> 8) % 2) {
            bus_write(f->bus, addr, &val, size);
        } else {
            bus_read(f->bus, addr, &val, size);
        }
    }
    /* Whatever happened, identities are intact. */
    assert_int_equal(cfg_read(f, 0, 0, PCI_VENDOR_ID, 4), 0x12378086);
    assert_int_equal(cfg_read(f, 2, 0, PCI_VENDOR_ID, 4), 0x10001af4);
    assert_int_equal(cfg_read(f, 2, 0, PCI_BASE_ADDRESS_0, 4) & 0x1f, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sub_dword_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_and_w1c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_and_bar_sizing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
