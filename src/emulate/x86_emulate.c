/* The emulator's entry point: mode and privilege, configuration, the
 * instruction dispatch, the small instructions (INT3, INT n, INTO, FWAIT,
 * CLAC/STAC, POPCNT, CMPXCHG8B/16B, fences) and the user-facing sentences.
 * The XSAVE family lives in x86_emu_xsave.c, event delivery in
 * x86_emu_deliver.c.
 */
#include "x86_emu_internal.h"

#include <stdio.h>

enum x86_emu_mode x86_emu_cpu_mode(const struct x86_emu_cpu *cpu)
{
    const struct hv_sregs *sr = &cpu->sregs;
    if (!(sr->cr0 & X86_CR0_PE)) {
        return X86_EMU_MODE_REAL;
    }
    if (sr->efer & X86_EFER_LMA) {
        if (sr->cs.l) {
            return X86_EMU_MODE_LONG64;
        }
        return sr->cs.db ? X86_EMU_MODE_COMPAT32 : X86_EMU_MODE_COMPAT16;
    }
    if (cpu->regs.rflags & X86_RFLAGS_VM) {
        return X86_EMU_MODE_VM86;
    }
    return sr->cs.db ? X86_EMU_MODE_PROT32 : X86_EMU_MODE_PROT16;
}

unsigned x86_emu_cpu_cpl(const struct x86_emu_cpu *cpu)
{
    switch (x86_emu_cpu_mode(cpu)) {
    case X86_EMU_MODE_REAL:
        return 0;
    case X86_EMU_MODE_VM86:
        return 3;
    default:
        /* KVM keeps the CPL in SS.DPL (as VMX does); CS.DPL can differ for
         * conforming code segments. */
        return cpu->sregs.ss.dpl & 3;
    }
}

void x86_emu_config_default(struct x86_emu_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->features = X86_EMU_FEAT_FXSR | X86_EMU_FEAT_XSAVE | X86_EMU_FEAT_XSAVEOPT |
                    X86_EMU_FEAT_XSAVEC | X86_EMU_FEAT_XGETBV1 | X86_EMU_FEAT_XSAVES |
                    X86_EMU_FEAT_POPCNT | X86_EMU_FEAT_CX8 | X86_EMU_FEAT_CX16 |
                    X86_EMU_FEAT_SMAP | X86_EMU_FEAT_SSE;
    cfg->xcr0_supported = 0x7;      /* x87, SSE, AVX */
    cfg->xss_supported = 0;
    cfg->mxcsr_mask = 0xFFFF;
    cfg->phys_addr_bits = 52;       /* most permissive: no false reserved-bit faults */
    /* The standard-format layout every Intel and AMD CPU uses so far. */
    static const struct { unsigned i; uint32_t size, offset; } layout[] = {
        { 2, 256, 576 },    /* AVX: YMM_Hi128 */
        { 3, 64, 960 },     /* MPX: BNDREGS */
        { 4, 64, 1024 },    /* MPX: BNDCSR */
        { 5, 64, 1088 },    /* AVX-512: opmask */
        { 6, 512, 1152 },   /* AVX-512: ZMM_Hi256 */
        { 7, 1024, 1664 },  /* AVX-512: Hi16_ZMM */
        { 9, 8, 2688 },     /* PKRU */
    };
    for (size_t k = 0; k < sizeof(layout) / sizeof(layout[0]); k++) {
        cfg->xstate[layout[k].i].size = layout[k].size;
        cfg->xstate[layout[k].i].offset = layout[k].offset;
    }
}

static const struct hv_cpuid_entry *cpuid_find(const struct hv_cpuid *cpuid, uint32_t function,
                                               uint32_t index)
{
    unsigned n = cpuid->nent < HV_CPUID_MAX_ENTRIES ? cpuid->nent : HV_CPUID_MAX_ENTRIES;
    for (unsigned k = 0; k < n; k++) {
        const struct hv_cpuid_entry *e = &cpuid->entries[k];
        if (e->function != function) {
            continue;
        }
        /* Leaves 7 and 0xD are indexed even if a table forgot the flag. */
        bool indexed = (e->flags & HV_CPUID_FLAG_SIGNIFICANT_INDEX) || function == 7 ||
                       function == 0xD;
        if (!indexed || e->index == index) {
            return e;
        }
    }
    return NULL;
}

