/* i8042 keyboard controller with a PS/2 keyboard and a PS/2 mouse.
 *
 * Controller behaviour follows the IBM PS/2 Hardware Interface Technical
 * Reference ("Keyboard/Auxiliary Device Controller": status register,
 * command byte, commands 20-FF, output port). The devices behind it are
 * devices/ps2_kbd.c (first port) and devices/ps2_mouse.c (auxiliary port).
 *
 * Data flow: each device answers into its own queue; whenever the
 * controller's one-byte output buffer is empty, it takes the next byte
 * from a device whose interface is enabled in the command byte (bit 4
 * keyboard, bit 5 auxiliary), alternating between the two when both have
 * data, and sets AUXDATA for a mouse byte. Controller replies go straight
 * into the output buffer. The guest's writes are handled at once, so the
 * input buffer is never seen full.
 *
 * Interrupts: IRQ 1 is high while the buffer holds a keyboard byte and the
 * command byte's bit 0 is set; IRQ 12 likewise for a mouse byte and bit 1.
 * Reading port 0x60 drops the line before the next byte raises it again,
 * so an edge-triggered PIC sees every byte.
 *
 * Translation (command byte bit 6): keyboard bytes pass through the 8042
 * table (devices/ps2_keymap.c), and a set-2 break prefix F0 is swallowed
 * and folded into bit 7 of the next translated byte, which turns set 2 into
 * set 1 and the keyboard ID AB 83 into AB 41.
 */
#include "i8042.h"

#include <string.h>

static void i8042_update_irq(struct i8042 *c)
{
    bool full = c->status & I8042_STR_OBF;
    bool aux = c->status & I8042_STR_AUXDATA;
    int kbd = full && !aux && (c->ram[0] & I8042_CTR_KBDINT);
    int mouse = full && aux && (c->ram[0] & I8042_CTR_AUXINT);
    if (kbd != c->kbd_irq_level) {
        c->kbd_irq_level = kbd;
        irq_set_level(c->kbd_irq, kbd);
    }
    if (mouse != c->aux_irq_level) {
        c->aux_irq_level = mouse;
        irq_set_level(c->aux_irq, mouse);
    }
}

/* A byte from the controller itself (or written by D2/D3) takes the
 * output buffer, replacing what was there: drivers flush before commands. */
static void i8042_output(struct i8042 *c, uint8_t byte, uint8_t flags)
{
    c->out = byte;
    c->status = (uint8_t)((c->status & ~(I8042_STR_AUXDATA | I8042_STR_TIMEOUT | I8042_STR_PARITY)) |
                          I8042_STR_OBF | flags);
}

/* Move the next device byte into a free output buffer. */
static void i8042_refill(struct i8042 *c)
{
    if (c->status & I8042_STR_OBF)
        return;
    /* Movement the mouse could not report while its queue was full. */
    ps2_mouse_poll(&c->mouse);
    /* Each pass takes one byte; only a swallowed F0 loops, at most once per
     * byte in the keyboard's queue. */
    for (unsigned guard = 0; guard <= PS2_KBD_QUEUE_SIZE; guard++) {
        bool kbd = ps2_kbd_has_data(&c->kbd) && !(c->ram[0] & I8042_CTR_KBDDIS);
        bool aux = ps2_mouse_has_data(&c->mouse) && !(c->ram[0] & I8042_CTR_AUXDIS);
        if (!kbd && !aux)
            return;
        if (aux && (!kbd || !c->last_aux)) {
            c->last_aux = 1;
            i8042_output(c, ps2_mouse_take(&c->mouse), I8042_STR_AUXDATA);
            return;
        }
        uint8_t byte = ps2_kbd_take(&c->kbd);
        if (!(c->ram[0] & I8042_CTR_XLATE)) {
            c->xlate_break = 0;
        } else if (byte == 0xf0) {
            /* Swallowed: the keyboard keeps its turn for the code. */
            c->xlate_break = 1;
            continue;
        } else {
            byte = ps2_translate_byte(byte);
            if (c->xlate_break)
                byte |= 0x80;
            c->xlate_break = 0;
        }
        c->last_aux = 0;
        i8042_output(c, byte, 0);
        return;
    }
}

/* A device queued bytes on its own (host input, a timer). */
static void i8042_device_notify(void *opaque)
{
    struct i8042 *c = opaque;
    i8042_refill(c);
    i8042_update_irq(c);
}

static void i8042_write_output_port(struct i8042 *c, uint8_t val)
{
    c->output_port = val | I8042_OUT_RESET;
    /* Bit 0 low drives the CPU's reset line. */
    if (!(val & I8042_OUT_RESET) && c->reset_request)
        c->reset_request(c->opaque);
}

