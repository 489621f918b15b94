#include "acpi.h"

#include <string.h>

struct acpi_builder {
    uint8_t *base;     /* host pointer to ACPI_TABLES_BASE */
    uint32_t used;
};

static uint8_t *acpi_alloc(struct acpi_builder *b, uint32_t len, uint32_t align)
{
    uint32_t off = (b->used + align - 1) & ~(align - 1);
    if (off + len > ACPI_TABLES_SIZE)
        return NULL;
    b->used = off + len;
    memset(b->base + off, 0, len);
    return b->base + off;
}

static uint32_t gpa_of(const struct acpi_builder *b, const uint8_t *p)
{
    return ACPI_TABLES_BASE + (uint32_t)(p - b->base);
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return (uint8_t)(0 - sum);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Standard 36-byte description header (section 5.2.6). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "HOSTEL", 6);
    memcpy(t + 16, "HOSTELVM", 8);
    put32(t + 24, 1);
    memcpy(t + 28, "HSTL", 4);
    put32(t + 32, 1);
}

static void finish(uint8_t *t)
{
    uint32_t len;
    memcpy(&len, t + 4, 4);
    t[9] = 0;
    t[9] = checksum(t, len);
}

/* Generic Address Structure (section 5.2.3.2) for a system I/O register. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t bits, uint8_t access)
{
    g[0] = 1; /* system I/O */
    g[1] = bits;
    g[2] = 0;
    g[3] = access;
    put64(g + 4, port);
}

/* AML for: Name (_S5, Package (4) { 5, 5, 0, 0 }) — the value written to
 * SLP_TYP for soft-off (section 7.4.2). */
static const uint8_t dsdt_aml[] = {
    0x08, '_', 'S', '5', '_',             /* NameOp "_S5_" */
    0x12, 0x08, 0x04,                     /* PackageOp, PkgLength 8, 4 elements */
    0x0A, ACPI_S5_TYPE, 0x0A, ACPI_S5_TYPE, /* BytePrefix 5, BytePrefix 5 */
    0x00, 0x00,                           /* Zero, Zero */
};

