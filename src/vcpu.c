#include "vcpu.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vm.h"

void vcpu_describe_mode(const struct hv_sregs *s, char *buf, size_t len)
{
    unsigned cpl = s->cs.dpl;
    if (!(s->cr0 & 1))
        snprintf(buf, len, "real mode");
    else if ((s->efer & (1u << 10)) && s->cs.l)
        snprintf(buf, len, "64-bit %s mode (CPL %u)", cpl ? "user" : "kernel", cpl);
    else if (s->efer & (1u << 10))
        snprintf(buf, len, "compatibility mode (CPL %u)", cpl);
    else
        snprintf(buf, len, "%u-bit protected mode%s (CPL %u)", s->cs.db ? 32 : 16,
                 (s->cr0 & 0x80000000u) ? " with paging" : "", cpl);
}

/* Build "what happened, vCPU, RIP, mode" for a stop report. */
static void vcpu_report(struct vcpu *v, const char *what, char *buf, size_t len)
{
    struct hv_regs r;
    struct hv_sregs s;
    const struct hv_ops *hv = v->vm->hv;
    if (hv->get_regs(v->hv, &r) < 0 || hv->get_sregs(v->hv, &s) < 0) {
        snprintf(buf, len, "%s on vCPU %u (its registers could not be read).", what, v->index);
        return;
    }
    if (r.rip == 0xfff0 && s.cs.base == 0xffff0000u) {
        /* AMD's KVM re-initialises a vCPU on a shutdown exit; its registers
         * then show the reset vector, not where the guest was. */
        snprintf(buf, len, "%s on vCPU %u (the host reset the vCPU, so where it happened is not known).",
                 what, v->index);
        return;
    }
    char mode[64];
    vcpu_describe_mode(&s, mode, sizeof(mode));
    snprintf(buf, len, "%s on vCPU %u at RIP 0x%" PRIx64 " (CS base 0x%" PRIx64 ") in %s.",
             what, v->index, r.rip, s.cs.base, mode);
}

static void vcpu_stop_with_report(struct vcpu *v, enum vm_stop_reason reason, int status, const char *what)
{
    char report[400];
    vcpu_report(v, what, report, sizeof(report));
    vm_request_stop(v->vm, reason, status, report);
}

static void handle_io(struct vcpu *v, struct vcpu_exit *e)
{
    struct vm *vm = v->vm;
    unsigned size = e->io.size;
    if (size != 1 && size != 2 && size != 4)
        return;
    pthread_mutex_lock(&vm->dev_lock);
    vm_flush_coalesced(vm);
    for (uint32_t i = 0; i < e->io.count; i++) {
        uint8_t *p = e->io.data + (size_t)i * size;
        if (e->io.is_write)
            bus_write(vm->pio, e->io.port, p, size);
        else
            bus_read(vm->pio, e->io.port, p, size);
    }
    pthread_mutex_unlock(&vm->dev_lock);
    v->io_exits++;
}

static void handle_mmio(struct vcpu *v, struct vcpu_exit *e)
{
    struct vm *vm = v->vm;
    pthread_mutex_lock(&vm->dev_lock);
    vm_flush_coalesced(vm);
    if (e->mmio.is_write)
        bus_write(vm->mmio, e->mmio.gpa, e->mmio.data, e->mmio.size);
    else
        bus_read(vm->mmio, e->mmio.gpa, e->mmio.data, e->mmio.size);
    pthread_mutex_unlock(&vm->dev_lock);
}

/* Wait while the VM is paused. Returns false when the vCPU must stop. */
static bool vcpu_check_state(struct vcpu *v)
{
    struct vm *vm = v->vm;
    bool run = true;
    pthread_mutex_lock(&vm->state_lock);
    if (vm->pause_requested && !vm->stop_requested) {
        v->state = VCPU_STATE_PAUSED;
        vm->paused_vcpus++;
        pthread_cond_broadcast(&vm->state_cond);
        while (vm->pause_requested && !vm->stop_requested)
            pthread_cond_wait(&vm->state_cond, &vm->state_lock);
        vm->paused_vcpus--;
    }
    if (vm->stop_requested) {
        v->state = VCPU_STATE_STOPPED;
        run = false;
    } else {
        v->state = VCPU_STATE_RUNNING;
    }
    pthread_mutex_unlock(&vm->state_lock);
    return run;
}

void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = v->vm;
    const struct hv_ops *hv = vm->hv;
    struct vcpu_exit e;

    while (vcpu_check_state(v)) {
        struct hv_error herr = {{0}};
        if (hv->vcpu_run(v->hv, &e, &herr) < 0) {
            char report[400];
            snprintf(report, sizeof(report), "vCPU %u stopped: %s", v->index, herr.msg);
            vm_request_stop(vm, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR, report);
            break;
        }
        v->exits++;
        switch (e.reason) {
        case VCPU_EXIT_IO:
            handle_io(v, &e);
            break;
        case VCPU_EXIT_MMIO:
            handle_mmio(v, &e);
            break;
        case VCPU_EXIT_INTR:
        case VCPU_EXIT_NONE:
            break;
        case VCPU_EXIT_HLT:
            /* Only without an in-kernel irqchip; nothing can wake us. */
            vcpu_stop_with_report(v, VM_STOP_GUEST_ERROR, VM_EXIT_GUEST_ERROR,
                                  "The guest halted with interrupts it cannot receive");
            break;
        case VCPU_EXIT_SHUTDOWN:
            vcpu_stop_with_report(v, VM_STOP_TRIPLE_FAULT, VM_EXIT_TRIPLE_FAULT,
                                  "The guest crashed with a triple fault");
            break;
        case VCPU_EXIT_SYSTEM_RESET:
            vm_request_stop(vm, VM_STOP_RESET, VM_EXIT_RESET, "The guest asked for a reset.");
            break;
        case VCPU_EXIT_SYSTEM_OFF:
            vm_request_stop(vm, VM_STOP_POWER_OFF, VM_EXIT_POWER_OFF, "The guest powered off.");
            break;
        case VCPU_EXIT_EMULATION:
            vcpu_handle_emulation(v, &e);
            break;
        case VCPU_EXIT_INTERNAL: {
            char what[160];
            snprintf(what, sizeof(what), "The host's KVM reported internal error %u", e.internal.suberror);
            vcpu_stop_with_report(v, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR, what);
            break;
        }
        case VCPU_EXIT_FAIL_ENTRY: {
            char what[160];
            snprintf(what, sizeof(what), "The processor refused to enter the guest (reason 0x%" PRIx64 ")",
                     e.fail_entry.hardware_reason);
            vcpu_stop_with_report(v, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR, what);
            break;
        }
        case VCPU_EXIT_UNKNOWN:
        default: {
            char what[160];
            snprintf(what, sizeof(what), "KVM returned an exit Hostel does not know (%u)", e.unknown.raw_reason);
            vcpu_stop_with_report(v, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR, what);
            break;
        }
        }
    }
    return NULL;
}
