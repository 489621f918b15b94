/* hv_ops on Linux KVM (/dev/kvm).
 *
 * The VM gets KVM's in-kernel irqchip (8259 PICs, IOAPIC, local APICs) and
 * PIT, so timer and interrupt delivery never leaves the kernel. Everything
 * here converts between KVM's structures and hv.h's architectural ones.
 */
#include "hv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct hv_vm {
    int sys_fd;
    int vm_fd;
    int run_size;
    int coalesced_page;     /* page of the vCPU area holding the ring, 0 = none */
    struct kvm_coalesced_mmio_ring *ring;   /* in the first vCPU's area */
};

struct hv_vcpu {
    struct hv_vm *vm;
    int fd;
    unsigned index;
    struct kvm_run *run;
};

__attribute__((format(printf, 2, 3)))
static void set_err(struct hv_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

/* The capabilities Hostel cannot run without, with what to tell the user. */
static const struct {
    int cap;
    const char *what;
} required_caps[] = {
    { KVM_CAP_IRQCHIP, "an in-kernel interrupt controller" },
    { KVM_CAP_USER_MEMORY, "user memory regions" },
    { KVM_CAP_SET_TSS_ADDR, "the TSS address setting" },
    { KVM_CAP_PIT2, "the in-kernel PIT" },
    { KVM_CAP_EXT_CPUID, "extended CPUID" },
    { KVM_CAP_IRQ_ROUTING, "IRQ routing" },
    { KVM_CAP_SIGNAL_MSI, "MSI injection" },
    { KVM_CAP_IMMEDIATE_EXIT, "immediate exit (Linux 4.11 or later)" },
};

/* PC interrupt routing as firmware describes it: ISA IRQs 0-15 reach both
 * 8259s, and the IOAPIC's pins 1-23; ISA IRQ 0 (the PIT) arrives on IOAPIC
 * pin 2, which the MADT announces with an interrupt source override. */
static int kvm_setup_routing(int vm)
{
    enum { MAX_ROUTES = 15 + 24 };
    struct kvm_irq_routing *r = calloc(1, sizeof(*r) + MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
    if (!r)
        return -1;
    unsigned n = 0;
    for (unsigned irq = 0; irq < 16; irq++) {
        if (irq == 2)
            continue; /* the cascade */
        r->entries[n++] = (struct kvm_irq_routing_entry){
            .gsi = irq, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = irq < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, .pin = irq % 8 } };
    }
    for (unsigned gsi = 0; gsi < 24; gsi++) {
        if (gsi == 2)
            continue;
        r->entries[n++] = (struct kvm_irq_routing_entry){
            .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi == 0 ? 2 : gsi } };
    }
    r->nr = n;
    int rc = ioctl(vm, KVM_SET_GSI_ROUTING, r);
    free(r);
    return rc;
}

static struct hv_vm *kvm_vm_create(struct hv_error *err)
{
    int sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (sys < 0) {
        if (errno == ENOENT)
            set_err(err, "This machine has no /dev/kvm: enable virtualization (VT-x/AMD-V) in the firmware and load the kvm_intel or kvm_amd module.");
        else if (errno == EACCES || errno == EPERM)
            set_err(err, "You may not open /dev/kvm: add yourself to the 'kvm' group and log in again.");
        else
            set_err(err, "Could not open /dev/kvm (%s).", strerror(errno));
        return NULL;
    }
    int api = ioctl(sys, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        set_err(err, "The host's KVM speaks an API version Hostel does not know; update Hostel or the kernel.");
        close(sys);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
        if (ioctl(sys, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
            set_err(err, "The host's KVM lacks %s, which Hostel needs; use a newer kernel.", required_caps[i].what);
            close(sys);
            return NULL;
        }
    }
    int run_size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run)) {
        set_err(err, "The host's KVM reports a bad vCPU area size.");
        close(sys);
        return NULL;
    }
    int vm = -1;
    for (int tries = 0; tries < 10; tries++) {
        vm = ioctl(sys, KVM_CREATE_VM, 0);
        if (vm >= 0 || errno != EINTR)
            break;
    }
    if (vm < 0) {
        set_err(err, "KVM could not create a virtual machine (%s).", strerror(errno));
        close(sys);
        return NULL;
    }
    /* Intel needs a 3-page TSS region and an identity-map page below 4 GiB
     * outside guest RAM; put them just below the BIOS area at the top. */
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) {
        set_err(err, "KVM refused the TSS address (%s).", strerror(errno));
        goto fail;
    }
    uint64_t idmap = 0xfffbc000ull;
    if (ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
        ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
        set_err(err, "KVM refused the identity-map address (%s).", strerror(errno));
        goto fail;
    }
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
        set_err(err, "KVM could not create its interrupt controller (%s).", strerror(errno));
        goto fail;
    }
    if (kvm_setup_routing(vm) < 0) {
        set_err(err, "KVM refused the interrupt routing table (%s).", strerror(errno));
        goto fail;
    }
