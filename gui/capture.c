#include "capture.h"

#include <string.h>

#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif

#include "input.h"

struct hostel_capture {
    HostelDisplay *display;
    GtkWidget *toplevel;
    const struct hostel_capture_ops *ops;
    gpointer data;
    guint host_keyval;
    gboolean on_click;
    gboolean sensitive;
    gboolean active;
    gboolean absolute;
    unsigned abs_x, abs_y;      /* the absolute pointer's last position */
    GdkSeat *seat;
    GdkWindow *root;            /* watched for _NET_ACTIVE_WINDOW (X11), or NULL */
    guint active_check;         /* idle source: look at _NET_ACTIVE_WINDOW */
    struct hostel_motion motion;
    guint32 buttons;
    guint8 held[HOSTEL_INPUT_EVDEV_MAX / 8 + 1];    /* keys down in the guest, by evdev code */
};

static void capture_set_held(struct hostel_capture *c, unsigned code, gboolean down)
{
    if (down)
        c->held[code / 8] |= (guint8)(1u << (code % 8));
    else
        c->held[code / 8] &= (guint8)~(1u << (code % 8));
}

/* End the capture: give the seat back and lift whatever the guest still
 * sees pressed. */
/* Let go of the mouse buttons the guest sees held. With an absolute
 * pointer they can be held without a capture (a click that did not
 * capture), so this runs whenever input stops, captured or not. */
static void capture_lift_buttons(struct hostel_capture *c)
{
    if (!c->buttons)
        return;
    c->buttons = 0;
    if (c->absolute)
        c->ops->pointer(c->data, c->abs_x, c->abs_y, 0, 0);
    else
        c->ops->mouse(c->data, 0, 0, 0, 0);
}

static void capture_end(struct hostel_capture *c, gboolean ungrab)
{
    capture_lift_buttons(c);
    if (!c->active)
        return;
    c->active = FALSE;
    if (ungrab && c->seat)
        gdk_seat_ungrab(c->seat);
    c->seat = NULL;
    for (unsigned code = 0; code <= HOSTEL_INPUT_EVDEV_MAX; code++) {
        if (c->held[code / 8] & (1u << (code % 8))) {
            capture_set_held(c, code, FALSE);
            c->ops->key(c->data, code, FALSE);
        }
    }
    hostel_motion_reset(&c->motion);
    c->ops->changed(c->data, FALSE);
}

/* With an absolute pointer the guest draws the cursor: the host's is
 * hidden over the screen while input goes to the guest. */
static void capture_update_cursor(struct hostel_capture *c)
{
    GtkWidget *w = GTK_WIDGET(c->display);
    GdkWindow *win = gtk_widget_get_window(w);
    if (!win)
        return;
    GdkCursor *cursor = NULL;
    if (c->absolute && c->sensitive)
        cursor = gdk_cursor_new_for_display(gtk_widget_get_display(w), GDK_BLANK_CURSOR);
    gdk_window_set_cursor(win, cursor);
    if (cursor)
        g_object_unref(cursor);
}

static void capture_realize(GtkWidget *w, gpointer p)
{
    capture_update_cursor(p);
}

gboolean hostel_capture_start(struct hostel_capture *c, const GdkEvent *trigger)
{
    if (c->active)
        return TRUE;
    GtkWidget *w = GTK_WIDGET(c->display);
    GdkWindow *win = gtk_widget_get_window(w);
    if (!c->sensitive || !win || !gtk_widget_get_mapped(w))
        return FALSE;
    GdkDisplay *gd = gtk_widget_get_display(w);
    GdkSeat *seat = gdk_display_get_default_seat(gd);
    /* With an absolute pointer only the keyboard is taken. */
    GdkCursor *blank = c->absolute ? NULL : gdk_cursor_new_for_display(gd, GDK_BLANK_CURSOR);
    GdkGrabStatus st = gdk_seat_grab(seat, win, c->absolute ? GDK_SEAT_CAPABILITY_KEYBOARD : GDK_SEAT_CAPABILITY_ALL,
                                     FALSE, blank, trigger, NULL, NULL);
    if (blank)
        g_object_unref(blank);
    if (st != GDK_GRAB_SUCCESS)
        return FALSE;
    c->seat = seat;
    c->active = TRUE;
    c->buttons = 0;
    hostel_motion_reset(&c->motion);
    /* Motion is measured from where the pointer is now. */
    int x, y, dx, dy;
    gdk_device_get_position(gdk_seat_get_pointer(seat), NULL, &x, &y);
    hostel_motion_feed(&c->motion, x, y, 1, &dx, &dy);
    gtk_widget_grab_focus(w);
    c->ops->changed(c->data, TRUE);
    return TRUE;
}

