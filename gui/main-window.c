#include "main-window.h"

#include <glib/gi18n.h>

#include "dialogs.h"
#include "new-vm-assistant.h"
#include "prefs.h"
#include "settings-dialog.h"
#include "vm-monitor.h"
#include "vm-row.h"
#include "vm-window.h"
#include "vmdef.h"
#include "vmrun.h"

/* What the details pane shows of a VM, read at the last reload. */
struct vm_info {
    char *uuid;
    char *name;
    char *os_label;
    char *path;
    char *socket;
    unsigned memory_mib;
    unsigned cpus;
    char *disk;
    char *cdrom;
};

struct _HostelMainWindow {
    GtkApplicationWindow parent;
    HostelApp *app;
    GtkWidget *list;
    GtkWidget *details_stack;
    GtkWidget *name_label;
    GtkWidget *preview;
    GtkWidget *state_value;
    GtkWidget *os_value;
    GtkWidget *memory_value;
    GtkWidget *cpus_value;
    GtkWidget *disk_value;
    GtkWidget *cdrom_value;
    GtkWidget *start_button;
    GtkWidget *pause_button;
    GtkWidget *menu_button;
    GtkWidget *problems_bar;
    GtkWidget *problems_label;
    GHashTable *vms;                /* uuid -> struct vm_info */
    struct hostel_vm_monitor *monitor;
    GFileMonitor *dir_monitor;
    guint reload_timer;
    GCancellable *cancel;
};

G_DEFINE_TYPE(HostelMainWindow, hostel_main_window, GTK_TYPE_APPLICATION_WINDOW)

static void vm_info_free(gpointer p)
{
    struct vm_info *i = p;
    g_free(i->uuid);
    g_free(i->name);
    g_free(i->os_label);
    g_free(i->path);
    g_free(i->socket);
    g_free(i->disk);
    g_free(i->cdrom);
    g_free(i);
}

static HostelVmRow *main_window_selected_row(HostelMainWindow *w)
{
    GtkListBoxRow *r = gtk_list_box_get_selected_row(GTK_LIST_BOX(w->list));
    return r ? HOSTEL_VM_ROW(r) : NULL;
}

static struct vm_info *main_window_selected(HostelMainWindow *w)
{
    HostelVmRow *row = main_window_selected_row(w);
    return row ? g_hash_table_lookup(w->vms, hostel_vm_row_get_uuid(row)) : NULL;
}

static HostelVmRow *main_window_find_row(HostelMainWindow *w, const char *uuid)
{
    GList *rows = gtk_container_get_children(GTK_CONTAINER(w->list));
    HostelVmRow *found = NULL;
    for (GList *l = rows; l && !found; l = l->next)
        if (g_strcmp0(hostel_vm_row_get_uuid(l->data), uuid) == 0)
            found = l->data;
    g_list_free(rows);
    return found;
}

static void main_window_enable(HostelMainWindow *w, const char *action, gboolean on)
{
    GAction *a = g_action_map_lookup_action(G_ACTION_MAP(w), action);
    g_simple_action_set_enabled(G_SIMPLE_ACTION(a), on);
}

/* Buttons and details for the selected VM and its state. */
static void main_window_update_details(HostelMainWindow *w)
{
    HostelVmRow *row = main_window_selected_row(w);
    struct vm_info *i = main_window_selected(w);
    enum hostel_vm_status s = row ? hostel_vm_row_get_status(row) : HOSTEL_VM_STATUS_UNKNOWN;
    gboolean live = hostel_vm_status_is_live(s);
    gboolean busy = s == HOSTEL_VM_STATUS_STARTING || s == HOSTEL_VM_STATUS_UNKNOWN;
    main_window_enable(w, "start", i && !busy);
    main_window_enable(w, "pause", i && (s == HOSTEL_VM_STATUS_RUNNING || s == HOSTEL_VM_STATUS_PAUSED));
    main_window_enable(w, "shutdown", i && s == HOSTEL_VM_STATUS_RUNNING);
    main_window_enable(w, "power-off", i && live);
    main_window_enable(w, "settings", i != NULL);
    main_window_enable(w, "delete", i && !live && !busy);
    gtk_button_set_label(GTK_BUTTON(w->pause_button), s == HOSTEL_VM_STATUS_PAUSED ? _("_Resume") : _("_Pause"));
    /* A running VM's button brings its window up. */
    gtk_button_set_label(GTK_BUTTON(w->start_button), live ? _("_Show") : _("_Start"));
    gtk_stack_set_visible_child_name(GTK_STACK(w->details_stack), i ? "details" : "empty");
    if (!i)
        return;
    gtk_label_set_text(GTK_LABEL(w->name_label), i->name);
    gtk_label_set_text(GTK_LABEL(w->state_value), hostel_vm_status_label(s));
    gtk_label_set_text(GTK_LABEL(w->os_value), i->os_label);
    char *mem = g_strdup_printf(_("%u MiB"), i->memory_mib);
    gtk_label_set_text(GTK_LABEL(w->memory_value), mem);
    g_free(mem);
    char *cpus = g_strdup_printf("%u", i->cpus);
    gtk_label_set_text(GTK_LABEL(w->cpus_value), cpus);
    g_free(cpus);
    gtk_label_set_text(GTK_LABEL(w->disk_value), i->disk ? i->disk : _("None"));
    gtk_label_set_text(GTK_LABEL(w->cdrom_value), i->cdrom ? i->cdrom : _("Empty"));
    gtk_widget_queue_draw(w->preview);
}