void x86_emu_config_from_cpuid(struct x86_emu_config *cfg, const struct hv_cpuid *cpuid)
{
    x86_emu_config_default(cfg);
    cfg->features = 0;
    cfg->xcr0_supported = 0x1;
    const struct hv_cpuid_entry *e = cpuid_find(cpuid, 1, 0);
    if (e) {
        if (e->ecx & (1u << 23)) cfg->features |= X86_EMU_FEAT_POPCNT;
        if (e->ecx & (1u << 13)) cfg->features |= X86_EMU_FEAT_CX16;
        if (e->ecx & (1u << 26)) cfg->features |= X86_EMU_FEAT_XSAVE;
        if (e->edx & (1u << 8)) cfg->features |= X86_EMU_FEAT_CX8;
        if (e->edx & (1u << 24)) cfg->features |= X86_EMU_FEAT_FXSR;
        if (e->edx & (1u << 25)) cfg->features |= X86_EMU_FEAT_SSE;
    }
    e = cpuid_find(cpuid, 7, 0);
    if (e && (e->ebx & (1u << 20))) {
        cfg->features |= X86_EMU_FEAT_SMAP;
    }
    e = cpuid_find(cpuid, 0xD, 0);
    if (e) {
        cfg->xcr0_supported = e->eax | ((uint64_t)e->edx << 32) | 1;
    }
    e = cpuid_find(cpuid, 0xD, 1);
    if (e) {
        if (e->eax & 1) cfg->features |= X86_EMU_FEAT_XSAVEOPT;
        if (e->eax & 2) cfg->features |= X86_EMU_FEAT_XSAVEC;
        if (e->eax & 4) cfg->features |= X86_EMU_FEAT_XGETBV1;
        if (e->eax & 8) cfg->features |= X86_EMU_FEAT_XSAVES;
        cfg->xss_supported = e->ecx | ((uint64_t)e->edx << 32);
    }
    for (unsigned i = 2; i < X86_EMU_XSTATE_MAX; i++) {
        e = cpuid_find(cpuid, 0xD, i);
        if (e && e->eax) {
            cfg->xstate[i].size = e->eax;
            cfg->xstate[i].offset = e->ebx;
            cfg->xstate[i].supervisor = (e->ecx & 1) != 0;
            cfg->xstate[i].align64 = (e->ecx & 2) != 0;
        }
    }
    e = cpuid_find(cpuid, 0x80000008, 0);
    if (e && (e->eax & 0xFF) >= 32 && (e->eax & 0xFF) <= 52) {
        cfg->phys_addr_bits = (uint8_t)(e->eax & 0xFF);
    }
}

/* ---- instructions ---- */

static enum x86_emu_result soft_event(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d,
                                      uint8_t vector, enum x86_emu_event_kind kind)
{
    x86_emu_raise(ctx, vector, false, 0);
    struct x86_emu_exception *e = &ctx->report->exception;
    e->kind = kind;
    e->is_soft = true;
    e->insn_len = d->len;
    return X86_EMU_EXCEPTION;
}

static enum x86_emu_result emu_int(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d)
{
    uint64_t iopl = (ctx->cpu->regs.rflags & X86_RFLAGS_IOPL) >> 12;
    if (d->lock) {
        return x86_emu_raise_ud(ctx);
    }
    switch (d->opcode) {
    case 0xCC:
        return soft_event(ctx, d, X86_EXC_BP, X86_EMU_EVENT_SOFT_EXCEPTION);
    case 0xCD:
        /* Virtual-8086 INT n is IOPL-sensitive (VME redirection is not
         * emulated). */
        if (ctx->mode == X86_EMU_MODE_VM86 && iopl < 3) {
            return x86_emu_raise_gp0(ctx);
        }
        return soft_event(ctx, d, (uint8_t)d->imm, X86_EMU_EVENT_SOFT_INT);
    default: /* 0xCE INTO */
        if (ctx->mode == X86_EMU_MODE_LONG64) {
            return x86_emu_raise_ud(ctx);
        }
        if (ctx->cpu->regs.rflags & X86_RFLAGS_OF) {
            return soft_event(ctx, d, X86_EXC_OF, X86_EMU_EVENT_SOFT_EXCEPTION);
        }
        return X86_EMU_OK;
    }
}

