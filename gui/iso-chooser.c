#include "iso-chooser.h"

#include <glib/gi18n.h>

#include "prefs.h"

struct iso_choice {
    GtkWindow *parent;
    GSettings *settings;
    hostel_iso_fn done;
    gpointer data;
};

static void iso_response(GtkNativeDialog *dialog, int response, gpointer p)
{
    struct iso_choice *c = p;
    if (response == GTK_RESPONSE_ACCEPT && !gtk_widget_in_destruction(GTK_WIDGET(c->parent))) {
        GtkFileChooser *fc = GTK_FILE_CHOOSER(dialog);
        char *path = gtk_file_chooser_get_filename(fc);
        /* The chosen image's own folder: the chooser's current folder is
         * another when the path was typed (Ctrl+L) or picked from Recent. */
        GFile *file = gtk_file_chooser_get_file(fc);
        GFile *folder = file ? g_file_get_parent(file) : NULL;
        g_clear_object(&file);
        if (folder) {
            char *uri = g_file_get_uri(folder);
            hostel_prefs_set_string(c->settings, "last-iso-folder", uri);
            g_free(uri);
            g_object_unref(folder);
        }
        if (path)
            c->done(path, c->data);
        g_free(path);
    }
    g_object_unref(c->parent);
    g_clear_object(&c->settings);
    g_free(c);
    g_object_unref(dialog);
}

void hostel_iso_choose(GtkWindow *parent, GSettings *settings, hostel_iso_fn done, gpointer data)
{
    GtkFileChooserNative *n = gtk_file_chooser_native_new(_("Choose an installation image"), parent,
                                                          GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
    GtkFileFilter *iso = gtk_file_filter_new();
    gtk_file_filter_set_name(iso, _("Disc images"));
    gtk_file_filter_add_pattern(iso, "*.iso");
    gtk_file_filter_add_pattern(iso, "*.ISO");
    gtk_file_filter_add_mime_type(iso, "application/x-cd-image");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(n), iso);
    GtkFileFilter *all = gtk_file_filter_new();
    gtk_file_filter_set_name(all, _("All files"));
    gtk_file_filter_add_pattern(all, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(n), all);

    char *last = hostel_prefs_get_string(settings, "last-iso-folder", "");
    if (*last) {
        gtk_file_chooser_set_current_folder_uri(GTK_FILE_CHOOSER(n), last);
    } else {
        const char *downloads = g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD);
        if (downloads)
            gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(n), downloads);
    }
    g_free(last);

    struct iso_choice *c = g_new0(struct iso_choice, 1);
    c->parent = g_object_ref(parent);
    c->settings = settings ? g_object_ref(settings) : NULL;
    c->done = done;
    c->data = data;
    g_signal_connect(n, "response", G_CALLBACK(iso_response), c);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(n));
}

struct identify_job {
    const struct ospresets *presets;
    char *iso;
};

static void identify_job_free(gpointer p)
{
    struct identify_job *j = p;
    g_free(j->iso);
    g_free(j);
}

static void identify_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    struct identify_job *j = data;
    GError *err = NULL;
    char *id = ospresets_identify_iso(j->presets, j->iso, &err);
    if (id)
        g_task_return_pointer(task, id, g_free);
    else
        g_task_return_error(task, err);
}

void hostel_iso_identify(const struct ospresets *presets, const char *iso, GCancellable *cancel,
                         GAsyncReadyCallback cb, gpointer data)
{
    GTask *task = g_task_new(NULL, cancel, cb, data);
    struct identify_job *j = g_new0(struct identify_job, 1);
    j->presets = presets;
    j->iso = g_strdup(iso);
    g_task_set_task_data(task, j, identify_job_free);
    g_task_run_in_thread(task, identify_thread);
    g_object_unref(task);
}

char *hostel_iso_identify_finish(GAsyncResult *res, GError **err)
{
    return g_task_propagate_pointer(G_TASK(res), err);
}
