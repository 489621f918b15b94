/* i8042 keyboard controller (PC ports 0x60 data, 0x64 status/command) with
 * a PS/2 keyboard behind its first port (IRQ 1) and a PS/2 IntelliMouse
 * behind its auxiliary port (IRQ 12).
 *
 * The host feeds it with i8042_key_event (Linux evdev key codes) and
 * i8042_mouse_event. Callers hold the VM's device lock around every call,
 * as around port accesses.
 */
#ifndef HOSTEL_I8042_H
#define HOSTEL_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "clock.h"
#include "device.h"
#include "irq.h"
#include "ps2_kbd.h"
#include "ps2_mouse.h"

#define I8042_RAM_SIZE 32

struct i8042 {
    /* Wiring (not saved). */
    struct irq_line *kbd_irq;   /* IRQ 1 */
    struct irq_line *aux_irq;   /* IRQ 12 */
    void (*reset_request)(void *opaque);
    void *opaque;
    int kbd_irq_level;
    int aux_irq_level;

    /* Saved state. */
    uint8_t status;
    uint8_t ram[I8042_RAM_SIZE];    /* ram[0] is the command byte */
    uint8_t out;                    /* output buffer */
    uint8_t pending;                /* controller command waiting for data, or 0 */
    uint8_t output_port;
    uint8_t xlate_break;            /* translating: an F0 waits for its code */
    uint8_t last_aux;               /* the last device byte came from the mouse */
    struct ps2_kbd kbd;
    struct ps2_mouse mouse;
};

extern const struct device_ops i8042_device_ops;
/* Two one-byte mappings: data at 0x60, status/command at 0x64. */
extern const struct bus_ops i8042_data_bus_ops;
extern const struct bus_ops i8042_cmd_bus_ops;

/* Wire the controller (either IRQ line may be NULL) and reset it.
 * reset_request is called when the guest pulses the CPU reset line
 * (command 0xFE, or an output-port write with bit 0 clear). */
void i8042_init(struct i8042 *c, struct irq_line *kbd_irq, struct irq_line *aux_irq,
                void (*reset_request)(void *opaque), void *opaque);

/* A20 gate as last set through the output port. Hostel never masks A20
 * (guests see all memory); the bit is only recorded and reported back. */
bool i8042_a20_enabled(const struct i8042 *c);

/* Wire a clock for the keyboard's typematic repeat and the mouse's sample
 * rate pacing (two timers). Without one, keys do not repeat by themselves
 * (host auto-repeat presses pass through) and mouse reports go out at once.
 * Returns 0, or -1 if the clock has no free timers. */
int i8042_set_clock(struct i8042 *c, struct clock *clock);

/* A host key was pressed or released: code is a Linux evdev key code
 * (KEY_* from <linux/input-event-codes.h>). Keys without a PS/2 scancode
 * are ignored. */
void i8042_key_event(struct i8042 *c, unsigned code, bool pressed);
/* Release every key the keyboard believes held (host focus loss). */
void i8042_release_all_keys(struct i8042 *c);
/* Keyboard bytes the guest has not read yet (queued, held, or in the output
 * buffer). A caller typing a long text feeds the next event once this is 0,
 * so the keyboard's 64-byte buffer never overruns. */
unsigned i8042_kbd_backlog(const struct i8042 *c);

/* Keyboard LEDs as last set by the guest: PS2_LED_SCROLL, PS2_LED_NUM,
 * PS2_LED_CAPS. The callback (may be NULL) runs on every change, with the
 * device lock held. */
unsigned i8042_kbd_leds(const struct i8042 *c);
void i8042_set_led_callback(struct i8042 *c, void (*cb)(void *opaque, unsigned leds), void *opaque);

/* Host mouse movement: dx right, dy down (screen convention), dz wheel
 * clicks up/away from the user (evdev REL_WHEEL), buttons bit 0 left, 1
 * right, 2 middle. */
void i8042_mouse_event(struct i8042 *c, int dx, int dy, int dz, unsigned buttons);

/* Status register, command byte and output port bits: IBM PS/2 Hardware
 * Interface Technical Reference, "Keyboard/Auxiliary Device Controller"
 * (the 8042's status register, controller command byte and output port). */
enum {
    I8042_STR_OBF = 0x01,       /* output buffer full */
    I8042_STR_IBF = 0x02,       /* input buffer full */
    I8042_STR_SYS = 0x04,       /* system flag (command byte bit 2) */
    I8042_STR_CMD = 0x08,       /* last write was to port 0x64 */
    I8042_STR_INH = 0x10,       /* 1 = keyboard not inhibited */
    I8042_STR_AUXDATA = 0x20,   /* output buffer holds auxiliary-device data */
    I8042_STR_TIMEOUT = 0x40,
    I8042_STR_PARITY = 0x80,

    I8042_CTR_KBDINT = 0x01,
    I8042_CTR_AUXINT = 0x02,
    I8042_CTR_SYS = 0x04,
    I8042_CTR_IGNKEYLOCK = 0x08,
    I8042_CTR_KBDDIS = 0x10,
    I8042_CTR_AUXDIS = 0x20,
    I8042_CTR_XLATE = 0x40,

    I8042_OUT_RESET = 0x01,     /* 0 holds the CPU in reset */
    I8042_OUT_A20 = 0x02,
    I8042_OUT_KBD_IRQ = 0x10,
    I8042_OUT_AUX_IRQ = 0x20,
    I8042_OUT_KBD_CLOCK = 0x40,
    I8042_OUT_KBD_DATA = 0x80,
};

/* Controller commands (port 0x64). */
enum {
    I8042_CMD_READ_RAM = 0x20,  /* 0x20-0x3f: read RAM byte (0 = command byte) */
    I8042_CMD_WRITE_RAM = 0x60, /* 0x60-0x7f: write RAM byte */
    I8042_CMD_PASSWORD_TEST = 0xa4,
    I8042_CMD_AUX_DISABLE = 0xa7,
    I8042_CMD_AUX_ENABLE = 0xa8,
    I8042_CMD_AUX_TEST = 0xa9,
    I8042_CMD_SELF_TEST = 0xaa,
    I8042_CMD_KBD_TEST = 0xab,
    I8042_CMD_KBD_DISABLE = 0xad,
    I8042_CMD_KBD_ENABLE = 0xae,
    I8042_CMD_READ_INPUT = 0xc0,
    I8042_CMD_READ_OUTPUT = 0xd0,
    I8042_CMD_WRITE_OUTPUT = 0xd1,
    I8042_CMD_WRITE_KBD_OUT = 0xd2,
    I8042_CMD_WRITE_AUX_OUT = 0xd3,
    I8042_CMD_WRITE_AUX = 0xd4,
    I8042_CMD_A20_DISABLE = 0xdd,
    I8042_CMD_A20_ENABLE = 0xdf,
    I8042_CMD_READ_TEST = 0xe0,
    I8042_CMD_PULSE = 0xf0,     /* 0xf0-0xff: pulse output lines whose bit is 0 */
};

#endif
