/* Port-I/O and MMIO buses.
 *
 * A bus maps address ranges to devices. Devices are handed an offset into
 * their own range, never an absolute address, so a PCI BAR can move without
 * the device noticing. Overlapping mappings are rejected.
 *
 * A bus is not thread-safe on its own: callers hold the VM's device lock
 * (see vm.h) around bus_read/bus_write and around (un)mapping.
 */
#ifndef HOSTEL_BUS_H
#define HOSTEL_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Access sizes a device accepts, as a mask whose bits are the byte counts
 * themselves (sizes are powers of two, so `mask & size` tests one). */
enum {
    BUS_SIZE_1 = 1,
    BUS_SIZE_2 = 2,
    BUS_SIZE_4 = 4,
    BUS_SIZE_8 = 8,
    BUS_SIZE_ALL = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4 | BUS_SIZE_8,
};

struct bus_ops {
    /* Read `size` bytes (1, 2, 4 or 8) at `offset`; the value is little-endian. */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
    /* Sizes the device handles itself; other sizes are split by the bus into
     * the largest accepted smaller accesses. 0 means BUS_SIZE_ALL. */
    unsigned sizes;
};

struct bus;

/* Create an empty bus covering addresses [0, limit). */
struct bus *bus_new(const char *name, uint64_t limit);
void bus_free(struct bus *bus);

/* Map [base, base+len) to ops/opaque. Returns 0, or -1 when the range is
 * empty, exceeds the bus limit or overlaps an existing mapping. */
int bus_map(struct bus *bus, uint64_t base, uint64_t len,
            const struct bus_ops *ops, void *opaque, const char *name);

/* Remove the mapping that starts at base. Returns 0, or -1 if none. */
int bus_unmap(struct bus *bus, uint64_t base);

/* Dispatch an access of `size` bytes (1..8) to whatever is mapped at addr.
 * Reads of unmapped bytes return all-ones; writes to them are dropped.
 * Returns true if at least one byte hit a device. */
bool bus_read(struct bus *bus, uint64_t addr, void *data, unsigned size);
bool bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned size);

/* Name of the mapping covering addr, or NULL (for diagnostics and tests). */
const char *bus_lookup_name(const struct bus *bus, uint64_t addr);

#endif
