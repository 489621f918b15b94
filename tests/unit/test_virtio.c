/* Virtio 1.x over PCI with the input device as a tablet, tested as a guest
 * driver sees it: the test finds the register regions through the vendor
 * capabilities in PCI configuration space (VIRTIO 1.2, section 4.1.4),
 * programs BAR0 and the command register, negotiates (section 3.1.1), lays
 * out split virtqueues in guest RAM (section 2.7) and reads the evdev events
 * the device writes into the event queue's buffers (section 5.8.6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "irq.h"
#include "memory.h"
#include "pci_device.h"
#include "virtio_input.h"
#include "virtio_pci.h"
#include "vmstate.h"
#include "rng.h"

#define RAM_SIZE (4u << 20)
#define BAR_A 0xfebf0000u
#define BAR_B 0xfe004000u

/* The driver's own copy of the spec's layouts, so that the device's are
 * checked rather than reused. PCI capability: section 4.1.4. */
#define CAP_ID_VENDOR 0x09
#define CAP_VNDR 0
#define CAP_NEXT 1
#define CAP_LEN 2
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULT 16
enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4, CFG_PCI = 5 };

/* struct virtio_pci_common_cfg, section 4.1.4.3. */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX 0x10
#define C_NUMQ 0x12
#define C_STATUS 0x14
#define C_GENERATION 0x15
#define C_QSELECT 0x16
#define C_QSIZE 0x18
#define C_QMSIX 0x1a
#define C_QENABLE 0x1c
#define C_QNOTIFY_OFF 0x1e
#define C_QDESC 0x20
#define C_QAVAIL 0x28
#define C_QUSED 0x30

/* Device status (section 2.1) and the one feature bit (section 6). */
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define F_VERSION_1 (1ull << 32)

/* struct virtio_input_config, section 5.8.4: select, subsel, size, 5
 * reserved bytes, then the 128-byte union. */
#define I_SELECT 0
#define I_SUBSEL 1
#define I_SIZE 2
#define I_UNION 8
#define SEL_UNSET 0x00
#define SEL_ID_NAME 0x01
#define SEL_ID_DEVIDS 0x03
#define SEL_EV_BITS 0x11
#define SEL_ABS_INFO 0x12

/* Linux evdev codes (input-event-codes.h), what the events carry. */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_MSC 0x04
#define EV_LED 0x11
#define ABS_X 0x00
#define ABS_Y 0x01
#define ABS_Z 0x02
#define REL_WHEEL 0x08
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define BUS_VIRTUAL 0x06
#define TABLET_MAX 32767u

/* Split virtqueue layout, section 2.7: 16-byte descriptors, flags. */
#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4
#define AVAIL_NO_INTERRUPT 1

/* Where this driver puts its rings and buffers in guest RAM. */
#define RING_BASE(q) (0x10000u + (q) * 0x10000u)
#define DESC_GPA(q) RING_BASE(q)
#define AVAIL_GPA(q) (RING_BASE(q) + 0x2000u)
#define USED_GPA(q) (RING_BASE(q) + 0x3000u)
#define BUF_GPA(q, d) (0x100000u + (q) * 0x20000u + (d) * 0x40u)
#define BUF_FILL 0xee

struct drvq {
    uint16_t size, notify_off;
    uint64_t desc, avail, used;
    uint16_t avail_idx, last_used;
};

struct region {
    bool found;
    unsigned cap;           /* config-space offset of its capability */
    uint8_t bar;
    uint32_t offset, length;
};

struct ev {
    uint16_t type, code;
    uint32_t value;
};

struct fixture {
    struct guest_mem mem;
    struct bus *mmio;
    struct irq_line irq;
    int level;
    unsigned raises;
    struct virtio_input *t;
    /* The driver's view. */
    struct region reg[6];   /* by cfg_type */
    uint32_t notify_mult;
    uint64_t bar;
    uint64_t common, isr, devcfg, notify;
    struct drvq q[2];
};

/* ---- Plumbing ---- */

static void probe_set(void *opaque, unsigned n, int level)
{
    struct fixture *f = opaque;
    (void)n;
    if (level && !f->level)
        f->raises++;
    f->level = level;
}

static struct pci_device *pci(struct fixture *f)
{
    return &f->t->vp.pci;
}

static uint32_t cfg_read(struct fixture *f, unsigned reg, unsigned size)
{
    return pci_device_config_read(pci(f), reg, size);
}

static void cfg_write(struct fixture *f, unsigned reg, uint32_t v, unsigned size)
{
    pci_device_config_write(pci(f), reg, v, size);
}

static uint64_t mmio_read(struct fixture *f, uint64_t gpa, unsigned size)
{
    uint64_t v = 0;
    bus_read(f->mmio, gpa, &v, size);
    return v;
}

static void mmio_write(struct fixture *f, uint64_t gpa, uint64_t v, unsigned size)
{
    bus_write(f->mmio, gpa, &v, size);
}

static uint8_t common_r8(struct fixture *f, unsigned off)
{
    return (uint8_t)mmio_read(f, f->common + off, 1);
}

static uint16_t common_r16(struct fixture *f, unsigned off)
{
    return (uint16_t)mmio_read(f, f->common + off, 2);
}

static uint32_t common_r32(struct fixture *f, unsigned off)
{
    return (uint32_t)mmio_read(f, f->common + off, 4);
}

static void common_w8(struct fixture *f, unsigned off, uint8_t v)
{
    mmio_write(f, f->common + off, v, 1);
}

static void common_w16(struct fixture *f, unsigned off, uint16_t v)
{
    mmio_write(f, f->common + off, v, 2);
}

static void common_w32(struct fixture *f, unsigned off, uint32_t v)
{
    mmio_write(f, f->common + off, v, 4);
}

static uint8_t status(struct fixture *f)
{
    return common_r8(f, C_STATUS);
}

static uint8_t read_isr(struct fixture *f)
{
    return (uint8_t)mmio_read(f, f->isr, 1);
}

static void ram_write(struct fixture *f, uint64_t gpa, const void *p, size_t len)
{
    assert_int_equal(guest_mem_write(&f->mem, gpa, p, len), 0);
}

static void ram_w16(struct fixture *f, uint64_t gpa, uint16_t v)
{
    ram_write(f, gpa, &v, 2);
}

static uint16_t ram_r16(struct fixture *f, uint64_t gpa)
{
    uint16_t v;
    assert_int_equal(guest_mem_read(&f->mem, gpa, &v, 2), 0);
    return v;
}

static uint32_t ram_r32(struct fixture *f, uint64_t gpa)
{
    uint32_t v;
    assert_int_equal(guest_mem_read(&f->mem, gpa, &v, 4), 0);
    return v;
}

/* ---- The driver: discovery (section 4.1.4) ---- */

/* Walk the capability list as a driver does, keeping the first capability
 * of each virtio type (section 4.1.4.1: the driver uses the first it can). */
static void find_caps(struct fixture *f)
{
    memset(f->reg, 0, sizeof(f->reg));
    f->notify_mult = 0;
    assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    unsigned at = cfg_read(f, PCI_CAPABILITY_LIST, 1) & 0xfc;
    for (unsigned hops = 0; at; hops++) {
        assert_true(hops < 48);                 /* no cycles */
        assert_true(at >= 0x40 && at <= 0xfc);
        if (cfg_read(f, at + CAP_VNDR, 1) == CAP_ID_VENDOR) {
            unsigned type = cfg_read(f, at + CAP_CFG_TYPE, 1);
            unsigned len = cfg_read(f, at + CAP_LEN, 1);
            assert_true(len >= 16);
            if (type < 6 && !f->reg[type].found) {
                struct region *r = &f->reg[type];
                r->found = true;
                r->cap = at;
                r->bar = (uint8_t)cfg_read(f, at + CAP_BAR, 1);
                r->offset = cfg_read(f, at + CAP_OFFSET, 4);
                r->length = cfg_read(f, at + CAP_LENGTH, 4);
                if (type == CFG_NOTIFY) {
                    assert_true(len >= 20);
                    f->notify_mult = cfg_read(f, at + CAP_NOTIFY_MULT, 4);
                }
            }
        }
        at = cfg_read(f, at + CAP_NEXT, 1) & 0xfc;
    }
}

/* Size BAR0, place it at base and turn on memory decode and bus mastering
 * (PCI 3.0, sections 6.2.2 and 6.2.5.1). */
