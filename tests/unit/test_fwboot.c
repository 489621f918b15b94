/* Booting a Linux kernel through the firmware: the fw_cfg items and the
 * setup header the option ROM hands to the kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fwboot.h"
#include "kimage.h"

struct fixture {
    struct guest_mem mem;
    struct fw_cfg fw;
    struct kimage_buf kernel;
    uint8_t payload[5000];
    uint8_t initrd[10000];
};

static const uint8_t rom[512] = { 0x55, 0xaa, 1 };

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[200];
    assert_int_equal(guest_mem_init(&f->mem, 2 << 20, err, sizeof(err)), 0);
    fw_cfg_init(&f->fw, &f->mem);
    for (size_t i = 0; i < sizeof(f->payload); i++)
        f->payload[i] = (uint8_t)(i * 13);
    memset(f->initrd, 0x5a, sizeof(f->initrd));
    kimage_bzimage(&f->kernel, f->payload, sizeof(f->payload), 0x20f, 0, 0x100000, 0x7fffffff);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fw_cfg_device_ops.finalize(&f->fw);
    guest_mem_destroy(&f->mem);
    kimage_buf_free(&f->kernel);
    free(f);
    return 0;
}

static uint32_t item32(struct fixture *f, uint16_t key)
{
    const struct fw_cfg_item *it = fw_cfg_find(&f->fw, key);
    assert_non_null(it);
    assert_int_equal(it->len, 4);
    uint32_t v;
    memcpy(&v, it->data, 4);
    return v;
}

static uint32_t hdr32(const uint8_t *setup, unsigned off)
{
    uint32_t v;
    memcpy(&v, setup + off, 4);
    return v;
}

static void test_items_and_header(void **state)
{
    struct fixture *f = *state;
    char err[256];
    uint64_t ram = 64ull << 20;
    assert_int_equal(fwboot_add_linux(&f->fw, f->kernel.p, f->kernel.len, f->initrd, sizeof(f->initrd),
                                      "console=ttyS0 quiet", ram, rom, sizeof(rom), err, sizeof(err)), 0);
    size_t setup_len = KIMAGE_BZ_PM_OFF;
    assert_int_equal(item32(f, FW_CFG_SETUP_ADDR), FWBOOT_SETUP_ADDR);
    assert_int_equal(item32(f, FW_CFG_SETUP_SIZE), setup_len);
    assert_int_equal(item32(f, FW_CFG_KERNEL_ADDR), FWBOOT_KERNEL_ADDR);
    assert_int_equal(item32(f, FW_CFG_KERNEL_SIZE), f->kernel.len - setup_len);
    const struct fw_cfg_item *k = fw_cfg_find(&f->fw, FW_CFG_KERNEL_DATA);
    assert_memory_equal(k->data, f->kernel.p + setup_len, f->kernel.len - setup_len);
    const struct fw_cfg_item *cl = fw_cfg_find(&f->fw, FW_CFG_CMDLINE_DATA);
    assert_string_equal((const char *)cl->data, "console=ttyS0 quiet");
    assert_int_equal(item32(f, FW_CFG_CMDLINE_SIZE), strlen("console=ttyS0 quiet") + 1);
    /* The initrd sits page-aligned below RAM's end minus 1 MiB. */
    uint32_t initrd_addr = item32(f, FW_CFG_INITRD_ADDR);
    assert_int_equal(initrd_addr % 4096, 0);
    assert_true(initrd_addr + sizeof(f->initrd) <= ram - (1u << 20));
    assert_true(initrd_addr + sizeof(f->initrd) > ram - (1u << 20) - 4096);
    assert_int_equal(item32(f, FW_CFG_INITRD_SIZE), sizeof(f->initrd));
    assert_memory_equal(fw_cfg_find(&f->fw, FW_CFG_INITRD_DATA)->data, f->initrd, sizeof(f->initrd));
    /* The setup header as a boot loader leaves it. */
    const uint8_t *setup = fw_cfg_find(&f->fw, FW_CFG_SETUP_DATA)->data;
    assert_int_equal(setup[0x210], 0xff);                   /* type_of_loader */
    assert_true(setup[0x211] & 0x80);                       /* CAN_USE_HEAP */
    assert_int_equal(hdr32(setup, 0x228), FWBOOT_CMDLINE_ADDR);
    assert_int_equal(hdr32(setup, 0x218), initrd_addr);
    assert_int_equal(hdr32(setup, 0x21c), sizeof(f->initrd));
    assert_int_equal(setup[0x224] | setup[0x225] << 8, FWBOOT_CMDLINE_ADDR - FWBOOT_SETUP_ADDR - 0x200);
    /* Everything else of the setup code is the kernel's own. */
    assert_memory_equal(setup, f->kernel.p, 0x210);
    /* The option ROM is a file SeaBIOS runs. */
    const uint8_t *dir = fw_cfg_find(&f->fw, FW_CFG_FILE_DIR)->data;
    assert_int_equal(dir[3], 1);
    assert_string_equal((const char *)dir + 4 + 8, FWBOOT_ROM_NAME);
}

