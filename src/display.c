/* Shared framebuffer surface and its damage accumulator. */
#include "display.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DISPLAY_DEFAULT_WIDTH 640u
#define DISPLAY_DEFAULT_HEIGHT 480u

int display_init(struct display *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    size_t size = (size_t)DISPLAY_MAX_WIDTH * DISPLAY_MAX_HEIGHT * DISPLAY_BYTES_PER_PIXEL;
    int fd = memfd_create("hostel-framebuffer", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "Could not create the display surface (memfd_create: %s).", strerror(errno));
        return -1;
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        snprintf(err, errlen, "Could not size the display surface to %zu MiB (%s).", size >> 20, strerror(errno));
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "Could not map the display surface (%s).", strerror(errno));
        close(fd);
        return -1;
    }
    d->fd = fd;
    d->base = p;
    d->map_size = size;
    d->generation = 0;
    display_resize(d, DISPLAY_DEFAULT_WIDTH, DISPLAY_DEFAULT_HEIGHT);
    return 0;
}

void display_destroy(struct display *d)
{
    if (d->base)
        munmap(d->base, d->map_size);
    if (d->fd >= 0)
        close(d->fd);
    memset(d, 0, sizeof(*d));
    d->fd = -1;
}

bool display_resize(struct display *d, unsigned width, unsigned height)
{
    if (width < 1)
        width = 1;
    if (width > DISPLAY_MAX_WIDTH)
        width = DISPLAY_MAX_WIDTH;
    if (height < 1)
        height = 1;
    if (height > DISPLAY_MAX_HEIGHT)
        height = DISPLAY_MAX_HEIGHT;
    if (width == d->width && height == d->height)
        return false;
    d->width = width;
    d->height = height;
    d->stride = width * DISPLAY_BYTES_PER_PIXEL;
    d->generation++;
    if (d->base)
        memset(d->base, 0, (size_t)d->stride * height);
    d->ndamage = 1;
    d->damage[0] = (struct display_rect){ 0, 0, width, height };
    return true;
}

uint32_t *display_row(struct display *d, unsigned y)
{
    if (!d->base || y >= d->height)
        return NULL;
    return (uint32_t *)(d->base + (size_t)y * d->stride);
}

static struct display_rect rect_union(struct display_rect a, struct display_rect b)
{
    unsigned x0 = a.x < b.x ? a.x : b.x;
    unsigned y0 = a.y < b.y ? a.y : b.y;
    unsigned x1 = a.x + a.w > b.x + b.w ? a.x + a.w : b.x + b.w;
    unsigned y1 = a.y + a.h > b.y + b.h ? a.y + a.h : b.y + b.h;
    return (struct display_rect){ x0, y0, x1 - x0, y1 - y0 };
}

/* Rectangles that overlap or touch are merged into their bounding box. That
 * may cover a little area neither covered; the client then copies a few
 * unchanged pixels, which is harmless. */
static bool rect_touch(struct display_rect a, struct display_rect b)
{
    return a.x <= b.x + b.w && b.x <= a.x + a.w && a.y <= b.y + b.h && b.y <= a.y + a.h;
}

static uint64_t rect_area(struct display_rect r)
{
    return (uint64_t)r.w * r.h;
}

void display_damage(struct display *d, unsigned x, unsigned y, unsigned w, unsigned h)
{
    if (x >= d->width || y >= d->height || w == 0 || h == 0)
        return;
    if (w > d->width - x)
        w = d->width - x;
    if (h > d->height - y)
        h = d->height - y;
    struct display_rect r = { x, y, w, h };
    /* Absorb every rectangle r touches; a union can touch new ones, so
     * repeat until nothing merges (at most DISPLAY_MAX_DAMAGE rounds). */
    bool merged = true;
    while (merged) {
        merged = false;
        for (unsigned i = 0; i < d->ndamage; i++) {
            if (rect_touch(r, d->damage[i])) {
                r = rect_union(r, d->damage[i]);
                d->damage[i] = d->damage[--d->ndamage];
                merged = true;
                break;
            }
        }
    }
    if (d->ndamage < DISPLAY_MAX_DAMAGE) {
        d->damage[d->ndamage++] = r;
        return;
    }
    /* Full: fold r into the rectangle whose union with it grows least. */
    unsigned best = 0;
    uint64_t best_growth = UINT64_MAX;
    for (unsigned i = 0; i < d->ndamage; i++) {
        uint64_t growth = rect_area(rect_union(r, d->damage[i])) - rect_area(d->damage[i]);
        if (growth < best_growth) {
            best_growth = growth;
            best = i;
        }
    }
    d->damage[best] = rect_union(r, d->damage[best]);
}

unsigned display_take_damage(struct display *d, struct display_rect *out, unsigned max)
{
    if (!out || max == 0)
        return 0;
    unsigned n = 0;
    for (unsigned i = 0; i < d->ndamage; i++) {
        if (n < max)
            out[n++] = d->damage[i];
        else
            out[max - 1] = rect_union(out[max - 1], d->damage[i]);
    }
    d->ndamage = 0;
    return n;
}