#ifdef KVM_CAP_EXIT_ON_EMULATION_FAILURE
    /* Hand emulation failures to userspace with the instruction bytes and
     * without KVM queueing a #UD first, so Hostel's instruction assist can
     * run the instruction (kernels older than 5.14 lack this; vcpu_emulate.c
     * then drops the queued #UD itself). */
    if (ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0) {
        struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE, .args = { 1 } };
        ioctl(vm, KVM_ENABLE_CAP, &cap);
    }
#endif
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0) {
        set_err(err, "KVM could not create its PIT timer (%s).", strerror(errno));
        goto fail;
    }
    struct hv_vm *h = calloc(1, sizeof(*h));
    if (!h) {
        set_err(err, "Out of memory.");
        goto fail;
    }
    h->sys_fd = sys;
    h->vm_fd = vm;
    h->run_size = run_size;
    int page = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
    if (page > 0 && (long)page * sysconf(_SC_PAGESIZE) < run_size)
        h->coalesced_page = page;
    return h;
fail:
    close(vm);
    close(sys);
    return NULL;
}

static void kvm_vm_destroy(struct hv_vm *vm)
{
    if (!vm)
        return;
    close(vm->vm_fd);
    close(vm->sys_fd);
    free(vm);
}

static int kvm_set_memory(struct hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                          void *hva, unsigned flags, struct hv_error *err)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .flags = ((flags & HV_MEM_READONLY) ? KVM_MEM_READONLY : 0) |
                 ((flags & HV_MEM_LOG_DIRTY) ? KVM_MEM_LOG_DIRTY_PAGES : 0),
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)hva,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        set_err(err, "KVM could not map guest memory (%s).", strerror(errno));
        return -1;
    }
    return 0;
}

static int kvm_coalesce_mmio(struct hv_vm *vm, uint64_t addr, uint64_t size)
{
    if (!vm->coalesced_page)
        return -1;
    struct kvm_coalesced_mmio_zone zone = { .addr = addr, .size = (uint32_t)size };
    return ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0 ? -1 : 0;
}

static void kvm_flush_coalesced(struct hv_vm *vm, void (*fn)(void *opaque, uint64_t gpa, const void *data,
                                                              unsigned len), void *opaque)
{
    struct kvm_coalesced_mmio_ring *ring = vm->ring;
    if (!ring)
        return;
    unsigned max = (unsigned)((sysconf(_SC_PAGESIZE) - sizeof(*ring)) / sizeof(ring->coalesced_mmio[0]));
    /* KVM fills entries up to `last`; we consume from `first`. */
    while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
        unsigned i = ring->first;
        if (i >= max) {
            ring->first = 0;    /* cannot happen: KVM keeps the index in range */
            continue;
        }
        struct kvm_coalesced_mmio *m = &ring->coalesced_mmio[i];
        unsigned len = m->len <= sizeof(m->data) ? m->len : sizeof(m->data);
        fn(opaque, m->phys_addr, m->data, len);
        __atomic_store_n(&ring->first, (i + 1) % max, __ATOMIC_RELEASE);
    }
}

static int kvm_pit_hpet_legacy(struct hv_vm *vm, bool on)
{
    struct kvm_pit_state2 st;
    if (ioctl(vm->vm_fd, KVM_GET_PIT2, &st) < 0)
        return -1;
    if (on)
        st.flags |= KVM_PIT_FLAGS_HPET_LEGACY;
    else
        st.flags &= ~(uint32_t)KVM_PIT_FLAGS_HPET_LEGACY;
    return ioctl(vm->vm_fd, KVM_SET_PIT2, &st) < 0 ? -1 : 0;
}

