/* Event delivery done by the VMM: some nested hosts' KVM neither emulates
 * INT3/INT n in guest kernel mode nor delivers the resulting #BP, so Hostel
 * delivers it — and any fault that delivery raises — itself.
 * Long mode: 64-bit IDT gates, IST and RSPn from the 64-bit TSS. Protected
 * mode: 32/16-bit interrupt and trap gates, SSn:ESPn from the TSS (task gates
 * are not supported). Real mode: the IVT. Intel SDM vol. 3 ch. 6 and 7.
 */
#include "x86_emu_internal.h"

#define GATE_TASK 0x5
#define GATE_INT16 0x6
#define GATE_TRAP16 0x7
#define GATE_INT 0xE
#define GATE_TRAP 0xF

/* An event being delivered. */
struct event {
    uint8_t vector;
    bool has_error;
    uint32_t error_code;
    bool soft;
    uint64_t return_ip;
    uint32_t ext;           /* EXT bit for error codes of faults raised on the way */
};

static uint32_t idt_error(const struct event *ev)
{
    return (uint32_t)ev->vector * 8 + 2 + ev->ext;
}

static uint32_t sel_error(const struct event *ev, uint16_t selector)
{
    return (uint32_t)(selector & 0xFFFC) + ev->ext;
}

/* Faults push RFLAGS with RF set, so the restarted instruction does not
 * re-trigger an instruction breakpoint (SDM vol. 3 17.3.1.1). */
static bool is_fault_vector(uint8_t v)
{
    switch (v) {
    case X86_EXC_DE: case X86_EXC_BR: case X86_EXC_UD: case X86_EXC_NM: case X86_EXC_TS:
    case X86_EXC_NP: case X86_EXC_SS: case X86_EXC_GP: case X86_EXC_PF: case X86_EXC_MF:
    case X86_EXC_AC: case 19: case 20: case 21:
        return true;
    default:
        return false;
    }
}

static void parse_descriptor(uint64_t d, struct hv_segment *s)
{
    memset(s, 0, sizeof(*s));
    uint32_t limit = (uint32_t)(d & 0xFFFF) | (uint32_t)(((d >> 48) & 0xF) << 16);
    s->g = (d >> 55) & 1;
    s->limit = s->g ? (limit << 12) | 0xFFF : limit;
    s->base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
    s->type = (d >> 40) & 0xF;
    s->s = (d >> 44) & 1;
    s->dpl = (d >> 45) & 3;
    s->present = (d >> 47) & 1;
    s->avl = (d >> 52) & 1;
    s->l = (d >> 53) & 1;
    s->db = (d >> 54) & 1;
}

/* Read a system table's bytes: a supervisor access, SMAP-checked regardless
 * of RFLAGS.AC. */
static enum x86_emu_result read_system(struct x86_emu_ctx *ctx, uint64_t linear, void *buf,
                                       size_t len)
{
    if (!(ctx->cpu->sregs.efer & X86_EFER_LMA)) {
        linear &= 0xFFFFFFFFull;
    }
    return x86_emu_mmu_read(ctx, linear, buf, len, X86_ACC_READ | X86_ACC_IMPLICIT);
}

/* The GDT/LDT descriptor of selector (not null); #GP(selector) if outside. */
static enum x86_emu_result read_descriptor(struct x86_emu_ctx *ctx, const struct event *ev,
                                           uint16_t selector, uint8_t vector,
                                           struct hv_segment *out)
{
    const struct hv_sregs *sr = &ctx->cpu->sregs;
    uint64_t base, limit;
    if (selector & 4) {
        if (sr->ldt.unusable || !sr->ldt.present) {
            return x86_emu_raise(ctx, vector, true, sel_error(ev, selector));
        }
        base = sr->ldt.base;
        limit = sr->ldt.limit;
    } else {
        base = sr->gdt.base;
        limit = sr->gdt.limit;
    }
    uint64_t index = selector & 0xFFF8u;
    if (index + 7 > limit) {
        return x86_emu_raise(ctx, vector, true, sel_error(ev, selector));
    }
    uint8_t raw[8];
    enum x86_emu_result r = read_system(ctx, base + index, raw, 8);
    if (r != X86_EMU_OK) {
        return r;
    }
    parse_descriptor(x86_emu_get64(raw), out);
    out->selector = selector;
    return X86_EMU_OK;
}

