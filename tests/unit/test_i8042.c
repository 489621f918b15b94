#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/input-event-codes.h>

#include "bus.h"
#include "clock.h"
#include "i8042.h"
#include "rng.h"

struct fixture {
    struct i8042 kbc;
    struct clock clock;
    unsigned led_calls;
    unsigned leds;
    struct irq_line irq1, irq12;
    struct bus *bus;
    int level[2];
    unsigned edges[2];
    unsigned resets;
};

static void probe_set(void *opaque, unsigned n, int level)
{
    struct fixture *f = opaque;
    unsigned i = n == 1 ? 0 : 1;
    if (level && !f->level[i])
        f->edges[i]++;
    f->level[i] = level;
}

static void on_reset(void *opaque)
{
    struct fixture *f = opaque;
    f->resets++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    irq_line_init(&f->irq1, probe_set, f, 1);
    irq_line_init(&f->irq12, probe_set, f, 12);
    i8042_init(&f->kbc, &f->irq1, &f->irq12, on_reset, f);
    clock_fake_init(&f->clock, 0, 0);
    assert_int_equal(i8042_set_clock(&f->kbc, &f->clock), 0);
    f->bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(f->bus, 0x60, 1, &i8042_data_bus_ops, &f->kbc, "kbd-data"), 0);
    assert_int_equal(bus_map(f->bus, 0x64, 1, &i8042_cmd_bus_ops, &f->kbc, "kbd-cmd"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    i8042_device_ops.finalize(&f->kbc);
    assert_int_equal(f->clock.ntimers, 0);
    bus_free(f->bus);
    free(f);
    return 0;
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
    uint8_t v = 0;
    bus_read(f->bus, port, &v, 1);
    return v;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
    bus_write(f->bus, port, &v, 1);
}

/* Expect one byte in the output buffer, read it, and return it. */
static uint8_t reply(struct fixture *f)
{
    assert_true(inb(f, 0x64) & I8042_STR_OBF);
    return inb(f, 0x60);
}

static void expect_empty(struct fixture *f)
{
    assert_false(inb(f, 0x64) & I8042_STR_OBF);
}

static uint8_t read_ctr(struct fixture *f)
{
    outb(f, 0x64, I8042_CMD_READ_RAM);
    return reply(f);
}

static void write_ctr(struct fixture *f, uint8_t v)
{
    outb(f, 0x64, I8042_CMD_WRITE_RAM);
    outb(f, 0x60, v);
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(inb(f, 0x64), I8042_STR_INH | I8042_STR_SYS);
    assert_int_equal(read_ctr(f), I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE);
    assert_int_equal(inb(f, 0x64) & I8042_STR_CMD, I8042_STR_CMD);
    outb(f, 0x64, I8042_CMD_READ_OUTPUT);
    /* Reset line high, A20 on, keyboard clock and data high; the IRQ bits
     * are sampled before the reply itself fills the buffer. */
    assert_int_equal(reply(f), 0xc3);
    assert_true(i8042_a20_enabled(&f->kbc));
    assert_int_equal(f->level[0], 0);
    assert_int_equal(f->level[1], 0);
    assert_int_equal(f->resets, 0);

    /* Dirty it and reset. */
    write_ctr(f, 0x00);
    outb(f, 0x64, I8042_CMD_A20_DISABLE);
    outb(f, 0x60, KBD_CMD_SET_LEDS);
    i8042_device_ops.reset(&f->kbc);
    assert_int_equal(inb(f, 0x64), I8042_STR_INH | I8042_STR_SYS);
    assert_true(i8042_a20_enabled(&f->kbc));
    assert_int_equal(f->kbc.kbd.pending_cmd, 0);
    assert_int_equal(f->kbc.kbd.count, 0);
}

static void test_controller_commands(void **state)
{
    struct fixture *f = *state;
    outb(f, 0x64, I8042_CMD_SELF_TEST);
    assert_int_equal(reply(f), 0x55);
    outb(f, 0x64, I8042_CMD_KBD_TEST);
    assert_int_equal(reply(f), 0x00);
    outb(f, 0x64, I8042_CMD_AUX_TEST);
    assert_int_equal(reply(f), 0x00);
    outb(f, 0x64, I8042_CMD_PASSWORD_TEST);
    assert_int_equal(reply(f), 0xf1);
    outb(f, 0x64, I8042_CMD_READ_TEST);
    assert_int_equal(reply(f), 0x00);
    expect_empty(f);
    /* The replies raised IRQ1 (KBDINT is on) and reading lowered it. */
    assert_int_equal(f->edges[0], 5);
    assert_int_equal(f->level[0], 0);

    /* Command byte round trip; SYS follows it into the status register. */
    write_ctr(f, 0x20);
    assert_int_equal(inb(f, 0x64) & (I8042_STR_SYS | I8042_STR_CMD), 0);
    assert_int_equal(read_ctr(f), 0x20);
    write_ctr(f, 0x47);
    assert_int_equal(inb(f, 0x64) & I8042_STR_SYS, I8042_STR_SYS);
    /* Other RAM bytes. */
    outb(f, 0x64, I8042_CMD_WRITE_RAM + 5);
    outb(f, 0x60, 0x99);
    outb(f, 0x64, I8042_CMD_READ_RAM + 5);
    assert_int_equal(reply(f), 0x99);

    outb(f, 0x64, I8042_CMD_KBD_DISABLE);
    assert_int_equal(read_ctr(f) & I8042_CTR_KBDDIS, I8042_CTR_KBDDIS);
    outb(f, 0x64, I8042_CMD_KBD_ENABLE);
    assert_int_equal(read_ctr(f) & I8042_CTR_KBDDIS, 0);
    outb(f, 0x64, I8042_CMD_AUX_DISABLE);
    assert_int_equal(read_ctr(f) & I8042_CTR_AUXDIS, I8042_CTR_AUXDIS);
    outb(f, 0x64, I8042_CMD_AUX_ENABLE);
    assert_int_equal(read_ctr(f) & I8042_CTR_AUXDIS, 0);

    /* An empty output buffer reads back its stale byte. */
    expect_empty(f);
    assert_int_equal(inb(f, 0x60), 0x47);
    /* Unknown commands do nothing. */
    outb(f, 0x64, 0xc8);
    expect_empty(f);
}

static void test_output_port_and_reset(void **state)
{
    struct fixture *f = *state;
    outb(f, 0x64, I8042_CMD_WRITE_OUTPUT);
    outb(f, 0x60, 0xc1);                    /* A20 off, reset line high */
    assert_false(i8042_a20_enabled(&f->kbc));
    outb(f, 0x64, I8042_CMD_READ_OUTPUT);
    assert_int_equal(reply(f), 0xc1);
    outb(f, 0x64, I8042_CMD_A20_ENABLE);
    assert_true(i8042_a20_enabled(&f->kbc));
    outb(f, 0x64, I8042_CMD_A20_DISABLE);
    assert_false(i8042_a20_enabled(&f->kbc));
    /* Linux's a20.c: D1 then DF. */
    outb(f, 0x64, I8042_CMD_WRITE_OUTPUT);
    outb(f, 0x60, 0xdf);
    assert_true(i8042_a20_enabled(&f->kbc));
    assert_int_equal(f->resets, 0);

    /* Pulse commands: 0xFE pulses reset, 0xFF pulses nothing. */
    outb(f, 0x64, 0xff);
    assert_int_equal(f->resets, 0);
    outb(f, 0x64, 0xfe);
    assert_int_equal(f->resets, 1);
    outb(f, 0x64, 0xf0);
    assert_int_equal(f->resets, 2);
    outb(f, 0x64, 0xf1);
    assert_int_equal(f->resets, 2);
    /* Output port with bit 0 low holds the CPU in reset. */
    outb(f, 0x64, I8042_CMD_WRITE_OUTPUT);
    outb(f, 0x60, 0x02);
    assert_int_equal(f->resets, 3);
}

/* Send a keyboard command and collect the reply bytes. */
static size_t kbd_cmd(struct fixture *f, uint8_t cmd, uint8_t *out, size_t max)
{
    outb(f, 0x60, cmd);
    size_t n = 0;
    while ((inb(f, 0x64) & I8042_STR_OBF) && n < max) {
        assert_false(inb(f, 0x64) & I8042_STR_AUXDATA);
        out[n++] = inb(f, 0x60);
    }
    return n;
}

static void test_keyboard_commands(void **state)
{
    struct fixture *f = *state;
    uint8_t r[8];
    unsigned edges = f->edges[0];
    /* What Linux's atkbd does at probe time. */
    assert_int_equal(kbd_cmd(f, KBD_CMD_RESET, r, 8), 2);
    assert_int_equal(r[0], KBD_REPLY_ACK);
    assert_int_equal(r[1], KBD_REPLY_BAT_OK);
    /* Each byte is a separate IRQ1 edge (the line drops on every read). */
    assert_int_equal(f->edges[0], edges + 2);
    assert_int_equal(f->level[0], 0);

    assert_int_equal(kbd_cmd(f, KBD_CMD_GET_ID, r, 8), 3);
    assert_memory_equal(r, "\xfa\xab\x41", 3);      /* translated ID */
    write_ctr(f, I8042_CTR_KBDINT);                 /* translation off */
    assert_int_equal(kbd_cmd(f, KBD_CMD_GET_ID, r, 8), 3);
    assert_memory_equal(r, "\xfa\xab\x83", 3);

    assert_int_equal(kbd_cmd(f, KBD_CMD_DEFAULT_DISABLE, r, 8), 1);
    assert_int_equal(r[0], KBD_REPLY_ACK);
    assert_int_equal(f->kbc.kbd.scanning, 0);
    assert_int_equal(kbd_cmd(f, KBD_CMD_SET_LEDS, r, 8), 1);
    assert_int_equal(r[0], KBD_REPLY_ACK);
    assert_int_equal(kbd_cmd(f, 0x05, r, 8), 1);
    assert_int_equal(r[0], KBD_REPLY_ACK);
    assert_int_equal(f->kbc.kbd.leds, 0x05);
    assert_int_equal(kbd_cmd(f, KBD_CMD_SET_TYPEMATIC, r, 8), 1);
    assert_int_equal(kbd_cmd(f, 0x00, r, 8), 1);
    assert_int_equal(f->kbc.kbd.typematic, 0);
    assert_int_equal(kbd_cmd(f, KBD_CMD_SCANCODE_SET, r, 8), 1);
    assert_int_equal(kbd_cmd(f, 0x00, r, 8), 2);
    assert_memory_equal(r, "\xfa\x02", 2);
    assert_int_equal(kbd_cmd(f, KBD_CMD_SCANCODE_SET, r, 8), 1);
    assert_int_equal(kbd_cmd(f, 0x07, r, 8), 1);
    assert_int_equal(r[0], KBD_REPLY_RESEND);
    assert_int_equal(kbd_cmd(f, KBD_CMD_ENABLE, r, 8), 1);
    assert_int_equal(f->kbc.kbd.scanning, 1);
    assert_int_equal(kbd_cmd(f, KBD_CMD_ECHO, r, 8), 1);
    assert_int_equal(r[0], KBD_REPLY_ECHO);
    assert_int_equal(kbd_cmd(f, KBD_CMD_RESEND, r, 8), 1);
    assert_int_equal(r[0], KBD_REPLY_ECHO);
    assert_int_equal(kbd_cmd(f, 0xf8, r, 8), 1);
    assert_int_equal(r[0], KBD_REPLY_ACK);
    assert_int_equal(kbd_cmd(f, 0x42, r, 8), 1);    /* not a command */
    assert_int_equal(r[0], KBD_REPLY_RESEND);
    assert_int_equal(kbd_cmd(f, KBD_CMD_SET_DEFAULT, r, 8), 1);
    assert_int_equal(f->kbc.kbd.typematic, 0x2b);

    /* No interrupt when KBDINT is off, but the data still arrives. */
    write_ctr(f, 0);
    edges = f->edges[0];
    assert_int_equal(kbd_cmd(f, KBD_CMD_ECHO, r, 8), 1);
    assert_int_equal(f->edges[0], edges);
}

static void test_keyboard_interface_disable(void **state)
{
    struct fixture *f = *state;
    uint8_t r[4];
    outb(f, 0x60, KBD_CMD_RESET);
    /* The first reply byte is already in the controller; the rest waits in
     * the keyboard while its interface is disabled. */
    outb(f, 0x64, I8042_CMD_KBD_DISABLE);
    assert_int_equal(reply(f), KBD_REPLY_ACK);
    expect_empty(f);
    /* Controller replies still come through. */
    outb(f, 0x64, I8042_CMD_SELF_TEST);
    assert_int_equal(reply(f), 0x55);
    expect_empty(f);
    outb(f, 0x64, I8042_CMD_KBD_ENABLE);
    assert_int_equal(reply(f), KBD_REPLY_BAT_OK);
    /* Writing to the keyboard enables the interface again. */
    outb(f, 0x64, I8042_CMD_KBD_DISABLE);
    assert_int_equal(kbd_cmd(f, KBD_CMD_ECHO, r, 4), 1);
    assert_int_equal(read_ctr(f) & I8042_CTR_KBDDIS, 0);
    /* The keyboard's own queue is bounded. */
    outb(f, 0x64, I8042_CMD_KBD_DISABLE);
    write_ctr(f, I8042_CTR_KBDDIS);
    for (int i = 0; i < 100; i++) {
        outb(f, 0x60, KBD_CMD_ECHO);
        outb(f, 0x64, I8042_CMD_KBD_DISABLE);
    }
    assert_true(f->kbc.kbd.count <= PS2_KBD_QUEUE_SIZE);
}

static void test_aux_port(void **state)
{
    struct fixture *f = *state;
    write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
    /* Linux's AUX loop test: D3 echoes the byte as auxiliary data on IRQ12. */
    outb(f, 0x64, I8042_CMD_WRITE_AUX_OUT);
    outb(f, 0x60, 0x5a);
    assert_int_equal(inb(f, 0x64) & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF | I8042_STR_AUXDATA);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(f->level[0], 0);
    assert_int_equal(inb(f, 0x60), 0x5a);
    assert_int_equal(f->level[1], 0);
    /* The mouse answers Get ID through D4: ACK, ID 0, as auxiliary data. */
    outb(f, 0x64, I8042_CMD_WRITE_AUX);
    outb(f, 0x60, MOUSE_CMD_GET_ID);
    uint8_t st = inb(f, 0x64);
    assert_int_equal(st & (I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT),
                     I8042_STR_OBF | I8042_STR_AUXDATA);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(inb(f, 0x60), MOUSE_REPLY_ACK);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(inb(f, 0x64) & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF | I8042_STR_AUXDATA);
    assert_int_equal(inb(f, 0x60), MOUSE_ID_STANDARD);
    assert_int_equal(inb(f, 0x64) & (I8042_STR_OBF | I8042_STR_AUXDATA), 0);
    assert_int_equal(f->level[1], 0);
    /* D2 injects keyboard data. */
    outb(f, 0x64, I8042_CMD_WRITE_KBD_OUT);
    outb(f, 0x60, 0x1c);
    assert_int_equal(f->level[0], 1);
    assert_int_equal(reply(f), 0x1c);
}

/* Everything the guest can read right now, with the AUXDATA bit of each
 * byte; also checks that each byte raised the IRQ line of its source when
 * interrupts are on. */
static size_t drain(struct fixture *f, uint8_t *out, bool *aux, size_t max)
{
    size_t n = 0;
    while ((inb(f, 0x64) & I8042_STR_OBF) && n < max) {
        bool a = inb(f, 0x64) & I8042_STR_AUXDATA;
        uint8_t ctr = f->kbc.ram[0];
        if (a)
            assert_int_equal(f->level[1], (ctr & I8042_CTR_AUXINT) ? 1 : 0);
        else
            assert_int_equal(f->level[0], (ctr & I8042_CTR_KBDINT) ? 1 : 0);
        if (aux)
            aux[n] = a;
        out[n++] = inb(f, 0x60);
    }
    return n;
}

static void expect_kbd(struct fixture *f, const char *want, size_t n)
{
    uint8_t buf[64];
    bool aux[64];
    size_t got = drain(f, buf, aux, sizeof(buf));
    if (got != n || memcmp(buf, want, n)) {
        char s[256] = "";
        for (size_t i = 0; i < got; i++)
            snprintf(s + strlen(s), sizeof(s) - strlen(s), "%02x ", buf[i]);
        fail_msg("port 0x60 gave [%s], want %zu bytes", s, n);
    }
    for (size_t i = 0; i < got; i++)
        assert_false(aux[i]);
}

static void expect_aux(struct fixture *f, const char *want, size_t n)
{
    uint8_t buf[64];
    bool aux[64];
    size_t got = drain(f, buf, aux, sizeof(buf));
    if (got != n || memcmp(buf, want, n)) {
        char s[256] = "";
        for (size_t i = 0; i < got; i++)
            snprintf(s + strlen(s), sizeof(s) - strlen(s), "%02x ", buf[i]);
        fail_msg("port 0x60 gave [%s], want %zu bytes", s, n);
    }
    for (size_t i = 0; i < got; i++)
        assert_true(aux[i]);
}

static void key(struct fixture *f, unsigned code, bool pressed)
{
    i8042_key_event(&f->kbc, code, pressed);
}

static void test_key_input(void **state)
{
    struct fixture *f = *state;
    /* Power-on: translation on, keyboard in set 2, so the guest sees set 1. */
    unsigned edges = f->edges[0];
    key(f, KEY_A, true);
    assert_int_equal(f->level[0], 1);
    assert_int_equal(f->edges[0], edges + 1);
    expect_kbd(f, "\x1e", 1);
    assert_int_equal(f->level[0], 0);
    /* The F0 of the set-2 break is folded into bit 7. */
    key(f, KEY_A, false);
    expect_kbd(f, "\x9e", 1);
    assert_int_equal(f->edges[0], edges + 2);
    key(f, KEY_UP, true);
    key(f, KEY_UP, false);
    expect_kbd(f, "\xe0\x48\xe0\xc8", 4);
    key(f, KEY_RIGHTCTRL, true);
    key(f, KEY_RIGHTCTRL, false);
    expect_kbd(f, "\xe0\x1d\xe0\x9d", 4);
    key(f, KEY_F7, true);
    key(f, KEY_F7, false);
    expect_kbd(f, "\x41\xc1", 2);
    key(f, KEY_KP7, true);
    key(f, KEY_KP7, false);
    expect_kbd(f, "\x47\xc7", 2);
    key(f, KEY_SYSRQ, true);
    key(f, KEY_SYSRQ, false);
    expect_kbd(f, "\xe0\x2a\xe0\x37\xe0\xb7\xe0\xaa", 8);
    key(f, KEY_PAUSE, true);
    key(f, KEY_PAUSE, false);
    expect_kbd(f, "\xe1\x1d\x45\xe1\x9d\xc5", 6);
    /* Ctrl+Pause is Break. */
    key(f, KEY_LEFTCTRL, true);
    key(f, KEY_PAUSE, true);
    key(f, KEY_PAUSE, false);
    key(f, KEY_LEFTCTRL, false);
    expect_kbd(f, "\x1d\xe0\x46\xe0\xc6\x9d", 6);
    /* Keys a PC keyboard lacks produce nothing. */
    key(f, KEY_BRIGHTNESSUP, true);
    key(f, 0xffff, true);
    expect_empty(f);

    /* The translated scancode set reads back as 41 (Brouwer 9.1). */
    uint8_t r[4];
    assert_int_equal(kbd_cmd(f, KBD_CMD_SCANCODE_SET, r, 4), 1);
    assert_int_equal(kbd_cmd(f, 0, r, 4), 2);
    assert_memory_equal(r, "\xfa\x41", 2);

    /* Translation off: raw set 2. */
    write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_SYS);
    key(f, KEY_A, true);
    key(f, KEY_A, false);
    key(f, KEY_UP, true);
    key(f, KEY_UP, false);
    expect_kbd(f, "\x1c\xf0\x1c\xe0\x75\xe0\xf0\x75", 8);
    /* Keyboard in set 1, untranslated. */
    assert_int_equal(kbd_cmd(f, KBD_CMD_SCANCODE_SET, r, 4), 1);
    assert_int_equal(kbd_cmd(f, 1, r, 4), 1);
    key(f, KEY_ENTER, true);
    key(f, KEY_ENTER, false);
    expect_kbd(f, "\x1c\x9c", 2);
    assert_int_equal(kbd_cmd(f, KBD_CMD_SCANCODE_SET, r, 4), 1);
    assert_int_equal(kbd_cmd(f, 2, r, 4), 1);

    /* Interrupt disabled: the data still arrives, polled, without IRQ 1. */
    write_ctr(f, I8042_CTR_XLATE);
    edges = f->edges[0];
    key(f, KEY_B, true);
    expect_kbd(f, "\x30", 1);
    assert_int_equal(f->edges[0], edges);
    /* Keyboard interface disabled: bytes wait in the keyboard. */
    write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_XLATE | I8042_CTR_KBDDIS);
    key(f, KEY_B, false);
    expect_empty(f);
    assert_int_equal(i8042_kbd_backlog(&f->kbc), 2);
    outb(f, 0x64, I8042_CMD_KBD_ENABLE);
    assert_int_equal(f->level[0], 1);
    assert_int_equal(i8042_kbd_backlog(&f->kbc), 1);
    expect_kbd(f, "\xb0", 1);
    assert_int_equal(i8042_kbd_backlog(&f->kbc), 0);
    /* Scanning disabled by F5: keys are ignored. */
    assert_int_equal(kbd_cmd(f, KBD_CMD_DEFAULT_DISABLE, r, 4), 1);
    key(f, KEY_C, true);
    key(f, KEY_C, false);
    expect_empty(f);
}