static void program_bar(struct fixture *f, uint32_t base)
{
    cfg_write(f, PCI_COMMAND, 0, 2);
    cfg_write(f, PCI_BASE_ADDRESS_0, 0xffffffffu, 4);
    uint32_t sz = cfg_read(f, PCI_BASE_ADDRESS_0, 4);
    assert_int_equal(sz & 1, 0);                    /* memory */
    uint32_t size = ~(sz & ~0xfu) + 1;
    assert_true(size >= 0x1000 && (size & (size - 1)) == 0);
    assert_int_equal(base & (size - 1), 0);
    cfg_write(f, PCI_BASE_ADDRESS_0, base, 4);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    f->bar = base;
    for (unsigned t = CFG_COMMON; t <= CFG_DEVICE; t++) {
        assert_true(f->reg[t].found);
        assert_int_equal(f->reg[t].bar, 0);
        assert_true((uint64_t)f->reg[t].offset + f->reg[t].length <= size);
    }
    f->common = base + f->reg[CFG_COMMON].offset;
    f->isr = base + f->reg[CFG_ISR].offset;
    f->devcfg = base + f->reg[CFG_DEVICE].offset;
    f->notify = base + f->reg[CFG_NOTIFY].offset;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[200];
    assert_int_equal(guest_mem_init(&f->mem, RAM_SIZE, err, sizeof(err)), 0);
    f->mmio = bus_new("mmio", 1ull << 32);
    irq_line_init(&f->irq, probe_set, f, 11);
    f->t = calloc(1, sizeof(*f->t));
    virtio_tablet_init(f->t, f->mmio, &f->mem, &f->irq);
    find_caps(f);
    program_bar(f, BAR_A);
    *state = f;
    return 0;
}

/* The machine's reset: its devices in the board's order. */
static void machine_reset(struct fixture *f)
{
    virtio_pci_device_ops.reset(&f->t->vp);
    virtio_input_device_ops.reset(f->t);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    virtio_pci_device_ops.finalize(&f->t->vp);
    free(f->t);
    bus_free(f->mmio);
    guest_mem_destroy(&f->mem);
    free(f);
    return 0;
}

/* ---- The driver: initialisation (section 3.1.1) ---- */

static void driver_reset(struct fixture *f)
{
    common_w8(f, C_STATUS, 0);
    assert_int_equal(status(f), 0);
}

static uint64_t device_features(struct fixture *f)
{
    common_w32(f, C_DFSELECT, 0);
    uint64_t lo = common_r32(f, C_DF);
    common_w32(f, C_DFSELECT, 1);
    uint64_t hi = common_r32(f, C_DF);
    return hi << 32 | lo;
}

/* Reset, acknowledge, offer `accept` as the driver's features and ask for
 * FEATURES_OK; returns the status read back. */