/* The code segment a gate points to: present, code, DPL <= CPL. */
static enum x86_emu_result gate_code_segment(struct x86_emu_ctx *ctx, const struct event *ev,
                                             uint16_t selector, struct hv_segment *cs)
{
    if ((selector & 0xFFFC) == 0) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, ev->ext);
    }
    enum x86_emu_result r = read_descriptor(ctx, ev, selector, X86_EXC_GP, cs);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (!cs->s || !(cs->type & 8) || cs->dpl > ctx->cpl) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, sel_error(ev, selector));
    }
    if (!cs->present) {
        return x86_emu_raise(ctx, X86_EXC_NP, true, sel_error(ev, selector));
    }
    return X86_EMU_OK;
}

static enum x86_emu_result read_tss(struct x86_emu_ctx *ctx, const struct event *ev,
                                    uint32_t offset, void *buf, size_t len)
{
    const struct hv_segment *tr = &ctx->cpu->sregs.tr;
    if (tr->unusable || !tr->present || (uint64_t)offset + len - 1 > tr->limit) {
        return x86_emu_raise(ctx, X86_EXC_TS, true, sel_error(ev, tr->selector));
    }
    return read_system(ctx, tr->base + offset, buf, len);
}

static void set_flat_stack(struct hv_segment *ss, unsigned cpl)
{
    memset(ss, 0, sizeof(*ss));
    ss->selector = (uint16_t)cpl;   /* a null selector carrying the new RPL */
    ss->limit = 0xFFFFFFFF;
    ss->type = 3;
    ss->s = 1;
    ss->dpl = (uint8_t)cpl;
    ss->present = 1;
    ss->db = 1;
    ss->g = 1;
}

static uint64_t pushed_flags(const struct x86_emu_cpu *cpu, const struct event *ev)
{
    uint64_t fl = cpu->regs.rflags;
    if (!ev->soft && is_fault_vector(ev->vector)) {
        fl |= X86_RFLAGS_RF;
    }
    return fl;
}

/* ---- long mode ---- */

