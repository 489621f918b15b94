/* Host key codes to PS/2 scancodes, and the 8042 translation table.
 *
 * Sources: Microsoft "Keyboard Scan Code Specification" rev 1.3a (the key
 * table with set 1 and set 2 codes, the Windows multimedia and ACPI keys,
 * and the Print Screen / Pause special cases), the IBM keyboard technical
 * reference (make/break rules per set), and the 8042 translation table as
 * documented in Andries Brouwer's "Keyboard scancodes", section 9.3.
 *
 * Rules for an ordinary key (Scan Code Specification, "Scan Code Set 1" and
 * "Scan Code Set 2"): set 1 make is [E0] c, break [E0] c|80; set 2 make is
 * [E0] c, break [E0] F0 c. Only Print Screen and Pause break these rules.
 *
 * Not modelled: the "fake shift" E0 2A / E0 AA (set 1) bytes a real keyboard
 * wraps around the grey navigation keys when Num Lock or Shift is on. Every
 * PC operating system discards them, and they depend on the keyboard's own
 * Num Lock notion, which the host does not share.
 */
#include "ps2_keymap.h"

#include <linux/input-event-codes.h>

struct ps2_key {
    uint8_t set1;   /* 0: no scancode */
    uint8_t set2;
    uint8_t flags;
};

enum {
    KM_E0 = 0x01,       /* both sets prefix E0 */
    KM_PRTSC = 0x02,    /* Print Screen: modifier-dependent sequences */
    KM_PAUSE = 0x04,    /* Pause: make only, never repeats */
};

/* Indexed by evdev code. Set 1 and set 2 columns are the specification's;
 * tests check every row against the translation table below, which must
 * turn the set-2 sequence into the set-1 one. */
