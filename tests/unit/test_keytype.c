#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/input-event-codes.h>

#include "keytype.h"

struct ev {
    uint16_t code;
    bool pressed;
};

#define P(k) { k, true }
#define R(k) { k, false }

static void expect_events(const struct keytype_event *got, size_t n, const struct ev *want, size_t wn)
{
    assert_int_equal(n, wn);
    for (size_t i = 0; i < n; i++) {
        if (got[i].code != want[i].code || got[i].pressed != want[i].pressed)
            fail_msg("event %zu: got %u/%d, want %u/%d", i, got[i].code, got[i].pressed,
                     want[i].code, want[i].pressed);
    }
}

static void test_text_basic(void **state)
{
    (void)state;
    struct keytype_event *ev = NULL;
    size_t n = 0;
    char err[256];
    /* US layout: 'H' needs Shift, '!' is Shift+1, '\n' is Enter. */
    assert_int_equal(keytype_text("Hi 1!\n", &ev, &n, err, sizeof(err)), 0);
    static const struct ev want[] = {
        P(KEY_LEFTSHIFT), P(KEY_H), R(KEY_H), R(KEY_LEFTSHIFT),
        P(KEY_I), R(KEY_I),
        P(KEY_SPACE), R(KEY_SPACE),
        P(KEY_1), R(KEY_1),
        P(KEY_LEFTSHIFT), P(KEY_1), R(KEY_1), R(KEY_LEFTSHIFT),
        P(KEY_ENTER), R(KEY_ENTER),
    };
    expect_events(ev, n, want, sizeof(want) / sizeof(want[0]));
    free(ev);
}