static enum x86_emu_result deliver_long(struct x86_emu_ctx *ctx, const struct event *ev)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    const struct hv_sregs *sr = &cpu->sregs;
    if ((uint64_t)ev->vector * 16 + 15 > sr->idt.limit) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, idt_error(ev));
    }
    uint8_t gate[16];
    enum x86_emu_result r = read_system(ctx, sr->idt.base + (uint64_t)ev->vector * 16, gate, 16);
    if (r != X86_EMU_OK) {
        return r;
    }
    uint64_t lo = x86_emu_get64(gate), hi = x86_emu_get64(gate + 8);
    uint64_t target = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF0000ull) | ((hi & 0xFFFFFFFFull) << 32);
    uint16_t selector = (uint16_t)(lo >> 16);
    unsigned ist = (lo >> 32) & 7;
    unsigned type = (lo >> 40) & 0xF;
    unsigned dpl = (lo >> 45) & 3;
    if ((type != GATE_INT && type != GATE_TRAP) || ((lo >> 44) & 1)) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, idt_error(ev));
    }
    if (ev->soft && dpl < ctx->cpl) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, idt_error(ev));
    }
    if (!((lo >> 47) & 1)) {
        return x86_emu_raise(ctx, X86_EXC_NP, true, idt_error(ev));
    }
    struct hv_segment cs;
    r = gate_code_segment(ctx, ev, selector, &cs);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (!cs.l || cs.db) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, sel_error(ev, selector));
    }
    unsigned new_cpl = (cs.type & 4) ? ctx->cpl : cs.dpl;
    bool inner = new_cpl < ctx->cpl;

    uint64_t rsp = cpu->regs.rsp;
    if (ist || inner) {
        uint8_t raw[8];
        uint32_t off = ist ? 0x24 + (ist - 1) * 8 : 4 + new_cpl * 8;
        r = read_tss(ctx, ev, off, raw, 8);
        if (r != X86_EMU_OK) {
            return r;
        }
        rsp = x86_emu_get64(raw);
    }
    rsp &= ~0xFull;     /* 64-bit delivery aligns the frame to 16 bytes */
    unsigned n = ev->has_error ? 6 : 5;
    uint64_t frame_rsp = rsp - 8 * n;
    if (!x86_emu_canonical(cpu, rsp) || !x86_emu_canonical(cpu, frame_rsp)) {
        return x86_emu_raise(ctx, X86_EXC_SS, true, ev->ext);
    }
    if (!x86_emu_canonical(cpu, target)) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, ev->ext);
    }
    uint8_t frame[48];
    unsigned k = 0;
    if (ev->has_error) {
        x86_emu_put64(frame + 8 * k++, ev->error_code);
    }
    x86_emu_put64(frame + 8 * k++, ev->return_ip);
    x86_emu_put64(frame + 8 * k++, sr->cs.selector);
    x86_emu_put64(frame + 8 * k++, pushed_flags(cpu, ev));
    x86_emu_put64(frame + 8 * k++, cpu->regs.rsp);
    x86_emu_put64(frame + 8 * k++, sr->ss.selector);
    r = x86_emu_mmu_write(ctx, frame_rsp, frame, 8 * n,
                          X86_ACC_WRITE | (new_cpl == 3 ? X86_ACC_USER : 0));
    if (r != X86_EMU_OK) {
        return r;
    }

    cs.selector = (uint16_t)((selector & 0xFFFC) | new_cpl);
    cpu->sregs.cs = cs;
    if (inner) {
        set_flat_stack(&cpu->sregs.ss, new_cpl);
    }
    cpu->regs.rsp = frame_rsp;
    cpu->regs.rip = target;
    cpu->regs.rflags &= ~(X86_RFLAGS_TF | X86_RFLAGS_NT | X86_RFLAGS_RF | X86_RFLAGS_VM);
    if (type == GATE_INT) {
        cpu->regs.rflags &= ~X86_RFLAGS_IF;
    }
    return X86_EMU_OK;
}

/* ---- protected mode ---- */

static enum x86_emu_result inner_stack(struct x86_emu_ctx *ctx, const struct event *ev,
                                       unsigned new_cpl, struct hv_segment *ss, uint64_t *sp)
{
    const struct hv_segment *tr = &ctx->cpu->sregs.tr;
    uint8_t raw[8] = { 0 };
    uint16_t ss_sel;
    enum x86_emu_result r;
    if (tr->type == 9 || tr->type == 11) {          /* 32-bit TSS */
        r = read_tss(ctx, ev, 4 + new_cpl * 8, raw, 8);
        *sp = x86_emu_get32(raw);
        ss_sel = x86_emu_get16(raw + 4);
    } else if (tr->type == 1 || tr->type == 3) {    /* 16-bit TSS */
        r = read_tss(ctx, ev, 2 + new_cpl * 4, raw, 4);
        *sp = x86_emu_get16(raw);
        ss_sel = x86_emu_get16(raw + 2);
    } else {
        return x86_emu_raise(ctx, X86_EXC_TS, true, sel_error(ev, tr->selector));
    }
    if (r != X86_EMU_OK) {
        return r;
    }
    if ((ss_sel & 0xFFFC) == 0 || (ss_sel & 3) != new_cpl) {
        return x86_emu_raise(ctx, X86_EXC_TS, true, sel_error(ev, ss_sel));
    }
    r = read_descriptor(ctx, ev, ss_sel, X86_EXC_TS, ss);
    if (r != X86_EMU_OK) {
        return r;
    }
    if (!ss->s || (ss->type & 8) || !(ss->type & 2) || ss->dpl != new_cpl) {
        return x86_emu_raise(ctx, X86_EXC_TS, true, sel_error(ev, ss_sel));
    }
    if (!ss->present) {
        return x86_emu_raise(ctx, X86_EXC_SS, true, sel_error(ev, ss_sel));
    }
    return X86_EMU_OK;
}

