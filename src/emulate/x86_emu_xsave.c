/* FXSAVE/FXRSTOR, LDMXCSR/STMXCSR and the XSAVE feature set (XSAVE,
 * XSAVEOPT, XSAVEC, XSAVES, XRSTOR, XRSTORS, XGETBV, XSETBV), between guest
 * memory and the vCPU's standard-format XSAVE image. Intel SDM vol. 1 ch. 13,
 * vol. 2 (the instructions' Operation sections).
 *
 * The image's XSTATE_BV stands for XINUSE: a clear bit means the component
 * is in its initial configuration whatever the image holds. The modified
 * optimization of XSAVEOPT/XSAVES is not used (saving is always allowed).
 * Supervisor components (IA32_XSS) have no place in a standard-format image,
 * so XSAVES/XRSTORS that touch one are reported as not emulated.
 */
#include "x86_emu_internal.h"

#define X87_STATE (1ull << 0)
#define SSE_STATE (1ull << 1)
#define AVX_STATE (1ull << 2)
#define COMPACTED (1ull << 63)

enum xs_op { XS_XSAVE, XS_XSAVEOPT, XS_XSAVEC, XS_XSAVES, XS_XRSTOR, XS_XRSTORS };

static uint64_t xinuse(const struct x86_emu_cpu *cpu)
{
    return x86_emu_get64(cpu->xsave.region + X86_XSAVE_HDR);
}

/* MXCSR from the image. An image whose SSE and AVX bits are both clear may
 * never have had MXCSR filled in by the accelerator; zero there means the
 * default (a real zero MXCSR comes with XSTATE_BV[1] set, see
 * mark_mxcsr_written). */
static uint32_t image_mxcsr(const struct x86_emu_cpu *cpu)
{
    uint32_t mxcsr = x86_emu_get32(cpu->xsave.region + 24);
    if (!(xinuse(cpu) & (SSE_STATE | AVX_STATE)) && mxcsr == 0) {
        return X86_MXCSR_DEFAULT;
    }
    return mxcsr;
}

/* KVM (Linux's copy_uabi_to_xstate) takes MXCSR from an image only when its
 * SSE or AVX bit is set; after writing MXCSR make sure it will. XINUSE may
 * be 1 for a component in its initial configuration, so this is harmless. */
static void mark_mxcsr_written(uint8_t *img)
{
    uint64_t bv = x86_emu_get64(img + X86_XSAVE_HDR);
    if (!(bv & (SSE_STATE | AVX_STATE))) {
        x86_emu_put64(img + X86_XSAVE_HDR, bv | SSE_STATE);
    }
}

static bool is_mode64(const struct x86_emu_ctx *ctx)
{
    return ctx->mode == X86_EMU_MODE_LONG64;
}

/* Where component i (>= 2) lives in the standard-format image. */
static bool std_location(const struct x86_emu_config *cfg, unsigned i, uint32_t *offset,
                         uint32_t *size)
{
    if (i < 2 || i >= X86_EMU_XSTATE_MAX) {
        return false;
    }
    const struct x86_emu_xstate_component *c = &cfg->xstate[i];
    if (c->size == 0 || c->supervisor || c->offset < X86_XSAVE_EXT ||
        (uint64_t)c->offset + c->size > HV_XSAVE_SIZE) {
        return false;
    }
    *offset = c->offset;
    *size = c->size;
    return true;
}

/* Bytes of component i an instruction moves: outside 64-bit mode only the
 * registers that exist there (YMM0-7 / ZMM0-7 upper halves, no ZMM16-31). */
static uint32_t moved_size(const struct x86_emu_ctx *ctx, unsigned i, uint32_t size)
{
    if (is_mode64(ctx)) {
        return size;
    }
    switch (i) {
    case 2:
    case 6:
        return size / 2;
    case 7:
        return 0;
    default:
        return size;
    }
}

/* Every component in mask can be moved to/from the image. */
static bool mask_supported(const struct x86_emu_config *cfg, uint64_t mask)
{
    for (unsigned i = 2; i < 64; i++) {
        uint32_t off, size;
        if ((mask >> i) & 1) {
            if (!std_location(cfg, i, &off, &size)) {
                return false;
            }
        }
    }
    return true;
}

