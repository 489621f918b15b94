/* HostelVmWindow: one running VM's screen and controls.
 *
 * The screen is the VM's shared framebuffer (display-widget), scaled to
 * the window or at its own size, optionally full screen. A click captures
 * keyboard and mouse (capture.h) until the host key is pressed; the status
 * line says which key that is. Menus: Pause, Shut down, Reset, Force power
 * off; Ctrl+Alt+Del; CD-ROM insert and eject (also saved in the VM's
 * definition); screenshot. When the VM stops because this window asked,
 * the window closes; when it stops otherwise, a dialog says why first.
 * Every call to the VM is asynchronous (vm-session.h).
 */
#ifndef HOSTEL_GUI_VM_WINDOW_H
#define HOSTEL_GUI_VM_WINDOW_H

#include <gtk/gtk.h>

#include "app.h"
#include "vmdef.h"

#define HOSTEL_TYPE_VM_WINDOW (hostel_vm_window_get_type())
G_DECLARE_FINAL_TYPE(HostelVmWindow, hostel_vm_window, HOSTEL, VM_WINDOW, GtkApplicationWindow)

GtkWidget *hostel_vm_window_new(HostelApp *app, const struct vmdef *d);
const char *hostel_vm_window_get_uuid(HostelVmWindow *w);
/* A lifecycle call (Pause, Resume, Shutdown, PowerOff, Reset) through the
 * window's connection; failure_primary heads the error dialog. */
void hostel_vm_window_call(HostelVmWindow *w, const char *method, const char *failure_primary);

#endif