uint64_t acpi_build_tables(const struct guest_mem *mem, unsigned ncpus)
{
    struct acpi_builder b = { guest_mem_ptr(mem, ACPI_TABLES_BASE, ACPI_TABLES_SIZE), 0 };
    if (!b.base)
        return 0;

    uint8_t *rsdp = acpi_alloc(&b, 36, 16);
    /* FACS (section 5.2.10): required unless the FADT is hardware-reduced;
     * no global lock, no waking vector. */
    uint8_t *facs = acpi_alloc(&b, 64, 64);
    if (!facs)
        return 0;
    memcpy(facs, "FACS", 4);
    put32(facs + 4, 64);
    facs[32] = 2;                          /* version */

    uint32_t dsdt_len = 36 + sizeof(dsdt_aml);
    uint8_t *dsdt = acpi_alloc(&b, dsdt_len, 16);
    if (!rsdp || !dsdt)
        return 0;
    header(dsdt, "DSDT", dsdt_len, 2);
    memcpy(dsdt + 36, dsdt_aml, sizeof(dsdt_aml));
    finish(dsdt);

    /* FADT, revision 6 layout (section 5.2.9, table 5.9). */
    uint8_t *fadt = acpi_alloc(&b, 276, 16);
    if (!fadt)
        return 0;
    header(fadt, "FACP", 276, 6);
    put32(fadt + 36, gpa_of(&b, facs));
    put32(fadt + 40, gpa_of(&b, dsdt));
    fadt[45] = 1;                          /* preferred profile: desktop */
    put16(fadt + 46, ACPI_SCI_IRQ);
    put32(fadt + 48, 0);                   /* no SMI_CMD: ACPI mode is always on */
    put32(fadt + 56, ACPI_PM1_EVT);
    put32(fadt + 64, ACPI_PM1_CNT);
    put32(fadt + 76, ACPI_PM_TMR);
    fadt[88] = 4;                          /* PM1_EVT_LEN */
    fadt[89] = 2;                          /* PM1_CNT_LEN */
    fadt[91] = 4;                          /* PM_TMR_LEN */
    put16(fadt + 96, 0x0fff);              /* C2 latency > 100: no C2 */
    put16(fadt + 98, 0x0fff);              /* C3 latency > 1000: no C3 */
    fadt[108] = 0x32;                      /* RTC century index */
    put16(fadt + 109, (1u << 0) | (1u << 1)); /* IAPC_BOOT_ARCH: legacy devices, 8042 */
    /* PWR_BUTTON (bit 4) clear: the power button is the fixed-feature one
     * in PM1; FIX_RTC (bit 6) set: no RTC wake status there. */
    put32(fadt + 112, (1u << 0) /* WBINVD */ | (1u << 2) /* PROC_C1 */ |
                      (1u << 5) /* SLP_BUTTON: none */ | (1u << 6) /* FIX_RTC */ |
                      (1u << 8) /* TMR_VAL_EXT */ | (1u << 10) /* RESET_REG_SUP */);
    gas_io(fadt + 116, ACPI_RESET_PORT, 8, 1);
    fadt[128] = ACPI_RESET_VALUE;
    fadt[131] = 4;                         /* FADT minor version */
    put64(fadt + 132, gpa_of(&b, facs));
    put64(fadt + 140, gpa_of(&b, dsdt));
    gas_io(fadt + 148, ACPI_PM1_EVT, 32, 2);
    gas_io(fadt + 172, ACPI_PM1_CNT, 16, 2);
    gas_io(fadt + 208, ACPI_PM_TMR, 32, 3);
    memcpy(fadt + 268, "HOSTELVM", 8);
    finish(fadt);

    /* MADT (section 5.2.12). */
    uint32_t madt_len = 44 + 8 * ncpus + 12 + 10 * 2 + 6;
    uint8_t *madt = acpi_alloc(&b, madt_len, 16);
    if (!madt)
        return 0;
    header(madt, "APIC", madt_len, 5);
    put32(madt + 36, LAPIC_BASE);
    put32(madt + 40, 1);                   /* PCAT_COMPAT: there are 8259s too */
    uint8_t *p = madt + 44;
    for (unsigned i = 0; i < ncpus; i++, p += 8) {
        p[0] = 0;                          /* processor local APIC */
        p[1] = 8;
        p[2] = (uint8_t)i;                 /* ACPI processor UID */
        p[3] = (uint8_t)i;                 /* APIC ID */
        put32(p + 4, 1);                   /* enabled */
    }
    p[0] = 1;                              /* I/O APIC */
    p[1] = 12;
    p[2] = (uint8_t)ncpus;                 /* its ID follows the CPUs' */
    put32(p + 4, IOAPIC_BASE);
    put32(p + 8, 0);                       /* GSI base */
    p += 12;
    /* ISA IRQ 0 (PIT) arrives on GSI 2; the SCI is level, active high. */
    p[0] = 2; p[1] = 10; p[2] = 0; p[3] = 0; put32(p + 4, 2); put16(p + 8, 0);
    p += 10;
    p[0] = 2; p[1] = 10; p[2] = 0; p[3] = ACPI_SCI_IRQ; put32(p + 4, ACPI_SCI_IRQ);
    put16(p + 8, (1u << 0) | (3u << 2));   /* polarity high, trigger level */
    p += 10;
    p[0] = 4; p[1] = 6; p[2] = 0xff;       /* LINT1 of every CPU is NMI */
    put16(p + 3, 0);
    p[5] = 1;
    finish(madt);

    uint8_t *rsdt = acpi_alloc(&b, 36 + 4 * 2, 16);
    uint8_t *xsdt = acpi_alloc(&b, 36 + 8 * 2, 16);
    if (!rsdt || !xsdt)
        return 0;
    header(rsdt, "RSDT", 36 + 4 * 2, 1);
    put32(rsdt + 36, gpa_of(&b, fadt));
    put32(rsdt + 40, gpa_of(&b, madt));
    finish(rsdt);
    header(xsdt, "XSDT", 36 + 8 * 2, 1);
    put64(xsdt + 36, gpa_of(&b, fadt));
    put64(xsdt + 44, gpa_of(&b, madt));
    finish(xsdt);

    /* RSDP (section 5.2.5.3). */
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "HOSTEL", 6);
    rsdp[15] = 2;
    put32(rsdp + 16, gpa_of(&b, rsdt));
    put32(rsdp + 20, 36);
    put64(rsdp + 24, gpa_of(&b, xsdt));
    rsdp[8] = checksum(rsdp, 20);
    rsdp[32] = checksum(rsdp, 36);
    return gpa_of(&b, rsdp);
}
