#include "vm-window.h"

#include <glib/gi18n.h>

#include "capture.h"
#include "dialogs.h"
#include "display-widget.h"
#include "input.h"
#include "iso-chooser.h"
#include "prefs.h"
#include "vm-session.h"
#include "vmrun.h"

struct _HostelVmWindow {
    GtkApplicationWindow parent;
    HostelApp *app;
    char *uuid;
    char *name;
    char *def_path;
    GtkWidget *header;
    GtkWidget *viewport;
    GtkWidget *capture_label;
    HostelDisplay *display;
    struct hostel_capture *capture;
    struct hostel_vm_session *session;
    enum hostel_vm_status status;
    char *host_key;
    gboolean fullscreen;
};

G_DEFINE_TYPE(HostelVmWindow, hostel_vm_window, GTK_TYPE_APPLICATION_WINDOW)

const char *hostel_vm_window_get_uuid(HostelVmWindow *w)
{
    return w->uuid;
}

static void vm_window_enable(HostelVmWindow *w, const char *action, gboolean on)
{
    GAction *a = g_action_map_lookup_action(G_ACTION_MAP(w), action);
    if (a)
        g_simple_action_set_enabled(G_SIMPLE_ACTION(a), on);
}

static void vm_window_update_capture_label(HostelVmWindow *w)
{
    char *text;
    gboolean absolute = w->capture && hostel_capture_get_absolute(w->capture);
    if (w->capture && hostel_capture_active(w->capture)) {
        char *key = hostel_input_key_label(w->host_key);
        text = g_strdup_printf(absolute ? _("Press %s to release the keyboard.")
                                        : _("Press %s to release the keyboard and mouse."), key);
        g_free(key);
    } else if (w->status != HOSTEL_VM_STATUS_RUNNING) {
        text = g_strdup(hostel_vm_status_label(w->status));
    } else if (hostel_prefs_get_boolean(hostel_app_get_settings(w->app), "capture-on-click", TRUE)) {
        text = g_strdup(absolute ? _("Click the screen to capture the keyboard; the mouse works without capture.")
                                 : _("Click the screen to capture the keyboard and mouse."));
    } else {
        text = g_strdup(_("Choose Capture keyboard and mouse in the menu to type into the virtual machine."));
    }
    /* Full screen hides the header bar and its menus: the way out is said
     * here (while captured, the key is the guest's). */
    if (w->fullscreen && !(w->capture && hostel_capture_active(w->capture))) {
        char **accels = gtk_application_get_accels_for_action(GTK_APPLICATION(w->app), "win.fullscreen");
        guint key = 0;
        GdkModifierType mods = 0;
        if (accels && accels[0])
            gtk_accelerator_parse(accels[0], &key, &mods);
        g_strfreev(accels);
        if (key) {
            char *label = gtk_accelerator_get_label(key, mods);
            char *hint = g_strdup_printf(_("Press %s to leave full screen."), label);
            char *both = g_strdup_printf("%s %s", text, hint);
            g_free(hint);
            g_free(label);
            g_free(text);
            text = both;
        }
    }
    gtk_label_set_text(GTK_LABEL(w->capture_label), text);
    g_free(text);
}

static void vm_window_set_status(HostelVmWindow *w, enum hostel_vm_status s)
{
    w->status = s;
    gboolean running = s == HOSTEL_VM_STATUS_RUNNING, paused = s == HOSTEL_VM_STATUS_PAUSED;
    gtk_header_bar_set_subtitle(GTK_HEADER_BAR(w->header), hostel_vm_status_label(s));
    vm_window_enable(w, "pause", running || paused);
    vm_window_enable(w, "shutdown", running);
    vm_window_enable(w, "reset", running || paused);
    vm_window_enable(w, "power-off", hostel_vm_status_is_live(s));
    vm_window_enable(w, "send-cad", running);
    vm_window_enable(w, "capture", running);
    vm_window_enable(w, "insert-cd", running || paused);
    vm_window_enable(w, "eject-cd", running || paused);
    vm_window_enable(w, "screenshot", running || paused);
    GAction *pause = g_action_map_lookup_action(G_ACTION_MAP(w), "pause");
    g_simple_action_set_state(G_SIMPLE_ACTION(pause), g_variant_new_boolean(paused));
    if (w->capture)
        hostel_capture_set_sensitive(w->capture, running);
    vm_window_update_capture_label(w);
    if (s != HOSTEL_VM_STATUS_UNKNOWN)
        hostel_app_vm_status(w->app, w->uuid, s);
}

/* ---- what the session reports ---- */

static void on_session_status(gpointer data, enum hostel_vm_status s)
{
    vm_window_set_status(data, s);
}

static void on_session_display(gpointer data, struct hostel_fb *fb)
{
    HostelVmWindow *w = data;
    hostel_display_set_framebuffer(w->display, fb);
}

