/* find-image SCREEN.xwd NEEDLE.png: is the PNG shown 1:1 somewhere on the X
 * screen dump (xwd -root, 24/32-bit ZPixmap)? Prints where and exits 0, or
 * exits 1. Used by the GUI test against a real VM: the VM window must show
 * exactly what the VM renders. */
#include <png.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

struct screen {
    const uint8_t *img;
    uint32_t bpl, byte_order;
};

/* The screen pixel (x, y) as 0xRRGGBB. */
static uint32_t screen_px(const struct screen *s, unsigned x, unsigned y)
{
    const uint8_t *q = s->img + (size_t)y * s->bpl + (size_t)x * 4;
    return s->byte_order == 0 ? (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0]
                              : (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static uint32_t needle_px(const uint8_t *n, unsigned w, unsigned x, unsigned y)
{
    const uint8_t *q = n + ((size_t)y * w + x) * 3;
    return (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: find-image SCREEN.xwd NEEDLE.png\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 2;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *x = malloc((size_t)len);
    if (!x || fread(x, 1, (size_t)len, f) != (size_t)len)
        return 2;
    fclose(f);
    /* XWDFileHeader: 25 big-endian CARD32s; then the window name, then
     * ncolors XWDColor entries of 12 bytes, then the image. */
    uint32_t header_size = be32(x), format = be32(x + 8), width = be32(x + 16), height = be32(x + 20);
    uint32_t byte_order = be32(x + 28), bpp = be32(x + 44), bpl = be32(x + 48), ncolors = be32(x + 76);
    if (format != 2 || bpp != 32 || (uint64_t)header_size + ncolors * 12ull + (uint64_t)bpl * height > (uint64_t)len) {
        fprintf(stderr, "find-image: unsupported xwd (format %u, %u bpp)\n", format, bpp);
        return 2;
    }
    const uint8_t *img = x + header_size + ncolors * 12;

    png_image p;
    memset(&p, 0, sizeof(p));
    p.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&p, argv[2]))
        return 2;
    p.format = PNG_FORMAT_RGB;
    uint8_t *n = malloc(PNG_IMAGE_SIZE(p));
    if (!n || !png_image_finish_read(&p, NULL, n, 0, NULL))
        return 2;
    unsigned nw = p.width, nh = p.height;

    struct screen sc = { img, bpl, byte_order };
    for (unsigned y = 0; y + nh <= height; y++) {
        for (unsigned xx = 0; xx + nw <= width; xx++) {
            if (screen_px(&sc, xx, y) != needle_px(n, nw, 0, 0))
                continue;
            bool same = true;
            for (unsigned j = 0; same && j < nh; j++)
                for (unsigned i = 0; same && i < nw; i++)
                    same = screen_px(&sc, xx + i, y + j) == needle_px(n, nw, i, j);
            if (same) {
                printf("found %ux%u at %u,%u\n", nw, nh, xx, y);
                return 0;
            }
        }
    }
    printf("not found (%ux%u in %ux%u)\n", nw, nh, width, height);
    return 1;
}
