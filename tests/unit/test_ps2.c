/* Scancode tables, the PS/2 keyboard and the PS/2 mouse on their own.
 * Expected bytes come from Microsoft's Keyboard Scan Code Specification,
 * the IBM PS/2 technical reference and the IntelliMouse protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/input-event-codes.h>

#include "clock.h"
#include "ps2_kbd.h"
#include "ps2_keymap.h"
#include "ps2_mouse.h"

#define MS 1000000ull

/* ---- Keymap ------------------------------------------------------------ */

struct seqs {
    unsigned code;
    unsigned mods;
    const char *s1_make, *s1_break, *s2_make, *s2_break;
    size_t s1m, s1b, s2m, s2b;
};

#define SEQ(s) s, sizeof(s) - 1

static void check_seq(unsigned code, unsigned set, bool make, unsigned mods, const char *want, size_t n)
{
    uint8_t out[PS2_SEQ_MAX];
    size_t got = ps2_keymap_sequence(code, set, make, mods, out);
    if (got != n || memcmp(out, want, n) != 0) {
        char buf[64] = "";
        for (size_t i = 0; i < got && i < PS2_SEQ_MAX; i++)
            snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%02x ", out[i]);
        fail_msg("key %u set %u %s mods %u: got %zu bytes [%s], want %zu", code, set,
                 make ? "make" : "break", mods, got, buf, n);
    }
}

static void test_keymap_representative(void **state)
{
    (void)state;
    /* Set 1 make/break, set 2 make/break, from the specification's table. */
    static const struct {
        unsigned code, mods;
        const char *s1m; size_t n1m;
        const char *s1b; size_t n1b;
        const char *s2m; size_t n2m;
        const char *s2b; size_t n2b;
    } k[] = {
        { KEY_A, 0, SEQ("\x1e"), SEQ("\x9e"), SEQ("\x1c"), SEQ("\xf0\x1c") },
        { KEY_Z, 0, SEQ("\x2c"), SEQ("\xac"), SEQ("\x1a"), SEQ("\xf0\x1a") },
        { KEY_ESC, 0, SEQ("\x01"), SEQ("\x81"), SEQ("\x76"), SEQ("\xf0\x76") },
        { KEY_ENTER, 0, SEQ("\x1c"), SEQ("\x9c"), SEQ("\x5a"), SEQ("\xf0\x5a") },
        { KEY_F7, 0, SEQ("\x41"), SEQ("\xc1"), SEQ("\x83"), SEQ("\xf0\x83") },
        { KEY_UP, 0, SEQ("\xe0\x48"), SEQ("\xe0\xc8"), SEQ("\xe0\x75"), SEQ("\xe0\xf0\x75") },
        { KEY_LEFT, 0, SEQ("\xe0\x4b"), SEQ("\xe0\xcb"), SEQ("\xe0\x6b"), SEQ("\xe0\xf0\x6b") },
        { KEY_DELETE, 0, SEQ("\xe0\x53"), SEQ("\xe0\xd3"), SEQ("\xe0\x71"), SEQ("\xe0\xf0\x71") },
        { KEY_RIGHTCTRL, 0, SEQ("\xe0\x1d"), SEQ("\xe0\x9d"), SEQ("\xe0\x14"), SEQ("\xe0\xf0\x14") },
        { KEY_RIGHTALT, 0, SEQ("\xe0\x38"), SEQ("\xe0\xb8"), SEQ("\xe0\x11"), SEQ("\xe0\xf0\x11") },
        { KEY_LEFTMETA, 0, SEQ("\xe0\x5b"), SEQ("\xe0\xdb"), SEQ("\xe0\x1f"), SEQ("\xe0\xf0\x1f") },
        { KEY_KP7, 0, SEQ("\x47"), SEQ("\xc7"), SEQ("\x6c"), SEQ("\xf0\x6c") },
        { KEY_KPASTERISK, 0, SEQ("\x37"), SEQ("\xb7"), SEQ("\x7c"), SEQ("\xf0\x7c") },
        { KEY_KPENTER, 0, SEQ("\xe0\x1c"), SEQ("\xe0\x9c"), SEQ("\xe0\x5a"), SEQ("\xe0\xf0\x5a") },
        { KEY_KPSLASH, 0, SEQ("\xe0\x35"), SEQ("\xe0\xb5"), SEQ("\xe0\x4a"), SEQ("\xe0\xf0\x4a") },
        { KEY_102ND, 0, SEQ("\x56"), SEQ("\xd6"), SEQ("\x61"), SEQ("\xf0\x61") },
        { KEY_VOLUMEUP, 0, SEQ("\xe0\x30"), SEQ("\xe0\xb0"), SEQ("\xe0\x32"), SEQ("\xe0\xf0\x32") },
        { KEY_PLAYPAUSE, 0, SEQ("\xe0\x22"), SEQ("\xe0\xa2"), SEQ("\xe0\x34"), SEQ("\xe0\xf0\x34") },
        { KEY_POWER, 0, SEQ("\xe0\x5e"), SEQ("\xe0\xde"), SEQ("\xe0\x37"), SEQ("\xe0\xf0\x37") },
        /* Print Screen alone, with Shift/Ctrl, and as Alt+SysRq. */
        { KEY_SYSRQ, 0, SEQ("\xe0\x2a\xe0\x37"), SEQ("\xe0\xb7\xe0\xaa"),
          SEQ("\xe0\x12\xe0\x7c"), SEQ("\xe0\xf0\x7c\xe0\xf0\x12") },
        { KEY_SYSRQ, PS2_MOD_SHIFT, SEQ("\xe0\x37"), SEQ("\xe0\xb7"), SEQ("\xe0\x7c"), SEQ("\xe0\xf0\x7c") },
        { KEY_SYSRQ, PS2_MOD_CTRL, SEQ("\xe0\x37"), SEQ("\xe0\xb7"), SEQ("\xe0\x7c"), SEQ("\xe0\xf0\x7c") },
        { KEY_SYSRQ, PS2_MOD_ALT, SEQ("\x54"), SEQ("\xd4"), SEQ("\x84"), SEQ("\xf0\x84") },
        /* Pause: make only; with Ctrl it is Break. */
        { KEY_PAUSE, 0, SEQ("\xe1\x1d\x45\xe1\x9d\xc5"), SEQ(""),
          SEQ("\xe1\x14\x77\xe1\xf0\x14\xf0\x77"), SEQ("") },
        { KEY_PAUSE, PS2_MOD_CTRL, SEQ("\xe0\x46\xe0\xc6"), SEQ(""), SEQ("\xe0\x7e\xe0\xf0\x7e"), SEQ("") },
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        check_seq(k[i].code, 1, true, k[i].mods, k[i].s1m, k[i].n1m);
        check_seq(k[i].code, 1, false, k[i].mods, k[i].s1b, k[i].n1b);
        check_seq(k[i].code, 2, true, k[i].mods, k[i].s2m, k[i].n2m);
        check_seq(k[i].code, 2, false, k[i].mods, k[i].s2b, k[i].n2b);
    }
    /* No codes in set 3 or for keys a PC keyboard lacks. */
    uint8_t out[PS2_SEQ_MAX];
    assert_int_equal(ps2_keymap_sequence(KEY_A, 3, true, 0, out), 0);
    assert_int_equal(ps2_keymap_sequence(KEY_BRIGHTNESSUP, 2, true, 0, out), 0);
    assert_int_equal(ps2_keymap_sequence(KEY_FN, 1, true, 0, out), 0);
    assert_int_equal(ps2_keymap_sequence(100000, 1, true, 0, out), 0);
    assert_false(ps2_keymap_known(KEY_RESERVED));
    /* Typematic repeats: an ordinary key repeats its make, Print Screen its
     * own code, Pause not at all. */
    assert_int_equal(ps2_keymap_repeat(KEY_A, 2, 0, out), 1);
    assert_int_equal(out[0], 0x1c);
    assert_int_equal(ps2_keymap_repeat(KEY_SYSRQ, 1, 0, out), 2);
    assert_memory_equal(out, "\xe0\x37", 2);
    assert_int_equal(ps2_keymap_repeat(KEY_PAUSE, 2, 0, out), 0);
    assert_int_equal(ps2_keymap_modifier(KEY_RIGHTALT), PS2_MOD_ALT);
    assert_int_equal(ps2_keymap_modifier(KEY_A), 0);
}