static uint8_t negotiate(struct fixture *f, uint64_t accept)
{
    driver_reset(f);
    common_w8(f, C_STATUS, S_ACK);
    common_w8(f, C_STATUS, S_ACK | S_DRIVER);
    assert_int_equal(status(f), S_ACK | S_DRIVER);
    (void)device_features(f);
    common_w32(f, C_GFSELECT, 0);
    common_w32(f, C_GF, (uint32_t)accept);
    common_w32(f, C_GFSELECT, 1);
    common_w32(f, C_GF, (uint32_t)(accept >> 32));
    common_w8(f, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    return status(f);
}

/* Set queue q up with `size` entries at the given ring addresses. */
static void setup_queue_at(struct fixture *f, unsigned q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
    common_w16(f, C_QSELECT, (uint16_t)q);
    common_w16(f, C_QSIZE, size);
    assert_int_equal(common_r16(f, C_QSIZE), size);
    common_w32(f, C_QDESC, (uint32_t)desc);
    common_w32(f, C_QDESC + 4, (uint32_t)(desc >> 32));
    common_w32(f, C_QAVAIL, (uint32_t)avail);
    common_w32(f, C_QAVAIL + 4, (uint32_t)(avail >> 32));
    common_w32(f, C_QUSED, (uint32_t)used);
    common_w32(f, C_QUSED + 4, (uint32_t)(used >> 32));
    struct drvq *d = &f->q[q];
    memset(d, 0, sizeof(*d));
    d->size = size;
    d->desc = desc;
    d->avail = avail;
    d->used = used;
    d->notify_off = common_r16(f, C_QNOTIFY_OFF);
    /* Zero the rings where they are in RAM. */
    uint8_t *p;
    if ((p = guest_mem_ptr(&f->mem, desc, 16u * size)))
        memset(p, 0, 16u * size);
    if ((p = guest_mem_ptr(&f->mem, avail, 6u + 2u * size)))
        memset(p, 0, 6u + 2u * size);
    if ((p = guest_mem_ptr(&f->mem, used, 6u + 8u * size)))
        memset(p, 0, 6u + 8u * size);
    common_w16(f, C_QENABLE, 1);
    assert_int_equal(common_r16(f, C_QENABLE), 1);
}

static void setup_queue(struct fixture *f, unsigned q, uint16_t size)
{
    setup_queue_at(f, q, size, DESC_GPA(q), AVAIL_GPA(q), USED_GPA(q));
}

static void driver_ok(struct fixture *f)
{
    common_w8(f, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* The whole sequence with both queues of `size` entries and no buffers. */
static void driver_start(struct fixture *f, uint16_t size)
{
    assert_true(device_features(f) & F_VERSION_1);
    assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
    setup_queue(f, 0, size);
    setup_queue(f, 1, size);
    driver_ok(f);
    assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    assert_true(virtio_tablet_active(f->t));
}

/* Write descriptor d of queue q. */
static void put_desc(struct fixture *f, unsigned q, uint16_t d, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t raw[16];
    memcpy(raw, &addr, 8);
    memcpy(raw + 8, &len, 4);
    memcpy(raw + 12, &flags, 2);
    memcpy(raw + 14, &next, 2);
    ram_write(f, f->q[q].desc + 16u * d, raw, 16);
}

/* Publish head d in the available ring. */
static void publish(struct fixture *f, unsigned q, uint16_t d)
{
    struct drvq *dq = &f->q[q];
    ram_w16(f, dq->avail + 4 + 2u * (dq->avail_idx % dq->size), d);
    dq->avail_idx++;
    ram_w16(f, dq->avail + 2, dq->avail_idx);
}

/* Offer one single-descriptor buffer of len bytes; the descriptor index
 * follows the available index, as buffers come back in order here. */
static void add_buf(struct fixture *f, unsigned q, uint32_t len, uint16_t flags)
{
    struct drvq *dq = &f->q[q];
    uint16_t d = dq->avail_idx % dq->size;
    uint8_t *p = guest_mem_ptr(&f->mem, BUF_GPA(q, d), 0x40);
    memset(p, BUF_FILL, 0x40);
    put_desc(f, q, d, BUF_GPA(q, d), len, flags, 0);
    publish(f, q, d);
}

static void add_event_bufs(struct fixture *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        add_buf(f, 0, 8, D_WRITE);
}

static void kick(struct fixture *f, unsigned q)
{
    mmio_write(f, f->notify + (uint64_t)f->q[q].notify_off * f->notify_mult, q, 2);
}

static void set_avail_flags(struct fixture *f, unsigned q, uint16_t flags)
{
    ram_w16(f, f->q[q].avail, flags);
}

static uint16_t used_idx(struct fixture *f, unsigned q)
{
    return ram_r16(f, f->q[q].used + 2);
}

/* Take what the device returned on the event queue (each buffer must hold
 * exactly one 8-byte event) and, if recycle, offer the buffers again. */
static unsigned collect(struct fixture *f, struct ev *out, unsigned max, bool recycle)
{
    struct drvq *dq = &f->q[0];
    unsigned n = 0;
    uint16_t idx = used_idx(f, 0);
    while (dq->last_used != idx) {
        uint64_t e = dq->used + 4 + 8u * (dq->last_used % dq->size);
        uint32_t id = ram_r32(f, e), len = ram_r32(f, e + 4);
        assert_true(id < dq->size);
        assert_int_equal(len, 8);
        uint8_t raw[8];
        assert_int_equal(guest_mem_read(&f->mem, BUF_GPA(0, id), raw, 8), 0);
        assert_true(n < max);
        memcpy(&out[n].type, raw, 2);
        memcpy(&out[n].code, raw + 2, 2);
        memcpy(&out[n].value, raw + 4, 4);
        n++;
        dq->last_used++;
        if (recycle)
            add_buf(f, 0, 8, D_WRITE);
    }
    if (recycle && n)
        kick(f, 0);
    return n;
}

/* What a tablet update should look like as evdev events (section 5.8.6
 * carries them as the Linux input layer defines them): absolute X and Y,
 * a key event per button that changed, the wheel if it turned, SYN_REPORT. */
static unsigned model(struct ev *out, unsigned x, unsigned y, int dz, unsigned buttons, unsigned prev)
{
    static const uint16_t codes[3] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE };
    unsigned n = 0;
    out[n++] = (struct ev){ EV_ABS, ABS_X, x > TABLET_MAX ? TABLET_MAX : x };
    out[n++] = (struct ev){ EV_ABS, ABS_Y, y > TABLET_MAX ? TABLET_MAX : y };
    for (unsigned b = 0; b < 3; b++)
        if (((buttons ^ prev) >> b) & 1)
            out[n++] = (struct ev){ EV_KEY, codes[b], (buttons >> b) & 1 };
    if (dz)
        out[n++] = (struct ev){ EV_REL, REL_WHEEL, (uint32_t)dz };
    out[n++] = (struct ev){ EV_SYN, 0, 0 };
    return n;
}

static void assert_events(const struct ev *got, unsigned ngot, const struct ev *want, unsigned nwant)
{
    assert_int_equal(ngot, nwant);
    for (unsigned i = 0; i < nwant; i++) {
        if (got[i].type != want[i].type || got[i].code != want[i].code || got[i].value != want[i].value)
            fail_msg("event %u: got (%u, 0x%x, %u), want (%u, 0x%x, %u)", i, got[i].type, got[i].code,
                     got[i].value, want[i].type, want[i].code, want[i].value);
    }
}

/* Send an update with enough buffers offered and check what arrives;
 * returns the event count. */
static unsigned send_expect(struct fixture *f, unsigned x, unsigned y, int dz, unsigned buttons, unsigned prev)
{
    struct ev want[8], got[16];
    unsigned nwant = model(want, x, y, dz, buttons, prev);
    assert_true(virtio_tablet_event(f->t, x, y, dz, buttons));
    unsigned ngot = collect(f, got, 16, true);
    assert_events(got, ngot, want, nwant);
    return nwant;
}

/* ---- Identity and layout ---- */

static void test_identity(void **state)
{
    struct fixture *f = *state;
    /* Section 4.1.2: vendor 1af4, device 1040 + 18 (input), revision 1. */
    assert_int_equal(cfg_read(f, PCI_VENDOR_ID, 2), 0x1af4);
    assert_int_equal(cfg_read(f, PCI_DEVICE_ID, 2), 0x1040 + 18);
    assert_int_equal(cfg_read(f, PCI_REVISION_ID, 1), 1);
    assert_int_equal(cfg_read(f, PCI_SUBSYSTEM_ID, 2) >= 0x40, 1);
    assert_int_equal(cfg_read(f, PCI_CLASS_DEVICE + 1, 1), 0x09);     /* input device controller */
    assert_int_equal(cfg_read(f, PCI_HEADER_TYPE, 1) & 0x7f, 0);
    assert_int_equal(cfg_read(f, PCI_INTERRUPT_PIN, 1), 1);          /* INTA# */
    /* Interrupt line is the firmware's scratch register. */
    cfg_write(f, PCI_INTERRUPT_LINE, 11, 1);
    assert_int_equal(cfg_read(f, PCI_INTERRUPT_LINE, 1), 11);
    /* The capabilities the driver needs, all in BAR0 (section 4.1.4). */
    assert_true(f->reg[CFG_COMMON].found);
    assert_true(f->reg[CFG_ISR].found);
    assert_true(f->reg[CFG_DEVICE].found);
    assert_true(f->reg[CFG_NOTIFY].found);
    assert_true(f->reg[CFG_COMMON].length >= 0x38);
    assert_true(f->reg[CFG_ISR].length >= 1);
    assert_true(f->reg[CFG_DEVICE].length >= I_UNION + 128);
    /* Section 4.1.4.4: an even power of two (or 0); each queue's notify
     * address lies inside the notify region. */
    uint32_t m = f->notify_mult;
    assert_true(m == 0 || ((m & (m - 1)) == 0 && (m & 1) == 0));
    assert_int_equal(common_r16(f, C_NUMQ), 2);
    for (uint16_t q = 0; q < 2; q++) {
        common_w16(f, C_QSELECT, q);
        uint64_t off = (uint64_t)common_r16(f, C_QNOTIFY_OFF) * m;
        assert_true(off + 2 <= f->reg[CFG_NOTIFY].length);
    }
    /* Offsets 4-byte aligned (section 4.1.4.3 ff.), regions not overlapping. */
    for (unsigned a = CFG_COMMON; a <= CFG_DEVICE; a++) {
        assert_int_equal(f->reg[a].offset & 3, 0);
        assert_int_equal(f->reg[a].cap & 3, 0);
        for (unsigned b = a + 1; b <= CFG_DEVICE; b++) {
            const struct region *ra = &f->reg[a], *rb = &f->reg[b];
            assert_true(ra->offset + ra->length <= rb->offset || rb->offset + rb->length <= ra->offset);
        }
    }
    /* The layout virtio_pci.h documents. */
    assert_int_equal(f->reg[CFG_COMMON].offset, VIRTIO_PCI_COMMON);
    assert_int_equal(f->reg[CFG_ISR].offset, VIRTIO_PCI_ISR);
    assert_int_equal(f->reg[CFG_DEVICE].offset, VIRTIO_PCI_DEVICE_CFG);
    assert_int_equal(f->reg[CFG_NOTIFY].offset, VIRTIO_PCI_NOTIFY);
    assert_int_equal(m, VIRTIO_PCI_NOTIFY_MULTIPLIER);
    assert_int_equal(f->reg[CFG_DEVICE].length, VIRTIO_INPUT_CFG_SIZE);
    /* BAR0: 16 KiB, 32-bit, non-prefetchable memory. */
    cfg_write(f, PCI_BASE_ADDRESS_0, 0xffffffffu, 4);
    assert_int_equal(cfg_read(f, PCI_BASE_ADDRESS_0, 4), (uint32_t)~(VIRTIO_PCI_BAR_SIZE - 1));
    cfg_write(f, PCI_BASE_ADDRESS_0, BAR_A, 4);
    for (unsigned bar = 1; bar < 6; bar++) {
        cfg_write(f, PCI_BASE_ADDRESS_0 + 4 * bar, 0xffffffffu, 4);
        assert_int_equal(cfg_read(f, PCI_BASE_ADDRESS_0 + 4 * bar, 4), 0);
    }
    /* Without MSI-X, the vectors read as NO_VECTOR (section 4.1.4.3). */
    assert_int_equal(common_r16(f, C_MSIX), 0xffff);
    common_w16(f, C_QSELECT, 0);
    assert_int_equal(common_r16(f, C_QMSIX), 0xffff);
    assert_int_equal(status(f), 0);
    assert_false(virtio_tablet_active(f->t));
    assert_false(virtio_tablet_event(f->t, 1, 1, 0, 0));
}

/* ---- Device configuration (section 5.8.4) ---- */

static unsigned input_query(struct fixture *f, uint8_t select, uint8_t subsel, uint8_t u[128])
{
    mmio_write(f, f->devcfg + I_SELECT, select, 1);
    mmio_write(f, f->devcfg + I_SUBSEL, subsel, 1);
    assert_int_equal(mmio_read(f, f->devcfg + I_SELECT, 1), select);
    assert_int_equal(mmio_read(f, f->devcfg + I_SUBSEL, 1), subsel);
    /* Read the union with dword accesses, as Linux's virtio_cread does for
     * 32-bit fields, and check byte reads agree. */
    for (unsigned i = 0; i < 128; i += 4) {
        uint32_t v = (uint32_t)mmio_read(f, f->devcfg + I_UNION + i, 4);
        memcpy(u + i, &v, 4);
        assert_int_equal(mmio_read(f, f->devcfg + I_UNION + i + 1, 1), u[i + 1]);
    }
    unsigned size = (unsigned)mmio_read(f, f->devcfg + I_SIZE, 1);
    assert_true(size <= 128);
    return size;
}

/* The bitmap as it should be: exactly these bits set within the valid bytes. */
static void assert_bits(const uint8_t *u, unsigned size, const unsigned *bits, unsigned nbits)
{
    uint8_t want[128] = { 0 };
    unsigned need = 0;
    for (unsigned i = 0; i < nbits; i++) {
        want[bits[i] / 8] |= (uint8_t)(1u << (bits[i] % 8));
        if (bits[i] / 8 + 1 > need)
            need = bits[i] / 8 + 1;
    }
    assert_true(size >= need);
    assert_memory_equal(u, want, size);
}

static void test_config_queries(void **state)
{
    struct fixture *f = *state;
    uint8_t u[128];
    unsigned size = input_query(f, SEL_ID_NAME, 0, u);
    assert_int_equal(size, strlen("Hostel Tablet"));
    assert_memory_equal(u, "Hostel Tablet", size);

    /* virtio_input_devids: le16 bustype, vendor, product, version. */
    size = input_query(f, SEL_ID_DEVIDS, 0, u);
    assert_int_equal(size, 8);
    uint16_t ids[4];
    memcpy(ids, u, 8);
    assert_int_equal(ids[0], BUS_VIRTUAL);
    assert_int_not_equal(ids[1], 0);
    assert_int_not_equal(ids[2], 0);

    static const unsigned keys[] = { BTN_LEFT, BTN_RIGHT, BTN_MIDDLE };
    static const unsigned rels[] = { REL_WHEEL };
    static const unsigned abss[] = { ABS_X, ABS_Y };
    size = input_query(f, SEL_EV_BITS, EV_KEY, u);
    assert_bits(u, size, keys, 3);
    size = input_query(f, SEL_EV_BITS, EV_REL, u);
    assert_bits(u, size, rels, 1);
    size = input_query(f, SEL_EV_BITS, EV_ABS, u);
    assert_bits(u, size, abss, 2);
    assert_int_equal(input_query(f, SEL_EV_BITS, EV_MSC, u), 0);
    assert_int_equal(input_query(f, SEL_EV_BITS, EV_LED, u), 0);
    assert_int_equal(input_query(f, SEL_EV_BITS, 0xff, u), 0);

    /* virtio_input_absinfo: le32 min, max, fuzz, flat, res. */
    for (uint8_t axis = ABS_X; axis <= ABS_Y; axis++) {
        size = input_query(f, SEL_ABS_INFO, axis, u);
        assert_true(size >= 8 && size <= 20);
        uint32_t info[5];
        memcpy(info, u, 20);
        assert_int_equal(info[0], 0);
        assert_int_equal(info[1], TABLET_MAX);
    }
    assert_int_equal(input_query(f, SEL_ABS_INFO, ABS_Z, u), 0);
    assert_int_equal(input_query(f, SEL_ABS_INFO, 0x3f, u), 0);

    /* Unknown or empty selectors answer size 0. */
    static const uint8_t unknown[] = { SEL_UNSET, 0x04, 0x0f, 0x13, 0x20, 0x7f, 0xff };
    for (unsigned i = 0; i < sizeof(unknown); i++)
        for (unsigned sub = 0; sub < 3; sub++)
            assert_int_equal(input_query(f, unknown[i], (uint8_t)sub, u), 0);
    assert_int_equal(input_query(f, SEL_ID_NAME, 1, u), 0);
    assert_int_equal(input_query(f, SEL_ID_DEVIDS, 1, u), 0);

    /* The size byte and the union are the device's: writes do nothing. */
    input_query(f, SEL_ID_NAME, 0, u);
    mmio_write(f, f->devcfg + I_SIZE, 0x7f, 1);
    mmio_write(f, f->devcfg + I_UNION, 0x41414141, 4);
    assert_int_equal(input_query(f, SEL_ID_NAME, 0, u), strlen("Hostel Tablet"));
    assert_memory_equal(u, "Hostel", 6);
    /* A 2-byte write sets select and subsel together. */
    mmio_write(f, f->devcfg + I_SELECT, SEL_EV_BITS | EV_REL << 8, 2);
    assert_int_equal(mmio_read(f, f->devcfg + I_SIZE, 1), input_query(f, SEL_EV_BITS, EV_REL, u));
    /* Beyond the configuration and straddling its end: no crash. */
    (void)mmio_read(f, f->devcfg + f->reg[CFG_DEVICE].length, 4);
    (void)mmio_read(f, f->devcfg + f->reg[CFG_DEVICE].length - 2, 4);
    mmio_write(f, f->devcfg + f->reg[CFG_DEVICE].length - 1, ~0ull, 8);
}

/* ---- Feature negotiation (sections 2.2, 3.1.1) ---- */

static void test_features(void **state)
{
    struct fixture *f = *state;
    common_w16(f, C_QSELECT, 0);
    uint16_t max = common_r16(f, C_QSIZE);
    uint64_t offered = device_features(f);
    assert_true(offered & F_VERSION_1);
    common_w32(f, C_DFSELECT, 2);
    assert_int_equal(common_r32(f, C_DF), 0);

    /* No VERSION_1: a legacy-style driver is refused. */
    assert_int_equal(negotiate(f, 0) & S_FEATURES_OK, 0);
    /* A bit the device did not offer, low and high. */
    unsigned bit = 0;
    while (bit < 64 && (offered >> bit) & 1)
        bit++;
    assert_true(bit < 32);
    assert_int_equal(negotiate(f, F_VERSION_1 | 1ull << bit) & S_FEATURES_OK, 0);
    assert_int_equal(negotiate(f, F_VERSION_1 | 1ull << 63) & S_FEATURES_OK, 0);

    /* DRIVER_OK after a refused FEATURES_OK does not activate the device. */
    assert_int_equal(negotiate(f, 0) & S_FEATURES_OK, 0);
    setup_queue(f, 0, 8);
    add_event_bufs(f, 8);
    common_w8(f, C_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
    assert_false(virtio_tablet_active(f->t));
    assert_false(virtio_tablet_event(f->t, 5, 5, 0, 0));
    assert_int_equal(used_idx(f, 0), 0);
    /* Nor does writing FEATURES_OK and DRIVER_OK at once with bad features. */
    common_w8(f, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    assert_false(virtio_tablet_active(f->t));
    assert_int_equal(used_idx(f, 0), 0);
    assert_int_equal(f->level, 0);

    /* The accepted features read back; after FEATURES_OK they are frozen. */
    assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
    common_w32(f, C_GFSELECT, 1);
    assert_int_equal(common_r32(f, C_GF), 1);
    common_w32(f, C_GF, 0);
    assert_int_equal(common_r32(f, C_GF), 1);
    common_w32(f, C_GFSELECT, 0);
    assert_int_equal(common_r32(f, C_GF), 0);
    setup_queue(f, 0, 8);
    setup_queue(f, 1, 8);
    driver_ok(f);
    assert_true(virtio_tablet_active(f->t));
    /* A reset puts everything back. */
    driver_reset(f);
    assert_false(virtio_tablet_active(f->t));
    common_w32(f, C_GFSELECT, 1);
    assert_int_equal(common_r32(f, C_GF), 0);
    common_w16(f, C_QSELECT, 0);
    assert_int_equal(common_r16(f, C_QENABLE), 0);
    assert_int_equal(common_r16(f, C_QSIZE), max);
}

/* ---- Events (section 5.8.6.1) ---- */

static void test_events(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    add_event_bufs(f, 16);
    kick(f, 0);
    assert_int_equal(used_idx(f, 0), 0);
    assert_int_equal(f->level, 0);

    struct ev got[16], want[8];
    assert_true(virtio_tablet_event(f->t, 100, 200, 0, 0));
    assert_int_equal(used_idx(f, 0), 3);
    /* Each used element names its buffer and says 8 bytes were written;
     * the buffers hold ABS_X, ABS_Y, SYN_REPORT. */
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(ram_r32(f, f->q[0].used + 4 + 8 * i), i);
        assert_int_equal(ram_r32(f, f->q[0].used + 8 + 8 * i), 8);
    }
    assert_int_equal(*(uint8_t *)guest_mem_ptr(&f->mem, BUF_GPA(0, 3), 1), BUF_FILL);
    assert_events(got, collect(f, got, 16, false), want, model(want, 100, 200, 0, 0, 0));
    /* ISR bit 0 and INTx; reading the ISR acknowledges both. */
    assert_int_equal(f->level, 1);
    assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    assert_int_equal(read_isr(f), 1);
    assert_int_equal(f->level, 0);
    assert_false(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    assert_int_equal(read_isr(f), 0);

    /* Press left: one key event; hold it and turn the wheel: none. */
    unsigned total = 3;
    total += send_expect(f, 0, TABLET_MAX, 0, 1, 0);
    total += send_expect(f, 7, 8, 1, 1, 1);
    /* Release left, press right and middle, wheel towards the user. */
    total += send_expect(f, 9, 10, -2, 6, 1);
    /* Out-of-range coordinates are clamped; unknown button bits ignored. */
    total += send_expect(f, 100000, 40000, 0, 6 | 8 | 0x100, 6);
    total += send_expect(f, 1, 2, 0, 0, 6);
    assert_int_equal(f->t->dropped, 0);
    assert_int_equal(f->level, 1);
    assert_int_equal(read_isr(f), 1);
    assert_int_equal(f->level, 0);
    assert_int_equal(f->raises, 2);

    /* Used index wraps around the 16-bit counter. */
    for (unsigned i = 0; i < 30000; i++)
        total += send_expect(f, i, i, 0, i & 1, i ? (i - 1) & 1 : 0);
    assert_true(total > 0x10000);
    assert_int_equal(f->q[0].last_used, total & 0xffff);
    assert_int_equal(used_idx(f, 0), total & 0xffff);
    assert_int_equal(f->t->dropped, 0);
}

static void test_no_interrupt(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    add_event_bufs(f, 16);
    set_avail_flags(f, 0, AVAIL_NO_INTERRUPT);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    assert_int_equal(used_idx(f, 0), 3);
    assert_int_equal(f->level, 0);
    assert_int_equal(f->raises, 0);
    assert_int_equal(read_isr(f), 0);
    set_avail_flags(f, 0, 0);
    assert_true(virtio_tablet_event(f->t, 3, 4, 0, 0));
    assert_int_equal(used_idx(f, 0), 6);
    assert_int_equal(f->level, 1);
    assert_int_equal(read_isr(f), 1);
    assert_int_equal(f->level, 0);
}

static void test_intx_disable(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    add_event_bufs(f, 16);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    assert_int_equal(used_idx(f, 0), 3);
    assert_int_equal(f->level, 0);
    /* Pending all the same (PCI 3.0, 6.2.3 interrupt status). */
    assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    /* Unmasking shows the pending interrupt. */
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    assert_int_equal(f->level, 1);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
    assert_int_equal(f->level, 0);
    assert_int_equal(read_isr(f), 1);
    assert_false(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    assert_int_equal(f->level, 0);
}

static void test_events_wait_for_buffers(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    struct ev got[16], want[16];
    unsigned nwant = model(want, 11, 22, 3, 1, 0);
    assert_true(virtio_tablet_event(f->t, 11, 22, 3, 1));
    assert_int_equal(used_idx(f, 0), 0);
    assert_int_equal(f->level, 0);
    /* Buffers without a notification are not looked at until the next
     * event or kick; with one, the device fills what it can. */
    add_event_bufs(f, 2);
    kick(f, 0);
    assert_int_equal(used_idx(f, 0), 2);
    assert_int_equal(f->level, 1);
    assert_int_equal(read_isr(f), 1);
    unsigned n = collect(f, got, 16, false);
    add_event_bufs(f, 8);
    kick(f, 0);
    n += collect(f, got + n, 16 - n, false);
    assert_events(got, n, want, nwant);
    /* A kick with nothing pending returns nothing. */
    kick(f, 0);
    assert_int_equal(used_idx(f, 0), nwant);
    /* Queued events keep their order behind the new ones. */
    assert_true(virtio_tablet_event(f->t, 1, 1, 0, 1));
    assert_int_equal(used_idx(f, 0), nwant + 3);
    assert_true(virtio_tablet_event(f->t, 2, 2, 0, 0));
    assert_int_equal(used_idx(f, 0), nwant + 5);   /* 2 buffers left: 2 of 4 events wait */
    n = collect(f, got, 16, false);
    add_event_bufs(f, 8);
    kick(f, 0);
    n += collect(f, got + n, 16 - n, false);
    unsigned m = model(want, 1, 1, 0, 1, 1);
    m += model(want + m, 2, 2, 0, 0, 1);
    assert_events(got, n, want, m);
}

static void test_pending_full(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 64);
    /* No buffers: updates of three events each pile up until the queue of
     * VIRTIO_INPUT_PENDING events is full; then whole updates are dropped. */
    unsigned fit = VIRTIO_INPUT_PENDING / 3, sent = fit + 10;
    for (unsigned i = 0; i < sent; i++)
        assert_true(virtio_tablet_event(f->t, i, 2 * i, 0, 0));
    assert_int_equal(f->t->dropped, sent - fit);
    /* A press that does not fit is dropped too, and remembered. */
    assert_true(virtio_tablet_event(f->t, 999, 999, 0, VIRTIO_TABLET_LEFT));
    assert_int_equal(f->t->dropped, sent - fit + 1);
    assert_int_equal(used_idx(f, 0), 0);

    /* Offer buffers: the kept updates arrive whole and in order, then the
     * latest state as one more update: the position and the press that
     * were dropped. */
    static struct ev got[3 * 64 + 8], want[3 * 64 + 8];
    unsigned n = 0;
    add_event_bufs(f, 64);
    kick(f, 0);
    for (unsigned round = 0; round < 10 && n < 3 * fit + 4; round++)
        n += collect(f, got + n, 3 * 64 + 8 - n, true);
    unsigned m = 0;
    for (unsigned i = 0; i < fit; i++)
        m += model(want + m, i, 2 * i, 0, 0, 0);
    m += model(want + m, 999, 999, 0, VIRTIO_TABLET_LEFT, 0);
    assert_events(got, n, want, m);
    assert_false(f->t->stale);
    /* From there on as usual: the release. */
    send_expect(f, 5, 5, 0, 0, VIRTIO_TABLET_LEFT);
}

/* Section 5.8.6.2: the status queue's buffers go back, nothing written. */
static void test_status_queue(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 8);
    for (unsigned i = 0; i < 5; i++) {
        uint16_t d = f->q[1].avail_idx % 8;
        uint8_t led[8] = { EV_LED, 0, 0, 0, 1, 0, 0, 0 };
        ram_write(f, BUF_GPA(1, d), led, 8);
        put_desc(f, 1, d, BUF_GPA(1, d), 8, 0, 0);
        publish(f, 1, d);
    }
    assert_int_equal(used_idx(f, 1), 0);
    kick(f, 1);
    assert_int_equal(used_idx(f, 1), 5);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(ram_r32(f, f->q[1].used + 4 + 8 * i), i);
        assert_int_equal(ram_r32(f, f->q[1].used + 8 + 8 * i), 0);
        assert_int_equal(ram_r32(f, BUF_GPA(1, i)), EV_LED);
    }
    assert_int_equal(f->level, 1);
    assert_int_equal(read_isr(f), 1);
    /* Wrapping the 8-entry ring several times. */
    for (unsigned i = 0; i < 40; i++) {
        uint16_t d = f->q[1].avail_idx % 8;
        put_desc(f, 1, d, BUF_GPA(1, d), 8, 0, 0);
        publish(f, 1, d);
        kick(f, 1);
    }
    assert_int_equal(used_idx(f, 1), 45);
    assert_true(virtio_tablet_active(f->t));
}

/* ---- Malformed rings (sections 2.1.2, 2.7) ---- */

/* The device must flag DEVICE_NEEDS_RESET, tell the driver with a
 * configuration interrupt, stop, and come back after a reset. */
static void expect_needs_reset(struct fixture *f, const char *what)
{
    uint8_t st = status(f);
    if (!(st & S_NEEDS_RESET))
        fail_msg("%s: status 0x%02x lacks DEVICE_NEEDS_RESET", what, st);
    assert_false(virtio_tablet_active(f->t));
    assert_int_equal(f->level, 1);
    uint8_t isr = read_isr(f);
    if (!(isr & 2))
        fail_msg("%s: ISR 0x%02x lacks the configuration-change bit", what, isr);
    assert_int_equal(f->level, 0);
    assert_true(f->t->vp.error[0] != 0);
    assert_true(strnlen(f->t->vp.error, sizeof(f->t->vp.error)) < sizeof(f->t->vp.error));
    assert_false(virtio_tablet_event(f->t, 1, 1, 0, 0));
    /* Rewriting the status keeps the flag. */
    common_w8(f, C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    assert_true(status(f) & S_NEEDS_RESET);
    assert_false(virtio_tablet_active(f->t));
    /* Reset and start over: events flow again. */
    driver_reset(f);
    assert_int_equal(f->t->vp.error[0], 0);
    driver_start(f, 16);
    add_event_bufs(f, 16);
    send_expect(f, 3, 4, 0, 0, 0);
    /* Leave a freshly started driver with no buffers for the next case. */
    driver_start(f, 16);
}

static void test_bad_avail_idx(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    add_event_bufs(f, 1);
    ram_w16(f, f->q[0].avail + 2, 17);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "avail idx ahead");
}

static void test_bad_head(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    put_desc(f, 0, 0, BUF_GPA(0, 0), 8, D_WRITE, 0);
    publish(f, 0, 16);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "head out of range");
}

static void test_desc_loop(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    put_desc(f, 0, 0, BUF_GPA(0, 0), 4, D_WRITE | D_NEXT, 1);
    put_desc(f, 0, 1, BUF_GPA(0, 1), 4, D_WRITE | D_NEXT, 2);
    put_desc(f, 0, 2, BUF_GPA(0, 2), 4, D_WRITE | D_NEXT, 0);
    publish(f, 0, 0);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "looping chain");
    /* A self-loop, and a next index out of range. */
    put_desc(f, 0, 0, BUF_GPA(0, 0), 0, D_WRITE | D_NEXT, 0);
    publish(f, 0, 0);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "self loop");
    put_desc(f, 0, 0, BUF_GPA(0, 0), 4, D_WRITE | D_NEXT, 16);
    publish(f, 0, 0);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "next out of range");
    /* A loop on the status queue, found on its kick. */
    put_desc(f, 1, 0, BUF_GPA(1, 0), 4, D_NEXT, 1);
    put_desc(f, 1, 1, BUF_GPA(1, 1), 4, D_NEXT, 0);
    publish(f, 1, 0);
    kick(f, 1);
    expect_needs_reset(f, "status queue loop");
}

