/* fake_vm: a stand-in for hostel-vm in the GUI tests, chosen through
 * HOSTEL_VM (vmrun_argv). It takes hostel-vm's command line, ignores all
 * but --control, and serves org.hostel.VM1 there (the real interface
 * description, so signatures are checked as for hostel-vm):
 *
 *  - GetDisplay passes a memfd framebuffer with a known pattern
 *    (fake_screen.h); Damage goes out about 30 times a second when
 *    something changed (everything, when a client connects);
 *  - SendKey, MouseEvent, PointerEvent, TypeText, PressKeys and every
 *    other call are appended to the file in FAKE_VM_RECORD, one line each
 *    ("key 30 1", "mouse 5 0 0 0", "pointer 320 240 0 1", "method Pause",
 *    ...), after a first line "pid N";
 *  - key Y (evdev 21) pressed paints a yellow square and damages only it;
 *    key R (19) changes the mode to 800x450 (DisplayChanged);
 *  - the properties State and PointerAbsolute; PointerAbsolute starts
 *    false, and key T (20) pressed toggles it (the guest's tablet driver
 *    coming or going), with PointerModeChanged and PropertiesChanged as
 *    hostel-vm sends them. PointerEvent while it is false is an error, as
 *    from hostel-vm, recorded as "pointer-refused X Y DZ BUTTONS";
 *  - Pause and Resume change State; Shutdown and PowerOff emit StateChanged
 *    "stopped" with hostel-vm's reasons and exit 0; Reset drops the clients
 *    (they reconnect, as after hostel-vm's reset); Screenshot writes a PNG.
 *
 * FAKE_VM_FAIL=message, or a file named by FAKE_VM_FAIL_FILE holding the
 * message, makes it print the message and exit 66 at once, like a
 * hostel-vm that cannot open its disk.
 */
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_screen.h"
#include "png_write.h"

#define FAKE_TICK_MS 33
#define FAKE_MAX_PENDING 8
#define KEY_R 19
#define KEY_T 20
#define KEY_Y 21

struct fake_vm {
    GMainLoop *loop;
    GDBusServer *server;
    GDBusNodeInfo *node;
    GPtrArray *conns;
    const char *state;
    struct fake_screen screen;
    FILE *record;
    struct fake_rect pending[FAKE_MAX_PENDING];
    unsigned npending;
    gboolean display_changed;
    gboolean pointer_absolute;  /* the "guest" drives the tablet */
    gboolean power_off;         /* PowerOff rather than Shutdown */
    int exit_status;
};

