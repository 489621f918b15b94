#include "pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "fwboot.h"
#include "smbios.h"
#include "pc_internal.h"
#include "png_write.h"
#include "vm.h"

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
 * 8259s (0x20, 0xa0, 0x4d0), the PIT (0x40-0x43) and port 0x61 themselves.
 * The ACPI registers move with the PIIX4's PMBA (piix4_pm.c) and the IDE
 * bus-master block with its BAR4 (ide.c). */
static const struct pc_port pc_ports[] = {
    { 0x60, 1, &i8042_data_bus_ops, offsetof(struct pc, kbc), "i8042-data" },
    { 0x64, 1, &i8042_cmd_bus_ops, offsetof(struct pc, kbc), "i8042-cmd" },
    { 0x70, 2, &mc146818_bus_ops, offsetof(struct pc, rtc), "rtc" },
    { 0x92, 1, &port92_bus_ops, offsetof(struct pc, port92), "port92" },
    { 0xf4, 4, &debug_exit_bus_ops, offsetof(struct pc, debug_exit), "debug-exit" },
    { 0x170, 8, &ide_cmd_bus_ops, offsetof(struct pc, ide.chan[1]), "ide1" },
    { 0x1ce, 3, &vga_dispi_bus_ops, offsetof(struct pc, vga), "vbe-dispi" },
    { 0x1f0, 8, &ide_cmd_bus_ops, offsetof(struct pc, ide.chan[0]), "ide0" },
    { 0x376, 1, &ide_ctl_bus_ops, offsetof(struct pc, ide.chan[1]), "ide1-ctl" },
    { 0x3b0, 16, &vga_mono_bus_ops, offsetof(struct pc, vga), "vga-mono" },
    { 0x3c0, 32, &vga_ioport_bus_ops, offsetof(struct pc, vga), "vga" },
    { 0x3f6, 1, &ide_ctl_bus_ops, offsetof(struct pc, ide.chan[0]), "ide0-ctl" },
    { 0x3f8, 8, &uart16550_bus_ops, offsetof(struct pc, com1), "com1" },
    { DEBUGCON_PORT, 1, &debugcon_bus_ops, offsetof(struct pc, debugcon), "debugcon" },
    { 0x510, 2, &fw_cfg_io_bus_ops, offsetof(struct pc, fw_cfg), "fw_cfg" },
    { 0x514, 8, &fw_cfg_dma_bus_ops, offsetof(struct pc, fw_cfg), "fw_cfg-dma" },
    { 0xcf8, 4, &pci_host_addr_bus_ops, offsetof(struct pc, pci), "pci-addr" },
    { 0xcfc, 4, &pci_host_data_bus_ops, offsetof(struct pc, pci), "pci-data" },
};

struct pc_mmio {
    uint64_t base, len;
    const struct bus_ops *ops;
    size_t dev_offset;
    const char *name;
};

