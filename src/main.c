/* hostel-vm: one host process per running VM. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blockdev.h"
#include "boot.h"
#include "control.h"
#include "fwboot.h"
#include "console.h"
#include "pam.h"
#include "pc.h"
#include "vm.h"

static const char usage_text[] =
    "Usage: hostel-vm [--kernel FILE | --firmware FILE] [OPTION...]\n"
    "Run one virtual machine on KVM, with its serial console on this terminal.\n"
    "Without --kernel the PC starts from its firmware (SeaBIOS).\n"
    "\n"
    "  --firmware FILE    BIOS image to start from (default " HOSTEL_DEFAULT_FIRMWARE ");\n"
    "                     with --kernel, the firmware boots that kernel (a bzImage)\n"
    "  --firmware-log FILE  write the firmware's debug messages (port 0x402) to FILE\n"
    "                     ('-' for stderr)\n"
    "  --disk FILE        raw disk image (written to); up to 3 times: the first IDE\n"
    "                     channel's master and slave, then the second's slave\n"
    "  --cdrom FILE       ISO image in a CD-ROM drive on the second IDE channel\n"
    "  --boot LIST        firmware boot order: 'cd', 'disk' or both, e.g. cd,disk\n"
    "                     (default cd,disk; devices left out are not booted)\n"
    "  --boot-menu MS     show the firmware's boot menu (Esc) for MS milliseconds\n"
    "  --control PATH     serve the control interface (org.hostel.VM1, D-Bus\n"
    "                     peer-to-peer) on a unix socket at PATH\n"
    "  --screenshot-on-exit FILE  write the guest's screen as a PNG when it stops\n"
    "  --uuid UUID        the machine's UUID, as the guest sees it (default: random)\n"
    "  --no-reboot        stop (exit status 2) when the guest resets, instead of\n"
    "                     restarting the machine\n"
    "  --kernel FILE      boot this kernel directly (without --firmware): Linux bzImage,\n"
    "                     vmlinux ELF (PVH or 64-bit entry) or multiboot image\n"
    "  --initrd FILE      initial RAM disk (multiboot: the first module)\n"
    "  --append STRING    kernel command line, used as given\n"
    "  --memory MIB       guest RAM in MiB (default 256)\n"
    "  --cpus N           number of virtual CPUs (default 1, at most 64)\n"
    "  --kernel-entry P   boot protocol: auto (default), linux64 (64-bit entry, the\n"
    "                     payload decompressed by Hostel), linux32 (the kernel\n"
    "                     decompresses itself), pvh, or multiboot\n"
    "  --cpu MODEL        'host' (default): all the host's features KVM supports;\n"
    "                     'conservative': a baseline most x86-64 CPUs have\n"
    "  --serial stdio|none  where the guest's serial console goes (default stdio)\n"
    "  --stats            print exit counts and run time on stderr at the end\n"
    "  --quiet            no informational messages on stderr\n"
    "  -h, --help         show this help\n"
    "  --version          show the version\n"
    "\n"
    "On a terminal, Ctrl-A x stops the VM.\n"
    "\n"
    "Exit status: 0 the guest powered off; 2 the guest reset (with --no-reboot);\n"
    "4 triple fault; 6 the guest ran an instruction that could not be run;\n"
    "8 host error; 10 stopped by a signal or Ctrl-A x; 64 bad usage;\n"
    "66 a file could not be read or is not a bootable image; 68 no usable KVM.\n"
    "A test guest writing V to I/O port 0xf4 exits with (V << 1) | 1.\n";

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_APPEND, OPT_MEMORY, OPT_CPUS, OPT_CPU, OPT_SERIAL,
       OPT_STATS, OPT_QUIET, OPT_VERSION, OPT_KERNEL_ENTRY, OPT_FIRMWARE, OPT_FIRMWARE_LOG, OPT_DISK,
       OPT_CDROM, OPT_BOOT, OPT_BOOT_MENU, OPT_CONTROL, OPT_SCREENSHOT_ON_EXIT, OPT_NO_REBOOT, OPT_UUID };

static const struct {
    const char *name;
    enum boot_kind kind;
} kernel_entries[] = {
    { "auto", BOOT_AUTO },
    { "linux64", BOOT_LINUX64 },
    { "linux32", BOOT_LINUX32 },
    { "pvh", BOOT_PVH },
    { "multiboot", BOOT_MULTIBOOT },
};

static const struct option long_options[] = {
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "firmware", required_argument, NULL, OPT_FIRMWARE },
    { "firmware-log", required_argument, NULL, OPT_FIRMWARE_LOG },
    { "disk", required_argument, NULL, OPT_DISK },
    { "cdrom", required_argument, NULL, OPT_CDROM },
    { "boot", required_argument, NULL, OPT_BOOT },
    { "boot-menu", required_argument, NULL, OPT_BOOT_MENU },
    { "control", required_argument, NULL, OPT_CONTROL },
    { "screenshot-on-exit", required_argument, NULL, OPT_SCREENSHOT_ON_EXIT },
    { "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
    { "uuid", required_argument, NULL, OPT_UUID },
    { "initrd", required_argument, NULL, OPT_INITRD },
    { "append", required_argument, NULL, OPT_APPEND },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "cpus", required_argument, NULL, OPT_CPUS },
    { "cpu", required_argument, NULL, OPT_CPU },
    { "kernel-entry", required_argument, NULL, OPT_KERNEL_ENTRY },
    { "serial", required_argument, NULL, OPT_SERIAL },
    { "stats", no_argument, NULL, OPT_STATS },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "hostel-vm: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'hostel-vm --help'.\n");
    return VM_EXIT_USAGE;
}

static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, struct vm_config *cfg, bool *stats)
{
    *cfg = (struct vm_config){ .mem_mib = 256, .cpus = 1, .cpu_model = "host", .kernel_entry = "auto",
                               .serial_stdio = true };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case OPT_KERNEL: cfg->kernel = optarg; break;
        case OPT_FIRMWARE: cfg->firmware = optarg; break;
        case OPT_FIRMWARE_LOG: cfg->firmware_log = optarg; break;
        case OPT_DISK:
            if (cfg->ndisks == VM_MAX_DISKS)
                return usage_error("--disk can be given at most 3 times (the IDE drives beside the CD-ROM); "
                                   "'%s' is one too many.", optarg);
            cfg->disks[cfg->ndisks++] = optarg;
            break;
        case OPT_CDROM: cfg->cdrom = optarg; break;
        case OPT_CONTROL: cfg->control = optarg; break;
        case OPT_SCREENSHOT_ON_EXIT: cfg->screenshot_on_exit = optarg; break;
        case OPT_NO_REBOOT: cfg->no_reboot = true; break;
        case OPT_UUID:
            if (!g_uuid_string_is_valid(optarg))
                return usage_error("--uuid wants a UUID such as 123e4567-e89b-12d3-a456-426614174000, not '%s'.",
                                   optarg);
            cfg->uuid = optarg;
            break;
        case OPT_BOOT: {
            gchar **items = g_strsplit(optarg, ",", 0);
            bool good = items[0] != NULL;
            for (gchar **it = items; *it; it++)
                good &= strcmp(*it, "cd") == 0 || strcmp(*it, "disk") == 0;
            g_strfreev(items);
            if (!good)
                return usage_error("--boot is a list of 'cd' and 'disk' separated by commas, not '%s'.", optarg);
            cfg->boot = optarg;
            break;
        }
        case OPT_BOOT_MENU:
            if (!parse_uint(optarg, 1, 60000, &v))
                return usage_error("--boot-menu wants how long to show the menu, in ms from 1 to 60000, not '%s'.",
                                   optarg);
            cfg->boot_menu_ms = (unsigned)v;
            break;
        case OPT_INITRD: cfg->initrd = optarg; break;
        case OPT_APPEND: cfg->append = optarg; break;
        case OPT_MEMORY:
            if (!parse_uint(optarg, 16, 1u << 20, &v))
                return usage_error("--memory wants a size in MiB from 16 to 1048576, not '%s'.", optarg);
            cfg->mem_mib = v;
            break;
        case OPT_CPUS:
            if (!parse_uint(optarg, 1, VM_MAX_CPUS, &v))
                return usage_error("--cpus wants a number from 1 to 64, not '%s'.", optarg);
            cfg->cpus = (unsigned)v;
            break;
        case OPT_CPU:
            if (strcmp(optarg, "host") != 0 && strcmp(optarg, "conservative") != 0)
                return usage_error("--cpu is 'host' or 'conservative', not '%s'.", optarg);
            cfg->cpu_model = optarg;
            break;
        case OPT_KERNEL_ENTRY: {
            bool known = false;
            for (size_t i = 0; i < sizeof(kernel_entries) / sizeof(kernel_entries[0]); i++)
                known |= strcmp(optarg, kernel_entries[i].name) == 0;
            if (!known)
                return usage_error("--kernel-entry is auto, linux64, linux32, pvh or multiboot, not '%s'.", optarg);
            cfg->kernel_entry = optarg;
            break;
        }
        case OPT_SERIAL:
            if (strcmp(optarg, "stdio") == 0)
                cfg->serial_stdio = true;
            else if (strcmp(optarg, "none") == 0)
                cfg->serial_stdio = false;
            else
                return usage_error("--serial is 'stdio' or 'none', not '%s'.", optarg);
            break;
        case OPT_STATS: *stats = true; break;
        case OPT_QUIET: cfg->quiet = true; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        case OPT_VERSION: printf("hostel-vm %s\n", HOSTEL_VERSION); exit(0);
        case '?':
        default:
            if (optopt)
                return usage_error("option '%s' needs a value or is unknown.", argv[optind - 1]);
            return usage_error("unknown option '%s'.", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'.", argv[optind]);
    if (!cfg->kernel && (cfg->initrd || cfg->append))
        return usage_error("%s--initrd and --append need --kernel.", "");
    if (cfg->kernel && !cfg->firmware && (cfg->boot || cfg->boot_menu_ms))
        return usage_error("%s--boot and --boot-menu are for the firmware: add --firmware, or leave out --kernel.",
                           "");
    if (cfg->kernel && cfg->firmware && strcmp(cfg->kernel_entry, "auto") != 0)
        return usage_error("%s--kernel-entry is for booting without firmware: leave out --firmware.", "");
    if (!cfg->kernel && !cfg->firmware)
        cfg->firmware = HOSTEL_DEFAULT_FIRMWARE;
    return 0;
}

/* Kernels and initrds are regular files of sane size: /dev/zero or a FIFO
 * must not make hostel-vm read forever. */
