/* Message dialogs the windows share. None of them runs a nested main loop:
 * each returns at once and reports the answer through a callback. */
#ifndef HOSTEL_GUI_DIALOGS_H
#define HOSTEL_GUI_DIALOGS_H

#include <gtk/gtk.h>

/* An error: primary says what failed ("“Debian” could not start"),
 * secondary is the sentence saying why (and what to do). Returns the
 * dialog, which destroys itself when answered. */
GtkWidget *hostel_error_dialog(GtkWindow *parent, const char *primary, const char *secondary);

/* A question with Cancel and an accept button (red when destructive).
 * done is called with TRUE when accepted; data is dropped with
 * destroy (may be NULL) afterwards. */
typedef void (*hostel_confirm_fn)(gboolean accepted, gpointer data);
void hostel_confirm_dialog(GtkWindow *parent, const char *primary, const char *secondary,
                           const char *accept_label, gboolean destructive, hostel_confirm_fn done,
                           gpointer data, GDestroyNotify destroy);

#endif