static gboolean main_window_draw_preview(GtkWidget *area, cairo_t *cr, HostelMainWindow *w)
{
    HostelVmRow *row = main_window_selected_row(w);
    if (row)
        hostel_preview_draw(cr, hostel_vm_row_get_preview(row), gtk_widget_get_allocated_width(area),
                            gtk_widget_get_allocated_height(area));
    return TRUE;
}

static void main_window_monitor_report(const char *uuid, enum hostel_vm_status s, cairo_surface_t *preview,
                                       gpointer data)
{
    HostelMainWindow *w = data;
    HostelVmRow *row = main_window_find_row(w, uuid);
    if (!row)
        return;
    hostel_vm_row_set_status(row, s);
    if (preview && hostel_vm_status_is_live(s))
        hostel_vm_row_set_preview(row, preview);
    if (row == main_window_selected_row(w))
        main_window_update_details(w);
}

void hostel_main_window_set_status(HostelMainWindow *w, const char *uuid, enum hostel_vm_status s)
{
    hostel_vm_monitor_set_status(w->monitor, uuid, s);
}

static struct vm_info *vm_info_new(HostelMainWindow *w, struct vmdef *d)
{
    struct vm_info *i = g_new0(struct vm_info, 1);
    i->uuid = g_strdup(d->uuid);
    i->name = g_strdup(d->name);
    i->os_label = hostel_app_os_label(w->app, d->os);
    i->path = g_strdup(d->path);
    i->socket = vmrun_socket_path(d);
    i->memory_mib = d->memory_mib;
    i->cpus = d->cpus;
    i->disk = d->ndisks ? vmdef_resolve(d, d->disks[0].file) : NULL;
    i->cdrom = d->cdrom ? vmdef_resolve(d, d->cdrom) : NULL;
    return i;
}

void hostel_main_window_reload(HostelMainWindow *w, const char *select_uuid)
{
    HostelVmRow *sel = main_window_selected_row(w);
    char *keep = g_strdup(select_uuid ? select_uuid : sel ? hostel_vm_row_get_uuid(sel) : NULL);
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *defs = vmlib_list(problems);

    /* Rows keep their state and preview across a reload. */
    GHashTable *old = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GList *rows = gtk_container_get_children(GTK_CONTAINER(w->list));
    for (GList *l = rows; l; l = l->next) {
        HostelVmRow *r = l->data;
        g_hash_table_insert(old, g_strdup(hostel_vm_row_get_uuid(r)), GINT_TO_POINTER(hostel_vm_row_get_status(r)));
        gtk_container_remove(GTK_CONTAINER(w->list), GTK_WIDGET(r));
    }
    g_list_free(rows);
    g_hash_table_remove_all(w->vms);
    hostel_vm_monitor_begin_update(w->monitor);
    GtkWidget *to_select = NULL;
    for (guint n = 0; n < defs->len; n++) {
        struct vm_info *i = vm_info_new(w, g_ptr_array_index(defs, n));
        g_hash_table_insert(w->vms, i->uuid, i);
        GtkWidget *row = hostel_vm_row_new(i->uuid, i->name, i->os_label);
        gpointer st;
        if (g_hash_table_lookup_extended(old, i->uuid, NULL, &st))
            hostel_vm_row_set_status(HOSTEL_VM_ROW(row), GPOINTER_TO_INT(st));
        gtk_container_add(GTK_CONTAINER(w->list), row);
        if (!to_select || g_strcmp0(i->uuid, keep) == 0)
            to_select = row;
        hostel_vm_monitor_watch(w->monitor, i->uuid, i->socket);
    }
    hostel_vm_monitor_prune(w->monitor);
    if (to_select)
        gtk_list_box_select_row(GTK_LIST_BOX(w->list), GTK_LIST_BOX_ROW(to_select));
    if (problems->len) {
        g_ptr_array_add(problems, NULL);
        char *text = g_strjoinv("\n", (char **)problems->pdata);
        char *msg = g_strdup_printf(_("Some virtual machines could not be read:\n%s"), text);
        gtk_label_set_text(GTK_LABEL(w->problems_label), msg);
        g_free(msg);
        g_free(text);
    }
    gtk_widget_set_visible(w->problems_bar, problems->len > 0);
    g_ptr_array_unref(problems);
    g_ptr_array_unref(defs);
    g_hash_table_unref(old);
    g_free(keep);
    main_window_update_details(w);
}