static const struct pc_mmio pc_mmio[] = {
    { VM_VGA_WINDOW_START, 0x20000, &vga_mem_bus_ops, offsetof(struct pc, vga), "vga-window" },
    { VM_BIOS_AREA_START, VM_BIOS_AREA_END - VM_BIOS_AREA_START, &pam_mmio_bus_ops, offsetof(struct pc, pam),
      "bios-area" },
    { HPET_MMIO_BASE, HPET_MMIO_SIZE, &hpet_bus_ops, offsetof(struct pc, hpet), "hpet" },
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

/* INTA# of the function in slot n (the only pin used here): slots rotate
 * their pins over PIRQA-D as the DSDT's _PRT says (acpi.c). A PIRQ line
 * is the wired-OR of the slots on it; it goes to the IOAPIC input the ACPI
 * tables give for APIC mode (GSI 16-19), and through the PIIX3's routing
 * to an ISA IRQ for the 8259s (PIC mode, as firmware sets it up). */
static void pc_pci_intx(void *opaque, unsigned slot, int level)
{
    struct pc *pc = opaque;
    unsigned pirq = (slot - 1) & 3;    /* pin A */
    if (level)
        pc->pirq_slots[pirq] |= 1u << slot;
    else
        pc->pirq_slots[pirq] &= ~(1u << slot);
    int wired = pc->pirq_slots[pirq] != 0;
    irq_set_level(&pc->gsi[ACPI_PCI_GSI_BASE + pirq], wired);
    piix3_isa_set_pirq(&pc->isa, pirq, wired);
}

/* While the HPET's legacy replacement routing is on, IRQ 0 and IRQ 8 are
 * its own: the PIT and the RTC are cut off from them. */
static void pc_hpet_legacy(void *opaque, bool on)
{
    struct pc *pc = opaque;
    pc->hpet_legacy = on;
    if (pc->vm->hv->pit_hpet_legacy && pc->vm->hvm)
        pc->vm->hv->pit_hpet_legacy(pc->vm->hvm, on);
    if (on)
        irq_set_level(&pc->gsi[8], 0);
    else
        irq_set_level(&pc->gsi[8], pc->rtc_irq.level);
}

static void pc_rtc_irq(void *opaque, unsigned n, int level)
{
    struct pc *pc = opaque;
    if (!pc->hpet_legacy)
        irq_set_level(&pc->gsi[8], level);
}

/* The VGA's linear framebuffer follows its BAR0. A BAR the guest points
 * outside the PCI hole (onto RAM, the ROM or the APICs) decodes to nothing,
 * rather than shadowing what is there. */
static void pc_vga_lfb_map(void *opaque, uint64_t gpa, bool mapped)
{
    struct pc *pc = opaque;
    uint64_t size = pc->vga.vram_size;
    bool fits = gpa >= guest_mem_low_size(&pc->vm->mem) && gpa + size <= IOAPIC_BASE;
    char err[256];
    if (vm_set_slot(pc->vm, VM_SLOT_VGA_LFB, gpa, mapped && fits ? size : 0, pc->vga.vram, 0,
                    err, sizeof(err)) < 0)
        vm_request_stop(pc->vm, VM_STOP_HOST_ERROR, VM_EXIT_HOST_ERROR, err);
}

/* The firmware's boot order (fw_cfg "bootorder"): one OpenFirmware device
 * path per line, as SeaBIOS matches them; "HALT" ends the list so devices
 * left out are not tried. */
/* Where disk i sits: (channel, unit). */
static const struct { unsigned channel, unit; } pc_disk_slots[VM_MAX_DISKS] = { { 0, 0 }, { 0, 1 }, { 1, 1 } };

static char *pc_boot_order(const struct pc *pc, const char *order, bool kernel)
{
    GString *out = g_string_new(NULL);
    if (kernel)
        g_string_append(out, "/rom@" FWBOOT_ROM_NAME "\n");
    gchar **items = g_strsplit(order, ",", 0);
    for (gchar **it = items; *it; it++) {
        if (strcmp(*it, "cd") == 0 && pc->has_cdrom_drive)
            g_string_append_printf(out, "/pci@i0cf8/ide@%x,1/drive@1/disk@0\n", PC_PIIX_SLOT);
        else if (strcmp(*it, "disk") == 0)
            for (unsigned i = 0; i < pc->ndisks; i++)
                g_string_append_printf(out, "/pci@i0cf8/ide@%x,1/drive@%u/disk@%u\n", PC_PIIX_SLOT,
                                       pc_disk_slots[i].channel, pc_disk_slots[i].unit);
    }
    g_strfreev(items);
    g_string_append(out, "HALT\n");
    return g_string_free(out, FALSE);
}

/* What firmware reads through fw_cfg. */
static int pc_fill_fw_cfg(struct pc *pc, const struct pc_config *cfg, char *err, size_t errlen)
{
    struct fw_cfg *fw = &pc->fw_cfg;
    struct guest_mem *mem = &pc->vm->mem;
    /* etc/e820: packed entries of u64 address, u64 length, u32 type (1
     * RAM, 2 reserved): the RAM, and the pages KVM keeps below the BIOS for
     * Intel's real-mode TSS and identity map (host-driver/kvm.c). */
    struct { uint64_t addr, len; uint32_t type; } map[3];
    unsigned ne = 0;
    for (unsigned i = 0; i < mem->nregions && i < 2; i++)
        map[ne++] = (typeof(map[0])){ mem->regions[i].gpa, mem->regions[i].size, 1 };
    map[ne++] = (typeof(map[0])){ PC_KVM_RESERVED_START, PC_KVM_RESERVED_SIZE, 2 };
    uint8_t e820[3 * 20] = {0};
    for (unsigned i = 0; i < ne; i++) {
        memcpy(e820 + 20 * i, &map[i].addr, 8);
        memcpy(e820 + 20 * i + 8, &map[i].len, 8);
        memcpy(e820 + 20 * i + 16, &map[i].type, 4);
    }
    uint16_t cpus = (uint16_t)cfg->ncpus;
    struct acpi_config acpi = {
        .ncpus = cfg->ncpus, .pci_hole_start = guest_mem_low_size(mem),
        .hpet = true, .hpet_block_id = hpet_acpi_block_id(), .hpet_min_tick = HPET_MIN_TICK,
    };
    uint8_t irq0_override = 1;
    if (fw_cfg_add_u64(fw, FW_CFG_RAM_SIZE, mem->ram_size) < 0 ||
        fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, cpus) < 0 ||
        fw_cfg_add_u16(fw, FW_CFG_MAX_CPUS, cpus) < 0 ||
        fw_cfg_add_u16(fw, FW_CFG_BOOT_MENU, cfg->boot_menu_ms ? 1 : 0) < 0 ||
        fw_cfg_add(fw, FW_CFG_ARCH_LOCAL + 2, &irq0_override, 1) < 0 ||
        fw_cfg_add_file(fw, "etc/e820", e820, 20 * ne) < 0 ||
        fw_cfg_add_file(fw, "etc/boot-cpus", &cpus, sizeof(cpus)) < 0 ||
        acpi_add_to_fw_cfg(fw, &acpi) < 0)
        return -1;
    if (cfg->vga_rom && fw_cfg_add_file(fw, "pci1234,1111.rom", cfg->vga_rom, (uint32_t)cfg->vga_rom_size) < 0)
        return -1;
    /* SMBIOS: the firmware copies the tables and places the entry point. */
    struct smbios_config sm = {
        .ncpus = cfg->ncpus, .ram_below_4g = guest_mem_low_size(mem),
        .ram_above_4g = mem->ram_size - guest_mem_low_size(mem), .version = HOSTEL_VERSION,
    };
    memcpy(sm.uuid, cfg->uuid, sizeof(sm.uuid));
    uint8_t *anchor = NULL, *table = NULL;
    size_t anchor_len = 0, table_len = 0;
    if (smbios_build(&sm, &anchor, &anchor_len, &table, &table_len) < 0)
        return -1;
    int sm_rc = fw_cfg_add_file(fw, SMBIOS_TABLES_FILE, table, (uint32_t)table_len) |
                fw_cfg_add_file(fw, SMBIOS_ANCHOR_FILE, anchor, (uint32_t)anchor_len) |
                fw_cfg_add(fw, FW_CFG_UUID, cfg->uuid, 16);
    free(anchor);
    free(table);
    if (sm_rc < 0)
        return -1;
    if (cfg->kernel &&
        fwboot_add_linux(fw, cfg->kernel, cfg->kernel_size, cfg->initrd, cfg->initrd_size, cfg->cmdline,
                         guest_mem_low_size(mem), cfg->linuxboot_rom, cfg->linuxboot_rom_size, err, errlen) < 0)
        return -1;
    char *order = pc_boot_order(pc, cfg->boot_order ? cfg->boot_order : "cd,disk", cfg->kernel != NULL);
    int rc = fw_cfg_add_file(fw, "bootorder", order, (uint32_t)strlen(order) + 1);
    g_free(order);
    if (rc < 0)
        return -1;
    if (cfg->boot_menu_ms) {
        uint16_t wait_ms = (uint16_t)cfg->boot_menu_ms;
        if (fw_cfg_add_file(fw, "etc/boot-menu-wait", &wait_ms, sizeof(wait_ms)) < 0)
            return -1;
    }
    return 0;
}

