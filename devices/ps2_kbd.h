/* PS/2 (MF2) keyboard: the device behind the i8042's first port.
 *
 * It interprets the host's commands (IBM PS/2 Hardware Interface Technical
 * Reference, "Keyboard": commands ED-FF and their replies), turns host key
 * events into scancodes of set 1 or 2 (devices/ps2_keymap.h), repeats the
 * last held key at the programmed typematic rate when a clock is wired, and
 * keeps its output in a bounded queue the controller drains byte by byte.
 *
 * Scancode set 3 is not implemented: F0 03 is acknowledged and the set left
 * unchanged, so a host that reads the set back (F0 00), as Linux does,
 * falls back to set 2. The set-3-only commands F7-FD are acknowledged.
 *
 * Not a device on its own: struct i8042 embeds it and saves its fields.
 */
#ifndef HOSTEL_PS2_KBD_H
#define HOSTEL_PS2_KBD_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "ps2_keymap.h"

/* Bytes the keyboard buffers for the controller. The IBM keyboard has 16;
 * a host feeding keys in bursts deserves more. */
#define PS2_KBD_QUEUE_SIZE 64
/* Host key events kept while the keyboard waits for a command's argument. */
#define PS2_KBD_HOLD 16
/* Keys whose held state is tracked (every code the keymap knows). */
#define PS2_KBD_KEYS PS2_KEYMAP_CODES

/* LED bits of command ED's argument. */
enum {
    PS2_LED_SCROLL = 0x01,
    PS2_LED_NUM = 0x02,
    PS2_LED_CAPS = 0x04,
};

/* Keyboard commands (port 0x60) and replies. */
enum {
    KBD_CMD_SET_LEDS = 0xed,
    KBD_CMD_ECHO = 0xee,
    KBD_CMD_SCANCODE_SET = 0xf0,
    KBD_CMD_GET_ID = 0xf2,
    KBD_CMD_SET_TYPEMATIC = 0xf3,
    KBD_CMD_ENABLE = 0xf4,
    KBD_CMD_DEFAULT_DISABLE = 0xf5,
    KBD_CMD_SET_DEFAULT = 0xf6,
    KBD_CMD_SET3_ALL_TYPEMATIC = 0xf7,
    KBD_CMD_SET3_ALL_MAKE_BREAK = 0xf8,
    KBD_CMD_SET3_ALL_MAKE = 0xf9,
    KBD_CMD_SET3_ALL_ALL = 0xfa,
    KBD_CMD_SET3_KEY_TYPEMATIC = 0xfb,
    KBD_CMD_SET3_KEY_MAKE_BREAK = 0xfc,
    KBD_CMD_SET3_KEY_MAKE = 0xfd,
    KBD_CMD_RESEND = 0xfe,
    KBD_CMD_RESET = 0xff,

    KBD_REPLY_OVERRUN_SET2 = 0x00,
    KBD_REPLY_BAT_OK = 0xaa,
    KBD_REPLY_ECHO = 0xee,
    KBD_REPLY_ACK = 0xfa,
    KBD_REPLY_RESEND = 0xfe,
    KBD_REPLY_OVERRUN_SET1 = 0xff,
};

struct ps2_kbd {
    /* Wiring (not saved). */
    void (*notify)(void *opaque);   /* bytes were queued outside a host write */
    void *notify_opaque;
    void (*leds_changed)(void *opaque, unsigned leds);
    void *leds_opaque;
    struct clock *clock;            /* NULL: no typematic repeat */
    struct clock_timer repeat_timer;

    /* Saved state. */
    uint8_t queue[PS2_KBD_QUEUE_SIZE];
    uint16_t head;
    uint16_t count;
    uint8_t pending_cmd;        /* command waiting for its argument, or 0 */
    uint8_t scanning;           /* enabled by F4, disabled by F5 */
    uint8_t leds;
    uint8_t scancode_set;       /* 1 or 2 */
    uint8_t typematic;          /* F3 argument: bits 6-5 delay, 4-0 rate */
    uint8_t last_sent;          /* for the Resend command */
    uint8_t overrun;            /* an overrun code ends the queue */
    uint16_t repeat_key;        /* evdev code repeating, or 0 */
    uint8_t pressed[PS2_KBD_KEYS / 8];
    uint16_t held_code[PS2_KBD_HOLD];
    uint8_t held_pressed[PS2_KBD_HOLD];
    uint8_t held_count;
    uint8_t held_lost;          /* an event did not fit the hold list */
};

/* Set up a keyboard in its power-on state. notify(opaque) is called after
 * bytes were queued by a host key event or a typematic repeat. */
void ps2_kbd_init(struct ps2_kbd *k, void (*notify)(void *opaque), void *opaque);
/* Wire a clock for typematic repeat. Returns 0, or -1 if the clock has no
 * free timer (the keyboard then works without repeat). */
int ps2_kbd_set_clock(struct ps2_kbd *k, struct clock *clock);
/* Called with the new LED bits (PS2_LED_*) whenever the host changes them. */
void ps2_kbd_set_leds_callback(struct ps2_kbd *k, void (*cb)(void *opaque, unsigned leds), void *opaque);
/* Unregister the timer. */
void ps2_kbd_finalize(struct ps2_kbd *k);
/* Power-on state (the wiring stays). */
void ps2_kbd_reset(struct ps2_kbd *k);
/* Recompute derived state after a vmstate load; bounds every field. */
void ps2_kbd_post_load(struct ps2_kbd *k);

/* A byte from the host (controller) to the keyboard. */
void ps2_kbd_write(struct ps2_kbd *k, uint8_t byte);
/* Output queue: whether a byte waits, and take it (0 when empty). */
bool ps2_kbd_has_data(const struct ps2_kbd *k);
uint8_t ps2_kbd_take(struct ps2_kbd *k);

/* A host key changed state (evdev code). Unknown keys are ignored; a press
 * of a key already held is a host auto-repeat, which is dropped when the
 * keyboard repeats by itself (clock wired) and sent as a repeat otherwise. */
void ps2_kbd_key_event(struct ps2_kbd *k, unsigned code, bool pressed);
/* Release every key the keyboard believes held (e.g. on host focus loss). */
void ps2_kbd_release_all(struct ps2_kbd *k);

unsigned ps2_kbd_leds(const struct ps2_kbd *k);
/* Key bytes and held events not yet handed to the controller. */
unsigned ps2_kbd_backlog(const struct ps2_kbd *k);
/* Typematic delay and period the F3 argument selects (IBM "Set Typematic
 * Rate/Delay": delay (1 + D) * 250 ms, period (8 + A) * 2^B * 4.17 ms). */
uint64_t ps2_kbd_typematic_delay_ns(uint8_t typematic);
uint64_t ps2_kbd_typematic_period_ns(uint8_t typematic);

#endif