/* The 105 keys of an ISO PC keyboard. */
static const unsigned iso105[] = {
    KEY_ESC, KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11,
    KEY_F12, KEY_SYSRQ, KEY_SCROLLLOCK, KEY_PAUSE,
    KEY_GRAVE, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0, KEY_MINUS,
    KEY_EQUAL, KEY_BACKSPACE, KEY_INSERT, KEY_HOME, KEY_PAGEUP, KEY_NUMLOCK, KEY_KPSLASH,
    KEY_KPASTERISK, KEY_KPMINUS,
    KEY_TAB, KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O, KEY_P, KEY_LEFTBRACE,
    KEY_RIGHTBRACE, KEY_DELETE, KEY_END, KEY_PAGEDOWN, KEY_KP7, KEY_KP8, KEY_KP9, KEY_KPPLUS,
    KEY_CAPSLOCK, KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L, KEY_SEMICOLON,
    KEY_APOSTROPHE, KEY_BACKSLASH, KEY_ENTER, KEY_KP4, KEY_KP5, KEY_KP6,
    KEY_LEFTSHIFT, KEY_102ND, KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M, KEY_COMMA, KEY_DOT,
    KEY_SLASH, KEY_RIGHTSHIFT, KEY_UP, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KPENTER,
    KEY_LEFTCTRL, KEY_LEFTMETA, KEY_LEFTALT, KEY_SPACE, KEY_RIGHTALT, KEY_RIGHTMETA, KEY_COMPOSE,
    KEY_RIGHTCTRL, KEY_LEFT, KEY_DOWN, KEY_RIGHT, KEY_KP0, KEY_KPDOT,
};

/* The controller's translation as the 8042 does it: F0 folds into bit 7. */
static size_t xlate_seq(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t m = 0;
    bool brk = false;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == 0xf0) {
            brk = true;
            continue;
        }
        out[m++] = (uint8_t)(ps2_translate_byte(in[i]) | (brk ? 0x80 : 0));
        brk = false;
    }
    return m;
}

