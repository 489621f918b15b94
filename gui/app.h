/* HostelApp: the GtkApplication "org.hostel.Hostel" (single instance).
 *
 *   hostel            the main window (VM list)
 *   hostel --vm NAME  that VM's window, starting the VM if it is stopped
 *
 * The application owns what the windows share: the settings, the OS
 * presets (loaded once on a worker thread) and the set of open VM
 * windows, one per VM.
 */
#ifndef HOSTEL_GUI_APP_H
#define HOSTEL_GUI_APP_H

#include <gtk/gtk.h>

#include "ospresets.h"
#include "vm-client.h"

#define HOSTEL_APP_ID "org.hostel.Hostel"

#define HOSTEL_TYPE_APP (hostel_app_get_type())
G_DECLARE_FINAL_TYPE(HostelApp, hostel_app, HOSTEL, APP, GtkApplication)

HostelApp *hostel_app_new(void);

/* The settings, or NULL when the schema is not installed (prefs.h). */
GSettings *hostel_app_get_settings(HostelApp *app);

/* The OS presets once loaded, else NULL (not yet, or they could not be
 * read: then OS entry falls back to a plain id). */
const struct ospresets *hostel_app_get_presets(HostelApp *app);
/* Call fn once the presets are loaded (at once if they are). */
typedef void (*hostel_presets_fn)(HostelApp *app, const struct ospresets *presets, gpointer data);
void hostel_app_when_presets(HostelApp *app, hostel_presets_fn fn, gpointer data, GDestroyNotify destroy);
/* The display name of an OS id ("Debian 12"), or the id itself; g_free. */
char *hostel_app_os_label(HostelApp *app, const char *os_id);

/* Open the window of the VM with this name or UUID (bring it to the front
 * if it is open). When the VM is not running, start it first if start is
 * set. Errors are shown in a dialog and, when cmdline is given, printed on
 * it with exit status 1. Returns FALSE when it failed at once (no such
 * VM), TRUE when the window is open or on its way. */
gboolean hostel_app_open_vm(HostelApp *app, const char *name_or_uuid, gboolean start,
                            GApplicationCommandLine *cmdline);

/* The open window of a VM, or NULL. */
GtkWindow *hostel_app_get_vm_window(HostelApp *app, const char *uuid);

/* Tell the main window (if any) that VMs were added, changed or removed,
 * selecting select_uuid (may be NULL), or that one's status changed. */
void hostel_app_vms_changed(HostelApp *app, const char *select_uuid);
void hostel_app_vm_status(HostelApp *app, const char *uuid, enum hostel_vm_status s);

/* The window errors go to: the active one, else the main window. */
GtkWindow *hostel_app_error_parent(HostelApp *app);

#endif
