/* HostelMainWindow: the list of VMs (name, OS, state, a preview of the
 * screen of running ones), the selected VM's details, and its buttons:
 * Start, Pause/Resume, Shut down (Force power off in its menu),
 * Settings, Delete. States come from a vm-monitor, never from a call that
 * waits on a VM. */
#ifndef HOSTEL_GUI_MAIN_WINDOW_H
#define HOSTEL_GUI_MAIN_WINDOW_H

#include <gtk/gtk.h>

#include "app.h"

#define HOSTEL_TYPE_MAIN_WINDOW (hostel_main_window_get_type())
G_DECLARE_FINAL_TYPE(HostelMainWindow, hostel_main_window, HOSTEL, MAIN_WINDOW, GtkApplicationWindow)

GtkWidget *hostel_main_window_new(HostelApp *app);
/* Read the VM library again; select select_uuid if given, else keep the
 * selection. */
void hostel_main_window_reload(HostelMainWindow *w, const char *select_uuid);
/* Show a status now ("Starting…"); the monitor takes over from there. */
void hostel_main_window_set_status(HostelMainWindow *w, const char *uuid, enum hostel_vm_status s);

#endif
