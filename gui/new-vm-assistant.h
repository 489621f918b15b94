/* HostelNewVmAssistant: creating a VM. Pages: name and installation image
 * (the image's OS is recognised through the OS presets), OS (search),
 * memory and processors (the OS's recommended values), new disk size,
 * summary. Apply creates the VM with vmlib_create and selects it in the
 * main window; an error is shown and the assistant stays open. */
#ifndef HOSTEL_GUI_NEW_VM_ASSISTANT_H
#define HOSTEL_GUI_NEW_VM_ASSISTANT_H

#include <gtk/gtk.h>

#include "app.h"

#define HOSTEL_TYPE_NEW_VM_ASSISTANT (hostel_new_vm_assistant_get_type())
G_DECLARE_FINAL_TYPE(HostelNewVmAssistant, hostel_new_vm_assistant, HOSTEL, NEW_VM_ASSISTANT, GtkAssistant)

GtkWidget *hostel_new_vm_assistant_new(HostelApp *app, GtkWindow *parent);

#endif
