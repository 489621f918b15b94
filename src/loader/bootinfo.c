/* The structures a kernel finds at boot: the Linux zero page
 * (Documentation/x86/zero-page.rst, boot.rst), Xen's PVH hvm_start_info
 * (xen/include/public/arch-x86/hvm/start_info.h) and the multiboot v1
 * information structure (Multiboot Specification 0.6.96, section 3.3).
 * Each is assembled in a host buffer and written to the guest in one go,
 * so a failure leaves guest RAM untouched. */
#include "loader/loader_internal.h"

#include <stdlib.h>
#include <string.h>

/* struct boot_params offsets. */
#define ZP_SIZE 4096
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_MAX 128
#define ZP_E820_ENTRY_SIZE 20

/* struct hvm_start_info and friends. */
#define PVH_MAGIC 0x336ec578u
#define PVH_START_INFO_SIZE 0x38
#define PVH_MODLIST_ENTRY_SIZE 32
#define PVH_MEMMAP_ENTRY_SIZE 24

/* struct multiboot_info and friends. */
#define MB_INFO_SIZE 116
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MEM_MAP (1u << 6)
#define MB_INFO_BOOT_LOADER_NAME (1u << 9)
#define MB_MOD_SIZE 16
#define MB_MMAP_ENTRY_SIZE 24         /* a 4-byte size field, then 20 bytes */
#define MB_LOADER_NAME "hostel"

static uint64_t bootinfo_align8(uint64_t v)
{
    return (v + 7) & ~7ull;
}

/* Common checks for the boot information area: it must be RAM, must not
 * overlap the kernel, and must hold need bytes. */
static int bootinfo_check_area(const struct guest_mem *mem, const struct boot_image *img,
                               uint64_t gpa, uint64_t size, uint64_t need, char *err, size_t errlen)
{
    if (need > size)
        return loader_fail(err, errlen, "The boot information needs %llu bytes but only %llu are reserved for "
                           "it; use a shorter command line.", (unsigned long long)need,
                           (unsigned long long)size);
    if (loader_check_ram(mem, gpa, need, "The boot information", err, errlen) < 0)
        return -1;
    if (img->load_end > img->load_start && gpa < img->load_end && img->load_start < gpa + need)
        return loader_fail(err, errlen, "The kernel occupies 0x%llx-0x%llx, which overlaps the boot information "
                           "at 0x%llx-0x%llx, so Hostel cannot boot this kernel.",
                           (unsigned long long)img->load_start, (unsigned long long)img->load_end,
                           (unsigned long long)gpa, (unsigned long long)(gpa + need));
    return 0;
}

static int bootinfo_check_initrd(const struct guest_mem *mem, const struct boot_config *cfg,
                                 uint64_t gpa, uint64_t need, char *err, size_t errlen)
{
    if (!cfg->initrd_size)
        return 0;
    if (loader_check_ram(mem, cfg->initrd_addr, cfg->initrd_size, "The initrd", err, errlen) < 0)
        return -1;
    if (cfg->initrd_addr < gpa + need && gpa < cfg->initrd_addr + cfg->initrd_size)
        return loader_fail(err, errlen, "The initrd at 0x%llx-0x%llx overlaps the boot information at "
                           "0x%llx-0x%llx; place the initrd clear of the boot information.",
                           (unsigned long long)cfg->initrd_addr,
                           (unsigned long long)(cfg->initrd_addr + cfg->initrd_size),
                           (unsigned long long)gpa, (unsigned long long)(gpa + need));
    return 0;
}

/* Write the buffer, which the area checks already proved fits in RAM. */
static int bootinfo_write(const struct guest_mem *mem, uint64_t gpa, uint8_t *buf, uint64_t len,
                          char *err, size_t errlen)
{
    int r = guest_mem_write(mem, gpa, buf, len);
    free(buf);
    if (r < 0)
        return loader_check_ram(mem, gpa, len, "The boot information", err, errlen);
    return 0;
}

static uint8_t *bootinfo_alloc(uint64_t len, char *err, size_t errlen)
{
    uint8_t *p = len <= SIZE_MAX ? calloc(1, (size_t)len) : NULL;
    if (!p)
        loader_fail(err, errlen, "Hostel ran out of memory building the boot information; close other "
                    "programs and try again.");
    return p;
}

