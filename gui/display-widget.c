#include "display-widget.h"

#include "input.h"

#include <math.h>

/* Smallest size the widget asks for when scaling (so the window can be
 * made small). */
#define DISPLAY_MIN_SCALED 64

struct _HostelDisplay {
    GtkDrawingArea parent;
    struct hostel_fb fb;
    gboolean scale_to_fit;
};

G_DEFINE_TYPE(HostelDisplay, hostel_display, GTK_TYPE_DRAWING_AREA)

/* Where the screen lands in the widget: scale and top-left offset. */
static void display_placement(HostelDisplay *d, double *scale, double *ox, double *oy)
{
    int aw = gtk_widget_get_allocated_width(GTK_WIDGET(d));
    int ah = gtk_widget_get_allocated_height(GTK_WIDGET(d));
    double s = 1;
    if (d->fb.surface && d->scale_to_fit && aw > 0 && ah > 0)
        s = MIN((double)aw / d->fb.width, (double)ah / d->fb.height);
    *scale = s;
    *ox = d->fb.surface ? MAX(0.0, floor((aw - d->fb.width * s) / 2)) : 0;
    *oy = d->fb.surface ? MAX(0.0, floor((ah - d->fb.height * s) / 2)) : 0;
}

static gboolean display_draw(GtkWidget *w, cairo_t *cr)
{
    HostelDisplay *d = HOSTEL_DISPLAY(w);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_paint(cr);
    if (!d->fb.surface)
        return TRUE;
    double s, ox, oy;
    display_placement(d, &s, &ox, &oy);
    cairo_translate(cr, ox, oy);
    cairo_scale(cr, s, s);
    cairo_rectangle(cr, 0, 0, d->fb.width, d->fb.height);
    cairo_clip(cr);
    cairo_set_source_surface(cr, d->fb.surface, 0, 0);
    /* 1:1 stays pixel-exact; scaled text stays readable with bilinear. */
    cairo_pattern_set_filter(cairo_get_source(cr), s == 1 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_BILINEAR);
    cairo_paint(cr);
    return TRUE;
}

static void display_preferred(HostelDisplay *d, unsigned size, int *min, int *nat)
{
    int full = d->fb.surface ? (int)size : 320;
    *nat = full;
    *min = d->scale_to_fit || !d->fb.surface ? MIN(full, DISPLAY_MIN_SCALED) : full;
}

static void display_get_preferred_width(GtkWidget *w, int *min, int *nat)
{
    HostelDisplay *d = HOSTEL_DISPLAY(w);
    display_preferred(d, d->fb.width, min, nat);
}

static void display_get_preferred_height(GtkWidget *w, int *min, int *nat)
{
    HostelDisplay *d = HOSTEL_DISPLAY(w);
    display_preferred(d, d->fb.height, min, nat);
}

static void display_finalize(GObject *o)
{
    hostel_fb_unmap(&HOSTEL_DISPLAY(o)->fb);
    G_OBJECT_CLASS(hostel_display_parent_class)->finalize(o);
}

static void hostel_display_class_init(HostelDisplayClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->finalize = display_finalize;
    wc->draw = display_draw;
    wc->get_preferred_width = display_get_preferred_width;
    wc->get_preferred_height = display_get_preferred_height;
    gtk_widget_class_set_css_name(wc, "hostel-display");
}

static void hostel_display_init(HostelDisplay *d)
{
    d->scale_to_fit = TRUE;
    gtk_widget_set_can_focus(GTK_WIDGET(d), TRUE);
    gtk_widget_add_events(GTK_WIDGET(d), GDK_BUTTON_PRESS_MASK | GDK_BUTTON_RELEASE_MASK |
                          GDK_POINTER_MOTION_MASK | GDK_ENTER_NOTIFY_MASK | GDK_SCROLL_MASK | GDK_KEY_PRESS_MASK |
                          GDK_KEY_RELEASE_MASK | GDK_FOCUS_CHANGE_MASK);
}

GtkWidget *hostel_display_new(void)
{
    return g_object_new(HOSTEL_TYPE_DISPLAY, NULL);
}

void hostel_display_set_framebuffer(HostelDisplay *d, struct hostel_fb *fb)
{
    hostel_fb_unmap(&d->fb);
    d->fb = *fb;
    *fb = (struct hostel_fb){ 0 };
    gtk_widget_queue_resize(GTK_WIDGET(d));
}

void hostel_display_clear(HostelDisplay *d)
{
    hostel_fb_unmap(&d->fb);
    gtk_widget_queue_resize(GTK_WIDGET(d));
}

gboolean hostel_display_has_framebuffer(HostelDisplay *d)
{
    return d->fb.surface != NULL;
}

guint64 hostel_display_get_generation(HostelDisplay *d)
{
    return d->fb.surface ? d->fb.generation : 0;
}

gboolean hostel_display_set_geometry(HostelDisplay *d, unsigned width, unsigned height, unsigned stride,
                                     guint64 generation, GError **err)
{
    if (!hostel_fb_set_geometry(&d->fb, width, height, stride, generation, err))
        return FALSE;
    gtk_widget_queue_resize(GTK_WIDGET(d));
    return TRUE;
}

void hostel_display_damage(HostelDisplay *d, unsigned x, unsigned y, unsigned w, unsigned h)
{
    if (!d->fb.surface || x >= d->fb.width || y >= d->fb.height || w == 0 || h == 0)
        return;
    w = MIN(w, d->fb.width - x);
    h = MIN(h, d->fb.height - y);
    /* cairo may keep a converted copy of the surface: tell it what changed. */
    cairo_surface_mark_dirty_rectangle(d->fb.surface, (int)x, (int)y, (int)w, (int)h);
    double s, ox, oy;
    display_placement(d, &s, &ox, &oy);
    /* One pixel more on each side: bilinear scaling blends neighbours. */
    int x0 = (int)floor(ox + x * s) - 1, y0 = (int)floor(oy + y * s) - 1;
    int x1 = (int)ceil(ox + (x + w) * s) + 1, y1 = (int)ceil(oy + (y + h) * s) + 1;
    gtk_widget_queue_draw_area(GTK_WIDGET(d), MAX(0, x0), MAX(0, y0), x1 - MAX(0, x0), y1 - MAX(0, y0));
}

void hostel_display_set_scale_to_fit(HostelDisplay *d, gboolean fit)
{
    if (d->scale_to_fit == !!fit)
        return;
    d->scale_to_fit = !!fit;
    gtk_widget_queue_resize(GTK_WIDGET(d));
}

gboolean hostel_display_get_scale_to_fit(HostelDisplay *d)
{
    return d->scale_to_fit;
}

double hostel_display_get_scale(HostelDisplay *d)
{
    double s, ox, oy;
    display_placement(d, &s, &ox, &oy);
    return s > 0 ? s : 1;
}

gboolean hostel_display_to_screen(HostelDisplay *d, double wx, double wy, unsigned *sx, unsigned *sy)
{
    if (!d->fb.surface)
        return FALSE;
    double s, ox, oy;
    display_placement(d, &s, &ox, &oy);
    hostel_input_screen_pos(wx, wy, s, ox, oy, d->fb.width, d->fb.height, sx, sy);
    return TRUE;
}

void hostel_display_get_screen_size(HostelDisplay *d, unsigned *width, unsigned *height)
{
    *width = d->fb.surface ? d->fb.width : 0;
    *height = d->fb.surface ? d->fb.height : 0;
}