void hostel_capture_release(struct hostel_capture *c)
{
    capture_end(c, TRUE);
}

gboolean hostel_capture_active(struct hostel_capture *c)
{
    return c->active;
}

static gboolean capture_key(GtkWidget *w, GdkEventKey *ev, gpointer p)
{
    struct hostel_capture *c = p;
    if (!c->active)
        return FALSE;
    gboolean pressed = ev->type == GDK_KEY_PRESS;
    if (c->host_keyval && ev->keyval == c->host_keyval) {
        /* The host key never reaches the guest; letting go of it releases. */
        if (!pressed)
            capture_end(c, TRUE);
        return TRUE;
    }
    unsigned code = hostel_input_evdev_code(ev->hardware_keycode);
    if (code) {
        capture_set_held(c, code, pressed);
        c->ops->key(c->data, code, pressed);
    }
    return TRUE;
}

/* The absolute pointer to where the host's is over the screen. */
static void capture_pointer(struct hostel_capture *c, double wx, double wy, int dz)
{
    unsigned x, y;
    if (!hostel_display_to_screen(c->display, wx, wy, &x, &y))
        return;
    c->abs_x = x;
    c->abs_y = y;
    c->ops->pointer(c->data, x, y, dz, c->buttons);
}

static gboolean capture_button(GtkWidget *w, GdkEventButton *ev, gpointer p)
{
    struct hostel_capture *c = p;
    if (ev->type != GDK_BUTTON_PRESS && ev->type != GDK_BUTTON_RELEASE)
        return TRUE;    /* GDK's synthesized double and triple clicks */
    if (c->absolute) {
        gboolean press = ev->type == GDK_BUTTON_PRESS;
        if (!c->sensitive) {
            /* Nothing reaches a VM that is not running; a release still counts. */
            if (!press)
                c->buttons &= ~hostel_input_button_bit(ev->button);
            return TRUE;
        }
        if (press && ev->button == GDK_BUTTON_PRIMARY && !c->active && c->on_click)
            hostel_capture_start(c, (GdkEvent *)ev);
        guint32 bit = hostel_input_button_bit(ev->button);
        if (bit) {
            c->buttons = press ? c->buttons | bit : c->buttons & ~bit;
            capture_pointer(c, ev->x, ev->y, 0);
        }
        return TRUE;
    }
    if (!c->active) {
        if (ev->type == GDK_BUTTON_PRESS && ev->button == GDK_BUTTON_PRIMARY && c->on_click)
            hostel_capture_start(c, (GdkEvent *)ev);
        return TRUE;
    }
    guint32 bit = hostel_input_button_bit(ev->button);
    if (!bit)
        return TRUE;
    if (ev->type == GDK_BUTTON_PRESS)
        c->buttons |= bit;
    else
        c->buttons &= ~bit;
    c->ops->mouse(c->data, 0, 0, 0, c->buttons);
    return TRUE;
}

static gboolean capture_motion(GtkWidget *w, GdkEventMotion *ev, gpointer p)
{
    struct hostel_capture *c = p;
    if (c->absolute && c->sensitive) {
        capture_pointer(c, ev->x, ev->y, 0);
        return TRUE;
    }
    if (!c->active)
        return FALSE;
    int dx, dy;
    /* Root coordinates: the same frame however the widget moves. */
    if (hostel_motion_feed(&c->motion, ev->x_root, ev->y_root, hostel_display_get_scale(c->display), &dx, &dy))
        c->ops->mouse(c->data, dx, dy, 0, c->buttons);
    return TRUE;
}

