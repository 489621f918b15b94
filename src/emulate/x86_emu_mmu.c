/* Guest memory as the guest's CPU sees it: segmentation (limits, types,
 * canonical addresses), then paging — 32-bit (with PSE/PSE-36), PAE, 4-level
 * and 5-level — with present/write/user/NX/SMEP/SMAP/reserved-bit checks,
 * #PF error codes, and accessed/dirty bit updates. Intel SDM vol. 3 ch. 3-5.
 *
 * Protection keys (CR4.PKE/PKS) are not checked: the guests Hostel targets do
 * not depend on them in kernel paths that the nested host fails to emulate.
 */
#include "x86_emu_internal.h"

enum x86_emu_result x86_emu_raise(struct x86_emu_ctx *ctx, uint8_t vector, bool has_error,
                                  uint32_t error_code)
{
    struct x86_emu_exception *e = &ctx->report->exception;
    memset(e, 0, sizeof(*e));
    e->vector = vector;
    e->has_error_code = has_error;
    e->error_code = has_error ? error_code : 0;
    e->kind = X86_EMU_EVENT_FAULT;
    return X86_EMU_EXCEPTION;
}

uint64_t *x86_emu_gpr(struct hv_regs *regs, unsigned n)
{
    switch (n & 15) {
    case 0: return &regs->rax;
    case 1: return &regs->rcx;
    case 2: return &regs->rdx;
    case 3: return &regs->rbx;
    case 4: return &regs->rsp;
    case 5: return &regs->rbp;
    case 6: return &regs->rsi;
    case 7: return &regs->rdi;
    case 8: return &regs->r8;
    case 9: return &regs->r9;
    case 10: return &regs->r10;
    case 11: return &regs->r11;
    case 12: return &regs->r12;
    case 13: return &regs->r13;
    case 14: return &regs->r14;
    default: return &regs->r15;
    }
}

struct hv_segment *x86_emu_mmu_segment(struct x86_emu_cpu *cpu, unsigned seg)
{
    switch (seg) {
    case X86_SEG_ES: return &cpu->sregs.es;
    case X86_SEG_CS: return &cpu->sregs.cs;
    case X86_SEG_SS: return &cpu->sregs.ss;
    case X86_SEG_FS: return &cpu->sregs.fs;
    case X86_SEG_GS: return &cpu->sregs.gs;
    default: return &cpu->sregs.ds;
    }
}

bool x86_emu_canonical(const struct x86_emu_cpu *cpu, uint64_t linear)
{
    unsigned bits = (cpu->sregs.cr4 & X86_CR4_LA57) ? 57 : 48;
    unsigned shift = 64 - bits;
    return (uint64_t)((int64_t)(linear << shift) >> shift) == linear;
}

/* offset..offset+len-1 lies within [lo, hi] (no wrap-around). */
static bool in_range(uint64_t offset, size_t len, uint64_t lo, uint64_t hi)
{
    if (len == 0) {
        return offset >= lo && offset <= hi + 1;
    }
    return offset >= lo && offset <= hi && len - 1 <= hi - offset;
}

enum x86_emu_result x86_emu_mmu_linear_seg(struct x86_emu_ctx *ctx, const struct hv_segment *s,
                                           uint8_t fault_vector, uint32_t fault_code,
                                           uint64_t offset, size_t len, unsigned acc,
                                           uint64_t *linear)
{
    unsigned kind = acc & X86_ACC_KIND;
    bool legacy = ctx->mode == X86_EMU_MODE_REAL || ctx->mode == X86_EMU_MODE_VM86;
    if (!legacy) {
        if (s->unusable || !s->present || !s->s) {
            return x86_emu_raise(ctx, fault_vector, true, fault_code);
        }
        if (s->type & 8) {
            /* Code segment: never writable, readable only with R. */
            if (kind == X86_ACC_WRITE || (kind == X86_ACC_READ && !(s->type & 2))) {
                return x86_emu_raise(ctx, fault_vector, true, fault_code);
            }
        } else {
            if (kind == X86_ACC_FETCH || (kind == X86_ACC_WRITE && !(s->type & 2))) {
                return x86_emu_raise(ctx, fault_vector, true, fault_code);
            }
        }
    }
    bool ok;
    if (!legacy && !(s->type & 8) && (s->type & 4)) {
        /* Expand-down: valid offsets lie above the limit. */
        uint64_t upper = s->db ? 0xFFFFFFFFull : 0xFFFFull;
        ok = offset > s->limit && in_range(offset, len, (uint64_t)s->limit + 1, upper);
    } else {
        ok = in_range(offset, len, 0, s->limit);
    }
    if (!ok) {
        return x86_emu_raise(ctx, fault_vector, true, fault_code);
    }
    *linear = (s->base + offset) & 0xFFFFFFFFull;
    return X86_EMU_OK;
}

