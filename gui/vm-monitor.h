/* Watching the state of the VMs in the main window's list, without ever
 * waiting on one: every POLL_MS each VM whose control socket exists is
 * asked for its State (and, when running, its screen for a preview) over a
 * short connection of its own, asynchronously and with timeouts. No socket
 * or nothing listening means "Stopped"; no answer in time means "Not
 * responding". One poll per VM is in flight at most.
 */
#ifndef HOSTEL_GUI_VM_MONITOR_H
#define HOSTEL_GUI_VM_MONITOR_H

#include <cairo.h>
#include <glib.h>

#include "vm-client.h"

#define HOSTEL_VM_MONITOR_POLL_MS 1500u
#define HOSTEL_VM_MONITOR_PREVIEW_W 320
#define HOSTEL_VM_MONITOR_PREVIEW_H 240

/* A VM's status changed or a new preview arrived (preview may be NULL:
 * none; it belongs to the callee only for the duration of the call). */
typedef void (*hostel_vm_monitor_fn)(const char *uuid, enum hostel_vm_status status, cairo_surface_t *preview,
                                     gpointer data);

struct hostel_vm_monitor;

struct hostel_vm_monitor *hostel_vm_monitor_new(hostel_vm_monitor_fn fn, gpointer data);
/* Watch this VM (again); VMs not watched since the last clear are dropped
 * by hostel_vm_monitor_prune. */
void hostel_vm_monitor_watch(struct hostel_vm_monitor *m, const char *uuid, const char *socket_path);
void hostel_vm_monitor_begin_update(struct hostel_vm_monitor *m);
void hostel_vm_monitor_prune(struct hostel_vm_monitor *m);
/* Poll this VM now (after a button changed its state). */
void hostel_vm_monitor_poke(struct hostel_vm_monitor *m, const char *uuid);
/* Show a status until the next poll result (e.g. "Starting…"). */
void hostel_vm_monitor_set_status(struct hostel_vm_monitor *m, const char *uuid, enum hostel_vm_status s);
enum hostel_vm_status hostel_vm_monitor_status(struct hostel_vm_monitor *m, const char *uuid);
void hostel_vm_monitor_free(struct hostel_vm_monitor *m);

#endif