/* Offsets of the components of xcomp (bit 63 ignored) in the compacted
 * format (SDM vol. 1 13.4.3); *total is the area's size. */
static bool compacted_layout(const struct x86_emu_config *cfg, uint64_t xcomp,
                             uint32_t offsets[X86_EMU_XSTATE_MAX], uint32_t *total)
{
    uint32_t pos = X86_XSAVE_EXT;
    for (unsigned i = 2; i < 63; i++) {
        if (!((xcomp >> i) & 1)) {
            continue;
        }
        if (i >= X86_EMU_XSTATE_MAX || cfg->xstate[i].size == 0) {
            return false;
        }
        if (cfg->xstate[i].align64) {
            pos = (pos + 63) & ~63u;
        }
        offsets[i] = pos;
        pos += cfg->xstate[i].size;
        if (pos > X86_EMU_MAX_ACCESS) {
            return false;
        }
    }
    *total = pos;
    return true;
}

static uint32_t standard_size(const struct x86_emu_config *cfg, uint64_t mask)
{
    uint32_t end = X86_XSAVE_EXT;
    for (unsigned i = 2; i < X86_EMU_XSTATE_MAX; i++) {
        uint32_t off, size;
        if (((mask >> i) & 1) && std_location(cfg, i, &off, &size) && off + size > end) {
            end = off + size;
        }
    }
    return end;
}

/* ---- moving components between the image and an area ---- */

/* x87 state: bytes 0-23 and 32-159. The image holds the 64-bit format
 * (FIP/FDP 64 bits, as the host saved it with REX.W); the 32-bit format has
 * FCS/FDS in bytes 12-13/20-21, not tracked here and stored as 0 — what CPUs
 * with CPUID.7.EBX[13] (FCS/FDS deprecation) store too. */
static void save_x87(const uint8_t *img, bool in_use, uint8_t *area, bool fmt64)
{
    if (in_use) {
        memcpy(area, img, 24);
        memcpy(area + 32, img + 32, 128);
    } else {
        memset(area, 0, 24);
        memset(area + 32, 0, 128);
        x86_emu_put16(area, X86_FCW_DEFAULT);
    }
    if (!fmt64) {
        memset(area + 12, 0, 4);
        memset(area + 20, 0, 4);
    }
}

static void load_x87(uint8_t *img, const uint8_t *area, bool fmt64)
{
    memcpy(img, area, 24);
    memcpy(img + 32, area + 32, 128);
    if (!fmt64) {
        memset(img + 12, 0, 4);     /* FIP and FDP are zero-extended */
        memset(img + 20, 0, 4);
    }
}

static void init_x87(uint8_t *img)
{
    memset(img, 0, 24);
    memset(img + 32, 0, 128);
    x86_emu_put16(img, X86_FCW_DEFAULT);
}

static unsigned xmm_count(const struct x86_emu_ctx *ctx)
{
    return is_mode64(ctx) ? 16 : 8;
}

static void save_xmm(const struct x86_emu_ctx *ctx, const uint8_t *img, bool in_use,
                     uint8_t *area)
{
    size_t n = 16 * xmm_count(ctx);
    if (in_use) {
        memcpy(area + 160, img + 160, n);
    } else {
        memset(area + 160, 0, n);
    }
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (p[k]) {
            return false;
        }
    }
    return true;
}

static void save_mxcsr(const struct x86_emu_ctx *ctx, uint8_t *area)
{
    x86_emu_put32(area + 24, image_mxcsr(ctx->cpu));
    x86_emu_put32(area + 28, ctx->cfg->mxcsr_mask);
}

/* ---- FXSAVE / FXRSTOR / LDMXCSR / STMXCSR ---- */