/* The pointer entering the screen (a jump onto it brings no motion event
 * of its own): the guest's pointer goes there at once. */
static gboolean capture_enter(GtkWidget *w, GdkEventCrossing *ev, gpointer p)
{
    struct hostel_capture *c = p;
    if (c->absolute && c->sensitive)
        capture_pointer(c, ev->x, ev->y, 0);
    return FALSE;
}

static gboolean capture_scroll(GtkWidget *w, GdkEventScroll *ev, gpointer p)
{
    struct hostel_capture *c = p;
    int dz = hostel_input_wheel(ev->direction);
    if (c->absolute && c->sensitive) {
        if (dz)
            capture_pointer(c, ev->x, ev->y, dz);
        return TRUE;
    }
    if (!c->active)
        return FALSE;
    if (dz)
        c->ops->mouse(c->data, 0, 0, dz, c->buttons);
    return TRUE;
}

static gboolean capture_grab_broken(GtkWidget *w, GdkEventGrabBroken *ev, gpointer p)
{
    capture_end(p, FALSE);
    return FALSE;
}

static void capture_unmap(GtkWidget *w, gpointer p)
{
    capture_end(p, TRUE);
}

/* The window stopped being the active one: with an absolute pointer the
 * user can click another window (the pointer is not grabbed), and then the
 * keys are that window's, not the guest's. With relative motion both are
 * grabbed and the capture stays. */
static void capture_deactivated(struct hostel_capture *c)
{
    if (c->active && c->absolute)
        capture_end(c, TRUE);
}

/* Where the focus moving away reaches GTK in spite of the grab (not under
 * X: see below). */
static void capture_is_active(GObject *toplevel, GParamSpec *pspec, gpointer p)
{
    if (!gtk_window_is_active(GTK_WINDOW(toplevel)))
        capture_deactivated(p);
}

#ifdef GDK_WINDOWING_X11
/* Under X, GTK does not see the window manager give the focus to another
 * window while the keyboard is grabbed: the focus events of that change
 * (mode NotifyWhileGrabbed) leave the window "active", and neither
 * focus-out-event nor notify::is-active comes. The window manager's
 * _NET_ACTIVE_WINDOW property on the root window (EWMH, "Root Window
 * Properties") says which window it made active. */
static gboolean capture_check_active(gpointer p)
{
    struct hostel_capture *c = p;
    c->active_check = 0;
    GdkWindow *own = gtk_widget_get_window(c->toplevel);
    if (!c->active || !c->absolute || !own)
        return G_SOURCE_REMOVE;
    GdkAtom type = GDK_NONE;
    gint format = 0, length = 0;
    guchar *data = NULL;
    /* Format 32 comes as C longs (Xlib's convention); any type is taken
     * and checked here, so a wrong one is no warning. */
    if (!gdk_property_get(c->root, gdk_atom_intern_static_string("_NET_ACTIVE_WINDOW"), GDK_NONE, 0,
                          sizeof(guint32), FALSE, &type, &format, &length, &data))
        return G_SOURCE_REMOVE;
    gulong xid = 0;
    gboolean known = type == gdk_atom_intern_static_string("WINDOW") && format == 32;
    if (known && length >= (gint)sizeof(gulong))
        memcpy(&xid, data, sizeof xid);
    g_free(data);
    /* None (0), no window active, is let be: window managers go through
     * it on the way from one window to the next. */
    if (known && xid && xid != gdk_x11_window_get_xid(own))
        capture_deactivated(c);
    return G_SOURCE_REMOVE;
}

static GdkFilterReturn capture_root_filter(GdkXEvent *xevent, GdkEvent *event, gpointer p)
{
    struct hostel_capture *c = p;
    const XEvent *xev = xevent;
    if (xev->type == PropertyNotify && c->active && c->absolute && !c->active_check
        && xev->xproperty.atom == gdk_x11_get_xatom_by_name_for_display(gdk_window_get_display(c->root),
                                                                        "_NET_ACTIVE_WINDOW"))
        /* Read it out of the event filter, once for a burst of changes. */
        c->active_check = g_idle_add(capture_check_active, c);
    return GDK_FILTER_CONTINUE;
}