static enum x86_emu_result emu_fwait(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d)
{
    uint64_t cr0 = ctx->cpu->sregs.cr0;
    if (d->lock) {
        return x86_emu_raise_ud(ctx);
    }
    if ((cr0 & X86_CR0_TS) && (cr0 & X86_CR0_MP)) {
        return x86_emu_raise(ctx, X86_EXC_NM, false, 0);
    }
    /* A pending unmasked x87 exception (FSW.ES) is reported now as #MF when
     * CR0.NE selects native reporting; the legacy FERR# path is ignored. */
    const uint8_t *img = ctx->cpu->xsave.region;
    bool x87_in_use = (x86_emu_get64(img + X86_XSAVE_HDR) & 1) != 0;
    if (x87_in_use && (x86_emu_get16(img + 2) & 0x80) && (cr0 & X86_CR0_NE)) {
        return x86_emu_raise(ctx, X86_EXC_MF, false, 0);
    }
    return X86_EMU_OK;
}

static enum x86_emu_result emu_clac_stac(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d,
                                         bool set)
{
    if (d->lock || !(ctx->cfg->features & X86_EMU_FEAT_SMAP) || ctx->cpl > 0) {
        return x86_emu_raise_ud(ctx);
    }
    if (set) {
        ctx->cpu->regs.rflags |= X86_RFLAGS_AC;
    } else {
        ctx->cpu->regs.rflags &= ~X86_RFLAGS_AC;
    }
    return X86_EMU_OK;
}

static void write_reg(struct hv_regs *regs, unsigned n, unsigned size, uint64_t value)
{
    uint64_t *r = x86_emu_gpr(regs, n);
    switch (size) {
    case 2:
        *r = (*r & ~0xFFFFull) | (value & 0xFFFF);
        break;
    case 4:
        *r = value & 0xFFFFFFFFull;    /* 32-bit writes zero-extend */
        break;
    default:
        *r = value;
        break;
    }
}

static enum x86_emu_result emu_popcnt(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d)
{
    if (d->lock || !(ctx->cfg->features & X86_EMU_FEAT_POPCNT)) {
        return x86_emu_raise_ud(ctx);
    }
    unsigned size = d->opsize;
    uint64_t mask = size == 8 ? ~0ull : ((1ull << (8 * size)) - 1);
    uint64_t src;
    if (d->mod == 3) {
        src = *x86_emu_gpr(&ctx->cpu->regs, d->rm);
    } else {
        uint64_t linear;
        uint8_t buf[8] = { 0 };
        enum x86_emu_result r = x86_emu_mmu_linear(ctx, d->mem_seg, d->mem_ea, size,
                                                   X86_ACC_READ, &linear);
        if (r == X86_EMU_OK) {
            r = x86_emu_mmu_read(ctx, linear, buf, size, X86_ACC_READ | x86_emu_acc_user(ctx));
        }
        if (r != X86_EMU_OK) {
            return r;
        }
        src = x86_emu_get64(buf);
    }
    src &= mask;
    write_reg(&ctx->cpu->regs, d->reg, size, (uint64_t)__builtin_popcountll(src));
    uint64_t *fl = &ctx->cpu->regs.rflags;
    *fl &= ~(X86_RFLAGS_OF | X86_RFLAGS_SF | X86_RFLAGS_ZF | X86_RFLAGS_AF | X86_RFLAGS_CF |
             X86_RFLAGS_PF);
    if (src == 0) {
        *fl |= X86_RFLAGS_ZF;
    }
    return X86_EMU_OK;
}

