#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <png.h>

#include "display.h"
#include "png_write.h"

static int setup(void **state)
{
    struct display *d = calloc(1, sizeof(*d));
    char err[200];
    assert_int_equal(display_init(d, err, sizeof(err)), 0);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct display *d = *state;
    display_destroy(d);
    free(d);
    return 0;
}

static void test_init_and_resize(void **state)
{
    struct display *d = *state;
    assert_true(d->fd >= 0);
    assert_int_equal(d->width, 640);
    assert_int_equal(d->height, 480);
    assert_int_equal(d->stride, 640 * 4);
    /* The memfd holds the largest surface from the start. */
    struct stat st;
    assert_int_equal(fstat(d->fd, &st), 0);
    assert_int_equal((size_t)st.st_size, (size_t)2560 * 1600 * 4);
    uint64_t gen = d->generation;

    struct display_rect r[DISPLAY_MAX_DAMAGE];
    assert_int_equal(display_take_damage(d, r, DISPLAY_MAX_DAMAGE), 1);
    assert_int_equal(r[0].w, 640);
    assert_int_equal(r[0].h, 480);

    display_row(d, 10)[20] = 0x123456;
    /* Same size: nothing happens. */
    assert_false(display_resize(d, 640, 480));
    assert_int_equal(d->generation, gen);
    assert_int_equal(display_row(d, 10)[20], 0x123456);
    assert_int_equal(display_take_damage(d, r, DISPLAY_MAX_DAMAGE), 0);

    assert_true(display_resize(d, 720, 400));
    assert_int_equal(d->generation, gen + 1);
    assert_int_equal(d->stride, 720 * 4);
    assert_int_equal(display_row(d, 10)[20], 0);        /* cleared */
    assert_int_equal(display_take_damage(d, r, DISPLAY_MAX_DAMAGE), 1);
    assert_int_equal(r[0].x, 0);
    assert_int_equal(r[0].y, 0);
    assert_int_equal(r[0].w, 720);
    assert_int_equal(r[0].h, 400);

    /* Clamped to the surface limits. */
    assert_true(display_resize(d, 100000, 0));
    assert_int_equal(d->width, 2560);
    assert_int_equal(d->height, 1);
    assert_true(display_resize(d, 2560, 1600));
    assert_non_null(display_row(d, 1599));
    assert_null(display_row(d, 1600));
    display_row(d, 1599)[2559] = 0xffffff;      /* last pixel is inside the mapping */
}

static void test_damage_accumulates(void **state)
{
    struct display *d = *state;
    struct display_rect r[DISPLAY_MAX_DAMAGE];
    display_take_damage(d, r, DISPLAY_MAX_DAMAGE);

    display_damage(d, 10, 10, 5, 5);
    display_damage(d, 100, 100, 10, 10);
    /* Touching the first: merged with it. */
    display_damage(d, 15, 10, 5, 5);
    /* Outside the surface: clipped or dropped. */
    display_damage(d, 630, 470, 50, 50);
    display_damage(d, 640, 0, 10, 10);
    display_damage(d, 0, 0, 0, 10);
    unsigned n = display_take_damage(d, r, DISPLAY_MAX_DAMAGE);
    assert_int_equal(n, 3);
    bool saw_merged = false, saw_far = false, saw_clip = false;
    for (unsigned i = 0; i < n; i++) {
        if (r[i].x == 10 && r[i].y == 10 && r[i].w == 10 && r[i].h == 5)
            saw_merged = true;
        if (r[i].x == 100 && r[i].y == 100 && r[i].w == 10 && r[i].h == 10)
            saw_far = true;
        if (r[i].x == 630 && r[i].y == 470 && r[i].w == 10 && r[i].h == 10)
            saw_clip = true;
    }
    assert_true(saw_merged);
    assert_true(saw_far);
    assert_true(saw_clip);
    assert_int_equal(display_take_damage(d, r, DISPLAY_MAX_DAMAGE), 0);

    /* Many separate rectangles: never more than the limit, and every
     * damaged pixel stays covered. */
    for (unsigned i = 0; i < 40; i++)
        display_damage(d, i * 15, (i * 37) % 400, 3, 3);
    n = display_take_damage(d, r, DISPLAY_MAX_DAMAGE);
    assert_true(n >= 1 && n <= DISPLAY_MAX_DAMAGE);
    for (unsigned i = 0; i < 40; i++) {
        unsigned x = i * 15 + 1, y = (i * 37) % 400 + 1;
        bool covered = false;
        for (unsigned k = 0; k < n; k++)
            if (x >= r[k].x && x < r[k].x + r[k].w && y >= r[k].y && y < r[k].y + r[k].h)
                covered = true;
        assert_true(covered);
    }

    /* A small output array gets the rest folded into its last entry. */
    display_damage(d, 0, 0, 1, 1);
    display_damage(d, 300, 300, 1, 1);
    display_damage(d, 600, 400, 1, 1);
    n = display_take_damage(d, r, 1);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].x, 0);
    assert_int_equal(r[0].y, 0);
    assert_int_equal(r[0].w, 601);
    assert_int_equal(r[0].h, 401);
}

