/* Virtio input device as a tablet: an absolute pointer with three buttons
 * and a wheel (Virtual I/O Device (VIRTIO) Version 1.2, section 5.8
 * "Input Device"), over the PCI transport of virtio_pci.h.
 *
 * The driver learns what the device is from its configuration space
 * (select/subsel queries for the name, ids, event bits and axis ranges) and
 * receives evdev events (le16 type, le16 code, le32 value) in the buffers it
 * offers on the event queue (queue 0). The status queue (queue 1) carries
 * events the driver sends, such as keyboard LEDs; a tablet has none to act
 * on, so their buffers are returned at once.
 *
 * The axes run from 0 to VIRTIO_TABLET_ABS_MAX over the whole screen,
 * whatever its size; the caller scales. Events that arrive while the driver
 * has no buffers wait in a small queue; when that is full a pointer update
 * is dropped whole, and once the queue has drained the latest position and
 * buttons follow as one more update, so the guest's pointer always ends
 * where the host's is (only wheel clicks are lost).
 */
#ifndef HOSTEL_VIRTIO_INPUT_H
#define HOSTEL_VIRTIO_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_pci.h"

#define VIRTIO_INPUT_DEVICE_TYPE 18
#define VIRTIO_TABLET_ABS_MAX 32767
#define VIRTIO_TABLET_NAME "Hostel Tablet"
#define VIRTIO_INPUT_PENDING 128
#define VIRTIO_INPUT_CFG_SIZE 136

/* Configuration selectors (section 5.8.2). */
enum {
    VIRTIO_INPUT_CFG_UNSET = 0x00,
    VIRTIO_INPUT_CFG_ID_NAME = 0x01,
    VIRTIO_INPUT_CFG_ID_SERIAL = 0x02,
    VIRTIO_INPUT_CFG_ID_DEVIDS = 0x03,
    VIRTIO_INPUT_CFG_PROP_BITS = 0x10,
    VIRTIO_INPUT_CFG_EV_BITS = 0x11,
    VIRTIO_INPUT_CFG_ABS_INFO = 0x12,
};

/* Buttons, as for MouseEvent: bit 0 left, 1 right, 2 middle. */
enum {
    VIRTIO_TABLET_LEFT = 1,
    VIRTIO_TABLET_RIGHT = 2,
    VIRTIO_TABLET_MIDDLE = 4,
};

struct virtio_input_event {
    uint16_t type, code;
    uint32_t value;
};

struct virtio_input {
    struct virtio_pci vp;
    uint8_t select, subsel;
    unsigned buttons;           /* as last sent to the driver */
    struct virtio_input_event pending[VIRTIO_INPUT_PENDING];
    unsigned head, count;
    unsigned long dropped;      /* pointer updates dropped for want of room */
    bool stale;                 /* an update was dropped: send the latest state */
    unsigned last_x, last_y, last_buttons;  /* the latest state asked for */
};

/* The tablet's own state as a device of the machine, registered after its
 * transport (&t->vp with virtio_pci_device_ops, whose reset also resets
 * the tablet); its PCI function is &t->vp.pci. */
extern const struct device_ops virtio_input_device_ops;

void virtio_tablet_init(struct virtio_input *t, struct bus *mmio, const struct guest_mem *mem, struct irq_line *intx);

/* Whether the guest's driver is using the tablet: only then do pointer
 * updates reach it. */
bool virtio_tablet_active(const struct virtio_input *t);

/* The axis value for pixel pos of a screen `pixels` wide (or high): the
 * centre of the pixel, so a guest that maps the axis back as value *
 * pixels / (max + 1) and rounds down (libinput, Windows) lands on the same
 * pixel, and so does one that maps with (pixels - 1) / max and rounds to
 * nearest. Positions beyond the screen give its last pixel. */
unsigned virtio_tablet_axis(unsigned pos, unsigned pixels);

/* Move the pointer to (x, y) (0..VIRTIO_TABLET_ABS_MAX, clamped), with
 * wheel clicks dz (positive away from the user) and the buttons held.
 * Returns false if the guest's driver is not using the tablet. */
bool virtio_tablet_event(struct virtio_input *t, unsigned x, unsigned y, int dz, unsigned buttons);

#endif
