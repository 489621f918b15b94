/* hostelctl: everything the GUI does, from the command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockdev.h"
#include "ospresets.h"
#include "vmdef.h"
#include "vmrun.h"

/* Exit statuses (also in --help). */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,        /* the VM or the system refused the operation */
    EXIT_NO_VM = 2,         /* no such VM */
    EXIT_STATE = 3,         /* the VM is not in a state that allows it (not running, running) */
    EXIT_DEFINITION = 4,    /* a definition file is malformed */
    EXIT_HUNG = 5,          /* the VM does not answer */
    EXIT_USAGE = 64,
    EXIT_FILE = 66,         /* a file given cannot be used */
};

#define CALL_TIMEOUT_MS 10000
#define START_TIMEOUT_MS 30000

struct ctx {
    bool json;
    const char *prog;
};

struct command {
    const char *name;
    const char *args;       /* usage after the name */
    const char *summary;
    int (*run)(struct ctx *ctx, int argc, char **argv);
};

static int fail(int status, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hostelctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

static int usage_fail(const char *cmd, const char *msg)
{
    fprintf(stderr, "hostelctl: %s\n", msg);
    fprintf(stderr, _("Try 'hostelctl %s --help'.\n"), cmd);
    return EXIT_USAGE;
}

/* Map a load/find error to an exit status. */
static int vm_error_status(const GError *e)
{
    if (e->domain == VMDEF_ERROR && e->code == VMDEF_ERROR_NOT_FOUND)
        return EXIT_NO_VM;
    if (e->domain == VMDEF_ERROR && (e->code == VMDEF_ERROR_MALFORMED || e->code == VMDEF_ERROR_VERSION))
        return EXIT_DEFINITION;
    if (e->domain == VMDEF_ERROR && e->code == VMDEF_ERROR_INVALID)
        return EXIT_USAGE;
    if (e->domain == VMDEF_ERROR && e->code == VMDEF_ERROR_EXISTS)
        return EXIT_FAILED;
    return EXIT_FAILED;
}

static int gerror_fail(GError *e, int status)
{
    int rc = fail(status, "%s", e->message);
    g_error_free(e);
    return rc;
}

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = g_ascii_strtod(s, &end);
    if (errno || end == s || v <= 0)
        return false;
    uint64_t mult = 1;
    if (g_ascii_strcasecmp(end, "K") == 0 || g_ascii_strcasecmp(end, "KiB") == 0)
        mult = 1ull << 10;
    else if (g_ascii_strcasecmp(end, "M") == 0 || g_ascii_strcasecmp(end, "MiB") == 0)
        mult = 1ull << 20;
    else if (g_ascii_strcasecmp(end, "G") == 0 || g_ascii_strcasecmp(end, "GiB") == 0)
        mult = 1ull << 30;
    else if (g_ascii_strcasecmp(end, "T") == 0 || g_ascii_strcasecmp(end, "TiB") == 0)
        mult = 1ull << 40;
    else if (*end)
        return false;
    double bytes = v * (double)mult;
    if (bytes > (double)(1ull << 50))
        return false;
    *out = (uint64_t)bytes;
    return true;
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* ---- Output ---------------------------------------------------------------- */

static void vm_to_json(JsonBuilder *b, const struct vmdef *d, bool with_state)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, d->name);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, d->uuid);
    json_builder_set_member_name(b, "os");
    json_builder_add_string_value(b, d->os ? d->os : "");
    json_builder_set_member_name(b, "memory_mib");
    json_builder_add_int_value(b, d->memory_mib);
    json_builder_set_member_name(b, "cpus");
    json_builder_add_int_value(b, d->cpus);
    json_builder_set_member_name(b, "firmware");
    json_builder_add_string_value(b, d->firmware);
    json_builder_set_member_name(b, "boot_order");
    json_builder_add_string_value(b, d->boot_order);
    json_builder_set_member_name(b, "disks");
    json_builder_begin_array(b);
    for (unsigned i = 0; i < d->ndisks; i++) {
        char *p = vmdef_resolve(d, d->disks[i].file);
        json_builder_add_string_value(b, p);
        g_free(p);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "cdrom");
    if (d->cdrom)
        json_builder_add_string_value(b, d->cdrom);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "directory");
    json_builder_add_string_value(b, d->dir);
    if (with_state) {
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, vmrun_state_name(vmrun_state(d)));
    }
    json_builder_end_object(b);
}

