/* The VM: guest RAM, vCPU threads, buses, devices and the main loop of one
 * hostel-vm process.
 *
 * Threads: each vCPU runs in its own thread; everything else (timers, the
 * serial console's input, control requests) runs in the GLib main loop of
 * the main thread. Device state is guarded by one lock, `dev_lock`, taken by
 * a vCPU around each device access and by the main loop around callbacks.
 */
#ifndef HOSTEL_VM_H
#define HOSTEL_VM_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "clock.h"
#include "device.h"
#include "emulate/x86_emulate.h"
#include "hv.h"
#include "memory.h"

#define VM_MAX_CPUS 64
#define VM_MAX_DEVICES 32

/* Why the VM stopped; also hostel-vm's exit status (see vm_exit_status). */
enum vm_stop_reason {
    VM_STOP_NONE = 0,
    VM_STOP_POWER_OFF,      /* the guest powered off */
    VM_STOP_RESET,          /* the guest asked for a reset / reboot */
    VM_STOP_TRIPLE_FAULT,   /* a vCPU hit a triple fault */
    VM_STOP_GUEST_ERROR,    /* an instruction could not be run or emulated */
    VM_STOP_HOST_ERROR,     /* the host driver failed */
    VM_STOP_DEBUG_EXIT,     /* a test guest wrote to the debug-exit port */
    VM_STOP_USER,           /* the user asked (signal, control command) */
};

/* Exit statuses of hostel-vm. Debug-exit statuses are odd ((v << 1) | 1),
 * so Hostel's own are even. */
enum {
    VM_EXIT_POWER_OFF = 0,
    VM_EXIT_RESET = 2,
    VM_EXIT_TRIPLE_FAULT = 4,
    VM_EXIT_GUEST_ERROR = 6,
    VM_EXIT_HOST_ERROR = 8,
    VM_EXIT_USER = 10,
    VM_EXIT_USAGE = 64,
    VM_EXIT_BAD_INPUT = 66,
    VM_EXIT_NO_ACCEL = 68,
};

enum vcpu_state {
    VCPU_STATE_CREATED,
    VCPU_STATE_RUNNING,
    VCPU_STATE_PAUSED,
    VCPU_STATE_STOPPED,
};

struct vm;

struct vcpu {
    struct vm *vm;
    unsigned index;
    struct hv_vcpu *hv;
    pthread_t thread;
    bool thread_started;
    enum vcpu_state state;      /* guarded by vm->state_lock */
    uint64_t exits;             /* exit count, for statistics */
    uint64_t io_exits;
    uint64_t emulated;          /* instructions emulated by Hostel */
};

/* Disks beside the CD-ROM drive on the two IDE channels (hostel-vm's
 * --help and its error message say 3). */
#define VM_MAX_DISKS 3

/* What the VM runs: filled from the command line or a definition file. */
struct vm_config {
    uint64_t mem_mib;
    unsigned cpus;
    const char *firmware;       /* BIOS image; NULL with a kernel */
    const char *firmware_log;   /* file for the firmware's debug port, "-" = stderr */
    const char *disks[VM_MAX_DISKS];    /* raw disk images, in IDE order (pc.h) */
    unsigned ndisks;
    const char *cdrom;          /* ISO image */
    const char *boot;           /* firmware boot order, "cd,disk" style */
    unsigned boot_menu_ms;
    const char *control;        /* control socket path */
    const char *screenshot_on_exit;
    bool no_reboot;             /* a guest reset stops the VM */
    const char *uuid;           /* NULL: random */
    const char *kernel;
    const char *initrd;
    const char *append;
    const char *cpu_model;      /* "host" or "conservative" */
    const char *kernel_entry;   /* "auto", "linux64", "linux32", "pvh" or "multiboot" */
    bool serial_stdio;
    bool quiet;                 /* no informational messages on stderr */
};