static void test_keymap_translation(void **state)
{
    (void)state;
    assert_int_equal(sizeof(iso105) / sizeof(iso105[0]), 105);
    for (size_t i = 0; i < 105; i++)
        if (!ps2_keymap_known(iso105[i]))
            fail_msg("ISO key %u has no scancode", iso105[i]);

    /* The translation table (Brouwer 9.3), spot checks including the
     * replies it turns into the well-known translated values. */
    static const uint8_t xl[][2] = {
        { 0x00, 0xff }, { 0x01, 0x43 }, { 0x02, 0x41 }, { 0x03, 0x3f }, { 0x76, 0x01 }, { 0x5a, 0x1c },
        { 0x0e, 0x29 }, { 0x61, 0x56 }, { 0x7f, 0x54 }, { 0x83, 0x41 }, { 0x84, 0x54 },
        { 0x80, 0x80 }, { 0xaa, 0xaa }, { 0xab, 0xab }, { 0xe0, 0xe0 }, { 0xe1, 0xe1 }, { 0xfa, 0xfa },
        { 0xfe, 0xfe }, { 0xee, 0xee }, { 0xff, 0xff },
    };
    for (size_t i = 0; i < sizeof(xl) / sizeof(xl[0]); i++)
        assert_int_equal(ps2_translate_byte(xl[i][0]), xl[i][1]);

    /* Every key, every modifier combination: the translated set-2 sequence
     * is the set-1 sequence. The keymap's two columns and the translation
     * table come from different documents, so this checks all three. Also
     * no two keys share a make code. */
    unsigned known = 0;
    static uint8_t seen1[PS2_KEYMAP_CODES][PS2_SEQ_MAX + 1], seen2[PS2_KEYMAP_CODES][PS2_SEQ_MAX + 1];
    for (unsigned code = 0; code < PS2_KEYMAP_CODES; code++) {
        if (!ps2_keymap_known(code))
            continue;
        for (unsigned mods = 0; mods < 8; mods++) {
            for (int make = 0; make <= 1; make++) {
                uint8_t s1[PS2_SEQ_MAX], s2[PS2_SEQ_MAX], x[PS2_SEQ_MAX];
                size_t n1 = ps2_keymap_sequence(code, 1, make, mods, s1);
                size_t n2 = ps2_keymap_sequence(code, 2, make, mods, s2);
                assert_true(n1 <= PS2_SEQ_MAX && n2 <= PS2_SEQ_MAX);
                size_t nx = xlate_seq(s2, n2, x);
                if (nx != n1 || memcmp(x, s1, n1))
                    fail_msg("key %u mods %u %s: translated set 2 differs from set 1", code, mods,
                             make ? "make" : "break");
                if (make && !mods) {
                    assert_true(n1 > 0 && n2 > 0);
                    seen1[known][0] = (uint8_t)n1;
                    memcpy(&seen1[known][1], s1, n1);
                    seen2[known][0] = (uint8_t)n2;
                    memcpy(&seen2[known][1], s2, n2);
                }
            }
        }
        known++;
    }
    assert_true(known >= 140);
    for (unsigned a = 0; a < known; a++) {
        for (unsigned b = a + 1; b < known; b++) {
            assert_false(seen1[a][0] == seen1[b][0] && !memcmp(&seen1[a][1], &seen1[b][1], seen1[a][0]));
            assert_false(seen2[a][0] == seen2[b][0] && !memcmp(&seen2[a][1], &seen2[b][1], seen2[a][0]));
        }
    }
}

/* ---- Keyboard ---------------------------------------------------------- */

struct kfix {
    struct ps2_kbd k;
    struct clock clock;
    unsigned notified;
    unsigned led_calls;
    unsigned last_leds;
};

static void kbd_notify(void *opaque)
{
    struct kfix *f = opaque;
    f->notified++;
}

static void kbd_leds(void *opaque, unsigned leds)
{
    struct kfix *f = opaque;
    f->led_calls++;
    f->last_leds = leds;
}

static int kbd_setup(void **state)
{
    struct kfix *f = calloc(1, sizeof(*f));
    clock_fake_init(&f->clock, 0, 0);
    ps2_kbd_init(&f->k, kbd_notify, f);
    ps2_kbd_set_leds_callback(&f->k, kbd_leds, f);
    assert_int_equal(ps2_kbd_set_clock(&f->k, &f->clock), 0);
    *state = f;
    return 0;
}

static int kbd_teardown(void **state)
{
    struct kfix *f = *state;
    ps2_kbd_finalize(&f->k);
    assert_int_equal(f->clock.ntimers, 0);
    free(f);
    return 0;
}

/* Everything the keyboard has queued. */
static size_t kdrain(struct kfix *f, uint8_t *out, size_t max)
{
    size_t n = 0;
    while (ps2_kbd_has_data(&f->k)) {
        uint8_t b = ps2_kbd_take(&f->k);
        if (n < max)
            out[n] = b;
        n++;
    }
    return n;
}

static void kexpect(struct kfix *f, const char *want, size_t n)
{
    uint8_t buf[256];
    size_t got = kdrain(f, buf, sizeof(buf));
    if (got != n || memcmp(buf, want, n)) {
        char s[200] = "";
        for (size_t i = 0; i < got && i < 40; i++)
            snprintf(s + strlen(s), sizeof(s) - strlen(s), "%02x ", buf[i]);
        fail_msg("keyboard sent [%s], want %zu bytes", s, n);
    }
}

