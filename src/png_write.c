/* PNG screenshots: XRGB8888 rows converted to 8-bit RGB, written through
 * libpng to a temporary file that is synced and renamed into place. */
#include "png_write.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* PNG allows 2^31-1; screenshots are never near that, and the cap keeps
 * the row buffer arithmetic far from overflow. */
#define PNG_WRITE_MAX_DIM 65535u

struct png_write_ctx {
    char msg[160];
};

static void png_write_error_cb(png_structp png, png_const_charp msg)
{
    struct png_write_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof(ctx->msg), "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

static void png_write_warning_cb(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Make the rename durable: sync the directory that holds path. */
static void png_write_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Everything libpng touches lives here, set up before setjmp and not
 * changed afterwards, so a longjmp back leaves nothing indeterminate. */
static int png_write_stream(FILE *fp, const uint32_t *pixels, unsigned w, unsigned h,
                            unsigned stride_bytes, uint8_t *row, struct png_write_ctx *ctx)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx,
                                              png_write_error_cb, png_write_warning_cb);
    if (!png) {
        snprintf(ctx->msg, sizeof(ctx->msg), "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(ctx->msg, sizeof(ctx->msg), "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const uint8_t *src = (const uint8_t *)pixels;
    for (unsigned y = 0; y < h; y++) {
        const uint32_t *line = (const uint32_t *)(const void *)(src + (size_t)y * stride_bytes);
        for (unsigned x = 0; x < w; x++) {
            uint32_t p = line[x];
            row[3 * x + 0] = (uint8_t)(p >> 16);
            row[3 * x + 1] = (uint8_t)(p >> 8);
            row[3 * x + 2] = (uint8_t)p;
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int png_write_xrgb(const char *path, const uint32_t *pixels, unsigned w, unsigned h,
                   unsigned stride_bytes, char *err, size_t errlen)
{
    if (!path || !*path || !pixels) {
        snprintf(err, errlen, "No screenshot file name or image was given.");
        return -1;
    }
    if (w == 0 || h == 0 || w > PNG_WRITE_MAX_DIM || h > PNG_WRITE_MAX_DIM ||
        stride_bytes < w * 4u || (stride_bytes & 3)) {
        snprintf(err, errlen, "Cannot save a %ux%u screenshot (row stride %u bytes).", w, h, stride_bytes);
        return -1;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    uint8_t *row = malloc((size_t)w * 3);
    if (!tmp || !row) {
        free(tmp);
        free(row);
        snprintf(err, errlen, "Out of memory while saving the screenshot %s.", path);
        return -1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".XXXXXX", 8);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "Could not create a file next to %s (%s); check that the folder exists and is writable.",
                 path, strerror(errno));
        free(tmp);
        free(row);
        return -1;
    }
    fchmod(fd, 0644);
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        snprintf(err, errlen, "Could not write the screenshot %s (%s).", path, strerror(errno));
        close(fd);
        goto fail;
    }
    struct png_write_ctx ctx = { "" };
    if (png_write_stream(fp, pixels, w, h, stride_bytes, row, &ctx) < 0) {
        snprintf(err, errlen, "Could not encode the screenshot %s (libpng: %s).", path, ctx.msg);
        fclose(fp);
        goto fail;
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        snprintf(err, errlen, "Could not write the screenshot %s (%s); check the free disk space.",
                 path, strerror(errno));
        fclose(fp);
        goto fail;
    }
    if (fclose(fp) != 0) {
        snprintf(err, errlen, "Could not write the screenshot %s (%s); check the free disk space.",
                 path, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "Could not put the screenshot in place as %s (%s).", path, strerror(errno));
        goto fail;
    }
    png_write_sync_dir(path);
    free(tmp);
    free(row);
    return 0;
fail:
    unlink(tmp);
    free(tmp);
    free(row);
    return -1;
}

int display_write_png(struct display *d, const char *path, char *err, size_t errlen)
{
    if (!d || !d->base) {
        snprintf(err, errlen, "There is no display to take a screenshot of.");
        return -1;
    }
    return png_write_xrgb(path, (const uint32_t *)(const void *)d->base, d->width, d->height,
                          d->stride, err, errlen);
}
