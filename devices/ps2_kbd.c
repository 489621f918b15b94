/* PS/2 keyboard.
 *
 * Command set, replies, buffer and typematic behaviour follow the IBM PS/2
 * Hardware Interface Technical Reference, "Keyboard" chapter ("Commands from
 * the System", "Commands to the System", "Typematic Rate", "Buffer").
 *
 * Output is one FIFO: command replies and scancodes in the order produced.
 * A scancode sequence is queued whole or not at all; when it does not fit,
 * the last free byte takes the overrun code (00 in set 2, FF in set 1) and
 * further keys are dropped until a sequence fits again. Replies always go
 * in (the oldest byte is dropped when the host never reads).
 *
 * While a command waits for its argument (ED, F3, F0) the IBM keyboard stops
 * scanning. Here host key events are held in a short list and replayed
 * once the argument arrived, so no scancode lands between the command's
 * ACK and the argument's ACK, where a host driver takes it for a failed
 * command and loses the key.
 */
#include "ps2_kbd.h"

#include <string.h>

#include <linux/input-event-codes.h>

#define NS_PER_MS 1000000ull

/* ---- Output queue ------------------------------------------------------ */

static void ps2_kbd_push(struct ps2_kbd *k, uint8_t byte)
{
    k->queue[(k->head + k->count) % PS2_KBD_QUEUE_SIZE] = byte;
    k->count++;
}

static void ps2_kbd_clear(struct ps2_kbd *k)
{
    k->head = 0;
    k->count = 0;
    k->overrun = 0;
}

/* A reply to a command always gets in. */
static void ps2_kbd_reply(struct ps2_kbd *k, uint8_t byte)
{
    if (k->count >= PS2_KBD_QUEUE_SIZE) {
        k->head = (uint16_t)((k->head + 1) % PS2_KBD_QUEUE_SIZE);
        k->count--;
    }
    ps2_kbd_push(k, byte);
}

/* A scancode sequence goes in whole, leaving the last byte free for the
 * overrun code. */
static void ps2_kbd_queue_seq(struct ps2_kbd *k, const uint8_t *seq, size_t n)
{
    if (n == 0)
        return;
    if (k->count + n <= PS2_KBD_QUEUE_SIZE - 1) {
        for (size_t i = 0; i < n; i++)
            ps2_kbd_push(k, seq[i]);
        k->overrun = 0;
        return;
    }
    if (!k->overrun && k->count < PS2_KBD_QUEUE_SIZE) {
        ps2_kbd_push(k, k->scancode_set == 1 ? KBD_REPLY_OVERRUN_SET1 : KBD_REPLY_OVERRUN_SET2);
        k->overrun = 1;
    }
}

bool ps2_kbd_has_data(const struct ps2_kbd *k)
{
    return k->count > 0;
}

uint8_t ps2_kbd_take(struct ps2_kbd *k)
{
    if (!k->count)
        return 0;
    uint8_t byte = k->queue[k->head % PS2_KBD_QUEUE_SIZE];
    k->head = (uint16_t)((k->head + 1) % PS2_KBD_QUEUE_SIZE);
    k->count--;
    k->last_sent = byte;
    return byte;
}

/* ---- Key state and typematic ------------------------------------------- */

static bool ps2_kbd_is_pressed(const struct ps2_kbd *k, unsigned code)
{
    return code < PS2_KBD_KEYS && (k->pressed[code / 8] & (1u << (code % 8)));
}

static void ps2_kbd_set_pressed(struct ps2_kbd *k, unsigned code, bool on)
{
    if (code >= PS2_KBD_KEYS)
        return;
    if (on)
        k->pressed[code / 8] |= (uint8_t)(1u << (code % 8));
    else
        k->pressed[code / 8] &= (uint8_t)~(1u << (code % 8));
}

