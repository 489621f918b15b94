#include "pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "debug_exit.h"
#include "debugcon.h"
#include "fw_cfg.h"
#include "i8042.h"
#include "mc146818.h"
#include "pam.h"
#include "pci_host.h"
#include "piix3_isa.h"
#include "piix4_pm.h"
#include "piix_rcr.h"
#include "port92.h"
#include "uart16550.h"
#include "vm.h"

#define PC_NUM_GSI 24

/* PCI functions: slot 1 is the PIIX (ISA bridge, IDE, power management). */
#define PC_PIIX_SLOT 1

struct pc {
    struct vm *vm;
    bool firmware;
    struct irq_line gsi[PC_NUM_GSI];
    struct pam pam;
    struct fw_cfg fw_cfg;
    struct piix3_isa isa;
    struct piix4_pm pmdev;
    struct debugcon debugcon;
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
    { 0x510, 2, &fw_cfg_io_bus_ops, offsetof(struct pc, fw_cfg), "fw_cfg" },
    { 0x514, 8, &fw_cfg_dma_bus_ops, offsetof(struct pc, fw_cfg), "fw_cfg-dma" },
    { DEBUGCON_PORT, 1, &debugcon_bus_ops, offsetof(struct pc, debugcon), "debugcon" },
    { 0xcf8, 4, &pci_host_addr_bus_ops, offsetof(struct pc, pci), "pci-addr" },
    { 0xcfc, 4, &pci_host_data_bus_ops, offsetof(struct pc, pci), "pci-data" },
};

/* The host bridge's configuration changed: follow its PAM registers.
 * Without firmware nobody programs them, so they read as the firmware
 * would have left them: all of 0xC0000-0xFFFFF is RAM. */
static void pc_bridge_written(void *opaque, unsigned reg, unsigned size)
{
    struct pc *pc = opaque;
    if (reg >= I440FX_PAM0 + I440FX_PAM_COUNT || reg + size <= I440FX_PAM0)
        return;
    struct pci_device *bridge = &pc->pci.bridge;
    if (!pc->firmware) {
        bridge->config[I440FX_PAM0] = 0x30;
        for (unsigned i = 1; i < I440FX_PAM_COUNT; i++)
            bridge->config[I440FX_PAM0 + i] = 0x33;
    }
    char err[256];
    if (pam_update(&pc->pam, &bridge->config[I440FX_PAM0], err, sizeof(err)) < 0)
        vm_request_stop(pc->vm, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR, err);
}

static void pc_pirq_changed(void *opaque)
{
    /* No PCI function raises INTx yet; the routing is read on demand. */
}

/* What firmware reads through fw_cfg. */
static int pc_fill_fw_cfg(struct pc *pc, const struct pc_config *cfg)
{
    struct fw_cfg *fw = &pc->fw_cfg;
    struct guest_mem *mem = &pc->vm->mem;
    /* etc/e820: packed entries of u64 address, u64 length, u32 type. */
    uint8_t e820[2 * 20] = {0};
    unsigned ne = 0;
    for (unsigned i = 0; i < mem->nregions && ne < 2; i++, ne++) {
        uint8_t *e = e820 + 20 * ne;
        memcpy(e, &mem->regions[i].gpa, 8);
        memcpy(e + 8, &mem->regions[i].size, 8);
        uint32_t type = 1; /* RAM */
        memcpy(e + 16, &type, 4);
    }
    uint16_t cpus = (uint16_t)cfg->ncpus;
    struct acpi_config acpi = { .ncpus = cfg->ncpus, .pci_hole_start = guest_mem_low_size(mem), .hpet = false };
    uint8_t irq0_override = 1;
    if (fw_cfg_add_u64(fw, FW_CFG_RAM_SIZE, mem->ram_size) < 0 ||
        fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, cpus) < 0 ||
        fw_cfg_add_u16(fw, FW_CFG_MAX_CPUS, cpus) < 0 ||
        fw_cfg_add_u16(fw, FW_CFG_BOOT_MENU, cfg->boot_menu ? 1 : 0) < 0 ||
        fw_cfg_add(fw, FW_CFG_ARCH_LOCAL + 2, &irq0_override, 1) < 0 ||
        fw_cfg_add_file(fw, "etc/e820", e820, 20 * ne) < 0 ||
        fw_cfg_add_file(fw, "etc/boot-cpus", &cpus, sizeof(cpus)) < 0 ||
        acpi_add_to_fw_cfg(fw, &acpi) < 0)
        return -1;
    if (cfg->boot_order && cfg->boot_order[0] &&
        fw_cfg_add_file(fw, "bootorder", cfg->boot_order, (uint32_t)strlen(cfg->boot_order) + 1) < 0)
        return -1;
    if (cfg->boot_menu) {
        uint16_t wait_ms = (uint16_t)cfg->boot_menu_ms;
        if (fw_cfg_add_file(fw, "etc/boot-menu-wait", &wait_ms, sizeof(wait_ms)) < 0)
            return -1;
    }
    return 0;
}

