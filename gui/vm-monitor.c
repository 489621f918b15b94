#include "vm-monitor.h"

#include <gio/gio.h>

struct monitor_entry {
    int refs;                       /* the table's, and one per poll in flight */
    struct hostel_vm_monitor *m;    /* NULL once dropped from the table */
    char *uuid;
    char *socket;
    enum hostel_vm_status status;
    gboolean busy;
    gboolean seen;
    GCancellable *cancel;
    GDBusConnection *conn;
};

struct hostel_vm_monitor {
    hostel_vm_monitor_fn fn;
    gpointer data;
    GHashTable *entries;            /* uuid -> struct monitor_entry */
    guint timer;
};

static struct monitor_entry *entry_ref(struct monitor_entry *e)
{
    e->refs++;
    return e;
}

static void entry_unref(gpointer p)
{
    struct monitor_entry *e = p;
    if (--e->refs > 0)
        return;
    g_free(e->uuid);
    g_free(e->socket);
    g_clear_object(&e->cancel);
    g_clear_object(&e->conn);
    g_free(e);
}

/* Dropped from the table: stop what is in flight. */
static void entry_drop(gpointer p)
{
    struct monitor_entry *e = p;
    e->m = NULL;
    g_cancellable_cancel(e->cancel);
    entry_unref(e);
}

static void entry_report(struct monitor_entry *e, enum hostel_vm_status s, cairo_surface_t *preview)
{
    if (!e->m)
        return;
    gboolean changed = s != e->status;
    e->status = s;
    if (changed || preview)
        e->m->fn(e->uuid, s, preview, e->m->data);
}

/* The end of one poll: report, close the connection, release the entry. */
static void poll_finish(struct monitor_entry *e, enum hostel_vm_status s, cairo_surface_t *preview)
{
    if (e->conn) {
        g_dbus_connection_close(e->conn, NULL, NULL, NULL);
        g_clear_object(&e->conn);
    }
    e->busy = FALSE;
    /* A "Starting…" set meanwhile wins over what this poll saw. */
    if (e->m && e->status != HOSTEL_VM_STATUS_STARTING)
        entry_report(e, s, preview);
    entry_unref(e);
}

static enum hostel_vm_status status_of_error(const GError *err, enum hostel_vm_status otherwise)
{
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        return HOSTEL_VM_STATUS_NOT_RESPONDING;
    return otherwise;
}

static void poll_display_done(GObject *src, GAsyncResult *res, gpointer data)
{
    struct monitor_entry *e = data;
    struct hostel_fb fb = { 0 };
    GError *err = NULL;
    cairo_surface_t *thumb = NULL;
    if (hostel_vm_get_display_finish(G_DBUS_CONNECTION(src), res, &fb, &err)) {
        thumb = hostel_fb_thumbnail(&fb, HOSTEL_VM_MONITOR_PREVIEW_W, HOSTEL_VM_MONITOR_PREVIEW_H);
        hostel_fb_unmap(&fb);
    }
    /* The state is known already; a screen that did not come only means
     * no preview this time. */
    gboolean hung = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    g_clear_error(&err);
    poll_finish(e, hung ? HOSTEL_VM_STATUS_NOT_RESPONDING : e->status, thumb);
    if (thumb)
        cairo_surface_destroy(thumb);
}

static void poll_state_done(GObject *src, GAsyncResult *res, gpointer data)
{
    struct monitor_entry *e = data;
    GError *err = NULL;
    enum hostel_vm_status s = hostel_vm_get_state_finish(G_DBUS_CONNECTION(src), res, &err);
    if (err) {
        /* Closed while asking: it is stopping. */
        s = status_of_error(err, HOSTEL_VM_STATUS_STOPPED);
        g_error_free(err);
        poll_finish(e, s, NULL);
        return;
    }
    if (s == HOSTEL_VM_STATUS_STOPPED || !e->m) {
        poll_finish(e, s, NULL);
        return;
    }
    /* Report the state at once, then fetch the preview. */
    if (e->status != HOSTEL_VM_STATUS_STARTING)
        entry_report(e, s, NULL);
    hostel_vm_get_display(e->conn, e->cancel, poll_display_done, e);
}

