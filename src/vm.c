#include "vm.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpuid.h"
#include "vcpu.h"

/* ---- real clock on the GLib main loop ---------------------------------- */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t real_now(struct clock *clock)
{
    (void)clock;
    return mono_ns();
}

static int64_t real_wall(struct clock *clock)
{
    (void)clock;
    return (int64_t)time(NULL);
}

static void real_rearm(struct clock *clock)
{
    struct vm *vm = clock->impl;
    /* Called with dev_lock held, possibly from a vCPU thread: just make the
     * main loop recompute its timeout. */
    if (vm->ctx)
        g_main_context_wakeup(vm->ctx);
}

static const struct clock_ops real_clock_ops = {
    .now_ns = real_now,
    .wall_seconds = real_wall,
    .rearm = real_rearm,
};

struct timer_source {
    GSource source;
    struct vm *vm;
};

static gboolean timer_prepare(GSource *source, gint *timeout)
{
    struct vm *vm = ((struct timer_source *)source)->vm;
    pthread_mutex_lock(&vm->dev_lock);
    uint64_t next = clock_next_deadline(&vm->clock);
    pthread_mutex_unlock(&vm->dev_lock);
    uint64_t now = mono_ns();
    if (next <= now) {
        *timeout = 0;
        return TRUE;
    }
    if (next == UINT64_MAX) {
        *timeout = -1;
        return FALSE;
    }
    uint64_t ms = (next - now + 999999) / 1000000;
    *timeout = ms > 60000 ? 60000 : (gint)ms;
    return FALSE;
}

static gboolean timer_check(GSource *source)
{
    struct vm *vm = ((struct timer_source *)source)->vm;
    pthread_mutex_lock(&vm->dev_lock);
    uint64_t next = clock_next_deadline(&vm->clock);
    pthread_mutex_unlock(&vm->dev_lock);
    return next <= mono_ns();
}

static gboolean timer_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    struct vm *vm = ((struct timer_source *)source)->vm;
    pthread_mutex_lock(&vm->dev_lock);
    clock_run_expired(&vm->clock);
    pthread_mutex_unlock(&vm->dev_lock);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
    .prepare = timer_prepare,
    .check = timer_check,
    .dispatch = timer_dispatch,
};

/* ---- VM ---------------------------------------------------------------- */

static void kick_signal_handler(int sig)
{
    (void)sig; /* only here to interrupt KVM_RUN */
}

int vm_create(struct vm *vm, const struct hv_ops *hv, const struct vm_config *cfg,
              char *err, size_t errlen, int *status_out)
{
    memset(vm, 0, sizeof(*vm));
    vm->hv = hv;
    vm->start_ns = mono_ns();
    pthread_mutex_init(&vm->dev_lock, NULL);
    pthread_mutex_init(&vm->state_lock, NULL);
    pthread_cond_init(&vm->state_cond, NULL);
    *status_out = VM_EXIT_HOST_ERROR;

    struct sigaction sa = { .sa_handler = kick_signal_handler };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: KVM_RUN must return */

    struct hv_error herr = {{0}};
    vm->hvm = hv->vm_create(&herr);
    if (!vm->hvm) {
        snprintf(err, errlen, "%s", herr.msg);
        *status_out = VM_EXIT_NO_ACCEL;
        return -1;
    }
    if (guest_mem_init(&vm->mem, cfg->mem_mib << 20, err, errlen) < 0)
        return -1;
    /* RAM below 640 KiB, RAM from 1 MiB to the PCI hole, RAM above 4 GiB.
     * 640 KiB to 1 MiB belongs to the board: the VGA window, and the BIOS
     * areas whose RAM the chipset's PAM registers map in and out. */
    const struct guest_region *low = &vm->mem.regions[0];
    uint64_t above_1m = low->size > VM_BIOS_AREA_END ? low->size - VM_BIOS_AREA_END : 0;
    if (vm_set_slot(vm, VM_SLOT_LOW_RAM, 0, VM_VGA_WINDOW_START, low->hva, 0, err, errlen) < 0 ||
        (above_1m && vm_set_slot(vm, VM_SLOT_RAM_1M, VM_BIOS_AREA_END, above_1m,
                                 low->hva + VM_BIOS_AREA_END, 0, err, errlen) < 0))
        return -1;
    if (vm->mem.nregions > 1) {
        const struct guest_region *high = &vm->mem.regions[1];
        if (vm_set_slot(vm, VM_SLOT_HIGH_RAM, high->gpa, high->size, high->hva, 0, err, errlen) < 0)
            return -1;
    }
    vm->pio = bus_new("pio", 0x10000);
    vm->mmio = bus_new("mmio", UINT64_MAX);
    if (!vm->pio || !vm->mmio) {
        snprintf(err, errlen, "Out of memory.");
        return -1;
    }
    vm->clock = (struct clock){ .ops = &real_clock_ops, .impl = vm };
    vm->ctx = g_main_context_default();
    vm->timer_source = g_source_new(&timer_source_funcs, sizeof(struct timer_source));
    ((struct timer_source *)vm->timer_source)->vm = vm;
    g_source_attach(vm->timer_source, vm->ctx);

    if (cpuid_build_policy(hv, vm->hvm, cfg->cpu_model, &vm->cpuid, err, errlen) < 0) {
        *status_out = VM_EXIT_USAGE;
        return -1;
    }
    x86_emu_config_from_cpuid(&vm->emu_config, &vm->cpuid);
    return 0;
}

