/* The VM core on a fake accelerator: vCPU threads, pause/resume/stop, stop
 * reasons and reports, IRQ routing, device reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fake_hv.h"
#include "irq.h"
#include "vm.h"

struct runner {
    struct vm *vm;
    pthread_t thread;
    int status;
};

static void *run_thread(void *arg)
{
    struct runner *r = arg;
    r->status = vm_run(r->vm);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static uint64_t total_exits(struct vm *vm)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < vm->ncpus; i++)
        n += __atomic_load_n(&vm->vcpus[i].exits, __ATOMIC_SEQ_CST);
    return n;
}

static struct vm *make_vm(struct fake_hv_config *cfg, unsigned ncpus)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    struct vm_config vc = { .mem_mib = 16, .cpus = ncpus, .cpu_model = "host" };
    char err[256];
    int status;
    fake_hv_use(cfg);
    assert_int_equal(vm_create(vm, &fake_hv_ops, &vc, err, sizeof(err), &status), 0);
    assert_int_equal(vm_create_vcpus(vm, ncpus, err, sizeof(err)), 0);
    return vm;
}

static void free_vm(struct vm *vm)
{
    vm_destroy(vm);
    free(vm);
}

static void test_pause_resume_stop(void **state)
{
    (void)state;
    struct fake_hv_config cfg = { .script = FAKE_IO_LOOP };
    struct vm *vm = make_vm(&cfg, 2);
    struct runner r = { .vm = vm };
    pthread_create(&r.thread, NULL, run_thread, &r);
    for (int i = 0; i < 2000 && (vm->vcpus[0].exits < 3 || vm->vcpus[1].exits < 3); i++)
        sleep_ms(1);
    assert_true(vm->vcpus[0].io_exits >= 3);
    assert_true(vm->vcpus[1].io_exits >= 3);

    vm_pause(vm);
    assert_int_equal(vm->paused_vcpus, 2);
    assert_int_equal(vm->vcpus[0].state, VCPU_STATE_PAUSED);
    uint64_t before = total_exits(vm);
    sleep_ms(30);
    assert_int_equal(total_exits(vm), before);   /* nobody runs while paused */

    vm_resume(vm);
    for (int i = 0; i < 2000 && total_exits(vm) < before + 4; i++)
        sleep_ms(1);
    assert_true(total_exits(vm) >= before + 4);

    vm_request_stop(vm, VM_STOP_POWER_OFF, VM_EXIT_POWER_OFF, "The guest powered off.");
    vm_request_stop(vm, VM_STOP_USER, VM_EXIT_USER, "second reason loses");
    pthread_join(r.thread, NULL);
    assert_int_equal(r.status, VM_EXIT_POWER_OFF);
    assert_int_equal(vm->stop_reason, VM_STOP_POWER_OFF);
    assert_string_equal(vm->stop_report, "The guest powered off.");
    assert_int_equal(vm->vcpus[0].state, VCPU_STATE_STOPPED);
    assert_int_equal(vm->vcpus[1].state, VCPU_STATE_STOPPED);
    free_vm(vm);
}

static void test_stop_while_paused(void **state)
{
    (void)state;
    struct fake_hv_config cfg = { .script = FAKE_IO_LOOP };
    struct vm *vm = make_vm(&cfg, 3);
    struct runner r = { .vm = vm };
    pthread_create(&r.thread, NULL, run_thread, &r);
    vm_pause(vm);
    vm_request_stop(vm, VM_STOP_USER, VM_EXIT_USER, "Stopped.");
    pthread_join(r.thread, NULL);
    assert_int_equal(r.status, VM_EXIT_USER);
    free_vm(vm);
}

static void test_triple_fault_report(void **state)
{
    (void)state;
    struct fake_hv_config cfg = { .script = FAKE_SHUTDOWN };
    struct vm *vm = make_vm(&cfg, 1);
    assert_int_equal(vm_run(vm), VM_EXIT_TRIPLE_FAULT);
    assert_int_equal(vm->stop_reason, VM_STOP_TRIPLE_FAULT);
    assert_non_null(strstr(vm->stop_report, "triple fault on vCPU 0 at RIP 0x1000"));
    assert_non_null(strstr(vm->stop_report, "32-bit protected mode"));
    free_vm(vm);
}

static void test_system_off(void **state)
{
    (void)state;
    struct fake_hv_config cfg = { .script = FAKE_SYSTEM_OFF };
    struct vm *vm = make_vm(&cfg, 2);
    assert_int_equal(vm_run(vm), VM_EXIT_POWER_OFF);
    free_vm(vm);
}