static int kvm_supported_cpuid(struct hv_vm *vm, struct hv_cpuid *out, struct hv_error *err)
{
    size_t sz = sizeof(struct kvm_cpuid2) + HV_CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *c = calloc(1, sz);
    if (!c) {
        set_err(err, "Out of memory.");
        return -1;
    }
    c->nent = HV_CPUID_MAX_ENTRIES;
    if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
        set_err(err, "KVM could not report its CPU features (%s).", strerror(errno));
        free(c);
        return -1;
    }
    out->nent = c->nent;
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        out->entries[i] = (struct hv_cpuid_entry){
            .function = e->function, .index = e->index,
            .flags = (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ? HV_CPUID_FLAG_SIGNIFICANT_INDEX : 0,
            .eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx };
    }
    free(c);
    return 0;
}

static struct hv_vcpu *kvm_vcpu_create(struct hv_vm *vm, unsigned index, struct hv_error *err)
{
    int fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
    if (fd < 0) {
        set_err(err, "KVM could not create a virtual CPU (%s).", strerror(errno));
        return NULL;
    }
    void *run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (run == MAP_FAILED) {
        set_err(err, "Could not map the virtual CPU's run area (%s).", strerror(errno));
        close(fd);
        return NULL;
    }
    struct hv_vcpu *v = calloc(1, sizeof(*v));
    if (!v) {
        munmap(run, (size_t)vm->run_size);
        close(fd);
        set_err(err, "Out of memory.");
        return NULL;
    }
    v->vm = vm;
    v->fd = fd;
    v->index = index;
    v->run = run;
    /* Every vCPU's area shows the same ring; keep the first one's (vCPUs
     * are only destroyed with the VM). */
    if (vm->coalesced_page && !vm->ring)
        vm->ring = (struct kvm_coalesced_mmio_ring *)((uint8_t *)run + (long)vm->coalesced_page *
                                                       sysconf(_SC_PAGESIZE));
    return v;
}

static void kvm_vcpu_destroy(struct hv_vcpu *v)
{
    if (!v)
        return;
    munmap(v->run, (size_t)v->vm->run_size);
    close(v->fd);
    free(v);
}

static int kvm_vcpu_run(struct hv_vcpu *v, struct vcpu_exit *exit, struct hv_error *err)
{
    struct kvm_run *run = v->run;
    memset(exit, 0, sizeof(*exit));
    if (ioctl(v->fd, KVM_RUN, 0) < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            run->immediate_exit = 0;
            exit->reason = VCPU_EXIT_INTR;
            return 0;
        }
        set_err(err, "KVM failed to run the virtual CPU (%s).", strerror(errno));
        return -1;
    }
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        exit->reason = VCPU_EXIT_IO;
        exit->io.port = run->io.port;
        exit->io.size = run->io.size;
        exit->io.is_write = run->io.direction == KVM_EXIT_IO_OUT;
        exit->io.count = run->io.count;
        exit->io.data = (uint8_t *)run + run->io.data_offset;
        /* A hostile or buggy driver value must not make us read past the
         * run area. */
        if (run->io.data_offset >= (uint64_t)v->vm->run_size ||
            (uint64_t)run->io.size * run->io.count > (uint64_t)v->vm->run_size - run->io.data_offset) {
            exit->reason = VCPU_EXIT_UNKNOWN;
            exit->unknown.raw_reason = run->exit_reason;
        }
        break;
    case KVM_EXIT_MMIO:
        exit->reason = VCPU_EXIT_MMIO;
        exit->mmio.gpa = run->mmio.phys_addr;
        exit->mmio.size = (uint8_t)(run->mmio.len > 8 ? 8 : run->mmio.len);
        exit->mmio.is_write = run->mmio.is_write;
        exit->mmio.data = run->mmio.data;
        break;
    case KVM_EXIT_HLT:
        exit->reason = VCPU_EXIT_HLT;
        break;
    case KVM_EXIT_SHUTDOWN:
        exit->reason = VCPU_EXIT_SHUTDOWN;
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
            exit->reason = VCPU_EXIT_SYSTEM_RESET;
        else
            exit->reason = VCPU_EXIT_SYSTEM_OFF;
        break;
    case KVM_EXIT_INTR:
        exit->reason = VCPU_EXIT_INTR;
        break;
    case KVM_EXIT_FAIL_ENTRY:
        exit->reason = VCPU_EXIT_FAIL_ENTRY;
        exit->fail_entry.hardware_reason = run->fail_entry.hardware_entry_failure_reason;
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
            exit->reason = VCPU_EXIT_EMULATION;
            exit->emulation.suberror = run->internal.suberror;
