/* i8042 keyboard controller and PS/2 keyboard.
 *
 * Controller behaviour follows the IBM PS/2 Hardware Interface Technical
 * Reference ("Keyboard/Auxiliary Device Controller"); the keyboard's command
 * set follows its "Keyboard" chapter (commands ED-FF and their replies).
 *
 * Data flow: the keyboard answers into its own queue; the queue drains into
 * the controller's one-byte output buffer whenever that is empty and the
 * keyboard interface is enabled. Controller replies go straight into the
 * output buffer. The guest's writes are handled at once, so the input
 * buffer is never seen full.
 */
#include "i8042.h"

#include <string.h>

static bool i8042_kbd_enabled(const struct i8042 *c)
{
    return !(c->ram[0] & I8042_CTR_KBDDIS);
}

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

/* With XLATE set the controller turns the keyboard's scancode set 2 into set
 * 1. The keyboard only sends command replies so far, which pass through
 * unchanged except the second ID byte (0x83 -> 0x41, 0x84 -> 0x54, as
 * Linux's atkbd expects of a translated port). The full key table and the
 * F0 break prefix come with key input. */
static uint8_t i8042_translate(uint8_t byte)
{
    switch (byte) {
    case 0x83:
        return 0x41;
    case 0x84:
        return 0x54;
    default:
        return byte;
    }
}

/* ---- Keyboard ---------------------------------------------------------- */

static void i8042_kbd_queue(struct i8042_kbd *k, uint8_t byte)
{
    /* A full keyboard buffer drops input (a real keyboard would send its
     * overrun code, which key input will add). */
    if (k->count >= I8042_KBD_QUEUE_SIZE)
        return;
    k->queue[(k->head + k->count) % I8042_KBD_QUEUE_SIZE] = byte;
    k->count++;
}

static void i8042_kbd_clear(struct i8042_kbd *k)
{
    k->head = 0;
    k->count = 0;
}

static void i8042_kbd_defaults(struct i8042_kbd *k)
{
    k->scancode_set = 2;
    k->typematic = 0x2b;        /* 10.9 characters/s after 500 ms */
    k->pending_cmd = 0;
}

static void i8042_kbd_reset(struct i8042_kbd *k)
{
    memset(k, 0, sizeof(*k));
    i8042_kbd_defaults(k);
    k->scanning = 1;
}

/* The argument byte of a two-byte command. */
static void i8042_kbd_argument(struct i8042_kbd *k, uint8_t cmd, uint8_t arg)
{
    switch (cmd) {
    case KBD_CMD_SET_LEDS:
        k->leds = arg & 0x07;
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_SET_TYPEMATIC:
        k->typematic = arg & 0x7f;
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_SCANCODE_SET:
        if (arg == 0) {
            i8042_kbd_queue(k, KBD_REPLY_ACK);
            i8042_kbd_queue(k, k->scancode_set);
        } else if (arg <= 3) {
            k->scancode_set = arg;
            i8042_kbd_queue(k, KBD_REPLY_ACK);
        } else {
            i8042_kbd_queue(k, KBD_REPLY_RESEND);
        }
        break;
    default:
        break;
    }
}

static void i8042_kbd_write(struct i8042_kbd *k, uint8_t byte)
{
    if (k->pending_cmd) {
        uint8_t cmd = k->pending_cmd;
        k->pending_cmd = 0;
        i8042_kbd_argument(k, cmd, byte);
        return;
    }
    switch (byte) {
    case KBD_CMD_SET_LEDS:
    case KBD_CMD_SET_TYPEMATIC:
    case KBD_CMD_SCANCODE_SET:
        k->pending_cmd = byte;
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_ECHO:
        i8042_kbd_queue(k, KBD_REPLY_ECHO);
        break;
    case KBD_CMD_GET_ID:
        /* An MF2 keyboard. */
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        i8042_kbd_queue(k, 0xab);
        i8042_kbd_queue(k, 0x83);
        break;
    case KBD_CMD_ENABLE:
        k->scanning = 1;
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_DEFAULT_DISABLE:
        i8042_kbd_clear(k);
        i8042_kbd_defaults(k);
        k->scanning = 0;
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_SET_DEFAULT:
        i8042_kbd_clear(k);
        i8042_kbd_defaults(k);
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        /* Scancode-set-3 key type commands: accepted, no effect in set 2. */
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_RESEND:
        i8042_kbd_queue(k, k->last_sent);
        break;
    case KBD_CMD_RESET:
        i8042_kbd_reset(k);
        i8042_kbd_queue(k, KBD_REPLY_ACK);
        i8042_kbd_queue(k, KBD_REPLY_BAT_OK);
        break;
    default:
        i8042_kbd_queue(k, KBD_REPLY_RESEND);
        break;
    }
}