static void print_json(JsonBuilder *b)
{
    JsonNode *root = json_builder_get_root(b);
    JsonGenerator *g = json_generator_new();
    json_generator_set_pretty(g, TRUE);
    json_generator_set_root(g, root);
    gchar *text = json_generator_to_data(g, NULL);
    printf("%s\n", text);
    g_free(text);
    g_object_unref(g);
    json_node_unref(root);
}

/* A state for people (JSON keeps vmrun_state_name's English words). */
static const char *state_label(enum vmrun_state s)
{
    switch (s) {
    case VMRUN_RUNNING: return _("running");
    case VMRUN_PAUSED: return _("paused");
    case VMRUN_UNRESPONSIVE: return _("not responding");
    case VMRUN_STOPPED: break;
    }
    return _("stopped");
}

static void print_vm(const struct vmdef *d)
{
    printf(_("Name:       %s\n"), d->name);
    printf(_("UUID:       %s\n"), d->uuid);
    printf(_("OS:         %s\n"), d->os && d->os[0] ? d->os : _("(not set)"));
    printf(_("State:      %s\n"), state_label(vmrun_state(d)));
    printf(_("Memory:     %u MiB\n"), d->memory_mib);
    printf(_("CPUs:       %u\n"), d->cpus);
    printf(_("Firmware:   %s\n"), d->firmware);
    printf(_("Boot order: %s\n"), d->boot_order);
    for (unsigned i = 0; i < d->ndisks; i++) {
        char *p = vmdef_resolve(d, d->disks[i].file);
        printf(_("Disk %u:     %s\n"), i, p);
        g_free(p);
    }
    printf(_("CD-ROM:     %s\n"), d->cdrom ? d->cdrom : _("(empty)"));
    printf(_("Directory:  %s\n"), d->dir);
}

/* ---- Option parsing ---------------------------------------------------------- */

/* getopt_long over a subcommand's own arguments; every subcommand takes
 * --help and --json. Returns the option, -1 at the end, '?' on error. */
static int next_opt(int argc, char **argv, const struct option *opts, struct ctx *ctx, const struct command *cmd)
{
    for (;;) {
        int c = getopt_long(argc, argv, "h", opts, NULL);
        if (c == 'h') {
            printf(_("Usage: hostelctl %s %s\n%s\n"), cmd->name, cmd->args, _(cmd->summary));
            exit(EXIT_OK);
        }
        if (c == 'j') {
            ctx->json = true;
            continue;
        }
        return c;
    }
}

#define COMMON_OPTS { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'j' }

static const struct command commands[];
static const struct command *find_command(const char *name);

/* Load the VM named by argv[optind] (the one positional argument). */
static struct vmdef *the_vm(int argc, char **argv, const char *cmd, int *status)
{
    if (optind >= argc) {
        *status = usage_fail(cmd, _("Name the VM (hostelctl list shows them)."));
        return NULL;
    }
    GError *e = NULL;
    struct vmdef *d = vmlib_find(argv[optind], &e);
    if (!d)
        *status = gerror_fail(e, vm_error_status(e));
    return d;
}

static GDBusConnection *connect_running(const struct vmdef *d, int *status)
{
    GError *e = NULL;
    GDBusConnection *c = vmrun_connect(d, CALL_TIMEOUT_MS, &e);
    if (!c) {
        if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
            g_error_free(e);
            *status = fail(EXIT_STATE, _("The VM '%s' is not running; start it with: hostelctl start '%s'."),
                           d->name, d->name);
        } else {
            *status = gerror_fail(e, EXIT_HUNG);
        }
    }
    return c;
}

/* Call one control method on a running VM. */
static int call_vm(const struct vmdef *d, const char *method, GVariant *args)
{
    int status = EXIT_OK;
    GDBusConnection *c = connect_running(d, &status);
    if (!c) {
        if (args)
            g_variant_unref(g_variant_ref_sink(args));
        return status;
    }
    GError *e = NULL;
    GVariant *r = vmrun_call(c, method, args, NULL, CALL_TIMEOUT_MS, &e);
    g_object_unref(c);
    if (!r) {
        bool timeout = g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        if (e->domain == G_DBUS_ERROR)
            g_dbus_error_strip_remote_error(e);
        return gerror_fail(e, timeout ? EXIT_HUNG : EXIT_FAILED);
    }
    g_variant_unref(r);
    return EXIT_OK;
}