static void test_initrd_limit_and_no_initrd(void **state)
{
    struct fixture *f = *state;
    char err[256];
    /* initrd_addr_max below RAM's end wins. */
    struct kimage_buf k = {0};
    kimage_bzimage(&k, f->payload, sizeof(f->payload), 0x20f, 0, 0x100000, 0x00ffffff);
    assert_int_equal(fwboot_add_linux(&f->fw, k.p, k.len, f->initrd, sizeof(f->initrd), NULL, 64ull << 20,
                                      rom, sizeof(rom), err, sizeof(err)), 0);
    assert_true(item32(f, FW_CFG_INITRD_ADDR) + sizeof(f->initrd) <= 0x01000000);
    assert_string_equal((const char *)fw_cfg_find(&f->fw, FW_CFG_CMDLINE_DATA)->data, "");
    kimage_buf_free(&k);
    fw_cfg_device_ops.finalize(&f->fw);
    fw_cfg_init(&f->fw, &f->mem);
    assert_int_equal(fwboot_add_linux(&f->fw, f->kernel.p, f->kernel.len, NULL, 0, "x", 64ull << 20,
                                      rom, sizeof(rom), err, sizeof(err)), 0);
    assert_int_equal(item32(f, FW_CFG_INITRD_SIZE), 0);
    const uint8_t *setup = fw_cfg_find(&f->fw, FW_CFG_SETUP_DATA)->data;
    assert_int_equal(hdr32(setup, 0x218), 0);
}

static void test_rejections(void **state)
{
    struct fixture *f = *state;
    char err[256];
    uint8_t junk[4096] = {0};
    assert_int_equal(fwboot_check_linux(junk, sizeof(junk), NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Only a Linux bzImage"));
    assert_int_equal(fwboot_check_linux(f->kernel.p, 100, NULL, err, sizeof(err)), -1);
    /* Boot protocol 2.01 cannot say where the command line is. */
    struct kimage_buf old = {0};
    kimage_bzimage(&old, f->payload, sizeof(f->payload), 0x201, 0, 0x100000, 0);
    assert_int_equal(fwboot_check_linux(old.p, old.len, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "2.02 or later"));
    kimage_buf_free(&old);
    /* A command line longer than the kernel's cmdline_size. */
    uint32_t max;
    memcpy(&max, f->kernel.p + 0x238, 4);
    char *lng = malloc(max + 2);
    memset(lng, 'a', max + 1);
    lng[max + 1] = 0;
    assert_int_equal(fwboot_check_linux(f->kernel.p, f->kernel.len, lng, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "command line"));
    free(lng);
    /* An initrd that cannot fit beside the kernel in a small RAM. */
    static uint8_t big[3 << 20];
    assert_int_equal(fwboot_add_linux(&f->fw, f->kernel.p, f->kernel.len, big, sizeof(big), NULL, 4ull << 20,
                                      rom, sizeof(rom), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "does not fit"));
    assert_null(fw_cfg_find(&f->fw, FW_CFG_SETUP_DATA));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_items_and_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initrd_limit_and_no_initrd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