static enum x86_emu_result emu_cmpxchg8b16b(struct x86_emu_ctx *ctx,
                                            const struct x86_emu_insn *d)
{
    struct hv_regs *regs = &ctx->cpu->regs;
    bool wide = (d->rex & 8) != 0;
    if (d->mod == 3) {
        return x86_emu_raise_ud(ctx);
    }
    if (!(ctx->cfg->features & (wide ? X86_EMU_FEAT_CX16 : X86_EMU_FEAT_CX8))) {
        return x86_emu_raise_ud(ctx);
    }
    size_t n = wide ? 16 : 8;
    uint64_t linear;
    enum x86_emu_result r = x86_emu_mmu_linear(ctx, d->mem_seg, d->mem_ea, n, X86_ACC_WRITE,
                                               &linear);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (wide && (linear & 15)) {
        return x86_emu_raise_gp0(ctx);
    }
    uint8_t expected[16], desired[16], old[16];
    if (wide) {
        x86_emu_put64(expected, regs->rax);
        x86_emu_put64(expected + 8, regs->rdx);
        x86_emu_put64(desired, regs->rbx);
        x86_emu_put64(desired + 8, regs->rcx);
    } else {
        x86_emu_put32(expected, (uint32_t)regs->rax);
        x86_emu_put32(expected + 4, (uint32_t)regs->rdx);
        x86_emu_put32(desired, (uint32_t)regs->rbx);
        x86_emu_put32(desired + 4, (uint32_t)regs->rcx);
    }
    bool equal = false;
    r = x86_emu_mmu_cmpxchg(ctx, linear, expected, desired, old, n, x86_emu_acc_user(ctx),
                            &equal);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (equal) {
        regs->rflags |= X86_RFLAGS_ZF;
    } else {
        regs->rflags &= ~X86_RFLAGS_ZF;
        if (wide) {
            regs->rax = x86_emu_get64(old);
            regs->rdx = x86_emu_get64(old + 8);
        } else {
            regs->rax = x86_emu_get32(old);
            regs->rdx = x86_emu_get32(old + 4);
        }
    }
    return X86_EMU_OK;
}

/* 0F 01 with a register ModRM: the byte as a whole selects the instruction. */
static uint8_t modrm_byte(const struct x86_emu_insn *d)
{
    return (uint8_t)((d->mod << 6) | ((d->reg & 7) << 3) | (d->rm & 7));
}

static const char *mnemonic(const struct x86_emu_insn *d)
{
    if (d->map == 0) {
        switch (d->opcode) {
        case 0xCC: return "int3";
        case 0xCD: return "int";
        case 0xCE: return "into";
        case 0x9B: return "fwait";
        default: return NULL;
        }
    }
    if (d->map != 1) {
        return NULL;
    }
    switch (d->opcode) {
    case 0x01:
        if (d->mod != 3) {
            return NULL;
        }
        switch (modrm_byte(d)) {
        case 0xCA: return "clac";
        case 0xCB: return "stac";
        case 0xD0: return "xgetbv";
        case 0xD1: return "xsetbv";
        default: return NULL;
        }
    case 0xB8:
        return d->rep == 0xF3 ? "popcnt" : NULL;
    case 0xAE:
        if (d->mod == 3) {
            switch (d->reg & 7) {
            case 5: return "lfence";
            case 6: return "mfence";
            case 7: return "sfence";
            default: return NULL;
            }
        }
        return x86_emu_xsave_mnemonic(d);
    case 0xC7:
        if ((d->reg & 7) == 1 && d->mod != 3) {
            return (d->rex & 8) ? "cmpxchg16b" : "cmpxchg8b";
        }
        return x86_emu_xsave_mnemonic(d);
    default:
        return NULL;
    }
}

static enum x86_emu_result execute(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d)
{
    if (d->map == 0) {
        switch (d->opcode) {
        case 0xCC:
        case 0xCD:
        case 0xCE:
            return emu_int(ctx, d);
        case 0x9B:
            return emu_fwait(ctx, d);
        default:
            return X86_EMU_UNKNOWN;
        }
    }
    if (d->map != 1) {
        return X86_EMU_UNKNOWN;
    }
    switch (d->opcode) {
    case 0x01:
        if (d->mod != 3 || d->rep) {
            return X86_EMU_UNKNOWN;
        }
        switch (modrm_byte(d)) {
        case 0xCA: return emu_clac_stac(ctx, d, false);
        case 0xCB: return emu_clac_stac(ctx, d, true);
        case 0xD0: return x86_emu_xsave_xgetbv(ctx, d);
        case 0xD1: return x86_emu_xsave_xsetbv(ctx, d);
        default: return X86_EMU_UNKNOWN;
        }
    case 0xB8:
        /* Without F3 (last of F2/F3) this is JMPE or nothing. */
        return d->rep == 0xF3 ? emu_popcnt(ctx, d) : X86_EMU_UNKNOWN;
    case 0xAE:
        if (d->mod == 3) {
            /* LFENCE/MFENCE/SFENCE; with 66/F2/F3 these encodings are other
             * instructions (TPAUSE, UMWAIT, ...). */
            if ((d->reg & 7) < 5 || d->p66 || d->rep) {
                return X86_EMU_UNKNOWN;
            }
            if (d->lock) {
                return x86_emu_raise_ud(ctx);
            }
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            return X86_EMU_OK;
        }
        return x86_emu_xsave_exec(ctx, d);
    case 0xC7:
        if ((d->reg & 7) == 1) {
            return d->rep ? X86_EMU_UNKNOWN : emu_cmpxchg8b16b(ctx, d);
        }
        return x86_emu_xsave_exec(ctx, d);
    default:
        return X86_EMU_UNKNOWN;
    }
}