/* ---- Subcommands -------------------------------------------------------------- */

static int cmd_list(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    int c;
    while ((c = next_opt(argc, argv, opts, ctx, find_command("list"))) != -1)
        return usage_fail("list", _("Unknown option."));
    if (optind < argc)
        return usage_fail("list", _("list takes no arguments."));
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *vms = vmlib_list(problems);
    for (guint i = 0; i < problems->len; i++)
        fprintf(stderr, "hostelctl: %s\n", (char *)g_ptr_array_index(problems, i));
    if (ctx->json) {
        JsonBuilder *b = json_builder_new();
        json_builder_begin_array(b);
        for (guint i = 0; i < vms->len; i++)
            vm_to_json(b, g_ptr_array_index(vms, i), true);
        json_builder_end_array(b);
        print_json(b);
        g_object_unref(b);
    } else if (vms->len == 0) {
        printf(_("No VMs yet. Create one with: hostelctl create --name NAME --iso FILE\n"));
    } else {
        printf("%-24s %-12s %-10s %8s %5s\n", _("NAME"), _("OS"), _("STATE"), _("MEMORY"), _("CPUS"));
        for (guint i = 0; i < vms->len; i++) {
            const struct vmdef *d = g_ptr_array_index(vms, i);
            printf("%-24s %-12s %-10s %5u MiB %5u\n", d->name, d->os && d->os[0] ? d->os : "-",
                   state_label(vmrun_state(d)), d->memory_mib, d->cpus);
        }
    }
    int status = problems->len ? EXIT_DEFINITION : EXIT_OK;
    g_ptr_array_unref(problems);
    g_ptr_array_unref(vms);
    return status;
}

static int cmd_create(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTS,
        { "name", required_argument, NULL, 'n' }, { "os", required_argument, NULL, 'o' },
        { "memory", required_argument, NULL, 'm' }, { "cpus", required_argument, NULL, 'c' },
        { "disk-size", required_argument, NULL, 'd' }, { "iso", required_argument, NULL, 'i' },
        { NULL, 0, NULL, 0 },
    };
    struct vmlib_new n = {0};
    bool have_mem = false, have_cpus = false, have_disk = false;
    int c;
    while ((c = next_opt(argc, argv, opts, ctx, find_command("create"))) != -1) {
        switch (c) {
        case 'n': n.name = optarg; break;
        case 'o': n.os = optarg; break;
        case 'm':
            if (!parse_uint(optarg, VMDEF_MIN_MEMORY_MIB, VMDEF_MAX_MEMORY_MIB, &n.memory_mib))
                return usage_fail("create", _("--memory wants MiB from 16 to 1048576."));
            have_mem = true;
            break;
        case 'c':
            if (!parse_uint(optarg, 1, VMDEF_MAX_CPUS, &n.cpus))
                return usage_fail("create", _("--cpus wants a number from 1 to 64."));
            have_cpus = true;
            break;
        case 'd':
            if (!parse_size(optarg, &n.disk_size))
                return usage_fail("create", _("--disk-size wants a size such as 20G or 512M."));
            have_disk = true;
            break;
        case 'i': n.iso = optarg; break;
        default: return usage_fail("create", _("Unknown option or missing value."));
        }
    }
    if (optind < argc)
        return usage_fail("create", _("create takes options only; give the name with --name."));
    if (!n.name)
        return usage_fail("create", _("Give the new VM a name with --name."));
    if (n.iso && access(n.iso, R_OK) != 0)
        return fail(EXIT_FILE, _("Cannot read the ISO %s (%s); check the path."), n.iso, g_strerror(errno));
    /* Recommended values from the OS preset fill in what was not given. */
    GError *e = NULL;
    struct ospresets *presets = ospresets_load(&e);
    if (!presets)
        return gerror_fail(e, EXIT_FAILED);
    const struct ospreset *p = n.os ? ospresets_lookup(presets, n.os) : NULL;
    if (n.os && !p) {
        ospresets_free(presets);
        return usage_fail("create", _("Unknown --os; 'hostelctl os-list' shows the known ones."));
    }
    if (p)
        n.os = p->id;
    if (!have_mem)
        n.memory_mib = p ? p->memory_mib : VMDEF_DEFAULT_MEMORY_MIB;
    if (!have_cpus)
        n.cpus = p ? p->cpus : VMDEF_DEFAULT_CPUS;
    if (!have_disk)
        n.disk_size = p ? p->disk_size : (16ull << 30);
    struct vmdef *d = vmlib_create(&n, &e);
    ospresets_free(presets);
    if (!d)
        return gerror_fail(e, vm_error_status(e));
    if (ctx->json) {
        JsonBuilder *b = json_builder_new();
        vm_to_json(b, d, false);
        print_json(b);
        g_object_unref(b);
    } else {
        printf(_("Created VM '%s' in %s.\n"), d->name, d->dir);
    }
    vmdef_free(d);
    return EXIT_OK;
}