/* ---- Controller -------------------------------------------------------- */

/* Move the keyboard's next byte into a free output buffer. */
static void i8042_refill(struct i8042 *c)
{
    struct i8042_kbd *k = &c->kbd;
    if ((c->status & I8042_STR_OBF) || !k->count || !i8042_kbd_enabled(c))
        return;
    uint8_t byte = k->queue[k->head];
    k->head = (uint8_t)((k->head + 1) % I8042_KBD_QUEUE_SIZE);
    k->count--;
    k->last_sent = byte;
    c->out = (c->ram[0] & I8042_CTR_XLATE) ? i8042_translate(byte) : byte;
    c->status = (uint8_t)((c->status | I8042_STR_OBF) &
                          ~(I8042_STR_AUXDATA | I8042_STR_TIMEOUT | I8042_STR_PARITY));
}

/* A byte from the controller itself (or written by D2/D3/D4) takes the
 * output buffer, replacing what was there: drivers flush before commands. */
static void i8042_output(struct i8042 *c, uint8_t byte, uint8_t flags)
{
    c->out = byte;
    c->status = (uint8_t)((c->status & ~(I8042_STR_AUXDATA | I8042_STR_TIMEOUT | I8042_STR_PARITY)) |
                          I8042_STR_OBF | flags);
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
        /* Nothing is plugged into the auxiliary port: the transmission
         * times out and the controller reports FE with the timeout bit. */
        i8042_output(c, KBD_REPLY_RESEND, I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
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
        /* Drop the line before the next byte raises it again, so an
         * edge-triggered PIC sees every byte. */
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
        i8042_kbd_write(&c->kbd, val);
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
    i8042_kbd_reset(&c->kbd);
    i8042_update_irq(c);
}

static void i8042_finalize(void *dev)
{
    (void)dev;
}

static void i8042_post_load(void *dev)
{
    struct i8042 *c = dev;
    struct i8042_kbd *k = &c->kbd;
    k->head %= I8042_KBD_QUEUE_SIZE;
    if (k->count > I8042_KBD_QUEUE_SIZE)
        k->count = I8042_KBD_QUEUE_SIZE;
    c->status &= (uint8_t)~I8042_STR_IBF;
    i8042_refill(c);
    c->kbd_irq_level = -1;
    c->aux_irq_level = -1;
    i8042_update_irq(c);
}

static const struct vmstate_field i8042_vmstate_fields[] = {
    VMSTATE_FIELD(struct i8042, status, 1),
    VMSTATE_FIELD(struct i8042, ram, 1),
    VMSTATE_FIELD(struct i8042, out, 1),
    VMSTATE_FIELD(struct i8042, pending, 1),
    VMSTATE_FIELD(struct i8042, output_port, 1),
    VMSTATE_FIELD(struct i8042, kbd.queue, 1),
    VMSTATE_FIELD(struct i8042, kbd.head, 1),
    VMSTATE_FIELD(struct i8042, kbd.count, 1),
    VMSTATE_FIELD(struct i8042, kbd.pending_cmd, 1),
    VMSTATE_FIELD(struct i8042, kbd.scanning, 1),
    VMSTATE_FIELD(struct i8042, kbd.leds, 1),
    VMSTATE_FIELD(struct i8042, kbd.scancode_set, 1),
    VMSTATE_FIELD(struct i8042, kbd.typematic, 1),
    VMSTATE_FIELD(struct i8042, kbd.last_sent, 1),
};

static const struct vmstate_desc i8042_vmstate = {
    .name = "i8042",
    .version = 1,
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
    i8042_reset(c);
}

bool i8042_a20_enabled(const struct i8042 *c)
{
    return c->output_port & I8042_OUT_A20;
}