/* The modifiers as the keyboard sees them, for Print Screen and Pause. */
static unsigned ps2_kbd_mods(const struct ps2_kbd *k)
{
    static const unsigned mod_keys[] = {
        KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTALT, KEY_RIGHTALT,
    };
    unsigned mods = 0;
    for (size_t i = 0; i < sizeof(mod_keys) / sizeof(mod_keys[0]); i++)
        if (ps2_kbd_is_pressed(k, mod_keys[i]))
            mods |= ps2_keymap_modifier(mod_keys[i]);
    return mods;
}

uint64_t ps2_kbd_typematic_delay_ns(uint8_t typematic)
{
    return (uint64_t)(((typematic >> 5) & 3) + 1) * 250 * NS_PER_MS;
}

uint64_t ps2_kbd_typematic_period_ns(uint8_t typematic)
{
    uint64_t a = typematic & 7;
    uint64_t b = (typematic >> 3) & 3;
    /* (8 + A) * 2^B * 4.17 ms */
    return (8 + a) * (1ull << b) * 4170000ull;
}

static void ps2_kbd_stop_repeat(struct ps2_kbd *k)
{
    k->repeat_key = 0;
    if (k->clock)
        clock_timer_del(&k->repeat_timer);
}

static void ps2_kbd_arm_repeat(struct ps2_kbd *k, uint64_t after_ns)
{
    if (k->clock)
        clock_timer_mod(&k->repeat_timer, clock_now_ns(k->clock) + after_ns);
}

static void ps2_kbd_repeat_cb(void *opaque)
{
    struct ps2_kbd *k = opaque;
    unsigned code = k->repeat_key;
    if (!code || !ps2_kbd_is_pressed(k, code)) {
        k->repeat_key = 0;
        return;
    }
    /* Scanning stopped (disabled, or a command waiting for its argument):
     * the key keeps its place and resumes repeating afterwards. */
    if (k->scanning && !k->pending_cmd) {
        uint8_t seq[PS2_SEQ_MAX];
        size_t n = ps2_keymap_repeat(code, k->scancode_set, ps2_kbd_mods(k), seq);
        ps2_kbd_queue_seq(k, seq, n);
        if (k->notify)
            k->notify(k->notify_opaque);
    }
    ps2_kbd_arm_repeat(k, ps2_kbd_typematic_period_ns(k->typematic));
}

/* Apply one host key event now. */
static void ps2_kbd_deliver(struct ps2_kbd *k, unsigned code, bool pressed)
{
    uint8_t seq[PS2_SEQ_MAX];
    bool was = ps2_kbd_is_pressed(k, code);
    ps2_kbd_set_pressed(k, code, pressed);
    if (pressed) {
        if (was) {
            /* The host's own auto-repeat. */
            if (k->clock || !k->scanning)
                return;
            ps2_kbd_queue_seq(k, seq, ps2_keymap_repeat(code, k->scancode_set, ps2_kbd_mods(k), seq));
            return;
        }
        if (!k->scanning)
            return;
        ps2_kbd_queue_seq(k, seq, ps2_keymap_sequence(code, k->scancode_set, true, ps2_kbd_mods(k), seq));
        /* Typematic: the last key pressed repeats; a key that does not
         * repeat ends the previous key's repeat too. */
        if (ps2_keymap_repeat(code, k->scancode_set, ps2_kbd_mods(k), seq)) {
            k->repeat_key = (uint16_t)code;
            ps2_kbd_arm_repeat(k, ps2_kbd_typematic_delay_ns(k->typematic));
        } else {
            ps2_kbd_stop_repeat(k);
        }
        return;
    }
    if (!was)
        return;
    if (k->repeat_key == code)
        ps2_kbd_stop_repeat(k);
    if (!k->scanning)
        return;
    ps2_kbd_queue_seq(k, seq, ps2_keymap_sequence(code, k->scancode_set, false, ps2_kbd_mods(k), seq));
}

