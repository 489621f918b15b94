/* The accelerator interface: everything Hostel asks of the host's
 * virtualization driver. host-driver/kvm.c implements it on /dev/kvm; a test
 * or another accelerator is another `struct hv_ops` table.
 *
 * Only host-driver/kvm*.c include <linux/kvm.h>. The state structures here
 * are architectural (x86 register layouts, the standard XSAVE format), so a
 * snapshot of them does not depend on KVM's structure versions.
 */
#ifndef HOSTEL_HV_H
#define HOSTEL_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hv_vm;
struct hv_vcpu;

/* ---- vCPU state ------------------------------------------------------ */

struct hv_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
};

struct hv_segment {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint8_t type;       /* 4-bit descriptor type */
    uint8_t present, dpl, db, s, l, g, avl;
    uint8_t unusable;
};

struct hv_dtable {
    uint64_t base;
    uint16_t limit;
};

struct hv_sregs {
    struct hv_segment cs, ds, es, fs, gs, ss;
    struct hv_segment tr, ldt;
    struct hv_dtable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t apic_base;
};

struct hv_msr {
    uint32_t index;
    uint64_t value;
};

/* Standard (non-compacted) XSAVE image as the XSAVE instruction writes it;
 * the first 512 bytes are the legacy FXSAVE region. */
#define HV_XSAVE_SIZE 4096
struct hv_xsave {
    uint8_t region[HV_XSAVE_SIZE];
};

struct hv_xcrs {
    uint64_t xcr0;
};

/* Local APIC register page (4 KiB image, as the APIC's MMIO layout). */
#define HV_LAPIC_SIZE 1024
struct hv_lapic {
    uint8_t regs[HV_LAPIC_SIZE];
};

/* Pending and injected events (exceptions, interrupts, NMI, SMI).
 * `valid` says which of the optional parts set_events applies (get_events
 * fills them all): the exception, interrupt and NMI injected/masked state is
 * always applied; NMI pending, the SIPI vector, the interrupt shadow and SMM
 * state only when flagged, so a caller that only edits the exception does
 * not overwrite an NMI or INIT another vCPU just sent. */
#define HV_EVENTS_NMI_PENDING (1u << 0)
#define HV_EVENTS_SIPI_VECTOR (1u << 1)
#define HV_EVENTS_SHADOW (1u << 2)
#define HV_EVENTS_SMM (1u << 3)
struct hv_events {
    unsigned valid;
    struct { uint8_t injected, nr, has_error_code, pending; uint32_t error_code; } exception;
    struct { uint8_t injected, nr, soft, shadow; } interrupt;
    struct { uint8_t injected, pending, masked; } nmi;
    uint32_t sipi_vector;
    struct { uint8_t smm, pending, smm_inside_nmi, latched_init; } smi;
};

enum hv_mp_state {
    HV_MP_RUNNABLE = 0,
    HV_MP_UNINITIALIZED = 1,
    HV_MP_INIT_RECEIVED = 2,
    HV_MP_HALTED = 3,
    HV_MP_SIPI_RECEIVED = 4,
};

struct hv_cpuid_entry {
    uint32_t function, index;
    uint32_t flags;     /* HV_CPUID_FLAG_* */
    uint32_t eax, ebx, ecx, edx;
};
#define HV_CPUID_FLAG_SIGNIFICANT_INDEX 1u
#define HV_CPUID_MAX_ENTRIES 256

struct hv_cpuid {
    unsigned nent;
    struct hv_cpuid_entry entries[HV_CPUID_MAX_ENTRIES];
};

/* ---- vCPU exits -------------------------------------------------------- */

enum vcpu_exit_reason {
    VCPU_EXIT_NONE = 0,
    VCPU_EXIT_IO,            /* port I/O: see exit.io */
    VCPU_EXIT_MMIO,          /* MMIO to an address with no RAM: see exit.mmio */
    VCPU_EXIT_HLT,           /* HLT with no pending interrupt (userspace irqchip only) */
    VCPU_EXIT_SHUTDOWN,      /* triple fault */
    VCPU_EXIT_SYSTEM_RESET,  /* the guest asked for a reset (e.g. via the PSCI-like path) */
    VCPU_EXIT_SYSTEM_OFF,    /* the guest asked for power-off */
    VCPU_EXIT_INTR,          /* run interrupted by hv_vcpu_kick() or a signal */
    VCPU_EXIT_EMULATION,     /* the driver could not emulate an instruction */
    VCPU_EXIT_INTERNAL,      /* other driver internal error */
    VCPU_EXIT_FAIL_ENTRY,    /* the hardware refused to enter the guest */
    VCPU_EXIT_UNKNOWN,
};

struct vcpu_exit {
    enum vcpu_exit_reason reason;
    union {
        struct {
            uint16_t port;
            uint8_t size;       /* 1, 2 or 4 */
            bool is_write;
            uint32_t count;     /* > 1 for string instructions */
            uint8_t *data;      /* count * size bytes, owned by the driver */
        } io;
        struct {
            uint64_t gpa;
            uint8_t size;       /* 1..8 */
            bool is_write;
            uint8_t *data;      /* 8 bytes, owned by the driver */
        } mmio;
        struct {
            uint32_t suberror;
            uint8_t insn[16];   /* instruction bytes, when the driver supplied them */
            uint8_t insn_len;   /* 0 if it did not */
        } emulation;
        struct {
            uint32_t suberror;
            uint64_t data[4];
            unsigned ndata;
        } internal;
        struct {
            uint64_t hardware_reason;
        } fail_entry;
        struct {
            uint32_t raw_reason;
        } unknown;
    };
};