static void vm_coalesced_write(void *opaque, uint64_t gpa, const void *data, unsigned len)
{
    struct vm *vm = opaque;
    bus_write(vm->mmio, gpa, data, len);
}

void vm_flush_coalesced(struct vm *vm)
{
    if (vm->hv->flush_coalesced && vm->hvm)
        vm->hv->flush_coalesced(vm->hvm, vm_coalesced_write, vm);
}

int vm_set_slot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva,
                unsigned flags, char *err, size_t errlen)
{
    if (slot >= VM_SLOT_COUNT) {
        snprintf(err, errlen, "Internal error: memory slot %u does not exist.", slot);
        return -1;
    }
    struct vm_slot *cur = &vm->slots[slot];
    if (cur->size == size && (size == 0 || (cur->gpa == gpa && cur->hva == hva && cur->flags == flags)))
        return 0;
    struct hv_error herr = {{0}};
    /* KVM cannot move a slot or change its read-only flag in place: delete
     * it first. A vCPU touching the range in between exits as for MMIO,
     * which the board's handlers cover. */
    if (cur->size && vm->hv->set_memory(vm->hvm, slot, cur->gpa, 0, cur->hva, cur->flags, &herr) < 0) {
        snprintf(err, errlen, "%s", herr.msg);
        return -1;
    }
    *cur = (struct vm_slot){0};
    if (size && vm->hv->set_memory(vm->hvm, slot, gpa, size, hva, flags, &herr) < 0) {
        snprintf(err, errlen, "%s", herr.msg);
        return -1;
    }
    if (size)
        *cur = (struct vm_slot){ .gpa = gpa, .size = size, .hva = hva, .flags = flags };
    return 0;
}

void vm_destroy(struct vm *vm)
{
    /* The accelerator goes first, so no memory slot outlives the device
     * memory (VRAM) it maps. */
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpus[i].hv)
            vm->hv->vcpu_destroy(vm->vcpus[i].hv);
    vm->ncpus = 0;
    if (vm->hvm)
        vm->hv->vm_destroy(vm->hvm);
    vm->hvm = NULL;
    for (unsigned i = vm->ndevices; i-- > 0;)
        if (vm->devices[i].ops->finalize)
            vm->devices[i].ops->finalize(vm->devices[i].dev);
    if (vm->timer_source) {
        g_source_destroy(vm->timer_source);
        g_source_unref(vm->timer_source);
    }
    bus_free(vm->pio);
    bus_free(vm->mmio);
    guest_mem_destroy(&vm->mem);
}

int vm_add_device(struct vm *vm, const struct device_ops *ops, void *dev)
{
    if (vm->ndevices >= VM_MAX_DEVICES)
        return -1;
    vm->devices[vm->ndevices++] = (struct device){ ops, dev };
    return 0;
}

void vm_reset_devices(struct vm *vm)
{
    pthread_mutex_lock(&vm->dev_lock);
    for (unsigned i = 0; i < vm->ndevices; i++)
        if (vm->devices[i].ops->reset)
            vm->devices[i].ops->reset(vm->devices[i].dev);
    pthread_mutex_unlock(&vm->dev_lock);
}

int vm_create_vcpus(struct vm *vm, unsigned n, char *err, size_t errlen)
{
    if (n < 1 || n > VM_MAX_CPUS) {
        snprintf(err, errlen, "A VM can have 1 to %d virtual CPUs; %u was asked for.", VM_MAX_CPUS, n);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct vcpu *v = &vm->vcpus[i];
        v->vm = vm;
        v->index = i;
        struct hv_error herr = {{0}};
        v->hv = vm->hv->vcpu_create(vm->hvm, i, &herr);
        if (!v->hv) {
            snprintf(err, errlen, "%s", herr.msg);
            return -1;
        }
        vm->ncpus = i + 1;
        struct hv_cpuid c = vm->cpuid;
        cpuid_fixup_for_vcpu(&c, i, n);
        if (vm->hv->set_cpuid(v->hv, &c, &herr) < 0) {
            snprintf(err, errlen, "%s", herr.msg);
            return -1;
        }
    }
    return 0;
}

/* Make every vCPU leave guest mode soon: immediate_exit covers a vCPU about
 * to enter KVM_RUN, the signal one already inside it. */