static void test_valid_chain(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    /* An event split over two device-writable descriptors is fine. */
    put_desc(f, 0, 5, BUF_GPA(0, 5), 3, D_WRITE | D_NEXT, 9);
    put_desc(f, 0, 9, BUF_GPA(0, 9), 5, D_WRITE, 0);
    publish(f, 0, 5);
    assert_true(virtio_tablet_event(f->t, 0x1234, 2, 0, 0));
    assert_int_equal(used_idx(f, 0), 1);
    assert_int_equal(ram_r32(f, f->q[0].used + 4), 5);
    assert_int_equal(ram_r32(f, f->q[0].used + 8), 8);
    uint8_t raw[8];
    assert_int_equal(guest_mem_read(&f->mem, BUF_GPA(0, 5), raw, 3), 0);
    assert_int_equal(guest_mem_read(&f->mem, BUF_GPA(0, 9), raw + 3, 5), 0);
    uint16_t type, code;
    uint32_t value;
    memcpy(&type, raw, 2);
    memcpy(&code, raw + 2, 2);
    memcpy(&value, raw + 4, 4);
    assert_int_equal(type, EV_ABS);
    assert_int_equal(code, ABS_X);
    assert_int_equal(value, 0x1234);
    assert_true(virtio_tablet_active(f->t));
}

