/* The shared framebuffer a display client reads.
 *
 * One memfd holds an XRGB8888 surface (each pixel a little-endian uint32_t
 * 0x00RRGGBB) big enough for the largest mode, DISPLAY_MAX_WIDTH x
 * DISPLAY_MAX_HEIGHT, so the memfd never grows and a client maps it once:
 * a resize only changes width, height and stride inside it and bumps the
 * generation counter, which tells the client to re-read the geometry.
 *
 * The producer (a display device's renderer) writes rows and reports what it
 * changed with display_damage; the consumer collects the accumulated damage
 * with display_take_damage. Both run on the VM's main loop thread: there is
 * no locking here.
 */
#ifndef HOSTEL_DISPLAY_H
#define HOSTEL_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISPLAY_MAX_WIDTH 2560u
#define DISPLAY_MAX_HEIGHT 1600u
#define DISPLAY_BYTES_PER_PIXEL 4u
/* Damage is kept as at most this many rectangles; more are merged. */
#define DISPLAY_MAX_DAMAGE 16u

struct display_rect {
    unsigned x, y, w, h;
};

struct display {
    int fd;                     /* memfd of DISPLAY_MAX_WIDTH * DISPLAY_MAX_HEIGHT * 4 bytes */
    uint8_t *base;              /* its mapping in this process */
    size_t map_size;
    unsigned width, height;     /* current surface, 1..DISPLAY_MAX_* */
    unsigned stride;            /* bytes per row: width * 4 */
    uint64_t generation;        /* bumped on every geometry change */
    struct display_rect damage[DISPLAY_MAX_DAMAGE];
    unsigned ndamage;
};

/* Create the memfd surface at 640x480, black, all of it damaged.
 * Returns 0, or -1 with a sentence in err. */
int display_init(struct display *d, char *err, size_t errlen);
void display_destroy(struct display *d);

/* Change the geometry (clamped to 1..DISPLAY_MAX_*). When it differs from
 * the current one, the surface is cleared to black, the generation is
 * bumped and the whole surface becomes damage; returns true then. */
bool display_resize(struct display *d, unsigned width, unsigned height);

/* Row y of the current surface (width pixels), or NULL when y is out of range. */
uint32_t *display_row(struct display *d, unsigned y);

/* Add [x, x+w) x [y, y+h) to the damage, clipped to the surface. */
void display_damage(struct display *d, unsigned x, unsigned y, unsigned w, unsigned h);

/* Move the damage accumulated since the last call into out (capacity max,
 * at least 1; rectangles that do not fit are merged into the last one) and
 * clear it. Returns the number of rectangles, 0 when nothing changed. */
unsigned display_take_damage(struct display *d, struct display_rect *out, unsigned max);

#endif
