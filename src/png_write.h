/* PNG screenshots of XRGB8888 surfaces (libpng).
 *
 * The file is written to a temporary name in the same directory, flushed
 * to disk and renamed over path, so a reader never sees a half-written PNG.
 */
#ifndef HOSTEL_PNG_WRITE_H
#define HOSTEL_PNG_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "display.h"

/* Write w x h pixels (rows stride_bytes apart, each pixel 0x00RRGGBB) as an
 * 8-bit RGB PNG. Returns 0, or -1 with a sentence in err. */
int png_write_xrgb(const char *path, const uint32_t *pixels, unsigned w, unsigned h,
                   unsigned stride_bytes, char *err, size_t errlen);

/* Write the display's current surface to path. Returns 0, or -1 with a
 * sentence in err. */
int display_write_png(struct display *d, const char *path, char *err, size_t errlen);

#endif
