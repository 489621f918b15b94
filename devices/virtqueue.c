#include "virtqueue.h"

#include <stdio.h>
#include <string.h>

/* Ring layouts (VIRTIO 1.2, sections 2.7.5-2.7.8), all little-endian:
 *   descriptor table: size x { le64 addr; le32 len; le16 flags; le16 next; }
 *   available ring:   le16 flags; le16 idx; le16 ring[size]; (le16 used_event)
 *   used ring:        le16 flags; le16 idx; { le32 id; le32 len; } ring[size]; (le16 avail_event)
 * with the alignments of section 2.7: 16, 2 and 4 bytes. This host is
 * little-endian (x86), so the fields are read as they lie. */
#define DESC_SIZE 16u
#define AVAIL_SIZE(n) (4u + 2u * (n) + 2u)
#define USED_SIZE(n) (4u + 8u * (n) + 2u)

void virtq_reset(struct virtq *q)
{
    memset(q, 0, sizeof(*q));
}

static bool is_pow2(unsigned n)
{
    return n && !(n & (n - 1));
}

bool virtq_ready(const struct virtq *q, const struct guest_mem *mem)
{
    return q->enabled && is_pow2(q->size) && q->size <= VIRTQ_MAX_SIZE &&
           !(q->desc_gpa & 15) && !(q->avail_gpa & 1) && !(q->used_gpa & 3) &&
           guest_mem_ptr(mem, q->desc_gpa, (uint64_t)DESC_SIZE * q->size) &&
           guest_mem_ptr(mem, q->avail_gpa, AVAIL_SIZE(q->size)) &&
           guest_mem_ptr(mem, q->used_gpa, USED_SIZE(q->size));
}

/* The 16-bit ring field at gpa, read once (the driver writes it concurrently). */
static bool load16(const struct guest_mem *mem, uint64_t gpa, uint16_t *v)
{
    uint16_t *p = guest_mem_ptr(mem, gpa, 2);
    if (!p)
        return false;
    *v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
    return true;
}

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

int virtq_pop(struct virtq *q, const struct guest_mem *mem, struct virtq_elem *elem, char *err, size_t errlen)
{
    if (!virtq_ready(q, mem)) {
        snprintf(err, errlen, "the driver used a queue it has not set up");
        return -1;
    }
    uint16_t avail_idx;
    if (!load16(mem, q->avail_gpa + 2, &avail_idx)) {
        snprintf(err, errlen, "the available ring is outside RAM");
        return -1;
    }
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending == 0)
        return 0;
    if (pending > q->size) {
        snprintf(err, errlen, "the available ring's index ran %u entries ahead of a %u-entry queue", pending,
                 q->size);
        return -1;
    }
    uint16_t head;
    if (!load16(mem, q->avail_gpa + 4 + 2ull * (q->last_avail % q->size), &head)) {
        snprintf(err, errlen, "the available ring is outside RAM");
        return -1;
    }
    if (head >= q->size) {
        snprintf(err, errlen, "the available ring names descriptor %u of a %u-entry table", head, q->size);
        return -1;
    }
    elem->head = head;
    elem->n_out = elem->n_in = 0;
    elem->out_len = elem->in_len = 0;
    uint16_t i = head;
    /* A chain visits each descriptor at most once: anything longer loops. */
    for (unsigned count = 0;; count++) {
        if (count >= q->size) {
            snprintf(err, errlen, "descriptor chain from %u loops", head);
            return -1;
        }
        struct desc d;
        if (guest_mem_read(mem, q->desc_gpa + (uint64_t)DESC_SIZE * i, &d, sizeof(d)) < 0) {
            snprintf(err, errlen, "the descriptor table is outside RAM");
            return -1;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            snprintf(err, errlen, "descriptor %u is indirect, which was not negotiated", i);
            return -1;
        }
        bool in = d.flags & VIRTQ_DESC_F_WRITE;
        if (!in && elem->n_in) {
            snprintf(err, errlen, "descriptor %u is driver-written after device-writable ones", i);
            return -1;
        }
        if (d.len && !guest_mem_ptr(mem, d.addr, d.len)) {
            snprintf(err, errlen, "descriptor %u points outside RAM (0x%llx, %u bytes)", i,
                     (unsigned long long)d.addr, d.len);
            return -1;
        }
        unsigned *n = in ? &elem->n_in : &elem->n_out;
        if (*n >= VIRTQ_MAX_SEGS) {
            snprintf(err, errlen, "descriptor chain from %u has more than %u segments", head, VIRTQ_MAX_SEGS);
            return -1;
        }
        struct virtq_seg *seg = in ? &elem->in[*n] : &elem->out[*n];
        seg->gpa = d.addr;
        seg->len = d.len;
        (*n)++;
        if (in)
            elem->in_len += d.len;
        else
            elem->out_len += d.len;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= q->size) {
            snprintf(err, errlen, "descriptor %u chains to %u of a %u-entry table", i, d.next, q->size);
            return -1;
        }
        i = d.next;
    }
    q->last_avail++;
    return 1;
}

int virtq_push(struct virtq *q, const struct guest_mem *mem, uint16_t head, uint32_t written)
{
    if (!q->size)
        return -1;
    uint32_t entry[2] = { head, written };
    if (guest_mem_write(mem, q->used_gpa + 4 + 8ull * (q->used_idx % q->size), entry, sizeof(entry)) < 0)
        return -1;
    uint16_t *idx = guest_mem_ptr(mem, q->used_gpa + 2, 2);
    if (!idx)
        return -1;
    q->used_idx++;
    /* The entry is visible before the index that publishes it. */
    __atomic_store_n(idx, q->used_idx, __ATOMIC_RELEASE);
    return 0;
}

bool virtq_wants_interrupt(const struct virtq *q, const struct guest_mem *mem)
{
    uint16_t flags;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!load16(mem, q->avail_gpa, &flags))
        return true;
    return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static long elem_copy(const struct guest_mem *mem, const struct virtq_seg *segs, unsigned n, void *data,
                      uint64_t len, bool to_guest)
{
    uint64_t done = 0;
    for (unsigned s = 0; s < n && done < len; s++) {
        uint64_t k = segs[s].len < len - done ? segs[s].len : len - done;
        int rc = to_guest ? guest_mem_write(mem, segs[s].gpa, (const uint8_t *)data + done, k)
                          : guest_mem_read(mem, segs[s].gpa, (uint8_t *)data + done, k);
        if (rc < 0)
            return -1;
        done += k;
    }
    return (long)done;
}

long virtq_elem_fill(const struct guest_mem *mem, const struct virtq_elem *elem, const void *data, uint64_t len)
{
    return elem_copy(mem, elem->in, elem->n_in, (void *)data, len, true);
}

long virtq_elem_read(const struct guest_mem *mem, const struct virtq_elem *elem, void *data, uint64_t len)
{
    return elem_copy(mem, elem->out, elem->n_out, data, len, false);
}
