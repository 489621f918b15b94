/* Instruction decoding: prefixes, REX, the one-byte, 0F, 0F 38 and 0F 3A
 * opcode maps, ModRM/SIB/displacement/immediate, and the effective address of
 * the memory operand. Lengths are decoded for every legacy-encoded opcode
 * (not only the emulated ones) so a failure report shows the exact bytes.
 * VEX/EVEX/XOP encodings are not decoded: nothing emulated uses them.
 * Intel SDM vol. 2 ch. 2 and appendix A (opcode maps).
 */
#include "x86_emu_internal.h"

/* Opcode attributes: bit 4 = ModRM follows, low nibble = immediate kind. */
enum {
    ATTR_M = 0x10,
    IMM_NONE = 0,
    IMM_B = 1,      /* 8 bits */
    IMM_W = 2,      /* 16 bits */
    IMM_Z = 3,      /* 16 or 32 bits by operand size */
    IMM_V = 4,      /* 16, 32 or 64 bits by operand size (MOV r, imm) */
    IMM_MOFFS = 5,  /* address-size offset (MOV A0-A3) */
    IMM_WB = 6,     /* 16 + 8 bits (ENTER) */
    IMM_PTR = 7,    /* far pointer: 16/32-bit offset + 16-bit selector */
    IMM_GRP3 = 8,   /* F6/F7: an immediate only with /0 and /1 */
    IMM_REL = 9,    /* near branch: rel16/32, always 32 bits in 64-bit mode */
    IMM_MASK = 0xF,
};

#define M ATTR_M
#define Mb (ATTR_M | IMM_B)
#define Mz (ATTR_M | IMM_Z)
#define b IMM_B
#define w IMM_W
#define z IMM_Z
#define v IMM_V
#define o IMM_MOFFS
#define E IMM_WB
#define P IMM_PTR
#define G (ATTR_M | IMM_GRP3)
#define R IMM_REL
#define _ IMM_NONE

/* Prefixes and escapes never reach these tables (they read as _). */
static const uint8_t attr_map0[256] = {
    /*        0  1  2  3  4  5  6  7  8  9  A  B  C  D  E  F */
    /* 0 */   M, M, M, M, b, z, _, _, M, M, M, M, b, z, _, _,
    /* 1 */   M, M, M, M, b, z, _, _, M, M, M, M, b, z, _, _,
    /* 2 */   M, M, M, M, b, z, _, _, M, M, M, M, b, z, _, _,
    /* 3 */   M, M, M, M, b, z, _, _, M, M, M, M, b, z, _, _,
    /* 4 */   _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _,
    /* 5 */   _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _,
    /* 6 */   _, _, M, M, _, _, _, _, z, Mz, b, Mb, _, _, _, _,
    /* 7 */   b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b,
    /* 8 */   Mb, Mz, Mb, Mb, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 9 */   _, _, _, _, _, _, _, _, _, _, P, _, _, _, _, _,
    /* A */   o, o, o, o, _, _, _, _, b, z, _, _, _, _, _, _,
    /* B */   b, b, b, b, b, b, b, b, v, v, v, v, v, v, v, v,
    /* C */   Mb, Mb, w, _, M, M, Mb, Mz, E, _, w, _, _, b, _, _,
    /* D */   M, M, M, M, b, b, _, _, M, M, M, M, M, M, M, M,
    /* E */   b, b, b, b, b, b, b, b, R, R, P, b, _, _, _, _,
    /* F */   _, _, _, _, _, _, G, G, _, _, _, _, _, _, M, M,
};

static const uint8_t attr_map1[256] = {
    /*        0  1  2  3  4  5  6  7  8  9  A  B  C  D  E  F */
    /* 0 */   M, M, M, M, _, _, _, _, _, _, _, _, _, M, _, Mb,
    /* 1 */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 2 */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 3 */   _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _,
    /* 4 */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 5 */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 6 */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 7 */   Mb, Mb, Mb, Mb, M, M, M, _, M, M, M, M, M, M, M, M,
    /* 8 */   R, R, R, R, R, R, R, R, R, R, R, R, R, R, R, R,
    /* 9 */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* A */   _, _, _, M, Mb, M, _, _, _, _, _, M, Mb, M, M, M,
    /* B */   M, M, M, M, M, M, M, M, M, M, Mb, M, M, M, M, M,
    /* C */   M, M, Mb, M, Mb, Mb, Mb, M, _, _, _, _, _, _, _, _,
    /* D */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* E */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* F */   M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};

#undef M
#undef Mb
#undef Mz
#undef b
#undef w
#undef z
#undef v
#undef o
#undef E
#undef P
#undef G
#undef R
#undef _

