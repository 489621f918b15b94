/* Starting a VM without blocking the UI: vmrun_start (spawn hostel-vm,
 * then wait for its control socket to answer) runs on a worker thread,
 * on its own copy of the definition loaded from def_path. hostel-vm is
 * found as vmrun_argv says (HOSTEL_VM in the environment first). */
#ifndef HOSTEL_GUI_VM_START_H
#define HOSTEL_GUI_VM_START_H

#include <gio/gio.h>

void hostel_vm_start(const char *def_path, GCancellable *cancel, GAsyncReadyCallback cb, gpointer data);
gboolean hostel_vm_start_finish(GAsyncResult *res, GError **err);

#endif