static void poll_connected(GObject *src, GAsyncResult *res, gpointer data)
{
    struct monitor_entry *e = data;
    GError *err = NULL;
    e->conn = hostel_vm_connect_finish(res, &err);
    if (!e->conn) {
        /* A socket nobody listens on is what a crashed VM leaves. */
        enum hostel_vm_status s = status_of_error(err, HOSTEL_VM_STATUS_STOPPED);
        g_error_free(err);
        poll_finish(e, s, NULL);
        return;
    }
    hostel_vm_get_state(e->conn, e->cancel, poll_state_done, e);
}

static void entry_poll(struct monitor_entry *e)
{
    if (e->busy || !e->m || e->status == HOSTEL_VM_STATUS_STARTING)
        return;
    if (!g_file_test(e->socket, G_FILE_TEST_EXISTS)) {
        entry_report(e, HOSTEL_VM_STATUS_STOPPED, NULL);
        return;
    }
    e->busy = TRUE;
    hostel_vm_connect(e->socket, HOSTEL_VM_CONNECT_TIMEOUT_MS, e->cancel, poll_connected, entry_ref(e));
}

static gboolean monitor_tick(gpointer data)
{
    struct hostel_vm_monitor *m = data;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, m->entries);
    while (g_hash_table_iter_next(&it, NULL, &v))
        entry_poll(v);
    return G_SOURCE_CONTINUE;
}

struct hostel_vm_monitor *hostel_vm_monitor_new(hostel_vm_monitor_fn fn, gpointer data)
{
    struct hostel_vm_monitor *m = g_new0(struct hostel_vm_monitor, 1);
    m->fn = fn;
    m->data = data;
    m->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_drop);
    m->timer = g_timeout_add(HOSTEL_VM_MONITOR_POLL_MS, monitor_tick, m);
    return m;
}

void hostel_vm_monitor_begin_update(struct hostel_vm_monitor *m)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, m->entries);
    while (g_hash_table_iter_next(&it, NULL, &v))
        ((struct monitor_entry *)v)->seen = FALSE;
}

void hostel_vm_monitor_watch(struct hostel_vm_monitor *m, const char *uuid, const char *socket_path)
{
    struct monitor_entry *e = g_hash_table_lookup(m->entries, uuid);
    if (e && g_strcmp0(e->socket, socket_path) == 0) {
        e->seen = TRUE;
        return;
    }
    if (e)
        g_hash_table_remove(m->entries, uuid);
    e = g_new0(struct monitor_entry, 1);
    e->refs = 1;
    e->m = m;
    e->uuid = g_strdup(uuid);
    e->socket = g_strdup(socket_path);
    e->cancel = g_cancellable_new();
    e->seen = TRUE;
    g_hash_table_insert(m->entries, e->uuid, e);
    entry_poll(e);
}

void hostel_vm_monitor_prune(struct hostel_vm_monitor *m)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, m->entries);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!((struct monitor_entry *)v)->seen)
            g_hash_table_iter_remove(&it);
}

void hostel_vm_monitor_poke(struct hostel_vm_monitor *m, const char *uuid)
{
    struct monitor_entry *e = g_hash_table_lookup(m->entries, uuid);
    if (e)
        entry_poll(e);
}

void hostel_vm_monitor_set_status(struct hostel_vm_monitor *m, const char *uuid, enum hostel_vm_status s)
{
    struct monitor_entry *e = g_hash_table_lookup(m->entries, uuid);
    if (!e)
        return;
    if (s == HOSTEL_VM_STATUS_STARTING || e->status == HOSTEL_VM_STATUS_STARTING)
        e->status = HOSTEL_VM_STATUS_UNKNOWN;   /* so the report below always goes out */
    entry_report(e, s, NULL);
    if (s != HOSTEL_VM_STATUS_STARTING)
        entry_poll(e);
}

enum hostel_vm_status hostel_vm_monitor_status(struct hostel_vm_monitor *m, const char *uuid)
{
    struct monitor_entry *e = g_hash_table_lookup(m->entries, uuid);
    return e ? e->status : HOSTEL_VM_STATUS_UNKNOWN;
}

void hostel_vm_monitor_free(struct hostel_vm_monitor *m)
{
    if (!m)
        return;
    g_source_remove(m->timer);
    g_hash_table_destroy(m->entries);
    g_free(m);
}