static void pc_free(struct pc *pc)
{
    if (pc->display_ready)
        display_destroy(&pc->display);
    pam_destroy(&pc->pam);
    for (unsigned i = 0; i < pc->ndisks; i++)
        blockdev_close(pc->disks[i]);
    blockdev_close(pc->cdrom);
    free(pc);
}

struct pc *pc_create(struct vm *vm, const struct pc_config *cfg, char *err, size_t errlen)
{
    struct pc *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        snprintf(err, errlen, "Out of memory.");
        for (unsigned i = 0; i < cfg->ndisks && i < VM_MAX_DISKS; i++)
            blockdev_close(cfg->disks[i]);
        blockdev_close(cfg->cdrom);
        return NULL;
    }
    pc->vm = vm;
    pc->firmware = cfg->firmware != NULL;
    pc->ndisks = cfg->ndisks < VM_MAX_DISKS ? cfg->ndisks : VM_MAX_DISKS;
    for (unsigned i = 0; i < pc->ndisks; i++)
        pc->disks[i] = cfg->disks[i];
    pc->cdrom = cfg->cdrom;
    pc->has_cdrom_drive = cfg->cdrom_drive;
    for (unsigned i = 0; i < PC_NUM_GSI; i++)
        irq_line_init(&pc->gsi[i], vm_irq_set, vm, i);
    irq_line_init(&pc->rtc_irq, pc_rtc_irq, pc, 8);

    if (pc->firmware) {
        if (pam_load_rom(&pc->pam, vm, cfg->firmware_image, cfg->firmware_size, cfg->firmware, err, errlen) < 0) {
            pc_free(pc);
            return NULL;
        }
    } else {
        pam_init_ram(&pc->pam, vm);
    }
    if (display_init(&pc->display, err, errlen) < 0) {
        pc_free(pc);
        return NULL;
    }
    pc->display_ready = true;

    uint64_t low = guest_mem_low_size(&vm->mem);
    uart16550_init(&pc->com1, &pc->gsi[4], cfg->serial_out);
    if (mc146818_init(&pc->rtc, &vm->clock, &pc->rtc_irq, low, vm->mem.ram_size - low) < 0 ||
        hpet_init(&pc->hpet, &vm->clock, pc->gsi, PC_NUM_GSI, pc_hpet_legacy, pc) < 0) {
        snprintf(err, errlen, "Internal error: out of timers for the clocks.");
        pc_free(pc);
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
    /* Without firmware the PIRQ routing starts as firmware would leave it,
     * which is what the DSDT's PIC-mode routing says. */
    piix3_isa_init(&pc->isa, pc->firmware ? NULL : acpi_pirq_isa_irq, pc->gsi);
    /* Without firmware the ACPI registers start where the tables say. */
    piix4_pm_init(&pc->pmdev, vm->pio, &acpi_pm_bus_ops, &pc->pm, ACPI_PM_LEN, !pc->firmware, ACPI_PM_BASE);
    ide_init(&pc->ide, vm->pio, &vm->mem, &pc->gsi[14], &pc->gsi[15]);
    if (vga_init(&pc->vga, vm->mmio, pc_vga_lfb_map, pc, err, errlen) < 0) {
        pc_free(pc);
        return NULL;
    }
    pc->vga_ready = true;
    if (i8042_set_clock(&pc->kbc, &vm->clock) < 0 || pc_input_init(pc) < 0) {
        snprintf(err, errlen, "Internal error: out of timers for the keyboard.");
        vga_device_ops.finalize(&pc->vga);
        pc_free(pc);
        return NULL;
    }
    bool attached = true;
    for (unsigned i = 0; i < pc->ndisks; i++)
        attached &= ide_attach_disk(&pc->ide, pc_disk_slots[i].channel, pc_disk_slots[i].unit, pc->disks[i]) == 0;
    if (!attached || (pc->has_cdrom_drive && ide_attach_cdrom(&pc->ide, 1, 0, pc->cdrom) < 0)) {
        snprintf(err, errlen, "Internal error: the IDE drives could not be attached.");
        vga_device_ops.finalize(&pc->vga);
        pc_free(pc);
        return NULL;
    }
    pci_host_register(&pc->pci, &pc->isa.pci, PC_PIIX_SLOT, 0);
    pci_host_register(&pc->pci, &pc->ide.pci, PC_PIIX_SLOT, 1);
    pci_host_register(&pc->pci, &pc->pmdev.pci, PC_PIIX_SLOT, 3);
    pci_host_register(&pc->pci, &pc->vga.pci, PC_VGA_SLOT, 0);
    irq_line_init(&pc->tablet_intx, pc_pci_intx, pc, PC_TABLET_SLOT);
    virtio_tablet_init(&pc->tablet, vm->mmio, &vm->mem, &pc->tablet_intx);
    pci_host_register(&pc->pci, &pc->tablet.vp.pci, PC_TABLET_SLOT, 0);
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
        { &hpet_device_ops, &pc->hpet },
        { &ide_device_ops, &pc->ide },
        { &vga_device_ops, &pc->vga },
        { &virtio_pci_device_ops, &pc->tablet.vp },
        { &virtio_input_device_ops, &pc->tablet },
    };
    unsigned first_device = vm->ndevices;
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        vm_add_device(vm, devices[i].ops, devices[i].dev);
    bool ok = true;
    size_t ports = 0, ranges = 0;
    for (; ok && ports < sizeof(pc_ports) / sizeof(pc_ports[0]); ports++) {
        const struct pc_port *p = &pc_ports[ports];
        if (bus_map(vm->pio, p->base, p->len, p->ops, (char *)pc + p->dev_offset, p->name) < 0) {
            snprintf(err, errlen, "Internal error: the I/O ports of %s overlap another device.", p->name);
            ok = false;
            break;
        }
    }
    for (; ok && ranges < sizeof(pc_mmio) / sizeof(pc_mmio[0]); ranges++) {
        const struct pc_mmio *m = &pc_mmio[ranges];
        if (bus_map(vm->mmio, m->base, m->len, m->ops, (char *)pc + m->dev_offset, m->name) < 0) {
            snprintf(err, errlen, "Internal error: the memory range of %s overlaps another device.", m->name);
            ok = false;
            break;
        }
    }
    /* Apply the reset state of the PAM and PIRQ registers. */
    if (ok) {
        pc_bridge_written(pc, 0, PCI_CONFIG_SPACE_SIZE);
        if (vm->stop_reason != VM_STOP_NONE) {
            snprintf(err, errlen, "%s", vm->stop_report);
            ok = false;
        }
    }
    /* The VGA window's writes (text, fonts, planar drawing) need no
     * answer: KVM batches them, and they reach the VGA at the next exit. */
    if (ok && vm->hv->coalesce_mmio && vm->hvm)
        vm->hv->coalesce_mmio(vm->hvm, VM_VGA_WINDOW_START, 0x20000);
    if (ok && pc->firmware) {
        err[0] = 0;
        if (pc_fill_fw_cfg(pc, cfg, err, errlen) < 0) {
            if (!err[0])
                snprintf(err, errlen, "Internal error: the firmware configuration does not fit.");
            ok = false;
        }
    }
    if (!ok) {
        for (size_t j = 0; j < ports; j++)
            bus_unmap(vm->pio, pc_ports[j].base);
        for (size_t j = 0; j < ranges; j++)
            bus_unmap(vm->mmio, pc_mmio[j].base);
        vm_set_slot(vm, VM_SLOT_VGA_LFB, 0, 0, NULL, 0, err + strlen(err), 0);
        for (unsigned d = vm->ndevices; d-- > first_device;)
            if (vm->devices[d].ops->finalize)
                vm->devices[d].ops->finalize(vm->devices[d].dev);
        vm->ndevices = first_device;
        pc_free(pc);
        return NULL;
    }
    return pc;
}

