#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>

#include "display.h"
#include "pc.h"
#include "vm.h"

#define CONTROL_XML_RESOURCE "/org/hostel/dbus/org.hostel.VM1.xml"

static void control_emit_property(struct control *c, const char *name, GVariant *value);
static void control_emit(struct control *c, const char *signal, GVariant *args);

static void control_emit_state(struct control *c, const char *state, const char *reason)
{
    c->state = state;
    control_emit(c, "StateChanged", g_variant_new("(ss)", state, reason ? reason : ""));
    control_emit_property(c, "State", g_variant_new_string(state));
}

static void control_emit_property(struct control *c, const char *name, GVariant *value)
{
    g_variant_ref_sink(value);
    for (guint i = 0; i < c->connections->len; i++) {
        GVariantBuilder changed;
        g_variant_builder_init(&changed, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&changed, "{sv}", name, value);
        g_dbus_connection_emit_signal(g_ptr_array_index(c->connections, i), NULL, CONTROL_OBJECT_PATH,
                                      "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                      g_variant_new("(sa{sv}as)", CONTROL_INTERFACE, &changed, NULL), NULL);
    }
    g_variant_unref(value);
}

static void control_emit(struct control *c, const char *signal, GVariant *args)
{
    g_variant_ref_sink(args);
    for (guint i = 0; i < c->connections->len; i++)
        g_dbus_connection_emit_signal(g_ptr_array_index(c->connections, i), NULL, CONTROL_OBJECT_PATH,
                                      CONTROL_INTERFACE, signal, args, NULL);
    g_variant_unref(args);
}

/* About 30 times a second while clients are connected: render the screen
 * and tell them what changed. */
static gboolean control_render_tick(gpointer opaque)
{
    struct control *c = opaque;
    struct display_rect rects[DISPLAY_MAX_DAMAGE];
    pthread_mutex_lock(&c->vm->dev_lock);
    struct display *d = pc_render(c->pc);
    uint64_t gen = d->generation;
    unsigned w = d->width, h = d->height, stride = d->stride;
    unsigned n = display_take_damage(d, rects, DISPLAY_MAX_DAMAGE);
    bool absolute = pc_pointer_absolute(c->pc);
    pthread_mutex_unlock(&c->vm->dev_lock);
    /* The guest's tablet driver comes and goes with the guest: checked here,
     * at the pace of the screen updates. */
    if (absolute != c->pointer_absolute) {
        c->pointer_absolute = absolute;
        control_emit(c, "PointerModeChanged", g_variant_new("(b)", absolute));
        control_emit_property(c, "PointerAbsolute", g_variant_new_boolean(absolute));
    }
    if (gen != c->display_generation) {
        c->display_generation = gen;
        control_emit(c, "DisplayChanged", g_variant_new("(uuut)", w, h, stride, (guint64)gen));
    }
    if (n) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a(uuuu)"));
        for (unsigned i = 0; i < n; i++)
            g_variant_builder_add(&b, "(uuuu)", rects[i].x, rects[i].y, rects[i].w, rects[i].h);
        control_emit(c, "Damage", g_variant_new("(a(uuuu))", &b));
    }
    return G_SOURCE_CONTINUE;
}

static void control_update_render_timer(struct control *c)
{
    bool want = c->connections && c->connections->len > 0;
    if (want && !c->render_source) {
        c->render_source = g_timeout_add(CONTROL_RENDER_MS, control_render_tick, c);
    } else if (!want && c->render_source) {
        g_source_remove(c->render_source);
        c->render_source = 0;
    }
}

/* Serial console output arrives on vCPU threads; it is handed to the main
 * loop, which sends it as ConsoleOutput. */
static gboolean control_console_flush(gpointer opaque)
{
    struct control *c = opaque;
    g_mutex_lock(&c->console_lock);
    GBytes *data = c->console_out->len ? g_byte_array_free_to_bytes(c->console_out) : NULL;
    if (data)
        c->console_out = g_byte_array_new();
    c->console_flush_pending = false;
    g_mutex_unlock(&c->console_lock);
    if (data && c->connections) {
        control_emit(c, "ConsoleOutput",
                     g_variant_new("(@ay)", g_variant_new_from_bytes(G_VARIANT_TYPE("ay"), data, TRUE)));
    }
    if (data)
        g_bytes_unref(data);
    return G_SOURCE_REMOVE;
}

