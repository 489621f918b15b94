/* Bus dispatch: a sorted array of non-overlapping ranges, binary-searched. */
#include "bus.h"

#include <stdlib.h>
#include <string.h>

struct bus_range {
    uint64_t base;
    uint64_t len;
    const struct bus_ops *ops;
    void *opaque;
    char name[32];
};

struct bus {
    char name[32];
    uint64_t limit;
    struct bus_range *ranges;
    size_t count;
    size_t cap;
};

struct bus *bus_new(const char *name, uint64_t limit)
{
    struct bus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return NULL;
    strncpy(bus->name, name ? name : "bus", sizeof(bus->name) - 1);
    bus->limit = limit;
    return bus;
}

void bus_free(struct bus *bus)
{
    if (!bus)
        return;
    free(bus->ranges);
    free(bus);
}

/* Index of the first range whose end is above addr (may be == count). */
static size_t bus_search(const struct bus *bus, uint64_t addr)
{
    size_t lo = 0, hi = bus->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct bus_range *r = &bus->ranges[mid];
        if (r->base + r->len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
    size_t i = bus_search(bus, addr);
    if (i < bus->count && bus->ranges[i].base <= addr)
        return &bus->ranges[i];
    return NULL;
}

int bus_map(struct bus *bus, uint64_t base, uint64_t len,
            const struct bus_ops *ops, void *opaque, const char *name)
{
    if (!bus || !ops || len == 0 || base >= bus->limit || len > bus->limit - base)
        return -1;
    size_t i = bus_search(bus, base);
    if (i < bus->count && bus->ranges[i].base < base + len)
        return -1;
    if (bus->count == bus->cap) {
        size_t cap = bus->cap ? bus->cap * 2 : 16;
        struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));
        if (!r)
            return -1;
        bus->ranges = r;
        bus->cap = cap;
    }
    memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->count - i) * sizeof(*bus->ranges));
    struct bus_range *r = &bus->ranges[i];
    memset(r, 0, sizeof(*r));
    r->base = base;
    r->len = len;
    r->ops = ops;
    r->opaque = opaque;
    strncpy(r->name, name ? name : "?", sizeof(r->name) - 1);
    bus->count++;
    return 0;
}

int bus_unmap(struct bus *bus, uint64_t base)
{
    size_t i = bus_search(bus, base);
    if (i >= bus->count || bus->ranges[i].base != base)
        return -1;
    memmove(&bus->ranges[i], &bus->ranges[i + 1], (bus->count - i - 1) * sizeof(*bus->ranges));
    bus->count--;
    return 0;
}

const char *bus_lookup_name(const struct bus *bus, uint64_t addr)
{
    const struct bus_range *r = bus_find(bus, addr);
    return r ? r->name : NULL;
}

static unsigned range_sizes(const struct bus_range *r)
{
    return r->ops->sizes ? r->ops->sizes : BUS_SIZE_ALL;
}

/* Largest accepted size <= want; 1 when the device accepts nothing smaller
 * (it then sees byte accesses, the common denominator). */
static unsigned pick_size(unsigned sizes, unsigned want)
{
    for (unsigned s = want; s > 1; s >>= 1)
        if (sizes & s)
            return s;
    return 1;
}

static bool bus_access(struct bus *bus, uint64_t addr, uint8_t *buf, unsigned size, bool write)
{
    bool hit = false;
    unsigned done = 0;
    while (done < size) {
        uint64_t a = addr + done;
        unsigned left = size - done;
        const struct bus_range *r = bus_find(bus, a);
        if (!r) {
            /* Skip unmapped bytes up to the next range (or the end). */
            size_t i = bus_search(bus, a);
            uint64_t next = i < bus->count ? bus->ranges[i].base : UINT64_MAX;
            unsigned n = (next - a < left) ? (unsigned)(next - a) : left;
            if (!write)
                memset(buf + done, 0xff, n);
            done += n;
            continue;
        }
        uint64_t off = a - r->base;
        uint64_t room = r->len - off;
        unsigned chunk = left < room ? left : (unsigned)room;
        unsigned want = chunk >= 8 ? 8 : chunk >= 4 ? 4 : chunk >= 2 ? 2 : 1;
        want = pick_size(range_sizes(r), want);
        uint64_t v = 0;
        if (write) {
            memcpy(&v, buf + done, want);
            r->ops->write(r->opaque, off, v, want);
        } else {
            v = r->ops->read(r->opaque, off, want);
            memcpy(buf + done, &v, want);
        }
        hit = true;
        done += want;
    }
    return hit;
}

bool bus_read(struct bus *bus, uint64_t addr, void *data, unsigned size)
{
    if (size == 0 || size > 8)
        return false;
    return bus_access(bus, addr, data, size, false);
}

bool bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned size)
{
    if (size == 0 || size > 8)
        return false;
    uint8_t tmp[8];
    memcpy(tmp, data, size);
    return bus_access(bus, addr, tmp, size, true);
}
