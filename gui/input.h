/* Input translation for the VM window: GDK key and pointer events into
 * what org.hostel.VM1 takes (SendKey's Linux evdev codes, MouseEvent's
 * relative motion and button mask).
 *
 * Pure functions and a small accumulator, no GTK state, so they are unit
 * tested on their own (tests/gui/test_gui_input.c).
 */
#ifndef HOSTEL_GUI_INPUT_H
#define HOSTEL_GUI_INPUT_H

#include <gdk/gdk.h>
#include <stdbool.h>

/* Highest evdev key code (KEY_MAX in linux/input-event-codes.h). */
#define HOSTEL_INPUT_EVDEV_MAX 0x2ffu

/* The evdev code of a GDK hardware keycode, or 0 when it has none.
 * On X11 with the evdev/libinput drivers (and on Wayland, whose keycodes
 * are evdev codes shifted the X way) a keycode is the evdev code plus 8. */
unsigned hostel_input_evdev_code(guint16 hardware_keycode);

/* MouseEvent's button bit of a GDK button number (1 left, 2 middle,
 * 3 right), or 0 for buttons the guest's PS/2 mouse does not have. */
guint32 hostel_input_button_bit(guint button);

/* The MouseEvent button mask of the buttons held in a GDK modifier state. */
guint32 hostel_input_buttons_from_state(GdkModifierType state);

/* MouseEvent's wheel value of a scroll direction: +1 away from the user
 * (up), -1 towards (down), 0 for sideways scrolling. */
int hostel_input_wheel(GdkScrollDirection dir);

/* Relative motion from absolute pointer positions (no pointer warping):
 * each position is compared with the previous one, divided by the screen's
 * scale factor and the fractions carried over, so the guest's pointer
 * moves by the whole distance in guest pixels however it was split up.
 * While the pointer is stuck at an edge of the host screen no motion
 * events arrive, so the guest's pointer stops too: the known limit of
 * the warp-free approach. */
struct hostel_motion {
    bool have_last;
    double last_x, last_y;
    double carry_x, carry_y;
};

void hostel_motion_reset(struct hostel_motion *m);
/* Feed a position (widget pixels); scale is guest pixels per widget pixel
 * inverted (widget pixels per guest pixel, > 0). Returns whether there is
 * motion to send, with the whole guest pixels in *dx, *dy (clamped to
 * +-HOSTEL_MOTION_MAX per event; the rest is carried). */
#define HOSTEL_MOTION_MAX 4096
bool hostel_motion_feed(struct hostel_motion *m, double x, double y, double scale, int *dx, int *dy);

/* The screen pixel under a widget position, for the absolute pointer: the
 * screen is drawn at scale (widget pixels per screen pixel, > 0) with its
 * top-left corner at (ox, oy) in the widget. Positions beside the screen
 * are clamped to its edge, so the pointer can reach the edge pixels.
 * Returns whether the position lies on the screen itself. */
bool hostel_input_screen_pos(double wx, double wy, double scale, double ox, double oy, unsigned width,
                             unsigned height, unsigned *sx, unsigned *sy);

/* The user-visible name of a host key given as a GDK key name
 * ("Control_R" -> "Right Ctrl"), translated; g_free the result. */
char *hostel_input_key_label(const char *key_name);

#endif
