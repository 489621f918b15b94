#include "vm-client.h"

#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <unistd.h>

const char *hostel_vm_status_label(enum hostel_vm_status s)
{
    switch (s) {
    case HOSTEL_VM_STATUS_STOPPED:
        return _("Stopped");
    case HOSTEL_VM_STATUS_STARTING:
        return _("Starting…");
    case HOSTEL_VM_STATUS_RUNNING:
        return _("Running");
    case HOSTEL_VM_STATUS_PAUSED:
        return _("Paused");
    case HOSTEL_VM_STATUS_NOT_RESPONDING:
        return _("Not responding");
    case HOSTEL_VM_STATUS_UNKNOWN:
    default:
        return _("Checking…");
    }
}

enum hostel_vm_status hostel_vm_status_from_state(const char *state)
{
    if (g_strcmp0(state, "running") == 0)
        return HOSTEL_VM_STATUS_RUNNING;
    if (g_strcmp0(state, "paused") == 0)
        return HOSTEL_VM_STATUS_PAUSED;
    if (g_strcmp0(state, "stopped") == 0)
        return HOSTEL_VM_STATUS_STOPPED;
    return HOSTEL_VM_STATUS_UNKNOWN;
}

gboolean hostel_vm_status_is_live(enum hostel_vm_status s)
{
    return s == HOSTEL_VM_STATUS_RUNNING || s == HOSTEL_VM_STATUS_PAUSED || s == HOSTEL_VM_STATUS_NOT_RESPONDING;
}

/* ---- connecting with a deadline ---- */

struct connect_op {
    GCancellable *inner;        /* cancels the connection attempt */
    GCancellable *outer;        /* the caller's */
    gulong outer_handler;
    guint timeout_id;
    unsigned timeout_ms;
    gboolean returned;
};

static void connect_op_free(gpointer p)
{
    struct connect_op *op = p;
    if (op->outer_handler)
        g_cancellable_disconnect(op->outer, op->outer_handler);
    g_clear_object(&op->outer);
    g_clear_object(&op->inner);
    g_free(op);
}

static void connect_outer_cancelled(GCancellable *outer, gpointer data)
{
    g_cancellable_cancel(G_CANCELLABLE(data));
}

/* The deadline passed: report it now, and stop the attempt. The GTask is
 * still held by the attempt's callback, which runs when it gives up. */
static gboolean connect_timed_out(gpointer data)
{
    GTask *task = data;
    struct connect_op *op = g_task_get_task_data(task);
    op->timeout_id = 0;
    if (!op->returned) {
        op->returned = TRUE;
        unsigned secs = (op->timeout_ms + 999) / 1000;
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                ngettext("The VM did not answer within %u second.",
                                         "The VM did not answer within %u seconds.", secs), secs);
    }
    g_cancellable_cancel(op->inner);
    return G_SOURCE_REMOVE;
}

static void connect_done(GObject *src, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    struct connect_op *op = g_task_get_task_data(task);
    GError *err = NULL;
    GDBusConnection *c = g_dbus_connection_new_for_address_finish(res, &err);
    if (op->timeout_id) {
        g_source_remove(op->timeout_id);
        op->timeout_id = 0;
    }
    if (op->returned) {
        /* Too late: the caller was told it timed out. */
        if (c)
            g_dbus_connection_close(c, NULL, NULL, NULL);
        g_clear_object(&c);
        g_clear_error(&err);
    } else {
        op->returned = TRUE;
        if (c)
            g_task_return_pointer(task, c, g_object_unref);
        else
            g_task_return_error(task, err);
    }
    g_object_unref(task);
}

void hostel_vm_connect(const char *socket_path, unsigned timeout_ms, GCancellable *cancel,
                       GAsyncReadyCallback cb, gpointer data)
{
    GTask *task = g_task_new(NULL, cancel, cb, data);
    g_task_set_source_tag(task, hostel_vm_connect);
    struct connect_op *op = g_new0(struct connect_op, 1);
    op->inner = g_cancellable_new();
    op->timeout_ms = timeout_ms;
    g_task_set_task_data(task, op, connect_op_free);
    if (cancel) {
        op->outer = g_object_ref(cancel);
        op->outer_handler = g_cancellable_connect(cancel, G_CALLBACK(connect_outer_cancelled),
                                                  g_object_ref(op->inner), g_object_unref);
    }
    char *escaped = g_dbus_address_escape_value(socket_path);
    char *address = g_strdup_printf("unix:path=%s", escaped);
    op->timeout_id = g_timeout_add(timeout_ms, connect_timed_out, task);
    g_dbus_connection_new_for_address(address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, op->inner,
                                      connect_done, task);
    g_free(address);
    g_free(escaped);
}

GDBusConnection *hostel_vm_connect_finish(GAsyncResult *res, GError **err)
{
    return g_task_propagate_pointer(G_TASK(res), err);
}

/* ---- calls ---- */

void hostel_vm_call(GDBusConnection *c, const char *method, GVariant *args, const char *reply_type,
                    GCancellable *cancel, GAsyncReadyCallback cb, gpointer data)
{
    g_dbus_connection_call(c, NULL, HOSTEL_VM_OBJECT_PATH, HOSTEL_VM_INTERFACE, method, args,
                           reply_type ? G_VARIANT_TYPE(reply_type) : NULL, G_DBUS_CALL_FLAGS_NONE,
                           HOSTEL_VM_CALL_TIMEOUT_MS, cancel, cb, data);
}

