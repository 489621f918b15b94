/* PS/2 mouse with IntelliMouse wheel.
 *
 * IBM PS/2 Hardware Interface Technical Reference, "Pointing Device":
 *  - stream mode sends a report when movement or buttons changed, at most
 *    sample-rate times a second; remote mode only answers Read Data (EB);
 *  - a report is 3 bytes: buttons, sign and overflow bits, then X and Y as
 *    the low 8 bits of 9-bit two's complement counts (Y positive = away from
 *    the user, i.e. up). A count outside -256..255 is clamped and its
 *    overflow bit set; the counters restart from zero;
 *  - 2:1 scaling maps |1|->1, |2|->1, |3|->3, |4|->6, |5|->9, else 2x, in
 *    stream mode only;
 *  - reset answers FA AA 00; defaults are 100 reports/s, 4 counts/mm, 1:1
 *    scaling, stream mode, reporting disabled.
 * Microsoft IntelliMouse: setting the sample rate to 200, 100, 80 in a row
 * makes Get ID answer 03 and adds a fourth byte, Z movement from -8 to 7
 * (positive = towards the user), until the next reset.
 *
 * An argument byte that is not valid (a rate outside the IBM list, a
 * resolution above 3) gets Resend (FE) and the mouse keeps waiting, as the
 * reference says; a command byte in its place abandons the argument and
 * runs as a command, which keeps host and mouse in step.
 */
#include "ps2_mouse.h"

#include <string.h>

#define NS_PER_S 1000000000ull
/* Bound on movement waiting to be reported, so sums never overflow. */
#define MOUSE_ACC_LIMIT (1 << 24)

/* ---- Output queue ------------------------------------------------------ */

static void ps2_mouse_push(struct ps2_mouse *m, uint8_t byte)
{
    m->queue[(m->head + m->count) % PS2_MOUSE_QUEUE_SIZE] = byte;
    m->count++;
}

/* Replies always get in; a host that never reads loses the oldest byte. */
static void ps2_mouse_reply(struct ps2_mouse *m, uint8_t byte)
{
    if (m->count >= PS2_MOUSE_QUEUE_SIZE) {
        m->head = (uint16_t)((m->head + 1) % PS2_MOUSE_QUEUE_SIZE);
        m->count--;
    }
    ps2_mouse_push(m, byte);
}

bool ps2_mouse_has_data(const struct ps2_mouse *m)
{
    return m->count > 0;
}

uint8_t ps2_mouse_take(struct ps2_mouse *m)
{
    if (!m->count)
        return 0;
    uint8_t byte = m->queue[m->head % PS2_MOUSE_QUEUE_SIZE];
    m->head = (uint16_t)((m->head + 1) % PS2_MOUSE_QUEUE_SIZE);
    m->count--;
    m->last_sent = byte;
    return byte;
}

/* ---- Reports ----------------------------------------------------------- */

static int32_t ps2_mouse_sat(int64_t v)
{
    if (v > MOUSE_ACC_LIMIT)
        return MOUSE_ACC_LIMIT;
    if (v < -MOUSE_ACC_LIMIT)
        return -MOUSE_ACC_LIMIT;
    return (int32_t)v;
}

/* Host counts per reported count: host units are 8 counts/mm. */
static int32_t ps2_mouse_divisor(const struct ps2_mouse *m)
{
    return 1 << (3 - (m->resolution & 3));
}

static unsigned ps2_mouse_packet_len(const struct ps2_mouse *m)
{
    return m->id == MOUSE_ID_WHEEL ? 4 : 3;
}

static int32_t ps2_mouse_scale21(int32_t v)
{
    static const int32_t small[6] = { 0, 1, 1, 3, 6, 9 };
    int32_t mag = v < 0 ? -v : v;
    int32_t s = mag < 6 ? small[mag] : 2 * mag;
    return v < 0 ? -s : s;
}

/* One axis: take what the resolution reports, clamp to 9 bits. Returns the
 * count and sets *overflow. */
static int32_t ps2_mouse_axis(const struct ps2_mouse *m, int32_t *acc, bool scale, bool *overflow)
{
    int32_t div = ps2_mouse_divisor(m);
    int32_t v = *acc / div;         /* truncates towards zero */
    *acc -= v * div;
    if (scale)
        v = ps2_mouse_scale21(v);
    *overflow = false;
    if (v > 255 || v < -256) {
        v = v > 255 ? 255 : -256;
        *overflow = true;
        *acc = 0;
    }
    return v;
}

