/* x86-64 instruction assist: emulates the few instructions a (nested) host
 * KVM may fail to emulate in guest kernel mode (KVM_EXIT_INTERNAL_ERROR /
 * KVM_INTERNAL_ERROR_EMULATION), so the guest keeps running instead of the
 * VM stopping. Scope: INT3, INT n, INTO, FWAIT, CLAC/STAC, POPCNT,
 * CMPXCHG8B/16B, FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, the XSAVE family,
 * XGETBV/XSETBV; plus event delivery through the IDT/IVT for hosts whose KVM
 * does not deliver #BP itself.
 *
 * Everything the emulator reads comes from the guest and is treated as
 * hostile: it never asserts, aborts or loops without bound on guest data.
 * It works on a snapshot of the vCPU state (struct x86_emu_cpu) that the
 * caller fetched from the accelerator and writes back afterwards.
 *
 * References: Intel SDM vol. 1 ch. 13 (XSAVE), vol. 2 (instructions), vol. 3
 * ch. 4 (paging), 5 (protection), 6 (interrupts), 7 (TSS); AMD APM vol. 2.
 */
#ifndef HOSTEL_X86_EMULATE_H
#define HOSTEL_X86_EMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv.h"

/* Guest-physical memory, supplied by the caller (the vCPU loop or a test). */
struct x86_emu_ops {
    /* Copy guest-physical memory; return 0, or -1 if any byte is not RAM. */
    int (*read_phys)(void *opaque, uint64_t gpa, void *buf, size_t len);
    int (*write_phys)(void *opaque, uint64_t gpa, const void *buf, size_t len);
    /* Optional (may be NULL): host pointer to len bytes of RAM at gpa, or
     * NULL. With it, CMPXCHG8B/16B and page-table accessed/dirty updates are
     * done with host atomics, so vCPUs still running in KVM see them atomic. */
    void *(*map_phys)(void *opaque, uint64_t gpa, size_t len);
};

/* CPUID-derived features the emulator must honour (an instruction the guest's
 * CPUID does not offer raises #UD, as on hardware). */
enum x86_emu_feature {
    X86_EMU_FEAT_FXSR = 1u << 0,      /* CPUID.1:EDX[24] */
    X86_EMU_FEAT_XSAVE = 1u << 1,     /* CPUID.1:ECX[26] */
    X86_EMU_FEAT_XSAVEOPT = 1u << 2,  /* CPUID.(0xD,1):EAX[0] */
    X86_EMU_FEAT_XSAVEC = 1u << 3,    /* CPUID.(0xD,1):EAX[1] */
    X86_EMU_FEAT_XGETBV1 = 1u << 4,   /* CPUID.(0xD,1):EAX[2] */
    X86_EMU_FEAT_XSAVES = 1u << 5,    /* CPUID.(0xD,1):EAX[3] */
    X86_EMU_FEAT_POPCNT = 1u << 6,    /* CPUID.1:ECX[23] */
    X86_EMU_FEAT_CX8 = 1u << 7,       /* CPUID.1:EDX[8] */
    X86_EMU_FEAT_CX16 = 1u << 8,      /* CPUID.1:ECX[13] */
    X86_EMU_FEAT_SMAP = 1u << 9,      /* CPUID.7.0:EBX[20] */
    X86_EMU_FEAT_SSE = 1u << 10,      /* CPUID.1:EDX[25] (LDMXCSR/STMXCSR) */
};

/* XSAVE state components 0..31 are described (AMX tile data is 18). */
#define X86_EMU_XSTATE_MAX 32

/* One XSAVE state component, as CPUID leaf 0xD sub-leaf i describes it. */
struct x86_emu_xstate_component {
    uint32_t size;      /* EAX: bytes; 0 = not described (never emulated) */
    uint32_t offset;    /* EBX: offset in the standard format (0 for supervisor) */
    bool align64;       /* ECX[1]: 64-byte aligned in the compacted format */
    bool supervisor;    /* ECX[0]: an IA32_XSS component */
};

/* Per-VM facts the emulator needs; shared by all vCPUs, read-only here. */
struct x86_emu_config {
    uint32_t features;          /* X86_EMU_FEAT_* */
    uint64_t xcr0_supported;    /* bits XSETBV accepts (CPUID.(0xD,0) EDX:EAX) */
    uint64_t xss_supported;     /* CPUID.(0xD,1) EDX:ECX */
    uint32_t mxcsr_mask;        /* FXSAVE's MXCSR_MASK; bits outside it are reserved */
    uint8_t phys_addr_bits;     /* MAXPHYADDR (CPUID.0x80000008:EAX[7:0]) */
    /* Components 0 and 1 live in the legacy region and need no entry. */
    struct x86_emu_xstate_component xstate[X86_EMU_XSTATE_MAX];
};

/* Everything supported, x87/SSE/AVX in XCR0, the usual Intel layout for the
 * AVX, MPX, AVX-512 and PKRU components, 48 physical address bits. */
void x86_emu_config_default(struct x86_emu_config *cfg);

/* Fill cfg from the CPUID table given to the guest (leaves 1, 7, 0xD,
 * 0x80000008). Missing leaves leave the defaults' feature bits cleared. */
void x86_emu_config_from_cpuid(struct x86_emu_config *cfg, const struct hv_cpuid *cpuid);

/* The vCPU state the emulator reads and changes. The caller fills it from
 * the accelerator and writes back the parts flagged dirty. */
struct x86_emu_cpu {
    struct hv_regs regs;
    struct hv_sregs sregs;
    struct hv_xsave xsave;      /* standard format; header XSTATE_BV = XINUSE */
    struct hv_xcrs xcrs;
    uint64_t xss;               /* IA32_XSS (MSR 0xDA0), for XSAVES/XRSTORS */
    const struct x86_emu_config *config;  /* NULL: x86_emu_config_default() */
    /* Set (never cleared) by the emulator when it changed that part. */
    bool regs_dirty, sregs_dirty, xsave_dirty, xcrs_dirty;
};