enum x86_emu_result x86_emu_mmu_linear(struct x86_emu_ctx *ctx, unsigned seg, uint64_t offset,
                                       size_t len, unsigned acc, uint64_t *linear)
{
    uint8_t vector = seg == X86_SEG_SS ? X86_EXC_SS : X86_EXC_GP;
    struct hv_segment *s = x86_emu_mmu_segment(ctx->cpu, seg);
    if (ctx->mode == X86_EMU_MODE_LONG64) {
        /* 64-bit mode: flat, except the FS/GS bases; addresses must be
         * canonical at both ends. */
        uint64_t base = (seg == X86_SEG_FS || seg == X86_SEG_GS) ? s->base : 0;
        uint64_t lin = base + offset;
        uint64_t last = lin + (len ? len - 1 : 0);
        if (!x86_emu_canonical(ctx->cpu, lin) || !x86_emu_canonical(ctx->cpu, last) ||
            last < lin) {
            return x86_emu_raise(ctx, vector, true, 0);
        }
        *linear = lin;
        return X86_EMU_OK;
    }
    return x86_emu_mmu_linear_seg(ctx, s, vector, 0, offset, len, acc, linear);
}

static uint64_t phys_mask(const struct x86_emu_ctx *ctx)
{
    unsigned bits = ctx->cfg->phys_addr_bits;
    if (bits < 32 || bits > 52) {
        bits = 52;
    }
    return ((1ull << bits) - 1) & ~0xFFFull;
}

static enum x86_emu_result read_entry(struct x86_emu_ctx *ctx, uint64_t gpa, unsigned size,
                                      uint64_t *entry)
{
    uint64_t value = 0;
    if (ctx->ops->read_phys(ctx->opaque, gpa, &value, size) != 0) {
        ctx->report->mem_gpa = gpa;
        return X86_EMU_MEM_ERROR;
    }
    *entry = value;
    return X86_EMU_OK;
}

/* Set accessed/dirty bits in a paging-structure entry. With map_phys this is
 * an atomic OR, as the CPU's own update is (other vCPUs share the tables). */
static void set_entry_bits(struct x86_emu_ctx *ctx, uint64_t gpa, unsigned size, uint64_t bits)
{
    void *p = ctx->ops->map_phys ? ctx->ops->map_phys(ctx->opaque, gpa, size) : NULL;
    if (p && ((uintptr_t)p & (size - 1)) == 0) {
        if (size == 8) {
            __atomic_fetch_or((uint64_t *)p, bits, __ATOMIC_SEQ_CST);
        } else {
            __atomic_fetch_or((uint32_t *)p, (uint32_t)bits, __ATOMIC_SEQ_CST);
        }
        return;
    }
    uint64_t value = 0;
    if (ctx->ops->read_phys(ctx->opaque, gpa, &value, size) == 0) {
        value |= bits;
        ctx->ops->write_phys(ctx->opaque, gpa, &value, size);
    }
}

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)

struct walk {
    uint64_t entry_gpa[5];
    uint64_t entry[5];
    bool has_a[5];          /* the entry has an accessed bit (PAE PDPTEs do not) */
    unsigned n;
    unsigned entry_size;
};

static enum x86_emu_result page_fault(struct x86_emu_ctx *ctx, uint64_t linear, uint32_t code)
{
    x86_emu_raise(ctx, X86_EXC_PF, true, code);
    ctx->report->exception.cr2 = linear;
    return X86_EMU_EXCEPTION;
}