static int cmd_show(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    if (next_opt(argc, argv, opts, ctx, find_command("show")) != -1)
        return usage_fail("show", _("Unknown option."));
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "show", &status);
    if (!d)
        return status;
    if (ctx->json) {
        JsonBuilder *b = json_builder_new();
        vm_to_json(b, d, true);
        print_json(b);
        g_object_unref(b);
    } else {
        print_vm(d);
    }
    vmdef_free(d);
    return EXIT_OK;
}

static int cmd_modify(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTS,
        { "name", required_argument, NULL, 'n' }, { "os", required_argument, NULL, 'o' },
        { "memory", required_argument, NULL, 'm' }, { "cpus", required_argument, NULL, 'c' },
        { "iso", required_argument, NULL, 'i' }, { "no-iso", no_argument, NULL, 'I' },
        { "boot", required_argument, NULL, 'b' },
        { NULL, 0, NULL, 0 },
    };
    const char *name = NULL, *os = NULL, *iso = NULL, *boot = NULL;
    unsigned mem = 0, cpus = 0;
    bool no_iso = false;
    int c;
    while ((c = next_opt(argc, argv, opts, ctx, find_command("modify"))) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'o': os = optarg; break;
        case 'm':
            if (!parse_uint(optarg, VMDEF_MIN_MEMORY_MIB, VMDEF_MAX_MEMORY_MIB, &mem))
                return usage_fail("modify", _("--memory wants MiB from 16 to 1048576."));
            break;
        case 'c':
            if (!parse_uint(optarg, 1, VMDEF_MAX_CPUS, &cpus))
                return usage_fail("modify", _("--cpus wants a number from 1 to 64."));
            break;
        case 'i': iso = optarg; break;
        case 'I': no_iso = true; break;
        case 'b': boot = optarg; break;
        default: return usage_fail("modify", _("Unknown option or missing value."));
        }
    }
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "modify", &status);
    if (!d)
        return status;
    if (vmrun_state(d) != VMRUN_STOPPED && (mem || cpus || boot)) {
        vmdef_free(d);
        return fail(EXIT_STATE, _("Memory, CPUs and boot order change only while the VM is stopped; "
                                  "shut it down first."));
    }
    if (iso && access(iso, R_OK) != 0) {
        vmdef_free(d);
        return fail(EXIT_FILE, _("Cannot read the ISO %s (%s); check the path."), iso, g_strerror(errno));
    }
    if (name) {
        g_free(d->name);
        d->name = g_strdup(name);
    }
    if (os) {
        g_free(d->os);
        d->os = g_strdup(os);
    }
    if (mem)
        d->memory_mib = mem;
    if (cpus)
        d->cpus = cpus;
    if (boot) {
        g_free(d->boot_order);
        d->boot_order = g_strdup(boot);
    }
    if (iso || no_iso) {
        g_free(d->cdrom);
        d->cdrom = iso ? g_canonicalize_filename(iso, NULL) : NULL;
    }
    GError *e = NULL;
    if (!vmdef_save(d, &e)) {
        vmdef_free(d);
        return gerror_fail(e, vm_error_status(e));
    }
    if (ctx->json) {
        JsonBuilder *b = json_builder_new();
        vm_to_json(b, d, true);
        print_json(b);
        g_object_unref(b);
    }
    vmdef_free(d);
    return EXIT_OK;
}