#ifdef KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES
            if (run->emulation_failure.ndata >= 3 &&
                (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
                unsigned n = run->emulation_failure.insn_size;
                if (n > sizeof(exit->emulation.insn))
                    n = sizeof(exit->emulation.insn);
                memcpy(exit->emulation.insn, run->emulation_failure.insn_bytes, n);
                exit->emulation.insn_len = (uint8_t)n;
            }
#endif
        } else {
            exit->reason = VCPU_EXIT_INTERNAL;
            exit->internal.suberror = run->internal.suberror;
            unsigned n = run->internal.ndata < 4 ? run->internal.ndata : 4;
            for (unsigned i = 0; i < n; i++)
                exit->internal.data[i] = run->internal.data[i];
            exit->internal.ndata = n;
        }
        break;
    default:
        exit->reason = VCPU_EXIT_UNKNOWN;
        exit->unknown.raw_reason = run->exit_reason;
        break;
    }
    return 0;
}

static void kvm_vcpu_kick(struct hv_vcpu *v)
{
    /* immediate_exit makes a KVM_RUN that has not started yet return at
     * once; the caller also signals the thread to break a running one. */
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

static int kvm_get_regs(struct hv_vcpu *v, struct hv_regs *r)
{
    struct kvm_regs k;
    if (ioctl(v->fd, KVM_GET_REGS, &k) < 0)
        return -1;
    *r = (struct hv_regs){ k.rax, k.rbx, k.rcx, k.rdx, k.rsi, k.rdi, k.rsp, k.rbp,
                           k.r8, k.r9, k.r10, k.r11, k.r12, k.r13, k.r14, k.r15, k.rip, k.rflags };
    return 0;
}

static int kvm_set_regs(struct hv_vcpu *v, const struct hv_regs *r)
{
    struct kvm_regs k = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp,
                          r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip, r->rflags };
    return ioctl(v->fd, KVM_SET_REGS, &k) < 0 ? -1 : 0;
}

static void seg_from_kvm(struct hv_segment *h, const struct kvm_segment *k)
{
    *h = (struct hv_segment){ .base = k->base, .limit = k->limit, .selector = k->selector,
        .type = k->type, .present = k->present, .dpl = k->dpl, .db = k->db, .s = k->s,
        .l = k->l, .g = k->g, .avl = k->avl, .unusable = k->unusable };
}

static void seg_to_kvm(struct kvm_segment *k, const struct hv_segment *h)
{
    memset(k, 0, sizeof(*k));
    k->base = h->base;
    k->limit = h->limit;
    k->selector = h->selector;
    k->type = h->type;
    k->present = h->present;
    k->dpl = h->dpl;
    k->db = h->db;
    k->s = h->s;
    k->l = h->l;
    k->g = h->g;
    k->avl = h->avl;
    k->unusable = h->unusable;
}

static int kvm_get_sregs(struct hv_vcpu *v, struct hv_sregs *s)
{
    struct kvm_sregs k;
    if (ioctl(v->fd, KVM_GET_SREGS, &k) < 0)
        return -1;
    seg_from_kvm(&s->cs, &k.cs);
    seg_from_kvm(&s->ds, &k.ds);
    seg_from_kvm(&s->es, &k.es);
    seg_from_kvm(&s->fs, &k.fs);
    seg_from_kvm(&s->gs, &k.gs);
    seg_from_kvm(&s->ss, &k.ss);
    seg_from_kvm(&s->tr, &k.tr);
    seg_from_kvm(&s->ldt, &k.ldt);
    s->gdt = (struct hv_dtable){ k.gdt.base, k.gdt.limit };
    s->idt = (struct hv_dtable){ k.idt.base, k.idt.limit };
    s->cr0 = k.cr0;
    s->cr2 = k.cr2;
    s->cr3 = k.cr3;
    s->cr4 = k.cr4;
    s->cr8 = k.cr8;
    s->efer = k.efer;
    s->apic_base = k.apic_base;
    return 0;
}