struct pc *pc_create(struct vm *vm, const struct pc_config *cfg, char *err, size_t errlen)
{
    struct pc *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        snprintf(err, errlen, "Out of memory.");
        return NULL;
    }
    pc->vm = vm;
    pc->firmware = cfg->firmware != NULL;
    for (unsigned i = 0; i < PC_NUM_GSI; i++)
        irq_line_init(&pc->gsi[i], vm_irq_set, vm, i);

    if (pc->firmware) {
        if (pam_load_rom(&pc->pam, vm, cfg->firmware_image, cfg->firmware_size, cfg->firmware, err, errlen) < 0) {
            pam_destroy(&pc->pam);
            free(pc);
            return NULL;
        }
    } else {
        pam_init_ram(&pc->pam, vm);
    }

    uint64_t low = guest_mem_low_size(&vm->mem);
    uart16550_init(&pc->com1, &pc->gsi[4], cfg->serial_out);
    if (mc146818_init(&pc->rtc, &vm->clock, &pc->gsi[8], low, vm->mem.ram_size - low) < 0) {
        snprintf(err, errlen, "Could not set up the real-time clock.");
        pam_destroy(&pc->pam);
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
    fw_cfg_init(&pc->fw_cfg, &vm->mem);
    debugcon_init(&pc->debugcon, cfg->firmware_log);
    piix3_isa_init(&pc->isa, pc_pirq_changed, pc);
    /* Without firmware the ACPI registers start where the tables say. */
    piix4_pm_init(&pc->pmdev, vm->pio, &acpi_pm_bus_ops, &pc->pm, ACPI_PM_LEN, !pc->firmware, ACPI_PM_BASE);
    pci_host_register(&pc->pci, &pc->isa.pci, PC_PIIX_SLOT, 0);
    pci_host_register(&pc->pci, &pc->pmdev.pci, PC_PIIX_SLOT, 3);
    pci_host_set_bridge_hook(&pc->pci, pc_bridge_written, pc);

    const struct { const struct device_ops *ops; void *dev; } devices[] = {
        { &uart16550_device_ops, &pc->com1 },
        { &mc146818_device_ops, &pc->rtc },
        { &i8042_device_ops, &pc->kbc },
        { &port92_device_ops, &pc->port92 },
        { &pci_host_device_ops, &pc->pci },
        { &debug_exit_device_ops, &pc->debug_exit },
        { &acpi_pm_device_ops, &pc->pm },
        { &piix_rcr_device_ops, &pc->rcr },
        { &fw_cfg_device_ops, &pc->fw_cfg },
        { &debugcon_device_ops, &pc->debugcon },
        { &piix3_isa_device_ops, &pc->isa },
        { &piix4_pm_device_ops, &pc->pmdev },
    };
    unsigned first_device = vm->ndevices;
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        vm_add_device(vm, devices[i].ops, devices[i].dev);
    bool ok = true;
    size_t mapped = 0;
    for (; mapped < sizeof(pc_ports) / sizeof(pc_ports[0]); mapped++) {
        const struct pc_port *p = &pc_ports[mapped];
        if (bus_map(vm->pio, p->base, p->len, p->ops, (char *)pc + p->dev_offset, p->name) < 0) {
            snprintf(err, errlen, "Internal error: the I/O ports of %s overlap another device.", p->name);
            ok = false;
            break;
        }
    }
    if (ok && bus_map(vm->mmio, VM_BIOS_AREA_START, VM_BIOS_AREA_END - VM_BIOS_AREA_START,
                      &pam_mmio_bus_ops, &pc->pam, "bios-area") < 0) {
        snprintf(err, errlen, "Internal error: the BIOS area overlaps another device.");
        ok = false;
    }
    /* Apply the PAM registers' reset state. */
    if (ok) {
        pc_bridge_written(pc, 0, PCI_CONFIG_SPACE_SIZE);
        if (vm->stop_reason != VM_STOP_NONE) {
            snprintf(err, errlen, "%s", vm->stop_report);
            ok = false;
        }
    }
    if (ok && pc->firmware && pc_fill_fw_cfg(pc, cfg) < 0) {
        snprintf(err, errlen, "Internal error: the firmware configuration does not fit.");
        ok = false;
    }
    if (!ok) {
        for (size_t j = 0; j < mapped; j++)
            bus_unmap(vm->pio, pc_ports[j].base);
        bus_unmap(vm->mmio, VM_BIOS_AREA_START);
        for (unsigned d = first_device; d < vm->ndevices; d++)
            if (vm->devices[d].ops->finalize)
                vm->devices[d].ops->finalize(vm->devices[d].dev);
        vm->ndevices = first_device;
        pam_destroy(&pc->pam);
        free(pc);
        return NULL;
    }
    return pc;
}

void pc_destroy(struct pc *pc)
{
    if (!pc)
        return;
    /* The devices' finalize ops ran in vm_destroy, which comes first. */
    pam_destroy(&pc->pam);
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
