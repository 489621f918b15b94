#include "settings-dialog.h"

#include <glib/gi18n.h>
#include <string.h>

#include "dialogs.h"
#include "iso-chooser.h"
#include "vmdef.h"

struct _HostelSettingsDialog {
    GtkDialog parent;
    HostelApp *app;
    struct vmdef *def;
    GtkWidget *running_hint;
    GtkWidget *name_entry;
    GtkWidget *memory_spin;
    GtkWidget *cpus_spin;
    GtkWidget *boot_combo;
    GtkWidget *cdrom_entry;
    GtkWidget *disk_label;
};

G_DEFINE_TYPE(HostelSettingsDialog, hostel_settings_dialog, GTK_TYPE_DIALOG)

static void settings_iso_chosen(const char *path, gpointer data)
{
    HostelSettingsDialog *s = data;
    gtk_entry_set_text(GTK_ENTRY(s->cdrom_entry), path);
}

static void settings_browse(GtkButton *b, HostelSettingsDialog *s)
{
    hostel_iso_choose(GTK_WINDOW(s), hostel_app_get_settings(s->app), settings_iso_chosen, s);
}

/* The values into the definition and onto disk. FALSE with err when
 * something is wrong; the definition then keeps what it had on disk. */
static gboolean settings_save(HostelSettingsDialog *s, GError **err)
{
    char *name = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(s->name_entry))));
    char *cdrom = g_strstrip(g_strdup(gtk_entry_get_text(GTK_ENTRY(s->cdrom_entry))));
    if (!*name) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, _("Give the virtual machine a name."));
        g_free(name);
        g_free(cdrom);
        return FALSE;
    }
    if (g_strcmp0(name, s->def->name) != 0) {
        struct vmdef *other = vmlib_find(name, NULL);
        gboolean taken = other && strcmp(other->uuid, s->def->uuid) != 0;
        if (other)
            vmdef_free(other);
        if (taken) {
            g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_EXISTS,
                        _("Another virtual machine is called “%s”; choose another name."), name);
            g_free(name);
            g_free(cdrom);
            return FALSE;
        }
    }
    /* Keep the old values to put back if saving fails. */
    char *old_name = s->def->name, *old_boot = s->def->boot_order, *old_cdrom = s->def->cdrom;
    unsigned old_mem = s->def->memory_mib, old_cpus = s->def->cpus;
    const char *boot = gtk_combo_box_get_active_id(GTK_COMBO_BOX(s->boot_combo));
    s->def->name = name;
    s->def->memory_mib = (unsigned)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(s->memory_spin));
    s->def->cpus = (unsigned)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(s->cpus_spin));
    s->def->boot_order = g_strdup(boot ? boot : old_boot);
    s->def->cdrom = *cdrom ? cdrom : NULL;
    if (!*cdrom)
        g_free(cdrom);
    if (vmdef_save(s->def, err)) {
        g_free(old_name);
        g_free(old_boot);
        g_free(old_cdrom);
        return TRUE;
    }
    g_free(s->def->name);
    g_free(s->def->boot_order);
    g_free(s->def->cdrom);
    s->def->name = old_name;
    s->def->boot_order = old_boot;
    s->def->cdrom = old_cdrom;
    s->def->memory_mib = old_mem;
    s->def->cpus = old_cpus;
    return FALSE;
}

static void settings_response(GtkDialog *d, int response, gpointer data)
{
    HostelSettingsDialog *s = HOSTEL_SETTINGS_DIALOG(d);
    if (response != GTK_RESPONSE_ACCEPT) {
        gtk_widget_destroy(GTK_WIDGET(d));
        return;
    }
    GError *err = NULL;
    if (!settings_save(s, &err)) {
        hostel_error_dialog(GTK_WINDOW(s), _("The settings could not be saved"), err->message);
        g_error_free(err);
        return;
    }
    hostel_app_vms_changed(s->app, s->def->uuid);
    gtk_widget_destroy(GTK_WIDGET(d));
}