enum x86_emu_mode {
    X86_EMU_MODE_REAL,
    X86_EMU_MODE_VM86,
    X86_EMU_MODE_PROT16,
    X86_EMU_MODE_PROT32,
    X86_EMU_MODE_COMPAT16,      /* long mode, 16-bit code segment */
    X86_EMU_MODE_COMPAT32,      /* long mode, 32-bit code segment */
    X86_EMU_MODE_LONG64,
};

/* The execution mode and current privilege level of a vCPU state. */
enum x86_emu_mode x86_emu_cpu_mode(const struct x86_emu_cpu *cpu);
unsigned x86_emu_cpu_cpl(const struct x86_emu_cpu *cpu);

enum x86_emu_result {
    X86_EMU_OK = 0,         /* state updated, RIP advanced past the instruction */
    X86_EMU_EXCEPTION,      /* deliver report->exception; registers untouched */
    X86_EMU_UNKNOWN,        /* not an instruction (or form) this emulator handles */
    X86_EMU_MEM_ERROR,      /* an access reached guest-physical memory that is not
                             * RAM (report->mem_gpa); the instruction did not complete */
    X86_EMU_TRIPLE_FAULT,   /* only from x86_emu_deliver_interrupt: shut the VM down */
};

enum x86_emu_event_kind {
    X86_EMU_EVENT_FAULT,            /* a hardware exception (#GP, #PF, ...) */
    X86_EMU_EVENT_SOFT_EXCEPTION,   /* INT3 (#BP) or INTO (#OF) */
    X86_EMU_EVENT_SOFT_INT,         /* INT n */
};

struct x86_emu_exception {
    uint8_t vector;
    bool has_error_code;
    uint32_t error_code;
    enum x86_emu_event_kind kind;
    /* Software interrupts and exceptions return to RIP + insn_len; KVM needs
     * the length to inject them (report->insn_len holds the same value). */
    bool is_soft;
    uint8_t insn_len;
    uint64_t cr2;           /* #PF: faulting linear address (also put in sregs.cr2) */
};

struct x86_emu_report {
    enum x86_emu_mode mode;
    unsigned cpl;
    uint8_t insn[15];       /* the instruction bytes as decoded (or as far as read) */
    uint8_t insn_len;
    const char *mnemonic;   /* e.g. "xsave"; NULL when not recognised */
    struct x86_emu_exception exception;     /* X86_EMU_EXCEPTION */
    uint64_t mem_gpa;       /* X86_EMU_MEM_ERROR */
    /* X86_EMU_OK with RFLAGS.TF set before the instruction: the caller should
     * deliver a single-step #DB trap (DR6.BS) now. */
    bool single_step;
};

/* Emulate one instruction at CS:RIP. insn/insn_len are the bytes the
 * accelerator supplied; with insn_len 0 (or too few bytes) the rest is fetched
 * from guest memory through the guest's segmentation and paging.
 * On X86_EMU_OK the state is updated and RIP advanced. On X86_EMU_EXCEPTION
 * the registers are as before the instruction (RIP at it) and the caller
 * injects report->exception, e.g. with x86_emu_deliver_interrupt(). report
 * may not be NULL. */
enum x86_emu_result x86_emulate(struct x86_emu_cpu *cpu, const struct x86_emu_ops *ops,
                                void *opaque, const uint8_t *insn, size_t insn_len,
                                struct x86_emu_report *report);

/* Deliver an exception or interrupt to the guest as the CPU would: through the
 * 64-bit IDT in long mode (IST and privilege stack switch from the TSS), the
 * 32/16-bit IDT in protected mode (no task gates), or the IVT in real mode.
 * is_soft: INT n / INT3 / INTO — the gate DPL is checked against CPL and the
 * return address is RIP + insn_len; otherwise RIP is pushed (a fault) and
 * error codes of nested faults carry the EXT bit. A fault while delivering is
 * itself delivered (then #DF); a fault delivering #DF returns
 * X86_EMU_TRIPLE_FAULT. X86_EMU_UNKNOWN for task gates and virtual-8086 mode. */
enum x86_emu_result x86_emu_deliver_interrupt(struct x86_emu_cpu *cpu,
                                              const struct x86_emu_ops *ops, void *opaque,
                                              uint8_t vector, bool has_error,
                                              uint32_t error_code, bool is_soft,
                                              size_t insn_len);

/* Length of the instruction at insn in the vCPU's current mode (legacy, REX,
 * 0F / 0F 38 / 0F 3A maps), or 0 if it cannot be decoded from len bytes. */
size_t x86_emu_insn_length(const struct x86_emu_cpu *cpu, const uint8_t *insn, size_t len);

/* A sentence for the user about an instruction Hostel cannot emulate:
 * "vCPU stopped: instruction 0f c7 0e at RIP 0x... in 64-bit kernel mode
 * (CPL 0) is not one Hostel can emulate. ..." Always NUL-terminates buf. */
void x86_emu_describe(const struct x86_emu_cpu *cpu, const uint8_t *insn, size_t len,
                      char *buf, size_t buflen);

/* A sentence for any non-OK result of x86_emulate (UNKNOWN, MEM_ERROR,
 * EXCEPTION) or of x86_emu_deliver_interrupt (TRIPLE_FAULT). */
void x86_emu_describe_result(const struct x86_emu_cpu *cpu, enum x86_emu_result result,
                             const struct x86_emu_report *report, char *buf, size_t buflen);

#endif