static void test_indirect(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    /* The table the indirect descriptor names is itself well formed. */
    uint8_t table[16] = { 0 };
    uint64_t addr = BUF_GPA(0, 8);
    uint32_t len = 8;
    uint16_t fl = D_WRITE;
    memcpy(table, &addr, 8);
    memcpy(table + 8, &len, 4);
    memcpy(table + 12, &fl, 2);
    ram_write(f, BUF_GPA(0, 4), table, 16);
    put_desc(f, 0, 0, BUF_GPA(0, 4), 16, D_INDIRECT, 0);
    publish(f, 0, 0);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "indirect");
}

static void test_buffer_outside_ram(void **state)
{
    struct fixture *f = *state;
    static const uint64_t bad[] = { RAM_SIZE, RAM_SIZE - 4, 0xfec00000u, 0xfffffffffffffff8ull, BAR_A };
    driver_start(f, 16);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint16_t d = f->q[0].avail_idx % 16;
        put_desc(f, 0, d, bad[i], 8, D_WRITE, 0);
        publish(f, 0, d);
        assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
        char what[64];
        snprintf(what, sizeof(what), "buffer at 0x%llx", (unsigned long long)bad[i]);
        expect_needs_reset(f, what);
    }
    /* A huge length overflowing the address. */
    uint16_t d = f->q[0].avail_idx % 16;
    put_desc(f, 0, d, 0x1000, 0xffffffffu, D_WRITE, 0);
    publish(f, 0, d);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "length beyond RAM");
}

