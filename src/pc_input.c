/* Keyboard input from the host into the PC's PS/2 keyboard, and pointer
 * input into the PS/2 mouse and the virtio tablet.
 *
 * Events are queued and fed to the keyboard one at a time, each once the
 * guest has read everything the previous one produced, so a long typed
 * text never overruns the keyboard's small buffer. A queue that fills up
 * refuses the request whole rather than typing half of it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "keytype.h"
#include "pc.h"
#include "pc_internal.h"
#include "vm.h"

static void pc_key_tick(void *opaque)
{
    struct pc *pc = opaque;
    if (pc->key_count && i8042_kbd_backlog(&pc->kbc) == 0) {
        struct pc_key_event ev = pc->keys[pc->key_head];
        pc->key_head = (pc->key_head + 1) % PC_KEY_QUEUE;
        pc->key_count--;
        i8042_key_event(&pc->kbc, ev.code, ev.pressed);
    }
    if (pc->key_count)
        clock_timer_mod(&pc->key_timer, clock_now_ns(&pc->vm->clock) + PC_KEY_INTERVAL_NS);
}

int pc_input_init(struct pc *pc)
{
    return clock_timer_init(&pc->vm->clock, &pc->key_timer, pc_key_tick, pc);
}

static int pc_queue_events(struct pc *pc, const struct keytype_event *ev, size_t n, char *err, size_t errlen)
{
    if (n > PC_KEY_QUEUE - pc->key_count) {
        snprintf(err, errlen, "Too many keys at once: %zu key events are still waiting to be typed; "
                 "send less, or wait.", (size_t)pc->key_count);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned tail = (pc->key_head + pc->key_count) % PC_KEY_QUEUE;
        pc->keys[tail] = (struct pc_key_event){ .code = ev[i].code, .pressed = ev[i].pressed };
        pc->key_count++;
    }
    if (n && !pc->key_timer.armed)
        clock_timer_mod(&pc->key_timer, clock_now_ns(&pc->vm->clock));
    return 0;
}

int pc_queue_key(struct pc *pc, unsigned code, bool pressed, char *err, size_t errlen)
{
    /* KEY_MAX in <linux/input-event-codes.h>; codes without a scancode are
     * dropped by the keyboard itself. */
    if (code > 0x2ff) {
        snprintf(err, errlen, "%u is not a Linux key code (KEY_*, at most 767).", code);
        return -1;
    }
    struct keytype_event ev = { .code = (uint16_t)code, .pressed = pressed };
    return pc_queue_events(pc, &ev, 1, err, errlen);
}

int pc_type_text(struct pc *pc, const char *text, char *err, size_t errlen)
{
    struct keytype_event *ev = NULL;
    size_t n = 0;
    if (keytype_text(text, &ev, &n, err, errlen) < 0)
        return -1;
    int rc = pc_queue_events(pc, ev, n, err, errlen);
    free(ev);
    return rc;
}

int pc_press_keys(struct pc *pc, const char *combo, char *err, size_t errlen)
{
    struct keytype_event *ev = NULL;
    size_t n = 0;
    if (keytype_combo(combo, &ev, &n, err, errlen) < 0)
        return -1;
    int rc = pc_queue_events(pc, ev, n, err, errlen);
    free(ev);
    return rc;
}

void pc_mouse_event(struct pc *pc, int dx, int dy, int dz, unsigned buttons)
{
    i8042_mouse_event(&pc->kbc, dx, dy, dz, buttons);
}

bool pc_pointer_absolute(struct pc *pc)
{
    return virtio_tablet_active(&pc->tablet);
}

int pc_pointer_event(struct pc *pc, unsigned x, unsigned y, int dz, unsigned buttons, char *err, size_t errlen)
{
    /* The screen as the mode draws it now (the shared display follows at
     * the next render): a client that never had the screen rendered, such
     * as hostelctl, still gets the right scale. */
    unsigned w, h;
    vga_screen_size(&pc->vga, &w, &h);
    if (!virtio_tablet_event(&pc->tablet, virtio_tablet_axis(x, w), virtio_tablet_axis(y, h), dz, buttons)) {
        snprintf(err, errlen, "The guest does not use the tablet (its virtio-input driver is not running); "
                 "send relative mouse motion instead.");
        return -1;
    }
    return 0;
}