static const struct ps2_key ps2_keys[PS2_KEYMAP_CODES] = {
    /* Main block, row by row. */
    [KEY_ESC] = { 0x01, 0x76, 0 },
    [KEY_GRAVE] = { 0x29, 0x0e, 0 },
    [KEY_1] = { 0x02, 0x16, 0 },
    [KEY_2] = { 0x03, 0x1e, 0 },
    [KEY_3] = { 0x04, 0x26, 0 },
    [KEY_4] = { 0x05, 0x25, 0 },
    [KEY_5] = { 0x06, 0x2e, 0 },
    [KEY_6] = { 0x07, 0x36, 0 },
    [KEY_7] = { 0x08, 0x3d, 0 },
    [KEY_8] = { 0x09, 0x3e, 0 },
    [KEY_9] = { 0x0a, 0x46, 0 },
    [KEY_0] = { 0x0b, 0x45, 0 },
    [KEY_MINUS] = { 0x0c, 0x4e, 0 },
    [KEY_EQUAL] = { 0x0d, 0x55, 0 },
    [KEY_BACKSPACE] = { 0x0e, 0x66, 0 },
    [KEY_TAB] = { 0x0f, 0x0d, 0 },
    [KEY_Q] = { 0x10, 0x15, 0 },
    [KEY_W] = { 0x11, 0x1d, 0 },
    [KEY_E] = { 0x12, 0x24, 0 },
    [KEY_R] = { 0x13, 0x2d, 0 },
    [KEY_T] = { 0x14, 0x2c, 0 },
    [KEY_Y] = { 0x15, 0x35, 0 },
    [KEY_U] = { 0x16, 0x3c, 0 },
    [KEY_I] = { 0x17, 0x43, 0 },
    [KEY_O] = { 0x18, 0x44, 0 },
    [KEY_P] = { 0x19, 0x4d, 0 },
    [KEY_LEFTBRACE] = { 0x1a, 0x54, 0 },
    [KEY_RIGHTBRACE] = { 0x1b, 0x5b, 0 },
    [KEY_BACKSLASH] = { 0x2b, 0x5d, 0 },    /* also ISO key 42 (#~) */
    [KEY_CAPSLOCK] = { 0x3a, 0x58, 0 },
    [KEY_A] = { 0x1e, 0x1c, 0 },
    [KEY_S] = { 0x1f, 0x1b, 0 },
    [KEY_D] = { 0x20, 0x23, 0 },
    [KEY_F] = { 0x21, 0x2b, 0 },
    [KEY_G] = { 0x22, 0x34, 0 },
    [KEY_H] = { 0x23, 0x33, 0 },
    [KEY_J] = { 0x24, 0x3b, 0 },
    [KEY_K] = { 0x25, 0x42, 0 },
    [KEY_L] = { 0x26, 0x4b, 0 },
    [KEY_SEMICOLON] = { 0x27, 0x4c, 0 },
    [KEY_APOSTROPHE] = { 0x28, 0x52, 0 },
    [KEY_ENTER] = { 0x1c, 0x5a, 0 },
    [KEY_LEFTSHIFT] = { 0x2a, 0x12, 0 },
    [KEY_102ND] = { 0x56, 0x61, 0 },        /* ISO key 45 (\|) */
    [KEY_Z] = { 0x2c, 0x1a, 0 },
    [KEY_X] = { 0x2d, 0x22, 0 },
    [KEY_C] = { 0x2e, 0x21, 0 },
    [KEY_V] = { 0x2f, 0x2a, 0 },
    [KEY_B] = { 0x30, 0x32, 0 },
    [KEY_N] = { 0x31, 0x31, 0 },
    [KEY_M] = { 0x32, 0x3a, 0 },
    [KEY_COMMA] = { 0x33, 0x41, 0 },
    [KEY_DOT] = { 0x34, 0x49, 0 },
    [KEY_SLASH] = { 0x35, 0x4a, 0 },
    [KEY_RIGHTSHIFT] = { 0x36, 0x59, 0 },
    [KEY_LEFTCTRL] = { 0x1d, 0x14, 0 },
    [KEY_LEFTMETA] = { 0x5b, 0x1f, KM_E0 },
    [KEY_LEFTALT] = { 0x38, 0x11, 0 },
    [KEY_SPACE] = { 0x39, 0x29, 0 },
    [KEY_RIGHTALT] = { 0x38, 0x11, KM_E0 },
    [KEY_RIGHTMETA] = { 0x5c, 0x27, KM_E0 },
    [KEY_COMPOSE] = { 0x5d, 0x2f, KM_E0 },  /* Application (Menu) key */
    [KEY_RIGHTCTRL] = { 0x1d, 0x14, KM_E0 },

    /* Function row. */
    [KEY_F1] = { 0x3b, 0x05, 0 },
    [KEY_F2] = { 0x3c, 0x06, 0 },
    [KEY_F3] = { 0x3d, 0x04, 0 },
    [KEY_F4] = { 0x3e, 0x0c, 0 },
    [KEY_F5] = { 0x3f, 0x03, 0 },
    [KEY_F6] = { 0x40, 0x0b, 0 },
    [KEY_F7] = { 0x41, 0x83, 0 },
    [KEY_F8] = { 0x42, 0x0a, 0 },
    [KEY_F9] = { 0x43, 0x01, 0 },
    [KEY_F10] = { 0x44, 0x09, 0 },
    [KEY_F11] = { 0x57, 0x78, 0 },
    [KEY_F12] = { 0x58, 0x07, 0 },
    [KEY_SYSRQ] = { 0x37, 0x7c, KM_E0 | KM_PRTSC },    /* Print Screen */
    [KEY_SCROLLLOCK] = { 0x46, 0x7e, 0 },
    [KEY_PAUSE] = { 0x45, 0x77, KM_PAUSE },

    /* Navigation block. */
    [KEY_INSERT] = { 0x52, 0x70, KM_E0 },
    [KEY_HOME] = { 0x47, 0x6c, KM_E0 },
    [KEY_PAGEUP] = { 0x49, 0x7d, KM_E0 },
    [KEY_DELETE] = { 0x53, 0x71, KM_E0 },
    [KEY_END] = { 0x4f, 0x69, KM_E0 },
    [KEY_PAGEDOWN] = { 0x51, 0x7a, KM_E0 },
    [KEY_UP] = { 0x48, 0x75, KM_E0 },
    [KEY_LEFT] = { 0x4b, 0x6b, KM_E0 },
    [KEY_DOWN] = { 0x50, 0x72, KM_E0 },
    [KEY_RIGHT] = { 0x4d, 0x74, KM_E0 },

    /* Numeric keypad. */
    [KEY_NUMLOCK] = { 0x45, 0x77, 0 },
    [KEY_KPSLASH] = { 0x35, 0x4a, KM_E0 },
    [KEY_KPASTERISK] = { 0x37, 0x7c, 0 },
    [KEY_KPMINUS] = { 0x4a, 0x7b, 0 },
    [KEY_KP7] = { 0x47, 0x6c, 0 },
    [KEY_KP8] = { 0x48, 0x75, 0 },
    [KEY_KP9] = { 0x49, 0x7d, 0 },
    [KEY_KPPLUS] = { 0x4e, 0x79, 0 },
    [KEY_KP4] = { 0x4b, 0x6b, 0 },
    [KEY_KP5] = { 0x4c, 0x73, 0 },
    [KEY_KP6] = { 0x4d, 0x74, 0 },
    [KEY_KP1] = { 0x4f, 0x69, 0 },
    [KEY_KP2] = { 0x50, 0x72, 0 },
    [KEY_KP3] = { 0x51, 0x7a, 0 },
    [KEY_KPENTER] = { 0x1c, 0x5a, KM_E0 },
    [KEY_KP0] = { 0x52, 0x70, 0 },
    [KEY_KPDOT] = { 0x53, 0x71, 0 },
    [KEY_KPEQUAL] = { 0x59, 0x0f, 0 },
    [KEY_KPCOMMA] = { 0x7e, 0x6d, 0 },      /* Brazilian keypad "." */

    /* International keys (Scan Code Specification, "International Keys"). */
    [KEY_RO] = { 0x73, 0x51, 0 },                   /* Int 1 */
    [KEY_KATAKANAHIRAGANA] = { 0x70, 0x13, 0 },     /* Int 2 */
    [KEY_YEN] = { 0x7d, 0x6a, 0 },                  /* Int 3 */
    [KEY_HENKAN] = { 0x79, 0x64, 0 },               /* Int 4 */
    [KEY_MUHENKAN] = { 0x7b, 0x67, 0 },             /* Int 5 */

    /* F13-F24 (122-key layout positions). */
    [KEY_F13] = { 0x64, 0x08, 0 },
    [KEY_F14] = { 0x65, 0x10, 0 },
    [KEY_F15] = { 0x66, 0x18, 0 },
    [KEY_F16] = { 0x67, 0x20, 0 },
    [KEY_F17] = { 0x68, 0x28, 0 },
    [KEY_F18] = { 0x69, 0x30, 0 },
    [KEY_F19] = { 0x6a, 0x38, 0 },
    [KEY_F20] = { 0x6b, 0x40, 0 },
    [KEY_F21] = { 0x6c, 0x48, 0 },
    [KEY_F22] = { 0x6d, 0x50, 0 },
    [KEY_F23] = { 0x6e, 0x57, 0 },
    [KEY_F24] = { 0x76, 0x5f, 0 },

    /* ACPI keys (Scan Code Specification, "ACPI Scan Codes"). */
    [KEY_POWER] = { 0x5e, 0x37, KM_E0 },
    [KEY_SLEEP] = { 0x5f, 0x3f, KM_E0 },
    [KEY_WAKEUP] = { 0x63, 0x5e, KM_E0 },

    /* Windows multimedia keys (Scan Code Specification, "Windows
     * Multimedia Scan Codes"). */
    [KEY_NEXTSONG] = { 0x19, 0x4d, KM_E0 },
    [KEY_PREVIOUSSONG] = { 0x10, 0x15, KM_E0 },
    [KEY_STOPCD] = { 0x24, 0x3b, KM_E0 },
    [KEY_PLAYPAUSE] = { 0x22, 0x34, KM_E0 },
    [KEY_MUTE] = { 0x20, 0x23, KM_E0 },
    [KEY_VOLUMEUP] = { 0x30, 0x32, KM_E0 },
    [KEY_VOLUMEDOWN] = { 0x2e, 0x21, KM_E0 },
    [KEY_MEDIA] = { 0x6d, 0x50, KM_E0 },    /* Media Select */
    [KEY_MAIL] = { 0x6c, 0x48, KM_E0 },
    [KEY_CALC] = { 0x21, 0x2b, KM_E0 },
    [KEY_COMPUTER] = { 0x6b, 0x40, KM_E0 }, /* My Computer */
    [KEY_SEARCH] = { 0x65, 0x10, KM_E0 },   /* WWW Search */
    [KEY_HOMEPAGE] = { 0x32, 0x3a, KM_E0 }, /* WWW Home */
    [KEY_BACK] = { 0x6a, 0x38, KM_E0 },     /* WWW Back */
    [KEY_FORWARD] = { 0x69, 0x30, KM_E0 },  /* WWW Forward */
    [KEY_STOP] = { 0x68, 0x28, KM_E0 },     /* WWW Stop */
    [KEY_REFRESH] = { 0x67, 0x20, KM_E0 },  /* WWW Refresh */
    [KEY_BOOKMARKS] = { 0x66, 0x18, KM_E0 },/* WWW Favorites */
};