static void ps2_kbd_replay_held(struct ps2_kbd *k)
{
    unsigned n = k->held_count <= PS2_KBD_HOLD ? k->held_count : PS2_KBD_HOLD;
    k->held_count = 0;
    for (unsigned i = 0; i < n; i++)
        if (ps2_keymap_known(k->held_code[i]))
            ps2_kbd_deliver(k, k->held_code[i], k->held_pressed[i]);
    if (k->held_lost) {
        k->held_lost = 0;
        if (k->scanning && k->count < PS2_KBD_QUEUE_SIZE && !k->overrun) {
            ps2_kbd_push(k, k->scancode_set == 1 ? KBD_REPLY_OVERRUN_SET1 : KBD_REPLY_OVERRUN_SET2);
            k->overrun = 1;
        }
    }
}

void ps2_kbd_key_event(struct ps2_kbd *k, unsigned code, bool pressed)
{
    if (!ps2_keymap_known(code) || code >= PS2_KBD_KEYS)
        return;
    if (k->pending_cmd) {
        if (k->held_count < PS2_KBD_HOLD) {
            k->held_code[k->held_count] = (uint16_t)code;
            k->held_pressed[k->held_count] = pressed;
            k->held_count++;
        } else {
            k->held_lost = 1;
        }
        return;
    }
    ps2_kbd_deliver(k, code, pressed);
    if (k->notify)
        k->notify(k->notify_opaque);
}

void ps2_kbd_release_all(struct ps2_kbd *k)
{
    for (unsigned code = 0; code < PS2_KBD_KEYS; code++)
        if (ps2_kbd_is_pressed(k, code))
            ps2_kbd_key_event(k, code, false);
}

/* ---- Commands ---------------------------------------------------------- */

static void ps2_kbd_set_leds(struct ps2_kbd *k, uint8_t leds)
{
    bool changed = leds != k->leds;
    k->leds = leds;
    if (changed && k->leds_changed)
        k->leds_changed(k->leds_opaque, leds);
}

/* Defaults of "Set Default" (F6): typematic 10.9 characters/s after 500 ms,
 * scancode set 2. */
static void ps2_kbd_defaults(struct ps2_kbd *k)
{
    k->scancode_set = 2;
    k->typematic = 0x2b;
    k->pending_cmd = 0;
    ps2_kbd_stop_repeat(k);
}

static bool ps2_kbd_is_command(uint8_t byte)
{
    return byte >= KBD_CMD_SET_LEDS;
}

static void ps2_kbd_command(struct ps2_kbd *k, uint8_t cmd)
{
    switch (cmd) {
    case KBD_CMD_SET_LEDS:
    case KBD_CMD_SET_TYPEMATIC:
    case KBD_CMD_SCANCODE_SET:
        k->pending_cmd = cmd;
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_ECHO:
        ps2_kbd_reply(k, KBD_REPLY_ECHO);
        break;
    case KBD_CMD_GET_ID:
        /* An MF2 keyboard. */
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        ps2_kbd_reply(k, 0xab);
        ps2_kbd_reply(k, 0x83);
        break;
    case KBD_CMD_ENABLE:
        /* "Enable": clears the output buffer, starts scanning. */
        ps2_kbd_clear(k);
        k->scanning = 1;
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_DEFAULT_DISABLE:
        ps2_kbd_clear(k);
        ps2_kbd_defaults(k);
        k->scanning = 0;
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_SET_DEFAULT:
        ps2_kbd_clear(k);
        ps2_kbd_defaults(k);
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_SET3_ALL_TYPEMATIC:
    case KBD_CMD_SET3_ALL_MAKE_BREAK:
    case KBD_CMD_SET3_ALL_MAKE:
    case KBD_CMD_SET3_ALL_ALL:
        /* Set 3 key types: acknowledged, no effect in sets 1 and 2. */
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_SET3_KEY_TYPEMATIC:
    case KBD_CMD_SET3_KEY_MAKE_BREAK:
    case KBD_CMD_SET3_KEY_MAKE:
        /* Followed by a list of set-3 codes, each acknowledged, ended by
         * the next command. */
        k->pending_cmd = cmd;
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        break;
    case KBD_CMD_RESEND:
        ps2_kbd_reply(k, k->last_sent);
        break;
    case KBD_CMD_RESET:
        ps2_kbd_clear(k);
        ps2_kbd_defaults(k);
        k->scanning = 1;
        ps2_kbd_set_leds(k, 0);
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        ps2_kbd_reply(k, KBD_REPLY_BAT_OK);
        break;
    default:
        ps2_kbd_reply(k, KBD_REPLY_RESEND);
        break;
    }
}