static enum x86_emu_result emu_fxsave_fxrstor(struct x86_emu_ctx *ctx,
                                              const struct x86_emu_insn *d, bool restore)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    if (d->lock || !(ctx->cfg->features & X86_EMU_FEAT_FXSR)) {
        return x86_emu_raise_ud(ctx);
    }
    if (cpu->sregs.cr0 & (X86_CR0_TS | X86_CR0_EM)) {
        return x86_emu_raise(ctx, X86_EXC_NM, false, 0);
    }
    uint64_t linear;
    enum x86_emu_result r = x86_emu_mmu_linear(ctx, d->mem_seg, d->mem_ea, 512,
                                               restore ? X86_ACC_READ : X86_ACC_WRITE, &linear);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (linear & 15) {
        return x86_emu_raise_gp0(ctx);
    }
    bool fmt64 = (d->rex & 8) != 0;
    unsigned user = x86_emu_acc_user(ctx);
    uint8_t area[512];
    /* FXSAVE leaves bytes 416-511 alone: read them back unchanged. */
    r = x86_emu_mmu_read(ctx, linear, area, sizeof(area),
                         (restore ? X86_ACC_READ : X86_ACC_WRITE) | user);
    if (r != X86_EMU_OK) {
        return r;
    }
    uint8_t *img = cpu->xsave.region;
    uint64_t in_use = xinuse(cpu);
    if (!restore) {
        save_x87(img, in_use & X87_STATE, area, fmt64);
        save_xmm(ctx, img, in_use & SSE_STATE, area);
        save_mxcsr(ctx, area);
        return x86_emu_mmu_write(ctx, linear, area, sizeof(area), X86_ACC_WRITE | user);
    }
    uint32_t mxcsr = x86_emu_get32(area + 24);
    if (mxcsr & ~ctx->cfg->mxcsr_mask) {
        return x86_emu_raise_gp0(ctx);
    }
    load_x87(img, area, fmt64);
    memcpy(img + 160, area + 160, 16 * xmm_count(ctx));
    x86_emu_put32(img + 24, mxcsr);
    x86_emu_put64(img + X86_XSAVE_HDR, in_use | X87_STATE | SSE_STATE);
    cpu->xsave_dirty = true;
    return X86_EMU_OK;
}

static enum x86_emu_result emu_mxcsr(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d,
                                     bool load)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    if (d->lock || !(ctx->cfg->features & X86_EMU_FEAT_SSE) || (cpu->sregs.cr0 & X86_CR0_EM) ||
        !(cpu->sregs.cr4 & X86_CR4_OSFXSR)) {
        return x86_emu_raise_ud(ctx);
    }
    if (cpu->sregs.cr0 & X86_CR0_TS) {
        return x86_emu_raise(ctx, X86_EXC_NM, false, 0);
    }
    uint64_t linear;
    enum x86_emu_result r = x86_emu_mmu_linear(ctx, d->mem_seg, d->mem_ea, 4,
                                               load ? X86_ACC_READ : X86_ACC_WRITE, &linear);
    if (r != X86_EMU_OK) {
        return r;
    }
    unsigned user = x86_emu_acc_user(ctx);
    uint8_t buf[4];
    if (!load) {
        x86_emu_put32(buf, image_mxcsr(cpu));
        return x86_emu_mmu_write(ctx, linear, buf, 4, X86_ACC_WRITE | user);
    }
    r = x86_emu_mmu_read(ctx, linear, buf, 4, X86_ACC_READ | user);
    if (r != X86_EMU_OK) {
        return r;
    }
    uint32_t mxcsr = x86_emu_get32(buf);
    if (mxcsr & ~ctx->cfg->mxcsr_mask) {
        return x86_emu_raise_gp0(ctx);
    }
    x86_emu_put32(cpu->xsave.region + 24, mxcsr);
    mark_mxcsr_written(cpu->xsave.region);
    cpu->xsave_dirty = true;
    return X86_EMU_OK;
}

/* ---- XSAVE family ---- */