static int cmd_start(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { "headless", no_argument, NULL, 'H' }, { NULL, 0, NULL, 0 } };
    bool headless = false;
    int c;
    while ((c = next_opt(argc, argv, opts, ctx, find_command("start"))) != -1) {
        if (c != 'H')
            return usage_fail("start", _("Unknown option."));
        headless = true;
    }
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "start", &status);
    if (!d)
        return status;
    if (vmrun_state(d) != VMRUN_STOPPED) {
        status = fail(EXIT_STATE, _("The VM '%s' is already running."), d->name);
        vmdef_free(d);
        return status;
    }
    if (!headless) {
        /* The VM window is the GUI's: hand over to it. */
        char *argv2[] = { "hostel", "--vm", d->name, NULL };
        GError *e = NULL;
        if (!g_spawn_async(NULL, argv2, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &e)) {
            vmdef_free(d);
            g_error_free(e);
            return fail(EXIT_FAILED, _("Cannot open the VM window (is the hostel application installed?); "
                                       "use hostelctl start --headless to run without one."));
        }
        vmdef_free(d);
        return EXIT_OK;
    }
    GError *e = NULL;
    bool ok = vmrun_start(d, NULL, START_TIMEOUT_MS, &e);
    if (ok && !ctx->json)
        printf(_("Started VM '%s'.\n"), d->name);
    vmdef_free(d);
    return ok ? EXIT_OK : gerror_fail(e, EXIT_FAILED);
}

/* Commands that are one control method without arguments. */
static int simple_method(struct ctx *ctx, int argc, char **argv, const char *cmd, const char *method)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    if (next_opt(argc, argv, opts, ctx, find_command(cmd)) != -1)
        return usage_fail(cmd, _("Unknown option."));
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, cmd, &status);
    if (!d)
        return status;
    if (optind + 1 < argc) {
        vmdef_free(d);
        return usage_fail(cmd, _("Too many arguments."));
    }
    status = call_vm(d, method, NULL);
    vmdef_free(d);
    return status;
}

static int cmd_pause(struct ctx *ctx, int argc, char **argv) { return simple_method(ctx, argc, argv, "pause", "Pause"); }
static int cmd_resume(struct ctx *ctx, int argc, char **argv) { return simple_method(ctx, argc, argv, "resume", "Resume"); }
static int cmd_reset(struct ctx *ctx, int argc, char **argv) { return simple_method(ctx, argc, argv, "reset", "Reset"); }
static int cmd_shutdown(struct ctx *ctx, int argc, char **argv) { return simple_method(ctx, argc, argv, "shutdown", "Shutdown"); }
static int cmd_poweroff(struct ctx *ctx, int argc, char **argv) { return simple_method(ctx, argc, argv, "poweroff", "PowerOff"); }

static int cmd_screenshot(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    if (next_opt(argc, argv, opts, ctx, find_command("screenshot")) != -1)
        return usage_fail("screenshot", _("Unknown option."));
    if (argc - optind != 2)
        return usage_fail("screenshot", _("Give the VM and the PNG file to write."));
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "screenshot", &status);
    if (!d)
        return status;
    /* hostel-vm writes the file: give it an absolute path. */
    char *path = g_canonicalize_filename(argv[optind + 1], NULL);
    status = call_vm(d, "Screenshot", g_variant_new("(s)", path));
    g_free(path);
    vmdef_free(d);
    return status;
}

static int cmd_type(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { "keys", no_argument, NULL, 'k' }, { NULL, 0, NULL, 0 } };
    bool keys = false;
    int c;
    while ((c = next_opt(argc, argv, opts, ctx, find_command("type"))) != -1) {
        if (c != 'k')
            return usage_fail("type", _("Unknown option."));
        keys = true;
    }
    if (argc - optind != 2)
        return usage_fail("type", _("Give the VM and the text to type (quote it)."));
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "type", &status);
    if (!d)
        return status;
    /* "\n" in the argument types Enter, as in the shell's $'...'. */
    char *text = g_strcompress(argv[optind + 1]);
    status = call_vm(d, keys ? "PressKeys" : "TypeText", g_variant_new("(s)", text));
    g_free(text);
    vmdef_free(d);
    return status;
}

/* The tablet's pointer to a pixel, then optionally a click (press and
 * release) and wheel clicks there: PointerEvent calls on one connection. */
