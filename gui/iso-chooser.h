/* Choosing an installation image (ISO file) and recognising its OS, for
 * the assistant, the settings dialog and the VM window's CD-ROM menu. */
#ifndef HOSTEL_GUI_ISO_CHOOSER_H
#define HOSTEL_GUI_ISO_CHOOSER_H

#include <gtk/gtk.h>

#include "ospresets.h"

/* A native file chooser for .iso files, opening in the folder of the last
 * image chosen (setting last-iso-folder, else Downloads) and remembering
 * the new one. done runs with the path if one was chosen and parent is
 * still there. */
typedef void (*hostel_iso_fn)(const char *path, gpointer data);
void hostel_iso_choose(GtkWindow *parent, GSettings *settings, hostel_iso_fn done, gpointer data);

/* The OS preset id of an installation image (ospresets_identify_iso on a
 * worker thread: it reads the image). presets must outlive the call. */
void hostel_iso_identify(const struct ospresets *presets, const char *iso, GCancellable *cancel,
                         GAsyncReadyCallback cb, gpointer data);
char *hostel_iso_identify_finish(GAsyncResult *res, GError **err);

#endif
