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

#include "chardev.h"

#define CONTROL_RENDER_MS 33        /* screen updates while clients are connected */
#define CONTROL_CONSOLE_MS 5        /* console input pacing */
#define CONTROL_CONSOLE_MAX (64 * 1024)

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
    guint render_source;
    uint64_t display_generation;
    bool pointer_absolute;      /* as last told to clients */
    /* Serial console: output from vCPU threads (guarded by console_lock)
     * and input waiting for room in the UART. */
    struct chardev console_chardev;
    GMutex console_lock;
    GByteArray *console_out;
    bool console_flush_pending;
    GByteArray *console_in;
    guint console_in_source;
};

#define CONTROL_OBJECT_PATH "/org/hostel/VM"
#define CONTROL_INTERFACE "org.hostel.VM1"

/* Listen on a unix socket at path (replacing a stale socket there).
 * Returns 0, or -1 with a sentence in err. */
int control_start(struct control *c, struct vm *vm, struct pc *pc, const char *path, char *err, size_t errlen);

/* The chardev to add to the serial console's output: it becomes the
 * ConsoleOutput signal. Valid after control_start. */
static inline const struct chardev *control_console(struct control *c)
{
    return &c->console_chardev;
}

/* Tell clients the VM stopped, or is restarting in place for a reset
 * (reason: a sentence when something went wrong, else ""), then close the
 * socket. */
void control_stop(struct control *c, bool restarting, const char *reason);

#endif