static int cmd_pointer(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTS, { "click", required_argument, NULL, 'c' }, { "wheel", required_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 },
    };
    static const char *const button_names[] = { "left", "right", "middle" };
    guint32 button = 0;
    int wheel = 0;
    int c;
    while ((c = next_opt(argc, argv, opts, ctx, find_command("pointer"))) != -1) {
        if (c == 'c') {
            button = 0;
            for (unsigned i = 0; i < G_N_ELEMENTS(button_names); i++)
                if (strcmp(optarg, button_names[i]) == 0)
                    button = 1u << i;
            if (!button)
                return usage_fail("pointer", _("--click wants left, right or middle."));
        } else if (c == 'w') {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < -100 || v > 100 || v == 0)
                return usage_fail("pointer", _("--wheel wants a number of clicks from -100 to 100, not 0 "
                                               "(positive scrolls up)."));
            wheel = (int)v;
        } else {
            return usage_fail("pointer", _("Unknown option."));
        }
    }
    unsigned x, y;
    if (argc - optind != 3)
        return usage_fail("pointer", _("Give the VM and the pixel's X and Y on its screen."));
    if (!parse_uint(argv[optind + 1], 0, 65535, &x) || !parse_uint(argv[optind + 2], 0, 65535, &y))
        return usage_fail("pointer", _("X and Y are pixels on the VM's screen, from 0 (top left)."));
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "pointer", &status);
    if (!d)
        return status;
    GDBusConnection *conn = connect_running(d, &status);
    vmdef_free(d);
    if (!conn)
        return status;
    /* Move there, press and release, then scroll: each step as the guest
     * would see it from a real tablet. */
    struct { gint32 dz; guint32 buttons; } steps[4];
    unsigned n = 0;
    steps[n++] = (typeof(steps[0])){ 0, 0 };
    if (button) {
        steps[n++] = (typeof(steps[0])){ 0, button };
        steps[n++] = (typeof(steps[0])){ 0, 0 };
    }
    if (wheel)
        steps[n++] = (typeof(steps[0])){ wheel, 0 };
    GError *e = NULL;
    for (unsigned i = 0; i < n && !e; i++) {
        GVariant *r = vmrun_call(conn, "PointerEvent", g_variant_new("(uuiu)", x, y, steps[i].dz, steps[i].buttons),
                                 NULL, CALL_TIMEOUT_MS, &e);
        if (r)
            g_variant_unref(r);
    }
    g_object_unref(conn);
    if (e) {
        bool timeout = g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        if (e->domain == G_DBUS_ERROR)
            g_dbus_error_strip_remote_error(e);
        return gerror_fail(e, timeout ? EXIT_HUNG : EXIT_FAILED);
    }
    return EXIT_OK;
}

static int cmd_text(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    if (next_opt(argc, argv, opts, ctx, find_command("text")) != -1)
        return usage_fail("text", _("Unknown option."));
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "text", &status);
    if (!d)
        return status;
    GDBusConnection *c = connect_running(d, &status);
    vmdef_free(d);
    if (!c)
        return status;
    GError *e = NULL;
    GVariant *r = vmrun_call(c, "GetScreenText", NULL, "(s)", CALL_TIMEOUT_MS, &e);
    g_object_unref(c);
    if (!r) {
        if (e->domain == G_DBUS_ERROR)
            g_dbus_error_strip_remote_error(e);
        return gerror_fail(e, EXIT_FAILED);
    }
    const char *text;
    g_variant_get(r, "(&s)", &text);
    fputs(text, stdout);
    g_variant_unref(r);
    return EXIT_OK;
}

static int cmd_cdrom(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    if (next_opt(argc, argv, opts, ctx, find_command("cdrom")) != -1)
        return usage_fail("cdrom", _("Unknown option."));
    if (optind >= argc || (strcmp(argv[optind], "insert") != 0 && strcmp(argv[optind], "eject") != 0))
        return usage_fail("cdrom", _("Say 'insert VM FILE' or 'eject VM'."));
    bool insert = strcmp(argv[optind], "insert") == 0;
    optind++;
    if (argc - optind != (insert ? 2 : 1))
        return usage_fail("cdrom", insert ? _("Give the VM and the ISO file.") : _("Give the VM."));
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "cdrom", &status);
    if (!d)
        return status;
    char *iso = insert ? g_canonicalize_filename(argv[optind + 1], NULL) : NULL;
    if (iso && access(iso, R_OK) != 0) {
        status = fail(EXIT_FILE, _("Cannot read the ISO %s (%s); check the path."), iso, g_strerror(errno));
    } else if (vmrun_state(d) == VMRUN_STOPPED) {
        /* A stopped VM gets it in its definition, for the next start. */
        g_free(d->cdrom);
        d->cdrom = g_strdup(iso);
        GError *e = NULL;
        if (!vmdef_save(d, &e))
            status = gerror_fail(e, vm_error_status(e));
    } else {
        status = call_vm(d, insert ? "ChangeCdrom" : "EjectCdrom", insert ? g_variant_new("(s)", iso) : NULL);
    }
    g_free(iso);
    vmdef_free(d);
    return status;
}