/* The accelerator's memory slots, one per kind of mapping. */
enum vm_slot_id {
    VM_SLOT_LOW_RAM,        /* RAM 0 - 640 KiB */
    VM_SLOT_RAM_1M,         /* RAM 1 MiB - PCI hole */
    VM_SLOT_HIGH_RAM,       /* RAM above 4 GiB */
    VM_SLOT_BIOS,           /* the firmware ROM below 4 GiB */
    VM_SLOT_PAM0,           /* 13 PAM segments, 0xC0000 - 0xFFFFF */
    VM_SLOT_VGA_LFB = VM_SLOT_PAM0 + 13,
    VM_SLOT_COUNT,
};

#define VM_VGA_WINDOW_START 0xA0000ull
#define VM_BIOS_AREA_START 0xC0000ull
#define VM_BIOS_AREA_END 0x100000ull

struct vm_slot {
    uint64_t gpa, size;
    void *hva;
    unsigned flags;
};

struct vm {
    const struct hv_ops *hv;
    struct hv_vm *hvm;
    struct guest_mem mem;
    struct vm_slot slots[VM_SLOT_COUNT];
    struct bus *pio;
    struct bus *mmio;
    struct clock clock;
    GMainContext *ctx;
    GSource *timer_source;

    pthread_mutex_t dev_lock;   /* device state */
    pthread_mutex_t state_lock; /* run state below */
    pthread_cond_t state_cond;
    bool pause_requested;
    bool stop_requested;
    unsigned paused_vcpus;

    struct vcpu vcpus[VM_MAX_CPUS];
    unsigned ncpus;

    struct device devices[VM_MAX_DEVICES];
    unsigned ndevices;

    /* Set once, by the first vm_request_stop. */
    enum vm_stop_reason stop_reason;
    int exit_status;
    char stop_report[512];

    struct hv_cpuid cpuid;      /* the policy, before per-vCPU fix-ups */
    struct x86_emu_config emu_config; /* what the instruction assist may do */
    void *machine;              /* the board's devices (pc.c) */
    uint64_t start_ns;
};

/* Create the VM shell: accelerator VM, RAM, buses, clock, main loop.
 * Returns 0, or -1 with a sentence in err (and *status_out set to the
 * exit status to use). */
int vm_create(struct vm *vm, const struct hv_ops *hv, const struct vm_config *cfg,
              char *err, size_t errlen, int *status_out);
void vm_destroy(struct vm *vm);

/* Map [gpa, gpa+size) of guest-physical memory to hva in slot (HV_MEM_*
 * flags), replacing what the slot mapped; size 0 unmaps. Mapping what is
 * already mapped costs nothing. Returns 0, or -1 with a sentence in err. */
int vm_set_slot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva,
                unsigned flags, char *err, size_t errlen);

/* Apply the guest's batched (coalesced) MMIO writes to the devices. Call
 * with dev_lock held, before handling an exit or reading device state. */
void vm_flush_coalesced(struct vm *vm);

/* Register a device for reset and state saving. */
int vm_add_device(struct vm *vm, const struct device_ops *ops, void *dev);
void vm_reset_devices(struct vm *vm);

/* Create vCPU i with the CPUID policy applied. */
int vm_create_vcpus(struct vm *vm, unsigned n, char *err, size_t errlen);

/* Start all vCPU threads and run the main loop until the VM stops.
 * Returns the exit status. */
int vm_run(struct vm *vm);

/* Ask the VM to stop (from any thread). The first reason wins. report is a
 * sentence for the user (may be NULL). */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status, const char *report);

/* Pause / resume all vCPUs (from the main thread, never with dev_lock held:
 * a vCPU may be waiting for it). Pause returns once every vCPU has left
 * guest mode. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* GSI sink for struct irq_line (opaque = struct vm *). */
void vm_irq_set(void *opaque, unsigned gsi, int level);

/* Run fn(opaque) on the main loop with dev_lock held (thread-safe). */
void vm_call_on_main(struct vm *vm, void (*fn)(void *), void *opaque);

#endif
