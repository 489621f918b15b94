/* Keyboard and mouse capture for a VM's screen.
 *
 * A click on the screen grabs the seat (gdk_seat_grab: keyboard and
 * pointer, pointer hidden); from then on every key goes to the guest as
 * its evdev code, including combinations the desktop would otherwise take
 * (Alt+Tab) where the grab gets them first, and pointer motion goes as
 * relative deltas (see input.h for the warp-free limit). The host key
 * (released) ends the capture; so do a broken grab, the window losing the
 * screen, and hostel_capture_release. Keys still held for the guest when
 * the capture ends are released in the guest, so none stays stuck.
 *
 * When the guest drives an absolute pointer (its tablet driver runs:
 * hostel_capture_set_absolute), the mouse is never captured: the pointer
 * over the screen goes to the guest as screen pixels, with its buttons and
 * wheel, and the host's cursor is hidden there (the guest draws its own).
 * A click then captures the keyboard alone (and reaches the guest too).
 * As the pointer is free, the user can click another window: the capture
 * ends when the window stops being the active one (under X, when the
 * window manager's _NET_ACTIVE_WINDOW names another window).
 */
#ifndef HOSTEL_GUI_CAPTURE_H
#define HOSTEL_GUI_CAPTURE_H

#include <gtk/gtk.h>

#include "display-widget.h"

struct hostel_capture_ops {
    void (*key)(gpointer data, unsigned evdev_code, gboolean pressed);
    void (*mouse)(gpointer data, int dx, int dy, int dz, guint32 buttons);
    /* The absolute pointer at screen pixel (x, y). */
    void (*pointer)(gpointer data, unsigned x, unsigned y, int dz, guint32 buttons);
    void (*changed)(gpointer data, gboolean captured);
};

struct hostel_capture;

/* Watch the display's events (and its toplevel's keys). */
struct hostel_capture *hostel_capture_new(HostelDisplay *display, const struct hostel_capture_ops *ops,
                                          gpointer data);
void hostel_capture_free(struct hostel_capture *c);

/* The host key as a GDK key name ("Control_R"). */
void hostel_capture_set_host_key(struct hostel_capture *c, const char *key_name);
/* Whether a click captures (the capture-on-click setting). */
void hostel_capture_set_on_click(struct hostel_capture *c, gboolean on_click);
/* Whether input may go to the guest at all (FALSE while it is not running). */
void hostel_capture_set_sensitive(struct hostel_capture *c, gboolean sensitive);

/* Whether the guest takes absolute pointer positions. A change ends a
 * capture in progress. */
void hostel_capture_set_absolute(struct hostel_capture *c, gboolean absolute);
gboolean hostel_capture_get_absolute(struct hostel_capture *c);

gboolean hostel_capture_start(struct hostel_capture *c, const GdkEvent *trigger);
void hostel_capture_release(struct hostel_capture *c);
gboolean hostel_capture_active(struct hostel_capture *c);

#endif
