/* Multiboot v1 kernels (Multiboot Specification 0.6.96, section 3.1):
 * a header in the first 8 KiB says how to load the image, either through
 * its own address fields (the "a.out kludge", flag 16) or as an ELF. */
#include "loader/loader_internal.h"

#include <string.h>

int multiboot_find_header(const uint8_t *file, size_t len, struct multiboot_header *hdr)
{
    memset(hdr, 0, sizeof(*hdr));
    size_t limit = len < MULTIBOOT_SEARCH_LIMIT ? len : MULTIBOOT_SEARCH_LIMIT;
    int seen = 0;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        if (loader_get32(file + off) != MULTIBOOT_HEADER_MAGIC)
            continue;
        uint32_t flags = loader_get32(file + off + 4);
        uint32_t sum = loader_get32(file + off + 8);
        if ((uint32_t)(MULTIBOOT_HEADER_MAGIC + flags + sum) != 0) {
            seen = -1;
            continue;
        }
        if ((flags & MULTIBOOT_AOUT_KLUDGE) && off + 32 > len) {
            seen = -1;
            continue;
        }
        hdr->offset = off;
        hdr->flags = flags;
        if (flags & MULTIBOOT_AOUT_KLUDGE) {
            hdr->header_addr = loader_get32(file + off + 12);
            hdr->load_addr = loader_get32(file + off + 16);
            hdr->load_end_addr = loader_get32(file + off + 20);
            hdr->bss_end_addr = loader_get32(file + off + 24);
            hdr->entry_addr = loader_get32(file + off + 28);
        }
        return 1;
    }
    return seen;
}

static int multiboot_load_kludge(const struct guest_mem *mem, const uint8_t *file, size_t len,
                                 const struct multiboot_header *h, struct boot_image *img, char *err,
                                 size_t errlen)
{
    /* The header's own address tells where the file maps to memory. */
    if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > h->offset)
        return loader_fail(err, errlen, "The multiboot header's addresses put the start of the kernel before "
                           "the start of the file; the kernel is damaged.");
    uint64_t file_off = h->offset - (h->header_addr - h->load_addr);
    uint64_t load_size;
    if (h->load_end_addr == 0) {
        load_size = len - file_off;
    } else {
        if (h->load_end_addr <= h->load_addr)
            return loader_fail(err, errlen, "The multiboot header's load end 0x%x is not above its load "
                               "address 0x%x; the kernel is damaged.", h->load_end_addr, h->load_addr);
        load_size = (uint64_t)h->load_end_addr - h->load_addr;
        if (load_size > len - file_off)
            return loader_fail(err, errlen, "The multiboot kernel should hold %llu bytes to load but the file "
                               "has only %llu; it is truncated.", (unsigned long long)load_size,
                               (unsigned long long)(len - file_off));
    }
    uint64_t end = h->load_addr + load_size;
    if (h->bss_end_addr) {
        if (h->bss_end_addr < end)
            return loader_fail(err, errlen, "The multiboot header's bss end 0x%x lies before the end of the "
                               "loaded image 0x%llx; the kernel is damaged.", h->bss_end_addr,
                               (unsigned long long)end);
        end = h->bss_end_addr;
    }
    if (end > GUEST_HIGH_RAM_START)
        return loader_fail(err, errlen, "The multiboot kernel extends past 4 GiB, which a 32-bit kernel cannot "
                           "address; it is damaged.");
    if (loader_check_ram(mem, h->load_addr, end - h->load_addr, "The kernel", err, errlen) < 0)
        return -1;
    if (h->entry_addr < h->load_addr || h->entry_addr >= end)
        return loader_fail(err, errlen, "The multiboot entry point 0x%x is outside the kernel at 0x%x-0x%llx; "
                           "the kernel is damaged.", h->entry_addr, h->load_addr, (unsigned long long)end);
    uint8_t *dst = guest_mem_ptr(mem, h->load_addr, end - h->load_addr);
    memcpy(dst, file + file_off, load_size);
    memset(dst + load_size, 0, end - h->load_addr - load_size);
    img->entry = h->entry_addr;
    img->load_start = h->load_addr;
    img->load_end = end;
    return 0;
}

static int multiboot_load_elf(const struct guest_mem *mem, const uint8_t *file, size_t len,
                              struct boot_image *img, char *err, size_t errlen)
{
    if (!elf_is_elf(file, len))
        return loader_fail(err, errlen, "The multiboot kernel is neither ELF nor does its header give load "
                           "addresses (flag 16); Hostel cannot tell where to load it.");
    struct elf_image e;
    if (elf_parse(mem, file, len, &e, err, errlen) < 0)
        return -1;
    if (!e.entry_valid)
        return loader_fail(err, errlen, "The multiboot kernel's ELF entry point is outside every segment it "
                           "loads; the kernel is damaged.");
    if (e.load_end > GUEST_HIGH_RAM_START || e.entry >= GUEST_HIGH_RAM_START)
        return loader_fail(err, errlen, "The multiboot kernel loads above 4 GiB, which its 32-bit entry cannot "
                           "reach; it cannot be booted.");
    elf_copy(mem, file, len);
    img->entry = e.entry;
    img->load_start = e.load_start;
    img->load_end = e.load_end;
    img->has_pvh_entry = e.has_pvh;
    img->pvh_entry = e.pvh_entry;
    return 0;
}

int multiboot_load(const struct guest_mem *mem, const uint8_t *file, size_t len,
                   const struct multiboot_header *hdr, struct boot_image *img, char *err,
                   size_t errlen)
{
    /* Bits 0-15 are requirements: a loader that cannot meet one must refuse. */
    if (hdr->flags & MULTIBOOT_VIDEO_MODE)
        return loader_fail(err, errlen, "This multiboot kernel requires the boot loader to set a video mode, "
                           "which Hostel does not do; rebuild it without the video mode flag (bit 2).");
    uint32_t unknown = hdr->flags & 0xfff8u;
    if (unknown)
        return loader_fail(err, errlen, "This multiboot kernel requires features Hostel does not know (header "
                           "flags 0x%x); it cannot be booted.", unknown);
    int r = (hdr->flags & MULTIBOOT_AOUT_KLUDGE) ? multiboot_load_kludge(mem, file, len, hdr, img, err, errlen)
                                                 : multiboot_load_elf(mem, file, len, img, err, errlen);
    if (r < 0)
        return -1;
    img->kind = BOOT_MULTIBOOT;
    img->has_multiboot = true;
    img->multiboot_flags = hdr->flags;
    return 0;
}