static void i8042_command(struct i8042 *c, uint8_t cmd)
{
    c->pending = 0;
    if (cmd >= I8042_CMD_READ_RAM && cmd < I8042_CMD_READ_RAM + I8042_RAM_SIZE) {
        i8042_output(c, c->ram[cmd - I8042_CMD_READ_RAM], 0);
        return;
    }
    if (cmd >= I8042_CMD_WRITE_RAM && cmd < I8042_CMD_WRITE_RAM + I8042_RAM_SIZE) {
        c->pending = cmd;
        return;
    }
    if (cmd >= I8042_CMD_PULSE) {
        /* Bits 3-0 low select the lines to pulse; line 0 is CPU reset. */
        if (!(cmd & I8042_OUT_RESET) && c->reset_request)
            c->reset_request(c->opaque);
        return;
    }
    switch (cmd) {
    case I8042_CMD_PASSWORD_TEST:
        i8042_output(c, 0xf1, 0);       /* no password installed */
        break;
    case I8042_CMD_AUX_DISABLE:
        c->ram[0] |= I8042_CTR_AUXDIS;
        break;
    case I8042_CMD_AUX_ENABLE:
        c->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS;
        break;
    case I8042_CMD_AUX_TEST:
    case I8042_CMD_KBD_TEST:
        i8042_output(c, 0x00, 0);       /* no clock/data line stuck */
        break;
    case I8042_CMD_SELF_TEST:
        c->ram[0] |= I8042_CTR_SYS;
        c->status |= I8042_STR_SYS;
        i8042_output(c, 0x55, 0);
        break;
    case I8042_CMD_KBD_DISABLE:
        c->ram[0] |= I8042_CTR_KBDDIS;
        break;
    case I8042_CMD_KBD_ENABLE:
        c->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
        break;
    case I8042_CMD_READ_INPUT:
        i8042_output(c, 0x80, 0);       /* bit 7: keyboard not inhibited */
        break;
    case I8042_CMD_READ_OUTPUT: {
        uint8_t v = (uint8_t)(c->output_port & ~(I8042_OUT_KBD_IRQ | I8042_OUT_AUX_IRQ));
        if (c->kbd_irq_level > 0)
            v |= I8042_OUT_KBD_IRQ;
        if (c->aux_irq_level > 0)
            v |= I8042_OUT_AUX_IRQ;
        i8042_output(c, v, 0);
        break;
    }
    case I8042_CMD_WRITE_OUTPUT:
    case I8042_CMD_WRITE_KBD_OUT:
    case I8042_CMD_WRITE_AUX_OUT:
    case I8042_CMD_WRITE_AUX:
        c->pending = cmd;
        break;
    case I8042_CMD_A20_DISABLE:
        c->output_port &= (uint8_t)~I8042_OUT_A20;
        break;
    case I8042_CMD_A20_ENABLE:
        c->output_port |= I8042_OUT_A20;
        break;
    case I8042_CMD_READ_TEST:
        i8042_output(c, 0x00, 0);
        break;
    default:
        break;          /* unknown commands are ignored, as on real parts */
    }
}

/* The data byte that follows a controller command. */
static void i8042_command_data(struct i8042 *c, uint8_t cmd, uint8_t val)
{
    if (cmd >= I8042_CMD_WRITE_RAM && cmd < I8042_CMD_WRITE_RAM + I8042_RAM_SIZE) {
        c->ram[cmd - I8042_CMD_WRITE_RAM] = val;
        if (cmd == I8042_CMD_WRITE_RAM)
            c->status = (uint8_t)((c->status & ~I8042_STR_SYS) | (val & I8042_CTR_SYS));
        return;
    }
    switch (cmd) {
    case I8042_CMD_WRITE_OUTPUT:
        i8042_write_output_port(c, val);
        break;
    case I8042_CMD_WRITE_KBD_OUT:
        i8042_output(c, val, 0);
        break;
    case I8042_CMD_WRITE_AUX_OUT:
        i8042_output(c, val, I8042_STR_AUXDATA);
        break;
    case I8042_CMD_WRITE_AUX:
        /* Sending to the mouse enables its interface, as sending to the
         * keyboard does: the reply must be able to come back. */
        c->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS;
        ps2_mouse_write(&c->mouse, val);
        break;
    default:
        break;
    }
}

static uint8_t i8042_read_data(struct i8042 *c)
{
    uint8_t val = c->out;   /* an empty buffer reads its stale contents */
    if (c->status & I8042_STR_OBF) {
        c->status &= (uint8_t)~(I8042_STR_OBF | I8042_STR_AUXDATA | I8042_STR_TIMEOUT | I8042_STR_PARITY);
        i8042_update_irq(c);
        i8042_refill(c);
        i8042_update_irq(c);
    }
    return val;
}