static void control_console_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct control *c = opaque;
    g_mutex_lock(&c->console_lock);
    /* Nobody listening, or a client not keeping up: keep the last 64 KiB. */
    if (c->console_out->len + len > CONTROL_CONSOLE_MAX)
        g_byte_array_remove_range(c->console_out, 0,
                                  MIN(c->console_out->len, c->console_out->len + len - CONTROL_CONSOLE_MAX));
    g_byte_array_append(c->console_out, buf, (guint)MIN(len, CONTROL_CONSOLE_MAX));
    bool schedule = !c->console_flush_pending;
    c->console_flush_pending = true;
    g_mutex_unlock(&c->console_lock);
    if (schedule)
        g_main_context_invoke(NULL, control_console_flush, c);
}

/* Console input waits here until the UART has room. */
static gboolean control_console_feed(gpointer opaque)
{
    struct control *c = opaque;
    pthread_mutex_lock(&c->vm->dev_lock);
    size_t n = pc_console_input(c->pc, c->console_in->data, c->console_in->len);
    pthread_mutex_unlock(&c->vm->dev_lock);
    g_byte_array_remove_range(c->console_in, 0, (guint)n);
    if (c->console_in->len)
        return G_SOURCE_CONTINUE;
    c->console_in_source = 0;
    return G_SOURCE_REMOVE;
}

static void return_error(GDBusMethodInvocation *inv, GDBusError code, const char *msg)
{
    g_dbus_method_invocation_return_error_literal(inv, G_DBUS_ERROR, code, msg);
}

/* Device-facing calls run on the main thread with the device lock held,
 * like any other main-loop work touching device state. */
static void control_method(GDBusConnection *conn, const gchar *sender, const gchar *path, const gchar *iface,
                           const gchar *method, GVariant *params, GDBusMethodInvocation *inv, gpointer opaque)
{
    struct control *c = opaque;
    struct vm *vm = c->vm;
    char err[512] = "";
    int rc = 0;

    if (strcmp(c->state, "stopped") == 0) {
        return_error(inv, G_DBUS_ERROR_FAILED, "The VM has stopped.");
        return;
    }
    if (strcmp(method, "Pause") == 0) {
        if (strcmp(c->state, "paused") != 0) {
            vm_pause(vm);
            control_emit_state(c, "paused", NULL);
        }
    } else if (strcmp(method, "Resume") == 0) {
        if (strcmp(c->state, "running") != 0) {
            vm_resume(vm);
            control_emit_state(c, "running", NULL);
        }
    } else if (strcmp(method, "PowerOff") == 0) {
        vm_request_stop(vm, VM_STOP_USER, VM_EXIT_USER, "Powered off from the control interface.");
    } else if (strcmp(method, "Shutdown") == 0) {
        pthread_mutex_lock(&vm->dev_lock);
        pc_power_button(c->pc);
        pthread_mutex_unlock(&vm->dev_lock);
    } else if (strcmp(method, "SendKey") == 0) {
        guint32 code;
        gboolean pressed;
        g_variant_get(params, "(ub)", &code, &pressed);
        pthread_mutex_lock(&vm->dev_lock);
        rc = pc_queue_key(c->pc, code, pressed, err, sizeof(err));
        pthread_mutex_unlock(&vm->dev_lock);
    } else if (strcmp(method, "TypeText") == 0 || strcmp(method, "PressKeys") == 0) {
        const gchar *text;
        g_variant_get(params, "(&s)", &text);
        pthread_mutex_lock(&vm->dev_lock);
        if (method[0] == 'T')
            rc = pc_type_text(c->pc, text, err, sizeof(err));
        else
            rc = pc_press_keys(c->pc, text, err, sizeof(err));
        pthread_mutex_unlock(&vm->dev_lock);
    } else if (strcmp(method, "Screenshot") == 0) {
        const gchar *file;
        g_variant_get(params, "(&s)", &file);
        pthread_mutex_lock(&vm->dev_lock);
        rc = pc_screenshot(c->pc, file, err, sizeof(err));
        pthread_mutex_unlock(&vm->dev_lock);
    } else if (strcmp(method, "GetScreenText") == 0) {
        enum { TEXT_MAX = 64 * 1024 };
        char *text = g_malloc(TEXT_MAX);
        pthread_mutex_lock(&vm->dev_lock);
        rc = pc_screen_text(c->pc, text, TEXT_MAX, err, sizeof(err));
        pthread_mutex_unlock(&vm->dev_lock);
        if (rc == 0)
            g_dbus_method_invocation_return_value(inv, g_variant_new("(s)", text));
        g_free(text);
        if (rc == 0)
            return;
    } else if (strcmp(method, "Reset") == 0) {
        vm_request_stop(vm, VM_STOP_RESET, VM_EXIT_RESET, "Reset from the control interface.");
    } else if (strcmp(method, "MouseEvent") == 0) {
        gint32 dx, dy, dz;
        guint32 buttons;
        g_variant_get(params, "(iiiu)", &dx, &dy, &dz, &buttons);
        pthread_mutex_lock(&vm->dev_lock);
        pc_mouse_event(c->pc, dx, dy, dz, buttons);
        pthread_mutex_unlock(&vm->dev_lock);
    } else if (strcmp(method, "PointerEvent") == 0) {
        guint32 x, y, buttons;
        gint32 dz;
        g_variant_get(params, "(uuiu)", &x, &y, &dz, &buttons);
        pthread_mutex_lock(&vm->dev_lock);
        rc = pc_pointer_event(c->pc, x, y, dz, buttons, err, sizeof(err));
        pthread_mutex_unlock(&vm->dev_lock);
    } else if (strcmp(method, "GetDisplay") == 0) {
        pthread_mutex_lock(&vm->dev_lock);
        struct display *d = pc_render(c->pc);
        unsigned w = d->width, h = d->height, stride = d->stride;
        guint64 gen = d->generation;
        int fd = d->fd;
        pthread_mutex_unlock(&vm->dev_lock);
        GUnixFDList *fds = g_unix_fd_list_new();
        GError *gerr = NULL;
        int idx = g_unix_fd_list_append(fds, fd, &gerr);
        if (idx < 0) {
            return_error(inv, G_DBUS_ERROR_FAILED, gerr->message);
            g_error_free(gerr);
            g_object_unref(fds);
            return;
        }
        g_dbus_method_invocation_return_value_with_unix_fd_list(
            inv, g_variant_new("(huuut)", idx, w, h, stride, gen), fds);
        g_object_unref(fds);
        return;
    } else if (strcmp(method, "ChangeCdrom") == 0 || strcmp(method, "EjectCdrom") == 0) {
        const gchar *file = NULL;
        if (method[0] == 'C')
            g_variant_get(params, "(&s)", &file);
        pthread_mutex_lock(&vm->dev_lock);
        rc = pc_change_cdrom(c->pc, file, err, sizeof(err));
        pthread_mutex_unlock(&vm->dev_lock);
    } else if (strcmp(method, "ConsoleInput") == 0) {
        gsize n = 0;
        GVariant *bytes = g_variant_get_child_value(params, 0);
        const guint8 *data = g_variant_get_fixed_array(bytes, &n, 1);
        if (c->console_in->len + n > CONTROL_CONSOLE_MAX) {
            rc = -1;
            snprintf(err, sizeof(err), "The serial console has not taken the previous %u bytes yet; send less, "
                     "or wait.", c->console_in->len);
        } else {
            g_byte_array_append(c->console_in, data, (guint)n);
            if (!c->console_in_source)
                c->console_in_source = g_timeout_add(CONTROL_CONSOLE_MS, control_console_feed, c);
        }
        g_variant_unref(bytes);
    } else {
        return_error(inv, G_DBUS_ERROR_UNKNOWN_METHOD, "No such method.");
        return;
    }
    if (rc < 0)
        return_error(inv, G_DBUS_ERROR_INVALID_ARGS, err);
    else
        g_dbus_method_invocation_return_value(inv, NULL);
}