static void test_kbd_typematic(void **state)
{
    struct kfix *f = *state;
    /* F3 25: delay (1 + 1) * 250 ms = 500 ms; period (8 + 5) * 2^0 *
     * 4.17 ms = 54.21 ms. */
    ps2_kbd_write(&f->k, KBD_CMD_SET_TYPEMATIC);
    ps2_kbd_write(&f->k, 0x25);
    kexpect(f, "\xfa\xfa", 2);
    const uint64_t delay = 500 * MS, period = 54210000;
    assert_int_equal(ps2_kbd_typematic_delay_ns(0x25), delay);
    assert_int_equal(ps2_kbd_typematic_period_ns(0x25), period);
    /* IBM's table ends: 00 = 30.0 cps, 1F = 2.0 cps; delays 250-1000 ms. */
    assert_true(ps2_kbd_typematic_period_ns(0x00) > 33 * MS && ps2_kbd_typematic_period_ns(0x00) < 34 * MS);
    assert_true(ps2_kbd_typematic_period_ns(0x1f) > 499 * MS && ps2_kbd_typematic_period_ns(0x1f) < 501 * MS);
    assert_int_equal(ps2_kbd_typematic_delay_ns(0x00), 250 * MS);
    assert_int_equal(ps2_kbd_typematic_delay_ns(0x60), 1000 * MS);

    unsigned notified = f->notified;
    ps2_kbd_key_event(&f->k, KEY_A, true);
    assert_int_equal(f->notified, notified + 1);
    kexpect(f, "\x1c", 1);
    clock_fake_advance(&f->clock, delay - 1);
    kexpect(f, "", 0);
    clock_fake_advance(&f->clock, 1);
    kexpect(f, "\x1c", 1);
    clock_fake_advance(&f->clock, period - 1);
    kexpect(f, "", 0);
    clock_fake_advance(&f->clock, 1);
    kexpect(f, "\x1c", 1);
    clock_fake_advance(&f->clock, 10 * period);
    kexpect(f, "\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c\x1c", 10);
    /* The host's own auto-repeat is dropped: the keyboard repeats itself. */
    ps2_kbd_key_event(&f->k, KEY_A, true);
    kexpect(f, "", 0);

    /* A second key takes over the repeat, after its own delay. */
    ps2_kbd_key_event(&f->k, KEY_B, true);
    kexpect(f, "\x32", 1);
    clock_fake_advance(&f->clock, delay + period);
    kexpect(f, "\x32\x32", 2);
    /* Releasing it stops all repeat, although A is still held (IBM: only
     * the last key pressed repeats). */
    ps2_kbd_key_event(&f->k, KEY_B, false);
    kexpect(f, "\xf0\x32", 2);
    clock_fake_advance(&f->clock, 2000 * MS);
    kexpect(f, "", 0);
    ps2_kbd_key_event(&f->k, KEY_A, false);
    kexpect(f, "\xf0\x1c", 2);
    /* A release of a key not held sends nothing. */
    ps2_kbd_key_event(&f->k, KEY_A, false);
    kexpect(f, "", 0);

    /* Pause does not repeat. */
    ps2_kbd_key_event(&f->k, KEY_PAUSE, true);
    kexpect(f, "\xe1\x14\x77\xe1\xf0\x14\xf0\x77", 8);
    clock_fake_advance(&f->clock, 2000 * MS);
    kexpect(f, "", 0);
    ps2_kbd_key_event(&f->k, KEY_PAUSE, false);
    kexpect(f, "", 0);

    /* Ctrl+Print Screen repeats E0 7C; in set 1 E0 37. */
    ps2_kbd_key_event(&f->k, KEY_LEFTCTRL, true);
    ps2_kbd_key_event(&f->k, KEY_SYSRQ, true);
    kexpect(f, "\x14\xe0\x7c", 3);
    clock_fake_advance(&f->clock, delay);
    kexpect(f, "\xe0\x7c", 2);
    ps2_kbd_key_event(&f->k, KEY_SYSRQ, false);
    ps2_kbd_key_event(&f->k, KEY_LEFTCTRL, false);
    kexpect(f, "\xe0\xf0\x7c\xf0\x14", 5);

    /* Disabled (F5): no scancodes, no repeat; defaults restored. */
    ps2_kbd_write(&f->k, KBD_CMD_DEFAULT_DISABLE);
    kexpect(f, "\xfa", 1);
    ps2_kbd_key_event(&f->k, KEY_C, true);
    clock_fake_advance(&f->clock, 2000 * MS);
    kexpect(f, "", 0);
    ps2_kbd_key_event(&f->k, KEY_C, false);
    ps2_kbd_write(&f->k, KBD_CMD_ENABLE);
    kexpect(f, "\xfa", 1);
    /* Default typematic: 500 ms, then 10.9/s ((8 + 3) * 2 * 4.17 ms). */
    ps2_kbd_key_event(&f->k, KEY_C, true);
    clock_fake_advance(&f->clock, 500 * MS + 91740000);
    kexpect(f, "\x21\x21\x21", 3);
    ps2_kbd_key_event(&f->k, KEY_C, false);
    kexpect(f, "\xf0\x21", 2);
}