static void main_window_problems_response(GtkInfoBar *bar, int response, HostelMainWindow *w)
{
    gtk_widget_hide(GTK_WIDGET(bar));
}

static void main_window_row_selected(GtkListBox *list, GtkListBoxRow *row, HostelMainWindow *w)
{
    main_window_update_details(w);
}

/* Double click or Enter: open a running VM's window, start a stopped one. */
static void main_window_row_activated(GtkListBox *list, GtkListBoxRow *row, HostelMainWindow *w)
{
    enum hostel_vm_status s = hostel_vm_row_get_status(HOSTEL_VM_ROW(row));
    if (s != HOSTEL_VM_STATUS_STARTING)
        hostel_app_open_vm(w->app, hostel_vm_row_get_uuid(HOSTEL_VM_ROW(row)), TRUE, NULL);
}

/* ---- the actions ---- */

struct vm_call {
    HostelMainWindow *w;
    char *uuid;
    char *primary;
};

static void main_window_call_done(GObject *src, GAsyncResult *res, gpointer data)
{
    struct vm_call *c = data;
    GError *err = NULL;
    if (!hostel_vm_call_once_finish(res, &err) && !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        char *why = hostel_vm_error_sentence(err);
        hostel_error_dialog(GTK_WINDOW(c->w), c->primary, why);
        g_free(why);
    }
    if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        hostel_vm_monitor_poke(c->w->monitor, c->uuid);
    g_clear_error(&err);
    g_free(c->uuid);
    g_free(c->primary);
    g_free(c);
}

/* A lifecycle call: through the VM's window when it is open (it then knows
 * the stop was asked for), else on a connection of its own. */
static void main_window_vm_call(HostelMainWindow *w, struct vm_info *i, const char *method, const char *primary_fmt)
{
    char *primary = g_strdup_printf(primary_fmt, i->name);
    GtkWindow *vw = hostel_app_get_vm_window(w->app, i->uuid);
    if (vw) {
        hostel_vm_window_call(HOSTEL_VM_WINDOW(vw), method, primary);
        g_free(primary);
        return;
    }
    struct vm_call *c = g_new0(struct vm_call, 1);
    c->w = w;
    c->uuid = g_strdup(i->uuid);
    c->primary = primary;
    hostel_vm_call_once(i->socket, method, NULL, w->cancel, main_window_call_done, c);
}

static void action_start(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelMainWindow *w = data;
    struct vm_info *i = main_window_selected(w);
    if (i)
        hostel_app_open_vm(w->app, i->uuid, TRUE, NULL);
}

static void action_pause(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelMainWindow *w = data;
    HostelVmRow *row = main_window_selected_row(w);
    struct vm_info *i = main_window_selected(w);
    if (!i)
        return;
    if (hostel_vm_row_get_status(row) == HOSTEL_VM_STATUS_PAUSED)
        main_window_vm_call(w, i, "Resume", _("“%s” could not be resumed"));
    else
        main_window_vm_call(w, i, "Pause", _("“%s” could not be paused"));
}

static void action_shutdown(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelMainWindow *w = data;
    struct vm_info *i = main_window_selected(w);
    if (i)
        main_window_vm_call(w, i, "Shutdown", _("“%s” could not be shut down"));
}