static int kvm_set_sregs(struct hv_vcpu *v, const struct hv_sregs *s)
{
    struct kvm_sregs k;
    /* Start from the current state so the pending-interrupt bitmap is kept. */
    if (ioctl(v->fd, KVM_GET_SREGS, &k) < 0)
        return -1;
    seg_to_kvm(&k.cs, &s->cs);
    seg_to_kvm(&k.ds, &s->ds);
    seg_to_kvm(&k.es, &s->es);
    seg_to_kvm(&k.fs, &s->fs);
    seg_to_kvm(&k.gs, &s->gs);
    seg_to_kvm(&k.ss, &s->ss);
    seg_to_kvm(&k.tr, &s->tr);
    seg_to_kvm(&k.ldt, &s->ldt);
    k.gdt.base = s->gdt.base;
    k.gdt.limit = s->gdt.limit;
    k.idt.base = s->idt.base;
    k.idt.limit = s->idt.limit;
    k.cr0 = s->cr0;
    k.cr2 = s->cr2;
    k.cr3 = s->cr3;
    k.cr4 = s->cr4;
    k.cr8 = s->cr8;
    k.efer = s->efer;
    k.apic_base = s->apic_base;
    return ioctl(v->fd, KVM_SET_SREGS, &k) < 0 ? -1 : 0;
}

static int kvm_msrs(struct hv_vcpu *v, struct hv_msr *msrs, unsigned n, bool set)
{
    if (n == 0)
        return 0;
    struct kvm_msrs *k = calloc(1, sizeof(*k) + n * sizeof(struct kvm_msr_entry));
    if (!k)
        return -1;
    k->nmsrs = n;
    for (unsigned i = 0; i < n; i++) {
        k->entries[i].index = msrs[i].index;
        k->entries[i].data = msrs[i].value;
    }
    int r = ioctl(v->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, k);
    if (r > 0 && !set)
        for (int i = 0; i < r; i++)
            msrs[i].value = k->entries[i].data;
    free(k);
    return r < 0 ? -1 : r;
}

static int kvm_get_msrs(struct hv_vcpu *v, struct hv_msr *msrs, unsigned n)
{
    return kvm_msrs(v, msrs, n, false);
}

static int kvm_set_msrs(struct hv_vcpu *v, const struct hv_msr *msrs, unsigned n)
{
    return kvm_msrs(v, (struct hv_msr *)msrs, n, true);
}

static int kvm_get_xsave(struct hv_vcpu *v, struct hv_xsave *x)
{
    struct kvm_xsave k;
    if (ioctl(v->fd, KVM_GET_XSAVE, &k) < 0)
        return -1;
    memcpy(x->region, k.region, HV_XSAVE_SIZE);
    return 0;
}

static int kvm_set_xsave(struct hv_vcpu *v, const struct hv_xsave *x)
{
    struct kvm_xsave k;
    memset(&k, 0, sizeof(k));
    memcpy(k.region, x->region, HV_XSAVE_SIZE);
    return ioctl(v->fd, KVM_SET_XSAVE, &k) < 0 ? -1 : 0;
}

static int kvm_get_xcrs(struct hv_vcpu *v, struct hv_xcrs *x)
{
    struct kvm_xcrs k;
    if (ioctl(v->fd, KVM_GET_XCRS, &k) < 0)
        return -1;
    x->xcr0 = 1;
    for (unsigned i = 0; i < k.nr_xcrs && i < KVM_MAX_XCRS; i++)
        if (k.xcrs[i].xcr == 0)
            x->xcr0 = k.xcrs[i].value;
    return 0;
}

static int kvm_set_xcrs(struct hv_vcpu *v, const struct hv_xcrs *x)
{
    struct kvm_xcrs k;
    memset(&k, 0, sizeof(k));
    k.nr_xcrs = 1;
    k.xcrs[0].xcr = 0;
    k.xcrs[0].value = x->xcr0;
    return ioctl(v->fd, KVM_SET_XCRS, &k) < 0 ? -1 : 0;
}

static int kvm_get_lapic(struct hv_vcpu *v, struct hv_lapic *l)
{
    struct kvm_lapic_state k;
    if (ioctl(v->fd, KVM_GET_LAPIC, &k) < 0)
        return -1;
    memcpy(l->regs, k.regs, HV_LAPIC_SIZE);
    return 0;
}

