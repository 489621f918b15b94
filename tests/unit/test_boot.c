/* Direct boot setup: e820 map, boot vCPU state per protocol, page tables,
 * GDT, the information block and the kernel/boot-data overlap check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"
#include "boot.h"
#include "kimage.h"

static const uint8_t code[64] = { 0xf4 };

static void build_vmlinux(struct kimage_buf *out, uint64_t paddr, bool linux_note, unsigned pvh)
{
    struct kimage_elf t = {
        .is64 = true, .machine = 62, .entry = paddr,
        .seg = { { .paddr = paddr, .vaddr = 0xffffffff80000000ull + paddr, .memsz = 0x3000,
                   .data = code, .filesz = sizeof(code) } },
        .nseg = 1, .linux_note = linux_note, .pvh_descsz = pvh, .pvh_entry = paddr + 0x40,
    };
    memset(out, 0, sizeof(*out));
    kimage_build_elf(out, &t);
}

static void test_e820_small(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200];
    assert_int_equal(guest_mem_init(&mem, 64 << 20, err, sizeof(err)), 0);
    struct e820_entry e[16];
    unsigned n = boot_build_e820(&mem, e, 16);
    assert_int_equal(n, 4);
    assert_int_equal(e[0].addr, 0);
    assert_int_equal(e[0].type, E820_RAM);
    assert_int_equal(e[0].addr + e[0].size, BOOT_EBDA_START);
    assert_int_equal(e[2].addr, ACPI_TABLES_BASE);
    assert_int_equal(e[2].type, E820_RESERVED);
    assert_int_equal(e[3].addr, 0x100000);
    assert_int_equal(e[3].addr + e[3].size, 64 << 20);
    /* Boot data lives in the first RAM entry. */
    assert_true(BOOT_INFO_ADDR + BOOT_INFO_SIZE <= e[0].size);
    guest_mem_destroy(&mem);
}

static void test_e820_high(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200];
    assert_int_equal(guest_mem_init(&mem, 4096ull << 20, err, sizeof(err)), 0);
    struct e820_entry e[16];
    unsigned n = boot_build_e820(&mem, e, 16);
    assert_int_equal(n, 5);
    assert_int_equal(e[3].addr + e[3].size, GUEST_PCI_HOLE_START);
    assert_int_equal(e[4].addr, GUEST_HIGH_RAM_START);
    assert_int_equal(e[4].size, (4096ull << 20) - GUEST_PCI_HOLE_START);
    /* Never more than the caller's room. */
    assert_int_equal(boot_build_e820(&mem, e, 2), 2);
    guest_mem_destroy(&mem);
}

static void test_linux64_state(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200];
    assert_int_equal(guest_mem_init(&mem, 128 << 20, err, sizeof(err)), 0);
    struct kimage_buf k;
    build_vmlinux(&k, 0x1000000, true, 0);
    static const uint8_t initrd[10000] = { 1, 2, 3 };
    struct boot_request req = { .kernel = k.p, .kernel_len = k.len, .initrd = initrd,
                                .initrd_len = sizeof(initrd), .cmdline = "console=ttyS0 quiet", .ncpus = 2 };
    struct boot_result res;
    assert_int_equal(boot_prepare(&mem, &req, &res, err, sizeof(err)), 0);
    assert_int_equal(res.image.kind, BOOT_LINUX64);
    assert_int_equal(res.regs.rip, 0x1000000);
    assert_int_equal(res.regs.rsi, BOOT_INFO_ADDR);
    assert_int_equal(res.regs.rflags, 2);
    assert_true(res.sregs.cr0 & 0x80000001u);
    assert_int_equal(res.sregs.cr3, BOOT_PML4_ADDR);
    assert_true(res.sregs.cr4 & 0x20);
    assert_int_equal(res.sregs.efer & 0x500, 0x500);
    assert_int_equal(res.sregs.cs.l, 1);
    assert_int_equal(res.sregs.cs.db, 0);
    assert_int_equal(res.sregs.cs.selector, BOOT_SEL_CODE);
    assert_int_equal(res.sregs.ds.selector, BOOT_SEL_DATA);
    /* Identity map: 2 MiB pages covering 4 GiB. */
    uint64_t *pd = guest_mem_ptr(&mem, BOOT_PD_ADDR, 4 * 4096);
    assert_int_equal(pd[0], 0x83);
    assert_int_equal(pd[2047], (2047ull << 21) | 0x83);
    uint64_t *gdt = guest_mem_ptr(&mem, BOOT_GDT_ADDR, 32);
    assert_int_equal(gdt[2], 0x00af9b000000ffffull);
    /* Zero page: command line and initrd. */
    uint8_t *zp = guest_mem_ptr(&mem, BOOT_INFO_ADDR, 4096);
    uint32_t cmd_ptr, rd_addr, rd_size;
    memcpy(&cmd_ptr, zp + 0x228, 4);
    memcpy(&rd_addr, zp + 0x218, 4);
    memcpy(&rd_size, zp + 0x21c, 4);
    assert_string_equal((char *)guest_mem_ptr(&mem, cmd_ptr, 20), "console=ttyS0 quiet");
    assert_int_equal(rd_addr, res.initrd_addr);
    assert_int_equal(rd_size, sizeof(initrd));
    assert_memory_equal(guest_mem_ptr(&mem, rd_addr, 3), initrd, 3);
    assert_true(zp[0x1e8] >= 4);            /* e820 entries */
    assert_int_equal(res.rsdp, ACPI_TABLES_BASE);
    kimage_buf_free(&k);
    guest_mem_destroy(&mem);
}

