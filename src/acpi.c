#include "acpi.h"

#include "aml.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The tables are built into one buffer (everything but the RSDP) plus the
 * RSDP, with every pointer between tables first written as an offset into
 * the buffer and recorded, so the same tables can be placed at a fixed
 * address (direct kernel boot) or handed to firmware with a loader script
 * that places them itself (fw_cfg "etc/table-loader"). */
struct acpi_builder {
    uint8_t tables[ACPI_TABLES_SIZE - ACPI_RSDP_SPACE];
    uint32_t used;
    uint8_t rsdp[36];
    struct acpi_pointer {
        bool in_rsdp;           /* the pointer field is in the RSDP */
        uint32_t offset;        /* of the field */
        uint8_t size;           /* 4 or 8 */
    } ptrs[16];
    unsigned nptrs;
    uint32_t table_off[8];      /* each table's offset, for checksums */
    unsigned ntables;
};

static uint8_t *acpi_alloc(struct acpi_builder *b, uint32_t len, uint32_t align)
{
    uint32_t off = (b->used + align - 1) & ~(align - 1);
    if (off + len > sizeof(b->tables))
        return NULL;
    b->used = off + len;
    memset(b->tables + off, 0, len);
    return b->tables + off;
}

static uint32_t off_of(const struct acpi_builder *b, const uint8_t *p)
{
    return (uint32_t)(p - b->tables);
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

/* Write a pointer to the table at target into field (in the tables or the
 * RSDP), as an offset to be relocated later. */
static void pointer(struct acpi_builder *b, uint8_t *field, uint8_t size, const uint8_t *target)
{
    if (b->nptrs == sizeof(b->ptrs) / sizeof(b->ptrs[0]))
        return;     /* cannot happen: the table set is fixed */
    bool in_rsdp = field >= b->rsdp && field < b->rsdp + sizeof(b->rsdp);
    uint32_t at = in_rsdp ? (uint32_t)(field - b->rsdp) : off_of(b, field);
    if (size == 8)
        put64(field, off_of(b, target));
    else
        put32(field, off_of(b, target));
    b->ptrs[b->nptrs++] = (struct acpi_pointer){ .in_rsdp = in_rsdp, .offset = at, .size = size };
}

const uint8_t acpi_pirq_isa_irq[4] = { 10, 10, 11, 11 };

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

/* The checksum is computed once the pointers are relocated. */
static void finish(struct acpi_builder *b, uint8_t *t)
{
    if (b->ntables < sizeof(b->table_off) / sizeof(b->table_off[0]))
        b->table_off[b->ntables++] = off_of(b, t);
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

/* PCI interrupt routing of slot:pin (pin 0 = INTA) to PIRQA-D, as on
 * PIIX boards: each slot's pins rotate by the slot number. */
static unsigned pirq_of(unsigned slot, unsigned pin)
{
    return (slot + pin - 1) & 3;
}

static void dsdt_prt(struct aml *a, const char *name, bool apic)
{
    aml_name(a, name);
    aml_open_package(a, 31 * 4);
    for (unsigned slot = 1; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            unsigned pirq = pirq_of(slot, pin);
            aml_open_package(a, 4);
            aml_integer(a, (uint64_t)slot << 16 | 0xffff);
            aml_integer(a, pin);
            aml_integer(a, 0);
            aml_integer(a, apic ? ACPI_PCI_GSI_BASE + pirq : acpi_pirq_isa_irq[pirq]);
            aml_close(a);
        }
    }
    aml_close(a);
}

static void dsdt_isa_device(struct aml *a, const char *name, const char *hid, unsigned uid,
                            uint16_t io1, uint8_t len1, uint16_t io2, uint8_t len2, int irq)
{
    aml_open_device(a, name);
    aml_name(a, "_HID");
    aml_eisaid(a, hid);
    if (uid)
        aml_name_integer(a, "_UID", uid);
    aml_name(a, "_CRS");
    aml_open_buffer(a);
    if (len1)
        aml_res_io(a, io1, len1);
    if (len2)
        aml_res_io(a, io2, len2);
    if (irq >= 0)
        aml_res_irq(a, (unsigned)irq);
    aml_res_end(a);
    aml_close(a);
    aml_close(a);
}

/* The DSDT's AML: the PCI root bridge with its windows and interrupt
 * routing, the ISA devices behind the PIIX, the HPET, and the S5 sleep
 * state. In APIC mode PCI interrupts arrive on IOAPIC inputs 16-19
 * (PIRQA-D); in PIC mode on the ISA IRQs the PIRQ registers route them to. */
static int dsdt_build(struct aml *a, const struct acpi_config *cfg)
{
    aml_name_integer(a, "PICF", 0);
    aml_open_method(a, "_PIC", 1);
    aml_byte(a, AML_STORE);
    aml_byte(a, AML_ARG0);
    aml_namestring(a, "PICF");
    aml_close(a);

    aml_open_scope(a, "\\_SB");
    aml_open_device(a, "PCI0");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0A03");
    aml_name_integer(a, "_ADR", 0);
    aml_name_integer(a, "_UID", 0);
    aml_name(a, "_CRS");
    aml_open_buffer(a);
    aml_res_word_bus(a, 0, 0xff);
    aml_res_io(a, 0xcf8, 8);
    aml_res_word_io(a, 0x0000, 0x0cf7);
    aml_res_word_io(a, 0x0d00, 0xffff);
    aml_res_dword_memory(a, 0xa0000, 0xbffff);
    aml_res_dword_memory(a, (uint32_t)cfg->pci_hole_start, ACPI_PCI_HOLE_END);
    aml_res_end(a);
    aml_close(a);
    dsdt_prt(a, "PRTA", true);
    dsdt_prt(a, "PRTP", false);
    aml_open_method(a, "_PRT", 0);
    aml_open_if(a);
    aml_namestring(a, "PICF");
    aml_byte(a, AML_RETURN);
    aml_namestring(a, "PRTA");
    aml_close(a);
    aml_byte(a, AML_RETURN);
    aml_namestring(a, "PRTP");
    aml_close(a);

    aml_open_device(a, "ISA");
    aml_name_integer(a, "_ADR", 0x00010000);
    dsdt_isa_device(a, "KBD", "PNP0303", 0, 0x60, 1, 0x64, 1, 1);
    dsdt_isa_device(a, "MOU", "PNP0F13", 0, 0, 0, 0, 0, 12);
    dsdt_isa_device(a, "COM1", "PNP0501", 1, 0x3f8, 8, 0, 0, 4);
    dsdt_isa_device(a, "RTC", "PNP0B00", 0, 0x70, 2, 0, 0, 8);
    aml_close(a);   /* ISA */
    aml_close(a);   /* PCI0 */

    if (cfg->hpet) {
        aml_open_device(a, "HPET");
        aml_name(a, "_HID");
        aml_eisaid(a, "PNP0103");
        aml_name_integer(a, "_UID", 0);
        aml_name(a, "_CRS");
        aml_open_buffer(a);
        aml_res_memory32_fixed(a, ACPI_HPET_BASE, 0x400);
        aml_res_end(a);
        aml_close(a);
        aml_close(a);
    }
    aml_close(a);   /* \_SB */

    /* Name (_S5, Package (4) { 5, 5, 0, 0 }): the SLP_TYP values for
     * soft-off (section 7.4.2). */
    aml_name(a, "_S5");
    aml_open_package(a, 4);
    aml_integer(a, ACPI_S5_TYPE);
    aml_integer(a, ACPI_S5_TYPE);
    aml_integer(a, 0);
    aml_integer(a, 0);
    aml_close(a);
    return a->error ? -1 : 0;
}

static int acpi_build(struct acpi_builder *b, const struct acpi_config *cfg)
{
    memset(b, 0, sizeof(*b));
    unsigned ncpus = cfg->ncpus;
    /* FACS (section 5.2.10): required unless the FADT is hardware-reduced;
     * no global lock, no waking vector. */
    uint8_t *facs = acpi_alloc(b, 64, 64);
    if (!facs)
        return -1;
    memcpy(facs, "FACS", 4);
    put32(facs + 4, 64);
    facs[32] = 2;                          /* version */

    struct aml aml;
    aml_init(&aml);
    size_t aml_len = 0;
    const uint8_t *aml_bytes = dsdt_build(&aml, cfg) == 0 ? aml_data(&aml, &aml_len) : NULL;
    uint32_t dsdt_len = 36 + (uint32_t)aml_len;
    uint8_t *dsdt = aml_bytes ? acpi_alloc(b, dsdt_len, 16) : NULL;
    if (dsdt) {
        header(dsdt, "DSDT", dsdt_len, 2);
        memcpy(dsdt + 36, aml_bytes, aml_len);
        finish(b, dsdt);
    }
    aml_free(&aml);
    if (!dsdt)
        return -1;

    /* FADT, revision 6 layout (section 5.2.9, table 5.9). */
    uint8_t *fadt = acpi_alloc(b, 276, 16);
    if (!fadt)
        return -1;
    header(fadt, "FACP", 276, 6);
    pointer(b, fadt + 36, 4, facs);
    pointer(b, fadt + 40, 4, dsdt);
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
    pointer(b, fadt + 132, 8, facs);
    pointer(b, fadt + 140, 8, dsdt);
    gas_io(fadt + 148, ACPI_PM1_EVT, 32, 2);
    gas_io(fadt + 172, ACPI_PM1_CNT, 16, 2);
    gas_io(fadt + 208, ACPI_PM_TMR, 32, 3);
    memcpy(fadt + 268, "HOSTELVM", 8);
    finish(b, fadt);

    /* MADT (section 5.2.12). */
    uint32_t madt_len = 44 + 8 * ncpus + 12 + 10 * 2 + 6;
    uint8_t *madt = acpi_alloc(b, madt_len, 16);
    if (!madt)
        return -1;
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
    finish(b, madt);

    /* HPET description table (IA-PC HPET specification 1.0a, section 3.2.4). */
    uint8_t *hpet = NULL;
    if (cfg->hpet) {
        hpet = acpi_alloc(b, 56, 16);
        if (!hpet)
            return -1;
        header(hpet, "HPET", 56, 1);
        put32(hpet + 36, cfg->hpet_block_id);
        hpet[40] = 0;                      /* system memory */
        hpet[41] = 64;                     /* register width */
        put64(hpet + 44, ACPI_HPET_BASE);
        hpet[52] = 0;                      /* HPET number */
        put16(hpet + 53, cfg->hpet_min_tick);
        hpet[55] = 0;                      /* no page protection */
        finish(b, hpet);
    }

    const uint8_t *entries[3] = { fadt, madt, hpet };
    unsigned nentries = hpet ? 3 : 2;
    uint8_t *rsdt = acpi_alloc(b, 36 + 4 * nentries, 16);
    uint8_t *xsdt = acpi_alloc(b, 36 + 8 * nentries, 16);
    if (!rsdt || !xsdt)
        return -1;
    header(rsdt, "RSDT", 36 + 4 * nentries, 1);
    header(xsdt, "XSDT", 36 + 8 * nentries, 1);
    for (unsigned i = 0; i < nentries; i++) {
        pointer(b, rsdt + 36 + 4 * i, 4, entries[i]);
        pointer(b, xsdt + 36 + 8 * i, 8, entries[i]);
    }
    finish(b, rsdt);
    finish(b, xsdt);

    /* RSDP (section 5.2.5.3). */
    uint8_t *rsdp = b->rsdp;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "HOSTEL", 6);
    rsdp[15] = 2;
    pointer(b, rsdp + 16, 4, rsdt);
    put32(rsdp + 20, 36);
    pointer(b, rsdp + 24, 8, xsdt);
    return 0;
}

