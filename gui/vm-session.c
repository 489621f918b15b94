#include "vm-session.h"

#include <glib/gi18n.h>

struct hostel_vm_session {
    int refs;
    const struct hostel_vm_session_ops *ops;    /* NULL once detached */
    gpointer data;
    char *socket;
    char *log;
    GCancellable *cancel;
    GDBusConnection *conn;
    guint signal_id;
    gulong closed_id;
    guint ping_timer;
    gboolean ping_busy;
    guint retry_timer;
    gint64 reconnect_deadline;  /* monotonic µs; 0 while not reconnecting */
    gboolean was_connected;
    gboolean stop_seen;         /* StateChanged "stopped" arrived */
    char *stop_reason;
    gboolean stop_requested;    /* Shutdown or PowerOff sent from here */
    enum hostel_vm_status status;
};

static void session_connect(struct hostel_vm_session *s);

static struct hostel_vm_session *session_ref(struct hostel_vm_session *s)
{
    s->refs++;
    return s;
}

static void session_unref(gpointer p)
{
    struct hostel_vm_session *s = p;
    if (--s->refs > 0)
        return;
    g_free(s->socket);
    g_free(s->log);
    g_free(s->stop_reason);
    g_clear_object(&s->cancel);
    g_free(s);
}

static void session_status(struct hostel_vm_session *s, enum hostel_vm_status st)
{
    if (!s->ops || st == s->status)
        return;
    s->status = st;
    s->ops->status(s->data, st);
}

/* Forget the connection (closed, or we are going away). */
static void session_drop_connection(struct hostel_vm_session *s)
{
    if (!s->conn)
        return;
    if (s->signal_id)
        g_dbus_connection_signal_unsubscribe(s->conn, s->signal_id);
    s->signal_id = 0;
    if (s->closed_id)
        g_signal_handler_disconnect(s->conn, s->closed_id);
    s->closed_id = 0;
    g_dbus_connection_close(s->conn, NULL, NULL, NULL);
    g_clear_object(&s->conn);
    if (s->ping_timer)
        g_source_remove(s->ping_timer);
    s->ping_timer = 0;
}

/* The end: the VM is gone and did not come back. */
static void session_finish(struct hostel_vm_session *s)
{
    if (!s->ops)
        return;
    const struct hostel_vm_session_ops *ops = s->ops;
    char *reason;
    gboolean expected = FALSE;
    if (s->stop_seen) {
        reason = g_strdup(s->stop_reason ? s->stop_reason : "");
        expected = s->stop_requested;
    } else if (s->was_connected) {
        reason = g_strdup_printf(_("The VM process ended without saying why. Its log, %s, may tell more."),
                                 s->log);
    } else {
        reason = g_strdup_printf(_("The VM is not running: nothing answers on its control socket %s."),
                                 s->socket);
    }
    s->status = HOSTEL_VM_STATUS_STOPPED;
    s->ops = NULL;  /* nothing more after this */
    ops->stopped(s->data, reason, expected);
    g_free(reason);
}

static gboolean session_retry(gpointer p)
{
    struct hostel_vm_session *s = p;
    s->retry_timer = 0;
    session_connect(s);
    return G_SOURCE_REMOVE;
}

static void session_schedule_retry(struct hostel_vm_session *s, unsigned ms)
{
    if (!s->retry_timer && s->ops)
        s->retry_timer = g_timeout_add(ms, session_retry, s);
}

static void session_closed(GDBusConnection *c, gboolean remote_vanished, GError *err, gpointer p)
{
    struct hostel_vm_session *s = p;
    session_drop_connection(s);
    /* Stopped as the user asked here: that is the end, not a reset. */
    if (s->stop_seen && s->stop_requested) {
        session_finish(s);
        return;
    }
    s->reconnect_deadline = g_get_monotonic_time() + HOSTEL_VM_SESSION_RECONNECT_MS * (gint64)1000;
    session_schedule_retry(s, 100);
}

static void session_display_done(GObject *src, GAsyncResult *res, gpointer p)
{
    struct hostel_vm_session *s = p;
    struct hostel_fb fb = { 0 };
    GError *err = NULL;
    if (hostel_vm_get_display_finish(G_DBUS_CONNECTION(src), res, &fb, &err)) {
        if (s->ops)
            s->ops->display(s->data, &fb);
        hostel_fb_unmap(&fb);   /* only if the callee did not take it */
    } else if (s->ops && !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
               !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
        char *why = hostel_vm_error_sentence(err);
        s->ops->error(s->data, _("The VM’s screen cannot be shown"), why);
        g_free(why);
    }
    g_clear_error(&err);
    session_unref(s);
}