int loader_build_zero_page(const struct guest_mem *mem, const struct boot_image *img,
                           const struct boot_config *cfg, uint64_t area_gpa, uint64_t area_size,
                           char *err, size_t errlen)
{
    if (img->kind != BOOT_LINUX64 && img->kind != BOOT_LINUX32)
        return loader_fail(err, errlen, "A Linux zero page is only for the Linux boot protocol, but this "
                           "kernel boots with %s; build that protocol's information instead.",
                           loader_boot_kind_name(img->kind));
    if (img->setup_header_len < SETUP_CMDLINE_SIZE + 4 - LOADER_SETUP_HEADER_OFFSET)
        return loader_fail(err, errlen, "The kernel has no Linux setup header, so it cannot use the Linux "
                           "boot protocol; boot it with its own protocol.");
    const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
    size_t cl = strlen(cmdline);
    uint32_t cl_max = img->protocol >= 0x0206 ?
                      loader_get32(loader_setup_field_const(img, SETUP_CMDLINE_SIZE)) : 255;
    if (cl > cl_max)
        return loader_fail(err, errlen, "The kernel command line is %zu bytes but this kernel accepts at most "
                           "%u; shorten it.", cl, cl_max);
    if (cfg->e820_count > ZP_E820_MAX)
        return loader_fail(err, errlen, "The memory map has %u entries but the zero page holds at most %u; "
                           "give the VM fewer memory regions.", cfg->e820_count, ZP_E820_MAX);
    uint64_t need = ZP_SIZE + cl + 1;
    if (bootinfo_check_area(mem, img, area_gpa, area_size, need, err, errlen) < 0 ||
        bootinfo_check_initrd(mem, cfg, area_gpa, need, err, errlen) < 0)
        return -1;
    uint16_t xlf = img->protocol >= 0x020c ? loader_get16(loader_setup_field_const(img, SETUP_XLOADFLAGS)) : 0;
    uint64_t cmdline_gpa = area_gpa + ZP_SIZE;
    bool high_ok = xlf & XLF_CAN_BE_LOADED_ABOVE_4G;
    if (cmdline_gpa + cl >= GUEST_HIGH_RAM_START && !high_ok)
        return loader_fail(err, errlen, "The boot information is above 4 GiB but this kernel can only read it "
                           "below; place it lower.");
    if (cfg->initrd_size) {
        uint64_t end = cfg->initrd_addr + cfg->initrd_size - 1;
        uint32_t max = img->protocol >= 0x0203 ?
                       loader_get32(loader_setup_field_const(img, SETUP_INITRD_ADDR_MAX)) : 0x37ffffff;
        if (end >= GUEST_HIGH_RAM_START ? !high_ok : end > max)
            return loader_fail(err, errlen, "The initrd at 0x%llx-0x%llx lies above the highest address this "
                               "kernel accepts (0x%x); place it lower.", (unsigned long long)cfg->initrd_addr,
                               (unsigned long long)end + 1, max);
    }

    uint8_t *buf = bootinfo_alloc(need, err, errlen);
    if (!buf)
        return -1;
    memcpy(buf + LOADER_SETUP_HEADER_OFFSET, img->setup_header, img->setup_header_len);
    buf[SETUP_TYPE_OF_LOADER] = 0xff;   /* "undefined" loader: we have no assigned ID */
    buf[SETUP_LOADFLAGS] |= LOADFLAGS_LOADED_HIGH;
    if (img->kind == BOOT_LINUX32)
        loader_put32(buf + SETUP_CODE32_START, (uint32_t)img->entry);
    loader_put32(buf + SETUP_CMD_LINE_PTR, (uint32_t)cmdline_gpa);
    loader_put32(buf + ZP_EXT_CMD_LINE_PTR, (uint32_t)(cmdline_gpa >> 32));
    if (cfg->initrd_size) {
        loader_put32(buf + SETUP_RAMDISK_IMAGE, (uint32_t)cfg->initrd_addr);
        loader_put32(buf + SETUP_RAMDISK_SIZE, (uint32_t)cfg->initrd_size);
        loader_put32(buf + ZP_EXT_RAMDISK_IMAGE, (uint32_t)(cfg->initrd_addr >> 32));
        loader_put32(buf + ZP_EXT_RAMDISK_SIZE, (uint32_t)(cfg->initrd_size >> 32));
    }
    if (cfg->acpi_rsdp)
        loader_put64(buf + ZP_ACPI_RSDP_ADDR, cfg->acpi_rsdp);
    buf[ZP_E820_ENTRIES] = (uint8_t)cfg->e820_count;
    for (unsigned i = 0; i < cfg->e820_count; i++) {
        uint8_t *e = buf + ZP_E820_TABLE + i * ZP_E820_ENTRY_SIZE;
        loader_put64(e, cfg->e820[i].addr);
        loader_put64(e + 8, cfg->e820[i].size);
        loader_put32(e + 16, cfg->e820[i].type);
    }
    memcpy(buf + ZP_SIZE, cmdline, cl + 1);
    return bootinfo_write(mem, area_gpa, buf, need, err, errlen);
}

