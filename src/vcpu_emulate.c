/* The instruction assist: when the host's KVM cannot emulate an instruction
 * (seen on nested hosts: int3, xsave, popcnt, ... in guest kernel mode), run
 * it in userspace with src/emulate/, deliver the exception it raises
 * ourselves, or stop the VM with a report naming the bytes and the mode. */
#include <stdio.h>
#include <string.h>

#include "emulate/x86_emulate.h"
#include "vcpu.h"
#include "vm.h"

#define MSR_IA32_XSS 0xDA0u

static int emu_read_phys(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    struct vm *vm = opaque;
    return guest_mem_read(&vm->mem, gpa, buf, len);
}

static int emu_write_phys(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
    struct vm *vm = opaque;
    return guest_mem_write(&vm->mem, gpa, buf, len);
}

static void *emu_map_phys(void *opaque, uint64_t gpa, size_t len)
{
    struct vm *vm = opaque;
    return guest_mem_ptr(&vm->mem, gpa, len);
}

static const struct x86_emu_ops vcpu_emu_ops = {
    .read_phys = emu_read_phys,
    .write_phys = emu_write_phys,
    .map_phys = emu_map_phys,
};

static void stop_guest_error(struct vcpu *v, enum vm_stop_reason reason, int status, const char *what)
{
    char report[480];
    /* The emulator's sentences start "vCPU stopped: "; name the vCPU. */
    const char *prefix = "vCPU stopped: ";
    if (strncmp(what, prefix, strlen(prefix)) == 0)
        snprintf(report, sizeof(report), "vCPU %u stopped: %s", v->index, what + strlen(prefix));
    else
        snprintf(report, sizeof(report), "vCPU %u: %s", v->index, what);
    vm_request_stop(v->vm, reason, status, report);
}

void vcpu_handle_emulation(struct vcpu *v, const struct vcpu_exit *e)
{
    struct vm *vm = v->vm;
    const struct hv_ops *hv = vm->hv;
    struct x86_emu_cpu cpu = { .config = &vm->emu_config };
    if (hv->get_regs(v->hv, &cpu.regs) < 0 || hv->get_sregs(v->hv, &cpu.sregs) < 0 ||
        hv->get_xsave(v->hv, &cpu.xsave) < 0 || hv->get_xcrs(v->hv, &cpu.xcrs) < 0) {
        stop_guest_error(v, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR,
                         "KVM could not emulate an instruction and its state could not be read.");
        return;
    }
    /* Without KVM_CAP_EXIT_ON_EMULATION_FAILURE, KVM queues a #UD for the
     * instruction it gave up on; the assist decides what the guest sees. */
    struct hv_events ev;
    if (hv->get_events(v->hv, &ev) == 0 && (ev.exception.injected || ev.exception.pending) &&
        ev.exception.nr == 6) {
        ev.exception.injected = 0;
        ev.exception.pending = 0;
        ev.valid = 0; /* leave NMI/INIT state others may have changed alone */
        hv->set_events(v->hv, &ev);
    }
    struct hv_msr xss = { .index = MSR_IA32_XSS };
    if (hv->get_msrs(v->hv, &xss, 1) == 1)
        cpu.xss = xss.value;

    struct x86_emu_report rep;
    enum x86_emu_result res = x86_emulate(&cpu, &vcpu_emu_ops, vm, e->emulation.insn,
                                          e->emulation.insn_len, &rep);
    if (res == X86_EMU_EXCEPTION) {
        const struct x86_emu_exception *x = &rep.exception;
        res = x86_emu_deliver_interrupt(&cpu, &vcpu_emu_ops, vm, x->vector, x->has_error_code,
                                        x->error_code, x->is_soft, x->insn_len);
    } else if (res == X86_EMU_OK && rep.single_step) {
        res = x86_emu_deliver_interrupt(&cpu, &vcpu_emu_ops, vm, 1, false, 0, false, 0);
    }
    if (res != X86_EMU_OK) {
        char what[400];
        x86_emu_describe_result(&cpu, res, &rep, what, sizeof(what));
        if (res == X86_EMU_TRIPLE_FAULT)
            stop_guest_error(v, VM_STOP_TRIPLE_FAULT, VM_EXIT_TRIPLE_FAULT, what);
        else
            stop_guest_error(v, VM_STOP_GUEST_ERROR, VM_EXIT_GUEST_ERROR, what);
        return;
    }
    int rc = 0;
    if (cpu.xsave_dirty)
        rc |= hv->set_xsave(v->hv, &cpu.xsave);
    if (cpu.xcrs_dirty)
        rc |= hv->set_xcrs(v->hv, &cpu.xcrs);
    if (cpu.sregs_dirty)
        rc |= hv->set_sregs(v->hv, &cpu.sregs);
    if (cpu.regs_dirty)
        rc |= hv->set_regs(v->hv, &cpu.regs);
    if (rc) {
        stop_guest_error(v, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR,
                         "KVM refused the state after an emulated instruction.");
        return;
    }
    v->emulated++;
}
