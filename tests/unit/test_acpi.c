#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

static const uint8_t *table_at(struct guest_mem *mem, uint64_t gpa)
{
    uint32_t len;
    const uint8_t *h = guest_mem_ptr(mem, gpa, 36);
    assert_non_null(h);
    memcpy(&len, h + 4, 4);
    assert_true(len >= 36 && len < 0x10000);
    const uint8_t *t = guest_mem_ptr(mem, gpa, len);
    assert_non_null(t);
    assert_int_equal(sum(t, len), 0);
    return t;
}

static void check_tables(unsigned ncpus)
{
    struct guest_mem mem;
    char err[200];
    assert_int_equal(guest_mem_init(&mem, 64 << 20, err, sizeof(err)), 0);
    struct acpi_config cfg = { .ncpus = ncpus, .pci_hole_start = 64 << 20, .hpet = true };
    uint64_t rsdp_gpa = acpi_build_tables(&mem, &cfg);
    assert_true(rsdp_gpa >= ACPI_TABLES_BASE && rsdp_gpa < ACPI_TABLES_BASE + ACPI_TABLES_SIZE);
    assert_int_equal(rsdp_gpa % 16, 0);
    const uint8_t *rsdp = guest_mem_ptr(&mem, rsdp_gpa, 36);
    assert_memory_equal(rsdp, "RSD PTR ", 8);
    assert_int_equal(sum(rsdp, 20), 0);
    assert_int_equal(sum(rsdp, 36), 0);
    assert_int_equal(rsdp[15], 2);
    uint64_t xsdt_gpa;
    memcpy(&xsdt_gpa, rsdp + 24, 8);
    const uint8_t *xsdt = table_at(&mem, xsdt_gpa);
    assert_memory_equal(xsdt, "XSDT", 4);
    uint32_t xlen;
    memcpy(&xlen, xsdt + 4, 4);
    int seen_fadt = 0, seen_madt = 0;
    for (uint32_t off = 36; off + 8 <= xlen; off += 8) {
        uint64_t gpa;
        memcpy(&gpa, xsdt + off, 8);
        const uint8_t *t = table_at(&mem, gpa);
        if (memcmp(t, "FACP", 4) == 0) {
            seen_fadt++;
            uint32_t dsdt32;
            uint64_t dsdt64;
            memcpy(&dsdt32, t + 40, 4);
            memcpy(&dsdt64, t + 140, 8);
            assert_int_equal(dsdt32, dsdt64);
            const uint8_t *dsdt = table_at(&mem, dsdt64);
            assert_memory_equal(dsdt, "DSDT", 4);
            uint32_t dsdt_len;
            memcpy(&dsdt_len, dsdt + 4, 4);
            assert_non_null(memmem(dsdt, dsdt_len, "_S5_", 4));
            assert_non_null(memmem(dsdt, dsdt_len, "PCI0", 4));
            assert_non_null(memmem(dsdt, dsdt_len, "HPET", 4));
            uint16_t sci;
            memcpy(&sci, t + 46, 2);
            assert_int_equal(sci, ACPI_SCI_IRQ);
            uint32_t pm1cnt;
            memcpy(&pm1cnt, t + 64, 4);
            assert_int_equal(pm1cnt, ACPI_PM1_CNT);
            assert_int_equal(t[116], 1);  /* reset register in I/O space */
            uint64_t reset_port;
            memcpy(&reset_port, t + 120, 8);
            assert_int_equal(reset_port, ACPI_RESET_PORT);
            assert_int_equal(t[128], ACPI_RESET_VALUE);
            uint32_t facs32, flags;
            uint64_t facs64;
            memcpy(&facs32, t + 36, 4);
            memcpy(&facs64, t + 132, 8);
            assert_int_equal(facs32, facs64);
            assert_int_equal(facs64 % 64, 0);
            const uint8_t *facs = guest_mem_ptr(&mem, facs64, 64);
            assert_memory_equal(facs, "FACS", 4);
            memcpy(&flags, t + 112, 4);
            assert_int_equal(flags & (1u << 4), 0);   /* fixed power button exists */
        } else if (memcmp(t, "APIC", 4) == 0) {
            seen_madt++;
            uint32_t len;
            memcpy(&len, t + 4, 4);
            unsigned lapics = 0, ioapics = 0, overrides = 0;
            for (uint32_t e = 44; e + 2 <= len;) {
                uint8_t type = t[e], elen = t[e + 1];
                assert_true(elen >= 2 && e + elen <= len);
                if (type == 0) {
                    assert_int_equal(t[e + 3], lapics); /* APIC IDs 0..n-1 */
                    lapics++;
                } else if (type == 1) {
                    ioapics++;
                    uint32_t addr;
                    memcpy(&addr, t + e + 4, 4);
                    assert_int_equal(addr, IOAPIC_BASE);
                } else if (type == 2) {
                    overrides++;
                }
                e += elen;
            }
            assert_int_equal(lapics, ncpus);
            assert_int_equal(ioapics, 1);
            assert_int_equal(overrides, 2);
        }
    }
    assert_int_equal(seen_fadt, 1);
    assert_int_equal(seen_madt, 1);
    guest_mem_destroy(&mem);
}

static void test_one_cpu(void **state) { (void)state; check_tables(1); }
static void test_two_cpus(void **state) { (void)state; check_tables(2); }
static void test_many_cpus(void **state) { (void)state; check_tables(64); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_cpu),
        cmocka_unit_test(test_two_cpus),
        cmocka_unit_test(test_many_cpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
