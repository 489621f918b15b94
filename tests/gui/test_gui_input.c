/* Unit tests of the GUI's input translation (gui/input.c: keys, buttons,
 * relative motion, the absolute pointer's screen position) and framebuffer
 * mapping (gui/framebuffer.c).
 *
 * Expected key codes come from the two ends the translation joins: the X
 * keycodes of xkeyboard-config's "evdev" keycodes file (<AC01> 38,
 * <RTRN> 36, <ESC> 9, <RCTL> 105, <LALT> 64, <TAB> 23) and the Linux
 * evdev codes of linux/input-event-codes.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/input-event-codes.h>
#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "framebuffer.h"
#include "input.h"

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_keycodes(void **state)
{
    assert_int_equal(hostel_input_evdev_code(38), KEY_A);
    assert_int_equal(hostel_input_evdev_code(36), KEY_ENTER);
    assert_int_equal(hostel_input_evdev_code(9), KEY_ESC);
    assert_int_equal(hostel_input_evdev_code(105), KEY_RIGHTCTRL);
    assert_int_equal(hostel_input_evdev_code(64), KEY_LEFTALT);
    assert_int_equal(hostel_input_evdev_code(23), KEY_TAB);
    /* Below the X range, KEY_RESERVED, and past KEY_MAX: nothing. */
    for (guint16 k = 0; k <= 8; k++)
        assert_int_equal(hostel_input_evdev_code(k), 0);
    assert_int_equal(hostel_input_evdev_code(KEY_MAX + 8), KEY_MAX);
    assert_int_equal(hostel_input_evdev_code(KEY_MAX + 9), 0);
    assert_int_equal(hostel_input_evdev_code(0xffff), 0);
}

/* org.hostel.VM1.MouseEvent: bit 0 left, 1 right, 2 middle. */
static void test_buttons(void **state)
{
    assert_int_equal(hostel_input_button_bit(1), 1);
    assert_int_equal(hostel_input_button_bit(3), 2);
    assert_int_equal(hostel_input_button_bit(2), 4);
    assert_int_equal(hostel_input_button_bit(0), 0);
    assert_int_equal(hostel_input_button_bit(8), 0);
    assert_int_equal(hostel_input_buttons_from_state(0), 0);
    assert_int_equal(hostel_input_buttons_from_state(GDK_BUTTON1_MASK | GDK_BUTTON3_MASK), 3);
    assert_int_equal(hostel_input_buttons_from_state(GDK_BUTTON2_MASK | GDK_SHIFT_MASK), 4);
    assert_int_equal(hostel_input_wheel(GDK_SCROLL_UP), 1);
    assert_int_equal(hostel_input_wheel(GDK_SCROLL_DOWN), -1);
    assert_int_equal(hostel_input_wheel(GDK_SCROLL_LEFT), 0);
}

static void test_motion_simple(void **state)
{
    struct hostel_motion m;
    int dx, dy;
    hostel_motion_reset(&m);
    /* The first position only sets the origin. */
    assert_false(hostel_motion_feed(&m, 100, 100, 1, &dx, &dy));
    assert_true(hostel_motion_feed(&m, 110, 95, 1, &dx, &dy));
    assert_int_equal(dx, 10);
    assert_int_equal(dy, -5);
    /* Scaled 2x: half a guest pixel is carried to the next event. */
    assert_false(hostel_motion_feed(&m, 111, 95, 2, &dx, &dy));
    assert_true(hostel_motion_feed(&m, 112, 95, 2, &dx, &dy));
    assert_int_equal(dx, 1);
    assert_int_equal(dy, 0);
    /* A huge jump is sent in bounded steps. */
    assert_true(hostel_motion_feed(&m, 112 + 10 * HOSTEL_MOTION_MAX, 95, 1, &dx, &dy));
    assert_int_equal(dx, HOSTEL_MOTION_MAX);
    assert_false(hostel_motion_feed(&m, NAN, 95, 1, &dx, &dy));
}

/* However the way is split and scaled, the guest moves the whole distance:
 * the sum of deltas is within one pixel of distance / scale. */
