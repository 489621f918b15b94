#include "pc.h"

#include <stdio.h>
#include <stdlib.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "debug_exit.h"
#include "i8042.h"
#include "mc146818.h"
#include "pci_host.h"
#include "piix_rcr.h"
#include "port92.h"
#include "uart16550.h"
#include "vm.h"

#define PC_NUM_GSI 24

struct pc {
    struct vm *vm;
    struct irq_line gsi[PC_NUM_GSI];
    struct uart16550 com1;
    struct mc146818 rtc;
    struct i8042 kbc;
    struct port92 port92;
    struct pci_host pci;
    struct debug_exit debug_exit;
    struct acpi_pm pm;
    struct piix_rcr rcr;
};

static void pc_power_off(void *opaque)
{
    struct pc *pc = opaque;
    vm_request_stop(pc->vm, VM_STOP_POWER_OFF, VM_EXIT_POWER_OFF, "The guest powered off.");
}

static void pc_reset_request(void *opaque)
{
    struct pc *pc = opaque;
    vm_request_stop(pc->vm, VM_STOP_RESET, VM_EXIT_RESET, "The guest asked for a reset (reboot).");
}

static void pc_debug_exit(void *opaque, int status)
{
    struct pc *pc = opaque;
    char report[96];
    snprintf(report, sizeof(report), "The guest wrote to the debug-exit port (exit status %d).", status);
    vm_request_stop(pc->vm, VM_STOP_DEBUG_EXIT, status, report);
}

struct pc_port {
    uint16_t base;
    uint16_t len;
    const struct bus_ops *ops;
    size_t dev_offset;      /* offsetof the device in struct pc */
    const char *name;
};

/* The board's I/O port map. KVM's in-kernel irqchip and PIT handle the
 * 8259s (0x20, 0xa0, 0x4d0), the PIT (0x40-0x43) and port 0x61 themselves. */
static const struct pc_port pc_ports[] = {
    { 0x60, 1, &i8042_data_bus_ops, offsetof(struct pc, kbc), "i8042-data" },
    { 0x64, 1, &i8042_cmd_bus_ops, offsetof(struct pc, kbc), "i8042-cmd" },
    { 0x70, 2, &mc146818_bus_ops, offsetof(struct pc, rtc), "rtc" },
    { 0x92, 1, &port92_bus_ops, offsetof(struct pc, port92), "port92" },
    { 0xf4, 4, &debug_exit_bus_ops, offsetof(struct pc, debug_exit), "debug-exit" },
    { 0x3f8, 8, &uart16550_bus_ops, offsetof(struct pc, com1), "com1" },
    { ACPI_PM_BASE, ACPI_PM_LEN, &acpi_pm_bus_ops, offsetof(struct pc, pm), "acpi-pm" },
    { 0xcf8, 4, &pci_host_addr_bus_ops, offsetof(struct pc, pci), "pci-addr" },
    { 0xcfc, 4, &pci_host_data_bus_ops, offsetof(struct pc, pci), "pci-data" },
};

struct pc *pc_create(struct vm *vm, const struct chardev *serial_out, char *err, size_t errlen)
{
    struct pc *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        snprintf(err, errlen, "Out of memory.");
        return NULL;
    }
    pc->vm = vm;
    for (unsigned i = 0; i < PC_NUM_GSI; i++)
        irq_line_init(&pc->gsi[i], vm_irq_set, vm, i);

    uint64_t low = guest_mem_low_size(&vm->mem);
    uart16550_init(&pc->com1, &pc->gsi[4], serial_out);
    if (mc146818_init(&pc->rtc, &vm->clock, &pc->gsi[8], low, vm->mem.ram_size - low) < 0) {
        snprintf(err, errlen, "Could not set up the real-time clock.");
        free(pc);
        return NULL;
    }
    i8042_init(&pc->kbc, &pc->gsi[1], &pc->gsi[12], pc_reset_request, pc);
    port92_init(&pc->port92, pc_reset_request, pc);
    pci_host_init(&pc->pci);
    debug_exit_init(&pc->debug_exit, pc_debug_exit, pc);
    acpi_pm_init(&pc->pm, &vm->clock, &pc->gsi[ACPI_SCI_IRQ], ACPI_S5_TYPE, pc_power_off, pc);
    piix_rcr_init(&pc->rcr, pc_reset_request, pc);
    /* 0xCF9 sits inside the PCI address register's dword: the host bridge
     * passes byte accesses there on to the reset control register. */
    pci_host_attach_port(&pc->pci, ACPI_RESET_PORT - 0xcf8, &piix_rcr_bus_ops, &pc->rcr);

    const struct { const struct device_ops *ops; void *dev; } devices[] = {
        { &uart16550_device_ops, &pc->com1 },
        { &mc146818_device_ops, &pc->rtc },
        { &i8042_device_ops, &pc->kbc },
        { &port92_device_ops, &pc->port92 },
        { &pci_host_device_ops, &pc->pci },
        { &debug_exit_device_ops, &pc->debug_exit },
        { &acpi_pm_device_ops, &pc->pm },
        { &piix_rcr_device_ops, &pc->rcr },
    };
    unsigned first_device = vm->ndevices;
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        vm_add_device(vm, devices[i].ops, devices[i].dev);
    for (size_t i = 0; i < sizeof(pc_ports) / sizeof(pc_ports[0]); i++) {
        const struct pc_port *p = &pc_ports[i];
        if (bus_map(vm->pio, p->base, p->len, p->ops, (char *)pc + p->dev_offset, p->name) < 0) {
            snprintf(err, errlen, "Internal error: the I/O ports of %s overlap another device.", p->name);
            for (size_t j = 0; j < i; j++)
                bus_unmap(vm->pio, pc_ports[j].base);
            for (unsigned d = first_device; d < vm->ndevices; d++)
                if (vm->devices[d].ops->finalize)
                    vm->devices[d].ops->finalize(vm->devices[d].dev);
            vm->ndevices = first_device;
            free(pc);
            return NULL;
        }
    }
    return pc;
}

void pc_destroy(struct pc *pc)
{
    if (!pc)
        return;
    /* The devices' finalize ops ran in vm_destroy, which comes first. */
    free(pc);
}

struct uart16550 *pc_uart(struct pc *pc)
{
    return &pc->com1;
}

int pc_set_boot_state(struct vm *vm, const struct boot_result *boot, char *err, size_t errlen)
{
    const struct hv_ops *hv = vm->hv;
    struct hv_vcpu *bsp = vm->vcpus[0].hv;
    struct hv_sregs s;
    if (hv->get_sregs(bsp, &s) < 0) {
        snprintf(err, errlen, "Could not read the boot vCPU's registers.");
        return -1;
    }
    boot_apply_sregs(boot, &s);
    if (hv->set_sregs(bsp, &s) < 0 || hv->set_regs(bsp, &boot->regs) < 0) {
        snprintf(err, errlen, "KVM refused the boot vCPU's start state.");
        return -1;
    }
    return 0;
}
