/* The fake VM's screen: a memfd framebuffer laid out as hostel-vm's
 * (src/display.h: sized for the largest mode, 0x00RRGGBB pixels), showing
 * a known pattern the GUI test looks for in an X screenshot:
 *
 *   red    | green        four equal quadrants filling the screen
 *   -------+------
 *   blue   | white
 *
 * plus, on request, a yellow square in the middle (to check that a
 * damaged rectangle alone is redrawn).
 */
#ifndef HOSTEL_TESTS_FAKE_SCREEN_H
#define HOSTEL_TESTS_FAKE_SCREEN_H

#include <stdint.h>

#define FAKE_SCREEN_MAX_W 1024u
#define FAKE_SCREEN_MAX_H 768u
#define FAKE_RED 0xff0000u
#define FAKE_GREEN 0x00ff00u
#define FAKE_BLUE 0x0000ffu
#define FAKE_WHITE 0xffffffu
#define FAKE_YELLOW 0xffff00u
#define FAKE_SQUARE 64u

struct fake_rect {
    unsigned x, y, w, h;
};

struct fake_screen {
    int fd;
    uint32_t *pixels;
    unsigned width, height, stride;
    uint64_t generation;
};

/* Create the memfd and draw the pattern at width x height. 0 or -1. */
int fake_screen_init(struct fake_screen *s, unsigned width, unsigned height);
/* New geometry (generation bumped), pattern redrawn. */
void fake_screen_resize(struct fake_screen *s, unsigned width, unsigned height);
/* Paint the yellow square; *r gets the rectangle that changed. */
void fake_screen_square(struct fake_screen *s, struct fake_rect *r);

#endif