/* Read a PNG back with libpng as 8-bit RGB. */
static uint8_t *read_png(const char *path, unsigned *w, unsigned *h)
{
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return NULL;
    img.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        free(buf);
        png_image_free(&img);
        return NULL;
    }
    *w = img.width;
    *h = img.height;
    return buf;
}

static void test_png_roundtrip(void **state)
{
    struct display *d = *state;
    display_resize(d, 37, 23);
    for (unsigned y = 0; y < d->height; y++)
        for (unsigned x = 0; x < d->width; x++)
            display_row(d, y)[x] = (x * 7u) << 16 | (y * 11u) << 8 | ((x ^ y) & 0xff);

    char dir[] = "/tmp/hostel-png-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/shot.png", dir);
    char err[256];
    assert_int_equal(display_write_png(d, path, err, sizeof(err)), 0);

    unsigned w = 0, h = 0;
    uint8_t *rgb = read_png(path, &w, &h);
    assert_non_null(rgb);
    assert_int_equal(w, 37);
    assert_int_equal(h, 23);
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            const uint8_t *p = rgb + (y * w + x) * 3;
            assert_int_equal(p[0], (x * 7u) & 0xff);
            assert_int_equal(p[1], (y * 11u) & 0xff);
            assert_int_equal(p[2], (x ^ y) & 0xff);
        }
    }
    free(rgb);

    /* No temporary file is left next to it. */
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);

    /* A stride wider than the row: only the first w pixels of each row. */
    uint32_t px[4 * 3];
    for (unsigned i = 0; i < 12; i++)
        px[i] = i < 8 && (i % 4) < 2 ? 0x00ff00u * (i + 1) : 0xdeadbeefu;
    px[8] = 0x010203;
    px[9] = 0x040506;
    assert_int_equal(png_write_xrgb(path, px, 2, 3, 16, err, sizeof(err)), 0);
    rgb = read_png(path, &w, &h);
    assert_non_null(rgb);
    assert_int_equal(w, 2);
    assert_int_equal(h, 3);
    assert_int_equal(rgb[3 * 4 + 0], 0x01);
    assert_int_equal(rgb[3 * 4 + 1], 0x02);
    assert_int_equal(rgb[3 * 4 + 2], 0x03);
    assert_int_equal(rgb[3 * 5 + 2], 0x06);
    free(rgb);

    unlink(path);
    rmdir(dir);
}

static void test_png_errors(void **state)
{
    struct display *d = *state;
    char err[256] = "";
    assert_int_equal(display_write_png(d, "/nonexistent-dir-hostel/x.png", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent-dir-hostel/x.png"));
    uint32_t px[4] = { 0 };
    err[0] = 0;
    assert_int_equal(png_write_xrgb("/tmp/x.png", px, 2, 2, 4, err, sizeof(err)), -1);
    assert_true(strlen(err) > 0);
    assert_int_equal(png_write_xrgb("/tmp/x.png", px, 0, 2, 8, err, sizeof(err)), -1);
    assert_int_equal(png_write_xrgb(NULL, px, 2, 2, 8, err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_and_resize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_accumulates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_png_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_png_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