/* #UD/#NM conditions shared by the XSAVE family (in the SDM's order). */
static enum x86_emu_result xsave_checks(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d,
                                        uint32_t feature)
{
    const struct x86_emu_cpu *cpu = ctx->cpu;
    uint32_t have = ctx->cfg->features;
    if (!(have & X86_EMU_FEAT_XSAVE) || (feature && !(have & feature)) ||
        !(cpu->sregs.cr4 & X86_CR4_OSXSAVE) || d->lock || d->p66 || d->rep) {
        return x86_emu_raise_ud(ctx);
    }
    if (cpu->sregs.cr0 & X86_CR0_TS) {
        return x86_emu_raise(ctx, X86_EXC_NM, false, 0);
    }
    return X86_EMU_OK;
}

static uint64_t instruction_mask(const struct x86_emu_cpu *cpu)
{
    return (cpu->regs.rax & 0xFFFFFFFFull) | (cpu->regs.rdx << 32);
}

static enum x86_emu_result emu_xsave(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d,
                                     enum xs_op op)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    const struct x86_emu_config *cfg = ctx->cfg;
    bool compacted = op == XS_XSAVEC || op == XS_XSAVES;
    if (op == XS_XSAVES && ctx->cpl > 0) {
        return x86_emu_raise_gp0(ctx);
    }
    uint64_t allowed = cpu->xcrs.xcr0 | (op == XS_XSAVES ? cpu->xss : 0);
    uint64_t rfbm = instruction_mask(cpu) & allowed & ~COMPACTED;
    if (!mask_supported(cfg, rfbm)) {
        return X86_EMU_UNKNOWN;
    }
    uint32_t offsets[X86_EMU_XSTATE_MAX] = { 0 };
    uint32_t size;
    if (compacted) {
        if (!compacted_layout(cfg, rfbm, offsets, &size)) {
            return X86_EMU_UNKNOWN;
        }
    } else {
        size = standard_size(cfg, rfbm);
    }
    uint64_t linear;
    enum x86_emu_result r = x86_emu_mmu_linear(ctx, d->mem_seg, d->mem_ea, size, X86_ACC_WRITE,
                                               &linear);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (linear & 63) {
        return x86_emu_raise_gp0(ctx);
    }
    unsigned acc = X86_ACC_WRITE | x86_emu_acc_user(ctx);
    /* Read-modify-write of the whole area: the bytes XSAVE leaves alone
     * (464-511, the header's tail, unrequested components) stay as they were,
     * and every page faults before anything is written. */
    uint8_t area[X86_EMU_MAX_ACCESS];
    r = x86_emu_mmu_read(ctx, linear, area, size, acc);
    if (r != X86_EMU_OK) {
        return r;
    }
    const uint8_t *img = cpu->xsave.region;
    uint64_t in_use = xinuse(cpu);
    bool fmt64 = (d->rex & 8) != 0;
    if (!compacted) {
        bool always = op == XS_XSAVE;   /* XSAVEOPT uses the init optimization */
        if ((rfbm & X87_STATE) && (always || (in_use & X87_STATE))) {
            save_x87(img, in_use & X87_STATE, area, fmt64);
        }
        if ((rfbm & SSE_STATE) && (always || (in_use & SSE_STATE))) {
            save_xmm(ctx, img, in_use & SSE_STATE, area);
        }
        if (rfbm & (SSE_STATE | AVX_STATE)) {
            save_mxcsr(ctx, area);
        }
        for (unsigned i = 2; i < X86_EMU_XSTATE_MAX; i++) {
            uint32_t off, csize;
            bool used = (in_use >> i) & 1;
            if (!((rfbm >> i) & 1) || !(always || used) || !std_location(cfg, i, &off, &csize)) {
                continue;
            }
            uint32_t n = moved_size(ctx, i, csize);
            if (used) {
                memcpy(area + off, img + off, n);
            } else {
                memset(area + off, 0, n);
            }
        }
        uint64_t old_bv = x86_emu_get64(area + X86_XSAVE_HDR);
        x86_emu_put64(area + X86_XSAVE_HDR, (old_bv & ~rfbm) | (in_use & rfbm));
    } else {
        uint64_t bv = in_use & rfbm;
        /* MXCSR belongs to SSE: a non-default MXCSR is saved (and marked)
         * even when the XMM registers are in their initial state. */
        if ((rfbm & SSE_STATE) && image_mxcsr(cpu) != X86_MXCSR_DEFAULT) {
            bv |= SSE_STATE;
        }
        if (bv & X87_STATE) {
            save_x87(img, true, area, fmt64);
        }
        if (bv & SSE_STATE) {
            save_xmm(ctx, img, in_use & SSE_STATE, area);
            save_mxcsr(ctx, area);
        }
        for (unsigned i = 2; i < X86_EMU_XSTATE_MAX; i++) {
            uint32_t off, csize;
            if (((bv >> i) & 1) && std_location(cfg, i, &off, &csize)) {
                memcpy(area + offsets[i], img + off, moved_size(ctx, i, csize));
            }
        }
        x86_emu_put64(area + X86_XSAVE_HDR, bv);
        x86_emu_put64(area + X86_XSAVE_HDR + 8, rfbm | COMPACTED);
    }
    return x86_emu_mmu_write(ctx, linear, area, size, acc);
}

