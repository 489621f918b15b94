/* Text and key combinations as key events, for "type this" control
 * commands.
 *
 * Both functions produce Linux evdev key events (KEY_* codes from
 * <linux/input-event-codes.h>) for a US keyboard layout, which the caller
 * feeds to the guest's keyboard (i8042_key_event), pacing them as the
 * keyboard's buffer allows (i8042_kbd_backlog).
 */
#ifndef HOSTEL_KEYTYPE_H
#define HOSTEL_KEYTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keytype_event {
    uint16_t code;      /* evdev key code */
    bool pressed;
};

/* Events that type the UTF-8 text on a US layout: letters, digits,
 * punctuation and space, with Shift pressed around the characters that
 * need it; '\n' (and "\r\n", or a lone '\r') is Enter, '\t' Tab, '\b'
 * Backspace, ESC (0x1b) Escape. On success returns 0 and a malloc'd array
 * in *events (free() it; NULL for empty text) with its length in *count.
 * On failure (invalid UTF-8, or a character a US keyboard cannot type)
 * returns -1, sets nothing, and writes a sentence naming the character and
 * its position to err. */
int keytype_text(const char *utf8, struct keytype_event **events, size_t *count,
                 char *err, size_t errlen);

/* Events for a key combination such as "ctrl+alt+delete", "enter", "f1",
 * "shift+a": the keys are pressed in the order written, then released in
 * reverse. Names are case-insensitive; modifiers are ctrl, shift, alt,
 * altgr, super (also win, meta) with optional l/r prefix (lctrl, rshift).
 * Key names: a-z, 0-9, f1-f24, enter, esc, tab, space, backspace, delete,
 * insert, home, end, pageup, pagedown, up, down, left, right, capslock,
 * numlock, scrolllock, print (sysrq), pause, menu, the punctuation keys by
 * their character or name (minus, equal, comma, ...), keypad keys (kp0-kp9,
 * kpenter, kpplus, kpminus, kpmultiply, kpdivide, kpdot) and the media
 * keys (mute, volumeup, volumedown, playpause, nextsong, previoussong,
 * stop, power, sleep, wake). Same return convention as keytype_text. */
int keytype_combo(const char *combo, struct keytype_event **events, size_t *count,
                  char *err, size_t errlen);

#endif