enum x86_emu_result x86_emulate(struct x86_emu_cpu *cpu, const struct x86_emu_ops *ops,
                                void *opaque, const uint8_t *insn, size_t insn_len,
                                struct x86_emu_report *report)
{
    struct x86_emu_report scratch;
    if (!report) {
        report = &scratch;
    }
    memset(report, 0, sizeof(*report));
    if (!cpu || !ops || !ops->read_phys || !ops->write_phys) {
        return X86_EMU_UNKNOWN;
    }
    struct x86_emu_config defaults;
    const struct x86_emu_config *cfg = cpu->config;
    if (!cfg) {
        x86_emu_config_default(&defaults);
        cfg = &defaults;
    }
    struct x86_emu_ctx ctx = {
        .cpu = cpu, .cfg = cfg, .ops = ops, .opaque = opaque, .report = report,
        .mode = x86_emu_cpu_mode(cpu), .cpl = x86_emu_cpu_cpl(cpu),
    };
    report->mode = ctx.mode;
    report->cpl = ctx.cpl;
    if (insn_len > 15) {
        insn_len = 15;
    }

    /* Instructions change registers only on success: faults restart. */
    struct hv_regs saved = cpu->regs;
    struct x86_emu_insn d;
    enum x86_emu_result r = x86_emu_decode(&ctx, insn, insn ? insn_len : 0, &d);
    if (r == X86_EMU_OK) {
        report->mnemonic = mnemonic(&d);
        r = execute(&ctx, &d);
    }
    switch (r) {
    case X86_EMU_OK:
        cpu->regs.rip = (saved.rip + d.len) & x86_emu_ip_mask(ctx.mode);
        cpu->regs.rflags &= ~X86_RFLAGS_RF;
        report->single_step = (saved.rflags & X86_RFLAGS_TF) != 0;
        cpu->regs_dirty = true;
        break;
    case X86_EMU_EXCEPTION:
        cpu->regs = saved;
        if (report->exception.vector == X86_EXC_PF && !report->exception.is_soft) {
            cpu->sregs.cr2 = report->exception.cr2;
            cpu->sregs_dirty = true;
        }
        break;
    default:
        cpu->regs = saved;
        break;
    }
    return r;
}

/* ---- sentences ---- */

static void format_bytes(const uint8_t *insn, size_t n, char *out, size_t outlen)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t k = 0; k < n && pos + 4 < outlen; k++) {
        pos += (size_t)snprintf(out + pos, outlen - pos, k ? " %02x" : "%02x", insn[k]);
    }
}

static void format_mode(const struct x86_emu_cpu *cpu, char *out, size_t outlen)
{
    enum x86_emu_mode mode = x86_emu_cpu_mode(cpu);
    unsigned cpl = x86_emu_cpu_cpl(cpu);
    char priv[16];
    if (cpl == 0) {
        snprintf(priv, sizeof(priv), "kernel");
    } else if (cpl == 3) {
        snprintf(priv, sizeof(priv), "user");
    } else {
        snprintf(priv, sizeof(priv), "ring-%u", cpl);
    }
    switch (mode) {
    case X86_EMU_MODE_REAL:
        snprintf(out, outlen, "real mode");
        break;
    case X86_EMU_MODE_VM86:
        snprintf(out, outlen, "virtual-8086 mode (CPL 3)");
        break;
    case X86_EMU_MODE_PROT16:
        snprintf(out, outlen, "16-bit protected %s mode (CPL %u)", priv, cpl);
        break;
    case X86_EMU_MODE_PROT32:
        snprintf(out, outlen, "32-bit protected %s mode (CPL %u)", priv, cpl);
        break;
    case X86_EMU_MODE_COMPAT16:
        snprintf(out, outlen, "16-bit compatibility %s mode (CPL %u)", priv, cpl);
        break;
    case X86_EMU_MODE_COMPAT32:
        snprintf(out, outlen, "32-bit compatibility %s mode (CPL %u)", priv, cpl);
        break;
    default:
        snprintf(out, outlen, "64-bit %s mode (CPL %u)", priv, cpl);
        break;
    }
}