static enum x86_emu_result emu_xrstor(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d,
                                      bool supervisor)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    const struct x86_emu_config *cfg = ctx->cfg;
    if (supervisor && ctx->cpl > 0) {
        return x86_emu_raise_gp0(ctx);
    }
    uint64_t allowed = cpu->xcrs.xcr0 | (supervisor ? cpu->xss : 0);
    uint64_t rfbm = instruction_mask(cpu) & allowed & ~COMPACTED;
    unsigned acc = X86_ACC_READ | x86_emu_acc_user(ctx);

    /* The legacy region and the header first: they decide the format. */
    uint64_t linear;
    enum x86_emu_result r = x86_emu_mmu_linear(ctx, d->mem_seg, d->mem_ea, X86_XSAVE_EXT,
                                               X86_ACC_READ, &linear);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (linear & 63) {
        return x86_emu_raise_gp0(ctx);
    }
    uint8_t area[X86_EMU_MAX_ACCESS];
    r = x86_emu_mmu_read(ctx, linear, area, X86_XSAVE_EXT, acc);
    if (r != X86_EMU_OK) {
        return r;
    }
    const uint8_t *hdr = area + X86_XSAVE_HDR;
    uint64_t xstate_bv = x86_emu_get64(hdr);
    uint64_t xcomp_bv = x86_emu_get64(hdr + 8);
    bool compacted = (xcomp_bv & COMPACTED) != 0;
    uint32_t offsets[X86_EMU_XSTATE_MAX] = { 0 };
    uint32_t size;
    if (!compacted) {
        if (supervisor || (xstate_bv & ~cpu->xcrs.xcr0) || !all_zero(hdr + 8, 16)) {
            return x86_emu_raise_gp0(ctx);
        }
        size = standard_size(cfg, rfbm & xstate_bv);
    } else {
        if (!supervisor && !(cfg->features & X86_EMU_FEAT_XSAVEC)) {
            return x86_emu_raise_gp0(ctx);
        }
        if ((xcomp_bv & ~COMPACTED & ~allowed) || (xstate_bv & ~(xcomp_bv & ~COMPACTED)) ||
            !all_zero(hdr + 16, 48)) {
            return x86_emu_raise_gp0(ctx);
        }
        if (!compacted_layout(cfg, xcomp_bv, offsets, &size)) {
            return X86_EMU_UNKNOWN;
        }
    }
    if (!mask_supported(cfg, rfbm)) {
        return X86_EMU_UNKNOWN;
    }
    if (size > X86_XSAVE_EXT) {
        /* Re-check the segment for the whole area and read the rest. */
        uint64_t whole;
        r = x86_emu_mmu_linear(ctx, d->mem_seg, d->mem_ea, size, X86_ACC_READ, &whole);
        if (r != X86_EMU_OK) {
            return r;
        }
        r = x86_emu_mmu_read(ctx, whole, area, size, acc);
        if (r != X86_EMU_OK) {
            return r;
        }
    }

    /* MXCSR: the standard form loads it whenever SSE or AVX is requested,
     * the compacted form only with the SSE state itself. */
    bool load_mxcsr = compacted ? ((rfbm & xstate_bv & SSE_STATE) != 0)
                                : ((rfbm & (SSE_STATE | AVX_STATE)) != 0);
    uint32_t mxcsr = x86_emu_get32(area + 24);
    if (load_mxcsr && (mxcsr & ~cfg->mxcsr_mask)) {
        return x86_emu_raise_gp0(ctx);
    }

    /* All checks passed: build the new image, then commit it whole. */
    struct hv_xsave next = cpu->xsave;
    uint8_t *img = next.region;
    uint64_t bv = x86_emu_get64(img + X86_XSAVE_HDR);
    bool fmt64 = (d->rex & 8) != 0;
    if (rfbm & X87_STATE) {
        if (xstate_bv & X87_STATE) {
            load_x87(img, area, fmt64);
            bv |= X87_STATE;
        } else {
            init_x87(img);
            bv &= ~X87_STATE;
        }
    }
    if (rfbm & SSE_STATE) {
        size_t n = 16 * xmm_count(ctx);
        if (xstate_bv & SSE_STATE) {
            memcpy(img + 160, area + 160, n);
            bv |= SSE_STATE;
        } else {
            memset(img + 160, 0, n);
            /* Outside 64-bit mode XMM8-15 keep their values. */
            if (all_zero(img + 160, 256)) {
                bv &= ~SSE_STATE;
            }
        }
    }
    for (unsigned i = 2; i < X86_EMU_XSTATE_MAX; i++) {
        uint32_t off, csize;
        if (!((rfbm >> i) & 1) || !std_location(cfg, i, &off, &csize)) {
            continue;
        }
        uint32_t n = moved_size(ctx, i, csize);
        uint32_t src = compacted ? offsets[i] : off;
        if ((xstate_bv >> i) & 1) {
            memcpy(img + off, area + src, n);
            bv |= 1ull << i;
        } else {
            memset(img + off, 0, n);
            if (all_zero(img + off, csize)) {
                bv &= ~(1ull << i);
            }
        }
    }
    x86_emu_put64(img + X86_XSAVE_HDR, bv);
    if (load_mxcsr) {
        x86_emu_put32(img + 24, mxcsr);
        mark_mxcsr_written(img);
    } else if (compacted && (rfbm & SSE_STATE)) {
        /* The compacted form initializes MXCSR with the SSE state. */
        x86_emu_put32(img + 24, X86_MXCSR_DEFAULT);
        mark_mxcsr_written(img);
    }
    cpu->xsave = next;
    cpu->xsave_dirty = true;
    return X86_EMU_OK;
}

