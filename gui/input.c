#include "input.h"

#include <glib/gi18n.h>
#include <math.h>

/* X keycodes start at 8: the X protocol reserves 0-7, and the evdev
 * driver maps evdev code N to keycode N + 8 (xkeyboard-config's "evdev"
 * keycodes file). Code 0 is KEY_RESERVED. */
#define X_KEYCODE_OFFSET 8u

unsigned hostel_input_evdev_code(guint16 hardware_keycode)
{
    if (hardware_keycode <= X_KEYCODE_OFFSET)
        return 0;
    unsigned code = hardware_keycode - X_KEYCODE_OFFSET;
    return code <= HOSTEL_INPUT_EVDEV_MAX ? code : 0;
}

/* Bit 0 left, 1 right, 2 middle (org.hostel.VM1.MouseEvent). */
guint32 hostel_input_button_bit(guint button)
{
    switch (button) {
    case GDK_BUTTON_PRIMARY:
        return 1u << 0;
    case GDK_BUTTON_SECONDARY:
        return 1u << 1;
    case GDK_BUTTON_MIDDLE:
        return 1u << 2;
    default:
        return 0;
    }
}

guint32 hostel_input_buttons_from_state(GdkModifierType state)
{
    guint32 mask = 0;
    if (state & GDK_BUTTON1_MASK)
        mask |= hostel_input_button_bit(GDK_BUTTON_PRIMARY);
    if (state & GDK_BUTTON2_MASK)
        mask |= hostel_input_button_bit(GDK_BUTTON_MIDDLE);
    if (state & GDK_BUTTON3_MASK)
        mask |= hostel_input_button_bit(GDK_BUTTON_SECONDARY);
    return mask;
}

int hostel_input_wheel(GdkScrollDirection dir)
{
    switch (dir) {
    case GDK_SCROLL_UP:
        return 1;
    case GDK_SCROLL_DOWN:
        return -1;
    default:
        return 0;
    }
}

void hostel_motion_reset(struct hostel_motion *m)
{
    *m = (struct hostel_motion){ 0 };
}

/* Take the whole part of *carry, at most HOSTEL_MOTION_MAX either way. */
static int motion_take(double *carry)
{
    double whole = trunc(*carry);
    /* A carry a rounding error short of a whole pixel is that pixel. */
    if (fabs(*carry - whole) > 1.0 - 1e-6)
        whole += copysign(1.0, *carry);
    if (whole > HOSTEL_MOTION_MAX)
        whole = HOSTEL_MOTION_MAX;
    else if (whole < -HOSTEL_MOTION_MAX)
        whole = -HOSTEL_MOTION_MAX;
    *carry -= whole;
    return (int)whole;
}

bool hostel_motion_feed(struct hostel_motion *m, double x, double y, double scale, int *dx, int *dy)
{
    *dx = *dy = 0;
    if (!isfinite(x) || !isfinite(y))
        return false;
    if (!m->have_last) {
        m->have_last = true;
        m->last_x = x;
        m->last_y = y;
        return false;
    }
    if (!(scale > 0) || !isfinite(scale))
        scale = 1;
    m->carry_x += (x - m->last_x) / scale;
    m->carry_y += (y - m->last_y) / scale;
    m->last_x = x;
    m->last_y = y;
    /* A carry beyond what can ever be sent is noise (a jump of the
     * pointer across screens): drop it rather than replay it for ages. */
    double limit = 64.0 * HOSTEL_MOTION_MAX;
    m->carry_x = fmax(-limit, fmin(limit, m->carry_x));
    m->carry_y = fmax(-limit, fmin(limit, m->carry_y));
    *dx = motion_take(&m->carry_x);
    *dy = motion_take(&m->carry_y);
    return *dx != 0 || *dy != 0;
}

/* One axis: the widget position back to screen pixels (floor: a screen
 * pixel covers [p, p + 1) scaled), clamped to [0, size - 1]. */
static unsigned screen_axis(double w, double scale, double origin, unsigned size, bool *inside)
{
    double p = isfinite(w) ? floor((w - origin) / scale) : -1;
    if (p < 0 || p > (double)size - 1) {
        *inside = false;
        p = p < 0 ? 0 : (double)size - 1;
    }
    return (unsigned)p;
}

bool hostel_input_screen_pos(double wx, double wy, double scale, double ox, double oy, unsigned width,
                             unsigned height, unsigned *sx, unsigned *sy)
{
    *sx = *sy = 0;
    if (!width || !height)
        return false;
    if (!(scale > 0) || !isfinite(scale))
        scale = 1;
    bool inside = true;
    *sx = screen_axis(wx, scale, ox, width, &inside);
    *sy = screen_axis(wy, scale, oy, height, &inside);
    return inside;
}

char *hostel_input_key_label(const char *key_name)
{
    static const struct {
        const char *name;
        const char *label;
    } names[] = {
        { "Control_R", N_("Right Ctrl") },
        { "Control_L", N_("Left Ctrl") },
        { "Alt_R", N_("Right Alt") },
        { "Alt_L", N_("Left Alt") },
        { "ISO_Level3_Shift", N_("AltGr") },
        { "Super_R", N_("Right Super") },
        { "Super_L", N_("Left Super") },
        { "Shift_R", N_("Right Shift") },
        { "Shift_L", N_("Left Shift") },
        { "Menu", N_("Menu") },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (g_strcmp0(key_name, names[i].name) == 0)
            return g_strdup(_(names[i].label));
    guint keyval = key_name ? gdk_keyval_from_name(key_name) : GDK_KEY_VoidSymbol;
    if (keyval == GDK_KEY_VoidSymbol || keyval == 0)
        return g_strdup(key_name ? key_name : "");
    return g_strdup(gdk_keyval_name(keyval));
}