/* Add base to every pointer and compute the checksums. */
static void acpi_relocate(struct acpi_builder *b, uint64_t base)
{
    for (unsigned i = 0; i < b->nptrs; i++) {
        const struct acpi_pointer *p = &b->ptrs[i];
        uint8_t *f = (p->in_rsdp ? b->rsdp : b->tables) + p->offset;
        if (p->size == 8) {
            uint64_t v;
            memcpy(&v, f, 8);
            put64(f, v + base);
        } else {
            uint32_t v;
            memcpy(&v, f, 4);
            put32(f, v + (uint32_t)base);
        }
    }
    for (unsigned i = 0; i < b->ntables; i++) {
        uint8_t *t = b->tables + b->table_off[i];
        uint32_t len;
        memcpy(&len, t + 4, 4);
        t[9] = 0;
        t[9] = checksum(t, len);
    }
    b->rsdp[8] = 0;
    b->rsdp[8] = checksum(b->rsdp, 20);
    b->rsdp[32] = 0;
    b->rsdp[32] = checksum(b->rsdp, 36);
}

uint64_t acpi_build_tables(const struct guest_mem *mem, const struct acpi_config *cfg)
{
    uint8_t *area = guest_mem_ptr(mem, ACPI_TABLES_BASE, ACPI_TABLES_SIZE);
    struct acpi_builder *b = calloc(1, sizeof(*b));
    if (!area || !b || acpi_build(b, cfg) < 0) {
        free(b);
        return 0;
    }
    /* The RSDP first, the tables after it. */
    acpi_relocate(b, ACPI_TABLES_BASE + ACPI_RSDP_SPACE);
    memset(area, 0, ACPI_TABLES_SIZE);
    memcpy(area, b->rsdp, sizeof(b->rsdp));
    memcpy(area + ACPI_RSDP_SPACE, b->tables, b->used);
    free(b);
    return ACPI_TABLES_BASE;
}

