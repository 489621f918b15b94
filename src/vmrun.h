/* Running VMs: starting hostel-vm from a definition and finding and
 * talking to a running one through its control socket.
 *
 * A running VM is a hostel-vm process serving org.hostel.VM1 on
 * $XDG_RUNTIME_DIR/hostel/<uuid>.sock; there is no other record of it.
 * Its output goes to hostel-vm.log in the VM's directory.
 */
#ifndef HOSTEL_VMRUN_H
#define HOSTEL_VMRUN_H

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <stdbool.h>

#include "vmdef.h"

enum vmrun_state {
    VMRUN_STOPPED,
    VMRUN_RUNNING,
    VMRUN_PAUSED,
    VMRUN_UNRESPONSIVE,         /* the socket exists but does not answer */
};

/* Errors are in the G_IO_ERROR domain, with a sentence for the user:
 * G_IO_ERROR_NOT_FOUND (not running, or no hostel-vm program),
 * G_IO_ERROR_EXISTS (already running), G_IO_ERROR_TIMED_OUT,
 * G_IO_ERROR_PERMISSION_DENIED (a runtime directory that is not ours),
 * G_IO_ERROR_NOT_SUPPORTED (a definition hostel-vm cannot run yet),
 * G_IO_ERROR_FAILED (hostel-vm stopped while starting: its last lines). */

#define VMRUN_OBJECT_PATH "/org/hostel/VM"
#define VMRUN_INTERFACE "org.hostel.VM1"
#define VMRUN_LOG_FILE "hostel-vm.log"
#define VMRUN_MAX_DISKS 3   /* hostel-vm's --disk limit, VM_MAX_DISKS in vm.h */
#define VMRUN_DEFAULT_START_TIMEOUT_MS 10000u  /* vmrun_start with timeout_ms 0 */
#define VMRUN_STATE_TIMEOUT_MS 1000u           /* vmrun_state's patience */

/* $XDG_RUNTIME_DIR/hostel, or /tmp/hostel-<uid> without XDG_RUNTIME_DIR
 * (created 0700 on demand by vmrun_start, which refuses one that is not
 * ours alone). The environment is read on every call. */
char *vmrun_runtime_dir(void);
char *vmrun_socket_path(const struct vmdef *d);
char *vmrun_log_path(const struct vmdef *d);

/* hostel-vm's argument vector for this VM (NULL-terminated; g_strfreev).
 * hostel_vm: the program (NULL: HOSTEL_VM from the environment, else
 * "hostel-vm" in the same directory as the running program, else PATH).
 * The vector: PROGRAM --memory MIB --cpus N [--disk IMAGE]... [--cdrom ISO]
 * --boot ORDER [--firmware FILE] --control SOCKET --serial none, image
 * paths resolved (vmdef_resolve); --firmware only when it is not "bios".
 * hostel-vm takes up to VMRUN_MAX_DISKS disks (its IDE drives beside the
 * CD-ROM): more fail with G_IO_ERROR_NOT_SUPPORTED. */
char **vmrun_argv(const struct vmdef *d, const char *hostel_vm, GError **err);

/* Start the VM in the background (its own session, stdin /dev/null,
 * stdout and stderr appended to its log) and wait up to timeout_ms (0:
 * VMRUN_DEFAULT_START_TIMEOUT_MS) until its control socket answers. Fails
 * if it is running; if hostel-vm exits first, the error is its last lines
 * in the log; if it does not answer in time, it is stopped (SIGTERM, then
 * SIGKILL) and the error says so. Blocks the calling thread while it
 * waits. The process is reaped by a child watch on the global default main
 * context when it exits (or by init once the caller has exited). */
bool vmrun_start(const struct vmdef *d, const char *hostel_vm, unsigned timeout_ms, GError **err);

/* A connection to the running VM's control interface, or NULL with err
 * (G_IO_ERROR_NOT_FOUND when it is not running). timeout_ms bounds the
 * connection attempt so a hung VM cannot hang the caller. */
GDBusConnection *vmrun_connect(const struct vmdef *d, unsigned timeout_ms, GError **err);

/* Call a method of org.hostel.VM1 on /org/hostel/VM (NULL reply_type: no
 * result). Returns the reply (g_variant_unref) or NULL with err. */
GVariant *vmrun_call(GDBusConnection *c, const char *method, GVariant *args, const char *reply_type,
                     unsigned timeout_ms, GError **err);
/* The same for methods that return file descriptors (GetDisplay): *fds
 * gets the reply's descriptors (g_object_unref; may be NULL). timeout_ms 0
 * means D-Bus's default (25 s), here and in vmrun_call. Remote errors come
 * back with D-Bus's error name prefix stripped, as the VM's sentence. */
GVariant *vmrun_call_with_fds(GDBusConnection *c, const char *method, GVariant *args, const char *reply_type,
                              GUnixFDList **fds, unsigned timeout_ms, GError **err);
/* The VM's State property ("running", "paused", "stopped"; g_free). */
char *vmrun_get_state(GDBusConnection *c, unsigned timeout_ms, GError **err);

/* Stopped when the socket is missing, not a socket or refuses; running or
 * paused from its State property; unresponsive when it accepts but does not
 * answer within VMRUN_STATE_TIMEOUT_MS (each for connecting and asking). */
enum vmrun_state vmrun_state(const struct vmdef *d);
const char *vmrun_state_name(enum vmrun_state s);   /* "stopped", "running", ... */

#endif