/* Where instruction bytes come from: the accelerator's copy first, then (if
 * ctx is set) guest memory at CS:RIP, one cached page translation at a time. */
struct decode_source {
    struct x86_emu_ctx *ctx;
    const uint8_t *insn;
    size_t insn_len;
    bool page_valid;
    uint64_t page_linear;
    uint64_t page_gpa;
    enum x86_emu_result fail;
};

static bool is_64(enum x86_emu_mode mode)
{
    return mode == X86_EMU_MODE_LONG64;
}

static bool is_16(enum x86_emu_mode mode)
{
    return mode == X86_EMU_MODE_REAL || mode == X86_EMU_MODE_VM86 ||
           mode == X86_EMU_MODE_PROT16 || mode == X86_EMU_MODE_COMPAT16;
}

/* Append the next byte to d->bytes. false with src->fail set on failure. */
static bool next_byte(struct decode_source *src, struct x86_emu_insn *d, uint8_t *out)
{
    unsigned idx = d->len;
    if (idx >= sizeof(d->bytes)) {
        /* More than 15 bytes: #GP(0) on hardware. */
        if (src->ctx) {
            src->fail = x86_emu_raise_gp0(src->ctx);
        } else {
            src->fail = X86_EMU_UNKNOWN;
        }
        return false;
    }
    uint8_t byte;
    if (src->insn && idx < src->insn_len) {
        byte = src->insn[idx];
    } else if (src->ctx) {
        struct x86_emu_ctx *ctx = src->ctx;
        uint64_t offset = ctx->cpu->regs.rip + idx;
        if (!is_64(ctx->mode)) {
            offset &= is_16(ctx->mode) ? 0xFFFF : 0xFFFFFFFF;
        }
        uint64_t linear;
        enum x86_emu_result r = x86_emu_mmu_linear(ctx, X86_SEG_CS, offset, 1, X86_ACC_FETCH,
                                                   &linear);
        if (r != X86_EMU_OK) {
            src->fail = r;
            return false;
        }
        uint64_t page = linear & ~0xFFFull;
        if (!src->page_valid || src->page_linear != page) {
            r = x86_emu_mmu_translate(ctx, linear, X86_ACC_FETCH | x86_emu_acc_user(ctx),
                                      &src->page_gpa);
            if (r != X86_EMU_OK) {
                src->fail = r;
                return false;
            }
            src->page_gpa &= ~0xFFFull;
            src->page_linear = page;
            src->page_valid = true;
        }
        uint64_t gpa = src->page_gpa | (linear & 0xFFF);
        if (ctx->ops->read_phys(ctx->opaque, gpa, &byte, 1) != 0) {
            ctx->report->mem_gpa = gpa;
            src->fail = X86_EMU_MEM_ERROR;
            return false;
        }
    } else {
        src->fail = X86_EMU_UNKNOWN;
        return false;
    }
    d->bytes[d->len++] = byte;
    *out = byte;
    return true;
}

static bool next_bytes(struct decode_source *src, struct x86_emu_insn *d, unsigned n,
                       uint64_t *value)
{
    uint64_t val = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t byte;
        if (!next_byte(src, d, &byte)) {
            return false;
        }
        if (i < 8) {
            val |= (uint64_t)byte << (8 * i);
        }
    }
    *value = val;
    return true;
}

static uint64_t sign_extend(uint64_t v, unsigned bytes)
{
    if (bytes >= 8) {
        return v;
    }
    unsigned shift = 64 - 8 * bytes;
    return (uint64_t)((int64_t)(v << shift) >> shift);
}

/* The immediate's size in bytes for attribute imm (reg is ModRM.reg). */
static unsigned imm_size(const struct x86_emu_insn *d, enum x86_emu_mode mode, unsigned imm)
{
    switch (imm) {
    case IMM_B:
        return 1;
    case IMM_W:
        return 2;
    case IMM_Z:
        return d->opsize == 2 ? 2 : 4;
    case IMM_V:
        return d->opsize;
    case IMM_MOFFS:
        return d->addrsize;
    case IMM_WB:
        return 3;
    case IMM_PTR:
        return (d->opsize == 2 ? 2 : 4) + 2;
    case IMM_GRP3:
        if ((d->reg & 7) >= 2) {
            return 0;
        }
        if (d->opcode == 0xF6) {
            return 1;
        }
        return d->opsize == 2 ? 2 : 4;
    case IMM_REL:
        if (is_64(mode)) {
            return 4;
        }
        return d->opsize == 2 ? 2 : 4;
    default:
        return 0;
    }
}