int loader_build_pvh_start_info(const struct guest_mem *mem, const struct boot_image *img,
                                const struct boot_config *cfg, uint64_t area_gpa,
                                uint64_t area_size, char *err, size_t errlen)
{
    const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
    const char *modline = cfg->initrd_cmdline;
    size_t cl = strlen(cmdline), ml = modline ? strlen(modline) : 0;
    if (area_gpa & 7)
        return loader_fail(err, errlen, "The PVH start info must be 8-byte aligned, but 0x%llx is not; this "
                           "is a Hostel bug.", (unsigned long long)area_gpa);
    if (cfg->e820_count > 4096)
        return loader_fail(err, errlen, "The memory map has %u entries, far more than a VM needs; give the VM "
                           "fewer memory regions.", cfg->e820_count);
    /* Layout: start_info, module list, memory map, command line, module line. */
    uint64_t mod_off = PVH_START_INFO_SIZE;
    uint64_t map_off = mod_off + (cfg->initrd_size ? PVH_MODLIST_ENTRY_SIZE : 0);
    uint64_t cl_off = map_off + (uint64_t)cfg->e820_count * PVH_MEMMAP_ENTRY_SIZE;
    uint64_t ml_off = bootinfo_align8(cl_off + cl + 1);
    uint64_t need = modline ? ml_off + ml + 1 : cl_off + cl + 1;
    if (bootinfo_check_area(mem, img, area_gpa, area_size, need, err, errlen) < 0 ||
        bootinfo_check_initrd(mem, cfg, area_gpa, need, err, errlen) < 0)
        return -1;
    uint8_t *buf = bootinfo_alloc(need, err, errlen);
    if (!buf)
        return -1;
    loader_put32(buf + 0x00, PVH_MAGIC);
    loader_put32(buf + 0x04, 1);                          /* version: has the memmap */
    loader_put32(buf + 0x08, 0);                          /* flags */
    loader_put32(buf + 0x0c, cfg->initrd_size ? 1 : 0);   /* nr_modules */
    loader_put64(buf + 0x10, cfg->initrd_size ? area_gpa + mod_off : 0);
    loader_put64(buf + 0x18, area_gpa + cl_off);          /* cmdline_paddr */
    loader_put64(buf + 0x20, cfg->acpi_rsdp);             /* rsdp_paddr */
    loader_put64(buf + 0x28, cfg->e820_count ? area_gpa + map_off : 0);
    loader_put32(buf + 0x30, cfg->e820_count);
    if (cfg->initrd_size) {
        uint8_t *m = buf + mod_off;
        loader_put64(m, cfg->initrd_addr);
        loader_put64(m + 8, cfg->initrd_size);
        loader_put64(m + 16, modline ? area_gpa + ml_off : 0);
    }
    for (unsigned i = 0; i < cfg->e820_count; i++) {
        uint8_t *e = buf + map_off + (uint64_t)i * PVH_MEMMAP_ENTRY_SIZE;
        loader_put64(e, cfg->e820[i].addr);
        loader_put64(e + 8, cfg->e820[i].size);
        loader_put32(e + 16, cfg->e820[i].type);
    }
    memcpy(buf + cl_off, cmdline, cl + 1);
    if (modline)
        memcpy(buf + ml_off, modline, ml + 1);
    return bootinfo_write(mem, area_gpa, buf, need, err, errlen);
}

/* mem_lower / mem_upper in KiB: the RAM at 0 (at most 640 KiB) and the
 * contiguous RAM starting at 1 MiB. */
static void bootinfo_mb_mem(const struct guest_mem *mem, const struct boot_config *cfg, uint32_t *lower,
                            uint32_t *upper)
{
    if (!cfg->e820_count) {
        uint64_t low = guest_mem_low_size(mem);
        *lower = (uint32_t)((low < 0xa0000 ? low : 0xa0000) >> 10);
        *upper = low > 0x100000 ? (uint32_t)((low - 0x100000) >> 10) : 0;
        return;
    }
    uint64_t lo = 0, end = 0x100000;
    for (unsigned i = 0; i < cfg->e820_count; i++) {
        const struct e820_entry *e = &cfg->e820[i];
        if (e->type == E820_RAM && e->addr == 0)
            lo = e->size < 0xa0000 ? e->size : 0xa0000;
    }
    /* Follow touching RAM entries upward; each pass must make progress. */
    for (unsigned pass = 0; pass < cfg->e820_count; pass++) {
        bool grew = false;
        for (unsigned i = 0; i < cfg->e820_count; i++) {
            const struct e820_entry *e = &cfg->e820[i];
            if (e->type == E820_RAM && e->addr <= end && e->size > end - e->addr) {
                end = e->addr + e->size < e->addr ? UINT64_MAX : e->addr + e->size;
                grew = true;
            }
        }
        if (!grew)
            break;
    }
    uint64_t up = (end - 0x100000) >> 10;
    *lower = (uint32_t)(lo >> 10);
    *upper = up > UINT32_MAX ? UINT32_MAX : (uint32_t)up;
}

