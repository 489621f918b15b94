#include "emulate_fake.h"

#include <stdlib.h>
#include <string.h>

static int fake_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    struct fake_guest *g = opaque;
    g->accesses++;
    if (len > g->max_access) {
        g->max_access = len;
    }
    if (gpa >= FAKE_MEM_SIZE || len > FAKE_MEM_SIZE - gpa) {
        return -1;
    }
    memcpy(buf, g->mem + gpa, len);
    return 0;
}

static int fake_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    struct fake_guest *g = opaque;
    g->accesses++;
    if (len > g->max_access) {
        g->max_access = len;
    }
    if (gpa >= FAKE_MEM_SIZE || len > FAKE_MEM_SIZE - gpa) {
        return -1;
    }
    memcpy(g->mem + gpa, buf, len);
    return 0;
}

static void *fake_map_phys(void *opaque, uint64_t gpa, size_t len)
{
    struct fake_guest *g = opaque;
    if (gpa >= FAKE_MEM_SIZE || len > FAKE_MEM_SIZE - gpa) {
        return NULL;
    }
    return g->mem + gpa;
}

const struct x86_emu_ops fake_ops = {
    .read_phys = fake_read, .write_phys = fake_write, .map_phys = fake_map_phys,
};
const struct x86_emu_ops fake_ops_nomap = {
    .read_phys = fake_read, .write_phys = fake_write,
};

uint8_t *fake_phys(struct fake_guest *g, uint64_t gpa)
{
    return g->mem + gpa;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint64_t alloc_table(struct fake_guest *g)
{
    uint64_t t = g->next_table;
    g->next_table += 0x1000;
    memset(g->mem + t, 0, 0x1000);
    return t;
}

/* The entry for virt at level (0 = PT ... 3 = PML4), creating tables down
 * to it. */
static uint64_t entry_at(struct fake_guest *g, uint64_t virt, unsigned level)
{
    uint64_t table = g->cpu.sregs.cr3 & ~0xFFFull;
    for (unsigned l = 3; l > level; l--) {
        uint64_t e_gpa = table + (((virt >> (12 + 9 * l)) & 511) << 3);
        uint64_t e = get64(g->mem + e_gpa);
        if (!(e & FAKE_P) || (e & FAKE_PS)) {
            e = alloc_table(g) | FAKE_P | FAKE_RW | FAKE_US;
            put64(g->mem + e_gpa, e);
        }
        table = e & 0x000FFFFFFFFFF000ull;
    }
    return table + (((virt >> (12 + 9 * level)) & 511) << 3);
}

void fake_map(struct fake_guest *g, uint64_t virt, uint64_t phys, uint64_t flags)
{
    put64(g->mem + entry_at(g, virt, 0), phys | flags | FAKE_P);
}

void fake_map_large(struct fake_guest *g, uint64_t virt, uint64_t phys, uint64_t flags,
                    unsigned level)
{
    put64(g->mem + entry_at(g, virt, level), phys | flags | FAKE_P | FAKE_PS);
}

uint64_t fake_leaf(struct fake_guest *g, uint64_t virt)
{
    uint64_t table = g->cpu.sregs.cr3 & ~0xFFFull;
    for (int l = 3; l >= 0; l--) {
        uint64_t e_gpa = table + (((virt >> (12 + 9 * l)) & 511) << 3);
        uint64_t e = get64(g->mem + e_gpa);
        if (!(e & FAKE_P)) {
            return 0;
        }
        if (l == 0 || (e & FAKE_PS)) {
            return e_gpa;
        }
        table = e & 0x000FFFFFFFFFF000ull;
    }
    return 0;
}

uint8_t *fake_virt(struct fake_guest *g, uint64_t virt)
{
    uint64_t table = g->cpu.sregs.cr3 & ~0xFFFull;
    for (int l = 3; l >= 0; l--) {
        uint64_t e = get64(g->mem + table + (((virt >> (12 + 9 * l)) & 511) << 3));
        if (!(e & FAKE_P)) {
            return NULL;
        }
        if (l == 0 || (e & FAKE_PS)) {
            uint64_t mask = (1ull << (12 + 9 * l)) - 1;
            uint64_t gpa = (e & 0x000FFFFFFFFFF000ull & ~mask) | (virt & mask);
            return gpa < FAKE_MEM_SIZE ? g->mem + gpa : NULL;
        }
        table = e & 0x000FFFFFFFFFF000ull;
    }
    return NULL;
}

void fake_gate(struct fake_guest *g, unsigned vector, uint64_t handler, uint16_t selector,
               unsigned type, unsigned dpl, unsigned ist, bool present)
{
    uint64_t lo = (handler & 0xFFFF) | ((uint64_t)selector << 16) | ((uint64_t)ist << 32) |
                  ((uint64_t)type << 40) | ((uint64_t)dpl << 45) |
                  ((uint64_t)(present ? 1 : 0) << 47) | (((handler >> 16) & 0xFFFF) << 48);
    uint64_t hi = handler >> 32;
    put64(g->mem + PHYS_IDT + vector * 16, lo);
    put64(g->mem + PHYS_IDT + vector * 16 + 8, hi);
}

static void flat(struct hv_segment *s, uint16_t sel, uint8_t type, uint8_t dpl, bool code64)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = 0;
    s->limit = 0xFFFFFFFF;
    s->type = type;
    s->present = 1;
    s->dpl = dpl;
    s->s = 1;
    s->g = 1;
    s->l = code64;
    s->db = !code64;
}