static int cmd_delete(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    if (next_opt(argc, argv, opts, ctx, find_command("delete")) != -1)
        return usage_fail("delete", _("Unknown option."));
    int status = EXIT_OK;
    struct vmdef *d = the_vm(argc, argv, "delete", &status);
    if (!d)
        return status;
    if (vmrun_state(d) != VMRUN_STOPPED) {
        status = fail(EXIT_STATE, _("The VM '%s' is running; power it off before deleting it."), d->name);
    } else {
        GError *e = NULL;
        if (!vmlib_delete(d, &e))
            status = gerror_fail(e, EXIT_FAILED);
    }
    vmdef_free(d);
    return status;
}

static int cmd_disk(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    if (next_opt(argc, argv, opts, ctx, find_command("disk")) != -1)
        return usage_fail("disk", _("Unknown option."));
    if (optind < argc && strcmp(argv[optind], "create") == 0 && argc - optind == 3) {
        uint64_t size;
        if (!parse_size(argv[optind + 2], &size) || size % 512 || size < (1u << 20))
            return usage_fail("disk", _("The size is a multiple of 512 bytes of at least 1M, such as 20G."));
        const char *path = argv[optind + 1];
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            return fail(EXIT_FILE, _("Cannot create %s (%s); pick a new file name."), path, g_strerror(errno));
        if (ftruncate(fd, (off_t)size) < 0) {
            int err = errno;
            close(fd);
            unlink(path);
            return fail(EXIT_FILE, _("Cannot size %s (%s)."), path, g_strerror(err));
        }
        close(fd);
        if (!ctx->json)
            printf(_("Created the raw disk image %s.\n"), path);
        return EXIT_OK;
    }
    if (optind < argc && strcmp(argv[optind], "info") == 0 && argc - optind == 2) {
        char err[512];
        struct blockdev *bd = blockdev_open(argv[optind + 1], BLOCKDEV_READ_ONLY, err, sizeof(err));
        if (!bd)
            return fail(EXIT_FILE, "%s", err);
        struct stat st;
        uint64_t allocated = stat(argv[optind + 1], &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
        if (ctx->json) {
            JsonBuilder *b = json_builder_new();
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "path");
            json_builder_add_string_value(b, argv[optind + 1]);
            json_builder_set_member_name(b, "format");
            json_builder_add_string_value(b, "raw");
            json_builder_set_member_name(b, "size");
            json_builder_add_int_value(b, (gint64)blockdev_size(bd));
            json_builder_set_member_name(b, "allocated");
            json_builder_add_int_value(b, (gint64)allocated);
            json_builder_end_object(b);
            print_json(b);
            g_object_unref(b);
        } else {
            printf(_("Format:    raw\nSize:      %llu bytes (%.1f GiB)\nAllocated: %llu bytes\n"),
                   (unsigned long long)blockdev_size(bd), (double)blockdev_size(bd) / (1 << 30),
                   (unsigned long long)allocated);
        }
        blockdev_close(bd);
        return EXIT_OK;
    }
    return usage_fail("disk", _("Say 'disk create FILE SIZE' or 'disk info FILE'."));
}

static int cmd_os_list(struct ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    if (next_opt(argc, argv, opts, ctx, find_command("os-list")) != -1)
        return usage_fail("os-list", _("Unknown option."));
    GError *e = NULL;
    struct ospresets *presets = ospresets_load(&e);
    if (!presets)
        return gerror_fail(e, EXIT_FAILED);
    GPtrArray *all = ospresets_search(presets, optind < argc ? argv[optind] : "");
    JsonBuilder *b = ctx->json ? json_builder_new() : NULL;
    if (b)
        json_builder_begin_array(b);
    for (guint i = 0; i < all->len; i++) {
        const struct ospreset *p = g_ptr_array_index(all, i);
        if (b) {
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "id");
            json_builder_add_string_value(b, p->id);
            json_builder_set_member_name(b, "name");
            json_builder_add_string_value(b, p->name);
            json_builder_set_member_name(b, "memory_mib");
            json_builder_add_int_value(b, p->memory_mib);
            json_builder_set_member_name(b, "cpus");
            json_builder_add_int_value(b, p->cpus);
            json_builder_set_member_name(b, "disk_size");
            json_builder_add_int_value(b, (gint64)p->disk_size);
            json_builder_end_object(b);
        } else {
            printf("%-20s %s\n", p->id, p->name);
        }
    }
    if (b) {
        json_builder_end_array(b);
        print_json(b);
        g_object_unref(b);
    }
    g_ptr_array_unref(all);
    ospresets_free(presets);
    return EXIT_OK;
}

