#include "memory.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int guest_mem_init(struct guest_mem *mem, uint64_t ram_size, char *err, size_t errlen)
{
    memset(mem, 0, sizeof(*mem));
    mem->memfd = -1;
    if (ram_size < (1u << 20) || (ram_size & 0xfff)) {
        snprintf(err, errlen, "Guest memory must be at least 1 MiB and a multiple of 4 KiB.");
        return -1;
    }
    int fd = memfd_create("hostel-guest-ram", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "Could not create guest memory (memfd_create: %s).", strerror(errno));
        return -1;
    }
    if (ftruncate(fd, (off_t)ram_size) < 0) {
        snprintf(err, errlen, "Could not size guest memory to %llu MiB (%s); try a smaller --memory.",
                 (unsigned long long)(ram_size >> 20), strerror(errno));
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "Could not map %llu MiB of guest memory (%s); try a smaller --memory.",
                 (unsigned long long)(ram_size >> 20), strerror(errno));
        close(fd);
        return -1;
    }
    madvise(p, ram_size, MADV_MERGEABLE);
    mem->memfd = fd;
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
    if (mem->memfd >= 0)
        close(mem->memfd);
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
