#include "new-vm-assistant.h"

#include <glib/gi18n.h>

#include "dialogs.h"
#include "iso-chooser.h"
#include "os-chooser.h"
#include "prefs.h"
#include "vmdef.h"

#define GIB (1024ull * 1024 * 1024)
#define ISO_DETECT_DELAY_MS 400

struct _HostelNewVmAssistant {
    GtkAssistant parent;
    HostelApp *app;
    GtkWidget *name_page;
    GtkWidget *name_entry;
    GtkWidget *name_hint;
    GtkWidget *iso_entry;
    GtkWidget *iso_hint;
    GtkWidget *os_page;
    GtkWidget *os_chooser;
    GtkWidget *memory_spin;
    GtkWidget *cpus_spin;
    GtkWidget *recommended_label;
    GtkWidget *disk_check;
    GtkWidget *disk_spin;
    GtkWidget *summary_label;
    GHashTable *taken_names;
    guint detect_timer;
    GCancellable *cancel;
    gboolean failed;            /* the last apply failed: stay open */
    gboolean applying;          /* filling in a preset's values */
    gboolean user_sized;        /* memory, CPUs or disk set by hand: keep them */
};

G_DEFINE_TYPE(HostelNewVmAssistant, hostel_new_vm_assistant, GTK_TYPE_ASSISTANT)

static char *assistant_name(HostelNewVmAssistant *a)
{
    return g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(a->name_entry))));
}

static char *assistant_iso(HostelNewVmAssistant *a)
{
    char *iso = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(a->iso_entry))));
    if (!*iso)
        g_clear_pointer(&iso, g_free);
    return iso;
}

/* Page one is complete with a free name and an ISO that exists (or none). */
static void assistant_check_name_page(HostelNewVmAssistant *a)
{
    char *name = assistant_name(a);
    char *iso = assistant_iso(a);
    /* Names are unique ignoring case (docs/vm-definition.md). */
    char *folded = g_utf8_casefold(name, -1);
    gboolean taken = g_hash_table_contains(a->taken_names, folded);
    g_free(folded);
    gboolean iso_ok = !iso || g_file_test(iso, G_FILE_TEST_IS_REGULAR);
    GError *bad = NULL;
    gboolean valid = !*name || vmdef_check_name(name, &bad);
    if (!valid)
        gtk_label_set_text(GTK_LABEL(a->name_hint), bad->message);
    else
        gtk_label_set_text(GTK_LABEL(a->name_hint), taken ? _("A virtual machine with this name exists already.") : "");
    g_clear_error(&bad);
    if (!iso_ok)
        gtk_label_set_text(GTK_LABEL(a->iso_hint), _("There is no file with this name."));
    gtk_assistant_set_page_complete(GTK_ASSISTANT(a), a->name_page, *name && valid && !taken && iso_ok);
    g_free(name);
    g_free(iso);
}

static void assistant_name_changed(GtkEditable *e, HostelNewVmAssistant *a)
{
    assistant_check_name_page(a);
}

/* ---- the OS and its recommendations ---- */

static void assistant_os_changed(HostelOsChooser *c, HostelNewVmAssistant *a)
{
    const struct ospreset *p = hostel_os_chooser_get_preset(c);
    if (!p) {
        gtk_label_set_text(GTK_LABEL(a->recommended_label), "");
        return;
    }
    if (!a->user_sized) {
        a->applying = TRUE;
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(a->memory_spin), p->memory_mib);
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(a->cpus_spin), p->cpus);
        if (p->disk_size)
            gtk_spin_button_set_value(GTK_SPIN_BUTTON(a->disk_spin), (double)((p->disk_size + GIB - 1) / GIB));
        a->applying = FALSE;
    }
    char *cpus = g_strdup_printf(ngettext("%u processor", "%u processors", p->cpus), p->cpus);
    char *text = g_strdup_printf(_("Recommended for %s: %u MiB of memory and %s."), p->name, p->memory_mib, cpus);
    gtk_label_set_text(GTK_LABEL(a->recommended_label), text);
    g_free(text);
    g_free(cpus);
}

/* A value the user chose wins over a preset chosen (or recognised) later. */
static void assistant_sized(GtkSpinButton *spin, HostelNewVmAssistant *a)
{
    if (!a->applying)
        a->user_sized = TRUE;
}