/* Build a report from the counters and restart them. */
static unsigned ps2_mouse_packet(struct ps2_mouse *m, bool stream, uint8_t out[4])
{
    bool scale = stream && m->scaling21;
    bool xo, yo;
    int32_t x = ps2_mouse_axis(m, &m->dx, scale, &xo);
    int32_t y = ps2_mouse_axis(m, &m->dy, scale, &yo);
    uint8_t b0 = (uint8_t)(MOUSE_PKT_ALWAYS1 | (m->buttons & 7));
    if (x < 0)
        b0 |= MOUSE_PKT_X_SIGN;
    if (y < 0)
        b0 |= MOUSE_PKT_Y_SIGN;
    if (xo)
        b0 |= MOUSE_PKT_X_OVERFLOW;
    if (yo)
        b0 |= MOUSE_PKT_Y_OVERFLOW;
    out[0] = b0;
    out[1] = (uint8_t)(x & 0xff);
    out[2] = (uint8_t)(y & 0xff);
    m->sent_buttons = m->buttons;
    if (m->id != MOUSE_ID_WHEEL) {
        m->dz = 0;
        return 3;
    }
    int32_t z = m->dz < -8 ? -8 : m->dz > 7 ? 7 : m->dz;
    m->dz -= z;
    out[3] = (uint8_t)(z & 0xff);
    return 4;
}

/* Something a stream report would show. */
static bool ps2_mouse_dirty(const struct ps2_mouse *m)
{
    int32_t div = ps2_mouse_divisor(m);
    return m->buttons != m->sent_buttons || m->dx >= div || m->dx <= -div ||
           m->dy >= div || m->dy <= -div || (m->id == MOUSE_ID_WHEEL && m->dz != 0);
}

static bool ps2_mouse_try_send(struct ps2_mouse *m)
{
    if (!m->reporting || m->remote || m->wrap || m->pending_cmd || m->holdoff)
        return false;
    if (!ps2_mouse_dirty(m))
        return false;
    unsigned len = ps2_mouse_packet_len(m);
    if (m->count + len > PS2_MOUSE_QUEUE_SIZE)
        return false;       /* the counters keep accumulating meanwhile */
    uint8_t pkt[4];
    len = ps2_mouse_packet(m, true, pkt);
    for (unsigned i = 0; i < len; i++)
        ps2_mouse_push(m, pkt[i]);
    if (m->clock) {
        unsigned rate = m->sample_rate ? m->sample_rate : 100;
        m->holdoff = true;
        clock_timer_mod(&m->rate_timer, clock_now_ns(m->clock) + NS_PER_S / rate);
    }
    return true;
}

void ps2_mouse_poll(struct ps2_mouse *m)
{
    (void)ps2_mouse_try_send(m);
}

static void ps2_mouse_rate_cb(void *opaque)
{
    struct ps2_mouse *m = opaque;
    m->holdoff = false;
    if (ps2_mouse_try_send(m) && m->notify)
        m->notify(m->notify_opaque);
}

void ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz, unsigned buttons)
{
    m->buttons = (uint8_t)(buttons & 7);
    if (!m->remote && !m->reporting) {
        /* A disabled mouse in stream mode does not count. */
        m->dx = m->dy = m->dz = 0;
        return;
    }
    m->dx = ps2_mouse_sat((int64_t)m->dx + dx);
    m->dy = ps2_mouse_sat((int64_t)m->dy - dy);      /* device Y points up */
    if (m->id == MOUSE_ID_WHEEL)
        m->dz = ps2_mouse_sat((int64_t)m->dz - dz);  /* device Z points down */
    if (ps2_mouse_try_send(m) && m->notify)
        m->notify(m->notify_opaque);
}

/* ---- Commands ---------------------------------------------------------- */

static void ps2_mouse_clear_motion(struct ps2_mouse *m)
{
    m->dx = m->dy = m->dz = 0;
}

static void ps2_mouse_defaults(struct ps2_mouse *m)
{
    m->sample_rate = 100;
    m->resolution = 2;
    m->scaling21 = 0;
    m->remote = 0;
    m->reporting = 0;
    m->pending_cmd = 0;
    ps2_mouse_clear_motion(m);
}

