/* Read the text a screenshot shows in a VGA text mode, by matching each
 * 8x16 character cell against the VGA BIOS's own font: a check of what was
 * rendered, independent of the VMM's text-buffer view. */
#ifndef HOSTEL_PNG_TEXT_H
#define HOSTEL_PNG_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Find the 8x16 font (256 glyphs) in a VGA BIOS image: the table whose
 * glyphs 0x00 and 0x20 are blank and whose 0xDB (full block) is solid.
 * Returns 0 and fills font, or -1. */
int png_text_find_font(const uint8_t *rom, size_t len, uint8_t font[256 * 16]);

/* Recognise a PNG of a text screen with `columns` columns of 16-pixel-high
 * cells (8 or 9 pixels wide, from the width). Lines end with '\n'; cells
 * that match no glyph read as '?'. Returns 0, or -1 with a sentence in err. */
int png_text_read(const char *png_path, const uint8_t font[256 * 16], unsigned columns,
                  char *out, size_t cap, char *err, size_t errlen);

#endif
