#include "png_text.h"

#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int png_text_find_font(const uint8_t *rom, size_t len, uint8_t font[256 * 16])
{
    static const uint8_t blank[16], solid[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    for (size_t o = 0; o + 256 * 16 <= len; o++) {
        const uint8_t *f = rom + o;
        if (memcmp(f, blank, 16) == 0 && memcmp(f + 0x20 * 16, blank, 16) == 0 &&
            memcmp(f + 0xdb * 16, solid, 16) == 0 && memcmp(f + 'A' * 16, blank, 16) != 0) {
            memcpy(font, f, 256 * 16);
            return 0;
        }
    }
    return -1;
}

/* Load the PNG as 32-bit RGBX pixels. */
static uint32_t *load_png(const char *path, unsigned *w, unsigned *h, char *err, size_t errlen)
{
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        snprintf(err, errlen, "cannot read %s: %s", path, img.message);
        return NULL;
    }
    img.format = PNG_FORMAT_RGBA;
    uint32_t *px = malloc(PNG_IMAGE_SIZE(img));
    if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        snprintf(err, errlen, "cannot decode %s: %s", path, img.message);
        free(px);
        png_image_free(&img);
        return NULL;
    }
    *w = img.width;
    *h = img.height;
    return px;
}

/* One cell: the background is the colour most of its pixels have; every
 * other pixel is foreground. Blank cells (one colour) read as ' '. */
static char read_cell(const uint32_t *px, unsigned stride, unsigned x0, unsigned y0, const uint8_t *font)
{
    uint32_t colours[2] = { px[y0 * stride + x0], 0 };
    unsigned counts[2] = { 0, 0 };
    bool two = false;
    for (unsigned y = 0; y < 16; y++)
        for (unsigned x = 0; x < 8; x++) {
            uint32_t c = px[(y0 + y) * stride + x0 + x];
            if (c == colours[0]) {
                counts[0]++;
            } else if (!two || c == colours[1]) {
                colours[1] = c;
                two = true;
                counts[1]++;
            } else {
                return '?';     /* more than two colours: not a glyph */
            }
        }
    if (!two)
        return ' ';
    uint32_t bg = counts[0] >= counts[1] ? colours[0] : colours[1];
    uint8_t rows[16];
    for (unsigned y = 0; y < 16; y++) {
        rows[y] = 0;
        for (unsigned x = 0; x < 8; x++)
            if (px[(y0 + y) * stride + x0 + x] != bg)
                rows[y] |= (uint8_t)(0x80 >> x);
    }
    for (unsigned ch = 0x21; ch < 0x7f; ch++)
        if (memcmp(rows, font + ch * 16, 16) == 0)
            return (char)ch;
    return '?';
}

int png_text_read(const char *png_path, const uint8_t font[256 * 16], unsigned columns,
                  char *out, size_t cap, char *err, size_t errlen)
{
    unsigned w, h;
    uint32_t *px = load_png(png_path, &w, &h, err, errlen);
    if (!px)
        return -1;
    unsigned cell_w = columns ? w / columns : 0;
    if ((cell_w != 8 && cell_w != 9) || w % columns || h % 16) {
        snprintf(err, errlen, "%ux%u is not a text screen of %u columns of 8x16 or 9x16 cells", w, h, columns);
        free(px);
        return -1;
    }
    size_t n = 0;
    for (unsigned row = 0; row < h / 16; row++) {
        for (unsigned col = 0; col < columns && n + 2 < cap; col++)
            out[n++] = read_cell(px, w, col * cell_w, row * 16, font);
        if (n + 1 < cap)
            out[n++] = '\n';
    }
    out[n < cap ? n : cap - 1] = 0;
    free(px);
    return 0;
}