static void i8042_write_data(struct i8042 *c, uint8_t val)
{
    c->status &= (uint8_t)~I8042_STR_CMD;
    if (c->pending) {
        uint8_t cmd = c->pending;
        c->pending = 0;
        i8042_command_data(c, cmd, val);
    } else {
        /* Writing to the keyboard enables its interface again, as real
         * controllers do: the reply must be able to come back. */
        c->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
        ps2_kbd_write(&c->kbd, val);
    }
    i8042_refill(c);
    i8042_update_irq(c);
}

static void i8042_write_cmd(struct i8042 *c, uint8_t val)
{
    c->status |= I8042_STR_CMD;
    i8042_command(c, val);
    i8042_refill(c);
    i8042_update_irq(c);
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned size)
{
    return offset == 0 ? i8042_read_data(opaque) : 0xff;
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset == 0)
        i8042_write_data(opaque, (uint8_t)value);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct i8042 *c = opaque;
    return offset == 0 ? c->status : 0xff;
}

static void i8042_cmd_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset == 0)
        i8042_write_cmd(opaque, (uint8_t)value);
}

const struct bus_ops i8042_data_bus_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
    .sizes = BUS_SIZE_1,
};

const struct bus_ops i8042_cmd_bus_ops = {
    .read = i8042_cmd_read,
    .write = i8042_cmd_write,
    .sizes = BUS_SIZE_1,
};

/* Power-on state. The command byte is what a BIOS leaves for the OS (keyboard
 * interrupt on, translation on, system flag set), so a directly booted
 * kernel finds a usual PC. A20 starts enabled because Hostel never masks it. */
static void i8042_reset(void *dev)
{
    struct i8042 *c = dev;
    memset(c->ram, 0, sizeof(c->ram));
    c->ram[0] = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE;
    c->status = I8042_STR_INH | I8042_STR_SYS;
    c->out = 0;
    c->pending = 0;
    c->output_port = I8042_OUT_RESET | I8042_OUT_A20 | I8042_OUT_KBD_CLOCK | I8042_OUT_KBD_DATA;
    c->xlate_break = 0;
    c->last_aux = 0;
    ps2_kbd_reset(&c->kbd);
    ps2_mouse_reset(&c->mouse);
    i8042_update_irq(c);
}

static void i8042_finalize(void *dev)
{
    struct i8042 *c = dev;
    ps2_kbd_finalize(&c->kbd);
    ps2_mouse_finalize(&c->mouse);
}

static void i8042_post_load(void *dev)
{
    struct i8042 *c = dev;
    ps2_kbd_post_load(&c->kbd);
    ps2_mouse_post_load(&c->mouse);
    c->status &= (uint8_t)~I8042_STR_IBF;
    c->xlate_break = c->xlate_break ? 1 : 0;
    c->last_aux = c->last_aux ? 1 : 0;
    c->kbd_irq_level = -1;
    c->aux_irq_level = -1;
    i8042_refill(c);
    i8042_update_irq(c);
}