static void fake_record(struct fake_vm *vm, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void fake_record(struct fake_vm *vm, const char *fmt, ...)
{
    if (!vm->record)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(vm->record, fmt, ap);
    va_end(ap);
    fputc('\n', vm->record);
    fflush(vm->record);
}

static void fake_emit(struct fake_vm *vm, const char *signal, GVariant *args)
{
    g_variant_ref_sink(args);
    for (guint i = 0; i < vm->conns->len; i++)
        g_dbus_connection_emit_signal(g_ptr_array_index(vm->conns, i), NULL, "/org/hostel/VM", "org.hostel.VM1",
                                      signal, args, NULL);
    g_variant_unref(args);
}

/* PropertiesChanged for one property of org.hostel.VM1. */
static void fake_emit_property(struct fake_vm *vm, const char *name, GVariant *value)
{
    g_variant_ref_sink(value);
    for (guint i = 0; i < vm->conns->len; i++) {
        GVariantBuilder changed;
        g_variant_builder_init(&changed, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&changed, "{sv}", name, value);
        g_dbus_connection_emit_signal(g_ptr_array_index(vm->conns, i), NULL, "/org/hostel/VM",
                                      "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                      g_variant_new("(sa{sv}as)", "org.hostel.VM1", &changed, NULL), NULL);
    }
    g_variant_unref(value);
}

static void fake_damage(struct fake_vm *vm, unsigned x, unsigned y, unsigned w, unsigned h)
{
    if (vm->npending == FAKE_MAX_PENDING) {
        /* Full: everything is damaged. */
        vm->pending[0] = (struct fake_rect){ 0, 0, vm->screen.width, vm->screen.height };
        vm->npending = 1;
        return;
    }
    vm->pending[vm->npending++] = (struct fake_rect){ x, y, w, h };
}

static gboolean fake_tick(gpointer data)
{
    struct fake_vm *vm = data;
    if (vm->display_changed) {
        vm->display_changed = FALSE;
        fake_emit(vm, "DisplayChanged", g_variant_new("(uuut)", vm->screen.width, vm->screen.height,
                                                      vm->screen.stride, (guint64)vm->screen.generation));
    }
    if (vm->npending && vm->conns->len) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(uuuu)"));
        for (unsigned i = 0; i < vm->npending; i++)
            g_variant_builder_add(&b, "(uuuu)", vm->pending[i].x, vm->pending[i].y, vm->pending[i].w,
                                  vm->pending[i].h);
        fake_emit(vm, "Damage", g_variant_new("(a(uuuu))", &b));
        vm->npending = 0;
    }
    return G_SOURCE_CONTINUE;
}

static void fake_set_state(struct fake_vm *vm, const char *state, const char *reason)
{
    vm->state = state;
    fake_emit(vm, "StateChanged", g_variant_new("(ss)", state, reason));
}

/* Stop as hostel-vm does: tell every client, flush, close, leave. */
static void fake_stop(struct fake_vm *vm, const char *reason, int status)
{
    fake_set_state(vm, "stopped", reason);
    for (guint i = 0; i < vm->conns->len; i++)
        g_dbus_connection_flush_sync(g_ptr_array_index(vm->conns, i), NULL, NULL);
    vm->exit_status = status;
    g_main_loop_quit(vm->loop);
}

static gboolean fake_stop_later(gpointer data)
{
    struct fake_vm *vm = data;
    if (vm->power_off)
        fake_stop(vm, "Powered off from the control interface.", 10);
    else
        fake_stop(vm, "The guest powered off.", 0);
    return G_SOURCE_REMOVE;
}

static gboolean fake_drop_clients(gpointer data)
{
    struct fake_vm *vm = data;
    /* Closing removes each from vm->conns: close a copy of the list. */
    guint n = vm->conns->len;
    GDBusConnection **conns = g_new(GDBusConnection *, n);
    for (guint i = 0; i < n; i++)
        conns[i] = g_object_ref(g_ptr_array_index(vm->conns, i));
    for (guint i = 0; i < n; i++) {
        g_dbus_connection_close_sync(conns[i], NULL, NULL);
        g_object_unref(conns[i]);
    }
    g_free(conns);
    return G_SOURCE_REMOVE;
}

static void fake_key(struct fake_vm *vm, guint32 code, gboolean pressed)
{
    fake_record(vm, "key %u %d", code, pressed ? 1 : 0);
    if (!pressed)
        return;
    if (code == KEY_Y) {
        struct fake_rect r;
        fake_screen_square(&vm->screen, &r);
        fake_damage(vm, r.x, r.y, r.w, r.h);
    } else if (code == KEY_R) {
        fake_screen_resize(&vm->screen, 800, 450);
        vm->display_changed = TRUE;
        vm->npending = 0;
        fake_damage(vm, 0, 0, vm->screen.width, vm->screen.height);
    } else if (code == KEY_T) {
        vm->pointer_absolute = !vm->pointer_absolute;
        fake_emit(vm, "PointerModeChanged", g_variant_new("(b)", vm->pointer_absolute));
        fake_emit_property(vm, "PointerAbsolute", g_variant_new_boolean(vm->pointer_absolute));
    }
}

static void fake_get_display(struct fake_vm *vm, GDBusMethodInvocation *inv)
{
    GUnixFDList *fds = g_unix_fd_list_new();
    int idx = g_unix_fd_list_append(fds, vm->screen.fd, NULL);
    g_dbus_method_invocation_return_value_with_unix_fd_list(
        inv, g_variant_new("(huuut)", idx, vm->screen.width, vm->screen.height, vm->screen.stride,
                           (guint64)vm->screen.generation), fds);
    g_object_unref(fds);
}

static void fake_method(GDBusConnection *conn, const gchar *sender, const gchar *path, const gchar *iface,
                        const gchar *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
    struct fake_vm *vm = data;
    if (strcmp(method, "GetDisplay") == 0) {
        fake_get_display(vm, inv);
        return;
    }
    if (strcmp(method, "SendKey") == 0) {
        guint32 code;
        gboolean pressed;
        g_variant_get(params, "(ub)", &code, &pressed);
        fake_key(vm, code, pressed);
    } else if (strcmp(method, "MouseEvent") == 0) {
        gint32 dx, dy, dz;
        guint32 buttons;
        g_variant_get(params, "(iiiu)", &dx, &dy, &dz, &buttons);
        fake_record(vm, "mouse %d %d %d %u", dx, dy, dz, buttons);
    } else if (strcmp(method, "PointerEvent") == 0) {
        guint32 x, y, buttons;
        gint32 dz;
        g_variant_get(params, "(uuiu)", &x, &y, &dz, &buttons);
        if (!vm->pointer_absolute) {
            fake_record(vm, "pointer-refused %u %u %d %u", x, y, dz, buttons);
            g_dbus_method_invocation_return_error_literal(inv, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                                          "The guest does not use the tablet; send relative "
                                                          "mouse motion instead.");
            return;
        }
        fake_record(vm, "pointer %u %u %d %u", x, y, dz, buttons);
    } else if (strcmp(method, "TypeText") == 0 || strcmp(method, "PressKeys") == 0 ||
               strcmp(method, "ChangeCdrom") == 0 || strcmp(method, "Screenshot") == 0) {
        const char *arg;
        g_variant_get(params, "(&s)", &arg);
        fake_record(vm, "method %s %s", method, arg);
        char err[256];
        if (method[0] == 'S' && png_write_xrgb(arg, vm->screen.pixels, vm->screen.width, vm->screen.height,
                                               vm->screen.stride, err, sizeof(err)) < 0) {
            g_dbus_method_invocation_return_error_literal(inv, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, err);
            return;
        }
    } else {
        fake_record(vm, "method %s", method);
        if (strcmp(method, "Pause") == 0) {
            fake_set_state(vm, "paused", "");
        } else if (strcmp(method, "Resume") == 0) {
            fake_set_state(vm, "running", "");
        } else if (strcmp(method, "Shutdown") == 0 || strcmp(method, "PowerOff") == 0) {
            /* Reply first, then stop, as the guest would after a moment. */
            vm->power_off = method[0] == 'P';
            g_timeout_add(50, fake_stop_later, vm);
        } else if (strcmp(method, "Reset") == 0) {
            g_timeout_add(50, fake_drop_clients, vm);
        }
    }
    g_dbus_method_invocation_return_value(inv, NULL);
}

static GVariant *fake_get_property(GDBusConnection *conn, const gchar *sender, const gchar *path,
                                   const gchar *iface, const gchar *name, GError **error, gpointer data)
{
    struct fake_vm *vm = data;
    if (strcmp(name, "State") == 0)
        return g_variant_new_string(vm->state);
    if (strcmp(name, "PointerAbsolute") == 0)
        return g_variant_new_boolean(vm->pointer_absolute);
    g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No such property.");
    return NULL;
}

static const GDBusInterfaceVTable fake_vtable = {
    .method_call = fake_method,
    .get_property = fake_get_property,
};

static void fake_closed(GDBusConnection *conn, gboolean vanished, GError *err, gpointer data)
{
    struct fake_vm *vm = data;
    g_ptr_array_remove(vm->conns, conn);
}

static gboolean fake_new_connection(GDBusServer *server, GDBusConnection *conn, gpointer data)
{
    struct fake_vm *vm = data;
    if (!g_dbus_connection_register_object(conn, "/org/hostel/VM", vm->node->interfaces[0], &fake_vtable, vm,
                                           NULL, NULL))
        return FALSE;
    g_signal_connect(conn, "closed", G_CALLBACK(fake_closed), vm);
    g_ptr_array_add(vm->conns, g_object_ref(conn));
    fake_damage(vm, 0, 0, vm->screen.width, vm->screen.height);
    return TRUE;
}

static gboolean fake_sigterm(gpointer data)
{
    fake_stop(data, "Stopped by a signal from the host.", 10);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    const char *control = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--control") == 0)
            control = argv[i + 1];
    char *fail = g_strdup(g_getenv("FAKE_VM_FAIL"));
    const char *fail_file = g_getenv("FAKE_VM_FAIL_FILE");
    if (!fail && fail_file && g_file_get_contents(fail_file, &fail, NULL, NULL))
        g_strstrip(fail);
    if (fail) {
        fprintf(stderr, "hostel-vm: %s\n", fail);
        g_free(fail);
        return 66;
    }
    if (!control) {
        fprintf(stderr, "fake_vm: --control SOCKET is required\n");
        return 64;
    }
    struct fake_vm vm = { .state = "running" };
    const char *record = g_getenv("FAKE_VM_RECORD");
    vm.record = record ? fopen(record, "a") : NULL;
    fake_record(&vm, "pid %d", (int)getpid());
    if (fake_screen_init(&vm.screen, 640, 480) < 0) {
        fprintf(stderr, "fake_vm: no memfd\n");
        return 8;
    }
    GBytes *xml = g_resources_lookup_data("/org/hostel/dbus/org.hostel.VM1.xml", 0, NULL);
    vm.node = g_dbus_node_info_new_for_xml(g_bytes_get_data(xml, NULL), NULL);
    g_bytes_unref(xml);
    vm.conns = g_ptr_array_new_with_free_func(g_object_unref);
    vm.loop = g_main_loop_new(NULL, FALSE);

    unlink(control);
    char *escaped = g_dbus_address_escape_value(control);
    char *address = g_strdup_printf("unix:path=%s", escaped);
    char *guid = g_dbus_generate_guid();
    GError *err = NULL;
    mode_t old = umask(0077);
    vm.server = g_dbus_server_new_sync(address, G_DBUS_SERVER_FLAGS_AUTHENTICATION_REQUIRE_SAME_USER, guid, NULL,
                                       NULL, &err);
    umask(old);
    g_free(guid);
    g_free(address);
    g_free(escaped);
    if (!vm.server) {
        fprintf(stderr, "fake_vm: cannot listen on %s: %s\n", control, err->message);
        return 8;
    }
    g_signal_connect(vm.server, "new-connection", G_CALLBACK(fake_new_connection), &vm);
    g_dbus_server_start(vm.server);
    g_timeout_add(FAKE_TICK_MS, fake_tick, &vm);
    g_unix_signal_add(SIGTERM, fake_sigterm, &vm);
    g_main_loop_run(vm.loop);

    g_dbus_server_stop(vm.server);
    unlink(control);
    for (guint i = 0; i < vm.conns->len; i++)
        g_dbus_connection_close_sync(g_ptr_array_index(vm.conns, i), NULL, NULL);
    if (vm.record)
        fclose(vm.record);
    return vm.exit_status;
}
