#include "app.h"

#include <glib/gi18n.h>

#include "dialogs.h"
#include "main-window.h"
#include "prefs.h"
#include "vm-start.h"
#include "vm-window.h"
#include "vmdef.h"
#include "vmrun.h"

struct _HostelApp {
    GtkApplication parent;
    GSettings *settings;
    struct ospresets *presets;
    gboolean presets_done;
    GPtrArray *presets_waiters;     /* struct presets_waiter */
    GtkWidget *main_window;         /* weak */
    GHashTable *vm_windows;         /* uuid -> HostelVmWindow (weak) */
};

G_DEFINE_TYPE(HostelApp, hostel_app, GTK_TYPE_APPLICATION)

struct presets_waiter {
    hostel_presets_fn fn;
    gpointer data;
    GDestroyNotify destroy;
};

GSettings *hostel_app_get_settings(HostelApp *app)
{
    return app->settings;
}

const struct ospresets *hostel_app_get_presets(HostelApp *app)
{
    return app->presets;
}

/* ---- OS presets, loaded on a worker thread ---- */

static void presets_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    GError *err = NULL;
    struct ospresets *p = ospresets_load(&err);
    if (p)
        g_task_return_pointer(task, p, (GDestroyNotify)ospresets_free);
    else
        g_task_return_error(task, err);
}

static void presets_loaded(GObject *src, GAsyncResult *res, gpointer data)
{
    HostelApp *app = HOSTEL_APP(src);
    GError *err = NULL;
    app->presets = g_task_propagate_pointer(G_TASK(res), &err);
    if (!app->presets) {
        g_message("hostel: no OS presets, the OS is entered by its id (%s)", err->message);
        g_error_free(err);
    }
    app->presets_done = TRUE;
    for (guint i = 0; i < app->presets_waiters->len; i++) {
        struct presets_waiter *w = g_ptr_array_index(app->presets_waiters, i);
        w->fn(app, app->presets, w->data);
    }
    g_ptr_array_set_size(app->presets_waiters, 0);
    hostel_app_vms_changed(app, NULL);      /* OS names in the list */
}

static void presets_waiter_free(gpointer p)
{
    struct presets_waiter *w = p;
    if (w->destroy)
        w->destroy(w->data);
    g_free(w);
}

void hostel_app_when_presets(HostelApp *app, hostel_presets_fn fn, gpointer data, GDestroyNotify destroy)
{
    if (app->presets_done) {
        fn(app, app->presets, data);
        if (destroy)
            destroy(data);
        return;
    }
    struct presets_waiter *w = g_new0(struct presets_waiter, 1);
    w->fn = fn;
    w->data = data;
    w->destroy = destroy;
    g_ptr_array_add(app->presets_waiters, w);
}

char *hostel_app_os_label(HostelApp *app, const char *os_id)
{
    if (!os_id || !*os_id)
        return g_strdup(_("Operating system not set"));
    const struct ospreset *p = app->presets ? ospresets_lookup(app->presets, os_id) : NULL;
    return g_strdup(p ? p->name : os_id);
}

/* ---- windows ---- */

GtkWindow *hostel_app_get_vm_window(HostelApp *app, const char *uuid)
{
    return uuid ? g_hash_table_lookup(app->vm_windows, uuid) : NULL;
}

static void app_vm_window_destroyed(GtkWidget *w, gpointer data)
{
    HostelApp *app = data;
    const char *uuid = hostel_vm_window_get_uuid(HOSTEL_VM_WINDOW(w));
    if (g_hash_table_lookup(app->vm_windows, uuid) == w)
        g_hash_table_remove(app->vm_windows, uuid);
}

void hostel_app_vms_changed(HostelApp *app, const char *select_uuid)
{
    if (app->main_window)
        hostel_main_window_reload(HOSTEL_MAIN_WINDOW(app->main_window), select_uuid);
}

void hostel_app_vm_status(HostelApp *app, const char *uuid, enum hostel_vm_status s)
{
    if (app->main_window)
        hostel_main_window_set_status(HOSTEL_MAIN_WINDOW(app->main_window), uuid, s);
}

GtkWindow *hostel_app_error_parent(HostelApp *app)
{
    GtkWindow *w = gtk_application_get_active_window(GTK_APPLICATION(app));
    return w ? w : (GtkWindow *)app->main_window;
}

/* ---- opening a VM's window ---- */

struct open_op {
    HostelApp *app;
    char *uuid;
    char *name;
    char *def_path;
    gboolean start;
    GApplicationCommandLine *cmdline;
};