enum x86_emu_result x86_emu_mmu_translate(struct x86_emu_ctx *ctx, uint64_t linear,
                                          unsigned acc, uint64_t *gpa)
{
    const struct hv_sregs *sr = &ctx->cpu->sregs;
    bool lma = (sr->efer & X86_EFER_LMA) != 0;
    if (!(sr->cr0 & X86_CR0_PG)) {
        *gpa = lma ? linear : (linear & 0xFFFFFFFFull);
        return X86_EMU_OK;
    }
    unsigned kind = acc & X86_ACC_KIND;
    bool write = kind == X86_ACC_WRITE, fetch = kind == X86_ACC_FETCH;
    bool user = (acc & X86_ACC_USER) != 0;
    bool pae = (sr->cr4 & X86_CR4_PAE) != 0;
    bool nxe = pae && (sr->efer & X86_EFER_NXE);
    uint64_t pmask = phys_mask(ctx);

    uint32_t code = (write ? X86_PF_W : 0) | (user ? X86_PF_U : 0);
    if (fetch && (nxe || (sr->cr4 & X86_CR4_SMEP))) {
        code |= X86_PF_I;
    }

    struct walk w = { .n = 0 };
    bool rw = true, us = true, nx = false;
    uint64_t frame, offset_mask;

    if (!pae) {
        /* 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE. */
        linear &= 0xFFFFFFFFull;
        w.entry_size = 4;
        uint64_t table = sr->cr3 & 0xFFFFF000ull;
        uint64_t pde_gpa = table + ((linear >> 22) << 2);
        uint64_t pde;
        enum x86_emu_result r = read_entry(ctx, pde_gpa, 4, &pde);
        if (r != X86_EMU_OK) {
            return r;
        }
        if (!(pde & PTE_P)) {
            return page_fault(ctx, linear, code);
        }
        w.entry_gpa[w.n] = pde_gpa;
        w.entry[w.n] = pde;
        w.has_a[w.n++] = true;
        rw = rw && (pde & PTE_RW);
        us = us && (pde & PTE_US);
        if ((pde & PTE_PS) && (sr->cr4 & X86_CR4_PSE)) {
            /* PSE-36: PDE bits 20:13 are physical address bits 39:32. */
            uint64_t high = ((pde >> 13) & 0xFF) << 32;
            if ((pde & (1ull << 21)) || (high & ~(pmask | 0xFFFull))) {
                return page_fault(ctx, linear, code | X86_PF_P | X86_PF_RSVD);
            }
            frame = (pde & 0xFFC00000ull) | high;
            offset_mask = 0x3FFFFF;
        } else {
            uint64_t pte_gpa = (pde & 0xFFFFF000ull) + (((linear >> 12) & 0x3FF) << 2);
            uint64_t pte;
            r = read_entry(ctx, pte_gpa, 4, &pte);
            if (r != X86_EMU_OK) {
                return r;
            }
            if (!(pte & PTE_P)) {
                return page_fault(ctx, linear, code);
            }
            w.entry_gpa[w.n] = pte_gpa;
            w.entry[w.n] = pte;
            w.has_a[w.n++] = true;
            rw = rw && (pte & PTE_RW);
            us = us && (pte & PTE_US);
            frame = pte & 0xFFFFF000ull;
            offset_mask = 0xFFF;
        }
    } else {
        w.entry_size = 8;
        /* Bits reserved in every 8-byte entry: above MAXPHYADDR (up to bit
         * 51), and NX when EFER.NXE is clear. */
        uint64_t rsvd = (~pmask & 0x000FFFFFFFFFF000ull) | (nxe ? 0 : PTE_NX);
        unsigned levels;
        uint64_t table;
        if (lma) {
            levels = (sr->cr4 & X86_CR4_LA57) ? 5 : 4;
            table = sr->cr3 & pmask;
        } else {
            /* PAE: the 4-entry PDPT, whose entries carry no R/W, U/S, A. */
            linear &= 0xFFFFFFFFull;
            uint64_t pdpte_gpa = (sr->cr3 & 0xFFFFFFE0ull) + ((linear >> 30) << 3);
            uint64_t pdpte;
            enum x86_emu_result r = read_entry(ctx, pdpte_gpa, 8, &pdpte);
            if (r != X86_EMU_OK) {
                return r;
            }
            if (!(pdpte & PTE_P)) {
                return page_fault(ctx, linear, code);
            }
            if (pdpte & ((~pmask & 0x000FFFFFFFFFF000ull) | PTE_NX | 0x1E6ull)) {
                return page_fault(ctx, linear, code | X86_PF_P | X86_PF_RSVD);
            }
            w.entry_gpa[w.n] = pdpte_gpa;
            w.entry[w.n] = pdpte;
            w.has_a[w.n++] = false;
            levels = 2;
            table = pdpte & pmask;
        }
        frame = 0;
        offset_mask = 0xFFF;
        for (int level = (int)levels - 1; level >= 0; level--) {
            unsigned shift = 12 + 9 * (unsigned)level;
            uint64_t entry_gpa = table + (((linear >> shift) & 511) << 3);
            uint64_t entry;
            enum x86_emu_result r = read_entry(ctx, entry_gpa, 8, &entry);
            if (r != X86_EMU_OK) {
                return r;
            }
            if (!(entry & PTE_P)) {
                return page_fault(ctx, linear, code);
            }
            bool leaf = level == 0 || (entry & PTE_PS);
            uint64_t bad = entry & rsvd;
            if ((entry & PTE_PS) && level >= 3) {
                bad |= PTE_PS;      /* no pages at the PML4/PML5 level */
            } else if ((entry & PTE_PS) && level == 2) {
                bad |= entry & 0x3FFFE000ull;  /* 1 GiB page: bits 29:13 */
            } else if ((entry & PTE_PS) && level == 1) {
                bad |= entry & 0x1FE000ull;    /* 2 MiB page: bits 20:13 */
            }
            if (bad) {
                return page_fault(ctx, linear, code | X86_PF_P | X86_PF_RSVD);
            }
            w.entry_gpa[w.n] = entry_gpa;
            w.entry[w.n] = entry;
            w.has_a[w.n++] = true;
            rw = rw && (entry & PTE_RW);
            us = us && (entry & PTE_US);
            nx = nx || (nxe && (entry & PTE_NX));
            if (leaf) {
                offset_mask = (1ull << shift) - 1;
                frame = entry & pmask & ~offset_mask;
                break;
            }
            table = entry & pmask;
        }
    }

    /* Access rights (SDM vol. 3 4.6). */
    uint32_t prot = code | X86_PF_P;
    if (user) {
        if (!us || (write && !rw) || (fetch && nx)) {
            return page_fault(ctx, linear, prot);
        }
    } else if (fetch) {
        if (nx || (us && (sr->cr4 & X86_CR4_SMEP))) {
            return page_fault(ctx, linear, prot);
        }
    } else {
        if (write && !rw && (sr->cr0 & X86_CR0_WP)) {
            return page_fault(ctx, linear, prot);
        }
        bool ac = (ctx->cpu->regs.rflags & X86_RFLAGS_AC) != 0;
        if (us && (sr->cr4 & X86_CR4_SMAP) && (!ac || (acc & X86_ACC_IMPLICIT))) {
            return page_fault(ctx, linear, prot);
        }
    }

    for (unsigned i = 0; i < w.n; i++) {
        if (!w.has_a[i]) {
            continue;
        }
        uint64_t bits = 0;
        if (!(w.entry[i] & PTE_A)) {
            bits |= PTE_A;
        }
        if (i == w.n - 1 && write && !(w.entry[i] & PTE_D)) {
            bits |= PTE_D;
        }
        if (bits) {
            set_entry_bits(ctx, w.entry_gpa[i], w.entry_size, bits);
        }
    }
    *gpa = frame | (linear & offset_mask);
    return X86_EMU_OK;
}