static void test_kbd_no_clock_and_sets(void **state)
{
    struct kfix *f = *state;
    /* Without a clock, a host auto-repeat press goes out as a repeat. */
    assert_int_equal(ps2_kbd_set_clock(&f->k, NULL), 0);
    assert_int_equal(f->clock.ntimers, 0);
    ps2_kbd_key_event(&f->k, KEY_UP, true);
    ps2_kbd_key_event(&f->k, KEY_UP, true);
    ps2_kbd_key_event(&f->k, KEY_UP, false);
    kexpect(f, "\xe0\x75\xe0\x75\xe0\xf0\x75", 7);

    /* Set 1 on request; set 3 refused (acknowledged, set unchanged). */
    ps2_kbd_write(&f->k, KBD_CMD_SCANCODE_SET);
    ps2_kbd_write(&f->k, 1);
    kexpect(f, "\xfa\xfa", 2);
    ps2_kbd_key_event(&f->k, KEY_UP, true);
    ps2_kbd_key_event(&f->k, KEY_UP, false);
    kexpect(f, "\xe0\x48\xe0\xc8", 4);
    ps2_kbd_write(&f->k, KBD_CMD_SCANCODE_SET);
    ps2_kbd_write(&f->k, 3);
    kexpect(f, "\xfa\xfa", 2);
    ps2_kbd_write(&f->k, KBD_CMD_SCANCODE_SET);
    ps2_kbd_write(&f->k, 0);
    kexpect(f, "\xfa\xfa\x01", 3);
    /* A bad argument gets Resend and the keyboard keeps waiting; a command
     * instead of the argument runs as a command. */
    ps2_kbd_write(&f->k, KBD_CMD_SCANCODE_SET);
    ps2_kbd_write(&f->k, 0x09);
    ps2_kbd_write(&f->k, 2);
    kexpect(f, "\xfa\xfe\xfa", 3);
    ps2_kbd_write(&f->k, KBD_CMD_SET_TYPEMATIC);
    ps2_kbd_write(&f->k, KBD_CMD_ECHO);
    kexpect(f, "\xfa\xee", 2);
    assert_int_equal(f->k.pending_cmd, 0);
    /* Set-3 key lists: each code acknowledged until the next command. */
    ps2_kbd_write(&f->k, KBD_CMD_SET3_KEY_MAKE);
    ps2_kbd_write(&f->k, 0x1c);
    ps2_kbd_write(&f->k, 0x32);
    ps2_kbd_write(&f->k, KBD_CMD_GET_ID);
    kexpect(f, "\xfa\xfa\xfa\xfa\xab\x83", 6);
    /* Resend repeats the last byte taken. */
    ps2_kbd_write(&f->k, KBD_CMD_RESEND);
    kexpect(f, "\x83", 1);
    /* Reset: clears the output buffer, answers ACK then BAT, back to
     * set 2. */
    ps2_kbd_write(&f->k, KBD_CMD_SCANCODE_SET);
    ps2_kbd_write(&f->k, 1);
    ps2_kbd_key_event(&f->k, KEY_A, true);
    assert_int_equal(f->k.count, 3);
    ps2_kbd_write(&f->k, KBD_CMD_RESET);
    kexpect(f, "\xfa\xaa", 2);
    assert_int_equal(f->k.scancode_set, 2);
}

static void test_kbd_leds_and_hold(void **state)
{
    struct kfix *f = *state;
    ps2_kbd_write(&f->k, KBD_CMD_SET_LEDS);
    kexpect(f, "\xfa", 1);
    /* A key arriving between ED and its argument waits for the argument's
     * ACK. */
    ps2_kbd_key_event(&f->k, KEY_CAPSLOCK, false);  /* not held: nothing */
    ps2_kbd_key_event(&f->k, KEY_X, true);
    ps2_kbd_key_event(&f->k, KEY_X, false);
    kexpect(f, "", 0);
    assert_int_equal(ps2_kbd_backlog(&f->k), 3);
    ps2_kbd_write(&f->k, PS2_LED_CAPS | PS2_LED_NUM);
    kexpect(f, "\xfa\x22\xf0\x22", 4);
    assert_int_equal(ps2_kbd_leds(&f->k), PS2_LED_CAPS | PS2_LED_NUM);
    assert_int_equal(f->led_calls, 1);
    assert_int_equal(f->last_leds, 6);
    /* Unchanged LEDs: no callback. */
    ps2_kbd_write(&f->k, KBD_CMD_SET_LEDS);
    ps2_kbd_write(&f->k, 0x06);
    kexpect(f, "\xfa\xfa", 2);
    assert_int_equal(f->led_calls, 1);
    /* Reset turns them off. */
    ps2_kbd_write(&f->k, KBD_CMD_RESET);
    kexpect(f, "\xfa\xaa", 2);
    assert_int_equal(ps2_kbd_leds(&f->k), 0);
    assert_int_equal(f->led_calls, 2);
    assert_int_equal(f->last_leds, 0);

    /* More held events than the hold list takes: the rest is lost and an
     * overrun code says so. */
    ps2_kbd_write(&f->k, KBD_CMD_SET_LEDS);
    for (int i = 0; i < PS2_KBD_HOLD + 4; i++)
        ps2_kbd_key_event(&f->k, KEY_Q, i % 2 == 0);
    ps2_kbd_write(&f->k, 0);
    uint8_t buf[128];
    size_t n = kdrain(f, buf, sizeof(buf));
    /* FA, FA, 8 make/break pairs (24 bytes), overrun 00. */
    assert_int_equal(n, 2 + PS2_KBD_HOLD / 2 * 3 + 1);
    assert_int_equal(buf[n - 1], KBD_REPLY_OVERRUN_SET2);

    /* release_all sends breaks for what is held. */
    ps2_kbd_key_event(&f->k, KEY_LEFTSHIFT, true);
    ps2_kbd_key_event(&f->k, KEY_RIGHTCTRL, true);
    kexpect(f, "\x12\xe0\x14", 3);
    ps2_kbd_release_all(&f->k);
    kexpect(f, "\xf0\x12\xe0\xf0\x14", 5);
}

static void test_kbd_overrun(void **state)
{
    struct kfix *f = *state;
    for (unsigned set = 1; set <= 2; set++) {
        ps2_kbd_write(&f->k, KBD_CMD_SCANCODE_SET);
        ps2_kbd_write(&f->k, (uint8_t)set);
        kexpect(f, "\xfa\xfa", 2);
        /* Nobody reads: the queue fills, one overrun code ends it. */
        for (int i = 0; i < 100; i++) {
            ps2_kbd_key_event(&f->k, KEY_A, true);
            ps2_kbd_key_event(&f->k, KEY_A, false);
        }
        assert_true(f->k.count <= PS2_KBD_QUEUE_SIZE);
        uint8_t buf[PS2_KBD_QUEUE_SIZE + 8];
        size_t n = kdrain(f, buf, sizeof(buf));
        assert_true(n <= PS2_KBD_QUEUE_SIZE);
        uint8_t overrun = set == 1 ? 0xff : 0x00;
        assert_int_equal(buf[n - 1], overrun);
        for (size_t i = 0; i + 1 < n; i++)
            assert_int_not_equal(buf[i], overrun);
        /* Whole sequences only before it: no dangling break prefix. */
        assert_true(n >= 2 && buf[n - 2] != 0xf0);
        /* Room again: keys flow. */
        ps2_kbd_key_event(&f->k, KEY_A, true);
        ps2_kbd_key_event(&f->k, KEY_A, false);
        if (set == 1)
            kexpect(f, "\x1e\x9e", 2);
        else
            kexpect(f, "\x1c\xf0\x1c", 3);
    }
}

