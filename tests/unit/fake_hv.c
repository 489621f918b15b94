#include "fake_hv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hv_vm {
    struct fake_hv_config *cfg;
};

struct hv_vcpu {
    struct hv_vm *vm;
    int kicked;
    uint8_t io_data[8];
    struct hv_regs regs;
    struct hv_sregs sregs;
};

static struct fake_hv_config *next_config;

void fake_hv_use(struct fake_hv_config *cfg)
{
    next_config = cfg;
}

static struct hv_vm *f_vm_create(struct hv_error *err)
{
    struct hv_vm *vm = calloc(1, sizeof(*vm));
    vm->cfg = next_config;
    return vm;
}

static void f_vm_destroy(struct hv_vm *vm) { free(vm); }

static int f_set_memory(struct hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva,
                        unsigned flags, struct hv_error *err)
{
    return 0;
}

static int f_supported_cpuid(struct hv_vm *vm, struct hv_cpuid *out, struct hv_error *err)
{
    memset(out, 0, sizeof(*out));
    out->entries[out->nent++] = (struct hv_cpuid_entry){ .function = 0, .eax = 1 };
    out->entries[out->nent++] = (struct hv_cpuid_entry){ .function = 1, .edx = 1u << 25 };
    return 0;
}

static struct hv_vcpu *f_vcpu_create(struct hv_vm *vm, unsigned index, struct hv_error *err)
{
    struct hv_vcpu *v = calloc(1, sizeof(*v));
    v->vm = vm;
    v->regs.rip = 0x1000 + index;
    v->sregs.cr0 = 0x11;
    v->sregs.cs.db = 1;
    return v;
}

static void f_vcpu_destroy(struct hv_vcpu *v) { free(v); }

static int f_vcpu_run(struct hv_vcpu *v, struct vcpu_exit *e, struct hv_error *err)
{
    memset(e, 0, sizeof(*e));
    if (__atomic_exchange_n(&v->kicked, 0, __ATOMIC_SEQ_CST)) {
        e->reason = VCPU_EXIT_INTR;
        return 0;
    }
    switch (v->vm->cfg->script) {
    case FAKE_IO_LOOP: {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
        e->reason = VCPU_EXIT_IO;
        e->io.port = 0x80;
        e->io.size = 1;
        e->io.is_write = true;
        e->io.count = 1;
        e->io.data = v->io_data;
        break;
    }
    case FAKE_SHUTDOWN:
        e->reason = VCPU_EXIT_SHUTDOWN;
        break;
    case FAKE_EMULATION:
        e->reason = VCPU_EXIT_EMULATION;
        memcpy(e->emulation.insn, v->vm->cfg->insn, sizeof(e->emulation.insn));
        e->emulation.insn_len = (uint8_t)v->vm->cfg->insn_len;
        break;
    case FAKE_SYSTEM_OFF:
        e->reason = VCPU_EXIT_SYSTEM_OFF;
        break;
    }
    return 0;
}

static void f_vcpu_kick(struct hv_vcpu *v) { __atomic_store_n(&v->kicked, 1, __ATOMIC_SEQ_CST); }
static int f_get_regs(struct hv_vcpu *v, struct hv_regs *r) { *r = v->regs; return 0; }
static int f_set_regs(struct hv_vcpu *v, const struct hv_regs *r) { v->regs = *r; return 0; }
static int f_get_sregs(struct hv_vcpu *v, struct hv_sregs *s) { *s = v->sregs; return 0; }
static int f_set_sregs(struct hv_vcpu *v, const struct hv_sregs *s) { v->sregs = *s; return 0; }
static int f_get_msrs(struct hv_vcpu *v, struct hv_msr *m, unsigned n) { return 0; }
static int f_set_msrs(struct hv_vcpu *v, const struct hv_msr *m, unsigned n) { return (int)n; }
static int f_get_xsave(struct hv_vcpu *v, struct hv_xsave *x) { memset(x, 0, sizeof(*x)); return 0; }
static int f_set_xsave(struct hv_vcpu *v, const struct hv_xsave *x) { return 0; }
static int f_get_xcrs(struct hv_vcpu *v, struct hv_xcrs *x) { x->xcr0 = 1; return 0; }
static int f_set_xcrs(struct hv_vcpu *v, const struct hv_xcrs *x) { return 0; }
static int f_get_events(struct hv_vcpu *v, struct hv_events *e) { memset(e, 0, sizeof(*e)); return 0; }
static int f_set_events(struct hv_vcpu *v, const struct hv_events *e) { return 0; }
static int f_set_cpuid(struct hv_vcpu *v, const struct hv_cpuid *c, struct hv_error *err) { return 0; }

static int f_irq_line(struct hv_vm *vm, unsigned gsi, int level)
{
    if (gsi < 24)
        vm->cfg->irq_levels[gsi] = level;
    return 0;
}

const struct hv_ops fake_hv_ops = {
    .name = "fake",
    .vm_create = f_vm_create,
    .vm_destroy = f_vm_destroy,
    .set_memory = f_set_memory,
    .supported_cpuid = f_supported_cpuid,
    .vcpu_create = f_vcpu_create,
    .vcpu_destroy = f_vcpu_destroy,
    .vcpu_run = f_vcpu_run,
    .vcpu_kick = f_vcpu_kick,
    .get_regs = f_get_regs,
    .set_regs = f_set_regs,
    .get_sregs = f_get_sregs,
    .set_sregs = f_set_sregs,
    .get_msrs = f_get_msrs,
    .set_msrs = f_set_msrs,
    .get_xsave = f_get_xsave,
    .set_xsave = f_set_xsave,
    .get_xcrs = f_get_xcrs,
    .set_xcrs = f_set_xcrs,
    .get_events = f_get_events,
    .set_events = f_set_events,
    .set_cpuid = f_set_cpuid,
    .irq_line = f_irq_line,
};