static bool decode_modrm(struct decode_source *src, struct x86_emu_insn *d)
{
    uint8_t modrm;
    if (!next_byte(src, d, &modrm)) {
        return false;
    }
    d->has_modrm = true;
    d->mod = modrm >> 6;
    d->reg = ((modrm >> 3) & 7) | ((d->rex & 4) ? 8 : 0);
    d->rm = (modrm & 7) | ((d->rex & 1) ? 8 : 0);
    if (d->mod == 3) {
        return true;
    }
    uint64_t disp = 0;
    unsigned disp_len = 0;
    if (d->addrsize == 2) {
        if (d->mod == 0 && (modrm & 7) == 6) {
            disp_len = 2;
        } else if (d->mod == 1) {
            disp_len = 1;
        } else if (d->mod == 2) {
            disp_len = 2;
        }
    } else {
        if ((modrm & 7) == 4) {
            if (!next_byte(src, d, &d->sib)) {
                return false;
            }
            d->has_sib = true;
        }
        if (d->mod == 1) {
            disp_len = 1;
        } else if (d->mod == 2) {
            disp_len = 4;
        } else if ((modrm & 7) == 5 || (d->has_sib && (d->sib & 7) == 5)) {
            disp_len = 4;
        }
    }
    if (disp_len) {
        if (!next_bytes(src, d, disp_len, &disp)) {
            return false;
        }
        d->disp = (int64_t)sign_extend(disp, disp_len);
    }
    return true;
}

static bool decode_common(struct decode_source *src, enum x86_emu_mode mode,
                          struct x86_emu_insn *d)
{
    memset(d, 0, sizeof(*d));
    d->seg = X86_SEG_NONE;
    uint8_t byte;
    for (;;) {
        if (!next_byte(src, d, &byte)) {
            return false;
        }
        switch (byte) {
        case 0x66: d->p66 = true; d->rex = 0; continue;
        case 0x67: d->p67 = true; d->rex = 0; continue;
        case 0xF0: d->lock = true; d->rex = 0; continue;
        case 0xF2: case 0xF3: d->rep = byte; d->rex = 0; continue;
        case 0x26: d->seg = X86_SEG_ES; d->rex = 0; continue;
        case 0x2E: d->seg = X86_SEG_CS; d->rex = 0; continue;
        case 0x36: d->seg = X86_SEG_SS; d->rex = 0; continue;
        case 0x3E: d->seg = X86_SEG_DS; d->rex = 0; continue;
        case 0x64: d->seg = X86_SEG_FS; d->rex = 0; continue;
        case 0x65: d->seg = X86_SEG_GS; d->rex = 0; continue;
        default: break;
        }
        if (is_64(mode) && (byte & 0xF0) == 0x40) {
            /* REX only counts when it is the last prefix before the opcode. */
            d->rex = byte;
            continue;
        }
        break;
    }

    if (is_64(mode)) {
        d->opsize = (d->rex & 8) ? 8 : (d->p66 ? 2 : 4);
        d->addrsize = d->p67 ? 4 : 8;
    } else if (is_16(mode)) {
        d->opsize = d->p66 ? 4 : 2;
        d->addrsize = d->p67 ? 4 : 2;
    } else {
        d->opsize = d->p66 ? 2 : 4;
        d->addrsize = d->p67 ? 2 : 4;
    }

    uint8_t attr;
    if (byte == 0x0F) {
        uint8_t op2;
        if (!next_byte(src, d, &op2)) {
            return false;
        }
        if (op2 == 0x38 || op2 == 0x3A) {
            d->map = op2 == 0x38 ? 2 : 3;
            if (!next_byte(src, d, &d->opcode)) {
                return false;
            }
            attr = ATTR_M | (d->map == 3 ? IMM_B : IMM_NONE);
        } else {
            d->map = 1;
            d->opcode = op2;
            attr = attr_map1[op2];
        }
    } else {
        d->map = 0;
        d->opcode = byte;
        attr = attr_map0[byte];
        /* VEX (C4/C5), EVEX (62) and XOP (8F) reuse opcodes that are
         * invalid in 64-bit mode or need a register ModRM elsewhere. */
        if (byte == 0xC4 || byte == 0xC5 || byte == 0x62 || byte == 0x8F) {
            if (is_64(mode) && byte != 0x8F) {
                src->fail = X86_EMU_UNKNOWN;
                return false;
            }
            if (!decode_modrm(src, d)) {
                return false;
            }
            /* The legacy forms (LES, LDS, BOUND, POP) take a memory operand
             * (or /0): anything else starts a VEX/EVEX/XOP prefix. */
            bool extended = byte == 0x8F ? (d->reg & 7) != 0 : d->mod == 3;
            if (extended) {
                src->fail = X86_EMU_UNKNOWN;
                return false;
            }
            attr &= (uint8_t)~ATTR_M;     /* ModRM already consumed */
        }
    }

