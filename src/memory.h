/* Guest RAM: one anonymous mapping in this process, 2 MiB aligned and
 * backed by transparent huge pages where the host allows, laid out as a PC:
 * RAM from 0 up to the PCI hole (at most 3 GiB), the rest above 4 GiB. */
#ifndef HOSTEL_MEMORY_H
#define HOSTEL_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4
#define GUEST_PCI_HOLE_START 0xC0000000ull   /* 3 GiB */
#define GUEST_HIGH_RAM_START 0x100000000ull  /* 4 GiB */

struct guest_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *hva;
    uint64_t fd_offset;
};

struct guest_mem {
    int memfd;            /* -1: the RAM is anonymous memory */
    uint8_t *base;        /* the whole mapping */
    uint64_t ram_size;    /* bytes of RAM in total */
    struct guest_region regions[GUEST_MEM_MAX_REGIONS];
    unsigned nregions;
};

/* Allocate ram_size bytes of guest RAM. Returns 0, or -1 with a sentence in err. */
int guest_mem_init(struct guest_mem *mem, uint64_t ram_size, char *err, size_t errlen);
void guest_mem_destroy(struct guest_mem *mem);

/* Host pointer for [gpa, gpa+len) if it lies entirely inside one RAM region,
 * else NULL. Guest-supplied addresses must always go through this check. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copy to/from guest RAM; the range may span regions but every byte must be
 * RAM. Return 0, or -1 (nothing copied) if any byte is outside RAM. */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, uint64_t len);

/* RAM bytes below 4 GiB (the low region's size). */
uint64_t guest_mem_low_size(const struct guest_mem *mem);

#endif