void fake_user_mode(struct fake_guest *g)
{
    flat(&g->cpu.sregs.cs, SEL_UCODE, 0xB, 3, true);
    flat(&g->cpu.sregs.ss, SEL_UDATA, 0x3, 3, false);
}

struct fake_guest *fake_new(void)
{
    struct fake_guest *g = calloc(1, sizeof(*g));
    g->mem = calloc(1, FAKE_MEM_SIZE);
    g->next_table = 0x2000;
    x86_emu_config_default(&g->cfg);
    struct x86_emu_cpu *cpu = &g->cpu;
    cpu->config = &g->cfg;
    struct hv_sregs *sr = &cpu->sregs;
    sr->cr0 = 0x80050033;   /* PG, AM, WP, NE, ET, MP, PE */
    sr->cr3 = 0x1000;
    sr->cr4 = 0x00340620;   /* SMAP, SMEP, OSXSAVE, OSXMMEXCPT, OSFXSR, PAE */
    sr->efer = 0xD01;       /* NXE, LMA, LME, SCE */
    memset(g->mem + 0x1000, 0, 0x1000);

    for (unsigned i = 0; i < 2; i++) {
        fake_map(g, KCODE + i * 0x1000, PHYS_KCODE + i * 0x1000, 0);
    }
    for (unsigned i = 0; i < 16; i++) {
        fake_map(g, KDATA + i * 0x1000, PHYS_KDATA + i * 0x1000, FAKE_RW | FAKE_NX);
    }
    for (unsigned i = 0; i < 4; i++) {
        fake_map(g, UDATA + i * 0x1000, PHYS_UDATA + i * 0x1000, FAKE_RW | FAKE_US | FAKE_NX);
        fake_map(g, KSTACK + i * 0x1000, PHYS_KSTACK + i * 0x1000, FAKE_RW | FAKE_NX);
    }
    for (unsigned i = 0; i < 2; i++) {
        fake_map(g, KIST1 + i * 0x1000, PHYS_IST1 + i * 0x1000, FAKE_RW | FAKE_NX);
    }
    fake_map(g, KRO, PHYS_KRO, FAKE_NX);
    fake_map(g, KEDGE, PHYS_KEDGE, FAKE_RW | FAKE_NX);
    fake_map(g, KIDT, PHYS_IDT, FAKE_NX);
    fake_map(g, KGDT, PHYS_GDT, FAKE_NX);
    fake_map(g, KTSS, PHYS_TSS, FAKE_RW | FAKE_NX);

    /* GDT: null, null, kernel code 64, kernel data, user data, user code 64. */
    put64(g->mem + PHYS_GDT + 0x10, 0x00af9b000000ffffull);
    put64(g->mem + PHYS_GDT + 0x18, 0x00cf93000000ffffull);
    put64(g->mem + PHYS_GDT + 0x20, 0x00cff3000000ffffull);
    put64(g->mem + PHYS_GDT + 0x28, 0x00affb000000ffffull);
    sr->gdt.base = KGDT;
    sr->gdt.limit = 0x3F;
    sr->idt.base = KIDT;
    sr->idt.limit = 0xFFF;
    /* TSS: RSP0 and IST1. */
    put64(g->mem + PHYS_TSS + 4, KSTACK + 0x4000);
    put64(g->mem + PHYS_TSS + 0x24, KIST1 + 0x2000);
    sr->tr.base = KTSS;
    sr->tr.limit = 0x67;
    sr->tr.selector = 0x40;
    sr->tr.type = 0xB;
    sr->tr.present = 1;

    flat(&sr->cs, SEL_KCODE, 0xB, 0, true);
    flat(&sr->ss, SEL_KDATA, 0x3, 0, false);
    flat(&sr->ds, 0, 0x3, 0, false);
    flat(&sr->es, 0, 0x3, 0, false);
    flat(&sr->fs, 0, 0x3, 0, false);
    flat(&sr->gs, 0, 0x3, 0, false);

    cpu->regs.rip = KCODE;
    cpu->regs.rsp = KSTACK + 0x3000;
    cpu->regs.rflags = 0x2;
    cpu->xcrs.xcr0 = 0x7;
    /* The image of a freshly reset FPU: everything in its initial state. */
    cpu->xsave.region[0] = 0x7F;
    cpu->xsave.region[1] = 0x03;
    cpu->xsave.region[24] = 0x80;
    cpu->xsave.region[25] = 0x1F;
    return g;
}

void fake_free(struct fake_guest *g)
{
    if (g) {
        free(g->mem);
        free(g);
    }
}

enum x86_emu_result fake_run(struct fake_guest *g, const uint8_t *bytes, size_t len,
                             struct x86_emu_report *rep)
{
    return x86_emulate(&g->cpu, &fake_ops, g, bytes, len, rep);
}
