/* HostelSettingsDialog: the settings of an existing VM: name, memory,
 * processors, boot order, CD-ROM image, and its disk (shown, not
 * editable). Save writes them with vmdef_save; an error is shown in a
 * dialog and the settings stay open. */
#ifndef HOSTEL_GUI_SETTINGS_DIALOG_H
#define HOSTEL_GUI_SETTINGS_DIALOG_H

#include <gtk/gtk.h>

#include "app.h"

#define HOSTEL_TYPE_SETTINGS_DIALOG (hostel_settings_dialog_get_type())
G_DECLARE_FINAL_TYPE(HostelSettingsDialog, hostel_settings_dialog, HOSTEL, SETTINGS_DIALOG, GtkDialog)

/* The dialog for the definition at def_path, or NULL with err when it
 * cannot be read. running: say that changes wait for the next start. */
GtkWidget *hostel_settings_dialog_new(HostelApp *app, GtkWindow *parent, const char *def_path, gboolean running,
                                      GError **err);

#endif
