/* The VM window's link to its VM: one connection to the control socket,
 * kept for as long as the window is open.
 *
 * It follows State (StateChanged, and a ping every PING_MS so a hung VM
 * shows as "Not responding"), hands the framebuffer to the window
 * (GetDisplay at connect and after each DisplayChanged) and forwards
 * Damage, and the pointer mode (PointerAbsolute and PointerModeChanged). When the connection closes it reconnects for RECONNECT_MS (a
 * Reset restarts hostel-vm's machine and drops clients); if that fails the
 * VM has stopped, and the window is told why: the StateChanged reason, or
 * that the process ended without one. A stop the user asked for here
 * (Shutdown, PowerOff) ends the session as soon as the VM says "stopped"
 * and closes the connection. Every call is asynchronous with a
 * timeout (vm-client.h).
 */
#ifndef HOSTEL_GUI_VM_SESSION_H
#define HOSTEL_GUI_VM_SESSION_H

#include <gio/gio.h>

#include "framebuffer.h"
#include "vm-client.h"

#define HOSTEL_VM_SESSION_PING_MS 2000u
#define HOSTEL_VM_SESSION_RECONNECT_MS 5000u

struct hostel_vm_session_ops {
    /* Running, paused or not responding. */
    void (*status)(gpointer data, enum hostel_vm_status s);
    /* A new framebuffer; the callee takes *fb over. */
    void (*display)(gpointer data, struct hostel_fb *fb);
    void (*damage)(gpointer data, unsigned x, unsigned y, unsigned w, unsigned h);
    /* The VM has stopped for good. expected: the user asked for it here
     * (Shutdown or Power off) and it went as asked. reason is a sentence
     * for the user, possibly empty. */
    void (*stopped)(gpointer data, const char *reason, gboolean expected);
    /* Whether the guest takes absolute pointer positions (PointerAbsolute):
     * told at each connection and whenever it changes. */
    void (*pointer_mode)(gpointer data, gboolean absolute);
    /* A call the user made failed: primary says what, secondary why. */
    void (*error)(gpointer data, const char *primary, const char *secondary);
};

struct hostel_vm_session;

/* log_path: the VM's log, named when it ends without a reason. */
struct hostel_vm_session *hostel_vm_session_new(const char *socket_path, const char *log_path,
                                                const struct hostel_vm_session_ops *ops, gpointer data);
/* Detach (no more callbacks), close the connection, free. */
void hostel_vm_session_free(struct hostel_vm_session *s);

/* Call a method the user chose; failure_primary is the error dialog's
 * primary text if it fails. Shutdown and PowerOff make the stop that
 * follows expected. */
void hostel_vm_session_call(struct hostel_vm_session *s, const char *method, GVariant *args,
                            const char *failure_primary);
/* Input: errors are not shown (a key the guest's keyboard lacks is not the
 * user's problem), and nothing is sent while not connected. */
void hostel_vm_session_send_key(struct hostel_vm_session *s, unsigned code, gboolean pressed);
void hostel_vm_session_mouse(struct hostel_vm_session *s, int dx, int dy, int dz, guint32 buttons);
/* The absolute pointer at screen pixel (x, y). */
void hostel_vm_session_pointer(struct hostel_vm_session *s, unsigned x, unsigned y, int dz, guint32 buttons);

#endif