static void open_op_free(struct open_op *op)
{
    g_application_release(G_APPLICATION(op->app));
    g_object_unref(op->app);
    g_free(op->uuid);
    g_free(op->name);
    g_free(op->def_path);
    g_clear_object(&op->cmdline);
    g_free(op);
}

static void open_fail(HostelApp *app, GApplicationCommandLine *cmdline, const char *primary, const char *why)
{
    if (cmdline) {
        g_application_command_line_printerr(cmdline, "hostel: %s: %s\n", primary, why);
        g_application_command_line_set_exit_status(cmdline, 1);
    }
    GtkWindow *parent = hostel_app_error_parent(app);
    GtkWidget *d = hostel_error_dialog(parent, primary, why);
    /* Without a window (hostel --vm) the dialog keeps the application up. */
    if (!parent)
        gtk_window_set_application(GTK_WINDOW(d), GTK_APPLICATION(app));
}

static void open_window(struct open_op *op)
{
    GError *err = NULL;
    struct vmdef *d = vmdef_load(op->def_path, &err);
    if (!d) {
        char *primary = g_strdup_printf(_("“%s” cannot be opened"), op->name);
        open_fail(op->app, op->cmdline, primary, err->message);
        g_free(primary);
        g_error_free(err);
        return;
    }
    GtkWindow *w = hostel_app_get_vm_window(op->app, d->uuid);
    if (!w) {
        w = GTK_WINDOW(hostel_vm_window_new(op->app, d));
        g_hash_table_insert(op->app->vm_windows, g_strdup(d->uuid), w);
        g_signal_connect(w, "destroy", G_CALLBACK(app_vm_window_destroyed), op->app);
    }
    gtk_window_present(w);
    vmdef_free(d);
}

static void open_started(GObject *src, GAsyncResult *res, gpointer data)
{
    struct open_op *op = data;
    GError *err = NULL;
    if (hostel_vm_start_finish(res, &err)) {
        hostel_app_vm_status(op->app, op->uuid, HOSTEL_VM_STATUS_RUNNING);
        open_window(op);
    } else {
        hostel_app_vm_status(op->app, op->uuid, HOSTEL_VM_STATUS_STOPPED);
        char *primary = g_strdup_printf(_("“%s” could not start"), op->name);
        open_fail(op->app, op->cmdline, primary, err->message);
        g_free(primary);
        g_error_free(err);
    }
    open_op_free(op);
}

/* Is it running? A connection that works (or hangs) says yes. */
static void open_probed(GObject *src, GAsyncResult *res, gpointer data)
{
    struct open_op *op = data;
    GError *err = NULL;
    GDBusConnection *c = hostel_vm_connect_finish(res, &err);
    if (c || g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
        if (c) {
            g_dbus_connection_close(c, NULL, NULL, NULL);
            g_object_unref(c);
        }
        g_clear_error(&err);
        open_window(op);
        open_op_free(op);
        return;
    }
    g_clear_error(&err);
    if (!op->start) {
        char *primary = g_strdup_printf(_("“%s” is not running"), op->name);
        open_fail(op->app, op->cmdline, primary, _("Start it first."));
        g_free(primary);
        open_op_free(op);
        return;
    }
    hostel_app_vm_status(op->app, op->uuid, HOSTEL_VM_STATUS_STARTING);
    hostel_vm_start(op->def_path, NULL, open_started, op);
}

gboolean hostel_app_open_vm(HostelApp *app, const char *name_or_uuid, gboolean start,
                            GApplicationCommandLine *cmdline)
{
    GError *err = NULL;
    struct vmdef *d = vmlib_find(name_or_uuid, &err);
    if (!d) {
        char *primary = g_strdup_printf(_("“%s” cannot be opened"), name_or_uuid);
        open_fail(app, cmdline, primary, err->message);
        g_free(primary);
        g_error_free(err);
        return FALSE;
    }
    GtkWindow *w = hostel_app_get_vm_window(app, d->uuid);
    if (w) {
        gtk_window_present(w);
        vmdef_free(d);
        return TRUE;
    }
    struct open_op *op = g_new0(struct open_op, 1);
    op->app = g_object_ref(app);
    op->uuid = g_strdup(d->uuid);
    op->name = g_strdup(d->name);
    op->def_path = g_strdup(d->path);
    op->start = start;
    op->cmdline = cmdline ? g_object_ref(cmdline) : NULL;
    g_application_hold(G_APPLICATION(app));
    char *socket = vmrun_socket_path(d);
    vmdef_free(d);
    hostel_vm_connect(socket, HOSTEL_VM_CONNECT_TIMEOUT_MS, NULL, open_probed, op);
    g_free(socket);
    return TRUE;
}