static void put_unit(uint8_t *p, unsigned unit, uint64_t v)
{
    if (unit == 4) {
        x86_emu_put32(p, (uint32_t)v);
    } else {
        x86_emu_put16(p, (uint16_t)v);
    }
}

static enum x86_emu_result deliver_protected(struct x86_emu_ctx *ctx, const struct event *ev)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    const struct hv_sregs *sr = &cpu->sregs;
    if ((uint64_t)ev->vector * 8 + 7 > sr->idt.limit) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, idt_error(ev));
    }
    uint8_t gate[8];
    enum x86_emu_result r = read_system(ctx, sr->idt.base + (uint64_t)ev->vector * 8, gate, 8);
    if (r != X86_EMU_OK) {
        return r;
    }
    uint64_t g = x86_emu_get64(gate);
    uint32_t target = (uint32_t)(g & 0xFFFF) | (uint32_t)((g >> 48) << 16);
    uint16_t selector = (uint16_t)(g >> 16);
    unsigned type = (g >> 40) & 0xF;
    unsigned dpl = (g >> 45) & 3;
    if (type == GATE_TASK) {
        return X86_EMU_UNKNOWN;     /* task switches are not emulated */
    }
    if ((type != GATE_INT && type != GATE_TRAP && type != GATE_INT16 && type != GATE_TRAP16) ||
        ((g >> 44) & 1)) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, idt_error(ev));
    }
    if (ev->soft && dpl < ctx->cpl) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, idt_error(ev));
    }
    if (!((g >> 47) & 1)) {
        return x86_emu_raise(ctx, X86_EXC_NP, true, idt_error(ev));
    }
    bool gate32 = (type & 8) != 0;
    if (!gate32) {
        target &= 0xFFFF;
    }
    struct hv_segment cs;
    r = gate_code_segment(ctx, ev, selector, &cs);
    if (r != X86_EMU_OK) {
        return r;
    }
    unsigned new_cpl = (cs.type & 4) ? ctx->cpl : cs.dpl;
    bool inner = new_cpl < ctx->cpl;
    struct hv_segment ss = sr->ss;
    uint64_t sp = cpu->regs.rsp;
    uint32_t ss_code = 0;
    if (inner) {
        r = inner_stack(ctx, ev, new_cpl, &ss, &sp);
        if (r != X86_EMU_OK) {
            return r;
        }
        ss_code = sel_error(ev, ss.selector);
    }
    if (target > cs.limit) {
        return x86_emu_raise(ctx, X86_EXC_GP, true, 0);
    }
    unsigned unit = gate32 ? 4 : 2;
    unsigned n = (inner ? 2 : 0) + 3 + (ev->has_error ? 1 : 0);
    uint64_t sp_mask = ss.db ? 0xFFFFFFFFull : 0xFFFFull;
    uint64_t new_sp = (sp - unit * n) & sp_mask;
    uint64_t linear;
    r = x86_emu_mmu_linear_seg(ctx, &ss, X86_EXC_SS, ss_code, new_sp, unit * n, X86_ACC_WRITE,
                               &linear);
    if (r != X86_EMU_OK) {
        return r;
    }
    uint8_t frame[28];
    unsigned k = 0;
    if (ev->has_error) {
        put_unit(frame + unit * k++, unit, ev->error_code);
    }
    put_unit(frame + unit * k++, unit, ev->return_ip);
    put_unit(frame + unit * k++, unit, sr->cs.selector);
    put_unit(frame + unit * k++, unit, pushed_flags(cpu, ev));
    if (inner) {
        put_unit(frame + unit * k++, unit, cpu->regs.rsp);
        put_unit(frame + unit * k++, unit, sr->ss.selector);
    }
    r = x86_emu_mmu_write(ctx, linear, frame, unit * n,
                          X86_ACC_WRITE | (new_cpl == 3 ? X86_ACC_USER : 0));
    if (r != X86_EMU_OK) {
        return r;
    }
    cs.selector = (uint16_t)((selector & 0xFFFC) | new_cpl);
    cpu->sregs.cs = cs;
    if (inner) {
        cpu->sregs.ss = ss;
        cpu->regs.rsp = new_sp;
    } else {
        cpu->regs.rsp = (cpu->regs.rsp & ~sp_mask) | new_sp;
    }
    cpu->regs.rip = target;
    cpu->regs.rflags &= ~(X86_RFLAGS_TF | X86_RFLAGS_NT | X86_RFLAGS_RF | X86_RFLAGS_VM);
    if (type == GATE_INT || type == GATE_INT16) {
        cpu->regs.rflags &= ~X86_RFLAGS_IF;
    }
    return X86_EMU_OK;
}