/* The loader script (fw_cfg "etc/table-loader"): 128-byte commands, as
 * SeaBIOS and OVMF execute them. */
enum {
    LOADER_ALLOCATE = 1,
    LOADER_ADD_POINTER = 2,
    LOADER_ADD_CHECKSUM = 3,
    LOADER_ZONE_HIGH = 1,
    LOADER_ZONE_FSEG = 2,
    LOADER_ENTRY = 128,
    LOADER_NAME = 56,
};

#define FILE_TABLES "etc/acpi/tables"
#define FILE_RSDP "etc/acpi/rsdp"
#define FILE_LOADER "etc/table-loader"

static uint8_t *loader_entry(uint8_t *script, unsigned *n, uint32_t command)
{
    uint8_t *e = script + LOADER_ENTRY * (*n)++;
    memset(e, 0, LOADER_ENTRY);
    put32(e, command);
    return e;
}

static void loader_allocate(uint8_t *script, unsigned *n, const char *file, uint32_t align, uint8_t zone)
{
    uint8_t *e = loader_entry(script, n, LOADER_ALLOCATE);
    strncpy((char *)e + 4, file, LOADER_NAME - 1);
    put32(e + 4 + LOADER_NAME, align);
    e[8 + LOADER_NAME] = zone;
}

static void loader_checksum(uint8_t *script, unsigned *n, const char *file, uint32_t at, uint32_t start,
                            uint32_t len)
{
    uint8_t *e = loader_entry(script, n, LOADER_ADD_CHECKSUM);
    strncpy((char *)e + 4, file, LOADER_NAME - 1);
    put32(e + 4 + LOADER_NAME, at);
    put32(e + 8 + LOADER_NAME, start);
    put32(e + 12 + LOADER_NAME, len);
}

