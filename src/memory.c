#include "memory.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Guest RAM is anonymous memory aligned to 2 MiB and marked for
 * transparent huge pages: with 4 KiB pages a Linux boot takes tens of
 * thousands of second-level page faults, each an exit on nested hosts.
 * (Shared memory, such as a memfd, gets no huge pages unless the host
 * enables them for shmem, which distributions do not by default.) */
#define GUEST_MEM_ALIGN (2ull << 20)

int guest_mem_init(struct guest_mem *mem, uint64_t ram_size, char *err, size_t errlen)
{
    memset(mem, 0, sizeof(*mem));
    mem->memfd = -1;
    if (ram_size < (1u << 20) || (ram_size & 0xfff)) {
        snprintf(err, errlen, "Guest memory must be at least 1 MiB and a multiple of 4 KiB.");
        return -1;
    }
    /* Reserve room to align, then give back what is not needed. */
    size_t span = (size_t)ram_size + GUEST_MEM_ALIGN;
    uint8_t *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) {
        snprintf(err, errlen, "Could not map %llu MiB of guest memory (%s); try a smaller --memory.",
                 (unsigned long long)(ram_size >> 20), strerror(errno));
        return -1;
    }
    uintptr_t aligned = ((uintptr_t)raw + GUEST_MEM_ALIGN - 1) & ~(uintptr_t)(GUEST_MEM_ALIGN - 1);
    uint8_t *p = (uint8_t *)aligned;
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    size_t tail = (size_t)((raw + span) - (p + ram_size));
    if (tail)
        munmap(p + ram_size, tail);
    madvise(p, ram_size, MADV_HUGEPAGE);
    /* Never in a core dump: it is the guest's memory, not hostel-vm's. */
    madvise(p, ram_size, MADV_DONTDUMP);
    mem->base = p;
    mem->ram_size = ram_size;
    uint64_t low = ram_size < GUEST_PCI_HOLE_START ? ram_size : GUEST_PCI_HOLE_START;
    mem->regions[0] = (struct guest_region){ .gpa = 0, .size = low, .hva = mem->base, .fd_offset = 0 };
    mem->nregions = 1;
    if (ram_size > low) {
        mem->regions[1] = (struct guest_region){
            .gpa = GUEST_HIGH_RAM_START, .size = ram_size - low, .hva = mem->base + low, .fd_offset = low };
        mem->nregions = 2;
    }
    return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
    if (mem->base)
        munmap(mem->base, mem->ram_size);
    memset(mem, 0, sizeof(*mem));
    mem->memfd = -1;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < mem->nregions; i++) {
        const struct guest_region *r = &mem->regions[i];
        if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
            return r->hva + (gpa - r->gpa);
    }
    return NULL;
}

static int guest_mem_copy(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len, bool write)
{
    /* Check every byte first so nothing is copied on failure. */
    uint64_t a = gpa, left = len;
    while (left) {
        const struct guest_region *hit = NULL;
        for (unsigned i = 0; i < mem->nregions; i++)
            if (a >= mem->regions[i].gpa && a - mem->regions[i].gpa < mem->regions[i].size)
                hit = &mem->regions[i];
        if (!hit)
            return -1;
        uint64_t n = hit->size - (a - hit->gpa);
        if (n > left)
            n = left;
        a += n;
        left -= n;
    }
    a = gpa;
    left = len;
    uint8_t *b = buf;
    while (left) {
        for (unsigned i = 0; i < mem->nregions; i++) {
            const struct guest_region *r = &mem->regions[i];
            if (a >= r->gpa && a - r->gpa < r->size) {
                uint64_t n = r->size - (a - r->gpa);
                if (n > left)
                    n = left;
                if (write)
                    memcpy(r->hva + (a - r->gpa), b, n);
                else
                    memcpy(b, r->hva + (a - r->gpa), n);
                a += n;
                b += n;
                left -= n;
                break;
            }
        }
    }
    return 0;
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len)
{
    return guest_mem_copy(mem, gpa, buf, len, false);
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, uint64_t len)
{
    return guest_mem_copy(mem, gpa, (void *)buf, len, true);
}

uint64_t guest_mem_low_size(const struct guest_mem *mem)
{
    return mem->nregions ? mem->regions[0].size : 0;
}
