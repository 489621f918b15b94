#include "framebuffer.h"

#include <errno.h>
#include <gio/gio.h>
#include <sys/mman.h>
#include <sys/stat.h>

bool hostel_fb_geometry_ok(size_t map_size, unsigned width, unsigned height, unsigned stride)
{
    if (width == 0 || height == 0 || width > HOSTEL_FB_MAX_DIM || height > HOSTEL_FB_MAX_DIM)
        return false;
    /* cairo wants 32-bit aligned rows holding the whole width. */
    if (stride % 4 != 0 || stride / 4 < width)
        return false;
    return (size_t)stride * height <= map_size;
}

static bool fb_make_surface(struct hostel_fb *fb, GError **err)
{
    cairo_surface_t *s = cairo_image_surface_create_for_data((unsigned char *)fb->map, CAIRO_FORMAT_RGB24,
                                                             (int)fb->width, (int)fb->height, (int)fb->stride);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The VM's screen cannot be drawn (%s).",
                    cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return false;
    }
    if (fb->surface)
        cairo_surface_destroy(fb->surface);
    fb->surface = s;
    return true;
}

bool hostel_fb_set_geometry(struct hostel_fb *fb, unsigned width, unsigned height, unsigned stride,
                            guint64 generation, GError **err)
{
    if (!fb->map || !hostel_fb_geometry_ok(fb->map_size, width, height, stride)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "The VM reported a screen of %ux%u (%u bytes a row) that does not fit its framebuffer.",
                    width, height, stride);
        return false;
    }
    struct hostel_fb old = *fb;
    fb->width = width;
    fb->height = height;
    fb->stride = stride;
    fb->generation = generation;
    fb->surface = NULL;
    if (!fb_make_surface(fb, err)) {
        *fb = old;
        return false;
    }
    if (old.surface)
        cairo_surface_destroy(old.surface);
    return true;
}

bool hostel_fb_map(struct hostel_fb *fb, int fd, unsigned width, unsigned height, unsigned stride,
                   guint64 generation, GError **err)
{
    hostel_fb_unmap(fb);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (unsigned long long)st.st_size > HOSTEL_FB_MAX_BYTES) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The VM passed a framebuffer that cannot be used.");
        return false;
    }
    size_t size = (size_t)st.st_size;
    if (!hostel_fb_geometry_ok(size, width, height, stride)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "The VM reported a screen of %ux%u (%u bytes a row) that does not fit its framebuffer.",
                    width, height, stride);
        return false;
    }
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno), "Could not map the VM's screen (%s).",
                    g_strerror(errno));
        return false;
    }
    fb->map = p;
    fb->map_size = size;
    if (!hostel_fb_set_geometry(fb, width, height, stride, generation, err)) {
        hostel_fb_unmap(fb);
        return false;
    }
    return true;
}

void hostel_fb_unmap(struct hostel_fb *fb)
{
    if (fb->surface)
        cairo_surface_destroy(fb->surface);
    if (fb->map)
        munmap((void *)fb->map, fb->map_size);
    *fb = (struct hostel_fb){ 0 };
}

cairo_surface_t *hostel_fb_thumbnail(const struct hostel_fb *fb, int max_w, int max_h)
{
    if (!fb->surface || max_w <= 0 || max_h <= 0)
        return NULL;
    double scale = MIN((double)max_w / fb->width, (double)max_h / fb->height);
    int w = MAX(1, (int)(fb->width * scale + 0.5)), h = MAX(1, (int)(fb->height * scale + 0.5));
    cairo_surface_t *out = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(out);
    cairo_scale(cr, scale, scale);
    cairo_surface_mark_dirty(fb->surface);
    cairo_set_source_surface(cr, fb->surface, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_destroy(cr);
    return out;
}
