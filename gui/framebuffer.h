/* A VM's shared framebuffer in this process: the memfd GetDisplay passes,
 * mapped read-only once, and the geometry inside it.
 *
 * hostel-vm sizes the memfd for its largest mode and never shrinks it
 * (src/display.h), so a mode change only moves width, height and stride
 * inside the same mapping. Every geometry is checked against the mapping
 * before it is used: a wrong one is refused, never read past.
 *
 * Pixels are 0x00RRGGBB little-endian 32-bit words, which is cairo's
 * CAIRO_FORMAT_RGB24 on the little-endian hosts KVM runs on.
 */
#ifndef HOSTEL_GUI_FRAMEBUFFER_H
#define HOSTEL_GUI_FRAMEBUFFER_H

#include <cairo.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define HOSTEL_FB_MAX_DIM 16384u
#define HOSTEL_FB_MAX_BYTES ((size_t)1 << 30)

struct hostel_fb {
    const unsigned char *map;   /* NULL while nothing is mapped */
    size_t map_size;
    unsigned width, height, stride;
    guint64 generation;
    cairo_surface_t *surface;   /* over map, for the current geometry */
};

/* Map fd (which stays owned by the caller) and take the geometry. On
 * failure fb is left empty and err says why (G_IO_ERROR domain). */
bool hostel_fb_map(struct hostel_fb *fb, int fd, unsigned width, unsigned height, unsigned stride,
                   guint64 generation, GError **err);
/* A new geometry inside the same mapping. On failure nothing changes. */
bool hostel_fb_set_geometry(struct hostel_fb *fb, unsigned width, unsigned height, unsigned stride,
                            guint64 generation, GError **err);
/* Whether a geometry fits a mapping of map_size bytes. */
bool hostel_fb_geometry_ok(size_t map_size, unsigned width, unsigned height, unsigned stride);
void hostel_fb_unmap(struct hostel_fb *fb);

/* A copy of the whole screen scaled to fit max_w x max_h (aspect kept),
 * for previews; NULL when nothing is mapped. */
cairo_surface_t *hostel_fb_thumbnail(const struct hostel_fb *fb, int max_w, int max_h);

#endif