static bool ps2_mouse_is_command(uint8_t byte)
{
    switch (byte) {
    case MOUSE_CMD_SCALING_1_1: case MOUSE_CMD_SCALING_2_1: case MOUSE_CMD_SET_RESOLUTION:
    case MOUSE_CMD_STATUS: case MOUSE_CMD_SET_STREAM: case MOUSE_CMD_READ_DATA:
    case MOUSE_CMD_RESET_WRAP: case MOUSE_CMD_SET_WRAP: case MOUSE_CMD_SET_REMOTE:
    case MOUSE_CMD_GET_ID: case MOUSE_CMD_SET_RATE: case MOUSE_CMD_ENABLE:
    case MOUSE_CMD_DISABLE: case MOUSE_CMD_SET_DEFAULT: case MOUSE_CMD_RESEND:
    case MOUSE_CMD_RESET:
        return true;
    default:
        return false;
    }
}

static bool ps2_mouse_valid_rate(uint8_t rate)
{
    switch (rate) {
    case 10: case 20: case 40: case 60: case 80: case 100: case 200:
        return true;
    default:
        return false;
    }
}

/* Status Request (E9), first byte: bit 6 remote, 5 enabled, 4 scaling 2:1,
 * 2 left, 1 middle, 0 right. */
static uint8_t ps2_mouse_status_byte(const struct ps2_mouse *m)
{
    uint8_t s = 0;
    if (m->remote)
        s |= 0x40;
    if (m->reporting)
        s |= 0x20;
    if (m->scaling21)
        s |= 0x10;
    if (m->buttons & PS2_MOUSE_LEFT)
        s |= 0x04;
    if (m->buttons & PS2_MOUSE_MIDDLE)
        s |= 0x02;
    if (m->buttons & PS2_MOUSE_RIGHT)
        s |= 0x01;
    return s;
}

static void ps2_mouse_command(struct ps2_mouse *m, uint8_t cmd)
{
    switch (cmd) {
    case MOUSE_CMD_SCALING_1_1:
        m->scaling21 = 0;
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_SCALING_2_1:
        m->scaling21 = 1;
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_SET_RESOLUTION:
    case MOUSE_CMD_SET_RATE:
        m->pending_cmd = cmd;
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_STATUS:
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        ps2_mouse_reply(m, ps2_mouse_status_byte(m));
        ps2_mouse_reply(m, m->resolution);
        ps2_mouse_reply(m, m->sample_rate);
        break;
    case MOUSE_CMD_SET_STREAM:
        m->remote = 0;
        ps2_mouse_clear_motion(m);
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_READ_DATA: {
        uint8_t pkt[4];
        unsigned len = ps2_mouse_packet(m, false, pkt);
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        for (unsigned i = 0; i < len; i++)
            ps2_mouse_reply(m, pkt[i]);
        break;
    }
    case MOUSE_CMD_RESET_WRAP:
        m->wrap = 0;
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_SET_WRAP:
        m->wrap = 1;
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_SET_REMOTE:
        m->remote = 1;
        ps2_mouse_clear_motion(m);
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_GET_ID:
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        ps2_mouse_reply(m, m->id);
        break;
    case MOUSE_CMD_ENABLE:
        m->reporting = 1;
        ps2_mouse_clear_motion(m);
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_DISABLE:
        m->reporting = 0;
        ps2_mouse_clear_motion(m);
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_SET_DEFAULT:
        ps2_mouse_defaults(m);
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        break;
    case MOUSE_CMD_RESEND:
        ps2_mouse_reply(m, m->last_sent);
        break;
    case MOUSE_CMD_RESET:
        m->head = 0;
        m->count = 0;
        ps2_mouse_defaults(m);
        m->wrap = 0;
        m->id = MOUSE_ID_STANDARD;
        memset(m->rate_history, 0, sizeof(m->rate_history));
        m->sent_buttons = m->buttons;
        ps2_mouse_reply(m, MOUSE_REPLY_ACK);
        ps2_mouse_reply(m, MOUSE_REPLY_BAT_OK);
        ps2_mouse_reply(m, MOUSE_ID_STANDARD);
        break;
    default:
        ps2_mouse_reply(m, MOUSE_REPLY_RESEND);
        break;
    }
}