static void on_session_damage(gpointer data, unsigned x, unsigned y, unsigned width, unsigned height)
{
    HostelVmWindow *w = data;
    hostel_display_damage(w->display, x, y, width, height);
}

static void vm_window_close_later(GtkWidget *dialog, gpointer data)
{
    HostelVmWindow *w = data;
    if (!gtk_widget_in_destruction(GTK_WIDGET(w)))
        gtk_window_close(GTK_WINDOW(w));
}

static void on_session_stopped(gpointer data, const char *reason, gboolean expected)
{
    HostelVmWindow *w = data;
    vm_window_set_status(w, HOSTEL_VM_STATUS_STOPPED);
    if (expected || !reason || !*reason) {
        gtk_window_close(GTK_WINDOW(w));
        return;
    }
    char *primary = g_strdup_printf(_("“%s” stopped"), w->name);
    GtkWidget *d = hostel_error_dialog(GTK_WINDOW(w), primary, reason);
    g_signal_connect_object(d, "destroy", G_CALLBACK(vm_window_close_later), w, 0);
    g_free(primary);
}

static void on_session_pointer_mode(gpointer data, gboolean absolute)
{
    HostelVmWindow *w = data;
    if (w->capture)
        hostel_capture_set_absolute(w->capture, absolute);
    vm_window_update_capture_label(w);
}

static void on_session_error(gpointer data, const char *primary, const char *secondary)
{
    hostel_error_dialog(GTK_WINDOW(data), primary, secondary);
}

static const struct hostel_vm_session_ops vm_window_session_ops = {
    .status = on_session_status,
    .display = on_session_display,
    .damage = on_session_damage,
    .stopped = on_session_stopped,
    .pointer_mode = on_session_pointer_mode,
    .error = on_session_error,
};

/* ---- input ---- */

static void on_capture_key(gpointer data, unsigned code, gboolean pressed)
{
    HostelVmWindow *w = data;
    if (w->session)
        hostel_vm_session_send_key(w->session, code, pressed);
}

static void on_capture_mouse(gpointer data, int dx, int dy, int dz, guint32 buttons)
{
    HostelVmWindow *w = data;
    if (w->session)
        hostel_vm_session_mouse(w->session, dx, dy, dz, buttons);
}

static void on_capture_pointer(gpointer data, unsigned x, unsigned y, int dz, guint32 buttons)
{
    HostelVmWindow *w = data;
    if (w->session)
        hostel_vm_session_pointer(w->session, x, y, dz, buttons);
}

static void on_capture_changed(gpointer data, gboolean captured)
{
    vm_window_update_capture_label(data);
}

static const struct hostel_capture_ops vm_window_capture_ops = {
    .key = on_capture_key,
    .mouse = on_capture_mouse,
    .pointer = on_capture_pointer,
    .changed = on_capture_changed,
};

/* ---- actions ---- */

void hostel_vm_window_call(HostelVmWindow *w, const char *method, const char *failure_primary)
{
    if (w->session)
        hostel_vm_session_call(w->session, method, NULL, failure_primary);
}

static void action_pause(GSimpleAction *a, GVariant *state, gpointer data)
{
    HostelVmWindow *w = data;
    if (g_variant_get_boolean(state))
        hostel_vm_window_call(w, "Pause", _("The virtual machine could not be paused"));
    else
        hostel_vm_window_call(w, "Resume", _("The virtual machine could not be resumed"));
}

static void action_shutdown(GSimpleAction *a, GVariant *p, gpointer data)
{
    hostel_vm_window_call(data, "Shutdown", _("The virtual machine could not be shut down"));
}

static void reset_confirmed(gboolean accepted, gpointer data)
{
    if (accepted && !gtk_widget_in_destruction(data))
        hostel_vm_window_call(data, "Reset", _("The virtual machine could not be reset"));
}

static void action_reset(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelVmWindow *w = data;
    char *primary = g_strdup_printf(_("Reset “%s”?"), w->name);
    hostel_confirm_dialog(GTK_WINDOW(w), primary, _("It restarts at once; unsaved work in it is lost."), _("_Reset"),
                          TRUE, reset_confirmed, g_object_ref(w), g_object_unref);
    g_free(primary);
}

static void power_off_confirmed(gboolean accepted, gpointer data)
{
    if (accepted && !gtk_widget_in_destruction(data))
        hostel_vm_window_call(data, "PowerOff", _("The virtual machine could not be powered off"));
}