/* ---- real mode ---- */

static enum x86_emu_result deliver_real(struct x86_emu_ctx *ctx, const struct event *ev)
{
    struct x86_emu_cpu *cpu = ctx->cpu;
    struct hv_sregs *sr = &cpu->sregs;
    if ((uint64_t)ev->vector * 4 + 3 > sr->idt.limit) {
        return x86_emu_raise(ctx, X86_EXC_GP, false, 0);
    }
    uint8_t entry[4];
    enum x86_emu_result r = read_system(ctx, sr->idt.base + (uint64_t)ev->vector * 4, entry, 4);
    if (r != X86_EMU_OK) {
        return r;
    }
    /* FLAGS, CS, IP, each a word at SS:SP-2 (SP wraps within 64 KiB). No
     * error code is pushed in real mode. */
    uint16_t words[3] = {
        (uint16_t)pushed_flags(cpu, ev), sr->cs.selector, (uint16_t)ev->return_ip,
    };
    uint64_t sp = cpu->regs.rsp & 0xFFFF;
    uint64_t lin[3];
    for (unsigned k = 0; k < 3; k++) {
        sp = (sp - 2) & 0xFFFF;
        r = x86_emu_mmu_linear_seg(ctx, &sr->ss, X86_EXC_SS, 0, sp, 2, X86_ACC_WRITE, &lin[k]);
        if (r != X86_EMU_OK) {
            return r;
        }
    }
    for (unsigned k = 0; k < 3; k++) {
        uint8_t b[2];
        x86_emu_put16(b, words[k]);
        r = x86_emu_mmu_write(ctx, lin[k], b, 2, X86_ACC_WRITE);
        if (r != X86_EMU_OK) {
            return r;
        }
    }
    uint16_t seg = x86_emu_get16(entry + 2);
    cpu->regs.rsp = (cpu->regs.rsp & ~0xFFFFull) | sp;
    cpu->regs.rip = x86_emu_get16(entry);
    cpu->regs.rflags &= ~(X86_RFLAGS_IF | X86_RFLAGS_TF | X86_RFLAGS_AC | X86_RFLAGS_RF);
    sr->cs.selector = seg;
    sr->cs.base = (uint64_t)seg << 4;
    return X86_EMU_OK;
}

/* ---- nesting ---- */

enum fault_class { CLASS_BENIGN, CLASS_CONTRIBUTORY, CLASS_PAGE_FAULT };

static enum fault_class classify(uint8_t vector, bool soft)
{
    if (soft) {
        return CLASS_BENIGN;
    }
    switch (vector) {
    case X86_EXC_DE: case X86_EXC_TS: case X86_EXC_NP: case X86_EXC_SS: case X86_EXC_GP:
        return CLASS_CONTRIBUTORY;
    case X86_EXC_PF:
        return CLASS_PAGE_FAULT;
    default:
        return CLASS_BENIGN;
    }
}

