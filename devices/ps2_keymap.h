/* Host key codes to PS/2 keyboard scancodes.
 *
 * Keys are named by Linux evdev codes (KEY_* from <linux/input-event-codes.h>).
 * For each key the table holds its scancode in set 1 and set 2 as given by
 * Microsoft's "Keyboard Scan Code Specification" (rev 1.3a) and the IBM
 * keyboard technical reference: every key of a 105-key PC keyboard, the
 * Windows and Menu keys, the ACPI power keys, the Windows multimedia keys,
 * F13-F24 and the Japanese/Brazilian extra keys.
 *
 * Also here: the 8042's set-2 to set-1 translation table, because it is
 * the same scancode knowledge seen from the controller's side.
 */
#ifndef HOSTEL_PS2_KEYMAP_H
#define HOSTEL_PS2_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest sequence of one key event (Pause in set 2). */
#define PS2_SEQ_MAX 8
/* evdev codes below this may have a scancode; larger ones never do. */
#define PS2_KEYMAP_CODES 256

/* Modifiers the keyboard itself sees held: they change what Print Screen
 * and Pause send (Scan Code Specification, "Print Screen" and "Pause"). */
enum {
    PS2_MOD_SHIFT = 0x01,
    PS2_MOD_CTRL = 0x02,
    PS2_MOD_ALT = 0x04,
};

/* Whether evdev code has a scancode. */
bool ps2_keymap_known(unsigned code);

/* The PS2_MOD_* bit a modifier key contributes (left or right), else 0. */
unsigned ps2_keymap_modifier(unsigned code);

/* Make (make=true) or break sequence of a key in scancode set 1 or 2, given
 * the modifiers held. Writes at most PS2_SEQ_MAX bytes to out and returns
 * their count: 0 for an unknown key, a set other than 1 or 2, or the break
 * of Pause (which has none). */
size_t ps2_keymap_sequence(unsigned code, unsigned set, bool make, unsigned mods,
                           uint8_t out[PS2_SEQ_MAX]);

/* What the keyboard sends for each typematic repeat of a held key; 0 for a
 * key that does not repeat (Pause) or an unknown key. */
size_t ps2_keymap_repeat(unsigned code, unsigned set, unsigned mods, uint8_t out[PS2_SEQ_MAX]);

/* The 8042's translation of one byte from the keyboard (command byte bit 6).
 * The controller itself folds a set-2 F0 break prefix into bit 7 of the
 * next translated byte; this function does not see F0. */
uint8_t ps2_translate_byte(uint8_t byte);

#endif
