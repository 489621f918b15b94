#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "i8042.h"

struct fixture {
    struct i8042 kbc;
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
    assert_true(f->kbc.kbd.count <= I8042_KBD_QUEUE_SIZE);
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
    /* Nothing behind the port: a byte sent to it times out. */
    outb(f, 0x64, I8042_CMD_WRITE_AUX);
    outb(f, 0x60, 0xf2);
    uint8_t st = inb(f, 0x64);
    assert_int_equal(st & (I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT),
                     I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
    assert_int_equal(inb(f, 0x60), 0xfe);
    assert_int_equal(inb(f, 0x64) & (I8042_STR_TIMEOUT | I8042_STR_AUXDATA), 0);
    /* D2 injects keyboard data. */
    outb(f, 0x64, I8042_CMD_WRITE_KBD_OUT);
    outb(f, 0x60, 0x1c);
    assert_int_equal(f->level[0], 1);
    assert_int_equal(reply(f), 0x1c);
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
    uint8_t buf[512], buf2[512];
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

    /* Hostile stream. */
    struct i8042 evil = f->kbc;
    evil.kbd.head = 0xee;
    evil.kbd.count = 0xff;
    n = vmstate_save(desc, &evil, buf, sizeof(buf));
    assert_int_equal(vmstate_load(desc, &f->kbc, sizeof(f->kbc), buf, (size_t)n, err, sizeof(err)), 0);
    for (int i = 0; i < 40; i++)
        (void)inb(f, 0x60);
    assert_int_equal(f->kbc.kbd.count, 0);
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
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
        if ((r >> 8) % 2)
            bus_write(f->bus, addr, &val, size);
        else
            bus_read(f->bus, addr, &val, size);
        if ((r >> 12) % 4096 == 0)
            i8042_device_ops.reset(&f->kbc);
        assert_true(f->kbc.kbd.count <= I8042_KBD_QUEUE_SIZE);
        assert_true(f->kbc.kbd.head < I8042_KBD_QUEUE_SIZE);
        assert_int_equal(f->level[0], f->kbc.kbd_irq_level);
        assert_int_equal(f->level[1], f->kbc.aux_irq_level);
    }
    /* Still answers sanely afterwards. */
    i8042_device_ops.reset(&f->kbc);
    outb(f, 0x64, I8042_CMD_SELF_TEST);
    assert_int_equal(reply(f), 0x55);
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
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