static int kvm_set_lapic(struct hv_vcpu *v, const struct hv_lapic *l)
{
    struct kvm_lapic_state k;
    memcpy(k.regs, l->regs, HV_LAPIC_SIZE);
    return ioctl(v->fd, KVM_SET_LAPIC, &k) < 0 ? -1 : 0;
}

static int kvm_get_events(struct hv_vcpu *v, struct hv_events *e)
{
    struct kvm_vcpu_events k;
    if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &k) < 0)
        return -1;
    memset(e, 0, sizeof(*e));
    e->exception.injected = k.exception.injected;
    e->exception.nr = k.exception.nr;
    e->exception.has_error_code = k.exception.has_error_code;
    e->exception.pending = k.exception.pending;
    e->exception.error_code = k.exception.error_code;
    e->interrupt.injected = k.interrupt.injected;
    e->interrupt.nr = k.interrupt.nr;
    e->interrupt.soft = k.interrupt.soft;
    e->interrupt.shadow = k.interrupt.shadow;
    e->nmi.injected = k.nmi.injected;
    e->nmi.pending = k.nmi.pending;
    e->nmi.masked = k.nmi.masked;
    e->sipi_vector = k.sipi_vector;
    e->smi.smm = k.smi.smm;
    e->smi.pending = k.smi.pending;
    e->smi.smm_inside_nmi = k.smi.smm_inside_nmi;
    e->smi.latched_init = k.smi.latched_init;
    e->valid = HV_EVENTS_NMI_PENDING | HV_EVENTS_SIPI_VECTOR | HV_EVENTS_SHADOW | HV_EVENTS_SMM;
    return 0;
}

static int kvm_set_events(struct hv_vcpu *v, const struct hv_events *e)
{
    struct kvm_vcpu_events k;
    memset(&k, 0, sizeof(k));
    k.exception.injected = e->exception.injected;
    k.exception.nr = e->exception.nr;
    k.exception.has_error_code = e->exception.has_error_code;
    k.exception.pending = e->exception.pending;
    k.exception.error_code = e->exception.error_code;
    k.interrupt.injected = e->interrupt.injected;
    k.interrupt.nr = e->interrupt.nr;
    k.interrupt.soft = e->interrupt.soft;
    k.interrupt.shadow = e->interrupt.shadow;
    k.nmi.injected = e->nmi.injected;
    k.nmi.pending = e->nmi.pending;
    k.nmi.masked = e->nmi.masked;
    k.sipi_vector = e->sipi_vector;
    k.smi.smm = e->smi.smm;
    k.smi.pending = e->smi.pending;
    k.smi.smm_inside_nmi = e->smi.smm_inside_nmi;
    k.smi.latched_init = e->smi.latched_init;
    k.flags = ((e->valid & HV_EVENTS_NMI_PENDING) ? KVM_VCPUEVENT_VALID_NMI_PENDING : 0) |
              ((e->valid & HV_EVENTS_SIPI_VECTOR) ? KVM_VCPUEVENT_VALID_SIPI_VECTOR : 0) |
              ((e->valid & HV_EVENTS_SHADOW) ? KVM_VCPUEVENT_VALID_SHADOW : 0) |
              ((e->valid & HV_EVENTS_SMM) ? KVM_VCPUEVENT_VALID_SMM : 0);
    return ioctl(v->fd, KVM_SET_VCPU_EVENTS, &k) < 0 ? -1 : 0;
}

static int kvm_get_mp_state(struct hv_vcpu *v, enum hv_mp_state *s)
{
    struct kvm_mp_state k;
    if (ioctl(v->fd, KVM_GET_MP_STATE, &k) < 0)
        return -1;
    *s = (enum hv_mp_state)k.mp_state;
    return 0;
}

static int kvm_set_mp_state(struct hv_vcpu *v, enum hv_mp_state s)
{
    struct kvm_mp_state k = { .mp_state = (uint32_t)s };
    return ioctl(v->fd, KVM_SET_MP_STATE, &k) < 0 ? -1 : 0;
}