static const struct command commands[] = {
    { "list", "[--json]", N_("List the VMs and their state."), cmd_list },
    { "create", "--name NAME [--os ID] [--memory MIB] [--cpus N] [--disk-size SIZE] [--iso FILE] [--json]",
      N_("Create a VM: a definition, and a new raw disk. Unset values come from the OS's recommendations."),
      cmd_create },
    { "show", "VM [--json]", N_("Show a VM's definition and state."), cmd_show },
    { "modify", "VM [--name NAME] [--os ID] [--memory MIB] [--cpus N] [--boot cd,disk] [--iso FILE | --no-iso]",
      N_("Change a VM's definition (memory, CPUs and boot order only while it is stopped)."), cmd_modify },
    { "start", "VM [--headless]",
      N_("Start a VM: in its window, or with --headless in the background only."), cmd_start },
    { "pause", "VM", N_("Pause a running VM."), cmd_pause },
    { "resume", "VM", N_("Resume a paused VM."), cmd_resume },
    { "reset", "VM", N_("Reset a VM, as the reset button does."), cmd_reset },
    { "shutdown", "VM", N_("Press the VM's power button: the guest shuts down."), cmd_shutdown },
    { "poweroff", "VM", N_("Power a VM off at once, without asking the guest."), cmd_poweroff },
    { "screenshot", "VM FILE.png", N_("Save what the VM's screen shows as a PNG."), cmd_screenshot },
    { "type", "VM TEXT [--keys]",
      N_("Type text into the VM (\\n is Enter); with --keys, press a combination such as ctrl+alt+delete."),
      cmd_type },
    { "text", "VM", N_("Print the text on the VM's screen (in a text mode)."), cmd_text },
    { "pointer", "VM X Y [--click left|right|middle] [--wheel N]",
      N_("Move the guest's pointer to a pixel of its screen (needs the guest's tablet driver), and click or "
         "scroll there."),
      cmd_pointer },
    { "cdrom", "insert VM FILE | eject VM", N_("Change the VM's CD-ROM."), cmd_cdrom },
    { "delete", "VM", N_("Delete a stopped VM with its definition and the disks in its directory."), cmd_delete },
    { "disk", "create FILE SIZE | info FILE", N_("Create a raw disk image, or show an image's size."), cmd_disk },
    { "os-list", "[SEARCH] [--json]", N_("List the operating systems Hostel knows recommendations for."),
      cmd_os_list },
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *f)
{
    fputs(_("Usage: hostelctl COMMAND [ARGS...]\n"
            "Manage Hostel virtual machines from the command line.\n\n"
            "Commands:\n"), f);
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, _(commands[i].summary));
    fputs(_("\n'hostelctl COMMAND --help' shows a command's options. --json prints results as JSON.\n"
            "VM is a VM's name or UUID.\n\n"
            "Exit status: 0 done; 1 the operation failed; 2 no such VM; 3 the VM is not in a state\n"
            "that allows it; 4 a definition file is malformed; 5 the VM does not answer;\n"
            "64 bad usage; 66 a file cannot be used.\n"), f);
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    bindtextdomain("hostel", HOSTEL_LOCALEDIR);
    bind_textdomain_codeset("hostel", "UTF-8");
    textdomain("hostel");
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hostelctl %s\n", HOSTEL_VERSION);
        return EXIT_OK;
    }
    const struct command *cmd = find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, _("hostelctl: unknown command '%s'.\n"), argv[1]);
        fprintf(stderr, _("Try 'hostelctl --help'.\n"));
        return EXIT_USAGE;
    }
    struct ctx ctx = { .prog = argv[0] };
    opterr = 0;
    optind = 1;     /* argv + 1: the command's name is its argv[0] */
    return cmd->run(&ctx, argc - 1, argv + 1);
}