static void led_cb(void *opaque, unsigned leds)
{
    struct fixture *f = opaque;
    f->led_calls++;
    f->leds = leds;
}

static void test_leds_and_typematic(void **state)
{
    struct fixture *f = *state;
    uint8_t r[4];
    i8042_set_led_callback(&f->kbc, led_cb, f);
    assert_int_equal(kbd_cmd(f, KBD_CMD_SET_LEDS, r, 4), 1);
    assert_int_equal(kbd_cmd(f, PS2_LED_NUM | PS2_LED_SCROLL, r, 4), 1);
    assert_int_equal(r[0], KBD_REPLY_ACK);
    assert_int_equal(i8042_kbd_leds(&f->kbc), PS2_LED_NUM | PS2_LED_SCROLL);
    assert_int_equal(f->led_calls, 1);
    assert_int_equal(f->leds, 3);

    /* F3 00: 250 ms delay, 30 cps ((8 + 0) * 1 * 4.17 ms). */
    assert_int_equal(kbd_cmd(f, KBD_CMD_SET_TYPEMATIC, r, 4), 1);
    assert_int_equal(kbd_cmd(f, 0x00, r, 4), 1);
    key(f, KEY_Q, true);
    expect_kbd(f, "\x10", 1);
    clock_fake_advance(&f->clock, 249999999);
    expect_empty(f);
    clock_fake_advance(&f->clock, 1);
    assert_int_equal(f->level[0], 1);
    expect_kbd(f, "\x10", 1);
    clock_fake_advance(&f->clock, 3 * 33360000ull);
    expect_kbd(f, "\x10\x10\x10", 3);
    key(f, KEY_Q, false);
    expect_kbd(f, "\x90", 1);
    clock_fake_advance(&f->clock, 1000000000ull);
    expect_empty(f);
    /* Reset turns the LEDs off and tells the callback. */
    i8042_device_ops.reset(&f->kbc);
    assert_int_equal(i8042_kbd_leds(&f->kbc), 0);
    assert_int_equal(f->led_calls, 2);
    assert_int_equal(f->leds, 0);
}