static void assistant_presets_ready(HostelApp *app, const struct ospresets *presets, gpointer data)
{
    HostelNewVmAssistant *a = data;
    if (!a->os_chooser)
        return;     /* closed meanwhile */
    hostel_os_chooser_set_presets(HOSTEL_OS_CHOOSER(a->os_chooser), presets);
}

/* ---- the installation image ---- */

static void assistant_detected(GObject *src, GAsyncResult *res, gpointer data)
{
    GError *err = NULL;
    char *id = hostel_iso_identify_finish(res, &err);
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(err);
        return;
    }
    HostelNewVmAssistant *a = data;
    const struct ospresets *p = hostel_app_get_presets(a->app);
    const struct ospreset *preset = id && p ? ospresets_lookup(p, id) : NULL;
    if (preset) {
        char *text = g_strdup_printf(_("This is an installation image of %s."), preset->name);
        gtk_label_set_text(GTK_LABEL(a->iso_hint), text);
        g_free(text);
        hostel_os_chooser_select(HOSTEL_OS_CHOOSER(a->os_chooser), id);
        if (!*gtk_entry_get_text(GTK_ENTRY(a->name_entry)))
            gtk_entry_set_text(GTK_ENTRY(a->name_entry), preset->name);
    } else {
        gtk_label_set_text(GTK_LABEL(a->iso_hint),
                           _("Hostel does not recognise the operating system on this image; choose it on the next "
                             "page."));
    }
    g_clear_error(&err);
    g_free(id);
}

static gboolean assistant_detect(gpointer data)
{
    HostelNewVmAssistant *a = data;
    a->detect_timer = 0;
    char *iso = assistant_iso(a);
    const struct ospresets *p = hostel_app_get_presets(a->app);
    if (iso && p && g_file_test(iso, G_FILE_TEST_IS_REGULAR)) {
        gtk_label_set_text(GTK_LABEL(a->iso_hint), _("Looking at the image…"));
        hostel_iso_identify(p, iso, a->cancel, assistant_detected, a);
    }
    g_free(iso);
    return G_SOURCE_REMOVE;
}

static void assistant_iso_changed(GtkEditable *e, HostelNewVmAssistant *a)
{
    gtk_label_set_text(GTK_LABEL(a->iso_hint),
                       _("Optional: the CD or DVD image (ISO file) to install the operating system from."));
    assistant_check_name_page(a);
    if (a->detect_timer)
        g_source_remove(a->detect_timer);
    a->detect_timer = g_timeout_add(ISO_DETECT_DELAY_MS, assistant_detect, a);
}

static void assistant_iso_chosen(const char *path, gpointer data)
{
    HostelNewVmAssistant *a = data;
    gtk_entry_set_text(GTK_ENTRY(a->iso_entry), path);
}

static void assistant_browse(GtkButton *b, HostelNewVmAssistant *a)
{
    hostel_iso_choose(GTK_WINDOW(a), hostel_app_get_settings(a->app), assistant_iso_chosen, a);
}

/* ---- summary and creation ---- */

static void assistant_prepare(GtkAssistant *assistant, GtkWidget *page, HostelNewVmAssistant *a)
{
    if (page != a->summary_label)
        return;
    char *name = assistant_name(a);
    char *iso = assistant_iso(a);
    char *os = hostel_app_os_label(a->app, hostel_os_chooser_get_id(HOSTEL_OS_CHOOSER(a->os_chooser)));
    unsigned mem = (unsigned)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(a->memory_spin));
    unsigned cpus = (unsigned)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(a->cpus_spin));
    char *disk = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(a->disk_check))
                     ? g_strdup_printf(_("a new disk of %d GiB"),
                                       gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(a->disk_spin)))
                     : g_strdup(_("no disk"));
    char *cpus_text = g_strdup_printf(ngettext("%u processor", "%u processors", cpus), cpus);
    char *text = g_strdup_printf(_("“%s” runs %s with %u MiB of memory, %s and %s.\n\n"
                                   "Installation image: %s\n\nPress Apply to create it."),
                                 name, os, mem, cpus_text, disk, iso ? iso : _("none"));
    g_free(cpus_text);
    gtk_label_set_text(GTK_LABEL(a->summary_label), text);
    g_free(text);
    g_free(disk);
    g_free(os);
    g_free(iso);
    g_free(name);
}