static void test_short_buffer(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    add_buf(f, 0, 4, D_WRITE);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "4-byte buffer");
    /* A driver-readable buffer is no place for an event either. */
    add_buf(f, 0, 8, 0);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "read-only buffer");
    /* Nor is a driver-readable descriptor after a writable one. */
    put_desc(f, 0, 0, BUF_GPA(0, 0), 8, D_WRITE | D_NEXT, 1);
    put_desc(f, 0, 1, BUF_GPA(0, 1), 8, 0, 0);
    publish(f, 0, 0);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    expect_needs_reset(f, "out after in");
}

/* Section 2.7: descriptor table 16-byte, available ring 2-byte, used ring
 * 4-byte aligned; rings must be in RAM. A driver that breaks this must not
 * get a silently dead device: it needs a reset, like any malformed ring. */
static void test_misaligned_rings(void **state)
{
    struct fixture *f = *state;
    struct {
        const char *what;
        uint64_t desc, avail, used;
    } cases[] = {
        { "desc +8", DESC_GPA(0) + 8, AVAIL_GPA(0), USED_GPA(0) },
        { "avail +1", DESC_GPA(0), AVAIL_GPA(0) + 1, USED_GPA(0) },
        { "used +2", DESC_GPA(0), AVAIL_GPA(0), USED_GPA(0) + 2 },
        { "desc outside RAM", RAM_SIZE, AVAIL_GPA(0), USED_GPA(0) },
        { "used outside RAM", DESC_GPA(0), AVAIL_GPA(0), RAM_SIZE - 8 },
    };
    char failed[256] = "";
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
        setup_queue_at(f, 0, 16, cases[i].desc, cases[i].avail, cases[i].used);
        setup_queue(f, 1, 16);
        driver_ok(f);
        /* Offer a buffer where the driver believes its rings are. */
        if (guest_mem_ptr(&f->mem, cases[i].desc, 256) && guest_mem_ptr(&f->mem, cases[i].avail, 38))
            add_event_bufs(f, 4);
        kick(f, 0);
        virtio_tablet_event(f->t, 1, 2, 0, 0);
        uint8_t st = status(f), isr = read_isr(f);
        bool ok = (st & S_NEEDS_RESET) && (isr & 2) && !virtio_tablet_active(f->t);
        if (!ok)
            snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed), "%s%s (status 0x%02x isr %u)",
                     failed[0] ? ", " : "", cases[i].what, st, isr);
        /* Whatever happened, a reset recovers. */
        driver_reset(f);
        driver_start(f, 16);
        add_event_bufs(f, 16);
        send_expect(f, 3, 4, 0, 0, 0);
        assert_int_equal(read_isr(f), 1);
    }
    if (failed[0])
        fail_msg("no DEVICE_NEEDS_RESET for: %s", failed);
}

/* ---- Bus mastering and queue configuration ---- */

static void test_no_bus_master(void **state)
{
    struct fixture *f = *state;
    driver_start(f, 16);
    add_event_bufs(f, 16);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    assert_true(virtio_tablet_event(f->t, 1, 2, 0, 0));
    kick(f, 0);
    assert_int_equal(used_idx(f, 0), 0);
    assert_int_equal(*(uint8_t *)guest_mem_ptr(&f->mem, BUF_GPA(0, 0), 1), BUF_FILL);
    assert_int_equal(f->level, 0);
    /* Mastering back on: the waiting update goes out on the next kick. */
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    kick(f, 0);
    struct ev got[16], want[8];
    assert_events(got, collect(f, got, 16, false), want, model(want, 1, 2, 0, 0, 0));
}