/* A host mouse event, after the mouse's report interval (80/s after the
 * knock) has surely passed. */
static void mouse(struct fixture *f, int dx, int dy, int dz, unsigned buttons)
{
    clock_fake_advance(&f->clock, 50000000);
    i8042_mouse_event(&f->kbc, dx, dy, dz, buttons);
}

static void aux_cmd(struct fixture *f, uint8_t b)
{
    outb(f, 0x64, I8042_CMD_WRITE_AUX);
    outb(f, 0x60, b);
}

/* What Linux's psmouse does to find and enable an IntelliMouse. */
static void enable_wheel_mouse(struct fixture *f)
{
    write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_SYS | I8042_CTR_XLATE);
    aux_cmd(f, MOUSE_CMD_RESET);
    expect_aux(f, "\xfa\xaa\x00", 3);
    static const uint8_t knock[] = { 200, 100, 80 };
    for (int i = 0; i < 3; i++) {
        aux_cmd(f, MOUSE_CMD_SET_RATE);
        expect_aux(f, "\xfa", 1);
        aux_cmd(f, knock[i]);
        expect_aux(f, "\xfa", 1);
    }
    aux_cmd(f, MOUSE_CMD_GET_ID);
    expect_aux(f, "\xfa\x03", 2);
    aux_cmd(f, MOUSE_CMD_SET_RESOLUTION);
    aux_cmd(f, 3);
    aux_cmd(f, MOUSE_CMD_ENABLE);
    expect_aux(f, "\xfa\xfa\xfa", 3);
}