void hostel_vm_get_state(GDBusConnection *c, GCancellable *cancel, GAsyncReadyCallback cb, gpointer data)
{
    g_dbus_connection_call(c, NULL, HOSTEL_VM_OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get",
                           g_variant_new("(ss)", HOSTEL_VM_INTERFACE, "State"), G_VARIANT_TYPE("(v)"),
                           G_DBUS_CALL_FLAGS_NONE, HOSTEL_VM_CALL_TIMEOUT_MS, cancel, cb, data);
}

enum hostel_vm_status hostel_vm_get_state_finish(GDBusConnection *c, GAsyncResult *res, GError **err)
{
    GVariant *reply = g_dbus_connection_call_finish(c, res, err);
    if (!reply)
        return HOSTEL_VM_STATUS_UNKNOWN;
    GVariant *v = NULL;
    g_variant_get(reply, "(v)", &v);
    enum hostel_vm_status s = HOSTEL_VM_STATUS_UNKNOWN;
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
        s = hostel_vm_status_from_state(g_variant_get_string(v, NULL));
    g_variant_unref(v);
    g_variant_unref(reply);
    if (s == HOSTEL_VM_STATUS_UNKNOWN)
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The VM reported a state Hostel does not know."));
    return s;
}

void hostel_vm_get_display(GDBusConnection *c, GCancellable *cancel, GAsyncReadyCallback cb, gpointer data)
{
    g_dbus_connection_call_with_unix_fd_list(c, NULL, HOSTEL_VM_OBJECT_PATH, HOSTEL_VM_INTERFACE, "GetDisplay",
                                             NULL, G_VARIANT_TYPE("(huuut)"), G_DBUS_CALL_FLAGS_NONE,
                                             HOSTEL_VM_CALL_TIMEOUT_MS, NULL, cancel, cb, data);
}

gboolean hostel_vm_get_display_finish(GDBusConnection *c, GAsyncResult *res, struct hostel_fb *fb, GError **err)
{
    GUnixFDList *fds = NULL;
    GVariant *reply = g_dbus_connection_call_with_unix_fd_list_finish(c, &fds, res, err);
    if (!reply)
        return FALSE;
    gint32 index;
    guint32 w, h, stride;
    guint64 gen;
    g_variant_get(reply, "(huuut)", &index, &w, &h, &stride, &gen);
    g_variant_unref(reply);
    int fd = -1;
    if (fds && index >= 0 && index < g_unix_fd_list_get_length(fds))
        fd = g_unix_fd_list_get(fds, index, err);
    else
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The VM did not pass its screen."));
    g_clear_object(&fds);
    if (fd < 0)
        return FALSE;
    gboolean ok = hostel_fb_map(fb, fd, w, h, stride, gen, err);
    close(fd);
    return ok;
}

/* ---- one call on a connection of its own ---- */

struct call_once {
    char *method;
    GVariant *args;
};

static void call_once_free(gpointer p)
{
    struct call_once *op = p;
    g_free(op->method);
    if (op->args)
        g_variant_unref(op->args);
    g_free(op);
}

static void call_once_replied(GObject *src, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    GDBusConnection *c = G_DBUS_CONNECTION(src);
    GError *err = NULL;
    GVariant *reply = g_dbus_connection_call_finish(c, res, &err);
    g_dbus_connection_close(c, NULL, NULL, NULL);
    if (reply) {
        g_variant_unref(reply);
        g_task_return_boolean(task, TRUE);
    } else {
        g_task_return_error(task, err);
    }
    g_object_unref(c);
    g_object_unref(task);
}

static void call_once_connected(GObject *src, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    struct call_once *op = g_task_get_task_data(task);
    GError *err = NULL;
    GDBusConnection *c = hostel_vm_connect_finish(res, &err);
    if (!c) {
        g_task_return_error(task, err);
        g_object_unref(task);
        return;
    }
    hostel_vm_call(c, op->method, op->args, NULL, g_task_get_cancellable(task), call_once_replied, task);
}

void hostel_vm_call_once(const char *socket_path, const char *method, GVariant *args, GCancellable *cancel,
                         GAsyncReadyCallback cb, gpointer data)
{
    GTask *task = g_task_new(NULL, cancel, cb, data);
    struct call_once *op = g_new0(struct call_once, 1);
    op->method = g_strdup(method);
    op->args = args ? g_variant_ref_sink(args) : NULL;
    g_task_set_task_data(task, op, call_once_free);
    hostel_vm_connect(socket_path, HOSTEL_VM_CONNECT_TIMEOUT_MS, cancel, call_once_connected, task);
}

gboolean hostel_vm_call_once_finish(GAsyncResult *res, GError **err)
{
    return g_task_propagate_boolean(G_TASK(res), err);
}

char *hostel_vm_error_sentence(const GError *err)
{
    if (!err)
        return g_strdup("");
    GError *copy = g_error_copy(err);
    if (g_dbus_error_is_remote_error(copy))
        g_dbus_error_strip_remote_error(copy);
    char *s = g_strdup(copy->message);
    g_error_free(copy);
    return s;
}
