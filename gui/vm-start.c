#include "vm-start.h"

#include "vm-client.h"
#include "vmdef.h"
#include "vmrun.h"

static void start_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    const char *path = data;
    GError *err = NULL;
    struct vmdef *d = vmdef_load(path, &err);
    if (d && vmrun_start(d, NULL, HOSTEL_VM_START_TIMEOUT_MS, &err))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, err);
    if (d)
        vmdef_free(d);
}

void hostel_vm_start(const char *def_path, GCancellable *cancel, GAsyncReadyCallback cb, gpointer data)
{
    GTask *task = g_task_new(NULL, cancel, cb, data);
    g_task_set_task_data(task, g_strdup(def_path), g_free);
    g_task_run_in_thread(task, start_thread);
    g_object_unref(task);
}

gboolean hostel_vm_start_finish(GAsyncResult *res, GError **err)
{
    return g_task_propagate_boolean(G_TASK(res), err);
}