/* ---- the interface ------------------------------------------------------- */

/* Error reporting: every call that can fail fills a sentence for the user. */
struct hv_error {
    char msg[256];
};

enum hv_mem_flags {
    HV_MEM_READONLY = 1u << 0,
    HV_MEM_LOG_DIRTY = 1u << 1,
};

struct hv_ops {
    const char *name;

    /* Open the accelerator and create an empty VM with an in-kernel irqchip
     * (PIC, IOAPIC, local APICs) and PIT. NULL with err filled on failure. */
    struct hv_vm *(*vm_create)(struct hv_error *err);
    void (*vm_destroy)(struct hv_vm *vm);

    /* Map host memory at a guest-physical range in `slot`. size 0 unmaps. */
    int (*set_memory)(struct hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                      void *hva, unsigned flags, struct hv_error *err);

    /* The CPUID leaves the accelerator can virtualize. */
    int (*supported_cpuid)(struct hv_vm *vm, struct hv_cpuid *out, struct hv_error *err);

    struct hv_vcpu *(*vcpu_create)(struct hv_vm *vm, unsigned index, struct hv_error *err);
    void (*vcpu_destroy)(struct hv_vcpu *vcpu);

    /* Run until the next exit. Returns 0 with *exit filled, or -1 on a driver
     * failure (err filled). The data pointers in *exit stay valid until the
     * next run call; values written there for a read complete the access. */
    int (*vcpu_run)(struct hv_vcpu *vcpu, struct vcpu_exit *exit, struct hv_error *err);
    /* Make a running (or about to run) vcpu_run return VCPU_EXIT_INTR soon.
     * Safe to call from any thread. */
    void (*vcpu_kick)(struct hv_vcpu *vcpu);

    int (*get_regs)(struct hv_vcpu *vcpu, struct hv_regs *regs);
    int (*set_regs)(struct hv_vcpu *vcpu, const struct hv_regs *regs);
    int (*get_sregs)(struct hv_vcpu *vcpu, struct hv_sregs *sregs);
    int (*set_sregs)(struct hv_vcpu *vcpu, const struct hv_sregs *sregs);
    /* Read/write n MSRs; returns how many were transferred, or -1. */
    int (*get_msrs)(struct hv_vcpu *vcpu, struct hv_msr *msrs, unsigned n);
    int (*set_msrs)(struct hv_vcpu *vcpu, const struct hv_msr *msrs, unsigned n);
    int (*get_xsave)(struct hv_vcpu *vcpu, struct hv_xsave *xsave);
    int (*set_xsave)(struct hv_vcpu *vcpu, const struct hv_xsave *xsave);
    int (*get_xcrs)(struct hv_vcpu *vcpu, struct hv_xcrs *xcrs);
    int (*set_xcrs)(struct hv_vcpu *vcpu, const struct hv_xcrs *xcrs);
    int (*get_lapic)(struct hv_vcpu *vcpu, struct hv_lapic *lapic);
    int (*set_lapic)(struct hv_vcpu *vcpu, const struct hv_lapic *lapic);
    int (*get_events)(struct hv_vcpu *vcpu, struct hv_events *ev);
    int (*set_events)(struct hv_vcpu *vcpu, const struct hv_events *ev);
    int (*get_mp_state)(struct hv_vcpu *vcpu, enum hv_mp_state *state);
    int (*set_mp_state)(struct hv_vcpu *vcpu, enum hv_mp_state state);
    int (*set_cpuid)(struct hv_vcpu *vcpu, const struct hv_cpuid *cpuid, struct hv_error *err);
    /* Translate a guest-linear address through the vCPU's current paging. */
    int (*translate)(struct hv_vcpu *vcpu, uint64_t linear, uint64_t *gpa, bool *valid);

    /* Drive an irqchip input (GSI) to level. */
    int (*irq_line)(struct hv_vm *vm, unsigned gsi, int level);
    /* Deliver a message-signalled interrupt. */
    int (*signal_msi)(struct hv_vm *vm, uint64_t addr, uint32_t data);
    /* Bind an eventfd to a GSI (resamplefd may be -1). deassign removes it. */
    int (*irqfd)(struct hv_vm *vm, int fd, unsigned gsi, int resamplefd, bool deassign);
    /* Signal fd when the guest writes to port/MMIO addr (len 0 = any size);
     * match_data: only when the value equals datamatch. */
    int (*ioeventfd)(struct hv_vm *vm, int fd, uint64_t addr, unsigned len, bool pio,
                     bool match_data, uint64_t datamatch, bool deassign);
    /* Batch the guest's writes to [addr, addr+size) in a ring instead of
     * exiting for each one (reads still exit). Returns 0, or -1 when the
     * accelerator cannot. */
    int (*coalesce_mmio)(struct hv_vm *vm, uint64_t addr, uint64_t size);
    /* Hand every batched write to fn, oldest first, and empty the ring.
     * Callers hold the device lock, and flush before handling any exit
     * and before reading device state the writes may change. */
    void (*flush_coalesced)(struct hv_vm *vm, void (*fn)(void *opaque, uint64_t gpa, const void *data,
                                                          unsigned len), void *opaque);
    /* Silence (or restore) the in-kernel PIT's interrupt: an HPET in
     * legacy replacement mode owns IRQ 0 then. */
    int (*pit_hpet_legacy)(struct hv_vm *vm, bool on);
    /* Fetch and clear the dirty bitmap of a slot (one bit per 4 KiB page). */
    int (*get_dirty_log)(struct hv_vm *vm, unsigned slot, uint64_t *bitmap);
};

/* The KVM implementation. */
extern const struct hv_ops hv_kvm_ops;

#endif
