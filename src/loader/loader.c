/* Format detection, protocol choice, ELF/vmlinux boot and initrd placement. */
#include "loader/loader_internal.h"

#include <stdio.h>
#include <string.h>

int loader_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int loader_check_ram(const struct guest_mem *mem, uint64_t start, uint64_t size, const char *what,
                     char *err, size_t errlen)
{
    if (size == 0)
        size = 1;
    if (start + size < start)
        return loader_fail(err, errlen,
                           "%s wants to load at 0x%llx, past the end of the address space; "
                           "the image is damaged.", what, (unsigned long long)start);
    if (guest_mem_ptr(mem, start, size))
        return 0;
    uint64_t end = start + size;
    /* Only say "more memory" when more memory would actually help. */
    bool fixable = end <= GUEST_PCI_HOLE_START ||
                   (start >= GUEST_HIGH_RAM_START && end - GUEST_HIGH_RAM_START <= (1ull << 40));
    if (fixable)
        return loader_fail(err, errlen,
                           "%s wants to load at 0x%llx-0x%llx but the VM has only %llu MiB of memory; "
                           "give it more with --memory.", what, (unsigned long long)start,
                           (unsigned long long)end, (unsigned long long)(mem->ram_size >> 20));
    if (start < GUEST_HIGH_RAM_START && end > GUEST_PCI_HOLE_START)
        return loader_fail(err, errlen,
                           "%s wants to load at 0x%llx-0x%llx, across the PCI hole at 3-4 GiB where a PC "
                           "has no RAM, so it cannot be booted.", what, (unsigned long long)start,
                           (unsigned long long)end);
    return loader_fail(err, errlen,
                       "%s wants to load at 0x%llx-0x%llx, far beyond any RAM a VM can have; the image "
                       "is damaged or not meant for direct booting.", what, (unsigned long long)start,
                       (unsigned long long)end);
}

const char *loader_boot_kind_name(enum boot_kind kind)
{
    switch (kind) {
    case BOOT_AUTO: return "auto";
    case BOOT_LINUX64: return "linux64";
    case BOOT_LINUX32: return "linux32";
    case BOOT_PVH: return "pvh";
    case BOOT_MULTIBOOT: return "multiboot";
    }
    return "unknown";
}

void loader_synth_setup_header(struct boot_image *img)
{
    /* What a bootloader would find in a protocol 2.15 bzImage, enough for
     * the kernel proper, which reads boot_params.hdr but never the setup code. */
    memset(img->setup_header, 0, sizeof(img->setup_header));
    img->setup_header_len = SETUP_HEADER_END_V215 - LOADER_SETUP_HEADER_OFFSET;
    img->protocol = 0x020f;
    loader_put16(loader_setup_field(img, SETUP_BOOT_FLAG), 0xaa55);
    /* A short jump over the header: its length byte is how the kernel knows
     * where the header ends. */
    loader_setup_field(img, SETUP_JUMP)[0] = 0xeb;
    loader_setup_field(img, SETUP_JUMP)[1] = SETUP_HEADER_END_V215 - SETUP_HEADER;
    memcpy(loader_setup_field(img, SETUP_HEADER), "HdrS", 4);
    loader_put16(loader_setup_field(img, SETUP_VERSION), img->protocol);
    loader_setup_field(img, SETUP_TYPE_OF_LOADER)[0] = 0xff;
    loader_setup_field(img, SETUP_LOADFLAGS)[0] = LOADFLAGS_LOADED_HIGH;
    loader_put32(loader_setup_field(img, SETUP_CODE32_START), (uint32_t)img->load_start);
    loader_put32(loader_setup_field(img, SETUP_INITRD_ADDR_MAX), 0x7fffffff);
    loader_put32(loader_setup_field(img, SETUP_KERNEL_ALIGNMENT), 0x1000000);
    loader_put16(loader_setup_field(img, SETUP_XLOADFLAGS), XLF_KERNEL_64);
    loader_put32(loader_setup_field(img, SETUP_CMDLINE_SIZE), 2047);
    loader_put64(loader_setup_field(img, SETUP_PREF_ADDRESS), img->load_start);
    uint64_t span = img->load_end - img->load_start;
    loader_put32(loader_setup_field(img, SETUP_INIT_SIZE), span > UINT32_MAX ? UINT32_MAX : (uint32_t)span);
}

