/* Split virtqueues, the device's side (Virtual I/O Device (VIRTIO) Version
 * 1.2, section 2.7 "Split Virtqueues").
 *
 * The driver places buffers (chains of descriptors) in the available ring;
 * the device takes them in order (virtq_pop), reads or fills them, and hands
 * them back through the used ring (virtq_push). Everything the rings and
 * descriptors say is guest-controlled: every index is checked against the
 * queue size and every address against guest RAM, and a malformed chain is
 * reported as an error instead of being followed. This device side offers
 * neither indirect descriptors nor event indices, so a chain using either
 * is malformed.
 */
#ifndef HOSTEL_VIRTQUEUE_H
#define HOSTEL_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "memory.h"

/* The largest queue a device here offers, and the longest chain it takes. */
#define VIRTQ_MAX_SIZE 1024
#define VIRTQ_MAX_SEGS 64

/* Descriptor flags (section 2.7.5). */
enum {
    VIRTQ_DESC_F_NEXT = 1,
    VIRTQ_DESC_F_WRITE = 2,
    VIRTQ_DESC_F_INDIRECT = 4,
    VIRTQ_AVAIL_F_NO_INTERRUPT = 1,
};

struct virtq {
    /* Set by the driver through the transport. */
    uint16_t size;          /* a power of two, at most the device's maximum */
    bool enabled;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* The device's own position. */
    uint16_t last_avail;    /* next available-ring entry to take */
    uint16_t used_idx;      /* next used-ring entry to fill */
};

struct virtq_seg {
    uint64_t gpa;
    uint32_t len;
};

/* One buffer taken from the available ring: its driver-written (out) and
 * device-writable (in) segments, in chain order. */
struct virtq_elem {
    uint16_t head;
    unsigned n_out, n_in;
    struct virtq_seg out[VIRTQ_MAX_SEGS];
    struct virtq_seg in[VIRTQ_MAX_SEGS];
    uint64_t out_len, in_len;
};

/* Forget the queue's configuration and position (a device reset). */
void virtq_reset(struct virtq *q);

/* Whether the driver's configuration is usable: enabled, a valid size, and
 * all three areas inside guest RAM. */
bool virtq_ready(const struct virtq *q, const struct guest_mem *mem);

/* Take the next available buffer. Returns 1 with elem filled, 0 when the
 * driver has offered nothing new, or -1 with a sentence in err when the
 * rings or the chain are malformed (the queue is then unusable until the
 * driver resets the device). */
int virtq_pop(struct virtq *q, const struct guest_mem *mem, struct virtq_elem *elem, char *err, size_t errlen);

/* Return a buffer to the driver with `written` bytes filled in. Returns 0,
 * or -1 if the used ring is outside guest RAM. */
int virtq_push(struct virtq *q, const struct guest_mem *mem, uint16_t head, uint32_t written);

/* Whether the driver wants an interrupt for buffers just pushed (it may
 * suppress them with VIRTQ_AVAIL_F_NO_INTERRUPT). */
bool virtq_wants_interrupt(const struct virtq *q, const struct guest_mem *mem);

/* Copy into the element's device-writable segments / out of its
 * driver-written ones. Return the byte count copied (at most len, less when
 * the buffer is shorter), or -1 if a segment is outside guest RAM. */
long virtq_elem_fill(const struct guest_mem *mem, const struct virtq_elem *elem, const void *data, uint64_t len);
long virtq_elem_read(const struct guest_mem *mem, const struct virtq_elem *elem, void *data, uint64_t len);

#endif