static void test_mouse_port(void **state)
{
    struct fixture *f = *state;
    enable_wheel_mouse(f);
    unsigned edges1 = f->edges[0], edges12 = f->edges[1];
    /* Right 3, up 2, wheel up, left button: 4-byte packet on IRQ 12. */
    i8042_mouse_event(&f->kbc, 3, -2, 1, PS2_MOUSE_LEFT);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(f->level[0], 0);
    expect_aux(f, "\x09\x03\x02\xff", 4);
    assert_int_equal(f->edges[1], edges12 + 4);
    assert_int_equal(f->edges[0], edges1);
    /* Overflow clamping through the controller. */
    mouse(f, 500, 0, 0, 0);
    expect_aux(f, "\x48\xff\x00\x00", 4);
    mouse(f, 0, 300, 0, 0);
    expect_aux(f, "\xa8\x00\x00\x00", 4);

    /* No AUXINT: data without IRQ 12. */
    write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_XLATE);
    edges12 = f->edges[1];
    mouse(f, 1, 0, 0, 0);
    expect_aux(f, "\x08\x01\x00\x00", 4);
    assert_int_equal(f->edges[1], edges12);

    /* Auxiliary interface disabled (A7): the packet waits in the mouse. */
    write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
    outb(f, 0x64, I8042_CMD_AUX_DISABLE);
    mouse(f, 0, 0, 0, PS2_MOUSE_RIGHT);
    expect_empty(f);
    assert_int_equal(f->level[1], 0);
    /* Keyboard bytes still flow meanwhile. */
    key(f, KEY_A, true);
    expect_kbd(f, "\x1e", 1);
    outb(f, 0x64, I8042_CMD_AUX_ENABLE);
    assert_int_equal(f->level[1], 1);
    expect_aux(f, "\x0a\x00\x00\x00", 4);
    /* Command byte bit 5 does the same; sending to the mouse re-enables
     * its interface so the reply can come back. */
    write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE | I8042_CTR_AUXDIS);
    mouse(f, 0, 0, 0, 0);
    expect_empty(f);
    aux_cmd(f, MOUSE_CMD_STATUS);
    /* Status: stream, enabled, 1:1; no buttons; resolution 3; rate 80. */
    expect_aux(f, "\x08\x00\x00\x00\xfa\x20\x03\x50", 8);
    assert_int_equal(read_ctr(f) & I8042_CTR_AUXDIS, 0);
    /* Disabled reporting: no packets. */
    aux_cmd(f, MOUSE_CMD_DISABLE);
    expect_aux(f, "\xfa", 1);
    mouse(f, 5, 5, 0, 0);
    expect_empty(f);
    key(f, KEY_A, false);
    expect_kbd(f, "\x9e", 1);
}