static void test_motion_random(void **state)
{
    uint32_t seed = 2024;
    for (int run = 0; run < 2000; run++) {
        struct hostel_motion m;
        hostel_motion_reset(&m);
        double scale = 0.25 + (rng_next(&seed) % 1000) / 250.0;
        double x0 = (double)(rng_next(&seed) % 2000), y0 = (double)(rng_next(&seed) % 2000);
        double x = x0, y = y0;
        long sx = 0, sy = 0;
        int dx, dy;
        hostel_motion_feed(&m, x, y, scale, &dx, &dy);
        for (int step = 0; step < 100; step++) {
            x += (double)((int)(rng_next(&seed) % 61) - 30) + (rng_next(&seed) % 4) / 4.0;
            y += (double)((int)(rng_next(&seed) % 61) - 30);
            if (hostel_motion_feed(&m, x, y, scale, &dx, &dy)) {
                sx += dx;
                sy += dy;
            }
        }
        assert_true(fabs((x - x0) / scale - sx) < 1.0);
        assert_true(fabs((y - y0) / scale - sy) < 1.0);
    }
}

/* The absolute pointer: the screen drawn at 2x from (10, 20) in the
 * widget. Each screen pixel covers two widget pixels on each axis. */
static void test_screen_pos(void **state)
{
    unsigned x, y;
    assert_true(hostel_input_screen_pos(10, 20, 2, 10, 20, 640, 480, &x, &y));
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    assert_true(hostel_input_screen_pos(11.9, 21.9, 2, 10, 20, 640, 480, &x, &y));
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    assert_true(hostel_input_screen_pos(12, 22, 2, 10, 20, 640, 480, &x, &y));
    assert_int_equal(x, 1);
    assert_int_equal(y, 1);
    /* The last pixel, and beside the screen: clamped to the edges. */
    assert_true(hostel_input_screen_pos(10 + 1279.5, 20 + 959.5, 2, 10, 20, 640, 480, &x, &y));
    assert_int_equal(x, 639);
    assert_int_equal(y, 479);
    assert_false(hostel_input_screen_pos(10 + 1280, 5, 2, 10, 20, 640, 480, &x, &y));
    assert_int_equal(x, 639);
    assert_int_equal(y, 0);
    assert_false(hostel_input_screen_pos(-100, 1e9, 2, 10, 20, 640, 480, &x, &y));
    assert_int_equal(x, 0);
    assert_int_equal(y, 479);
    /* Nonsense in, the screen's corner out; no screen, nothing. */
    assert_false(hostel_input_screen_pos(NAN, INFINITY, 0, 0, 0, 640, 480, &x, &y));
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    assert_false(hostel_input_screen_pos(5, 5, 1, 0, 0, 0, 0, &x, &y));
}

/* Random placements: every widget position inside the drawn screen maps
 * to the pixel drawn there, i.e. the one whose scaled square holds it. */
static void test_screen_pos_random(void **state)
{
    uint32_t seed = 77;
    for (int run = 0; run < 100000; run++) {
        unsigned w = 1 + rng_next(&seed) % 2560, h = 1 + rng_next(&seed) % 1600;
        double scale = 0.1 + (rng_next(&seed) % 4000) / 1000.0;
        double ox = rng_next(&seed) % 300, oy = rng_next(&seed) % 300;
        unsigned px = rng_next(&seed) % w, py = rng_next(&seed) % h;
        double fx = (rng_next(&seed) % 1000) / 1000.0, fy = (rng_next(&seed) % 1000) / 1000.0;
        double wx = ox + (px + fx) * scale, wy = oy + (py + fy) * scale;
        unsigned x, y;
        bool inside = hostel_input_screen_pos(wx, wy, scale, ox, oy, w, h, &x, &y);
        assert_true(x < w && y < h);
        /* Floating point may put a point on a square's edge into the neighbour. */
        assert_true(abs((int)x - (int)px) <= 1 && abs((int)y - (int)py) <= 1);
        if (fx > 0.01 && fx < 0.99 && fy > 0.01 && fy < 0.99) {
            assert_true(inside);
            assert_int_equal(x, px);
            assert_int_equal(y, py);
        }
    }
}

static void test_key_label(void **state)
{
    char *l = hostel_input_key_label("Control_R");
    assert_string_equal(l, "Right Ctrl");
    g_free(l);
    l = hostel_input_key_label("F12");
    assert_string_equal(l, "F12");
    g_free(l);
}