struct range {
    uint64_t gpa[4];
    size_t len[4];
    unsigned n;
};

/* Translate every page of [linear, linear+len) before anything is accessed. */
static enum x86_emu_result translate_range(struct x86_emu_ctx *ctx, uint64_t linear, size_t len,
                                           unsigned acc, struct range *rg)
{
    rg->n = 0;
    if (len > X86_EMU_MAX_ACCESS) {
        return X86_EMU_UNKNOWN;     /* no emulated instruction accesses more */
    }
    /* Outside long mode linear addresses are 32 bits and wrap. (Event
     * delivery from compatibility mode uses 64-bit addresses.) */
    uint64_t wrap = (ctx->cpu->sregs.efer & X86_EFER_LMA) ? ~0ull : 0xFFFFFFFFull;
    size_t done = 0;
    while (done < len && rg->n < 4) {
        uint64_t lin = (linear + done) & wrap;
        size_t chunk = 4096 - (size_t)(lin & 0xFFF);
        if (chunk > len - done) {
            chunk = len - done;
        }
        enum x86_emu_result r = x86_emu_mmu_translate(ctx, lin, acc, &rg->gpa[rg->n]);
        if (r != X86_EMU_OK) {
            return r;
        }
        rg->len[rg->n++] = chunk;
        done += chunk;
    }
    return done == len ? X86_EMU_OK : X86_EMU_UNKNOWN;
}

