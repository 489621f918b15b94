/* Write the ACPI tables Hostel builds (direct-boot placement) as one file
 * per table into a directory, for tests/unit/check-acpi-iasl.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"

static int dump(const struct guest_mem *mem, uint64_t gpa, const char *dir)
{
    const uint8_t *t = guest_mem_ptr(mem, gpa, 36);
    uint32_t len;
    if (!t)
        return -1;
    memcpy(&len, t + 4, 4);
    t = guest_mem_ptr(mem, gpa, len);
    if (!t)
        return -1;
    char path[512];
    snprintf(path, sizeof(path), "%s/%.4s.dat", dir, (const char *)t);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(t, 1, len, f) != len || fclose(f) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: acpi-dump NCPUS DIR\n");
        return 2;
    }
    struct guest_mem mem;
    char err[200];
    if (guest_mem_init(&mem, 256 << 20, err, sizeof(err)) < 0)
        return 1;
    struct acpi_config cfg = { .ncpus = (unsigned)atoi(argv[1]), .pci_hole_start = 256 << 20, .hpet = true };
    uint64_t rsdp = acpi_build_tables(&mem, &cfg);
    const uint8_t *r = guest_mem_ptr(&mem, rsdp, 36);
    uint64_t xsdt_gpa;
    memcpy(&xsdt_gpa, r + 24, 8);
    const uint8_t *xsdt = guest_mem_ptr(&mem, xsdt_gpa, 36);
    uint32_t xlen;
    memcpy(&xlen, xsdt + 4, 4);
    if (dump(&mem, xsdt_gpa, argv[2]) < 0)
        return 1;
    for (uint32_t off = 36; off + 8 <= xlen; off += 8) {
        uint64_t gpa;
        memcpy(&gpa, xsdt + off, 8);
        if (dump(&mem, gpa, argv[2]) < 0)
            return 1;
        const uint8_t *t = guest_mem_ptr(&mem, gpa, 36);
        if (memcmp(t, "FACP", 4) == 0) {
            uint64_t dsdt;
            memcpy(&dsdt, t + 140, 8);
            if (dump(&mem, dsdt, argv[2]) < 0)
                return 1;
        }
    }
    guest_mem_destroy(&mem);
    return 0;
}