/* The byte that follows ED, F3, F0 or one of FB-FD. Returns false if it is
 * not an argument but a new command. */
static bool ps2_kbd_argument(struct ps2_kbd *k, uint8_t arg)
{
    uint8_t cmd = k->pending_cmd;
    if (arg == KBD_CMD_RESEND) {
        /* The host missed our ACK: send it again, keep waiting. */
        ps2_kbd_reply(k, k->last_sent);
        return true;
    }
    switch (cmd) {
    case KBD_CMD_SET_LEDS:
        if (ps2_kbd_is_command(arg))
            return false;
        ps2_kbd_set_leds(k, arg & (PS2_LED_SCROLL | PS2_LED_NUM | PS2_LED_CAPS));
        k->pending_cmd = 0;
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        return true;
    case KBD_CMD_SET_TYPEMATIC:
        if (arg & 0x80) {
            if (ps2_kbd_is_command(arg))
                return false;
            ps2_kbd_reply(k, KBD_REPLY_RESEND);     /* bit 7 must be 0 */
            return true;
        }
        k->typematic = arg;
        k->pending_cmd = 0;
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        return true;
    case KBD_CMD_SCANCODE_SET:
        if (arg > 3) {
            if (ps2_kbd_is_command(arg))
                return false;
            ps2_kbd_reply(k, KBD_REPLY_RESEND);
            return true;
        }
        k->pending_cmd = 0;
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        if (arg == 0) {
            ps2_kbd_reply(k, k->scancode_set);
        } else if (arg != 3 && arg != k->scancode_set) {
            /* Set 3 is refused silently: the set stays as it was. */
            k->scancode_set = arg;
            ps2_kbd_stop_repeat(k);
        }
        return true;
    case KBD_CMD_SET3_KEY_TYPEMATIC:
    case KBD_CMD_SET3_KEY_MAKE_BREAK:
    case KBD_CMD_SET3_KEY_MAKE:
        if (ps2_kbd_is_command(arg))
            return false;
        ps2_kbd_reply(k, KBD_REPLY_ACK);
        return true;
    default:
        /* Not a command with an argument (only a corrupt saved state gets
         * here): forget it. */
        k->pending_cmd = 0;
        return false;
    }
}

void ps2_kbd_write(struct ps2_kbd *k, uint8_t byte)
{
    if (!k->pending_cmd || !ps2_kbd_argument(k, byte)) {
        k->pending_cmd = 0;
        ps2_kbd_command(k, byte);
    }
    if (!k->pending_cmd && k->held_count)
        ps2_kbd_replay_held(k);
}

/* ---- Life cycle -------------------------------------------------------- */

unsigned ps2_kbd_leds(const struct ps2_kbd *k)
{
    return k->leds;
}

unsigned ps2_kbd_backlog(const struct ps2_kbd *k)
{
    return (unsigned)k->count + k->held_count;
}