static void format_insn(const struct x86_emu_cpu *cpu, const uint8_t *insn, size_t len,
                        char *out, size_t outlen)
{
    if (!insn || len == 0) {
        snprintf(out, outlen, "(bytes unavailable)");
        return;
    }
    if (len > 15) {
        len = 15;
    }
    size_t n = x86_emu_insn_length(cpu, insn, len);
    format_bytes(insn, n ? n : len, out, outlen);
}

void x86_emu_describe(const struct x86_emu_cpu *cpu, const uint8_t *insn, size_t len,
                      char *buf, size_t buflen)
{
    if (!buf || buflen == 0) {
        return;
    }
    char bytes[64], mode[64];
    format_insn(cpu, insn, len, bytes, sizeof(bytes));
    format_mode(cpu, mode, sizeof(mode));
    snprintf(buf, buflen,
             "vCPU stopped: instruction %s at RIP 0x%llx in %s is not one Hostel can emulate. "
             "The host's KVM could not run it either (this happens on nested hosts); run the "
             "VM on a host with VT-x or AMD-V, or keep the guest away from the instruction "
             "(for Linux: clearcpuid= or noxsave on the kernel command line).",
             bytes, (unsigned long long)cpu->regs.rip, mode);
}

static const char *vector_name(uint8_t v)
{
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9", "#TS",
        "#NP", "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    };
    return v < 32 && names[v] ? names[v] : "an interrupt";
}

void x86_emu_describe_result(const struct x86_emu_cpu *cpu, enum x86_emu_result result,
                             const struct x86_emu_report *report, char *buf, size_t buflen)
{
    if (!buf || buflen == 0) {
        return;
    }
    char bytes[64], mode[64];
    format_mode(cpu, mode, sizeof(mode));
    if (report) {
        format_insn(cpu, report->insn, report->insn_len, bytes, sizeof(bytes));
    } else {
        snprintf(bytes, sizeof(bytes), "(bytes unavailable)");
    }
    unsigned long long rip = (unsigned long long)cpu->regs.rip;
    switch (result) {
    case X86_EMU_OK:
        snprintf(buf, buflen, "Instruction %s at RIP 0x%llx in %s was emulated.", bytes, rip,
                 mode);
        break;
    case X86_EMU_EXCEPTION:
        if (report) {
            snprintf(buf, buflen,
                     "Instruction %s at RIP 0x%llx in %s raised %s (vector %u, error code "
                     "0x%x) for the guest to handle.",
                     bytes, rip, mode, vector_name(report->exception.vector),
                     report->exception.vector, report->exception.error_code);
        } else {
            snprintf(buf, buflen, "An instruction at RIP 0x%llx in %s raised an exception.",
                     rip, mode);
        }
        break;
    case X86_EMU_MEM_ERROR:
        snprintf(buf, buflen,
                 "vCPU stopped: instruction %s at RIP 0x%llx in %s reached guest-physical "
                 "address 0x%llx, which is not RAM, and Hostel cannot emulate it against "
                 "device memory. The guest is probably using a device wrongly; restart it.",
                 bytes, rip, mode, report ? (unsigned long long)report->mem_gpa : 0ull);
        break;
    case X86_EMU_TRIPLE_FAULT:
        snprintf(buf, buflen,
                 "vCPU stopped: the guest triple-faulted (an exception while delivering a "
                 "double fault) at RIP 0x%llx in %s; its operating system crashed. Restart the "
                 "VM.",
                 rip, mode);
        break;
    default:
        if (report) {
            x86_emu_describe(cpu, report->insn, report->insn_len, buf, buflen);
        } else {
            x86_emu_describe(cpu, NULL, 0, buf, buflen);
        }
        break;
    }
}