static void test_queue_config(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(negotiate(f, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
    common_w16(f, C_QSELECT, 0);
    uint16_t max = common_r16(f, C_QSIZE);
    assert_true(max >= 2 && (max & (max - 1)) == 0);
    static const uint16_t bad[] = { 0, 3, 6, 48, 0x8001, 0xffff };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        common_w16(f, C_QSIZE, bad[i]);
        assert_int_equal(common_r16(f, C_QSIZE), max);
    }
    common_w16(f, C_QSIZE, (uint16_t)(max * 2));
    assert_int_equal(common_r16(f, C_QSIZE), max);
    common_w16(f, C_QSIZE, 1);
    assert_int_equal(common_r16(f, C_QSIZE), 1);
    common_w16(f, C_QSIZE, (uint16_t)(max / 2));
    assert_int_equal(common_r16(f, C_QSIZE), max / 2);
    /* The 64-bit addresses take 32-bit halves and 64-bit writes. */
    common_w32(f, C_QDESC, 0x1000);
    common_w32(f, C_QDESC + 4, 0x2);
    assert_int_equal(mmio_read(f, f->common + C_QDESC, 8), 0x200001000ull);
    mmio_write(f, f->common + C_QAVAIL, 0x3000, 8);
    assert_int_equal(common_r32(f, C_QAVAIL), 0x3000);
    assert_int_equal(common_r32(f, C_QAVAIL + 4), 0);

    /* Enabled: the queue's configuration is frozen. */
    setup_queue(f, 0, 16);
    common_w16(f, C_QSELECT, 0);
    common_w16(f, C_QSIZE, 8);
    common_w32(f, C_QDESC, 0x5000);
    common_w32(f, C_QAVAIL + 4, 1);
    mmio_write(f, f->common + C_QUSED, 0x7000, 8);
    common_w16(f, C_QENABLE, 0);
    assert_int_equal(common_r16(f, C_QSIZE), 16);
    assert_int_equal(common_r32(f, C_QDESC), DESC_GPA(0));
    assert_int_equal(common_r32(f, C_QAVAIL + 4), 0);
    assert_int_equal(common_r32(f, C_QUSED), USED_GPA(0));
    assert_int_equal(common_r16(f, C_QENABLE), 1);
    /* Queue 1 is separate and still configurable. */
    common_w16(f, C_QSELECT, 1);
    assert_int_equal(common_r16(f, C_QENABLE), 0);
    common_w16(f, C_QSIZE, 4);
    assert_int_equal(common_r16(f, C_QSIZE), 4);
    /* Queues beyond num_queues read size 0 and take nothing. */
    for (uint16_t q = 2; q < 10; q++) {
        common_w16(f, C_QSELECT, q);
        assert_int_equal(common_r16(f, C_QSELECT), q);
        assert_int_equal(common_r16(f, C_QSIZE), 0);
        common_w16(f, C_QSIZE, 8);
        common_w16(f, C_QENABLE, 1);
        assert_int_equal(common_r16(f, C_QSIZE), 0);
        assert_int_equal(common_r16(f, C_QENABLE), 0);
    }
    common_w16(f, C_QSELECT, 0xffff);
    assert_int_equal(common_r16(f, C_QSIZE), 0);
    /* A notify for a queue that does not exist is harmless. */
    mmio_write(f, f->notify + 16 * f->notify_mult, 5, 2);
    setup_queue(f, 1, 16);
    driver_ok(f);
    assert_true(virtio_tablet_active(f->t));
    add_event_bufs(f, 16);
    send_expect(f, 3, 4, 0, 0, 0);
}

/* ---- BAR placement (PCI 3.0, 6.2.5.1) ---- */

static void test_bar_move(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(common_r16(f, C_NUMQ), 2);
    assert_non_null(bus_lookup_name(f->mmio, BAR_A));
    assert_non_null(bus_lookup_name(f->mmio, BAR_A + VIRTIO_PCI_BAR_SIZE - 1));
    assert_null(bus_lookup_name(f->mmio, BAR_A + VIRTIO_PCI_BAR_SIZE));
    program_bar(f, BAR_B);
    assert_null(bus_lookup_name(f->mmio, BAR_A));
    assert_null(bus_lookup_name(f->mmio, BAR_A + 0x3fff));
    assert_int_equal(mmio_read(f, BAR_A + 0x12, 2), 0xffff);
    assert_non_null(bus_lookup_name(f->mmio, BAR_B));
    assert_int_equal(common_r16(f, C_NUMQ), 2);
    /* A driver started at B works; then decode off unmaps, on maps again. */
    driver_start(f, 16);
    add_event_bufs(f, 16);
    send_expect(f, 3, 4, 0, 0, 0);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
    assert_null(bus_lookup_name(f->mmio, BAR_B));
    assert_int_equal(mmio_read(f, f->common + C_NUMQ, 2), 0xffff);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    assert_non_null(bus_lookup_name(f->mmio, BAR_B));
    assert_int_equal(read_isr(f), 1);
    /* Moving the BAR with decode on, by 16-bit halves as some firmware does. */
    cfg_write(f, PCI_BASE_ADDRESS_0 + 2, BAR_A >> 16, 2);
    cfg_write(f, PCI_BASE_ADDRESS_0, BAR_A & 0xffff, 2);
    assert_null(bus_lookup_name(f->mmio, BAR_B));
    assert_non_null(bus_lookup_name(f->mmio, BAR_A));
    /* The device state survived the moves. */
    f->common = BAR_A + f->reg[CFG_COMMON].offset;
    f->isr = BAR_A + f->reg[CFG_ISR].offset;
    f->devcfg = BAR_A + f->reg[CFG_DEVICE].offset;
    f->notify = BAR_A + f->reg[CFG_NOTIFY].offset;
    assert_true(virtio_tablet_active(f->t));
    send_expect(f, 5, 6, 0, 0, 0);
    /* A BAR over another device stays off the bus; moving away maps it. */
    static const struct bus_ops dummy_ops = { 0 };
    assert_int_equal(bus_map(f->mmio, BAR_B, 0x1000, &dummy_ops, NULL, "other"), 0);
    cfg_write(f, PCI_BASE_ADDRESS_0, BAR_B, 4);
    assert_string_equal(bus_lookup_name(f->mmio, BAR_B), "other");
    assert_null(bus_lookup_name(f->mmio, BAR_A));
    assert_null(bus_lookup_name(f->mmio, BAR_B + 0x1000));
    program_bar(f, BAR_A);
    assert_non_null(bus_lookup_name(f->mmio, BAR_A));
    assert_string_equal(bus_lookup_name(f->mmio, BAR_B), "other");
    /* The sizing write (all ones) takes the BAR off the bus. */
    cfg_write(f, PCI_BASE_ADDRESS_0, 0xffffffffu, 4);
    assert_null(bus_lookup_name(f->mmio, BAR_A));
    cfg_write(f, PCI_BASE_ADDRESS_0, BAR_A, 4);
    assert_non_null(bus_lookup_name(f->mmio, BAR_A));
    /* A machine reset unmaps and clears the BAR. */
    machine_reset(f);
    assert_null(bus_lookup_name(f->mmio, BAR_A));
    assert_int_equal(cfg_read(f, PCI_BASE_ADDRESS_0, 4), 0);
    assert_int_equal(cfg_read(f, PCI_COMMAND, 2), 0);
    assert_false(virtio_tablet_active(f->t));
    assert_int_equal(bus_unmap(f->mmio, BAR_B), 0);
}

/* ---- Saved state (src/vmstate.h) ---- */

/* The tablet is two devices of the machine: the transport, then the
 * tablet's own state; a saved machine holds a section of each, in order. */
struct saved {
    uint8_t pci[8192], input[4096];
    long npci, ninput;
};

static void save_of(struct virtio_input *t, struct saved *out)
{
    out->npci = vmstate_save(virtio_pci_device_ops.vmstate, &t->vp, out->pci, sizeof(out->pci));
    out->ninput = vmstate_save(virtio_input_device_ops.vmstate, t, out->input, sizeof(out->input));
    assert_true(out->npci > 0 && out->ninput > 0);
}

static void save(struct fixture *f, struct saved *out)
{
    save_of(f->t, out);
}

static void load(struct fixture *f, const struct saved *in)
{
    char err[200];
    int rc = vmstate_load(virtio_pci_device_ops.vmstate, &f->t->vp, virtio_pci_device_ops.size, in->pci,
                          (size_t)in->npci, err, sizeof(err));
    if (rc == 0)
        rc = vmstate_load(virtio_input_device_ops.vmstate, f->t, virtio_input_device_ops.size, in->input,
                          (size_t)in->ninput, err, sizeof(err));
    if (rc != 0)
        fail_msg("vmstate_load: %s", err);
}

static void test_vmstate_roundtrip(void **state)
{
    struct fixture *f = *state;
    static struct saved buf, buf2;
    driver_start(f, 16);
    add_event_bufs(f, 16);
    send_expect(f, 10, 20, 0, VIRTIO_TABLET_LEFT, 0);
    /* An interrupt pending and an update waiting for buffers. */
    for (unsigned i = 0; i < 8; i++)
        assert_true(virtio_tablet_event(f->t, 30, 40, 0, VIRTIO_TABLET_LEFT));
    assert_int_equal(f->level, 1);
    save(f, &buf);

    /* Into a freshly created device, as on restore. */
    virtio_pci_device_ops.finalize(&f->t->vp);
    assert_null(bus_lookup_name(f->mmio, BAR_A));
    f->level = 0;
    virtio_tablet_init(f->t, f->mmio, &f->mem, &f->irq);
    assert_false(virtio_tablet_active(f->t));
    load(f, &buf);
    assert_non_null(bus_lookup_name(f->mmio, BAR_A));
    assert_int_equal(f->level, 1);                  /* post_load re-drove INTx */
    assert_true(virtio_tablet_active(f->t));
    save(f, &buf2);
    assert_int_equal(buf.npci, buf2.npci);
    assert_int_equal(buf.ninput, buf2.ninput);
    assert_memory_equal(buf.pci, buf2.pci, (size_t)buf.npci);
    assert_memory_equal(buf.input, buf2.input, (size_t)buf.ninput);
    assert_int_equal(read_isr(f), 1);
    assert_int_equal(f->level, 0);
    /* The waiting events come out, then new ones; left is still held. */
    static struct ev got[64], want[64];
    unsigned ngot = collect(f, got, 64, true);
    kick(f, 0);
    ngot += collect(f, got + ngot, 64 - ngot, true);
    unsigned m = 0;
    for (unsigned i = 0; i < 8; i++)
        m += model(want + m, 30, 40, 0, VIRTIO_TABLET_LEFT, VIRTIO_TABLET_LEFT);
    /* 16 buffers were out at the save: 16 events went out before it and 8
     * waited in the device; they arrive once the buffers are recycled. */
    assert_events(got, ngot, want, m);
    send_expect(f, 50, 60, 0, 0, VIRTIO_TABLET_LEFT);
    uint8_t u[128];
    assert_int_equal(input_query(f, SEL_ID_NAME, 0, u), strlen("Hostel Tablet"));
}

/* Loading into the live device (its BAR already on the bus), as a revert to
 * a snapshot would, must leave exactly one mapping that follows the BAR
 * (not the old range decoding forever after a move). */
static void test_vmstate_load_live(void **state)
{
    struct fixture *f = *state;
    static struct saved buf;
    driver_start(f, 16);
    add_event_bufs(f, 16);
    save(f, &buf);
    load(f, &buf);
    assert_true(virtio_tablet_active(f->t));
    send_expect(f, 1, 2, 0, 0, 0);
    program_bar(f, BAR_B);
    assert_non_null(bus_lookup_name(f->mmio, BAR_B));
    if (bus_lookup_name(f->mmio, BAR_A))
        fail_msg("after a load into the mapped device and a BAR move, the old BAR range still decodes");
    send_expect(f, 3, 4, 0, 0, 0);
}

/* A hostile or corrupt stream must not make the device index outside its
 * own arrays: the pending queue's head and count, the buttons and the error
 * string are brought back in range. */
static void test_vmstate_hostile(void **state)
{
    struct fixture *f = *state;
    static struct saved buf;
    driver_start(f, 16);
    add_event_bufs(f, 16);
    struct virtio_input *evil = malloc(sizeof(*evil));
    memcpy(evil, f->t, sizeof(*evil));
    evil->head = 5000;
    evil->count = 100000;
    evil->buttons = 0xffffffffu;
    evil->select = 0xee;
    evil->vp.queue_select = 0xffff;
    evil->vp.dfselect = 0x80000000u;
    evil->vp.gfselect = 7;
    evil->vp.vq[1].size = 0x8000;
    evil->vp.vq[1].used_gpa = RAM_SIZE - 8;
    memset(evil->vp.error, 'x', sizeof(evil->vp.error));
    save_of(evil, &buf);
    free(evil);
    load(f, &buf);
    /* Checked before anything runs: the event path would index with them. */
    if (f->t->head >= VIRTIO_INPUT_PENDING || f->t->count > VIRTIO_INPUT_PENDING ||
        strnlen(f->t->vp.error, sizeof(f->t->vp.error)) == sizeof(f->t->vp.error))
        fail_msg("post_load kept head %u, count %u, error string of %zu bytes unterminated", f->t->head,
                 f->t->count, strnlen(f->t->vp.error, sizeof(f->t->vp.error)));
    /* And it keeps working without touching anything it should not. */
    for (unsigned i = 0; i < 300; i++) {
        virtio_tablet_event(f->t, i, i, 1, i);
        kick(f, 0);
        kick(f, 1);
        (void)mmio_read(f, f->common + (i % 0x40), 4);
        (void)mmio_read(f, f->devcfg + (i % 0x90), 4);
    }
    assert_true(f->t->head < VIRTIO_INPUT_PENDING);
    assert_true(f->t->count <= VIRTIO_INPUT_PENDING);
    driver_reset(f);
    driver_start(f, 16);
    add_event_bufs(f, 16);
    send_expect(f, 3, 4, 0, 0, 0);
}

/* ---- Random accesses ---- */

static void test_random(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 0x7ab1e7u;
    unsigned delivered = 0, resets = 0, errors = 0;
    driver_start(f, 16);
    add_event_bufs(f, 16);
    bool needs_reset = false;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint16_t used_before = f->t->vp.vq[0].used_idx;
        switch ((r >> 2) % 12) {
        case 0: case 1: case 2: {   /* BAR0, mostly the registers, some beyond */
            uint64_t off = (r >> 8) & 1 ? ((r >> 9) % 4) * 0x1000 + (r >> 11) % 0x100
                                        : (r >> 9) % (VIRTIO_PCI_BAR_SIZE + 0x100);
            /* Status writes reset too often to let anything run: rarer. */
            if (off == C_STATUS && (r >> 24) % 8)
                off = C_QSELECT;
            if ((r >> 30) & 1)
                mmio_write(f, f->bar + off, val, size);
            else
                (void)mmio_read(f, f->bar + off, size);
            break;
        }
        case 3: {                   /* PCI configuration space */
            /* Command and BAR0 garbage is rarer, or nothing else would run. */
            unsigned sz = size > 4 ? 4 : size, reg = (r >> 12) % 256;
            bool vital = reg + sz > PCI_COMMAND && reg < PCI_COMMAND + 2;
            vital |= reg + sz > PCI_BASE_ADDRESS_0 && reg < PCI_BASE_ADDRESS_0 + 4;
            if ((r >> 8) % 16 == 0)
                cfg_write(f, PCI_COMMAND, (uint32_t)val, 2);
            else if ((r >> 8) % 16 == 1)
                cfg_write(f, PCI_BASE_ADDRESS_0, (uint32_t)val, 4);
            else if (!vital || (r >> 8) % 16 == 2)
                cfg_write(f, reg, (uint32_t)val, sz);
            (void)cfg_read(f, (r >> 20) % 260, sz);
            break;
        }
        case 4: {                   /* garbage in the rings and buffers */
            /* Mostly where the rings in use are, sometimes anywhere near. */
            unsigned q = (r >> 8) & 1, qs = f->q[q].size ? f->q[q].size : 1, where = (r >> 9) % 8;
            uint64_t gpa = where == 0 ? RING_BASE(q) + (r >> 12) % 0x3100
                         : where == 1 ? BUF_GPA(q, 0) + (r >> 12) % 0x1000
                         : where <= 3 ? f->q[q].desc + (r >> 12) % (16u * qs)
                         : where <= 5 ? f->q[q].avail + (r >> 12) % (6u + 2u * qs)
                                      : f->q[q].used + (r >> 12) % (6u + 8u * qs);
            if ((r >> 30) & 1)
                ram_write(f, gpa, &val, size);
            else                    /* flip one bit */
                *(uint8_t *)guest_mem_ptr(&f->mem, gpa, 1) ^= (uint8_t)(1u << (val % 8));
            break;
        }
        case 5: case 6: case 7: {   /* the host moves the pointer */
            int dz = (int)(val % 5) - 2;
            if ((r >> 8) % 64 == 0)
                dz = (int)(uint32_t)val;
            virtio_tablet_event(f->t, (unsigned)(val >> 8) % 40000, (unsigned)(val >> 24) % 40000, dz,
                                (unsigned)(val >> 40));
            break;
        }
        case 8: case 9:             /* a well-behaved driver step */
            if (virtio_tablet_active(f->t)) {
                struct drvq *dq = &f->q[(r >> 8) & 1];
                dq->last_used = ram_r16(f, dq->used + 2);
                if ((uint16_t)(dq->avail_idx - dq->last_used) < dq->size)
                    add_buf(f, (r >> 8) & 1, 8, (r >> 8) & 1 ? 0 : D_WRITE);
                kick(f, (r >> 8) & 1);
            }
            (void)read_isr(f);
            break;
        case 10:                    /* restart the driver now and then */
            if ((r >> 8) % 4 == 0 && cfg_read(f, PCI_COMMAND, 2) != (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
                program_bar(f, (uint32_t)f->bar);
            if ((r >> 8) % 64 == 1) {
                program_bar(f, (r >> 14) & 1 ? BAR_A : BAR_B);
                driver_start(f, (uint16_t)(1u << ((r >> 16) % 7)));
                resets++;
            }
            break;
        default:
            if ((r >> 8) % 4096 == 0) {
                machine_reset(f);
                program_bar(f, BAR_A);
            }
            break;
        }
        if (f->t->vp.vq[0].used_idx != used_before)
            delivered++;
        if ((f->t->vp.status & S_NEEDS_RESET) && !needs_reset)
            errors++;
        needs_reset = f->t->vp.status & S_NEEDS_RESET;
        /* INTx follows the ISR and the INTx-disable bit. */
        bool masked = pci_device_config_read(pci(f), PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
        assert_int_equal(f->level, f->t->vp.isr != 0 && !masked);
        assert_true(f->t->count <= VIRTIO_INPUT_PENDING);
        assert_true(f->t->head < VIRTIO_INPUT_PENDING);
        /* DRIVER_OK never stands without FEATURES_OK. */
        assert_true(!(f->t->vp.status & S_DRIVER_OK) || (f->t->vp.status & S_FEATURES_OK));
    }
    /* The loop got events through and hit the error paths. */
    assert_true(delivered > 1000);
    assert_true(resets > 100);
    assert_true(errors > 50);
    program_bar(f, BAR_A);
    driver_start(f, 16);
    add_event_bufs(f, 16);
    send_expect(f, 3, 4, 0, 0, 0);
}

/* Pixels to axis values: every pixel of common screen sizes comes back as
 * itself under both ways guests map the axis (libinput's floor of
 * v * W / 32768, and round(v * (W - 1) / 32767)); beyond the screen is its
 * last pixel; a screen wider than the axis still gives values in range. */
static void test_tablet_axis(void **state)
{
    static const unsigned widths[] = { 1, 2, 320, 640, 720, 768, 800, 1024, 1080, 1280, 1366, 1600, 1920, 2560, 3840 };
    for (unsigned i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        unsigned w = widths[i];
        for (unsigned p = 0; p < w; p++) {
            unsigned v = virtio_tablet_axis(p, w);
            assert_true(v <= 32767);
            assert_int_equal((uint64_t)v * w / 32768, p);
            if (w > 1)
                assert_int_equal((unsigned)(((uint64_t)v * (w - 1) * 2 + 32767) / (2 * 32767)), p);
        }
        assert_int_equal(virtio_tablet_axis(w + 5, w), virtio_tablet_axis(w - 1, w));
        assert_int_equal(virtio_tablet_axis(0xffffffffu, w), virtio_tablet_axis(w - 1, w));
    }
    assert_int_equal(virtio_tablet_axis(5, 0), 0);
    assert_true(virtio_tablet_axis(99999, 100000) <= 32767);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intx_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_wait_for_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_avail_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_desc_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misaligned_rings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_bus_master, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_move, setup, teardown),
        cmocka_unit_test(test_tablet_axis),
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_load_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
