/* HostelDisplay: draws a VM's screen from its shared framebuffer.
 *
 * Either scaled to the widget (aspect kept, centred, black around it) or
 * at its own size (centred when smaller than the widget; put it in a
 * scrolled window for when it is larger). Damage repaints only the
 * damaged rectangles, converted to widget coordinates.
 */
#ifndef HOSTEL_GUI_DISPLAY_WIDGET_H
#define HOSTEL_GUI_DISPLAY_WIDGET_H

#include <gtk/gtk.h>

#include "framebuffer.h"

#define HOSTEL_TYPE_DISPLAY (hostel_display_get_type())
G_DECLARE_FINAL_TYPE(HostelDisplay, hostel_display, HOSTEL, DISPLAY, GtkDrawingArea)

GtkWidget *hostel_display_new(void);

/* Show this framebuffer; the widget takes it over (*fb is left empty). */
void hostel_display_set_framebuffer(HostelDisplay *d, struct hostel_fb *fb);
/* Drop the framebuffer (the VM went away); the widget shows black. */
void hostel_display_clear(HostelDisplay *d);
gboolean hostel_display_has_framebuffer(HostelDisplay *d);
/* The framebuffer's generation, 0 when there is none. */
guint64 hostel_display_get_generation(HostelDisplay *d);
/* A geometry change inside the same framebuffer (DisplayChanged). */
gboolean hostel_display_set_geometry(HostelDisplay *d, unsigned width, unsigned height, unsigned stride,
                                     guint64 generation, GError **err);
/* Repaint a rectangle in framebuffer pixels (clipped to the screen). */
void hostel_display_damage(HostelDisplay *d, unsigned x, unsigned y, unsigned w, unsigned h);

void hostel_display_set_scale_to_fit(HostelDisplay *d, gboolean fit);
gboolean hostel_display_get_scale_to_fit(HostelDisplay *d);
/* Widget pixels per framebuffer pixel as currently drawn (1 when there
 * is no framebuffer). */
double hostel_display_get_scale(HostelDisplay *d);
/* The framebuffer pixel under widget position (wx, wy), clamped to the
 * screen; FALSE without a framebuffer. */
gboolean hostel_display_to_screen(HostelDisplay *d, double wx, double wy, unsigned *sx, unsigned *sy);
/* The screen's size in framebuffer pixels (0 x 0 without one). */
void hostel_display_get_screen_size(HostelDisplay *d, unsigned *width, unsigned *height);

#endif