static void test_pvh_state(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200];
    assert_int_equal(guest_mem_init(&mem, 64 << 20, err, sizeof(err)), 0);
    struct kimage_buf k;
    build_vmlinux(&k, 0x1000000, false, 4);
    struct boot_request req = { .kernel = k.p, .kernel_len = k.len, .cmdline = "x", .ncpus = 1 };
    struct boot_result res;
    assert_int_equal(boot_prepare(&mem, &req, &res, err, sizeof(err)), 0);
    assert_int_equal(res.image.kind, BOOT_PVH);
    assert_int_equal(res.regs.rip, 0x1000040);
    assert_int_equal(res.regs.rbx, BOOT_INFO_ADDR);
    assert_int_equal(res.sregs.cr0 & 0x80000000u, 0);
    assert_int_equal(res.sregs.efer, 0);
    assert_int_equal(res.sregs.cs.db, 1);
    assert_int_equal(res.sregs.cs.l, 0);
    uint32_t magic;
    memcpy(&magic, guest_mem_ptr(&mem, BOOT_INFO_ADDR, 4), 4);
    assert_int_equal(magic, 0x336ec578);
    kimage_buf_free(&k);
    guest_mem_destroy(&mem);
}

static void test_multiboot_state(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200];
    assert_int_equal(guest_mem_init(&mem, 64 << 20, err, sizeof(err)), 0);
    /* a.out kludge: header at file offset 0, loaded at 1 MiB. */
    uint8_t img[4096] = {0};
    kimage_mb_header(img, 1u << 16, 0x100000, 0x100000, 0x101000, 0x102000, 0x100040);
    struct boot_request req = { .kernel = img, .kernel_len = sizeof(img), .cmdline = "mb", .ncpus = 1 };
    struct boot_result res;
    assert_int_equal(boot_prepare(&mem, &req, &res, err, sizeof(err)), 0);
    assert_int_equal(res.image.kind, BOOT_MULTIBOOT);
    assert_int_equal(res.regs.rax, LOADER_MULTIBOOT_EAX);
    assert_int_equal(res.regs.rbx, BOOT_INFO_ADDR);
    assert_int_equal(res.regs.rip, 0x100040);
    uint32_t *info = guest_mem_ptr(&mem, BOOT_INFO_ADDR, 64);
    assert_true(info[0] & 1);              /* mem_lower/mem_upper */
    assert_int_equal(info[2], (64 << 10) - 1024);
    guest_mem_destroy(&mem);
}

static void test_kernel_over_boot_data(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200] = "";
    assert_int_equal(guest_mem_init(&mem, 64 << 20, err, sizeof(err)), 0);
    struct kimage_buf k;
    build_vmlinux(&k, 0x8000, false, 4);
    struct boot_request req = { .kernel = k.p, .kernel_len = k.len, .ncpus = 1 };
    struct boot_result res;
    assert_int_equal(boot_prepare(&mem, &req, &res, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "boot data"));
    kimage_buf_free(&k);
    guest_mem_destroy(&mem);
}

static void test_garbage_kernel(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[200] = "";
    assert_int_equal(guest_mem_init(&mem, 64 << 20, err, sizeof(err)), 0);
    uint8_t junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    struct boot_request req = { .kernel = junk, .kernel_len = sizeof(junk), .ncpus = 1 };
    struct boot_result res;
    assert_int_equal(boot_prepare(&mem, &req, &res, err, sizeof(err)), -1);
    assert_true(strlen(err) > 20);
    guest_mem_destroy(&mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e820_small),
        cmocka_unit_test(test_e820_high),
        cmocka_unit_test(test_linux64_state),
        cmocka_unit_test(test_pvh_state),
        cmocka_unit_test(test_multiboot_state),
        cmocka_unit_test(test_kernel_over_boot_data),
        cmocka_unit_test(test_garbage_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