void ps2_kbd_reset(struct ps2_kbd *k)
{
    uint8_t old_leds = k->leds;
    if (k->clock)
        clock_timer_del(&k->repeat_timer);
    memset(k->queue, 0, sizeof(k->queue));
    memset(k->pressed, 0, sizeof(k->pressed));
    memset(k->held_code, 0, sizeof(k->held_code));
    memset(k->held_pressed, 0, sizeof(k->held_pressed));
    k->head = 0;
    k->count = 0;
    k->pending_cmd = 0;
    k->scanning = 1;
    k->leds = 0;
    k->last_sent = 0;
    k->overrun = 0;
    k->repeat_key = 0;
    k->held_count = 0;
    k->held_lost = 0;
    ps2_kbd_defaults(k);
    if (old_leds && k->leds_changed)
        k->leds_changed(k->leds_opaque, 0);
}

void ps2_kbd_init(struct ps2_kbd *k, void (*notify)(void *opaque), void *opaque)
{
    memset(k, 0, sizeof(*k));
    k->notify = notify;
    k->notify_opaque = opaque;
    ps2_kbd_reset(k);
}

int ps2_kbd_set_clock(struct ps2_kbd *k, struct clock *clock)
{
    if (k->clock)
        clock_timer_remove(&k->repeat_timer);
    k->clock = NULL;
    if (!clock || clock_timer_init(clock, &k->repeat_timer, ps2_kbd_repeat_cb, k) < 0)
        return clock ? -1 : 0;
    k->clock = clock;
    if (k->repeat_key)
        ps2_kbd_arm_repeat(k, ps2_kbd_typematic_period_ns(k->typematic));
    return 0;
}

void ps2_kbd_set_leds_callback(struct ps2_kbd *k, void (*cb)(void *opaque, unsigned leds), void *opaque)
{
    k->leds_changed = cb;
    k->leds_opaque = opaque;
}

void ps2_kbd_finalize(struct ps2_kbd *k)
{
    if (k->clock)
        clock_timer_remove(&k->repeat_timer);
    k->clock = NULL;
}

void ps2_kbd_post_load(struct ps2_kbd *k)
{
    k->head %= PS2_KBD_QUEUE_SIZE;
    if (k->count > PS2_KBD_QUEUE_SIZE)
        k->count = PS2_KBD_QUEUE_SIZE;
    switch (k->pending_cmd) {
    case 0:
    case KBD_CMD_SET_LEDS:
    case KBD_CMD_SET_TYPEMATIC:
    case KBD_CMD_SCANCODE_SET:
    case KBD_CMD_SET3_KEY_TYPEMATIC:
    case KBD_CMD_SET3_KEY_MAKE_BREAK:
    case KBD_CMD_SET3_KEY_MAKE:
        break;
    default:
        k->pending_cmd = 0;
        break;
    }
    k->scanning = k->scanning ? 1 : 0;
    k->overrun = k->overrun ? 1 : 0;
    k->held_lost = k->held_lost ? 1 : 0;
    k->leds &= PS2_LED_SCROLL | PS2_LED_NUM | PS2_LED_CAPS;
    k->typematic &= 0x7f;
    if (k->scancode_set != 1 && k->scancode_set != 2)
        k->scancode_set = 2;
    if (k->held_count > PS2_KBD_HOLD)
        k->held_count = PS2_KBD_HOLD;
    for (unsigned i = 0; i < PS2_KBD_HOLD; i++)
        k->held_pressed[i] = k->held_pressed[i] ? 1 : 0;
    /* Events held for a command that is no longer waiting. */
    if (!k->pending_cmd && k->held_count)
        ps2_kbd_replay_held(k);
    if (k->repeat_key >= PS2_KBD_KEYS || !ps2_kbd_is_pressed(k, k->repeat_key))
        k->repeat_key = 0;
    if (k->clock) {
        clock_timer_del(&k->repeat_timer);
        if (k->repeat_key)
            ps2_kbd_arm_repeat(k, ps2_kbd_typematic_period_ns(k->typematic));
    }
    if (k->leds_changed)
        k->leds_changed(k->leds_opaque, k->leds);
}