static const struct ps2_key *ps2_key_get(unsigned code)
{
    if (code >= PS2_KEYMAP_CODES || !ps2_keys[code].set1)
        return NULL;
    return &ps2_keys[code];
}

bool ps2_keymap_known(unsigned code)
{
    return ps2_key_get(code) != NULL;
}

unsigned ps2_keymap_modifier(unsigned code)
{
    switch (code) {
    case KEY_LEFTSHIFT:
    case KEY_RIGHTSHIFT:
        return PS2_MOD_SHIFT;
    case KEY_LEFTCTRL:
    case KEY_RIGHTCTRL:
        return PS2_MOD_CTRL;
    case KEY_LEFTALT:
    case KEY_RIGHTALT:
        return PS2_MOD_ALT;
    default:
        return 0;
    }
}

static size_t ps2_copy(uint8_t out[PS2_SEQ_MAX], const uint8_t *seq, size_t n)
{
    for (size_t i = 0; i < n && i < PS2_SEQ_MAX; i++)
        out[i] = seq[i];
    return n < PS2_SEQ_MAX ? n : PS2_SEQ_MAX;
}

/* Print Screen (Scan Code Specification, "Print Screen"): alone it sends a
 * fake left shift around its code; with Shift or Ctrl only its code; with
 * Alt it is SysRq, an ordinary single-byte key. */