static void capture_watch_active_window(struct hostel_capture *c)
{
    GdkScreen *screen = gtk_widget_get_screen(c->toplevel);
    if (!GDK_IS_X11_DISPLAY(gdk_screen_get_display(screen)))
        return;
    c->root = gdk_screen_get_root_window(screen);
    /* Added to what the root window's mask already has (GDK's own). */
    gdk_window_set_events(c->root, gdk_window_get_events(c->root) | GDK_PROPERTY_CHANGE_MASK);
    gdk_window_add_filter(c->root, capture_root_filter, c);
}
#endif

struct hostel_capture *hostel_capture_new(HostelDisplay *display, const struct hostel_capture_ops *ops,
                                          gpointer data)
{
    struct hostel_capture *c = g_new0(struct hostel_capture, 1);
    c->display = display;
    c->ops = ops;
    c->data = data;
    c->on_click = TRUE;
    c->host_keyval = GDK_KEY_Control_R;
    c->toplevel = gtk_widget_get_toplevel(GTK_WIDGET(display));
    GObject *d = G_OBJECT(display);
    g_signal_connect(d, "button-press-event", G_CALLBACK(capture_button), c);
    g_signal_connect(d, "button-release-event", G_CALLBACK(capture_button), c);
    g_signal_connect(d, "motion-notify-event", G_CALLBACK(capture_motion), c);
    g_signal_connect(d, "scroll-event", G_CALLBACK(capture_scroll), c);
    g_signal_connect(d, "enter-notify-event", G_CALLBACK(capture_enter), c);
    g_signal_connect(d, "grab-broken-event", G_CALLBACK(capture_grab_broken), c);
    g_signal_connect(d, "unmap", G_CALLBACK(capture_unmap), c);
    g_signal_connect(d, "realize", G_CALLBACK(capture_realize), c);
    /* Keys reach the toplevel first; taking them there keeps the window's
     * own shortcuts from seeing what belongs to the guest. */
    if (GTK_IS_WINDOW(c->toplevel)) {
        g_signal_connect(c->toplevel, "key-press-event", G_CALLBACK(capture_key), c);
        g_signal_connect(c->toplevel, "key-release-event", G_CALLBACK(capture_key), c);
        g_signal_connect(c->toplevel, "notify::is-active", G_CALLBACK(capture_is_active), c);
#ifdef GDK_WINDOWING_X11
        capture_watch_active_window(c);
#endif
    }
    return c;
}

void hostel_capture_free(struct hostel_capture *c)
{
    if (!c)
        return;
    capture_end(c, TRUE);
#ifdef GDK_WINDOWING_X11
    if (c->root)
        gdk_window_remove_filter(c->root, capture_root_filter, c);
#endif
    if (c->active_check)
        g_source_remove(c->active_check);
    g_signal_handlers_disconnect_by_data(c->display, c);
    if (GTK_IS_WINDOW(c->toplevel))
        g_signal_handlers_disconnect_by_data(c->toplevel, c);
    g_free(c);
}

void hostel_capture_set_host_key(struct hostel_capture *c, const char *key_name)
{
    guint kv = key_name ? gdk_keyval_from_name(key_name) : GDK_KEY_VoidSymbol;
    c->host_keyval = kv == GDK_KEY_VoidSymbol ? GDK_KEY_Control_R : kv;
}

void hostel_capture_set_on_click(struct hostel_capture *c, gboolean on_click)
{
    c->on_click = on_click;
}

void hostel_capture_set_sensitive(struct hostel_capture *c, gboolean sensitive)
{
    c->sensitive = sensitive;
    if (!sensitive)
        capture_end(c, TRUE);
    capture_update_cursor(c);
}

void hostel_capture_set_absolute(struct hostel_capture *c, gboolean absolute)
{
    if (c->absolute == !!absolute)
        return;
    capture_end(c, TRUE);
    c->buttons = 0;
    c->absolute = !!absolute;
    capture_update_cursor(c);
    c->ops->changed(c->data, FALSE);
}

gboolean hostel_capture_get_absolute(struct hostel_capture *c)
{
    return c->absolute;
}
