/* PS/2 mouse with the IntelliMouse wheel: the device behind the i8042's
 * auxiliary port.
 *
 * Commands and packets follow the IBM PS/2 Hardware Interface Technical
 * Reference, "Pointing Device" (commands E6-FF, the 3-byte data report,
 * status request); the wheel follows Microsoft's IntelliMouse protocol
 * (sample rates 200, 100, 80 in a row switch the ID to 3 and the reports to
 * 4 bytes, the fourth carrying Z movement).
 *
 * Not a device on its own: struct i8042 embeds it and saves its fields.
 */
#ifndef HOSTEL_PS2_MOUSE_H
#define HOSTEL_PS2_MOUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"

#define PS2_MOUSE_QUEUE_SIZE 64

/* Host button bits (i8042_mouse_event), also the packet's bits 0-2. */
enum {
    PS2_MOUSE_LEFT = 0x01,
    PS2_MOUSE_RIGHT = 0x02,
    PS2_MOUSE_MIDDLE = 0x04,
};

/* Mouse commands (sent through controller command D4) and replies. */
enum {
    MOUSE_CMD_SCALING_1_1 = 0xe6,
    MOUSE_CMD_SCALING_2_1 = 0xe7,
    MOUSE_CMD_SET_RESOLUTION = 0xe8,
    MOUSE_CMD_STATUS = 0xe9,
    MOUSE_CMD_SET_STREAM = 0xea,
    MOUSE_CMD_READ_DATA = 0xeb,
    MOUSE_CMD_RESET_WRAP = 0xec,
    MOUSE_CMD_SET_WRAP = 0xee,
    MOUSE_CMD_SET_REMOTE = 0xf0,
    MOUSE_CMD_GET_ID = 0xf2,
    MOUSE_CMD_SET_RATE = 0xf3,
    MOUSE_CMD_ENABLE = 0xf4,
    MOUSE_CMD_DISABLE = 0xf5,
    MOUSE_CMD_SET_DEFAULT = 0xf6,
    MOUSE_CMD_RESEND = 0xfe,
    MOUSE_CMD_RESET = 0xff,

    MOUSE_REPLY_BAT_OK = 0xaa,
    MOUSE_REPLY_ACK = 0xfa,
    MOUSE_REPLY_RESEND = 0xfe,
    MOUSE_ID_STANDARD = 0x00,
    MOUSE_ID_WHEEL = 0x03,
};

/* First packet byte (IBM "Data Report"). */
enum {
    MOUSE_PKT_ALWAYS1 = 0x08,
    MOUSE_PKT_X_SIGN = 0x10,
    MOUSE_PKT_Y_SIGN = 0x20,
    MOUSE_PKT_X_OVERFLOW = 0x40,
    MOUSE_PKT_Y_OVERFLOW = 0x80,
};

struct ps2_mouse {
    /* Wiring (not saved). */
    void (*notify)(void *opaque);   /* bytes were queued outside a host write */
    void *notify_opaque;
    struct clock *clock;            /* NULL: no sample-rate pacing */
    struct clock_timer rate_timer;
    bool holdoff;                   /* a report went out less than 1/rate ago */

    /* Saved state. */
    uint8_t queue[PS2_MOUSE_QUEUE_SIZE];
    uint16_t head;
    uint16_t count;
    uint8_t pending_cmd;        /* F3 or E8 waiting for its argument, or 0 */
    uint8_t last_sent;
    uint8_t reporting;          /* data reporting enabled (F4) */
    uint8_t remote;             /* remote mode (F0) rather than stream (EA) */
    uint8_t wrap;               /* wrap (echo) mode */
    uint8_t scaling21;
    uint8_t resolution;         /* 0-3: 1, 2, 4, 8 counts/mm */
    uint8_t sample_rate;        /* reports/s */
    uint8_t id;                 /* 0, or 3 after the IntelliMouse knock */
    uint8_t rate_history[3];    /* last three sample rates set, newest last */
    uint8_t buttons;            /* host buttons now */
    uint8_t sent_buttons;       /* buttons in the last report */
    int32_t dx, dy, dz;         /* movement not reported yet (device axes) */
};

/* Set up a mouse in its power-on state. notify(opaque) is called after a
 * report was queued by a host event or the sample-rate timer. */
void ps2_mouse_init(struct ps2_mouse *m, void (*notify)(void *opaque), void *opaque);
/* Wire a clock: reports are then paced at the sample rate. Returns 0, or -1
 * if the clock has no free timer (reports are then sent at once). */
int ps2_mouse_set_clock(struct ps2_mouse *m, struct clock *clock);
void ps2_mouse_finalize(struct ps2_mouse *m);
void ps2_mouse_reset(struct ps2_mouse *m);
void ps2_mouse_post_load(struct ps2_mouse *m);

/* A byte from the host (controller command D4) to the mouse. */
void ps2_mouse_write(struct ps2_mouse *m, uint8_t byte);
bool ps2_mouse_has_data(const struct ps2_mouse *m);
uint8_t ps2_mouse_take(struct ps2_mouse *m);
/* Queue a stream report if one is due and fits; no notify (the controller
 * calls this itself when the queue drained). */
void ps2_mouse_poll(struct ps2_mouse *m);

/* Host movement: dx right, dy down (screen convention), dz wheel clicks
 * away from the user (up); buttons PS2_MOUSE_*. Host units are counts at
 * 8 counts/mm: resolution 3 reports them 1:1, lower resolutions divide
 * (keeping the remainder for the next report). */
void ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz, unsigned buttons);

#endif