/* PVH and multiboot start in 32-bit mode without paging. */
static int loader_check_below_4g(const struct boot_image *img, const char *proto, char *err,
                                 size_t errlen)
{
    if (img->load_end > GUEST_HIGH_RAM_START || img->entry >= GUEST_HIGH_RAM_START)
        return loader_fail(err, errlen,
                           "The kernel loads at 0x%llx-0x%llx, above 4 GiB, which its 32-bit %s entry "
                           "cannot reach; the image cannot be booted this way.",
                           (unsigned long long)img->load_start, (unsigned long long)img->load_end, proto);
    return 0;
}

static int loader_load_elf(const struct guest_mem *mem, const uint8_t *file, size_t len,
                           enum boot_kind want, struct boot_image *img, char *err, size_t errlen)
{
    struct multiboot_header mb;
    int mbr = multiboot_find_header(file, len, &mb);
    if (want == BOOT_MULTIBOOT || (want == BOOT_AUTO && mbr == 1)) {
        if (mbr != 1)
            return loader_fail(err, errlen, mbr < 0 ?
                               "The kernel's multiboot header has a bad checksum or is cut off; rebuild "
                               "the kernel or boot it another way." :
                               "The kernel has no multiboot header in its first 8 KiB; boot it as Linux or "
                               "PVH instead of multiboot.");
        return multiboot_load(mem, file, len, &mb, img, err, errlen);
    }
    if (want == BOOT_LINUX32)
        return loader_fail(err, errlen,
                           "The 32-bit Linux boot protocol needs a bzImage, and this is an ELF file; "
                           "boot it with the 64-bit Linux protocol or PVH.");

    struct elf_image e;
    if (elf_parse(mem, file, len, &e, err, errlen) < 0)
        return -1;
    bool linux64_ok = e.is64 && e.machine == ELF_EM_X86_64 && e.entry_valid;
    enum boot_kind kind = want;
    if (kind == BOOT_AUTO) {
        /* A 64-bit vmlinux uses the native Linux protocol; anything else
         * carrying a PVH note asked for PVH by carrying it. */
        if (linux64_ok && (e.has_linux_note || !e.has_pvh))
            kind = BOOT_LINUX64;
        else if (e.has_pvh)
            kind = BOOT_PVH;
        else if (e.pvh_malformed)
            return loader_fail(err, errlen,
                               "The kernel's PVH entry note is malformed or points outside the kernel; "
                               "rebuild the kernel.");
        else if (mbr < 0)
            return loader_fail(err, errlen,
                               "The kernel's multiboot header has a bad checksum or is cut off, and it has no "
                               "other entry Hostel can use; rebuild the kernel.");
        else
            return loader_fail(err, errlen,
                               "This ELF file is not a 64-bit vmlinux and has neither a PVH note nor a "
                               "multiboot header, so Hostel does not know how to start it.");
    }

    img->has_pvh_entry = e.has_pvh;
    img->pvh_entry = e.pvh_entry;
    img->load_start = e.load_start;
    img->load_end = e.load_end;
    if (kind == BOOT_LINUX64) {
        if (!e.is64 || e.machine != ELF_EM_X86_64)
            return loader_fail(err, errlen,
                               "The 64-bit Linux boot protocol needs an x86-64 ELF64 vmlinux, and this is a "
                               "32-bit ELF; boot it with PVH or multiboot.");
        if (!e.entry_valid)
            return loader_fail(err, errlen,
                               "The kernel's ELF entry point is outside every segment it loads; the "
                               "image is damaged.");
        img->entry = e.entry;
        loader_synth_setup_header(img);
    } else {
        if (e.pvh_malformed && !e.has_pvh)
            return loader_fail(err, errlen,
                               "The kernel's PVH entry note is malformed or points outside the kernel; "
                               "rebuild the kernel.");
        if (!e.has_pvh)
            return loader_fail(err, errlen,
                               "The kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); boot it with "
                               "the Linux protocol instead, or build it with CONFIG_PVH.");
        img->entry = e.pvh_entry;
        if (loader_check_below_4g(img, "PVH", err, errlen) < 0)
            return -1;
    }
    img->kind = kind;
    elf_copy(mem, file, len);
    return 0;
}

int loader_load_kernel(const struct guest_mem *mem, const uint8_t *file, size_t len,
                       enum boot_kind want, struct boot_image *img, char *err, size_t errlen)
{
    memset(img, 0, sizeof(*img));
    img->compression = "none";
    if (err && errlen)
        err[0] = '\0';
    if (want < BOOT_AUTO || want > BOOT_MULTIBOOT)
        return loader_fail(err, errlen, "Unknown boot protocol %d requested; use auto, linux64, linux32, "
                           "pvh or multiboot.", (int)want);
    if (!file || len == 0)
        return loader_fail(err, errlen, "The kernel file is empty; point Hostel at a real kernel image.");

