#include "fake_screen.h"

#include <sys/mman.h>
#include <unistd.h>

static void fake_screen_fill(struct fake_screen *s, unsigned x0, unsigned y0, unsigned w, unsigned h,
                             uint32_t colour)
{
    for (unsigned y = y0; y < y0 + h && y < s->height; y++) {
        uint32_t *row = (uint32_t *)((uint8_t *)s->pixels + (size_t)y * s->stride);
        for (unsigned x = x0; x < x0 + w && x < s->width; x++)
            row[x] = colour;
    }
}

static void fake_screen_pattern(struct fake_screen *s)
{
    unsigned hw = s->width / 2, hh = s->height / 2;
    fake_screen_fill(s, 0, 0, hw, hh, FAKE_RED);
    fake_screen_fill(s, hw, 0, s->width - hw, hh, FAKE_GREEN);
    fake_screen_fill(s, 0, hh, hw, s->height - hh, FAKE_BLUE);
    fake_screen_fill(s, hw, hh, s->width - hw, s->height - hh, FAKE_WHITE);
}

int fake_screen_init(struct fake_screen *s, unsigned width, unsigned height)
{
    size_t size = (size_t)FAKE_SCREEN_MAX_W * FAKE_SCREEN_MAX_H * 4;
    s->fd = memfd_create("fake-framebuffer", MFD_CLOEXEC);
    if (s->fd < 0 || ftruncate(s->fd, (off_t)size) < 0)
        return -1;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (p == MAP_FAILED)
        return -1;
    s->pixels = p;
    s->generation = 0;
    fake_screen_resize(s, width, height);
    return 0;
}

void fake_screen_resize(struct fake_screen *s, unsigned width, unsigned height)
{
    s->width = width < FAKE_SCREEN_MAX_W ? width : FAKE_SCREEN_MAX_W;
    s->height = height < FAKE_SCREEN_MAX_H ? height : FAKE_SCREEN_MAX_H;
    s->stride = s->width * 4;
    s->generation++;
    fake_screen_pattern(s);
}

void fake_screen_square(struct fake_screen *s, struct fake_rect *r)
{
    r->w = FAKE_SQUARE;
    r->h = FAKE_SQUARE;
    r->x = (s->width - FAKE_SQUARE) / 2;
    r->y = (s->height - FAKE_SQUARE) / 2;
    fake_screen_fill(s, r->x, r->y, r->w, r->h, FAKE_YELLOW);
}