/* A confirmation's context: the VM and a reference to the window. */
struct vm_ctx {
    HostelMainWindow *w;
    char *uuid;
};

static struct vm_ctx *ctx_new(HostelMainWindow *w, const char *uuid)
{
    struct vm_ctx *ctx = g_new0(struct vm_ctx, 1);
    ctx->w = g_object_ref(w);
    ctx->uuid = g_strdup(uuid);
    return ctx;
}

static void ctx_free(gpointer p)
{
    struct vm_ctx *ctx = p;
    g_free(ctx->uuid);
    g_object_unref(ctx->w);
    g_free(ctx);
}

static void power_off_confirmed(gboolean accepted, gpointer data)
{
    struct vm_ctx *ctx = data;
    HostelMainWindow *w = ctx->w;
    struct vm_info *i = w->vms ? g_hash_table_lookup(w->vms, ctx->uuid) : NULL;
    if (accepted && i && !gtk_widget_in_destruction(GTK_WIDGET(w)))
        main_window_vm_call(w, i, "PowerOff", _("“%s” could not be powered off"));
}

static void action_power_off(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelMainWindow *w = data;
    struct vm_info *i = main_window_selected(w);
    if (!i)
        return;
    if (!hostel_prefs_get_boolean(hostel_app_get_settings(w->app), "confirm-before-force-off", TRUE)) {
        main_window_vm_call(w, i, "PowerOff", _("“%s” could not be powered off"));
        return;
    }
    char *primary = g_strdup_printf(_("Force “%s” off?"), i->name);
    hostel_confirm_dialog(GTK_WINDOW(w), primary,
                          _("The operating system in it is stopped at once, as when the power is cut; unsaved "
                            "work in it is lost."),
                          _("_Force power off"), TRUE, power_off_confirmed, ctx_new(w, i->uuid), ctx_free);
    g_free(primary);
}

static void action_settings(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelMainWindow *w = data;
    HostelVmRow *row = main_window_selected_row(w);
    struct vm_info *i = main_window_selected(w);
    if (!i)
        return;
    GError *err = NULL;
    GtkWidget *d = hostel_settings_dialog_new(w->app, GTK_WINDOW(w), i->path,
                                              hostel_vm_status_is_live(hostel_vm_row_get_status(row)), &err);
    if (!d) {
        char *primary = g_strdup_printf(_("The settings of “%s” cannot be read"), i->name);
        hostel_error_dialog(GTK_WINDOW(w), primary, err->message);
        g_free(primary);
        g_error_free(err);
        return;
    }
    gtk_window_present(GTK_WINDOW(d));
}

static void delete_confirmed(gboolean accepted, gpointer data)
{
    struct vm_ctx *ctx = data;
    HostelMainWindow *w = ctx->w;
    if (!accepted || gtk_widget_in_destruction(GTK_WIDGET(w)))
        return;
    GError *err = NULL;
    struct vmdef *d = vmlib_find(ctx->uuid, &err);
    if (!d || !vmlib_delete(d, &err)) {
        hostel_error_dialog(GTK_WINDOW(w), _("The virtual machine could not be deleted"), err->message);
        g_error_free(err);
    }
    if (d)
        vmdef_free(d);
    hostel_main_window_reload(w, NULL);
}

static void action_delete(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelMainWindow *w = data;
    struct vm_info *i = main_window_selected(w);
    if (!i)
        return;
    struct vm_ctx *ctx = ctx_new(w, i->uuid);
    if (!hostel_prefs_get_boolean(hostel_app_get_settings(w->app), "confirm-before-delete", TRUE)) {
        delete_confirmed(TRUE, ctx);
        ctx_free(ctx);
        return;
    }
    char *primary = g_strdup_printf(_("Delete “%s”?"), i->name);
    hostel_confirm_dialog(GTK_WINDOW(w), primary,
                          _("Its definition and the disk images in its folder are deleted. This cannot be undone."),
                          _("_Delete"), TRUE, delete_confirmed, ctx, ctx_free);
    g_free(primary);
}

static void action_new_vm(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelMainWindow *w = data;
    gtk_window_present(GTK_WINDOW(hostel_new_vm_assistant_new(w->app, GTK_WINDOW(w))));
}

static void action_show_menu(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelMainWindow *w = data;
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w->menu_button), TRUE);
}