static void test_fair_arbitration(void **state)
{
    struct fixture *f = *state;
    enable_wheel_mouse(f);
    /* Fill both queues while the guest is not reading. */
    outb(f, 0x64, I8042_CMD_KBD_DISABLE);
    outb(f, 0x64, I8042_CMD_AUX_DISABLE);
    for (int i = 0; i < 3; i++)
        mouse(f, 1, 0, 0, 0);
    key(f, KEY_1, true);
    key(f, KEY_1, false);
    key(f, KEY_2, true);
    key(f, KEY_2, false);
    key(f, KEY_3, true);
    key(f, KEY_3, false);
    write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
    uint8_t buf[64];
    bool aux[64];
    size_t n = drain(f, buf, aux, sizeof(buf));
    /* 6 keyboard bytes (translated) and 12 mouse bytes (three reports). */
    assert_int_equal(n, 18);
    size_t nk = 0, na = 0;
    uint8_t kb[16], ab[16];
    for (size_t i = 0; i < n; i++) {
        if (aux[i])
            ab[na++] = buf[i];
        else
            kb[nk++] = buf[i];
        /* Strict alternation while both have data. */
        if (i > 0 && i < 12)
            assert_true(aux[i] != aux[i - 1]);
    }
    assert_int_equal(nk, 6);
    assert_memory_equal(kb, "\x02\x82\x03\x83\x04\x84", 6);
    assert_int_equal(na, 12);
    assert_memory_equal(ab, "\x08\x01\x00\x00\x08\x01\x00\x00\x08\x01\x00\x00", 12);
}