static enum x86_emu_result read_range(struct x86_emu_ctx *ctx, const struct range *rg,
                                      uint8_t *buf)
{
    size_t off = 0;
    for (unsigned i = 0; i < rg->n; i++) {
        if (ctx->ops->read_phys(ctx->opaque, rg->gpa[i], buf + off, rg->len[i]) != 0) {
            ctx->report->mem_gpa = rg->gpa[i];
            return X86_EMU_MEM_ERROR;
        }
        off += rg->len[i];
    }
    return X86_EMU_OK;
}

static enum x86_emu_result write_range(struct x86_emu_ctx *ctx, const struct range *rg,
                                       const uint8_t *buf)
{
    size_t off = 0;
    for (unsigned i = 0; i < rg->n; i++) {
        if (ctx->ops->write_phys(ctx->opaque, rg->gpa[i], buf + off, rg->len[i]) != 0) {
            ctx->report->mem_gpa = rg->gpa[i];
            return X86_EMU_MEM_ERROR;
        }
        off += rg->len[i];
    }
    return X86_EMU_OK;
}

enum x86_emu_result x86_emu_mmu_read(struct x86_emu_ctx *ctx, uint64_t linear, void *buf,
                                     size_t len, unsigned acc)
{
    struct range rg;
    enum x86_emu_result r = translate_range(ctx, linear, len, acc, &rg);
    if (r != X86_EMU_OK) {
        return r;
    }
    return read_range(ctx, &rg, buf);
}

enum x86_emu_result x86_emu_mmu_write(struct x86_emu_ctx *ctx, uint64_t linear,
                                      const void *buf, size_t len, unsigned acc)
{
    struct range rg;
    enum x86_emu_result r = translate_range(ctx, linear, len,
                                            (acc & ~X86_ACC_KIND) | X86_ACC_WRITE, &rg);
    if (r != X86_EMU_OK) {
        return r;
    }
    return write_range(ctx, &rg, buf);
}

#if defined(__x86_64__)
static bool host_cmpxchg16(void *p, const uint8_t *expected, const uint8_t *desired,
                           uint8_t *old)
{
    uint64_t lo = x86_emu_get64(expected), hi = x86_emu_get64(expected + 8);
    uint64_t new_lo = x86_emu_get64(desired), new_hi = x86_emu_get64(desired + 8);
    bool equal;
    __asm__ volatile("lock cmpxchg16b %1"
                     : "=@ccz"(equal), "+m"(*(volatile unsigned __int128 *)p), "+a"(lo), "+d"(hi)
                     : "b"(new_lo), "c"(new_hi)
                     : "memory");
    x86_emu_put64(old, lo);
    x86_emu_put64(old + 8, hi);
    return equal;
}
#endif

enum x86_emu_result x86_emu_mmu_cmpxchg(struct x86_emu_ctx *ctx, uint64_t linear,
                                        const void *expected, const void *desired,
                                        void *old, size_t len, unsigned acc, bool *equal)
{
    /* The destination is written (back) whether or not the comparison
     * succeeds, so it must be writable either way. */
    struct range rg;
    enum x86_emu_result r = translate_range(ctx, linear, len,
                                            (acc & ~X86_ACC_KIND) | X86_ACC_WRITE, &rg);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (rg.n == 1 && ctx->ops->map_phys && (len == 8 || len == 16)) {
        void *p = ctx->ops->map_phys(ctx->opaque, rg.gpa[0], len);
        if (p && ((uintptr_t)p & (len - 1)) == 0) {
            if (len == 8) {
                uint64_t exp = x86_emu_get64(expected);
                *equal = __atomic_compare_exchange_n((uint64_t *)p, &exp,
                                                     x86_emu_get64(desired), false,
                                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
                x86_emu_put64(old, exp);
                return X86_EMU_OK;
            }
#if defined(__x86_64__)
            *equal = host_cmpxchg16(p, expected, desired, old);
            return X86_EMU_OK;
#endif
        }
    }
    /* Not mappable (or not aligned on the host): not atomic against other
     * vCPUs, which only matters for memory they share through this page. */
    uint8_t cur[16];
    if (len > sizeof(cur)) {
        return X86_EMU_UNKNOWN;
    }
    r = read_range(ctx, &rg, cur);
    if (r != X86_EMU_OK) {
        return r;
    }
    memcpy(old, cur, len);
    *equal = memcmp(cur, expected, len) == 0;
    if (*equal) {
        return write_range(ctx, &rg, desired);
    }
    return X86_EMU_OK;
}
