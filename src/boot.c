#include "boot.h"

#include <stdio.h>
#include <string.h>

#include "acpi.h"

unsigned boot_build_e820(const struct guest_mem *mem, struct e820_entry *out, unsigned max)
{
    unsigned n = 0;
    uint64_t low = guest_mem_low_size(mem);
#define ADD(a, s, t) do { if (n < max) out[n++] = (struct e820_entry){ (a), (s), (t) }; } while (0)
    ADD(0, BOOT_EBDA_START, E820_RAM);
    ADD(BOOT_EBDA_START, 0xA0000 - BOOT_EBDA_START, E820_RESERVED);
    /* The ACPI tables and the rest of the BIOS area. */
    ADD(ACPI_TABLES_BASE, 0x100000 - ACPI_TABLES_BASE, E820_RESERVED);
    if (low > 0x100000)
        ADD(0x100000, low - 0x100000, E820_RAM);
    for (unsigned i = 1; i < mem->nregions; i++)
        ADD(mem->regions[i].gpa, mem->regions[i].size, E820_RAM);
#undef ADD
    return n;
}

/* Identity-map the first 4 GiB with 2 MiB pages (Intel SDM vol. 3A, 4.5). */
static int build_page_tables(const struct guest_mem *mem)
{
    uint64_t *pml4 = guest_mem_ptr(mem, BOOT_PML4_ADDR, 4096);
    uint64_t *pdpt = guest_mem_ptr(mem, BOOT_PDPT_ADDR, 4096);
    uint64_t *pd = guest_mem_ptr(mem, BOOT_PD_ADDR, 4 * 4096);
    if (!pml4 || !pdpt || !pd)
        return -1;
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pml4[0] = BOOT_PDPT_ADDR | 0x3;               /* present, writable */
    for (uint64_t i = 0; i < 4; i++)
        pdpt[i] = (BOOT_PD_ADDR + i * 4096) | 0x3;
    for (uint64_t i = 0; i < 4 * 512; i++)
        pd[i] = (i << 21) | 0x83;                 /* present, writable, 2 MiB page */
    return 0;
}

/* GDT: null, null, code (0x10), data (0x18), as Linux's boot protocol wants. */
static int build_gdt(const struct guest_mem *mem, bool long_mode)
{
    uint64_t *gdt = guest_mem_ptr(mem, BOOT_GDT_ADDR, 4 * 8);
    if (!gdt)
        return -1;
    gdt[0] = 0;
    gdt[1] = 0;
    /* base 0, limit 0xfffff, G=1; code: type 0xb, S, P, and L (64-bit) or D (32-bit). */
    gdt[2] = long_mode ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull;
    gdt[3] = 0x00cf93000000ffffull;
    return 0;
}

static struct hv_segment flat_segment(uint16_t sel, bool code, bool long_mode)
{
    return (struct hv_segment){
        .base = 0, .limit = 0xffffffff, .selector = sel,
        .type = code ? 0xb : 0x3, .present = 1, .dpl = 0,
        .db = (code && long_mode) ? 0 : 1, .s = 1, .l = (code && long_mode) ? 1 : 0, .g = 1,
    };
}

void boot_apply_sregs(const struct boot_result *res, struct hv_sregs *s)
{
    const struct hv_sregs *b = &res->sregs;
    s->cs = b->cs;
    s->ds = b->ds;
    s->es = b->es;
    s->fs = b->fs;
    s->gs = b->gs;
    s->ss = b->ss;
    s->gdt = b->gdt;
    s->idt = b->idt;
    s->cr0 = b->cr0;
    s->cr3 = b->cr3;
    s->cr4 = b->cr4;
    s->efer = b->efer;
    /* A protected-mode entry needs a usable TSS type in TR. */
    s->tr.type = 0xb;
    s->tr.present = 1;
    s->tr.s = 0;
    s->tr.unusable = 0;
    if (!s->tr.limit)
        s->tr.limit = 0xffff;
}

/* Does [start, end) touch the low memory boot data or firmware tables use? */
static bool overlaps_reserved(uint64_t start, uint64_t end)
{
    static const struct { uint64_t start, end; } reserved[] = {
        { BOOT_GDT_ADDR, BOOT_INFO_ADDR + BOOT_INFO_SIZE },
        { BOOT_EBDA_START, 0x100000 },
    };
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (start < reserved[i].end && end > reserved[i].start)
            return true;
    return false;
}