static void action_power_off(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelVmWindow *w = data;
    if (!hostel_prefs_get_boolean(hostel_app_get_settings(w->app), "confirm-before-force-off", TRUE)) {
        power_off_confirmed(TRUE, w);
        return;
    }
    char *primary = g_strdup_printf(_("Force “%s” off?"), w->name);
    hostel_confirm_dialog(GTK_WINDOW(w), primary,
                          _("The operating system in it is stopped at once, as when the power is cut; unsaved "
                            "work in it is lost."),
                          _("_Force power off"), TRUE, power_off_confirmed, g_object_ref(w), g_object_unref);
    g_free(primary);
}

static void action_send_cad(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelVmWindow *w = data;
    if (w->session)
        hostel_vm_session_call(w->session, "PressKeys", g_variant_new("(s)", "ctrl+alt+delete"),
                               _("Ctrl+Alt+Del could not be sent"));
}

static void action_capture(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelVmWindow *w = data;
    hostel_capture_start(w->capture, NULL);
}

/* The drive's new contents go into the definition too, so the next start
 * has the same disc. */
static void vm_window_remember_cdrom(HostelVmWindow *w, const char *path)
{
    GError *err = NULL;
    struct vmdef *d = vmdef_load(w->def_path, &err);
    if (d) {
        g_free(d->cdrom);
        d->cdrom = g_strdup(path);
        vmdef_save(d, &err);
        vmdef_free(d);
    }
    if (err) {
        hostel_error_dialog(GTK_WINDOW(w), _("The CD-ROM change could not be saved in the VM’s settings"),
                            err->message);
        g_error_free(err);
    }
    hostel_app_vms_changed(w->app, NULL);
}

static void vm_window_iso_chosen(const char *path, gpointer data)
{
    HostelVmWindow *w = data;
    if (!w->session)
        return;
    hostel_vm_session_call(w->session, "ChangeCdrom", g_variant_new("(s)", path),
                           _("The CD image could not be inserted"));
    vm_window_remember_cdrom(w, path);
}

static void action_insert_cd(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelVmWindow *w = data;
    hostel_iso_choose(GTK_WINDOW(w), hostel_app_get_settings(w->app), vm_window_iso_chosen, w);
}

static void action_eject_cd(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelVmWindow *w = data;
    if (!w->session)
        return;
    hostel_vm_session_call(w->session, "EjectCdrom", NULL, _("The CD could not be ejected"));
    vm_window_remember_cdrom(w, NULL);
}

static void screenshot_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    HostelVmWindow *w = data;
    if (response == GTK_RESPONSE_ACCEPT && w->session && !gtk_widget_in_destruction(GTK_WIDGET(w))) {
        char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(dialog));
        /* hostel-vm runs on this host and writes the file itself. */
        if (path)
            hostel_vm_session_call(w->session, "Screenshot", g_variant_new("(s)", path),
                                   _("The screenshot could not be saved"));
        g_free(path);
    }
    g_object_unref(dialog);
    g_object_unref(w);
}

static void action_screenshot(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelVmWindow *w = data;
    GtkFileChooserNative *n = gtk_file_chooser_native_new(_("Save screenshot"), GTK_WINDOW(w),
                                                          GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
    gtk_file_chooser_set_do_overwrite_confirmation(GTK_FILE_CHOOSER(n), TRUE);
    const char *pictures = g_get_user_special_dir(G_USER_DIRECTORY_PICTURES);
    if (pictures)
        gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(n), pictures);
    GDateTime *now = g_date_time_new_now_local();
    char *stamp = g_date_time_format(now, "%Y-%m-%d %H-%M-%S");
    /* Translators: the screenshot's file name: VM name and date. */
    char *name = g_strdup_printf(_("%s %s.png"), w->name, stamp);
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(n), name);
    g_free(name);
    g_free(stamp);
    g_date_time_unref(now);
    g_signal_connect(n, "response", G_CALLBACK(screenshot_response), g_object_ref(w));
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(n));
}

static void action_scale(GSimpleAction *a, GVariant *state, gpointer data)
{
    HostelVmWindow *w = data;
    g_simple_action_set_state(a, state);
    hostel_display_set_scale_to_fit(w->display, g_variant_get_boolean(state));
}

static void action_fullscreen(GSimpleAction *a, GVariant *p, gpointer data)
{
    HostelVmWindow *w = data;
    if (w->fullscreen)
        gtk_window_unfullscreen(GTK_WINDOW(w));
    else
        gtk_window_fullscreen(GTK_WINDOW(w));
}

static const GActionEntry vm_window_actions[] = {
    { .name = "pause", .state = "false", .change_state = action_pause },
    { .name = "shutdown", .activate = action_shutdown },
    { .name = "reset", .activate = action_reset },
    { .name = "power-off", .activate = action_power_off },
    { .name = "send-cad", .activate = action_send_cad },
    { .name = "capture", .activate = action_capture },
    { .name = "insert-cd", .activate = action_insert_cd },
    { .name = "eject-cd", .activate = action_eject_cd },
    { .name = "screenshot", .activate = action_screenshot },
    { .name = "scale", .state = "true", .change_state = action_scale },
    { .name = "fullscreen", .activate = action_fullscreen },
};