void pc_destroy(struct pc *pc)
{
    if (!pc)
        return;
    /* The devices' finalize ops ran in vm_destroy, which comes first. */
    char err[256];
    for (unsigned i = 0; i < pc->ndisks; i++)
        if (blockdev_flush(pc->disks[i], err, sizeof(err)) < 0)
            fprintf(stderr, "hostel-vm: %s\n", err);
    pc_free(pc);
}

struct uart16550 *pc_uart(struct pc *pc)
{
    return &pc->com1;
}

void pc_power_button(struct pc *pc)
{
    acpi_pm_power_button(&pc->pm);
}

int pc_screenshot(struct pc *pc, const char *path, char *err, size_t errlen)
{
    vm_flush_coalesced(pc->vm);
    vga_render(&pc->vga, &pc->display);
    return display_write_png(&pc->display, path, err, errlen);
}

struct display *pc_render(struct pc *pc)
{
    vm_flush_coalesced(pc->vm);
    vga_render(&pc->vga, &pc->display);
    return &pc->display;
}

int pc_change_cdrom(struct pc *pc, const char *path, char *err, size_t errlen)
{
    if (!pc->has_cdrom_drive) {
        snprintf(err, errlen, "This VM has no CD-ROM drive (it booted a kernel directly without one).");
        return -1;
    }
    struct blockdev *bd = NULL;
    if (path) {
        /* Opening a file does not touch device state: no need to hold the
         * device lock meanwhile, but the caller does; it is quick. */
        bd = blockdev_open(path, BLOCKDEV_CDROM, err, errlen);
        if (!bd)
            return -1;
    }
    if (ide_cdrom_change(&pc->ide, 1, 0, bd) < 0) {
        blockdev_close(bd);
        snprintf(err, errlen, "Internal error: the CD-ROM drive is missing.");
        return -1;
    }
    blockdev_close(pc->cdrom);
    pc->cdrom = bd;
    return 0;
}

size_t pc_console_input(struct pc *pc, const uint8_t *data, size_t len)
{
    return uart16550_receive(&pc->com1, data, len);
}

int pc_screen_text(struct pc *pc, char *buf, size_t cap, char *err, size_t errlen)
{
    vm_flush_coalesced(pc->vm);
    if (vga_screen_text(&pc->vga, buf, cap) < 0) {
        snprintf(err, errlen, "The screen is in a graphics mode, not a text mode; take a screenshot instead.");
        return -1;
    }
    return 0;
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
