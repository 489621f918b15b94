/* Text and key combinations as evdev key events (US layout).
 *
 * The layout is the US ANSI one: each printable ASCII character is one key,
 * with or without Shift. Anything else is refused before a single event is
 * produced, so a caller never types half a string.
 */
#include "keytype.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/input-event-codes.h>

static const uint16_t keytype_letters[26] = {
    KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I, KEY_J, KEY_K, KEY_L, KEY_M,
    KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R, KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z,
};

static const uint16_t keytype_digits[10] = {
    KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9,
};

/* Characters that are not letters or digits: the key and whether Shift is
 * needed (US layout). */
static const struct {
    char ch;
    uint16_t code;
    bool shift;
} keytype_punct[] = {
    { ' ', KEY_SPACE, false },
    { '`', KEY_GRAVE, false }, { '~', KEY_GRAVE, true },
    { '!', KEY_1, true }, { '@', KEY_2, true }, { '#', KEY_3, true }, { '$', KEY_4, true },
    { '%', KEY_5, true }, { '^', KEY_6, true }, { '&', KEY_7, true }, { '*', KEY_8, true },
    { '(', KEY_9, true }, { ')', KEY_0, true },
    { '-', KEY_MINUS, false }, { '_', KEY_MINUS, true },
    { '=', KEY_EQUAL, false }, { '+', KEY_EQUAL, true },
    { '[', KEY_LEFTBRACE, false }, { '{', KEY_LEFTBRACE, true },
    { ']', KEY_RIGHTBRACE, false }, { '}', KEY_RIGHTBRACE, true },
    { '\\', KEY_BACKSLASH, false }, { '|', KEY_BACKSLASH, true },
    { ';', KEY_SEMICOLON, false }, { ':', KEY_SEMICOLON, true },
    { '\'', KEY_APOSTROPHE, false }, { '"', KEY_APOSTROPHE, true },
    { ',', KEY_COMMA, false }, { '<', KEY_COMMA, true },
    { '.', KEY_DOT, false }, { '>', KEY_DOT, true },
    { '/', KEY_SLASH, false }, { '?', KEY_SLASH, true },
    { '\n', KEY_ENTER, false }, { '\r', KEY_ENTER, false },
    { '\t', KEY_TAB, false }, { '\b', KEY_BACKSPACE, false }, { 0x1b, KEY_ESC, false },
};

/* The key typing one code point, or false if a US keyboard has none. */
static bool keytype_lookup(uint32_t cp, uint16_t *code, bool *shift)
{
    if (cp >= 'a' && cp <= 'z') {
        *code = keytype_letters[cp - 'a'];
        *shift = false;
        return true;
    }
    if (cp >= 'A' && cp <= 'Z') {
        *code = keytype_letters[cp - 'A'];
        *shift = true;
        return true;
    }
    if (cp >= '0' && cp <= '9') {
        *code = keytype_digits[cp - '0'];
        *shift = false;
        return true;
    }
    for (size_t i = 0; i < sizeof(keytype_punct) / sizeof(keytype_punct[0]); i++) {
        if ((uint32_t)(unsigned char)keytype_punct[i].ch == cp) {
            *code = keytype_punct[i].code;
            *shift = keytype_punct[i].shift;
            return true;
        }
    }
    return false;
}