static void settings_fill(HostelSettingsDialog *s)
{
    struct vmdef *d = s->def;
    char *title = g_strdup_printf(_("Settings of “%s”"), d->name);
    gtk_window_set_title(GTK_WINDOW(s), title);
    g_free(title);
    gtk_entry_set_text(GTK_ENTRY(s->name_entry), d->name);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(s->memory_spin), d->memory_mib);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(s->cpus_spin), d->cpus);
    const char *boot = d->boot_order ? d->boot_order : "";
    if (!gtk_combo_box_set_active_id(GTK_COMBO_BOX(s->boot_combo), boot) && *boot) {
        /* An order written by hand: offer it as it is. */
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(s->boot_combo), boot, boot);
        gtk_combo_box_set_active_id(GTK_COMBO_BOX(s->boot_combo), boot);
    }
    gtk_entry_set_text(GTK_ENTRY(s->cdrom_entry), d->cdrom ? d->cdrom : "");
    GString *disks = g_string_new(NULL);
    for (unsigned i = 0; i < d->ndisks; i++) {
        char *path = vmdef_resolve(d, d->disks[i].file);
        g_string_append_printf(disks, "%s%s", i ? "\n" : "", path);
        g_free(path);
    }
    gtk_label_set_text(GTK_LABEL(s->disk_label), d->ndisks ? disks->str : _("None"));
    g_string_free(disks, TRUE);
}

static void settings_finalize(GObject *o)
{
    HostelSettingsDialog *s = HOSTEL_SETTINGS_DIALOG(o);
    if (s->def)
        vmdef_free(s->def);
    G_OBJECT_CLASS(hostel_settings_dialog_parent_class)->finalize(o);
}

static void hostel_settings_dialog_class_init(HostelSettingsDialogClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->finalize = settings_finalize;
    gtk_widget_class_set_template_from_resource(wc, "/org/hostel/Hostel/settings-dialog.ui");
    gtk_widget_class_bind_template_child(wc, HostelSettingsDialog, running_hint);
    gtk_widget_class_bind_template_child(wc, HostelSettingsDialog, name_entry);
    gtk_widget_class_bind_template_child(wc, HostelSettingsDialog, memory_spin);
    gtk_widget_class_bind_template_child(wc, HostelSettingsDialog, cpus_spin);
    gtk_widget_class_bind_template_child(wc, HostelSettingsDialog, boot_combo);
    gtk_widget_class_bind_template_child(wc, HostelSettingsDialog, cdrom_entry);
    gtk_widget_class_bind_template_child(wc, HostelSettingsDialog, disk_label);
    gtk_widget_class_bind_template_callback(wc, settings_browse);
}

static void hostel_settings_dialog_init(HostelSettingsDialog *s)
{
    gtk_widget_init_template(GTK_WIDGET(s));
}

GtkWidget *hostel_settings_dialog_new(HostelApp *app, GtkWindow *parent, const char *def_path, gboolean running,
                                      GError **err)
{
    struct vmdef *d = vmdef_load(def_path, err);
    if (!d)
        return NULL;
    HostelSettingsDialog *s = g_object_new(HOSTEL_TYPE_SETTINGS_DIALOG, "use-header-bar", 1, "transient-for",
                                           parent, NULL);
    s->app = app;
    s->def = d;
    gtk_dialog_add_button(GTK_DIALOG(s), _("_Cancel"), GTK_RESPONSE_CANCEL);
    GtkWidget *save = gtk_dialog_add_button(GTK_DIALOG(s), _("_Save"), GTK_RESPONSE_ACCEPT);
    gtk_style_context_add_class(gtk_widget_get_style_context(save), GTK_STYLE_CLASS_SUGGESTED_ACTION);
    gtk_dialog_set_default_response(GTK_DIALOG(s), GTK_RESPONSE_ACCEPT);
    gtk_widget_set_visible(s->running_hint, running);
    settings_fill(s);
    g_signal_connect(s, "response", G_CALLBACK(settings_response), NULL);
    return GTK_WIDGET(s);
}