const char *x86_emu_xsave_mnemonic(const struct x86_emu_insn *d)
{
    if (d->map != 1 || d->mod == 3) {
        return NULL;
    }
    bool w = (d->rex & 8) != 0;
    if (d->opcode == 0xAE) {
        switch (d->reg & 7) {
        case 0: return w ? "fxsave64" : "fxsave";
        case 1: return w ? "fxrstor64" : "fxrstor";
        case 2: return "ldmxcsr";
        case 3: return "stmxcsr";
        case 4: return w ? "xsave64" : "xsave";
        case 5: return w ? "xrstor64" : "xrstor";
        case 6: return w ? "xsaveopt64" : "xsaveopt";
        default: return NULL;
        }
    }
    if (d->opcode == 0xC7) {
        switch (d->reg & 7) {
        case 3: return w ? "xrstors64" : "xrstors";
        case 4: return w ? "xsavec64" : "xsavec";
        case 5: return w ? "xsaves64" : "xsaves";
        default: return NULL;
        }
    }
    return NULL;
}

enum x86_emu_result x86_emu_xsave_exec(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d)
{
    if (d->mod == 3 || d->map != 1) {
        return X86_EMU_UNKNOWN;
    }
    enum x86_emu_result r;
    if (d->opcode == 0xAE) {
        unsigned op = d->reg & 7;
        if (op <= 3 && d->rep) {
            return X86_EMU_UNKNOWN;     /* F3 0F AE /0-3 are other instructions */
        }
        switch (op) {
        case 0: return emu_fxsave_fxrstor(ctx, d, false);
        case 1: return emu_fxsave_fxrstor(ctx, d, true);
        case 2: return emu_mxcsr(ctx, d, true);
        case 3: return emu_mxcsr(ctx, d, false);
        case 4:
            r = xsave_checks(ctx, d, 0);
            return r != X86_EMU_OK ? r : emu_xsave(ctx, d, XS_XSAVE);
        case 5:
            r = xsave_checks(ctx, d, 0);
            return r != X86_EMU_OK ? r : emu_xrstor(ctx, d, false);
        case 6:
            r = xsave_checks(ctx, d, X86_EMU_FEAT_XSAVEOPT);
            return r != X86_EMU_OK ? r : emu_xsave(ctx, d, XS_XSAVEOPT);
        default:
            return X86_EMU_UNKNOWN;     /* CLFLUSH(OPT), CLWB */
        }
    }
    if (d->opcode == 0xC7) {
        switch (d->reg & 7) {
        case 3:
            r = xsave_checks(ctx, d, X86_EMU_FEAT_XSAVES);
            return r != X86_EMU_OK ? r : emu_xrstor(ctx, d, true);
        case 4:
            r = xsave_checks(ctx, d, X86_EMU_FEAT_XSAVEC);
            return r != X86_EMU_OK ? r : emu_xsave(ctx, d, XS_XSAVEC);
        case 5:
            r = xsave_checks(ctx, d, X86_EMU_FEAT_XSAVES);
            return r != X86_EMU_OK ? r : emu_xsave(ctx, d, XS_XSAVES);
        default:
            return X86_EMU_UNKNOWN;
        }
    }
    return X86_EMU_UNKNOWN;
}

