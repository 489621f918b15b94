/* Asynchronous access to a running VM's control interface (org.hostel.VM1,
 * peer-to-peer D-Bus on its control socket).
 *
 * Nothing here blocks the calling (UI) thread: connecting, authenticating
 * and every call are asynchronous and bounded by a timeout, so a hung
 * hostel-vm shows up as G_IO_ERROR_TIMED_OUT ("Not responding") and a
 * crashed one as a connection error ("Stopped"), never as a frozen window.
 */
#ifndef HOSTEL_GUI_VM_CLIENT_H
#define HOSTEL_GUI_VM_CLIENT_H

#include <gio/gio.h>

#include "framebuffer.h"

#define HOSTEL_VM_OBJECT_PATH "/org/hostel/VM"
#define HOSTEL_VM_INTERFACE "org.hostel.VM1"

/* Timeouts of the GUI's calls, in milliseconds. */
#define HOSTEL_VM_CONNECT_TIMEOUT_MS 3000u
#define HOSTEL_VM_CALL_TIMEOUT_MS 3000u
/* Starting hostel-vm until its control socket answers. */
#define HOSTEL_VM_START_TIMEOUT_MS 20000u

/* What the GUI shows for a VM. */
enum hostel_vm_status {
    HOSTEL_VM_STATUS_UNKNOWN,        /* not asked yet */
    HOSTEL_VM_STATUS_STOPPED,
    HOSTEL_VM_STATUS_STARTING,
    HOSTEL_VM_STATUS_RUNNING,
    HOSTEL_VM_STATUS_PAUSED,
    HOSTEL_VM_STATUS_NOT_RESPONDING, /* its socket is there but it does not answer */
};

/* The translated label ("Running", "Not responding", ...). */
const char *hostel_vm_status_label(enum hostel_vm_status s);
/* The status of a State property value; UNKNOWN for anything else. */
enum hostel_vm_status hostel_vm_status_from_state(const char *state);
/* Whether the VM process is there (running, paused or not answering). */
gboolean hostel_vm_status_is_live(enum hostel_vm_status s);

/* Connect to the control socket at socket_path. Fails with
 * G_IO_ERROR_TIMED_OUT when it does not answer within timeout_ms, with
 * G_IO_ERROR_CANCELLED when cancel is cancelled, or with the connection's
 * own error (nothing listening: the VM is not running). */
void hostel_vm_connect(const char *socket_path, unsigned timeout_ms, GCancellable *cancel,
                       GAsyncReadyCallback cb, gpointer data);
GDBusConnection *hostel_vm_connect_finish(GAsyncResult *res, GError **err);

/* Call a method of org.hostel.VM1 (reply_type NULL: no result); finish
 * with g_dbus_connection_call_finish. */
void hostel_vm_call(GDBusConnection *c, const char *method, GVariant *args, const char *reply_type,
                    GCancellable *cancel, GAsyncReadyCallback cb, gpointer data);

/* Read the State property; finish returns the status. */
void hostel_vm_get_state(GDBusConnection *c, GCancellable *cancel, GAsyncReadyCallback cb, gpointer data);
enum hostel_vm_status hostel_vm_get_state_finish(GDBusConnection *c, GAsyncResult *res, GError **err);

/* GetDisplay: finish maps the passed framebuffer into fb (replacing what
 * it held). */
void hostel_vm_get_display(GDBusConnection *c, GCancellable *cancel, GAsyncReadyCallback cb, gpointer data);
gboolean hostel_vm_get_display_finish(GDBusConnection *c, GAsyncResult *res, struct hostel_fb *fb, GError **err);

/* Connect, call one method without result, disconnect: for the main
 * window's buttons when no VM window holds a connection. */
void hostel_vm_call_once(const char *socket_path, const char *method, GVariant *args, GCancellable *cancel,
                         GAsyncReadyCallback cb, gpointer data);
gboolean hostel_vm_call_once_finish(GAsyncResult *res, GError **err);

/* A sentence for the user from a D-Bus error: the remote message without
 * the "GDBus.Error:name: " prefix GIO puts in front of it. g_free. */
char *hostel_vm_error_sentence(const GError *err);

#endif