#define MAX_BOOT_FILE (1ull << 30)

static uint8_t *read_file(const char *path, const char *what, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_BOOT_FILE)) {
        snprintf(err, errlen, "The %s '%s' is not a regular file of at most 1 GiB; give the path of a %s image.",
                 what, path, what);
        return NULL;
    }
    gchar *data = NULL;
    gsize n = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &data, &n, &gerr)) {
        snprintf(err, errlen, "Could not read the %s '%s': %s.", what, path, gerr->message);
        g_error_free(gerr);
        return NULL;
    }
    *len = n;
    return (uint8_t *)data;
}

/* The serial console's output goes to the terminal and to control clients. */
struct tee {
    const struct chardev *out[2];
};

static void tee_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct tee *t = opaque;
    for (unsigned i = 0; i < 2; i++)
        if (t->out[i])
            t->out[i]->write(t->out[i]->opaque, buf, len);
}

static void write_to_file(void *opaque, const uint8_t *buf, size_t len)
{
    FILE *f = opaque;
    fwrite(buf, 1, len, f);
    if (len && buf[len - 1] == '\n')
        fflush(f);
}

int main(int argc, char **argv)
{
    struct vm_config cfg;
    bool stats = false;
    int rc = parse_args(argc, argv, &cfg, &stats);
    if (rc)
        return rc;

    char err[512] = "";
    size_t kernel_len = 0, initrd_len = 0;
    uint8_t *kernel = NULL, *initrd = NULL;
    if (cfg.kernel) {
        kernel = read_file(cfg.kernel, "kernel", &kernel_len, err, sizeof(err));
        if (kernel && cfg.initrd)
            initrd = read_file(cfg.initrd, "initrd", &initrd_len, err, sizeof(err));
        if (!kernel || (cfg.initrd && !initrd)) {
            fprintf(stderr, "hostel-vm: %s\n", err);
            g_free(kernel);
            return VM_EXIT_BAD_INPUT;
        }
    }
    uint8_t *firmware = NULL;
    size_t firmware_len = 0;
    if (cfg.firmware) {
        firmware = read_file(cfg.firmware, "firmware", &firmware_len, err, sizeof(err));
        if (!firmware || pam_check_rom(cfg.firmware, firmware_len, err, sizeof(err)) < 0) {
            fprintf(stderr, "hostel-vm: %s\n", err);
            g_free(firmware);
            return VM_EXIT_BAD_INPUT;
        }
    }
    uint8_t *linuxboot = NULL;
    size_t linuxboot_len = 0;
    if (cfg.firmware && kernel && fwboot_check_linux(kernel, kernel_len, cfg.append, err, sizeof(err)) < 0) {
        fprintf(stderr, "hostel-vm: %s\n", err);
        g_free(firmware);
        g_free(kernel);
        g_free(initrd);
        return VM_EXIT_BAD_INPUT;
    }
    if (cfg.firmware && kernel) {
        linuxboot = read_file(HOSTEL_LINUXBOOT_ROM, "Linux boot option ROM", &linuxboot_len, err, sizeof(err));
        if (!linuxboot) {
            fprintf(stderr, "hostel-vm: %s Install Debian's qemu-system-data package, or leave out --firmware.\n",
                    err);
            g_free(firmware);
            g_free(kernel);
            g_free(initrd);
            return VM_EXIT_BAD_INPUT;
        }
    }
    uint8_t *vga_rom = NULL;
    size_t vga_rom_len = 0;
    if (cfg.firmware) {
        vga_rom = read_file(HOSTEL_VGA_ROM, "VGA BIOS", &vga_rom_len, err, sizeof(err));
        if (!vga_rom) {
            fprintf(stderr, "hostel-vm: %s Install Debian's seabios package.\n", err);
            g_free(firmware);
            return VM_EXIT_BAD_INPUT;
        }
    }
    struct stat cst;
    if (cfg.control && lstat(cfg.control, &cst) == 0 && !S_ISSOCK(cst.st_mode)) {
        fprintf(stderr, "hostel-vm: The control socket path %s exists and is not a socket; choose another path.\n",
                cfg.control);
        g_free(firmware);
        g_free(vga_rom);
        g_free(kernel);
        g_free(initrd);
        return VM_EXIT_BAD_INPUT;
    }
    struct blockdev *disks[VM_MAX_DISKS] = { NULL }, *cdrom = NULL;
    bool opened = true;
    for (unsigned i = 0; i < cfg.ndisks && opened; i++)
        opened = (disks[i] = blockdev_open(cfg.disks[i], 0, err, sizeof(err))) != NULL;
    if (opened && cfg.cdrom)
        opened = (cdrom = blockdev_open(cfg.cdrom, BLOCKDEV_CDROM, err, sizeof(err))) != NULL;
    if (!opened) {
        fprintf(stderr, "hostel-vm: %s\n", err);
        for (unsigned i = 0; i < cfg.ndisks; i++)
            blockdev_close(disks[i]);
        g_free(firmware);
        g_free(vga_rom);
        g_free(kernel);
        g_free(initrd);
        return VM_EXIT_BAD_INPUT;
    }
    FILE *fwlog = NULL;
    if (cfg.firmware_log) {
        fwlog = strcmp(cfg.firmware_log, "-") == 0 ? stderr : fopen(cfg.firmware_log, "we");
        if (!fwlog) {
            fprintf(stderr, "hostel-vm: Cannot write the firmware log %s (%s).\n", cfg.firmware_log,
                    strerror(errno));
            g_free(kernel);
            g_free(initrd);
            return VM_EXIT_BAD_INPUT;
        }
    }
    struct chardev fwlog_dev = { .write = write_to_file, .opaque = fwlog };

    struct vm *vm = g_new0(struct vm, 1);
    int status = VM_EXIT_HOST_ERROR;
    if (vm_create(vm, &hv_kvm_ops, &cfg, err, sizeof(err), &status) < 0) {
        fprintf(stderr, "hostel-vm: %s\n", err);
        vm_destroy(vm);
        g_free(vm);
        return status;
    }
    struct boot_result boot;
    if (kernel && !cfg.firmware) {
        struct boot_request req = {
            .kernel = kernel, .kernel_len = kernel_len,
            .initrd = initrd, .initrd_len = initrd_len,
            .cmdline = cfg.append, .ncpus = cfg.cpus, .want = BOOT_AUTO,
        };
        for (size_t i = 0; i < sizeof(kernel_entries) / sizeof(kernel_entries[0]); i++)
            if (strcmp(cfg.kernel_entry, kernel_entries[i].name) == 0)
                req.want = kernel_entries[i].kind;
        if (boot_prepare(&vm->mem, &req, &boot, err, sizeof(err)) < 0) {
            fprintf(stderr, "hostel-vm: %s\n", err);
            vm_destroy(vm);
            g_free(vm);
            return VM_EXIT_BAD_INPUT;
        }
        g_free(kernel);
        g_free(initrd);
        kernel = initrd = NULL;
    }

    struct console con;
    console_init(&con, vm);
    struct tee serial = { .out = { cfg.serial_stdio ? &con.out : NULL, NULL } };
    struct chardev serial_dev = { .write = tee_write, .opaque = &serial };
    struct pc_config pcfg = {
        .firmware = cfg.firmware,
        .firmware_image = firmware,
        .firmware_size = firmware_len,
        .ncpus = cfg.cpus,
        .serial_out = &serial_dev,
        .firmware_log = fwlog ? &fwlog_dev : NULL,
        .ndisks = cfg.ndisks,
        .cdrom_drive = cdrom != NULL || cfg.firmware != NULL,
        .cdrom = cdrom,
        .boot_order = cfg.boot,
        .boot_menu_ms = cfg.boot_menu_ms,
        .vga_rom = vga_rom,
        .vga_rom_size = vga_rom_len,
        .kernel = kernel,
        .kernel_size = kernel_len,
        .initrd = initrd,
        .initrd_size = initrd_len,
        .cmdline = cfg.append,
        .linuxboot_rom = linuxboot,
        .linuxboot_rom_size = linuxboot_len,
    };
    memcpy(pcfg.disks, disks, sizeof(pcfg.disks));
    /* The UUID as the guest sees it: the 16 bytes in the string's order. */
    gchar *uuid_str = cfg.uuid ? g_strdup(cfg.uuid) : g_uuid_string_random();
    for (unsigned i = 0, j = 0; i < 16 && uuid_str[j]; j++) {
        if (uuid_str[j] == '-')
            continue;
        pcfg.uuid[i++] = (uint8_t)(g_ascii_xdigit_value(uuid_str[j]) << 4 | g_ascii_xdigit_value(uuid_str[j + 1]));
        j++;
    }
    g_free(uuid_str);
    struct pc *pc = pc_create(vm, &pcfg, err, sizeof(err));
    g_free(firmware);
    g_free(vga_rom);
    g_free(linuxboot);
    g_free(kernel);
    g_free(initrd);
    if (!pc) {
        fprintf(stderr, "hostel-vm: %s\n", err);
        vm_destroy(vm);
        g_free(vm);
        return cfg.firmware ? VM_EXIT_BAD_INPUT : VM_EXIT_HOST_ERROR;
    }
    if (vm_create_vcpus(vm, cfg.cpus, err, sizeof(err)) < 0 ||
        (cfg.kernel && !cfg.firmware && pc_set_boot_state(vm, &boot, err, sizeof(err)) < 0)) {
        fprintf(stderr, "hostel-vm: %s\n", err);
        vm_destroy(vm);
        pc_destroy(pc);
        g_free(vm);
        return VM_EXIT_HOST_ERROR;
    }
    if (!cfg.quiet && cfg.kernel && !cfg.firmware)
        fprintf(stderr, "hostel-vm: booting %s (%s, %s compression) with %" PRIu64 " MiB and %u vCPU%s\n",
                cfg.kernel, loader_boot_kind_name(boot.image.kind), boot.image.compression,
                cfg.mem_mib, cfg.cpus, cfg.cpus == 1 ? "" : "s");
    else if (!cfg.quiet)
        fprintf(stderr, "hostel-vm: starting %s with %" PRIu64 " MiB and %u vCPU%s\n",
                cfg.firmware, cfg.mem_mib, cfg.cpus, cfg.cpus == 1 ? "" : "s");
    if (cfg.serial_stdio)
        console_attach_input(&con, pc_uart(pc));
    struct control control = {0};
    if (cfg.control && control_start(&control, vm, pc, cfg.control, err, sizeof(err)) == 0)
        serial.out[1] = control_console(&control);
    else if (cfg.control) {
        fprintf(stderr, "hostel-vm: %s\n", err);
        console_restore(&con);
        vm_destroy(vm);
        pc_destroy(pc);
        g_free(vm);
        return VM_EXIT_BAD_INPUT;
    }

    status = vm_run(vm);
    if (cfg.screenshot_on_exit && pc_screenshot(pc, cfg.screenshot_on_exit, err, sizeof(err)) < 0)
        fprintf(stderr, "hostel-vm: %s\n", err);
    if (cfg.control) {
        /* A power-off the guest or the user asked for is no news: no reason. */
        bool normal = vm->stop_reason == VM_STOP_POWER_OFF || vm->stop_reason == VM_STOP_USER ||
                      vm->stop_reason == VM_STOP_RESET;
        control_stop(&control, vm->stop_reason == VM_STOP_RESET && !cfg.no_reboot,
                     normal ? "" : vm->stop_report);
    }
    console_restore(&con);
    if (con.dropped)
        fprintf(stderr, "hostel-vm: %llu bytes of the guest's console output were dropped because "
                "stdout did not keep up.\n", (unsigned long long)con.dropped);

    if (vm->stop_report[0] && (vm->stop_reason != VM_STOP_DEBUG_EXIT) &&
        !(cfg.quiet && vm->stop_reason == VM_STOP_POWER_OFF))
        fprintf(stderr, "hostel-vm: %s\n", vm->stop_report);
    if (stats) {
        uint64_t exits = 0, io = 0, emulated = 0;
        for (unsigned i = 0; i < vm->ncpus; i++) {
            exits += vm->vcpus[i].exits;
            io += vm->vcpus[i].io_exits;
            emulated += vm->vcpus[i].emulated;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        fprintf(stderr, "hostel-vm: stats: run_ms=%" PRIu64 " exits=%" PRIu64 " io_exits=%" PRIu64
                " emulated=%" PRIu64 "\n", (now - vm->start_ns) / 1000000, exits, io, emulated);
    }
    bool reboot = vm->stop_reason == VM_STOP_RESET && !cfg.no_reboot;
    vm_destroy(vm);
    pc_destroy(pc);
    g_free(vm);
    if (fwlog && fwlog != stderr)
        fclose(fwlog);
    if (reboot) {
        /* A reset reboots the machine: the same process starts afresh, with
         * the same options, so every device and vCPU is in its power-on
         * state (the control socket closes and comes back). */
        fflush(NULL);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "hostel-vm: Could not restart for the guest's reboot (%s); stopping instead.\n",
                strerror(errno));
    }
    return status;
}