/* The argument of F3 or E8. Returns false if the byte is a command instead. */
static bool ps2_mouse_argument(struct ps2_mouse *m, uint8_t arg)
{
    if (m->pending_cmd == MOUSE_CMD_SET_RATE && ps2_mouse_valid_rate(arg)) {
        m->sample_rate = arg;
        m->rate_history[0] = m->rate_history[1];
        m->rate_history[1] = m->rate_history[2];
        m->rate_history[2] = arg;
        /* The IntelliMouse knock. */
        if (m->rate_history[0] == 200 && m->rate_history[1] == 100 && m->rate_history[2] == 80)
            m->id = MOUSE_ID_WHEEL;
    } else if (m->pending_cmd == MOUSE_CMD_SET_RESOLUTION && arg <= 3) {
        /* A remainder below one count at the old resolution means nothing
         * at the new one. */
        if (arg != m->resolution)
            ps2_mouse_clear_motion(m);
        m->resolution = arg;
    } else if (ps2_mouse_is_command(arg) ||
               (m->pending_cmd != MOUSE_CMD_SET_RATE && m->pending_cmd != MOUSE_CMD_SET_RESOLUTION)) {
        m->pending_cmd = 0;
        return false;
    } else {
        ps2_mouse_reply(m, MOUSE_REPLY_RESEND);
        return true;
    }
    m->pending_cmd = 0;
    ps2_mouse_reply(m, MOUSE_REPLY_ACK);
    return true;
}

void ps2_mouse_write(struct ps2_mouse *m, uint8_t byte)
{
    if (m->wrap && byte != MOUSE_CMD_RESET_WRAP && byte != MOUSE_CMD_RESET) {
        ps2_mouse_reply(m, byte);       /* wrap mode echoes */
        return;
    }
    if (m->pending_cmd && byte == MOUSE_CMD_RESEND) {
        ps2_mouse_reply(m, m->last_sent);
        return;
    }
    if (!m->pending_cmd || !ps2_mouse_argument(m, byte))
        ps2_mouse_command(m, byte);
    ps2_mouse_try_send(m);
}

/* ---- Life cycle -------------------------------------------------------- */

void ps2_mouse_reset(struct ps2_mouse *m)
{
    if (m->clock)
        clock_timer_del(&m->rate_timer);
    m->holdoff = false;
    memset(m->queue, 0, sizeof(m->queue));
    m->head = 0;
    m->count = 0;
    m->last_sent = 0;
    m->wrap = 0;
    m->id = MOUSE_ID_STANDARD;
    memset(m->rate_history, 0, sizeof(m->rate_history));
    m->buttons = 0;
    m->sent_buttons = 0;
    ps2_mouse_defaults(m);
}

void ps2_mouse_init(struct ps2_mouse *m, void (*notify)(void *opaque), void *opaque)
{
    memset(m, 0, sizeof(*m));
    m->notify = notify;
    m->notify_opaque = opaque;
    ps2_mouse_reset(m);
}

int ps2_mouse_set_clock(struct ps2_mouse *m, struct clock *clock)
{
    if (m->clock)
        clock_timer_remove(&m->rate_timer);
    m->clock = NULL;
    m->holdoff = false;
    if (!clock || clock_timer_init(clock, &m->rate_timer, ps2_mouse_rate_cb, m) < 0)
        return clock ? -1 : 0;
    m->clock = clock;
    return 0;
}

void ps2_mouse_finalize(struct ps2_mouse *m)
{
    if (m->clock)
        clock_timer_remove(&m->rate_timer);
    m->clock = NULL;
}

void ps2_mouse_post_load(struct ps2_mouse *m)
{
    m->head %= PS2_MOUSE_QUEUE_SIZE;
    if (m->count > PS2_MOUSE_QUEUE_SIZE)
        m->count = PS2_MOUSE_QUEUE_SIZE;
    if (m->pending_cmd != MOUSE_CMD_SET_RATE && m->pending_cmd != MOUSE_CMD_SET_RESOLUTION)
        m->pending_cmd = 0;
    m->reporting = m->reporting ? 1 : 0;
    m->remote = m->remote ? 1 : 0;
    m->wrap = m->wrap ? 1 : 0;
    m->scaling21 = m->scaling21 ? 1 : 0;
    m->resolution &= 3;
    if (!ps2_mouse_valid_rate(m->sample_rate))
        m->sample_rate = 100;
    if (m->id != MOUSE_ID_WHEEL)
        m->id = MOUSE_ID_STANDARD;
    m->buttons &= 7;
    m->sent_buttons &= 7;
    m->dx = ps2_mouse_sat(m->dx);
    m->dy = ps2_mouse_sat(m->dy);
    m->dz = ps2_mouse_sat(m->dz);
    m->holdoff = false;
    if (m->clock)
        clock_timer_del(&m->rate_timer);
}
