/* Shared between the emulator's files; not part of the public API. */
#ifndef HOSTEL_X86_EMU_INTERNAL_H
#define HOSTEL_X86_EMU_INTERNAL_H

#include <string.h>

#include "x86_emulate.h"

/* Architectural constants (Intel SDM vol. 3). */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_OSXSAVE (1ull << 18)
#define X86_CR4_SMEP (1ull << 20)
#define X86_CR4_SMAP (1ull << 21)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)

#define X86_RFLAGS_CF (1ull << 0)
#define X86_RFLAGS_FIXED (1ull << 1)
#define X86_RFLAGS_PF (1ull << 2)
#define X86_RFLAGS_AF (1ull << 4)
#define X86_RFLAGS_ZF (1ull << 6)
#define X86_RFLAGS_SF (1ull << 7)
#define X86_RFLAGS_TF (1ull << 8)
#define X86_RFLAGS_IF (1ull << 9)
#define X86_RFLAGS_OF (1ull << 11)
#define X86_RFLAGS_IOPL (3ull << 12)
#define X86_RFLAGS_NT (1ull << 14)
#define X86_RFLAGS_RF (1ull << 16)
#define X86_RFLAGS_VM (1ull << 17)
#define X86_RFLAGS_AC (1ull << 18)

enum {
    X86_EXC_DE = 0, X86_EXC_DB = 1, X86_EXC_NMI = 2, X86_EXC_BP = 3, X86_EXC_OF = 4,
    X86_EXC_BR = 5, X86_EXC_UD = 6, X86_EXC_NM = 7, X86_EXC_DF = 8, X86_EXC_TS = 10,
    X86_EXC_NP = 11, X86_EXC_SS = 12, X86_EXC_GP = 13, X86_EXC_PF = 14, X86_EXC_MF = 16,
    X86_EXC_AC = 17, X86_EXC_MC = 18,
};

/* #PF error code bits (SDM vol. 3 4.7). */
#define X86_PF_P (1u << 0)
#define X86_PF_W (1u << 1)
#define X86_PF_U (1u << 2)
#define X86_PF_RSVD (1u << 3)
#define X86_PF_I (1u << 4)

/* Segment register numbers, in the instruction encoding's order (Sreg). */
enum { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS, X86_SEG_NONE };

/* XSAVE layout (SDM vol. 1 13.4). */
#define X86_XSAVE_HDR 512
#define X86_XSAVE_EXT 576           /* first byte after the header */
#define X86_MXCSR_DEFAULT 0x1F80u
#define X86_FCW_DEFAULT 0x037Fu

/* Memory access kinds and qualifiers for the MMU functions. */
#define X86_ACC_READ 0u
#define X86_ACC_WRITE 1u
#define X86_ACC_FETCH 2u
#define X86_ACC_KIND 3u
#define X86_ACC_USER 4u         /* CPL 3 access: needs U/S=1 pages */
#define X86_ACC_IMPLICIT 8u     /* descriptor-table/TSS access: SMAP ignores AC */

/* The largest single emulated access: an XSAVE area in the compacted or
 * standard format of at most HV_XSAVE_SIZE bytes, or the IDT/TSS reads. */
#define X86_EMU_MAX_ACCESS (2 * HV_XSAVE_SIZE)

/* One emulation in progress. */
struct x86_emu_ctx {
    struct x86_emu_cpu *cpu;
    const struct x86_emu_config *cfg;
    const struct x86_emu_ops *ops;
    void *opaque;
    struct x86_emu_report *report;
    enum x86_emu_mode mode;
    unsigned cpl;
};

/* A decoded instruction. */
struct x86_emu_insn {
    uint8_t bytes[15];
    uint8_t len;
    uint8_t opsize;         /* operand size in bytes: 2, 4 or 8 */
    uint8_t addrsize;       /* address size in bytes: 2, 4 or 8 */
    bool p66, p67, lock;
    uint8_t rep;            /* 0, 0xF2 or 0xF3: the last of them, as the mandatory prefix */
    uint8_t seg;            /* segment override (X86_SEG_*), X86_SEG_NONE if none */
    uint8_t rex;            /* 0 if none */
    uint8_t map;            /* 0: one-byte, 1: 0F, 2: 0F 38, 3: 0F 3A */
    uint8_t opcode;
    bool has_modrm;
    uint8_t mod, reg, rm;   /* reg and rm include REX.R / REX.B */
    bool has_sib;
    uint8_t sib;
    int64_t disp;
    uint64_t imm;
    uint8_t imm_len;
    /* The memory operand (mod != 3), resolved after decoding. */
    bool rip_relative;
    uint8_t mem_seg;        /* effective segment */
    uint64_t mem_ea;        /* effective address (offset in the segment) */
};

/* ---- x86_emu_decode.c ---- */

/* Decode the instruction at CS:RIP: bytes from insn first, then fetched.
 * OK, EXCEPTION (fetch fault, >15 bytes: #GP) or UNKNOWN (VEX/EVEX/XOP). */
enum x86_emu_result x86_emu_decode(struct x86_emu_ctx *ctx, const uint8_t *insn,
                                   size_t insn_len, struct x86_emu_insn *d);