int loader_build_multiboot_info(const struct guest_mem *mem, const struct boot_image *img,
                                const struct boot_config *cfg, uint64_t area_gpa,
                                uint64_t area_size, char *err, size_t errlen)
{
    const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
    const char *modline = cfg->initrd_cmdline ? cfg->initrd_cmdline : "";
    size_t cl = strlen(cmdline), ml = strlen(modline);
    if (cfg->e820_count > 4096)
        return loader_fail(err, errlen, "The memory map has %u entries, far more than a VM needs; give the VM "
                           "fewer memory regions.", cfg->e820_count);
    /* Layout: info, module, memory map, command line, module string, loader name. */
    uint64_t mod_off = bootinfo_align8(MB_INFO_SIZE);
    uint64_t map_off = mod_off + (cfg->initrd_size ? MB_MOD_SIZE : 0);
    uint64_t cl_off = map_off + (uint64_t)cfg->e820_count * MB_MMAP_ENTRY_SIZE;
    uint64_t ml_off = cl_off + cl + 1;
    uint64_t name_off = ml_off + (cfg->initrd_size ? ml + 1 : 0);
    uint64_t need = name_off + sizeof(MB_LOADER_NAME);
    if (bootinfo_check_area(mem, img, area_gpa, area_size, need, err, errlen) < 0 ||
        bootinfo_check_initrd(mem, cfg, area_gpa, need, err, errlen) < 0)
        return -1;
    if (area_gpa + need > GUEST_HIGH_RAM_START ||
        (cfg->initrd_size && cfg->initrd_addr + cfg->initrd_size > GUEST_HIGH_RAM_START))
        return loader_fail(err, errlen, "Multiboot information and modules must lie below 4 GiB; place them "
                           "lower.");
    if (cfg->initrd_size && (img->multiboot_flags & MULTIBOOT_PAGE_ALIGN) && (cfg->initrd_addr & 0xfff))
        return loader_fail(err, errlen, "This multiboot kernel needs its module page-aligned, but it is at "
                           "0x%llx; place it on a 4 KiB boundary.", (unsigned long long)cfg->initrd_addr);
    uint8_t *buf = bootinfo_alloc(need, err, errlen);
    if (!buf)
        return -1;
    uint32_t base = (uint32_t)area_gpa;
    uint32_t flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_BOOT_LOADER_NAME;
    uint32_t lower, upper;
    bootinfo_mb_mem(mem, cfg, &lower, &upper);
    loader_put32(buf + 4, lower);
    loader_put32(buf + 8, upper);
    loader_put32(buf + 16, base + (uint32_t)cl_off);
    loader_put32(buf + 20, cfg->initrd_size ? 1 : 0);
    loader_put32(buf + 24, base + (uint32_t)mod_off);
    if (cfg->initrd_size) {
        uint8_t *m = buf + mod_off;
        loader_put32(m, (uint32_t)cfg->initrd_addr);
        loader_put32(m + 4, (uint32_t)(cfg->initrd_addr + cfg->initrd_size));
        loader_put32(m + 8, base + (uint32_t)ml_off);
        memcpy(buf + ml_off, modline, ml + 1);
    }
    if (cfg->e820_count) {
        flags |= MB_INFO_MEM_MAP;
        loader_put32(buf + 44, cfg->e820_count * MB_MMAP_ENTRY_SIZE);
        loader_put32(buf + 48, base + (uint32_t)map_off);
        for (unsigned i = 0; i < cfg->e820_count; i++) {
            uint8_t *e = buf + map_off + (uint64_t)i * MB_MMAP_ENTRY_SIZE;
            loader_put32(e, MB_MMAP_ENTRY_SIZE - 4);
            loader_put64(e + 4, cfg->e820[i].addr);
            loader_put64(e + 12, cfg->e820[i].size);
            loader_put32(e + 20, cfg->e820[i].type);
        }
    }
    memcpy(buf + cl_off, cmdline, cl + 1);
    memcpy(buf + name_off, MB_LOADER_NAME, sizeof(MB_LOADER_NAME));
    loader_put32(buf + 64, base + (uint32_t)name_off);
    loader_put32(buf + 0, flags);
    return bootinfo_write(mem, area_gpa, buf, need, err, errlen);
}