/* ---- Mouse ------------------------------------------------------------- */

struct mfix {
    struct ps2_mouse m;
    struct clock clock;
    unsigned notified;
};

static void mouse_notify(void *opaque)
{
    struct mfix *f = opaque;
    f->notified++;
}

static int mouse_setup(void **state)
{
    struct mfix *f = calloc(1, sizeof(*f));
    clock_fake_init(&f->clock, 0, 0);
    ps2_mouse_init(&f->m, mouse_notify, f);
    *state = f;
    return 0;
}

static int mouse_teardown(void **state)
{
    struct mfix *f = *state;
    ps2_mouse_finalize(&f->m);
    assert_int_equal(f->clock.ntimers, 0);
    free(f);
    return 0;
}

static void mexpect(struct mfix *f, const char *want, size_t n)
{
    uint8_t buf[128];
    size_t got = 0;
    while (ps2_mouse_has_data(&f->m)) {
        uint8_t b = ps2_mouse_take(&f->m);
        if (got < sizeof(buf))
            buf[got] = b;
        got++;
    }
    if (got != n || memcmp(buf, want, n)) {
        char s[200] = "";
        for (size_t i = 0; i < got && i < sizeof(buf); i++)
            snprintf(s + strlen(s), sizeof(s) - strlen(s), "%02x ", buf[i]);
        fail_msg("mouse sent [%s], want %zu bytes", s, n);
    }
}

static void mcmd(struct mfix *f, uint8_t b)
{
    ps2_mouse_write(&f->m, b);
}

static void test_mouse_commands(void **state)
{
    struct mfix *f = *state;
    mcmd(f, MOUSE_CMD_RESET);
    mexpect(f, "\xfa\xaa\x00", 3);
    mcmd(f, MOUSE_CMD_GET_ID);
    mexpect(f, "\xfa\x00", 2);
    /* Defaults: stream, disabled, 1:1, 4 counts/mm (2), 100/s. */
    mcmd(f, MOUSE_CMD_STATUS);
    mexpect(f, "\xfa\x00\x02\x64", 4);
    mcmd(f, MOUSE_CMD_SET_RATE);
    mcmd(f, 40);
    mcmd(f, MOUSE_CMD_SET_RESOLUTION);
    mcmd(f, 3);
    mcmd(f, MOUSE_CMD_SCALING_2_1);
    mcmd(f, MOUSE_CMD_ENABLE);
    mexpect(f, "\xfa\xfa\xfa\xfa\xfa\xfa", 6);
    ps2_mouse_event(&f->m, 0, 0, 0, PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT);
    mexpect(f, "\x0b\x00\x00", 3);
    /* Status: enabled, scaling 2:1, left and right (bits 2 and 0). */
    mcmd(f, MOUSE_CMD_STATUS);
    mexpect(f, "\xfa\x35\x03\x28", 4);
    /* Invalid rate: Resend, still waiting; then a valid one. */
    mcmd(f, MOUSE_CMD_SET_RATE);
    mcmd(f, 7);
    mcmd(f, 60);
    mexpect(f, "\xfa\xfe\xfa", 3);
    assert_int_equal(f->m.sample_rate, 60);
    /* Resolution 4 is invalid; a command in its place runs. */
    mcmd(f, MOUSE_CMD_SET_RESOLUTION);
    mcmd(f, 4);
    mcmd(f, MOUSE_CMD_GET_ID);
    mexpect(f, "\xfa\xfe\xfa\x00", 4);
    assert_int_equal(f->m.resolution, 3);
    /* Wrap mode echoes until EC. */
    mcmd(f, MOUSE_CMD_SET_WRAP);
    mcmd(f, 0x42);
    mcmd(f, MOUSE_CMD_GET_ID);
    mcmd(f, MOUSE_CMD_RESET_WRAP);
    mexpect(f, "\xfa\x42\xf2\xfa", 4);
    /* Unknown command: Resend. Resend: the last byte again. */
    mcmd(f, 0x42);
    mexpect(f, "\xfe", 1);
    mcmd(f, MOUSE_CMD_RESEND);
    mexpect(f, "\xfe", 1);
    /* Set Default restores the settings; the buttons stay as they are. */
    mcmd(f, MOUSE_CMD_SET_DEFAULT);
    mcmd(f, MOUSE_CMD_STATUS);
    mexpect(f, "\xfa\xfa\x05\x02\x64", 5);
}