static void assistant_apply(GtkAssistant *assistant, HostelNewVmAssistant *a)
{
    char *name = assistant_name(a);
    char *iso = assistant_iso(a);
    gboolean disk = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(a->disk_check));
    struct vmlib_new n = {
        .name = name,
        .os = hostel_os_chooser_get_id(HOSTEL_OS_CHOOSER(a->os_chooser)),
        .memory_mib = (unsigned)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(a->memory_spin)),
        .cpus = (unsigned)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(a->cpus_spin)),
        .disk_size = disk ? (uint64_t)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(a->disk_spin)) * GIB : 0,
        .iso = iso,
    };
    GError *err = NULL;
    struct vmdef *d = vmlib_create(&n, &err);
    if (d) {
        a->failed = FALSE;
        hostel_app_vms_changed(a->app, d->uuid);
        vmdef_free(d);
    } else {
        a->failed = TRUE;
        char *primary = g_strdup_printf(_("“%s” could not be created"), name);
        hostel_error_dialog(GTK_WINDOW(a), primary, err->message);
        g_free(primary);
        g_error_free(err);
    }
    g_free(iso);
    g_free(name);
}

static void assistant_close(GtkAssistant *assistant, HostelNewVmAssistant *a)
{
    if (a->failed) {
        a->failed = FALSE;
        return;
    }
    gtk_widget_destroy(GTK_WIDGET(a));
}

static void assistant_cancel(GtkAssistant *assistant, HostelNewVmAssistant *a)
{
    gtk_widget_destroy(GTK_WIDGET(a));
}

static void assistant_dispose(GObject *o)
{
    HostelNewVmAssistant *a = HOSTEL_NEW_VM_ASSISTANT(o);
    if (a->os_chooser)
        g_signal_handlers_disconnect_by_data(a->os_chooser, a);
    a->os_chooser = NULL;
    if (a->cancel)
        g_cancellable_cancel(a->cancel);
    g_clear_object(&a->cancel);
    if (a->detect_timer)
        g_source_remove(a->detect_timer);
    a->detect_timer = 0;
    g_clear_pointer(&a->taken_names, g_hash_table_unref);
    G_OBJECT_CLASS(hostel_new_vm_assistant_parent_class)->dispose(o);
}

static void hostel_new_vm_assistant_class_init(HostelNewVmAssistantClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = assistant_dispose;
    gtk_widget_class_set_template_from_resource(wc, "/org/hostel/Hostel/new-vm-assistant.ui");
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, name_page);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, name_entry);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, name_hint);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, iso_entry);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, iso_hint);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, os_page);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, memory_spin);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, cpus_spin);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, recommended_label);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, disk_check);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, disk_spin);
    gtk_widget_class_bind_template_child(wc, HostelNewVmAssistant, summary_label);
    gtk_widget_class_bind_template_callback(wc, assistant_prepare);
    gtk_widget_class_bind_template_callback(wc, assistant_apply);
    gtk_widget_class_bind_template_callback(wc, assistant_close);
    gtk_widget_class_bind_template_callback(wc, assistant_cancel);
    gtk_widget_class_bind_template_callback(wc, assistant_name_changed);
    gtk_widget_class_bind_template_callback(wc, assistant_iso_changed);
    gtk_widget_class_bind_template_callback(wc, assistant_browse);
    gtk_widget_class_bind_template_callback(wc, assistant_sized);
}

static void hostel_new_vm_assistant_init(HostelNewVmAssistant *a)
{
    gtk_widget_init_template(GTK_WIDGET(a));
    a->cancel = g_cancellable_new();
    a->os_chooser = hostel_os_chooser_new();
    gtk_box_pack_start(GTK_BOX(a->os_page), a->os_chooser, TRUE, TRUE, 0);
    g_signal_connect(a->os_chooser, "changed", G_CALLBACK(assistant_os_changed), a);
    a->taken_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

GtkWidget *hostel_new_vm_assistant_new(HostelApp *app, GtkWindow *parent)
{
    HostelNewVmAssistant *a = g_object_new(HOSTEL_TYPE_NEW_VM_ASSISTANT, "use-header-bar", 1, "transient-for",
                                           parent, NULL);
    a->app = app;
    GPtrArray *defs = vmlib_list(NULL);
    for (guint i = 0; i < defs->len; i++)
        g_hash_table_add(a->taken_names, g_utf8_casefold(((struct vmdef *)g_ptr_array_index(defs, i))->name, -1));
    g_ptr_array_unref(defs);
    hostel_app_when_presets(app, assistant_presets_ready, g_object_ref(a), g_object_unref);
    assistant_check_name_page(a);
    return GTK_WIDGET(a);
}