    int r;
    if (bzimage_is_bzimage(file, len)) {
        r = bzimage_load(mem, file, len, want, img, err, errlen);
    } else if (elf_is_elf(file, len)) {
        r = loader_load_elf(mem, file, len, want, img, err, errlen);
    } else {
        struct multiboot_header mb;
        int mbr = multiboot_find_header(file, len, &mb);
        bool supported;
        const char *comp = decompress_detect(file, len, &supported);
        if (mbr == 1 && want != BOOT_AUTO && want != BOOT_MULTIBOOT)
            r = loader_fail(err, errlen, "This is a multiboot kernel, which can only be started with the "
                            "multiboot protocol; choose multiboot or auto.");
        else if (mbr == 1)
            r = multiboot_load(mem, file, len, &mb, img, err, errlen);
        else if (mbr < 0)
            r = loader_fail(err, errlen, "The kernel's multiboot header has a bad checksum or is cut off; "
                            "rebuild the kernel.");
        else if (comp && strcmp(comp, "none") != 0)
            r = loader_fail(err, errlen, "The kernel file is %s-compressed as a whole; decompress it first "
                            "and boot the result.", comp);
        else if (len >= 2 && file[0] == 'M' && file[1] == 'Z')
            r = loader_fail(err, errlen, "This is a UEFI (PE) executable without a Linux boot header, which "
                            "Hostel cannot start directly; use a bzImage, ELF or multiboot kernel.");
        else if (len >= 0x200 && loader_get16(file + SETUP_BOOT_FLAG) == 0xaa55)
            r = loader_fail(err, errlen, "This is a boot sector or a pre-2.0 zImage, not a kernel Hostel can "
                            "load; use a bzImage, an ELF vmlinux or a multiboot kernel.");
        else
            r = loader_fail(err, errlen, "Hostel does not recognise this kernel format; use a bzImage, an ELF "
                            "vmlinux or a multiboot kernel.");
    }
    if (r < 0) {
        /* Never leave a half-filled description behind. */
        memset(img, 0, sizeof(*img));
        img->compression = "none";
        if (err && errlen && !err[0])
            loader_fail(err, errlen, "The kernel could not be loaded.");
    }
    return r;
}

int loader_place_initrd(const struct guest_mem *mem, const struct boot_image *img,
                        const uint8_t *initrd, size_t len, uint64_t limit,
                        uint64_t *gpa, char *err, size_t errlen)
{
    if (!initrd || len == 0)
        return loader_fail(err, errlen, "The initrd file is empty; give a real initrd or leave it out.");
    uint64_t top = guest_mem_low_size(mem);
    uint64_t cap = GUEST_HIGH_RAM_START;
    if ((img->kind == BOOT_LINUX64 || img->kind == BOOT_LINUX32) && img->setup_header_len) {
        /* Protocols before 2.03 leave initrd_addr_max undefined; they meant
         * 0x37ffffff. */
        uint32_t max = img->protocol >= 0x0203 && img->setup_header_len >= SETUP_INITRD_ADDR_MAX + 4 -
                       LOADER_SETUP_HEADER_OFFSET ?
                       loader_get32(loader_setup_field_const(img, SETUP_INITRD_ADDR_MAX)) : 0x37ffffff;
        cap = (uint64_t)max + 1;
    }
    if (top > cap)
        top = cap;
    if (limit && top > limit)
        top = limit;
    uint64_t bottom = (img->load_end + 0xfff) & ~0xfffull;
    if (bottom < img->load_end)
        bottom = UINT64_MAX;
    if (len > top || ((top - len) & ~0xfffull) < bottom)
        return loader_fail(err, errlen,
                           "The initrd (%llu MiB) does not fit between the end of the kernel at 0x%llx and "
                           "0x%llx; give the VM more memory with --memory or use a smaller initrd.",
                           (unsigned long long)((len + (1 << 20) - 1) >> 20),
                           (unsigned long long)img->load_end, (unsigned long long)top);
    uint64_t addr = (top - len) & ~0xfffull;
    if (guest_mem_write(mem, addr, initrd, len) < 0)
        return loader_check_ram(mem, addr, len, "The initrd", err, errlen);
    *gpa = addr;
    return 0;
}