static const GActionEntry main_window_actions[] = {
    { .name = "new-vm", .activate = action_new_vm },
    { .name = "start", .activate = action_start },
    { .name = "pause", .activate = action_pause },
    { .name = "shutdown", .activate = action_shutdown },
    { .name = "power-off", .activate = action_power_off },
    { .name = "settings", .activate = action_settings },
    { .name = "delete", .activate = action_delete },
    { .name = "show-menu", .activate = action_show_menu },
};

/* ---- VMs made or removed elsewhere (hostelctl): reload, a moment later ---- */

static gboolean main_window_reload_later(gpointer data)
{
    HostelMainWindow *w = data;
    w->reload_timer = 0;
    hostel_main_window_reload(w, NULL);
    return G_SOURCE_REMOVE;
}

static void main_window_dir_changed(GFileMonitor *m, GFile *f, GFile *other, GFileMonitorEvent ev, gpointer data)
{
    HostelMainWindow *w = data;
    if (!w->reload_timer)
        w->reload_timer = g_timeout_add(500, main_window_reload_later, w);
}

static void main_window_watch_library(HostelMainWindow *w)
{
    char *dir = vmlib_machines_dir();
    GFile *f = g_file_new_for_path(dir);
    w->dir_monitor = g_file_monitor_directory(f, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
    if (w->dir_monitor)
        g_signal_connect(w->dir_monitor, "changed", G_CALLBACK(main_window_dir_changed), w);
    g_object_unref(f);
    g_free(dir);
}

static gboolean main_window_delete_event(GtkWidget *widget, GdkEventAny *ev)
{
    HostelMainWindow *w = HOSTEL_MAIN_WINDOW(widget);
    hostel_prefs_save_window(hostel_app_get_settings(w->app), GTK_WINDOW(w), "main-window");
    return FALSE;
}

static void main_window_dispose(GObject *o)
{
    HostelMainWindow *w = HOSTEL_MAIN_WINDOW(o);
    if (w->cancel)
        g_cancellable_cancel(w->cancel);
    g_clear_object(&w->cancel);
    g_clear_pointer(&w->monitor, hostel_vm_monitor_free);
    if (w->dir_monitor)
        g_signal_handlers_disconnect_by_data(w->dir_monitor, w);
    g_clear_object(&w->dir_monitor);
    if (w->reload_timer)
        g_source_remove(w->reload_timer);
    w->reload_timer = 0;
    g_clear_pointer(&w->vms, g_hash_table_unref);
    G_OBJECT_CLASS(hostel_main_window_parent_class)->dispose(o);
}

static void hostel_main_window_class_init(HostelMainWindowClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = main_window_dispose;
    wc->delete_event = main_window_delete_event;
    gtk_widget_class_set_template_from_resource(wc, "/org/hostel/Hostel/main-window.ui");
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, list);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, details_stack);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, name_label);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, preview);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, state_value);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, os_value);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, memory_value);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, cpus_value);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, disk_value);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, cdrom_value);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, start_button);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, pause_button);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, menu_button);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, problems_bar);
    gtk_widget_class_bind_template_child(wc, HostelMainWindow, problems_label);
    gtk_widget_class_bind_template_callback(wc, main_window_row_selected);
    gtk_widget_class_bind_template_callback(wc, main_window_row_activated);
    gtk_widget_class_bind_template_callback(wc, main_window_draw_preview);
    gtk_widget_class_bind_template_callback(wc, main_window_problems_response);
}

static void hostel_main_window_init(HostelMainWindow *w)
{
    gtk_widget_init_template(GTK_WIDGET(w));
    w->vms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, vm_info_free);
    w->cancel = g_cancellable_new();
    w->monitor = hostel_vm_monitor_new(main_window_monitor_report, w);
    g_action_map_add_action_entries(G_ACTION_MAP(w), main_window_actions, G_N_ELEMENTS(main_window_actions), w);
}

GtkWidget *hostel_main_window_new(HostelApp *app)
{
    HostelMainWindow *w = g_object_new(HOSTEL_TYPE_MAIN_WINDOW, "application", app, NULL);
    w->app = app;
    hostel_prefs_restore_window(hostel_app_get_settings(app), GTK_WINDOW(w), "main-window", 900, 600);
    main_window_watch_library(w);
    hostel_main_window_reload(w, NULL);
    return GTK_WIDGET(w);
}
