/* Linux bzImage (Documentation/x86/boot.rst). Two ways in:
 *  - LINUX64/PVH: decompress the payload here and load the vmlinux ELF it
 *    holds at its physical addresses, then enter startup_64 (or the PVH
 *    entry) directly. No real-mode or decompressor code runs in the guest.
 *  - LINUX32: copy the protected-mode code to 0x100000 and enter it at
 *    code32_start, so the kernel's own decompressor runs. This works for any
 *    compression, which is why AUTO falls back to it. */
#include "loader/loader_internal.h"

#include <stdlib.h>
#include <string.h>

#define BZIMAGE_PM_LOAD 0x100000ull   /* where the 32-bit protocol puts the kernel */

bool bzimage_is_bzimage(const uint8_t *file, size_t len)
{
    return len >= SETUP_HEADER + 4 && memcmp(file + SETUP_HEADER, "HdrS", 4) == 0;
}

struct bzimage {
    uint16_t version;
    uint64_t pm_size;
    const uint8_t *pm;
    const uint8_t *payload;
    uint32_t payload_len;
    uint32_t init_size;          /* 0 before protocol 2.10 */
    uint64_t pref_address;
    bool kernel64;
    const char *compression;     /* NULL: unrecognised */
    bool supported;
};

static int bzimage_parse(const uint8_t *file, size_t len, struct bzimage *bz, struct boot_image *img,
                         char *err, size_t errlen)
{
    memset(bz, 0, sizeof(*bz));
    if (len < SETUP_VERSION + 2)
        return loader_fail(err, errlen, "The bzImage ends inside its setup header; the file is truncated.");
    if (loader_get16(file + SETUP_BOOT_FLAG) != 0xaa55)
        return loader_fail(err, errlen, "The file has a Linux setup header but no 0xAA55 boot flag; the "
                           "bzImage is damaged.");
    bz->version = loader_get16(file + SETUP_VERSION);
    if (bz->version < 0x0208)
        return loader_fail(err, errlen, "This kernel uses Linux boot protocol %u.%02u, older than 2.08 "
                           "(Linux 2.6.26), which Hostel does not support; use a newer kernel.",
                           bz->version >> 8, bz->version & 0xff);
    /* The header ends where its leading short jump lands. */
    size_t hdr_end = SETUP_HEADER + file[SETUP_JUMP + 1];
    if (hdr_end < SETUP_PAYLOAD_LENGTH + 4)
        return loader_fail(err, errlen, "The kernel's setup header is shorter than boot protocol %u.%02u "
                           "requires; the bzImage is damaged.", bz->version >> 8, bz->version & 0xff);
    if (hdr_end > len)
        return loader_fail(err, errlen, "The bzImage ends inside its setup header; the file is truncated.");
    if (hdr_end > LOADER_SETUP_HEADER_OFFSET + LOADER_SETUP_HEADER_MAX)
        hdr_end = LOADER_SETUP_HEADER_OFFSET + LOADER_SETUP_HEADER_MAX;
    img->from_bzimage = true;
    img->protocol = bz->version;
    img->setup_header_len = hdr_end - LOADER_SETUP_HEADER_OFFSET;
    memcpy(img->setup_header, file + LOADER_SETUP_HEADER_OFFSET, img->setup_header_len);

    unsigned setup_sects = file[SETUP_SETUP_SECTS] ? file[SETUP_SETUP_SECTS] : 4;
    uint64_t pm_off = (uint64_t)(setup_sects + 1) * 512;
    if (pm_off >= len)
        return loader_fail(err, errlen, "The bzImage ends inside its real-mode setup code; the file is "
                           "truncated.");
    /* syssize, not the file size: signed kernels carry a signature after it. */
    bz->pm_size = (uint64_t)loader_get32(file + SETUP_SYSSIZE) * 16;
    if (bz->pm_size == 0)
        return loader_fail(err, errlen, "The kernel's setup header gives no protected-mode code size; the "
                           "bzImage is damaged.");
    if (bz->pm_size > len - pm_off)
        return loader_fail(err, errlen, "The bzImage should hold %llu bytes of kernel code but the file has "
                           "only %llu after the setup code; the file is truncated.",
                           (unsigned long long)bz->pm_size, (unsigned long long)(len - pm_off));
    bz->pm = file + pm_off;
    uint32_t poff = loader_get32(file + SETUP_PAYLOAD_OFFSET);
    bz->payload_len = loader_get32(file + SETUP_PAYLOAD_LENGTH);
    if (bz->payload_len == 0 || !loader_range_ok(poff, bz->payload_len, bz->pm_size))
        return loader_fail(err, errlen, "The kernel's compressed payload lies outside its code; the bzImage "
                           "is truncated or damaged.");
    bz->payload = bz->pm + poff;
    bz->compression = decompress_detect(bz->payload, bz->payload_len, &bz->supported);
    img->compression = bz->compression ? bz->compression : "unknown";
    if (hdr_end >= SETUP_INIT_SIZE + 4 && bz->version >= 0x020a) {
        bz->init_size = loader_get32(file + SETUP_INIT_SIZE);
        bz->pref_address = loader_get64(file + SETUP_PREF_ADDRESS);
    } else {
        bz->pref_address = 0x1000000;   /* LOAD_PHYSICAL_ADDR of that era */
    }
    if (hdr_end >= SETUP_XLOADFLAGS + 2 && bz->version >= 0x020c)
        bz->kernel64 = loader_get16(file + SETUP_XLOADFLAGS) & XLF_KERNEL_64;
    return 0;
}