static void session_fetch_display(struct hostel_vm_session *s)
{
    if (s->conn)
        hostel_vm_get_display(s->conn, s->cancel, session_display_done, session_ref(s));
}

static void session_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                           const char *signal, GVariant *params, gpointer p)
{
    struct hostel_vm_session *s = p;
    if (!s->ops)
        return;
    if (g_strcmp0(signal, "Damage") == 0 && g_variant_is_of_type(params, G_VARIANT_TYPE("(a(uuuu))"))) {
        GVariantIter *it;
        guint32 x, y, w, h;
        g_variant_get(params, "(a(uuuu))", &it);
        while (g_variant_iter_next(it, "(uuuu)", &x, &y, &w, &h))
            s->ops->damage(s->data, x, y, w, h);
        g_variant_iter_free(it);
    } else if (g_strcmp0(signal, "DisplayChanged") == 0) {
        session_fetch_display(s);
    } else if (g_strcmp0(signal, "PointerModeChanged") == 0 && g_variant_is_of_type(params, G_VARIANT_TYPE("(b)"))) {
        gboolean absolute;
        g_variant_get(params, "(b)", &absolute);
        s->ops->pointer_mode(s->data, absolute);
    } else if (g_strcmp0(signal, "StateChanged") == 0 && g_variant_is_of_type(params, G_VARIANT_TYPE("(ss)"))) {
        const char *state, *reason;
        g_variant_get(params, "(&s&s)", &state, &reason);
        enum hostel_vm_status st = hostel_vm_status_from_state(state);
        if (st == HOSTEL_VM_STATUS_STOPPED) {
            s->stop_seen = TRUE;
            g_free(s->stop_reason);
            s->stop_reason = g_strdup(reason);
        }
        if (st != HOSTEL_VM_STATUS_UNKNOWN)
            session_status(s, st);
    }
}

static void session_state_done(GObject *src, GAsyncResult *res, gpointer p)
{
    struct hostel_vm_session *s = p;
    GError *err = NULL;
    enum hostel_vm_status st = hostel_vm_get_state_finish(G_DBUS_CONNECTION(src), res, &err);
    s->ping_busy = FALSE;
    if (!err)
        session_status(s, st);
    else if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        session_status(s, HOSTEL_VM_STATUS_NOT_RESPONDING);
    g_clear_error(&err);
    session_unref(s);
}

static gboolean session_ping(gpointer p)
{
    struct hostel_vm_session *s = p;
    if (s->conn && !s->ping_busy) {
        s->ping_busy = TRUE;
        hostel_vm_get_state(s->conn, s->cancel, session_state_done, session_ref(s));
    }
    return G_SOURCE_CONTINUE;
}

/* PointerAbsolute at connect: a VM without it (an older hostel-vm) has no
 * absolute pointer. */
static void session_pointer_mode_done(GObject *src, GAsyncResult *res, gpointer p)
{
    struct hostel_vm_session *s = p;
    GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, NULL);
    gboolean absolute = FALSE;
    if (reply) {
        GVariant *v = NULL;
        g_variant_get(reply, "(v)", &v);
        absolute = g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean(v);
        g_variant_unref(v);
        g_variant_unref(reply);
    }
    if (s->ops)
        s->ops->pointer_mode(s->data, absolute);
    session_unref(s);
}

static void session_connected(GObject *src, GAsyncResult *res, gpointer p)
{
    struct hostel_vm_session *s = p;
    GError *err = NULL;
    GDBusConnection *c = hostel_vm_connect_finish(res, &err);
    if (!s->ops) {
        if (c) {
            g_dbus_connection_close(c, NULL, NULL, NULL);
            g_object_unref(c);
        }
        g_clear_error(&err);
        session_unref(s);
        return;
    }
    if (!c) {
        gboolean hung = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
        g_error_free(err);
        if (hung) {
            /* Its socket is there but nobody answers: keep trying. */
            session_status(s, HOSTEL_VM_STATUS_NOT_RESPONDING);
            session_schedule_retry(s, 1000);
        } else if (s->reconnect_deadline && g_get_monotonic_time() < s->reconnect_deadline) {
            session_schedule_retry(s, 250);
        } else {
            session_finish(s);
        }
        session_unref(s);
        return;
    }
    s->conn = c;
    s->was_connected = TRUE;
    s->reconnect_deadline = 0;
    /* Connected again after a reset: the old stop was not the end. */
    s->stop_seen = FALSE;
    s->signal_id = g_dbus_connection_signal_subscribe(c, NULL, HOSTEL_VM_INTERFACE, NULL, HOSTEL_VM_OBJECT_PATH,
                                                      NULL, G_DBUS_SIGNAL_FLAGS_NONE, session_signal,
                                                      session_ref(s), session_unref);
    s->closed_id = g_signal_connect(c, "closed", G_CALLBACK(session_closed), s);
    s->ping_timer = g_timeout_add(HOSTEL_VM_SESSION_PING_MS, session_ping, s);
    s->ping_busy = TRUE;
    hostel_vm_get_state(c, s->cancel, session_state_done, session_ref(s));
    g_dbus_connection_call(c, NULL, HOSTEL_VM_OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get",
                           g_variant_new("(ss)", HOSTEL_VM_INTERFACE, "PointerAbsolute"), G_VARIANT_TYPE("(v)"),
                           G_DBUS_CALL_FLAGS_NONE, HOSTEL_VM_CALL_TIMEOUT_MS, s->cancel, session_pointer_mode_done,
                           session_ref(s));
    session_fetch_display(s);
    session_unref(s);
}