static GVariant *control_get_property(GDBusConnection *conn, const gchar *sender, const gchar *path,
                                      const gchar *iface, const gchar *name, GError **error, gpointer opaque)
{
    struct control *c = opaque;
    if (strcmp(name, "State") == 0)
        return g_variant_new_string(c->state);
    if (strcmp(name, "PointerAbsolute") == 0) {
        pthread_mutex_lock(&c->vm->dev_lock);
        bool absolute = pc_pointer_absolute(c->pc);
        pthread_mutex_unlock(&c->vm->dev_lock);
        return g_variant_new_boolean(absolute);
    }
    g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No such property.");
    return NULL;
}

static const GDBusInterfaceVTable control_vtable = {
    .method_call = control_method,
    .get_property = control_get_property,
};

static void control_connection_closed(GDBusConnection *conn, gboolean remote_vanished, GError *error,
                                      gpointer opaque)
{
    struct control *c = opaque;
    g_ptr_array_remove(c->connections, conn);
    control_update_render_timer(c);
}

static gboolean control_new_connection(GDBusServer *server, GDBusConnection *conn, gpointer opaque)
{
    struct control *c = opaque;
    GError *gerr = NULL;
    if (!g_dbus_connection_register_object(conn, CONTROL_OBJECT_PATH, c->node->interfaces[0], &control_vtable,
                                           c, NULL, &gerr)) {
        g_warning("hostel-vm: could not serve a control client: %s", gerr->message);
        g_error_free(gerr);
        return FALSE;
    }
    g_signal_connect(conn, "closed", G_CALLBACK(control_connection_closed), c);
    g_ptr_array_add(c->connections, g_object_ref(conn));
    control_update_render_timer(c);
    return TRUE;
}