    if (attr & ATTR_M) {
        if (!decode_modrm(src, d)) {
            return false;
        }
    }
    unsigned n = imm_size(d, mode, attr & IMM_MASK);
    if (n) {
        uint64_t imm;
        if (!next_bytes(src, d, n, &imm)) {
            return false;
        }
        d->imm = imm;
        d->imm_len = (uint8_t)n;
    }
    return true;
}

int x86_emu_decode_buffer(enum x86_emu_mode mode, const uint8_t *insn, size_t len,
                          struct x86_emu_insn *d)
{
    struct decode_source src = { .insn = insn, .insn_len = len };
    return decode_common(&src, mode, d) ? 0 : -1;
}

/* Resolve the effective address and segment of the memory operand. */
static void resolve_memory(struct x86_emu_ctx *ctx, struct x86_emu_insn *d)
{
    struct hv_regs *regs = &ctx->cpu->regs;
    uint64_t ea;
    unsigned def_seg = X86_SEG_DS;
    if (d->addrsize == 2) {
        uint64_t bx = regs->rbx & 0xFFFF, bp = regs->rbp & 0xFFFF;
        uint64_t si = regs->rsi & 0xFFFF, di = regs->rdi & 0xFFFF;
        switch (d->rm & 7) {
        case 0: ea = bx + si; break;
        case 1: ea = bx + di; break;
        case 2: ea = bp + si; def_seg = X86_SEG_SS; break;
        case 3: ea = bp + di; def_seg = X86_SEG_SS; break;
        case 4: ea = si; break;
        case 5: ea = di; break;
        case 6:
            if (d->mod == 0) {
                ea = 0;
            } else {
                ea = bp;
                def_seg = X86_SEG_SS;
            }
            break;
        default: ea = bx; break;
        }
        ea = (ea + (uint64_t)d->disp) & 0xFFFF;
    } else {
        uint64_t base = 0, index = 0;
        if (d->has_sib) {
            unsigned base_reg = (d->sib & 7) | ((d->rex & 1) ? 8 : 0);
            unsigned index_reg = ((d->sib >> 3) & 7) | ((d->rex & 2) ? 8 : 0);
            if (!(d->mod == 0 && (d->sib & 7) == 5)) {
                base = *x86_emu_gpr(regs, base_reg);
                if (base_reg == 4 || base_reg == 5) {
                    def_seg = X86_SEG_SS;
                }
            }
            if (index_reg != 4) {
                index = *x86_emu_gpr(regs, index_reg) << (d->sib >> 6);
            }
        } else if (d->mod == 0 && (d->rm & 7) == 5) {
            if (is_64(ctx->mode)) {
                d->rip_relative = true;
                base = regs->rip + d->len;
            }
        } else {
            base = *x86_emu_gpr(regs, d->rm);
            if (d->rm == 4 || d->rm == 5) {
                def_seg = X86_SEG_SS;
            }
        }
        if (d->addrsize == 4) {
            /* 32-bit addressing uses the low halves and wraps at 4 GiB. */
            if (!d->rip_relative) {
                base &= 0xFFFFFFFF;
            }
            index &= 0xFFFFFFFF;
            ea = (base + index + (uint64_t)d->disp) & 0xFFFFFFFF;
        } else {
            ea = base + index + (uint64_t)d->disp;
        }
    }
    d->mem_ea = ea;
    d->mem_seg = d->seg != X86_SEG_NONE ? d->seg : (uint8_t)def_seg;
}

enum x86_emu_result x86_emu_decode(struct x86_emu_ctx *ctx, const uint8_t *insn,
                                   size_t insn_len, struct x86_emu_insn *d)
{
    struct decode_source src = { .ctx = ctx, .insn = insn, .insn_len = insn_len };
    bool ok = decode_common(&src, ctx->mode, d);
    memcpy(ctx->report->insn, d->bytes, d->len);
    ctx->report->insn_len = d->len;
    if (!ok) {
        return src.fail;
    }
    if (d->has_modrm && d->mod != 3) {
        resolve_memory(ctx, d);
    }
    return X86_EMU_OK;
}

size_t x86_emu_insn_length(const struct x86_emu_cpu *cpu, const uint8_t *insn, size_t len)
{
    struct x86_emu_insn d;
    if (!insn || x86_emu_decode_buffer(x86_emu_cpu_mode(cpu), insn, len, &d) != 0) {
        return 0;
    }
    return d.len;
}