int boot_prepare(const struct guest_mem *mem, const struct boot_request *req,
                 struct boot_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    if (loader_load_kernel(mem, req->kernel, req->kernel_len, req->want, &res->image, err, errlen) < 0)
        return -1;
    struct boot_image *img = &res->image;
    if (overlaps_reserved(img->load_start, img->load_end)) {
        snprintf(err, errlen, "The kernel wants to load at 0x%llx-0x%llx, over memory Hostel uses for "
                 "boot data or firmware tables (below 0x%x, or 0x%x-0x100000); it is not a kernel "
                 "Hostel can boot directly.", (unsigned long long)img->load_start,
                 (unsigned long long)img->load_end, BOOT_INFO_ADDR + BOOT_INFO_SIZE, BOOT_EBDA_START);
        return -1;
    }
    if (req->initrd && req->initrd_len) {
        if (loader_place_initrd(mem, img, req->initrd, req->initrd_len, 0, &res->initrd_addr, err, errlen) < 0)
            return -1;
        if (overlaps_reserved(res->initrd_addr, res->initrd_addr + req->initrd_len)) {
            snprintf(err, errlen, "The initrd does not fit in the VM's memory above the kernel; give it more "
                     "with --memory.");
            return -1;
        }
    }
    struct acpi_config acpi = { .ncpus = req->ncpus, .pci_hole_start = guest_mem_low_size(mem), .hpet = req->hpet };
    res->rsdp = acpi_build_tables(mem, &acpi);
    if (!res->rsdp) {
        snprintf(err, errlen, "The ACPI tables do not fit in the BIOS area; use fewer vCPUs.");
        return -1;
    }
    struct e820_entry e820[16];
    unsigned ne = boot_build_e820(mem, e820, 16);
    struct boot_config cfg = {
        .cmdline = req->cmdline,
        .initrd_addr = res->initrd_addr,
        .initrd_size = req->initrd ? req->initrd_len : 0,
        .e820 = e820,
        .e820_count = ne,
        .acpi_rsdp = res->rsdp,
    };
    bool long_mode = img->kind == BOOT_LINUX64;
    if (build_gdt(mem, long_mode) < 0 || (long_mode && build_page_tables(mem) < 0)) {
        snprintf(err, errlen, "The VM's memory is too small for the boot page tables; give it more with --memory.");
        return -1;
    }
    int rc;
    switch (img->kind) {
    case BOOT_LINUX64:
    case BOOT_LINUX32:
        rc = loader_build_zero_page(mem, img, &cfg, BOOT_INFO_ADDR, BOOT_INFO_SIZE, err, errlen);
        break;
    case BOOT_PVH:
        rc = loader_build_pvh_start_info(mem, img, &cfg, BOOT_INFO_ADDR, BOOT_INFO_SIZE, err, errlen);
        break;
    case BOOT_MULTIBOOT:
        rc = loader_build_multiboot_info(mem, img, &cfg, BOOT_INFO_ADDR, BOOT_INFO_SIZE, err, errlen);
        break;
    default:
        snprintf(err, errlen, "The kernel's boot protocol is not one Hostel can start.");
        rc = -1;
        break;
    }
    if (rc < 0)
        return -1;

    struct hv_sregs *s = &res->sregs;
    s->cs = flat_segment(BOOT_SEL_CODE, true, long_mode);
    s->ds = s->es = s->fs = s->gs = s->ss = flat_segment(BOOT_SEL_DATA, false, long_mode);
    s->gdt = (struct hv_dtable){ BOOT_GDT_ADDR, 4 * 8 - 1 };
    s->idt = (struct hv_dtable){ 0, 0 };
    s->cr0 = 0x1 | 0x10;                          /* PE, ET */
    struct hv_regs *r = &res->regs;
    r->rflags = 0x2;
    r->rip = img->entry;
    switch (img->kind) {
    case BOOT_LINUX64:
        s->cr0 |= 0x80000000u | 0x2 | 0x20 | 0x10000; /* PG, MP, NE, WP */
        s->cr3 = BOOT_PML4_ADDR;
        s->cr4 = 0x20;                            /* PAE */
        s->efer = 0x500;                          /* LME, LMA */
        r->rsi = BOOT_INFO_ADDR;
        break;
    case BOOT_LINUX32:
        r->rsi = BOOT_INFO_ADDR;                  /* ebp, edi, ebx stay 0 */
        break;
    case BOOT_PVH:
        r->rbx = BOOT_INFO_ADDR;
        break;
    case BOOT_MULTIBOOT:
        r->rax = LOADER_MULTIBOOT_EAX;
        r->rbx = BOOT_INFO_ADDR;
        break;
    default:
        break;
    }
    return 0;
}