static void test_text_punctuation(void **state)
{
    (void)state;
    struct keytype_event *ev = NULL;
    size_t n = 0;
    char err[256];
    /* Each pair: unshifted and shifted character of one key. */
    static const struct { const char *text; uint16_t code; bool shift; } cases[] = {
        { "`", KEY_GRAVE, false }, { "~", KEY_GRAVE, true },
        { "-", KEY_MINUS, false }, { "_", KEY_MINUS, true },
        { "=", KEY_EQUAL, false }, { "+", KEY_EQUAL, true },
        { "[", KEY_LEFTBRACE, false }, { "{", KEY_LEFTBRACE, true },
        { "]", KEY_RIGHTBRACE, false }, { "}", KEY_RIGHTBRACE, true },
        { "\\", KEY_BACKSLASH, false }, { "|", KEY_BACKSLASH, true },
        { ";", KEY_SEMICOLON, false }, { ":", KEY_SEMICOLON, true },
        { "'", KEY_APOSTROPHE, false }, { "\"", KEY_APOSTROPHE, true },
        { ",", KEY_COMMA, false }, { "<", KEY_COMMA, true },
        { ".", KEY_DOT, false }, { ">", KEY_DOT, true },
        { "/", KEY_SLASH, false }, { "?", KEY_SLASH, true },
        { "@", KEY_2, true }, { "#", KEY_3, true }, { "$", KEY_4, true }, { "%", KEY_5, true },
        { "^", KEY_6, true }, { "&", KEY_7, true }, { "*", KEY_8, true }, { "(", KEY_9, true },
        { ")", KEY_0, true }, { "0", KEY_0, false }, { "9", KEY_9, false },
        { "z", KEY_Z, false }, { "Q", KEY_Q, true },
        { "\t", KEY_TAB, false }, { "\b", KEY_BACKSPACE, false }, { "\x1b", KEY_ESC, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(keytype_text(cases[i].text, &ev, &n, err, sizeof(err)), 0);
        if (cases[i].shift) {
            struct ev want[] = { P(KEY_LEFTSHIFT), P(cases[i].code), R(cases[i].code), R(KEY_LEFTSHIFT) };
            expect_events(ev, n, want, 4);
        } else {
            struct ev want[] = { P(cases[i].code), R(cases[i].code) };
            expect_events(ev, n, want, 2);
        }
        free(ev);
    }
    /* "\r\n" is a single Enter, a lone '\r' is one too. */
    assert_int_equal(keytype_text("a\r\nb\r", &ev, &n, err, sizeof(err)), 0);
    static const struct ev crlf[] = {
        P(KEY_A), R(KEY_A), P(KEY_ENTER), R(KEY_ENTER), P(KEY_B), R(KEY_B), P(KEY_ENTER), R(KEY_ENTER),
    };
    expect_events(ev, n, crlf, sizeof(crlf) / sizeof(crlf[0]));
    free(ev);
    /* Empty text: nothing to type. */
    ev = (struct keytype_event *)1;
    assert_int_equal(keytype_text("", &ev, &n, err, sizeof(err)), 0);
    assert_null(ev);
    assert_int_equal(n, 0);
}

static void test_text_rejected(void **state)
{
    (void)state;
    struct keytype_event *ev = NULL;
    size_t n = 77;
    char err[256];
    /* A character a US keyboard cannot type: an error naming it, nothing
     * produced. */
    assert_int_equal(keytype_text("caf\xc3\xa9!", &ev, &n, err, sizeof(err)), -1);
    assert_null(ev);
    assert_int_equal(n, 77);
    assert_non_null(strstr(err, "\xc3\xa9"));
    assert_non_null(strstr(err, "U+00E9"));
    assert_non_null(strstr(err, "character 4"));
    /* Emoji (4-byte UTF-8). */
    assert_int_equal(keytype_text("ok \xf0\x9f\x98\x80", &ev, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "U+1F600"));
    /* Control characters other than the supported ones. */
    assert_int_equal(keytype_text("a\x07", &ev, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "U+0007"));
    assert_int_equal(keytype_text("\x7f", &ev, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "U+007F"));
    /* Invalid UTF-8: truncated, overlong, surrogate, stray continuation. */
    static const char *bad[] = { "ab\xc3", "\xc0\xaf", "\xed\xa0\x80", "\x80", "\xf8\x88\x80\x80\x80",
                                 "\xf4\x90\x80\x80" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(keytype_text(bad[i], &ev, &n, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "UTF-8"));
    }
    assert_null(ev);
}

static void test_combo(void **state)
{
    (void)state;
    struct keytype_event *ev = NULL;
    size_t n = 0;
    char err[256];

    assert_int_equal(keytype_combo("ctrl+alt+delete", &ev, &n, err, sizeof(err)), 0);
    static const struct ev cad[] = {
        P(KEY_LEFTCTRL), P(KEY_LEFTALT), P(KEY_DELETE), R(KEY_DELETE), R(KEY_LEFTALT), R(KEY_LEFTCTRL),
    };
    expect_events(ev, n, cad, 6);
    free(ev);

    assert_int_equal(keytype_combo("enter", &ev, &n, err, sizeof(err)), 0);
    static const struct ev enter[] = { P(KEY_ENTER), R(KEY_ENTER) };
    expect_events(ev, n, enter, 2);
    free(ev);

    assert_int_equal(keytype_combo("F1", &ev, &n, err, sizeof(err)), 0);
    static const struct ev f1[] = { P(KEY_F1), R(KEY_F1) };
    expect_events(ev, n, f1, 2);
    free(ev);

    assert_int_equal(keytype_combo(" Shift + A ", &ev, &n, err, sizeof(err)), 0);
    static const struct ev sa[] = { P(KEY_LEFTSHIFT), P(KEY_A), R(KEY_A), R(KEY_LEFTSHIFT) };
    expect_events(ev, n, sa, 4);
    free(ev);

    static const struct { const char *name; uint16_t code; } names[] = {
        { "f12", KEY_F12 }, { "f24", KEY_F24 }, { "rctrl", KEY_RIGHTCTRL }, { "altgr", KEY_RIGHTALT },
        { "super", KEY_LEFTMETA }, { "esc", KEY_ESC }, { "pagedown", KEY_PAGEDOWN }, { "up", KEY_UP },
        { "print", KEY_SYSRQ }, { "pause", KEY_PAUSE }, { "kp7", KEY_KP7 }, { "kpenter", KEY_KPENTER },
        { "-", KEY_MINUS }, { "/", KEY_SLASH }, { "7", KEY_7 }, { "menu", KEY_COMPOSE },
        { "volumeup", KEY_VOLUMEUP }, { "backspace", KEY_BACKSPACE }, { "tab", KEY_TAB },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(keytype_combo(names[i].name, &ev, &n, err, sizeof(err)), 0);
        struct ev want[] = { P(names[i].code), R(names[i].code) };
        expect_events(ev, n, want, 2);
        free(ev);
    }

    /* Errors name what is wrong and produce nothing. */
    ev = NULL;
    assert_int_equal(keytype_combo("ctrl+foo", &ev, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"foo\""));
    assert_int_equal(keytype_combo("ctrl+", &ev, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(keytype_combo("", &ev, &n, err, sizeof(err)), -1);
    assert_int_equal(keytype_combo("ctrl+ctrl", &ev, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(keytype_combo("f25", &ev, &n, err, sizeof(err)), -1);
    assert_int_equal(keytype_combo("f0", &ev, &n, err, sizeof(err)), -1);
    assert_int_equal(keytype_combo("!", &ev, &n, err, sizeof(err)), -1);  /* needs Shift: not a key */
    assert_null(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_basic),
        cmocka_unit_test(test_text_punctuation),
        cmocka_unit_test(test_text_rejected),
        cmocka_unit_test(test_combo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