static const struct vmstate_field i8042_vmstate_fields[] = {
    VMSTATE_FIELD(struct i8042, status, 1),
    VMSTATE_FIELD(struct i8042, ram, 1),
    VMSTATE_FIELD(struct i8042, out, 1),
    VMSTATE_FIELD(struct i8042, pending, 1),
    VMSTATE_FIELD(struct i8042, output_port, 1),
    VMSTATE_FIELD(struct i8042, xlate_break, 2),
    VMSTATE_FIELD(struct i8042, last_aux, 2),
    /* Keyboard. */
    VMSTATE_FIELD(struct i8042, kbd.queue, 2),
    VMSTATE_FIELD(struct i8042, kbd.head, 2),
    VMSTATE_FIELD(struct i8042, kbd.count, 2),
    VMSTATE_FIELD(struct i8042, kbd.pending_cmd, 1),
    VMSTATE_FIELD(struct i8042, kbd.scanning, 1),
    VMSTATE_FIELD(struct i8042, kbd.leds, 1),
    VMSTATE_FIELD(struct i8042, kbd.scancode_set, 1),
    VMSTATE_FIELD(struct i8042, kbd.typematic, 1),
    VMSTATE_FIELD(struct i8042, kbd.last_sent, 1),
    VMSTATE_FIELD(struct i8042, kbd.overrun, 2),
    VMSTATE_FIELD(struct i8042, kbd.repeat_key, 2),
    VMSTATE_FIELD(struct i8042, kbd.pressed, 2),
    VMSTATE_FIELD(struct i8042, kbd.held_code, 2),
    VMSTATE_FIELD(struct i8042, kbd.held_pressed, 2),
    VMSTATE_FIELD(struct i8042, kbd.held_count, 2),
    VMSTATE_FIELD(struct i8042, kbd.held_lost, 2),
    /* Mouse. */
    VMSTATE_FIELD(struct i8042, mouse.queue, 2),
    VMSTATE_FIELD(struct i8042, mouse.head, 2),
    VMSTATE_FIELD(struct i8042, mouse.count, 2),
    VMSTATE_FIELD(struct i8042, mouse.pending_cmd, 2),
    VMSTATE_FIELD(struct i8042, mouse.last_sent, 2),
    VMSTATE_FIELD(struct i8042, mouse.reporting, 2),
    VMSTATE_FIELD(struct i8042, mouse.remote, 2),
    VMSTATE_FIELD(struct i8042, mouse.wrap, 2),
    VMSTATE_FIELD(struct i8042, mouse.scaling21, 2),
    VMSTATE_FIELD(struct i8042, mouse.resolution, 2),
    VMSTATE_FIELD(struct i8042, mouse.sample_rate, 2),
    VMSTATE_FIELD(struct i8042, mouse.id, 2),
    VMSTATE_FIELD(struct i8042, mouse.rate_history, 2),
    VMSTATE_FIELD(struct i8042, mouse.buttons, 2),
    VMSTATE_FIELD(struct i8042, mouse.sent_buttons, 2),
    VMSTATE_FIELD(struct i8042, mouse.dx, 2),
    VMSTATE_FIELD(struct i8042, mouse.dy, 2),
    VMSTATE_FIELD(struct i8042, mouse.dz, 2),
};

/* Version 2: the mouse, typematic state, and a 64-byte keyboard queue
 * (version 1's 16-byte queue does not load: its size differs). */
static const struct vmstate_desc i8042_vmstate = {
    .name = "i8042",
    .version = 2,
    .fields = i8042_vmstate_fields,
    .nfields = sizeof(i8042_vmstate_fields) / sizeof(i8042_vmstate_fields[0]),
    .post_load = i8042_post_load,
};

const struct device_ops i8042_device_ops = {
    .name = "i8042",
    .reset = i8042_reset,
    .finalize = i8042_finalize,
    .vmstate = &i8042_vmstate,
    .size = sizeof(struct i8042),
};

void i8042_init(struct i8042 *c, struct irq_line *kbd_irq, struct irq_line *aux_irq,
                void (*reset_request)(void *opaque), void *opaque)
{
    memset(c, 0, sizeof(*c));
    c->kbd_irq = kbd_irq;
    c->aux_irq = aux_irq;
    c->reset_request = reset_request;
    c->opaque = opaque;
    c->kbd_irq_level = -1;
    c->aux_irq_level = -1;
    ps2_kbd_init(&c->kbd, i8042_device_notify, c);
    ps2_mouse_init(&c->mouse, i8042_device_notify, c);
    i8042_reset(c);
}

int i8042_set_clock(struct i8042 *c, struct clock *clock)
{
    if (ps2_kbd_set_clock(&c->kbd, clock) < 0)
        return -1;
    if (ps2_mouse_set_clock(&c->mouse, clock) < 0) {
        ps2_kbd_set_clock(&c->kbd, NULL);
        return -1;
    }
    return 0;
}

bool i8042_a20_enabled(const struct i8042 *c)
{
    return c->output_port & I8042_OUT_A20;
}

void i8042_key_event(struct i8042 *c, unsigned code, bool pressed)
{
    ps2_kbd_key_event(&c->kbd, code, pressed);
}

void i8042_release_all_keys(struct i8042 *c)
{
    ps2_kbd_release_all(&c->kbd);
}

unsigned i8042_kbd_backlog(const struct i8042 *c)
{
    unsigned n = ps2_kbd_backlog(&c->kbd);
    if ((c->status & I8042_STR_OBF) && !(c->status & I8042_STR_AUXDATA))
        n++;
    return n;
}

unsigned i8042_kbd_leds(const struct i8042 *c)
{
    return ps2_kbd_leds(&c->kbd);
}

void i8042_set_led_callback(struct i8042 *c, void (*cb)(void *opaque, unsigned leds), void *opaque)
{
    ps2_kbd_set_leds_callback(&c->kbd, cb, opaque);
}

void i8042_mouse_event(struct i8042 *c, int dx, int dy, int dz, unsigned buttons)
{
    ps2_mouse_event(&c->mouse, dx, dy, dz, buttons);
}