/* ---- the window ---- */

static gboolean vm_window_state_event(GtkWidget *widget, GdkEventWindowState *ev)
{
    HostelVmWindow *w = HOSTEL_VM_WINDOW(widget);
    gboolean fullscreen = (ev->new_window_state & GDK_WINDOW_STATE_FULLSCREEN) != 0;
    if (fullscreen != w->fullscreen) {
        w->fullscreen = fullscreen;
        vm_window_update_capture_label(w);
    }
    return GTK_WIDGET_CLASS(hostel_vm_window_parent_class)->window_state_event(widget, ev);
}

static gboolean vm_window_delete_event(GtkWidget *widget, GdkEventAny *ev)
{
    HostelVmWindow *w = HOSTEL_VM_WINDOW(widget);
    if (!w->fullscreen)
        hostel_prefs_save_window(hostel_app_get_settings(w->app), GTK_WINDOW(w), "vm-window");
    return FALSE;
}

static void vm_window_dispose(GObject *o)
{
    HostelVmWindow *w = HOSTEL_VM_WINDOW(o);
    /* The session first: nothing may report into a window going away. */
    g_clear_pointer(&w->session, hostel_vm_session_free);
    g_clear_pointer(&w->capture, hostel_capture_free);
    G_OBJECT_CLASS(hostel_vm_window_parent_class)->dispose(o);
}

static void vm_window_finalize(GObject *o)
{
    HostelVmWindow *w = HOSTEL_VM_WINDOW(o);
    g_free(w->uuid);
    g_free(w->name);
    g_free(w->def_path);
    g_free(w->host_key);
    G_OBJECT_CLASS(hostel_vm_window_parent_class)->finalize(o);
}

static void hostel_vm_window_class_init(HostelVmWindowClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = vm_window_dispose;
    G_OBJECT_CLASS(klass)->finalize = vm_window_finalize;
    wc->window_state_event = vm_window_state_event;
    wc->delete_event = vm_window_delete_event;
    gtk_widget_class_set_template_from_resource(wc, "/org/hostel/Hostel/vm-window.ui");
    gtk_widget_class_bind_template_child(wc, HostelVmWindow, header);
    gtk_widget_class_bind_template_child(wc, HostelVmWindow, viewport);
    gtk_widget_class_bind_template_child(wc, HostelVmWindow, capture_label);
}

static void hostel_vm_window_init(HostelVmWindow *w)
{
    gtk_widget_init_template(GTK_WIDGET(w));
    g_action_map_add_action_entries(G_ACTION_MAP(w), vm_window_actions, G_N_ELEMENTS(vm_window_actions), w);
    w->display = HOSTEL_DISPLAY(hostel_display_new());
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(w->display)), _("Screen"));
    gtk_container_add(GTK_CONTAINER(w->viewport), GTK_WIDGET(w->display));
    gtk_widget_show(GTK_WIDGET(w->display));
    w->status = HOSTEL_VM_STATUS_UNKNOWN;
}

GtkWidget *hostel_vm_window_new(HostelApp *app, const struct vmdef *d)
{
    HostelVmWindow *w = g_object_new(HOSTEL_TYPE_VM_WINDOW, "application", app, NULL);
    GSettings *settings = hostel_app_get_settings(app);
    w->app = app;
    w->uuid = g_strdup(d->uuid);
    w->name = g_strdup(d->name);
    w->def_path = g_strdup(d->path);
    gtk_window_set_title(GTK_WINDOW(w), d->name);
    gtk_header_bar_set_title(GTK_HEADER_BAR(w->header), d->name);
    hostel_prefs_restore_window(settings, GTK_WINDOW(w), "vm-window", 1024, 800);

    gboolean scale = hostel_prefs_get_boolean(settings, "scale-to-window", TRUE);
    g_simple_action_set_state(G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(w), "scale")),
                              g_variant_new_boolean(scale));
    hostel_display_set_scale_to_fit(w->display, scale);

    w->host_key = hostel_prefs_get_string(settings, "host-key", "Control_R");
    w->capture = hostel_capture_new(w->display, &vm_window_capture_ops, w);
    hostel_capture_set_host_key(w->capture, w->host_key);
    hostel_capture_set_on_click(w->capture, hostel_prefs_get_boolean(settings, "capture-on-click", TRUE));
    vm_window_set_status(w, HOSTEL_VM_STATUS_UNKNOWN);

    char *socket = vmrun_socket_path(d);
    char *log = vmrun_log_path(d);
    w->session = hostel_vm_session_new(socket, log, &vm_window_session_ops, w);
    g_free(socket);
    g_free(log);
    return GTK_WIDGET(w);
}