static int bzimage_load_vmlinux(const struct guest_mem *mem, const struct bzimage *bz,
                                enum boot_kind kind, struct boot_image *img, char *err, size_t errlen)
{
    if (!bz->compression)
        return loader_fail(err, errlen, "The kernel's payload is in an unknown compression format; the file "
                           "is damaged, or if it is a newer kernel, boot it with the linux32 protocol.");
    if (!bz->supported)
        return loader_fail(err, errlen, "The kernel is compressed with %s, which Hostel cannot decompress; "
                           "boot it with the linux32 protocol or use a kernel built with gzip, xz, lz4 or "
                           "zstd.", bz->compression);
    /* init_size covers the kernel's own decompression buffer, so the
     * decompressed payload can never honestly be bigger. */
    size_t max = bz->init_size ? bz->init_size : DECOMPRESS_MAX_OUT;
    uint8_t *vm;
    size_t vm_len;
    if (decompress_buffer(bz->payload, bz->payload_len, max, &vm, &vm_len, err, errlen) < 0)
        return -1;
    int r = -1;
    struct elf_image e;
    if (!elf_is_elf(vm, vm_len)) {
        loader_fail(err, errlen, "The kernel's payload does not decompress to an ELF vmlinux; the bzImage is "
                    "damaged.");
        goto out;
    }
    if (elf_parse(mem, vm, vm_len, &e, err, errlen) < 0)
        goto out;
    if (kind == BOOT_LINUX64) {
        if (!e.is64 || e.machine != ELF_EM_X86_64 || !e.entry_valid) {
            loader_fail(err, errlen, "The kernel's decompressed vmlinux is not a 64-bit x86 ELF with a valid "
                        "entry point; the bzImage is damaged.");
            goto out;
        }
        img->entry = e.entry;
    } else {
        if (!e.has_pvh) {
            loader_fail(err, errlen, "This kernel has no usable PVH entry note; boot it with the Linux "
                        "protocol instead, or build it with CONFIG_PVH.");
            goto out;
        }
        img->entry = e.pvh_entry;
        if (e.load_end > GUEST_HIGH_RAM_START) {
            loader_fail(err, errlen, "The kernel loads above 4 GiB, which the 32-bit PVH entry cannot reach; "
                        "boot it with the Linux protocol instead.");
            goto out;
        }
    }
    img->kind = kind;
    img->load_start = e.load_start;
    img->load_end = e.load_end;
    img->has_pvh_entry = e.has_pvh;
    img->pvh_entry = e.pvh_entry;
    elf_copy(mem, vm, vm_len);
    r = 0;
out:
    free(vm);
    return r;
}

static int bzimage_load_pm(const struct guest_mem *mem, const struct bzimage *bz, struct boot_image *img,
                           char *err, size_t errlen)
{
    /* The decompressor moves itself and unpacks to the larger of the load
     * address and LOAD_PHYSICAL_ADDR (pref_address), using init_size bytes
     * there; all of that must be RAM, and the initrd must stay clear. */
    uint64_t target = bz->pref_address > BZIMAGE_PM_LOAD ? bz->pref_address : BZIMAGE_PM_LOAD;
    uint64_t end = BZIMAGE_PM_LOAD + bz->pm_size;
    if (target >= GUEST_HIGH_RAM_START || bz->init_size > GUEST_HIGH_RAM_START - target)
        return loader_fail(err, errlen, "The kernel wants to decompress itself above 4 GiB (at 0x%llx), which "
                           "the 32-bit boot protocol cannot reach; the bzImage is damaged.",
                           (unsigned long long)target);
    if (target + bz->init_size > end)
        end = target + bz->init_size;
    if (loader_check_ram(mem, BZIMAGE_PM_LOAD, end - BZIMAGE_PM_LOAD,
                         "The kernel (with the room it needs to decompress itself)", err, errlen) < 0)
        return -1;
    guest_mem_write(mem, BZIMAGE_PM_LOAD, bz->pm, bz->pm_size);
    img->kind = BOOT_LINUX32;
    img->entry = BZIMAGE_PM_LOAD;
    img->load_start = BZIMAGE_PM_LOAD;
    img->load_end = end;
    loader_put32(loader_setup_field(img, SETUP_CODE32_START), (uint32_t)BZIMAGE_PM_LOAD);
    return 0;
}

int bzimage_load(const struct guest_mem *mem, const uint8_t *file, size_t len, enum boot_kind want,
                 struct boot_image *img, char *err, size_t errlen)
{
    if (want == BOOT_MULTIBOOT)
        return loader_fail(err, errlen, "This is a Linux bzImage, not a multiboot kernel; boot it with the "
                           "Linux protocol (auto).");
    struct bzimage bz;
    if (bzimage_parse(file, len, &bz, img, err, errlen) < 0)
        return -1;
    enum boot_kind kind = want;
    if (kind == BOOT_AUTO) {
        if (!bz.kernel64)
            kind = BOOT_LINUX32;
        else if (bz.compression && !bz.supported)
            kind = BOOT_LINUX32;   /* bzip2/lzo: let the kernel decompress itself */
        else
            kind = BOOT_LINUX64;
    }
    if (kind == BOOT_LINUX64 && !bz.kernel64)
        return loader_fail(err, errlen, "This is a 32-bit kernel, which cannot use the 64-bit boot protocol; "
                           "boot it with linux32 (auto does).");
    if (kind == BOOT_LINUX32)
        return bzimage_load_pm(mem, &bz, img, err, errlen);
    return bzimage_load_vmlinux(mem, &bz, kind, img, err, errlen);
}