static size_t ps2_print_screen(unsigned set, bool make, unsigned mods, uint8_t out[PS2_SEQ_MAX])
{
    static const uint8_t s1_make[] = { 0xe0, 0x2a, 0xe0, 0x37 };
    static const uint8_t s1_break[] = { 0xe0, 0xb7, 0xe0, 0xaa };
    static const uint8_t s1_mod_make[] = { 0xe0, 0x37 };
    static const uint8_t s1_mod_break[] = { 0xe0, 0xb7 };
    static const uint8_t s1_alt_make[] = { 0x54 };
    static const uint8_t s1_alt_break[] = { 0xd4 };
    static const uint8_t s2_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
    static const uint8_t s2_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
    static const uint8_t s2_mod_make[] = { 0xe0, 0x7c };
    static const uint8_t s2_mod_break[] = { 0xe0, 0xf0, 0x7c };
    static const uint8_t s2_alt_make[] = { 0x84 };
    static const uint8_t s2_alt_break[] = { 0xf0, 0x84 };

    if (mods & PS2_MOD_ALT) {
        if (set == 1)
            return make ? ps2_copy(out, s1_alt_make, sizeof(s1_alt_make))
                        : ps2_copy(out, s1_alt_break, sizeof(s1_alt_break));
        return make ? ps2_copy(out, s2_alt_make, sizeof(s2_alt_make))
                    : ps2_copy(out, s2_alt_break, sizeof(s2_alt_break));
    }
    if (mods & (PS2_MOD_SHIFT | PS2_MOD_CTRL)) {
        if (set == 1)
            return make ? ps2_copy(out, s1_mod_make, sizeof(s1_mod_make))
                        : ps2_copy(out, s1_mod_break, sizeof(s1_mod_break));
        return make ? ps2_copy(out, s2_mod_make, sizeof(s2_mod_make))
                    : ps2_copy(out, s2_mod_break, sizeof(s2_mod_break));
    }
    if (set == 1)
        return make ? ps2_copy(out, s1_make, sizeof(s1_make)) : ps2_copy(out, s1_break, sizeof(s1_break));
    return make ? ps2_copy(out, s2_make, sizeof(s2_make)) : ps2_copy(out, s2_break, sizeof(s2_break));
}