/* ---- application ---- */

static void app_quit(GSimpleAction *a, GVariant *p, gpointer data)
{
    GList *windows = g_list_copy(gtk_application_get_windows(GTK_APPLICATION(data)));
    for (GList *l = windows; l; l = l->next)
        gtk_window_close(l->data);
    g_list_free(windows);
}

static void app_about(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelApp *app = data;
    static const char *authors[] = { "The Hostel developers", NULL };
    gtk_show_about_dialog(hostel_app_error_parent(app),
                          "program-name", _("Hostel"),
                          "logo-icon-name", HOSTEL_APP_ID,
                          "version", HOSTEL_VERSION,
                          "comments", _("Run other operating systems in a window"),
                          "license-type", GTK_LICENSE_GPL_2_0,
                          "authors", authors,
                          "translator-credits", _("translator-credits"),
                          NULL);
}

static const GActionEntry app_actions[] = {
    { .name = "quit", .activate = app_quit },
    { .name = "about", .activate = app_about },
};

static void app_startup(GApplication *gapp)
{
    HostelApp *app = HOSTEL_APP(gapp);
    G_APPLICATION_CLASS(hostel_app_parent_class)->startup(gapp);
    g_set_application_name(_("Hostel"));
    gtk_window_set_default_icon_name(HOSTEL_APP_ID);
    app->settings = hostel_prefs_new();
    g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
    static const struct {
        const char *action;
        const char *accels[3];
    } accels[] = {
        { "app.quit", { "<Primary>q", NULL } },
        { "win.new-vm", { "<Primary>n", NULL } },
        { "win.delete", { "Delete", NULL } },
        { "win.settings", { "<Alt>Return", NULL } },
        { "win.show-menu", { "F10", NULL } },
        { "win.fullscreen", { "F11", NULL } },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(accels); i++)
        gtk_application_set_accels_for_action(GTK_APPLICATION(app), accels[i].action, accels[i].accels);
    GTask *task = g_task_new(app, NULL, presets_loaded, NULL);
    g_task_run_in_thread(task, presets_thread);
    g_object_unref(task);
}

static void app_activate(GApplication *gapp)
{
    HostelApp *app = HOSTEL_APP(gapp);
    if (!app->main_window) {
        app->main_window = hostel_main_window_new(app);
        g_object_add_weak_pointer(G_OBJECT(app->main_window), (gpointer *)&app->main_window);
    }
    gtk_window_present(GTK_WINDOW(app->main_window));
}

static int app_command_line(GApplication *gapp, GApplicationCommandLine *cl)
{
    GVariantDict *opts = g_application_command_line_get_options_dict(cl);
    const char *vm = NULL;
    /* The status returned here is the command's; a failure found later
     * (the VM did not start) sets it on cl before cl is let go. */
    if (g_variant_dict_lookup(opts, "vm", "&s", &vm))
        return hostel_app_open_vm(HOSTEL_APP(gapp), vm, TRUE, cl) ? 0 : 1;
    g_application_activate(gapp);
    return 0;
}

static void app_dispose(GObject *o)
{
    HostelApp *app = HOSTEL_APP(o);
    g_clear_object(&app->settings);
    if (app->presets)
        ospresets_free(app->presets);
    app->presets = NULL;
    g_clear_pointer(&app->presets_waiters, g_ptr_array_unref);
    g_clear_pointer(&app->vm_windows, g_hash_table_unref);
    G_OBJECT_CLASS(hostel_app_parent_class)->dispose(o);
}

static void hostel_app_class_init(HostelAppClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = app_dispose;
    G_APPLICATION_CLASS(klass)->startup = app_startup;
    G_APPLICATION_CLASS(klass)->activate = app_activate;
    G_APPLICATION_CLASS(klass)->command_line = app_command_line;
}

static void hostel_app_init(HostelApp *app)
{
    app->presets_waiters = g_ptr_array_new_with_free_func(presets_waiter_free);
    app->vm_windows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    static const GOptionEntry options[] = {
        { "vm", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
          N_("Open the window of the virtual machine NAME, starting it if it is stopped"), N_("NAME") },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_application_add_main_option_entries(G_APPLICATION(app), options);
}

HostelApp *hostel_app_new(void)
{
    return g_object_new(HOSTEL_TYPE_APP, "application-id", HOSTEL_APP_ID, "flags",
                        G_APPLICATION_HANDLES_COMMAND_LINE, NULL);
}