static void test_mouse_packets(void **state)
{
    struct mfix *f = *state;
    mcmd(f, MOUSE_CMD_SET_RESOLUTION);
    mcmd(f, 3);                 /* 8 counts/mm: host units 1:1 */
    mcmd(f, MOUSE_CMD_ENABLE);
    mexpect(f, "\xfa\xfa\xfa", 3);
    /* Right 10, up 5 (host dy is down), left button. */
    ps2_mouse_event(&f->m, 10, -5, 0, PS2_MOUSE_LEFT);
    mexpect(f, "\x09\x0a\x05", 3);
    /* Left 3, down 4: both sign bits, 9-bit two's complement. */
    ps2_mouse_event(&f->m, -3, 4, 0, 0);
    mexpect(f, "\x38\xfd\xfc", 3);
    /* Middle button alone. */
    ps2_mouse_event(&f->m, 0, 0, 0, PS2_MOUSE_MIDDLE);
    mexpect(f, "\x0c\x00\x00", 3);
    /* Nothing changed: no packet. The wheel means nothing without the
     * knock. */
    ps2_mouse_event(&f->m, 0, 0, 3, PS2_MOUSE_MIDDLE);
    mexpect(f, "", 0);
    /* Overflow: clamped to 255 / -256, overflow bits set. */
    ps2_mouse_event(&f->m, 300, -400, 0, 0);
    mexpect(f, "\xc8\xff\xff", 3);
    ps2_mouse_event(&f->m, -1000, 1000, 0, 0);
    mexpect(f, "\xf8\x00\x00", 3);
    /* The overflowed movement is gone. */
    ps2_mouse_event(&f->m, 1, 0, 0, 0);
    mexpect(f, "\x08\x01\x00", 3);
    /* Limits without overflow. */
    ps2_mouse_event(&f->m, 255, 256, 0, 0);
    mexpect(f, "\x28\xff\x00", 3);

    /* Resolution 2 (4 counts/mm): half, remainder kept. */
    mcmd(f, MOUSE_CMD_SET_RESOLUTION);
    mcmd(f, 2);
    mexpect(f, "\xfa\xfa", 2);
    ps2_mouse_event(&f->m, 5, 0, 0, 0);
    mexpect(f, "\x08\x02\x00", 3);
    ps2_mouse_event(&f->m, 1, 0, 0, 0);
    mexpect(f, "\x08\x01\x00", 3);
    /* One host count: below one reported count, nothing to send. */
    ps2_mouse_event(&f->m, 1, 0, 0, 0);
    mexpect(f, "", 0);
    ps2_mouse_event(&f->m, 1, 0, 0, 0);
    mexpect(f, "\x08\x01\x00", 3);
    /* Resolution 0 (1 count/mm): an eighth. */
    mcmd(f, MOUSE_CMD_SET_RESOLUTION);
    mcmd(f, 0);
    mexpect(f, "\xfa\xfa", 2);
    ps2_mouse_event(&f->m, -17, 0, 0, 0);
    mexpect(f, "\x18\xfe\x00", 3);

    /* Scaling 2:1 (IBM table: 1->1, 2->1, 3->3, 4->6, 5->9, n->2n). */
    mcmd(f, MOUSE_CMD_SET_RESOLUTION);
    mcmd(f, 3);
    mcmd(f, MOUSE_CMD_SCALING_2_1);
    mexpect(f, "\xfa\xfa\xfa", 3);
    static const int in[] = { 1, 2, 3, 4, 5, 6, -4, 100, 200 };
    static const uint8_t out[] = { 1, 1, 3, 6, 9, 12, 0xfa, 200, 255 };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        ps2_mouse_event(&f->m, in[i], 0, 0, 0);
        uint8_t b0 = (uint8_t)(0x08 | (in[i] < 0 ? 0x10 : 0) | (in[i] == 200 ? 0x40 : 0));
        char want[3] = { (char)b0, (char)out[i], 0 };
        mexpect(f, want, 3);
    }
    mcmd(f, MOUSE_CMD_SCALING_1_1);
    mexpect(f, "\xfa", 1);

    /* Disabled: nothing, and no movement kept for later. */
    mcmd(f, MOUSE_CMD_DISABLE);
    mexpect(f, "\xfa", 1);
    ps2_mouse_event(&f->m, 10, 10, 0, 0);
    mexpect(f, "", 0);
    mcmd(f, MOUSE_CMD_ENABLE);
    mexpect(f, "\xfa", 1);
    ps2_mouse_event(&f->m, 1, 0, 0, 0);
    mexpect(f, "\x08\x01\x00", 3);

    /* Remote mode: no stream; Read Data returns the movement, unscaled. */
    mcmd(f, MOUSE_CMD_SCALING_2_1);
    mcmd(f, MOUSE_CMD_SET_REMOTE);
    mexpect(f, "\xfa\xfa", 2);
    ps2_mouse_event(&f->m, 4, -3, 0, PS2_MOUSE_RIGHT);
    ps2_mouse_event(&f->m, 4, 0, 0, PS2_MOUSE_RIGHT);
    mexpect(f, "", 0);
    mcmd(f, MOUSE_CMD_STATUS);
    mexpect(f, "\xfa\x71\x03\x64", 4);
    mcmd(f, MOUSE_CMD_READ_DATA);
    mexpect(f, "\xfa\x0a\x08\x03", 4);
    mcmd(f, MOUSE_CMD_READ_DATA);
    mexpect(f, "\xfa\x0a\x00\x00", 4);
    mcmd(f, MOUSE_CMD_SET_STREAM);
    mexpect(f, "\xfa", 1);
}