static int make_memfd(size_t size)
{
    int fd = memfd_create("test-fb", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    return fd;
}

static void test_fb_map(void **state)
{
    size_t size = 64 * 48 * 4;
    int fd = make_memfd(size);
    struct hostel_fb fb = { 0 };
    GError *err = NULL;
    assert_true(hostel_fb_map(&fb, fd, 64, 48, 256, 7, &err));
    assert_non_null(fb.surface);
    assert_int_equal(fb.generation, 7);
    /* Too tall for the memfd, stride too small, stride unaligned, empty. */
    assert_false(hostel_fb_set_geometry(&fb, 64, 49, 256, 8, &err));
    g_clear_error(&err);
    assert_false(hostel_fb_set_geometry(&fb, 64, 10, 252, 8, &err));
    g_clear_error(&err);
    assert_false(hostel_fb_set_geometry(&fb, 10, 10, 42, 8, &err));
    g_clear_error(&err);
    assert_false(hostel_fb_set_geometry(&fb, 0, 10, 64, 8, &err));
    g_clear_error(&err);
    /* A refused geometry leaves the old one. */
    assert_int_equal(fb.width, 64);
    assert_int_equal(fb.height, 48);
    assert_int_equal(fb.generation, 7);
    assert_true(hostel_fb_set_geometry(&fb, 32, 96, 128, 9, &err));
    assert_int_equal(fb.height, 96);
    cairo_surface_t *t = hostel_fb_thumbnail(&fb, 16, 16);
    assert_int_equal(cairo_image_surface_get_width(t), 5);
    assert_int_equal(cairo_image_surface_get_height(t), 16);
    cairo_surface_destroy(t);
    hostel_fb_unmap(&fb);
    assert_null(fb.map);
    /* A geometry that never fitted: nothing is mapped. */
    assert_false(hostel_fb_map(&fb, fd, 100, 100, 400, 1, &err));
    g_clear_error(&err);
    assert_null(fb.map);
    close(fd);
    /* Not a file at all. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_false(hostel_fb_map(&fb, p[0], 1, 1, 4, 1, &err));
    g_clear_error(&err);
    close(p[0]);
    close(p[1]);
}

/* Whatever geometry a VM claims, what is accepted lies inside the mapping:
 * touching its last byte must not fault (the mapping is exactly the
 * memfd's size, so one byte beyond would). */
static void test_fb_random_geometry(void **state)
{
    size_t size = 200 * 150 * 4 + 12;
    int fd = make_memfd(size);
    struct hostel_fb fb = { 0 };
    assert_true(hostel_fb_map(&fb, fd, 1, 1, 4, 0, NULL));
    uint32_t seed = 150;
    unsigned accepted = 0;
    volatile unsigned char sink = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned w, h, stride;
        switch (r & 3) {
        case 0:     /* anything at all */
            w = rng_next(&seed);
            h = rng_next(&seed);
            stride = rng_next(&seed);
            break;
        case 1:     /* near the edge */
            w = 1 + rng_next(&seed) % 300;
            h = 1 + rng_next(&seed) % 300;
            stride = w * 4 + (rng_next(&seed) % 5) * 4 - 4;
            break;
        default:    /* small */
            w = rng_next(&seed) % 210;
            h = rng_next(&seed) % 160;
            stride = rng_next(&seed) % 1000;
            break;
        }
        if (hostel_fb_set_geometry(&fb, w, h, stride, (guint64)i + 1, NULL)) {
            accepted++;
            sink ^= fb.map[(size_t)(fb.height - 1) * fb.stride + (size_t)fb.width * 4 - 1];
        } else {
            assert_int_equal(fb.generation == (guint64)i + 1, 0);
        }
    }
    (void)sink;
    assert_true(accepted > 1000);
    hostel_fb_unmap(&fb);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keycodes),
        cmocka_unit_test(test_buttons),
        cmocka_unit_test(test_motion_simple),
        cmocka_unit_test(test_motion_random),
        cmocka_unit_test(test_screen_pos),
        cmocka_unit_test(test_screen_pos_random),
        cmocka_unit_test(test_key_label),
        cmocka_unit_test(test_fb_map),
        cmocka_unit_test(test_fb_random_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