static void test_unknown_instruction_report(void **state)
{
    (void)state;
    /* VEX-encoded vaddps: not one the assist emulates. */
    struct fake_hv_config cfg = { .script = FAKE_EMULATION, .insn = { 0xc5, 0xf4, 0x58, 0xc2 }, .insn_len = 4 };
    struct vm *vm = make_vm(&cfg, 1);
    assert_int_equal(vm_run(vm), VM_EXIT_GUEST_ERROR);
    assert_int_equal(vm->stop_reason, VM_STOP_GUEST_ERROR);
    assert_non_null(strstr(vm->stop_report, "vCPU 0 stopped: instruction c5 f4"));
    assert_non_null(strstr(vm->stop_report, "protected kernel mode (CPL 0)"));
    free_vm(vm);
}

static void test_emulated_instruction_continues(void **state)
{
    (void)state;
    /* fwait with CR0.TS clear is a no-op the assist completes; the vCPU then
     * keeps hitting it (the fake repeats the exit) until stopped. */
    struct fake_hv_config cfg = { .script = FAKE_EMULATION, .insn = { 0x9b }, .insn_len = 1 };
    struct vm *vm = make_vm(&cfg, 1);
    struct runner r = { .vm = vm };
    pthread_create(&r.thread, NULL, run_thread, &r);
    for (int i = 0; i < 2000 && __atomic_load_n(&vm->vcpus[0].emulated, __ATOMIC_SEQ_CST) < 5; i++)
        sleep_ms(1);
    vm_request_stop(vm, VM_STOP_USER, VM_EXIT_USER, NULL);
    pthread_join(r.thread, NULL);
    assert_int_equal(r.status, VM_EXIT_USER);
    assert_true(vm->vcpus[0].emulated >= 5);
    free_vm(vm);
}

static void test_irq_routing(void **state)
{
    (void)state;
    struct fake_hv_config cfg = { .script = FAKE_IO_LOOP };
    struct vm *vm = make_vm(&cfg, 1);
    struct irq_line line;
    irq_line_init(&line, vm_irq_set, vm, 4);
    irq_raise(&line);
    assert_int_equal(cfg.irq_levels[4], 1);
    irq_lower(&line);
    assert_int_equal(cfg.irq_levels[4], 0);
    free_vm(vm);
}

struct counting_dev { int resets; };
static void counting_reset(void *d) { ((struct counting_dev *)d)->resets++; }
static const struct device_ops counting_ops = { .name = "counting", .reset = counting_reset };

static void test_device_registry(void **state)
{
    (void)state;
    struct fake_hv_config cfg = { .script = FAKE_IO_LOOP };
    struct vm *vm = make_vm(&cfg, 1);
    struct counting_dev devs[VM_MAX_DEVICES + 1] = {{0}};
    for (unsigned i = 0; i < VM_MAX_DEVICES; i++)
        assert_int_equal(vm_add_device(vm, &counting_ops, &devs[i]), 0);
    assert_int_equal(vm_add_device(vm, &counting_ops, &devs[VM_MAX_DEVICES]), -1);
    vm_reset_devices(vm);
    for (unsigned i = 0; i < VM_MAX_DEVICES; i++)
        assert_int_equal(devs[i].resets, 1);
    assert_int_equal(devs[VM_MAX_DEVICES].resets, 0);
    free_vm(vm);
}

static void test_vcpu_count_limits(void **state)
{
    (void)state;
    struct fake_hv_config cfg = { .script = FAKE_IO_LOOP };
    struct vm *vm = calloc(1, sizeof(*vm));
    struct vm_config vc = { .mem_mib = 16, .cpus = 1, .cpu_model = "host" };
    char err[256];
    int status;
    fake_hv_use(&cfg);
    assert_int_equal(vm_create(vm, &fake_hv_ops, &vc, err, sizeof(err), &status), 0);
    assert_int_equal(vm_create_vcpus(vm, 0, err, sizeof(err)), -1);
    assert_int_equal(vm_create_vcpus(vm, VM_MAX_CPUS + 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "1 to 64"));
    free_vm(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pause_resume_stop),
        cmocka_unit_test(test_stop_while_paused),
        cmocka_unit_test(test_triple_fault_report),
        cmocka_unit_test(test_system_off),
        cmocka_unit_test(test_unknown_instruction_report),
        cmocka_unit_test(test_emulated_instruction_continues),
        cmocka_unit_test(test_irq_routing),
        cmocka_unit_test(test_device_registry),
        cmocka_unit_test(test_vcpu_count_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