static void test_mouse_wheel(void **state)
{
    struct mfix *f = *state;
    /* A wrong order is no knock. */
    static const uint8_t wrong[] = { 200, 80, 100 };
    for (int i = 0; i < 3; i++) {
        mcmd(f, MOUSE_CMD_SET_RATE);
        mcmd(f, wrong[i]);
    }
    mcmd(f, MOUSE_CMD_GET_ID);
    mexpect(f, "\xfa\xfa\xfa\xfa\xfa\xfa\xfa\x00", 8);
    /* 200, 100, 80: IntelliMouse. */
    static const uint8_t knock[] = { 200, 100, 80 };
    for (int i = 0; i < 3; i++) {
        mcmd(f, MOUSE_CMD_SET_RATE);
        mcmd(f, knock[i]);
    }
    mcmd(f, MOUSE_CMD_GET_ID);
    mexpect(f, "\xfa\xfa\xfa\xfa\xfa\xfa\xfa\x03", 8);
    mcmd(f, MOUSE_CMD_SET_RESOLUTION);
    mcmd(f, 3);
    mcmd(f, MOUSE_CMD_ENABLE);
    mexpect(f, "\xfa\xfa\xfa", 3);
    /* Wheel up one click: Z -1 (negative = away from the user). */
    ps2_mouse_event(&f->m, 0, 0, 1, 0);
    mexpect(f, "\x08\x00\x00\xff", 4);
    ps2_mouse_event(&f->m, 2, 0, -2, PS2_MOUSE_LEFT);
    mexpect(f, "\x09\x02\x00\x02", 4);
    /* Z is limited to -8..7; the rest follows in the next reports. */
    ps2_mouse_event(&f->m, 0, 0, 10, PS2_MOUSE_LEFT);
    mexpect(f, "\x09\x00\x00\xf8", 4);
    ps2_mouse_event(&f->m, 0, 0, 0, PS2_MOUSE_LEFT);
    mexpect(f, "\x09\x00\x00\xfe", 4);
    /* A full queue holds whole 4-byte reports only. */
    for (int i = 0; i < 100; i++)
        ps2_mouse_event(&f->m, 1, 0, 0, i % 2);
    assert_true(f->m.count <= PS2_MOUSE_QUEUE_SIZE);
    assert_int_equal(f->m.count % 4, 0);
    assert_int_equal(f->m.count, PS2_MOUSE_QUEUE_SIZE / 4 * 4);
    /* Reset ends wheel mode. */
    mcmd(f, MOUSE_CMD_RESET);
    mcmd(f, MOUSE_CMD_GET_ID);
    mexpect(f, "\xfa\xaa\x00\xfa\x00", 5);
}

static void test_mouse_rate_and_queue(void **state)
{
    struct mfix *f = *state;
    assert_int_equal(ps2_mouse_set_clock(&f->m, &f->clock), 0);
    mcmd(f, MOUSE_CMD_SET_RATE);
    mcmd(f, 10);                /* one report per 100 ms */
    mcmd(f, MOUSE_CMD_SET_RESOLUTION);
    mcmd(f, 3);
    mcmd(f, MOUSE_CMD_ENABLE);
    mexpect(f, "\xfa\xfa\xfa\xfa\xfa", 5);
    unsigned notified = f->notified;
    ps2_mouse_event(&f->m, 1, 0, 0, 0);
    mexpect(f, "\x08\x01\x00", 3);
    assert_int_equal(f->notified, notified + 1);
    /* Within 100 ms: movement accumulates. */
    ps2_mouse_event(&f->m, 2, 0, 0, 0);
    clock_fake_advance(&f->clock, 50 * MS);
    ps2_mouse_event(&f->m, 3, 0, 0, 0);
    mexpect(f, "", 0);
    clock_fake_advance(&f->clock, 50 * MS - 1);
    mexpect(f, "", 0);
    clock_fake_advance(&f->clock, 1);
    mexpect(f, "\x08\x05\x00", 3);
    assert_int_equal(f->notified, notified + 2);
    /* Nothing new: the timer lapses; the next event goes out at once. */
    clock_fake_advance(&f->clock, 300 * MS);
    mexpect(f, "", 0);
    ps2_mouse_event(&f->m, 0, 1, 0, 0);
    mexpect(f, "\x28\x00\xff", 3);

    /* A full queue holds reports back without losing movement. */
    assert_int_equal(ps2_mouse_set_clock(&f->m, NULL), 0);
    for (int i = 0; i < 100; i++)
        ps2_mouse_event(&f->m, 1, 0, 0, 0);
    assert_int_equal(f->m.count, PS2_MOUSE_QUEUE_SIZE / 3 * 3);
    int total = 0;
    while (ps2_mouse_has_data(&f->m)) {
        uint8_t b0 = ps2_mouse_take(&f->m);
        total += (int8_t)ps2_mouse_take(&f->m);
        (void)ps2_mouse_take(&f->m);
        assert_int_equal(b0, 0x08);
        ps2_mouse_poll(&f->m);
    }
    assert_int_equal(total, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keymap_representative),
        cmocka_unit_test(test_keymap_translation),
        cmocka_unit_test_setup_teardown(test_kbd_typematic, kbd_setup, kbd_teardown),
        cmocka_unit_test_setup_teardown(test_kbd_no_clock_and_sets, kbd_setup, kbd_teardown),
        cmocka_unit_test_setup_teardown(test_kbd_leds_and_hold, kbd_setup, kbd_teardown),
        cmocka_unit_test_setup_teardown(test_kbd_overrun, kbd_setup, kbd_teardown),
        cmocka_unit_test_setup_teardown(test_mouse_commands, mouse_setup, mouse_teardown),
        cmocka_unit_test_setup_teardown(test_mouse_packets, mouse_setup, mouse_teardown),
        cmocka_unit_test_setup_teardown(test_mouse_wheel, mouse_setup, mouse_teardown),
        cmocka_unit_test_setup_teardown(test_mouse_rate_and_queue, mouse_setup, mouse_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