/* ---- XGETBV / XSETBV ---- */

enum x86_emu_result x86_emu_xsave_xgetbv(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    if (d->lock || !(ctx->cfg->features & X86_EMU_FEAT_XSAVE) ||
        !(cpu->sregs.cr4 & X86_CR4_OSXSAVE)) {
        return x86_emu_raise_ud(ctx);
    }
    uint32_t index = (uint32_t)cpu->regs.rcx;
    uint64_t value;
    if (index == 0) {
        value = cpu->xcrs.xcr0;
    } else if (index == 1 && (ctx->cfg->features & X86_EMU_FEAT_XGETBV1)) {
        value = cpu->xcrs.xcr0 & xinuse(cpu);
    } else {
        return x86_emu_raise_gp0(ctx);
    }
    cpu->regs.rax = value & 0xFFFFFFFFull;
    cpu->regs.rdx = value >> 32;
    return X86_EMU_OK;
}

enum x86_emu_result x86_emu_xsave_xsetbv(struct x86_emu_ctx *ctx, const struct x86_emu_insn *d)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    if (d->lock || !(ctx->cfg->features & X86_EMU_FEAT_XSAVE) ||
        !(cpu->sregs.cr4 & X86_CR4_OSXSAVE)) {
        return x86_emu_raise_ud(ctx);
    }
    if (ctx->cpl > 0 || (uint32_t)cpu->regs.rcx != 0) {
        return x86_emu_raise_gp0(ctx);
    }
    uint64_t v = instruction_mask(cpu);
    /* XCR0 rules (SDM vol. 1 13.3): x87 always on; AVX needs SSE; the MPX
     * pair, the AVX-512 triple (with AVX) and the AMX pair go together. */
    bool bad = !(v & X87_STATE) || (v & ~ctx->cfg->xcr0_supported) ||
               ((v & AVX_STATE) && !(v & SSE_STATE)) ||
               (((v >> 3) & 1) != ((v >> 4) & 1)) ||
               ((v & 0xE0) && ((v & 0xE0) != 0xE0 || !(v & AVX_STATE))) ||
               (((v >> 17) & 1) != ((v >> 18) & 1));
    if (bad) {
        return x86_emu_raise_gp0(ctx);
    }
    cpu->xcrs.xcr0 = v;
    cpu->xcrs_dirty = true;
    return X86_EMU_OK;
}