static void session_connect(struct hostel_vm_session *s)
{
    if (s->conn || !s->ops)
        return;
    hostel_vm_connect(s->socket, HOSTEL_VM_CONNECT_TIMEOUT_MS, s->cancel, session_connected, session_ref(s));
}

struct hostel_vm_session *hostel_vm_session_new(const char *socket_path, const char *log_path,
                                                const struct hostel_vm_session_ops *ops, gpointer data)
{
    struct hostel_vm_session *s = g_new0(struct hostel_vm_session, 1);
    s->refs = 1;
    s->ops = ops;
    s->data = data;
    s->socket = g_strdup(socket_path);
    s->log = g_strdup(log_path);
    s->cancel = g_cancellable_new();
    s->status = HOSTEL_VM_STATUS_UNKNOWN;
    session_connect(s);
    return s;
}

void hostel_vm_session_free(struct hostel_vm_session *s)
{
    if (!s)
        return;
    s->ops = NULL;
    g_cancellable_cancel(s->cancel);
    if (s->retry_timer)
        g_source_remove(s->retry_timer);
    s->retry_timer = 0;
    session_drop_connection(s);
    session_unref(s);
}

struct user_call {
    struct hostel_vm_session *s;
    char *primary;
};

static void session_call_done(GObject *src, GAsyncResult *res, gpointer p)
{
    struct user_call *uc = p;
    GError *err = NULL;
    GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
    if (reply)
        g_variant_unref(reply);
    if (err && uc->s->ops && !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        char *why = hostel_vm_error_sentence(err);
        uc->s->ops->error(uc->s->data, uc->primary, why);
        g_free(why);
    }
    g_clear_error(&err);
    session_unref(uc->s);
    g_free(uc->primary);
    g_free(uc);
}

void hostel_vm_session_call(struct hostel_vm_session *s, const char *method, GVariant *args,
                            const char *failure_primary)
{
    if (!s->conn) {
        if (args)
            g_variant_unref(g_variant_ref_sink(args));
        if (s->ops)
            s->ops->error(s->data, failure_primary, _("Hostel is not connected to the VM right now."));
        return;
    }
    if (g_strcmp0(method, "Shutdown") == 0 || g_strcmp0(method, "PowerOff") == 0)
        s->stop_requested = TRUE;
    struct user_call *uc = g_new0(struct user_call, 1);
    uc->s = session_ref(s);
    uc->primary = g_strdup(failure_primary);
    hostel_vm_call(s->conn, method, args, NULL, s->cancel, session_call_done, uc);
}

static void session_input_done(GObject *src, GAsyncResult *res, gpointer p)
{
    GError *err = NULL;
    GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
    if (reply)
        g_variant_unref(reply);
    if (err && !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug("hostel: input not delivered: %s", err->message);
    g_clear_error(&err);
}

void hostel_vm_session_send_key(struct hostel_vm_session *s, unsigned code, gboolean pressed)
{
    if (s->conn)
        hostel_vm_call(s->conn, "SendKey", g_variant_new("(ub)", code, pressed), NULL, s->cancel,
                       session_input_done, NULL);
}

void hostel_vm_session_mouse(struct hostel_vm_session *s, int dx, int dy, int dz, guint32 buttons)
{
    if (s->conn)
        hostel_vm_call(s->conn, "MouseEvent", g_variant_new("(iiiu)", dx, dy, dz, buttons), NULL, s->cancel,
                       session_input_done, NULL);
}

void hostel_vm_session_pointer(struct hostel_vm_session *s, unsigned x, unsigned y, int dz, guint32 buttons)
{
    if (s->conn)
        hostel_vm_call(s->conn, "PointerEvent", g_variant_new("(uuiu)", x, y, dz, buttons), NULL, s->cancel,
                       session_input_done, NULL);
}