enum x86_emu_result x86_emu_deliver_interrupt(struct x86_emu_cpu *cpu,
                                              const struct x86_emu_ops *ops, void *opaque,
                                              uint8_t vector, bool has_error,
                                              uint32_t error_code, bool is_soft,
                                              size_t insn_len)
{
    if (!cpu || !ops || !ops->read_phys || !ops->write_phys) {
        return X86_EMU_UNKNOWN;
    }
    struct x86_emu_config defaults;
    const struct x86_emu_config *cfg = cpu->config;
    if (!cfg) {
        x86_emu_config_default(&defaults);
        cfg = &defaults;
    }
    struct x86_emu_report report;
    struct event ev = {
        .vector = vector, .has_error = has_error, .error_code = error_code, .soft = is_soft,
    };
    /* The longest chain: a benign event, #GP delivering it, #PF delivering
     * that (contributory then #PF is serial), #DF; a fault on #DF shuts the
     * CPU down. */
    for (unsigned attempt = 0; attempt < 5; attempt++) {
        memset(&report, 0, sizeof(report));
        struct x86_emu_ctx ctx = {
            .cpu = cpu, .cfg = cfg, .ops = ops, .opaque = opaque, .report = &report,
            .mode = x86_emu_cpu_mode(cpu), .cpl = x86_emu_cpu_cpl(cpu),
        };
        ev.ext = ev.soft ? 0 : 1;
        ev.return_ip = cpu->regs.rip;
        if (ev.soft) {
            ev.return_ip = (cpu->regs.rip + insn_len) & x86_emu_ip_mask(ctx.mode);
        }
        if (ctx.mode == X86_EMU_MODE_REAL) {
            ev.has_error = false;
        }
        struct hv_regs saved_regs = cpu->regs;
        struct hv_sregs saved_sregs = cpu->sregs;
        enum x86_emu_result r;
        switch (ctx.mode) {
        case X86_EMU_MODE_REAL:
            r = deliver_real(&ctx, &ev);
            break;
        case X86_EMU_MODE_VM86:
            r = X86_EMU_UNKNOWN;    /* needs the VM86 segment-register frame */
            break;
        case X86_EMU_MODE_PROT16:
        case X86_EMU_MODE_PROT32:
            r = deliver_protected(&ctx, &ev);
            break;
        default:
            r = deliver_long(&ctx, &ev);
            break;
        }
        if (r == X86_EMU_OK) {
            cpu->regs_dirty = true;
            cpu->sregs_dirty = true;
            return X86_EMU_OK;
        }
        cpu->regs = saved_regs;
        cpu->sregs = saved_sregs;
        if (r != X86_EMU_EXCEPTION) {
            return r;
        }
        const struct x86_emu_exception *nested = &report.exception;
        if (!ev.soft && ev.vector == X86_EXC_DF) {
            return X86_EMU_TRIPLE_FAULT;
        }
        if (nested->vector == X86_EXC_PF) {
            cpu->sregs.cr2 = nested->cr2;
            cpu->sregs_dirty = true;
        }
        enum fault_class first = classify(ev.vector, ev.soft);
        enum fault_class second = classify(nested->vector, false);
        bool df = (first == CLASS_CONTRIBUTORY && second == CLASS_CONTRIBUTORY) ||
                  (first == CLASS_PAGE_FAULT && second != CLASS_BENIGN);
        if (df) {
            ev = (struct event){ .vector = X86_EXC_DF, .has_error = true, .error_code = 0 };
        } else {
            ev = (struct event){
                .vector = nested->vector,
                .has_error = nested->has_error_code,
                .error_code = nested->error_code,
            };
        }
    }
    return X86_EMU_TRIPLE_FAULT;
}