int acpi_add_to_fw_cfg(struct fw_cfg *fw, const struct acpi_config *cfg)
{
    struct acpi_builder *b = calloc(1, sizeof(*b));
    enum { MAX_COMMANDS = 2 + 16 + 8 + 2 };
    uint8_t *script = calloc(MAX_COMMANDS, LOADER_ENTRY);
    int rc = -1;
    if (!b || !script || acpi_build(b, cfg) < 0)
        goto out;
    /* Pointers stay offsets into "etc/acpi/tables"; the loader adds the
     * address it placed that file at. Checksum bytes start at 0 and the
     * loader fills them in after relocating. */
    unsigned n = 0;
    loader_allocate(script, &n, FILE_RSDP, 16, LOADER_ZONE_FSEG);
    loader_allocate(script, &n, FILE_TABLES, 64, LOADER_ZONE_HIGH);
    for (unsigned i = 0; i < b->nptrs; i++) {
        const struct acpi_pointer *p = &b->ptrs[i];
        uint8_t *e = loader_entry(script, &n, LOADER_ADD_POINTER);
        strncpy((char *)e + 4, p->in_rsdp ? FILE_RSDP : FILE_TABLES, LOADER_NAME - 1);
        strncpy((char *)e + 4 + LOADER_NAME, FILE_TABLES, LOADER_NAME - 1);
        put32(e + 4 + 2 * LOADER_NAME, p->offset);
        e[8 + 2 * LOADER_NAME] = p->size;
    }
    for (unsigned i = 0; i < b->ntables; i++) {
        uint32_t len;
        memcpy(&len, b->tables + b->table_off[i] + 4, 4);
        loader_checksum(script, &n, FILE_TABLES, b->table_off[i] + 9, b->table_off[i], len);
    }
    loader_checksum(script, &n, FILE_RSDP, 8, 0, 20);
    loader_checksum(script, &n, FILE_RSDP, 32, 0, 36);
    if (fw_cfg_add_file(fw, FILE_TABLES, b->tables, b->used) == 0 &&
        fw_cfg_add_file(fw, FILE_RSDP, b->rsdp, sizeof(b->rsdp)) == 0 &&
        fw_cfg_add_file(fw, FILE_LOADER, script, n * LOADER_ENTRY) == 0)
        rc = 0;
out:
    free(script);
    free(b);
    return rc;
}