/* Decode from a byte buffer only (no fetching): 0 on success. */
int x86_emu_decode_buffer(enum x86_emu_mode mode, const uint8_t *insn, size_t len,
                          struct x86_emu_insn *d);

/* ---- x86_emu_mmu.c ---- */

/* Record an exception for the caller; returns X86_EMU_EXCEPTION. */
enum x86_emu_result x86_emu_raise(struct x86_emu_ctx *ctx, uint8_t vector, bool has_error,
                                  uint32_t error_code);
static inline enum x86_emu_result x86_emu_raise_gp0(struct x86_emu_ctx *ctx)
{
    return x86_emu_raise(ctx, X86_EXC_GP, true, 0);
}
static inline enum x86_emu_result x86_emu_raise_ud(struct x86_emu_ctx *ctx)
{
    return x86_emu_raise(ctx, X86_EXC_UD, false, 0);
}

/* The hidden part of segment register seg (X86_SEG_*). */
struct hv_segment *x86_emu_mmu_segment(struct x86_emu_cpu *cpu, unsigned seg);

/* Check [offset, offset+len) of segment seg (X86_SEG_*) for an access of
 * kind acc (X86_ACC_*) and form its linear address: #GP(0)/#SS(0) on a limit,
 * type or canonical violation. */
enum x86_emu_result x86_emu_mmu_linear(struct x86_emu_ctx *ctx, unsigned seg, uint64_t offset,
                                       size_t len, unsigned acc, uint64_t *linear);
/* Same with an explicit segment cache (for stacks being switched to);
 * fault_vector is #GP or #SS, fault_code its error code. */
enum x86_emu_result x86_emu_mmu_linear_seg(struct x86_emu_ctx *ctx, const struct hv_segment *s,
                                           uint8_t fault_vector, uint32_t fault_code,
                                           uint64_t offset, size_t len, unsigned acc,
                                           uint64_t *linear);

/* Translate one linear address (one byte's page) through the guest's paging. */
enum x86_emu_result x86_emu_mmu_translate(struct x86_emu_ctx *ctx, uint64_t linear,
                                          unsigned acc, uint64_t *gpa);

/* Access [linear, linear+len) (len <= X86_EMU_MAX_ACCESS): every page is
 * translated before any byte is touched, so a #PF leaves memory unchanged. */
enum x86_emu_result x86_emu_mmu_read(struct x86_emu_ctx *ctx, uint64_t linear, void *buf,
                                     size_t len, unsigned acc);
enum x86_emu_result x86_emu_mmu_write(struct x86_emu_ctx *ctx, uint64_t linear,
                                      const void *buf, size_t len, unsigned acc);
/* Atomically compare [linear, linear+len) (len 8 or 16) with expected and
 * store desired if equal; *old receives the previous contents. Atomic against
 * other vCPUs only when ops->map_phys maps it and it does not cross a page. */
enum x86_emu_result x86_emu_mmu_cmpxchg(struct x86_emu_ctx *ctx, uint64_t linear,
                                        const void *expected, const void *desired,
                                        void *old, size_t len, unsigned acc, bool *equal);

/* X86_ACC_USER if the current privilege level makes data accesses user ones. */
static inline unsigned x86_emu_acc_user(const struct x86_emu_ctx *ctx)
{
    return ctx->cpl == 3 ? X86_ACC_USER : 0;
}

/* ---- x86_emu_xsave.c ---- */

/* FXSAVE/FXRSTOR/LDMXCSR/STMXCSR (0F AE /0-3) and XSAVE/XRSTOR/XSAVEOPT
 * (0F AE /4-6), XRSTORS/XSAVEC/XSAVES (0F C7 /3-5). */
enum x86_emu_result x86_emu_xsave_exec(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d);
/* XGETBV / XSETBV (0F 01 D0 / D1). */
enum x86_emu_result x86_emu_xsave_xgetbv(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d);
enum x86_emu_result x86_emu_xsave_xsetbv(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d);
/* The mnemonic of an XSAVE-family instruction, NULL if d is not one. */
const char *x86_emu_xsave_mnemonic(const struct x86_emu_insn *d);

/* ---- helpers ---- */

static inline uint16_t x86_emu_get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static inline uint32_t x86_emu_get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t x86_emu_get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void x86_emu_put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}
static inline void x86_emu_put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static inline void x86_emu_put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* General-purpose register by encoding number 0-15 (RAX, RCX, RDX, RBX,
 * RSP, RBP, RSI, RDI, R8-R15). */
uint64_t *x86_emu_gpr(struct hv_regs *regs, unsigned n);

/* Which bits of RIP exist in a mode (IP, EIP or RIP). */
static inline uint64_t x86_emu_ip_mask(enum x86_emu_mode mode)
{
    switch (mode) {
    case X86_EMU_MODE_LONG64:
        return ~0ull;
    case X86_EMU_MODE_PROT32:
    case X86_EMU_MODE_COMPAT32:
        return 0xFFFFFFFFull;
    default:
        return 0xFFFFull;
    }
}

/* Whether a 64-bit linear address is canonical for the current paging. */
bool x86_emu_canonical(const struct x86_emu_cpu *cpu, uint64_t linear);

#endif