/* Pause (Scan Code Specification, "Pause"): an E1 sequence holding a make
 * and break of Ctrl+NumLock, sent on press only; with Ctrl it is Break,
 * E0-prefixed Scroll Lock make and break, also on press only. */
static size_t ps2_pause(unsigned set, unsigned mods, uint8_t out[PS2_SEQ_MAX])
{
    static const uint8_t s1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
    static const uint8_t s1_ctrl[] = { 0xe0, 0x46, 0xe0, 0xc6 };
    static const uint8_t s2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
    static const uint8_t s2_ctrl[] = { 0xe0, 0x7e, 0xe0, 0xf0, 0x7e };

    if (mods & PS2_MOD_CTRL)
        return set == 1 ? ps2_copy(out, s1_ctrl, sizeof(s1_ctrl)) : ps2_copy(out, s2_ctrl, sizeof(s2_ctrl));
    return set == 1 ? ps2_copy(out, s1, sizeof(s1)) : ps2_copy(out, s2, sizeof(s2));
}

size_t ps2_keymap_sequence(unsigned code, unsigned set, bool make, unsigned mods,
                           uint8_t out[PS2_SEQ_MAX])
{
    const struct ps2_key *k = ps2_key_get(code);
    if (!k || (set != 1 && set != 2))
        return 0;
    if (k->flags & KM_PRTSC)
        return ps2_print_screen(set, make, mods, out);
    if (k->flags & KM_PAUSE)
        return make ? ps2_pause(set, mods, out) : 0;
    size_t n = 0;
    if (k->flags & KM_E0)
        out[n++] = 0xe0;
    if (set == 1) {
        out[n++] = make ? k->set1 : (uint8_t)(k->set1 | 0x80);
    } else {
        if (!make)
            out[n++] = 0xf0;
        out[n++] = k->set2;
    }
    return n;
}

size_t ps2_keymap_repeat(unsigned code, unsigned set, unsigned mods, uint8_t out[PS2_SEQ_MAX])
{
    const struct ps2_key *k = ps2_key_get(code);
    if (!k || (set != 1 && set != 2) || (k->flags & KM_PAUSE))
        return 0;
    /* A held Print Screen repeats its own code, not the fake shift around
     * it: the same bytes it sends with Shift held. */
    if ((k->flags & KM_PRTSC) && !(mods & PS2_MOD_ALT))
        return ps2_print_screen(set, true, PS2_MOD_SHIFT, out);
    return ps2_keymap_sequence(code, set, true, mods, out);
}

/* The 8042 translation table for bytes 00-7F (Brouwer, "Keyboard
 * scancodes" 9.3, after Konzak's "PC 8042 Controller"). Bytes from 80 up
 * pass through unchanged except 83 (F7 in set 2) and 84 (Alt+SysRq). */
static const uint8_t ps2_xlate_table[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t ps2_translate_byte(uint8_t byte)
{
    if (byte < 0x80)
        return ps2_xlate_table[byte];
    if (byte == 0x83)
        return 0x41;
    if (byte == 0x84)
        return 0x54;
    return byte;
}