static void kick_all(struct vm *vm)
{
    pthread_mutex_lock(&vm->state_lock);
    for (unsigned i = 0; i < vm->ncpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        vm->hv->vcpu_kick(v->hv);
        if (v->thread_started)
            pthread_kill(v->thread, SIGUSR1);
    }
    pthread_mutex_unlock(&vm->state_lock);
}

static bool vm_stopping(struct vm *vm)
{
    return __atomic_load_n(&vm->stop_requested, __ATOMIC_SEQ_CST);
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status, const char *report)
{
    pthread_mutex_lock(&vm->state_lock);
    bool first = !vm->stop_requested;
    if (first) {
        __atomic_store_n(&vm->stop_requested, true, __ATOMIC_SEQ_CST);
        vm->stop_reason = reason;
        vm->exit_status = status;
        if (report)
            snprintf(vm->stop_report, sizeof(vm->stop_report), "%s", report);
    }
    pthread_cond_broadcast(&vm->state_cond);
    pthread_mutex_unlock(&vm->state_lock);
    if (first) {
        kick_all(vm);
        /* vm_run's loop checks the flag after every iteration. */
        g_main_context_wakeup(vm->ctx);
    }
}

void vm_pause(struct vm *vm)
{
    pthread_mutex_lock(&vm->state_lock);
    vm->pause_requested = true;
    pthread_mutex_unlock(&vm->state_lock);
    kick_all(vm);
    pthread_mutex_lock(&vm->state_lock);
    while (vm->paused_vcpus < vm->ncpus && !vm->stop_requested) {
        /* Re-kick now and then: a halted vCPU may have missed the first. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&vm->state_cond, &vm->state_lock, &ts) == ETIMEDOUT) {
            pthread_mutex_unlock(&vm->state_lock);
            kick_all(vm);
            pthread_mutex_lock(&vm->state_lock);
        }
    }
    pthread_mutex_unlock(&vm->state_lock);
}

void vm_resume(struct vm *vm)
{
    pthread_mutex_lock(&vm->state_lock);
    vm->pause_requested = false;
    pthread_cond_broadcast(&vm->state_cond);
    pthread_mutex_unlock(&vm->state_lock);
}

void vm_irq_set(void *opaque, unsigned gsi, int level)
{
    struct vm *vm = opaque;
    vm->hv->irq_line(vm->hvm, gsi, level);
}

struct main_call {
    struct vm *vm;
    void (*fn)(void *);
    void *opaque;
};

static gboolean main_call_dispatch(gpointer data)
{
    struct main_call *c = data;
    pthread_mutex_lock(&c->vm->dev_lock);
    c->fn(c->opaque);
    pthread_mutex_unlock(&c->vm->dev_lock);
    g_free(c);
    return G_SOURCE_REMOVE;
}

void vm_call_on_main(struct vm *vm, void (*fn)(void *), void *opaque)
{
    struct main_call *c = g_new0(struct main_call, 1);
    c->vm = vm;
    c->fn = fn;
    c->opaque = opaque;
    /* Always queued (g_main_context_invoke could run it right here, with
     * dev_lock possibly held by the caller). */
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, main_call_dispatch, c, NULL);
    g_source_attach(src, vm->ctx);
    g_source_unref(src);
}

static gboolean on_signal(gpointer data)
{
    struct vm *vm = data;
    vm_request_stop(vm, VM_STOP_USER, VM_EXIT_USER, "Stopped by a signal from the host.");
    return G_SOURCE_CONTINUE;
}

int vm_run(struct vm *vm)
{
    guint s1 = g_unix_signal_add(SIGINT, on_signal, vm);
    guint s2 = g_unix_signal_add(SIGTERM, on_signal, vm);
    guint s3 = g_unix_signal_add(SIGHUP, on_signal, vm);
    for (unsigned i = 0; i < vm->ncpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        pthread_mutex_lock(&vm->state_lock);
        bool ok = pthread_create(&v->thread, NULL, vcpu_thread, v) == 0;
        v->thread_started = ok;
        pthread_mutex_unlock(&vm->state_lock);
        if (!ok) {
            vm_request_stop(vm, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR, "Could not start a vCPU thread.");
            break;
        }
    }
    while (!vm_stopping(vm))
        g_main_context_iteration(vm->ctx, TRUE);
    kick_all(vm);
    for (unsigned i = 0; i < vm->ncpus; i++) {
        if (vm->vcpus[i].thread_started) {
            /* Keep kicking: a vCPU may re-enter the guest between kicks. */
            for (;;) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 50 * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                if (pthread_timedjoin_np(vm->vcpus[i].thread, NULL, &ts) == 0)
                    break;
                kick_all(vm);
            }
            pthread_mutex_lock(&vm->state_lock);
            vm->vcpus[i].thread_started = false;
            pthread_mutex_unlock(&vm->state_lock);
        }
    }
    g_source_remove(s1);
    g_source_remove(s2);
    g_source_remove(s3);
    return vm->exit_status;
}