/* Second line of defence behind the socket's mode: the peer must be us. */
static gboolean control_authorize(GDBusAuthObserver *observer, GIOStream *stream, GCredentials *creds,
                                  gpointer opaque)
{
    GError *gerr = NULL;
    uid_t uid = creds ? g_credentials_get_unix_user(creds, &gerr) : (uid_t)-1;
    g_clear_error(&gerr);
    return creds && uid == getuid();
}

static GDBusNodeInfo *control_load_xml(char *err, size_t errlen)
{
    GError *gerr = NULL;
    GBytes *xml = g_resources_lookup_data(CONTROL_XML_RESOURCE, 0, &gerr);
    GDBusNodeInfo *node = NULL;
    if (xml) {
        node = g_dbus_node_info_new_for_xml(g_bytes_get_data(xml, NULL), &gerr);
        g_bytes_unref(xml);
    }
    if (!node) {
        snprintf(err, errlen, "Internal error: the control interface description is broken (%s).",
                 gerr->message);
        g_error_free(gerr);
    }
    return node;
}

int control_start(struct control *c, struct vm *vm, struct pc *pc, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->vm = vm;
    c->pc = pc;
    c->state = "running";
    c->node = control_load_xml(err, errlen);
    if (!c->node)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "The control socket path %s exists and is not a socket; choose another path.",
                     path);
            return -1;
        }
        unlink(path);
    }
    c->path = g_strdup(path);
    c->connections = g_ptr_array_new_with_free_func(g_object_unref);
    g_mutex_init(&c->console_lock);
    c->console_out = g_byte_array_new();
    c->console_in = g_byte_array_new();
    c->console_chardev = (struct chardev){ .write = control_console_write, .opaque = c };
    gchar *address = g_dbus_address_escape_value(path);
    gchar *full = g_strdup_printf("unix:path=%s", address);
    g_free(address);
    gchar *guid = g_dbus_generate_guid();
    GDBusAuthObserver *observer = g_dbus_auth_observer_new();
    g_signal_connect(observer, "authorize-authenticated-peer", G_CALLBACK(control_authorize), c);
    GError *gerr = NULL;
    /* The socket is created with the process umask: make it private first. */
    mode_t old = umask(0077);
    c->server = g_dbus_server_new_sync(full, G_DBUS_SERVER_FLAGS_AUTHENTICATION_REQUIRE_SAME_USER, guid,
                                       observer, NULL, &gerr);
    umask(old);
    g_object_unref(observer);
    g_free(guid);
    g_free(full);
    if (!c->server) {
        snprintf(err, errlen, "Cannot listen on the control socket %s (%s).", path, gerr->message);
        g_error_free(gerr);
        control_stop(c, false, NULL);
        return -1;
    }
    chmod(path, 0600);
    g_signal_connect(c->server, "new-connection", G_CALLBACK(control_new_connection), c);
    g_dbus_server_start(c->server);
    return 0;
}

void control_stop(struct control *c, bool restarting, const char *reason)
{
    if (c->render_source)
        g_source_remove(c->render_source);
    c->render_source = 0;
    if (c->console_in_source)
        g_source_remove(c->console_in_source);
    c->console_in_source = 0;
    if (c->console_out) {
        control_console_flush(c);   /* the last output before the stop */
        /* A flush still queued on the main context must find nothing. */
        while (g_main_context_iteration(NULL, FALSE))
            ;
    }
    if (c->connections) {
        control_emit_state(c, restarting ? "restarting" : "stopped", reason);
        for (guint i = 0; i < c->connections->len; i++) {
            GDBusConnection *conn = g_ptr_array_index(c->connections, i);
            g_dbus_connection_flush_sync(conn, NULL, NULL);
            g_signal_handlers_disconnect_by_data(conn, c);
            g_dbus_connection_close_sync(conn, NULL, NULL);
        }
        g_ptr_array_free(c->connections, TRUE);
        c->connections = NULL;
    }
    if (c->server) {
        g_dbus_server_stop(c->server);
        g_object_unref(c->server);
        c->server = NULL;
    }
    if (c->path) {
        unlink(c->path);
        g_free(c->path);
        c->path = NULL;
    }
    if (c->node) {
        g_dbus_node_info_unref(c->node);
        c->node = NULL;
    }
    if (c->console_out) {
        g_byte_array_unref(c->console_out);
        g_byte_array_unref(c->console_in);
        c->console_out = c->console_in = NULL;
        g_mutex_clear(&c->console_lock);
    }
}
