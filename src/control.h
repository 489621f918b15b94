/* The control interface: org.hostel.VM1 (data/dbus/org.hostel.VM1.xml)
 * served peer-to-peer over D-Bus on a unix socket, for hostelctl and the
 * GUI. It runs on the VM's main loop; only the user running hostel-vm may
 * connect (the socket is mode 0600 and GDBus checks the peer's uid).
 */
#ifndef HOSTEL_CONTROL_H
#define HOSTEL_CONTROL_H

#include <gio/gio.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;
struct pc;

struct control {
    struct vm *vm;
    struct pc *pc;
    char *path;
    GDBusServer *server;
    GDBusNodeInfo *node;
    GPtrArray *connections;     /* GDBusConnection *, with registered objects */
    const char *state;          /* "running", "paused" or "stopped" */
};

#define CONTROL_OBJECT_PATH "/org/hostel/VM"
#define CONTROL_INTERFACE "org.hostel.VM1"

/* Listen on a unix socket at path (replacing a stale socket there).
 * Returns 0, or -1 with a sentence in err. */
int control_start(struct control *c, struct vm *vm, struct pc *pc, const char *path, char *err, size_t errlen);

/* Tell clients the VM stopped (reason: a sentence), then close the socket. */
void control_stop(struct control *c, const char *reason);

#endif