static int kvm_set_cpuid(struct hv_vcpu *v, const struct hv_cpuid *c, struct hv_error *err)
{
    size_t sz = sizeof(struct kvm_cpuid2) + c->nent * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *k = calloc(1, sz);
    if (!k) {
        set_err(err, "Out of memory.");
        return -1;
    }
    k->nent = c->nent;
    for (unsigned i = 0; i < c->nent; i++) {
        const struct hv_cpuid_entry *e = &c->entries[i];
        k->entries[i] = (struct kvm_cpuid_entry2){
            .function = e->function, .index = e->index,
            .flags = (e->flags & HV_CPUID_FLAG_SIGNIFICANT_INDEX) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
            .eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx };
    }
    int r = ioctl(v->fd, KVM_SET_CPUID2, k);
    free(k);
    if (r < 0) {
        set_err(err, "KVM refused the virtual CPU's feature set (%s).", strerror(errno));
        return -1;
    }
    return 0;
}

static int kvm_translate(struct hv_vcpu *v, uint64_t linear, uint64_t *gpa, bool *valid)
{
    struct kvm_translation t = { .linear_address = linear };
    if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0)
        return -1;
    *gpa = t.physical_address;
    *valid = t.valid;
    return 0;
}

static int kvm_irq_line(struct hv_vm *vm, unsigned gsi, int level)
{
    struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };
    return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -1 : 0;
}

static int kvm_signal_msi(struct hv_vm *vm, uint64_t addr, uint32_t data)
{
    struct kvm_msi m = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data };
    return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &m) < 0 ? -1 : 0;
}

static int kvm_irqfd(struct hv_vm *vm, int fd, unsigned gsi, int resamplefd, bool deassign)
{
    struct kvm_irqfd f = { .fd = (uint32_t)fd, .gsi = gsi };
    if (deassign)
        f.flags |= KVM_IRQFD_FLAG_DEASSIGN;
    if (resamplefd >= 0 && !deassign) {
        f.flags |= KVM_IRQFD_FLAG_RESAMPLE;
        f.resamplefd = (uint32_t)resamplefd;
    }
    return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -1 : 0;
}

static int kvm_ioeventfd(struct hv_vm *vm, int fd, uint64_t addr, unsigned len, bool pio,
                         bool match_data, uint64_t datamatch, bool deassign)
{
    struct kvm_ioeventfd e = { .datamatch = datamatch, .addr = addr, .len = len, .fd = fd };
    if (pio)
        e.flags |= KVM_IOEVENTFD_FLAG_PIO;
    if (match_data)
        e.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    if (deassign)
        e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    return ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -1 : 0;
}

static int kvm_get_dirty_log(struct hv_vm *vm, unsigned slot, uint64_t *bitmap)
{
    struct kvm_dirty_log d = { .slot = slot };
    d.dirty_bitmap = bitmap;
    return ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &d) < 0 ? -1 : 0;
}

const struct hv_ops hv_kvm_ops = {
    .name = "kvm",
    .vm_create = kvm_vm_create,
    .vm_destroy = kvm_vm_destroy,
    .set_memory = kvm_set_memory,
    .pit_hpet_legacy = kvm_pit_hpet_legacy,
    .coalesce_mmio = kvm_coalesce_mmio,
    .flush_coalesced = kvm_flush_coalesced,
    .supported_cpuid = kvm_supported_cpuid,
    .vcpu_create = kvm_vcpu_create,
    .vcpu_destroy = kvm_vcpu_destroy,
    .vcpu_run = kvm_vcpu_run,
    .vcpu_kick = kvm_vcpu_kick,
    .get_regs = kvm_get_regs,
    .set_regs = kvm_set_regs,
    .get_sregs = kvm_get_sregs,
    .set_sregs = kvm_set_sregs,
    .get_msrs = kvm_get_msrs,
    .set_msrs = kvm_set_msrs,
    .get_xsave = kvm_get_xsave,
    .set_xsave = kvm_set_xsave,
    .get_xcrs = kvm_get_xcrs,
    .set_xcrs = kvm_set_xcrs,
    .get_lapic = kvm_get_lapic,
    .set_lapic = kvm_set_lapic,
    .get_events = kvm_get_events,
    .set_events = kvm_set_events,
    .get_mp_state = kvm_get_mp_state,
    .set_mp_state = kvm_set_mp_state,
    .set_cpuid = kvm_set_cpuid,
    .translate = kvm_translate,
    .irq_line = kvm_irq_line,
    .signal_msi = kvm_signal_msi,
    .irqfd = kvm_irqfd,
    .ioeventfd = kvm_ioeventfd,
    .get_dirty_log = kvm_get_dirty_log,
};