/* Decode one UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). Returns its length, or 0. */
static size_t keytype_utf8(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2; v = s[0] & 0x1f; min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3; v = s[0] & 0x0f; min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4; v = s[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)      /* also stops at the terminating NUL */
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static void keytype_add(struct keytype_event *ev, size_t *n, uint16_t code, bool pressed)
{
    ev[*n].code = code;
    ev[*n].pressed = pressed;
    (*n)++;
}

int keytype_text(const char *utf8, struct keytype_event **events, size_t *count,
                 char *err, size_t errlen)
{
    const unsigned char *s = (const unsigned char *)utf8;
    size_t bytes = strlen(utf8);
    /* First pass: validate everything, so nothing is produced on error. */
    size_t chars = 0;
    for (size_t pos = 0; pos < bytes; chars++) {
        uint32_t cp;
        size_t len = keytype_utf8(s + pos, &cp);
        if (!len) {
            snprintf(err, errlen, "The text is not valid UTF-8 (byte 0x%02x at offset %zu); pass UTF-8 text.",
                     s[pos], pos);
            return -1;
        }
        uint16_t code;
        bool shift;
        if (!keytype_lookup(cp, &code, &shift)) {
            if (cp >= 0x20 && cp != 0x7f)
                snprintf(err, errlen, "The character \"%.*s\" (U+%04X, character %zu) cannot be typed on a US "
                         "keyboard layout; remove it from the text.", (int)len, (const char *)s + pos,
                         (unsigned)cp, chars + 1);
            else
                snprintf(err, errlen, "The control character U+%04X (character %zu) cannot be typed; only "
                         "newline, tab, backspace and escape can.", (unsigned)cp, chars + 1);
            return -1;
        }
        pos += len;
    }
    if (!chars) {
        *events = NULL;
        *count = 0;
        return 0;
    }
    /* At most Shift down, key down, key up, Shift up per character. */
    struct keytype_event *ev = malloc(chars * 4 * sizeof(*ev));
    if (!ev) {
        snprintf(err, errlen, "Out of memory while preparing %zu characters to type.", chars);
        return -1;
    }
    size_t n = 0;
    for (size_t pos = 0; pos < bytes;) {
        uint32_t cp;
        size_t len = keytype_utf8(s + pos, &cp);
        pos += len;
        if (cp == '\n' && pos >= 2 && s[pos - 2] == '\r')
            continue;       /* "\r\n" is one Enter */
        uint16_t code;
        bool shift;
        keytype_lookup(cp, &code, &shift);
        if (shift)
            keytype_add(ev, &n, KEY_LEFTSHIFT, true);
        keytype_add(ev, &n, code, true);
        keytype_add(ev, &n, code, false);
        if (shift)
            keytype_add(ev, &n, KEY_LEFTSHIFT, false);
    }
    *events = ev;
    *count = n;
    return 0;
}

/* ---- Key combinations -------------------------------------------------- */

static const struct {
    const char *name;
    uint16_t code;
} keytype_names[] = {
    { "ctrl", KEY_LEFTCTRL }, { "control", KEY_LEFTCTRL }, { "lctrl", KEY_LEFTCTRL },
    { "rctrl", KEY_RIGHTCTRL },
    { "shift", KEY_LEFTSHIFT }, { "lshift", KEY_LEFTSHIFT }, { "rshift", KEY_RIGHTSHIFT },
    { "alt", KEY_LEFTALT }, { "lalt", KEY_LEFTALT }, { "ralt", KEY_RIGHTALT }, { "altgr", KEY_RIGHTALT },
    { "super", KEY_LEFTMETA }, { "lsuper", KEY_LEFTMETA }, { "rsuper", KEY_RIGHTMETA },
    { "win", KEY_LEFTMETA }, { "lwin", KEY_LEFTMETA }, { "rwin", KEY_RIGHTMETA },
    { "meta", KEY_LEFTMETA }, { "lmeta", KEY_LEFTMETA }, { "rmeta", KEY_RIGHTMETA },
    { "enter", KEY_ENTER }, { "return", KEY_ENTER }, { "esc", KEY_ESC }, { "escape", KEY_ESC },
    { "tab", KEY_TAB }, { "space", KEY_SPACE }, { "backspace", KEY_BACKSPACE },
    { "delete", KEY_DELETE }, { "del", KEY_DELETE }, { "insert", KEY_INSERT }, { "ins", KEY_INSERT },
    { "home", KEY_HOME }, { "end", KEY_END }, { "pageup", KEY_PAGEUP }, { "pgup", KEY_PAGEUP },
    { "pagedown", KEY_PAGEDOWN }, { "pgdn", KEY_PAGEDOWN },
    { "up", KEY_UP }, { "down", KEY_DOWN }, { "left", KEY_LEFT }, { "right", KEY_RIGHT },
    { "capslock", KEY_CAPSLOCK }, { "numlock", KEY_NUMLOCK }, { "scrolllock", KEY_SCROLLLOCK },
    { "print", KEY_SYSRQ }, { "printscreen", KEY_SYSRQ }, { "prtsc", KEY_SYSRQ }, { "sysrq", KEY_SYSRQ },
    { "pause", KEY_PAUSE }, { "break", KEY_PAUSE }, { "menu", KEY_COMPOSE }, { "compose", KEY_COMPOSE },
    { "minus", KEY_MINUS }, { "equal", KEY_EQUAL }, { "leftbrace", KEY_LEFTBRACE },
    { "rightbrace", KEY_RIGHTBRACE }, { "backslash", KEY_BACKSLASH }, { "semicolon", KEY_SEMICOLON },
    { "apostrophe", KEY_APOSTROPHE }, { "grave", KEY_GRAVE }, { "comma", KEY_COMMA },
    { "dot", KEY_DOT }, { "period", KEY_DOT }, { "slash", KEY_SLASH },
    { "kp0", KEY_KP0 }, { "kp1", KEY_KP1 }, { "kp2", KEY_KP2 }, { "kp3", KEY_KP3 }, { "kp4", KEY_KP4 },
    { "kp5", KEY_KP5 }, { "kp6", KEY_KP6 }, { "kp7", KEY_KP7 }, { "kp8", KEY_KP8 }, { "kp9", KEY_KP9 },
    { "kpenter", KEY_KPENTER }, { "kpplus", KEY_KPPLUS }, { "kpminus", KEY_KPMINUS },
    { "kpmultiply", KEY_KPASTERISK }, { "kpasterisk", KEY_KPASTERISK },
    { "kpdivide", KEY_KPSLASH }, { "kpslash", KEY_KPSLASH }, { "kpdot", KEY_KPDOT },
    { "mute", KEY_MUTE }, { "volumeup", KEY_VOLUMEUP }, { "volumedown", KEY_VOLUMEDOWN },
    { "playpause", KEY_PLAYPAUSE }, { "nextsong", KEY_NEXTSONG }, { "previoussong", KEY_PREVIOUSSONG },
    { "stop", KEY_STOPCD }, { "power", KEY_POWER }, { "sleep", KEY_SLEEP }, { "wake", KEY_WAKEUP },
};

static const uint16_t keytype_fkeys[24] = {
    KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12,
    KEY_F13, KEY_F14, KEY_F15, KEY_F16, KEY_F17, KEY_F18, KEY_F19, KEY_F20, KEY_F21, KEY_F22, KEY_F23,
    KEY_F24,
};

/* The key a (lower-cased, trimmed) name stands for. */
static bool keytype_name(const char *name, uint16_t *code)
{
    size_t len = strlen(name);
    if (len == 1) {
        uint16_t c;
        bool shift;
        /* A letter, a digit, or an unshifted punctuation character. */
        if (keytype_lookup((unsigned char)name[0], &c, &shift) && !shift && name[0] > ' ') {
            *code = c;
            return true;
        }
        return false;
    }
    if (name[0] == 'f' && len <= 3 && isdigit((unsigned char)name[1]) &&
        (len == 2 || isdigit((unsigned char)name[2])) && name[1] != '0') {
        unsigned n = (unsigned)atoi(name + 1);
        if (n >= 1 && n <= 24) {
            *code = keytype_fkeys[n - 1];
            return true;
        }
        return false;
    }
    for (size_t i = 0; i < sizeof(keytype_names) / sizeof(keytype_names[0]); i++) {
        if (!strcmp(keytype_names[i].name, name)) {
            *code = keytype_names[i].code;
            return true;
        }
    }
    return false;
}

int keytype_combo(const char *combo, struct keytype_event **events, size_t *count,
                  char *err, size_t errlen)
{
    size_t len = strlen(combo);
    char *buf = malloc(len + 1);
    /* No more keys than '+' separators plus one. */
    size_t max_keys = 1;
    for (size_t i = 0; i < len; i++)
        if (combo[i] == '+')
            max_keys++;
    uint16_t *keys = malloc(max_keys * sizeof(*keys));
    if (!buf || !keys) {
        free(buf);
        free(keys);
        snprintf(err, errlen, "Out of memory while reading the key combination.");
        return -1;
    }
    size_t nkeys = 0;
    int rc = -1;
    const char *p = combo;
    for (;;) {
        const char *end = strchr(p, '+');
        size_t tlen = end ? (size_t)(end - p) : strlen(p);
        /* Trim and lower-case one name. */
        while (tlen && isspace((unsigned char)*p)) {
            p++;
            tlen--;
        }
        while (tlen && isspace((unsigned char)p[tlen - 1]))
            tlen--;
        for (size_t i = 0; i < tlen; i++)
            buf[i] = (char)tolower((unsigned char)p[i]);
        buf[tlen] = '\0';
        if (!tlen) {
            snprintf(err, errlen, "The key combination \"%s\" has an empty key name; write it like "
                     "ctrl+alt+delete.", combo);
            goto out;
        }
        uint16_t code;
        if (!keytype_name(buf, &code)) {
            snprintf(err, errlen, "Unknown key \"%s\" in \"%s\"; use names like ctrl, alt, shift, enter, "
                     "f1 or a.", buf, combo);
            goto out;
        }
        for (size_t i = 0; i < nkeys; i++) {
            if (keys[i] == code) {
                snprintf(err, errlen, "The key \"%s\" appears twice in \"%s\"; name each key once.", buf, combo);
                goto out;
            }
        }
        keys[nkeys++] = code;
        if (!end)
            break;
        p = end + 1;
    }
    struct keytype_event *ev = malloc(2 * nkeys * sizeof(*ev));
    if (!ev) {
        snprintf(err, errlen, "Out of memory while reading the key combination.");
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < nkeys; i++)
        keytype_add(ev, &n, keys[i], true);
    for (size_t i = nkeys; i-- > 0;)
        keytype_add(ev, &n, keys[i], false);
    *events = ev;
    *count = n;
    rc = 0;
out:
    free(buf);
    free(keys);
    return rc;
}