static void test_vmstate_roundtrip(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = i8042_device_ops.vmstate;
    /* Mid-conversation: a reply half read, a command awaiting its argument,
     * a controller command awaiting data. */
    outb(f, 0x60, KBD_CMD_GET_ID);
    assert_int_equal(reply(f), KBD_REPLY_ACK);
    assert_int_equal(f->level[0], 1);
    outb(f, 0x64, I8042_CMD_WRITE_OUTPUT);
    uint8_t buf[4096], buf2[4096];
    long n = vmstate_save(desc, &f->kbc, buf, sizeof(buf));
    assert_true(n > 0);

    i8042_device_ops.reset(&f->kbc);
    write_ctr(f, 0);
    assert_int_equal(f->level[0], 0);

    char err[200];
    assert_int_equal(vmstate_load(desc, &f->kbc, i8042_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    long n2 = vmstate_save(desc, &f->kbc, buf2, sizeof(buf2));
    assert_int_equal(n, n2);
    assert_memory_equal(buf, buf2, (size_t)n);
    assert_int_equal(f->level[0], 1);
    /* The conversation continues where it was. */
    outb(f, 0x60, 0xdd);                    /* data for D1: A20 off */
    assert_false(i8042_a20_enabled(&f->kbc));
    assert_int_equal(reply(f), 0xab);
    assert_int_equal(reply(f), 0x41);
    expect_empty(f);
    assert_int_equal(f->level[0], 0);

    /* Mouse and keyboard state: wheel mode, half a packet read, a key
     * repeating, LEDs on. */
    enable_wheel_mouse(f);
    uint8_t r[4];
    assert_int_equal(kbd_cmd(f, KBD_CMD_SET_LEDS, r, 4), 1);
    assert_int_equal(kbd_cmd(f, PS2_LED_CAPS, r, 4), 1);
    i8042_mouse_event(&f->kbc, -2, 0, -1, PS2_MOUSE_MIDDLE);
    assert_int_equal(inb(f, 0x60), 0x1c);
    key(f, KEY_Z, true);                    /* queued behind the packet */
    n = vmstate_save(desc, &f->kbc, buf, sizeof(buf));
    assert_true(n > 0);
    i8042_device_ops.reset(&f->kbc);
    assert_int_equal(vmstate_load(desc, &f->kbc, i8042_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(i8042_kbd_leds(&f->kbc), PS2_LED_CAPS);
    uint8_t got[16];
    bool aux[16];
    assert_int_equal(drain(f, got, aux, 16), 4);
    assert_memory_equal(got, "\xfe\x2c\x00\x01", 4);
    assert_true(aux[0] && !aux[1] && aux[2] && aux[3]);
    /* The repeat restarts on the loading side, one period after the load. */
    clock_fake_advance(&f->clock, ps2_kbd_typematic_period_ns(0x2b));
    expect_kbd(f, "\x2c", 1);
    key(f, KEY_Z, false);
    expect_kbd(f, "\xac", 1);
    i8042_mouse_event(&f->kbc, 0, 0, 1, PS2_MOUSE_MIDDLE);
    expect_aux(f, "\x0c\x00\x00\xff", 4);

    /* Hostile stream: every count and index out of range. */
    struct i8042 evil = f->kbc;
    evil.kbd.head = 0xeeee;
    evil.kbd.count = 0xffff;
    evil.kbd.held_count = 0xff;
    evil.kbd.repeat_key = 0xffff;
    evil.kbd.scancode_set = 9;
    evil.kbd.pending_cmd = 0x42;
    evil.mouse.head = 0x1234;
    evil.mouse.count = 0x9999;
    evil.mouse.resolution = 0xff;
    evil.mouse.sample_rate = 0;
    evil.mouse.pending_cmd = 0x11;
    evil.mouse.dx = INT32_MIN;
    evil.mouse.dy = INT32_MAX;
    n = vmstate_save(desc, &evil, buf, sizeof(buf));
    assert_int_equal(vmstate_load(desc, &f->kbc, sizeof(f->kbc), buf, (size_t)n, err, sizeof(err)), 0);
    for (int i = 0; i < 400; i++)
        (void)inb(f, 0x60);
    assert_int_equal(f->kbc.kbd.count, 0);
    assert_int_equal(f->kbc.mouse.count, 0);
    key(f, KEY_A, true);
    i8042_mouse_event(&f->kbc, 1, 1, 1, 7);
    clock_fake_advance(&f->clock, 1000000000ull);
    for (int i = 0; i < 400; i++)
        (void)inb(f, 0x60);
}

static void test_random_access(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 8042;
    static const uint16_t ports[] = { 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66 };
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint64_t addr = ports[(r >> 2) % 8];
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        /* Bias writes towards 0x60/0x64 with controller and device command
         * bytes, so the interesting paths get exercised. */
        if ((r >> 5) % 4 == 0)
            addr = (r >> 7) % 2 ? 0x64 : 0x60;
        if ((r >> 8) % 2)
            bus_write(f->bus, addr, &val, size);
        else
            bus_read(f->bus, addr, &val, size);
        switch ((r >> 20) % 16) {
        case 0:
            i8042_key_event(&f->kbc, (unsigned)(val % 300), (val >> 16) & 1);
            break;
        case 1:
            i8042_mouse_event(&f->kbc, (int)(int16_t)(val >> 8), (int)(int16_t)(val >> 24),
                              (int)(int8_t)(val >> 40), (unsigned)(val >> 48));
            break;
        case 2:
            clock_fake_advance(&f->clock, val % 300000000ull);
            break;
        default:
            break;
        }
        if ((r >> 12) % 4096 == 0)
            i8042_device_ops.reset(&f->kbc);
        if ((r >> 12) % 8192 == 1)
            i8042_release_all_keys(&f->kbc);
        assert_true(f->kbc.kbd.count <= PS2_KBD_QUEUE_SIZE);
        assert_true(f->kbc.kbd.head < PS2_KBD_QUEUE_SIZE);
        assert_true(f->kbc.kbd.held_count <= PS2_KBD_HOLD);
        assert_true(f->kbc.mouse.count <= PS2_MOUSE_QUEUE_SIZE);
        assert_true(f->kbc.mouse.head < PS2_MOUSE_QUEUE_SIZE);
        assert_true(f->kbc.kbd.scancode_set == 1 || f->kbc.kbd.scancode_set == 2);
        assert_int_equal(f->level[0], f->kbc.kbd_irq_level);
        assert_int_equal(f->level[1], f->kbc.aux_irq_level);
    }
    /* Still answers sanely afterwards. */
    i8042_device_ops.reset(&f->kbc);
    outb(f, 0x64, I8042_CMD_SELF_TEST);
    assert_int_equal(reply(f), 0x55);
    key(f, KEY_A, true);
    expect_kbd(f, "\x1e", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_controller_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_port_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyboard_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyboard_interface_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aux_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leds_and_typematic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mouse_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fair_arbitration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
