#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "fw_cfg.h"
#include "rng.h"

struct fixture {
    struct guest_mem mem;
    struct fw_cfg fw;
    struct bus *bus;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[200];
    assert_int_equal(guest_mem_init(&f->mem, 2 << 20, err, sizeof(err)), 0);
    fw_cfg_init(&f->fw, &f->mem);
    f->bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(f->bus, 0x510, 2, &fw_cfg_io_bus_ops, &f->fw, "fw_cfg"), 0);
    assert_int_equal(bus_map(f->bus, 0x514, 8, &fw_cfg_dma_bus_ops, &f->fw, "fw_cfg-dma"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fw_cfg_device_ops.finalize(&f->fw);
    bus_free(f->bus);
    guest_mem_destroy(&f->mem);
    free(f);
    return 0;
}

static void select_key(struct fixture *f, uint16_t key)
{
    bus_write(f->bus, 0x510, &key, 2);
}

static uint8_t data_byte(struct fixture *f)
{
    uint8_t b = 0;
    bus_read(f->bus, 0x511, &b, 1);
    return b;
}

static void read_bytes(struct fixture *f, uint16_t key, uint8_t *out, size_t n)
{
    select_key(f, key);
    for (size_t i = 0; i < n; i++)
        out[i] = data_byte(f);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_signature_and_id(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[4], id[4];
    read_bytes(f, FW_CFG_SIGNATURE, sig, 4);
    assert_memory_equal(sig, "QEMU", 4);
    read_bytes(f, FW_CFG_ID, id, 4);
    assert_int_equal(id[0], 3);     /* traditional interface and DMA */
    /* The DMA register reads "QEMU CFG", most significant byte first. */
    uint8_t dsig[8];
    for (unsigned i = 0; i < 8; i++)
        bus_read(f->bus, 0x514 + i, &dsig[i], 1);
    assert_memory_equal(dsig, "QEMU CFG", 8);
    /* Past an item's end, and for unknown keys, the data port reads 0. */
    select_key(f, FW_CFG_SIGNATURE);
    for (int i = 0; i < 4; i++)
        data_byte(f);
    assert_int_equal(data_byte(f), 0);
    select_key(f, 0x1234);
    assert_int_equal(data_byte(f), 0);
}

static void test_items_and_files(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(fw_cfg_add_u64(&f->fw, FW_CFG_RAM_SIZE, 0x1122334455667788ull), 0);
    assert_int_equal(fw_cfg_add_u16(&f->fw, FW_CFG_NB_CPUS, 3), 0);
    assert_int_equal(fw_cfg_add_u16(&f->fw, FW_CFG_NB_CPUS, 4), -1);   /* taken */
    assert_int_equal(fw_cfg_add(&f->fw, FW_CFG_FILE_DIR, "x", 1), -1);
    assert_int_equal(fw_cfg_add(&f->fw, 0x30, "x", 1), -1);             /* file range */
    assert_int_equal(fw_cfg_add_file(&f->fw, "etc/one", "abc", 3), 0);
    assert_int_equal(fw_cfg_add_file(&f->fw, "etc/two", "hello", 5), 0);
    assert_int_equal(fw_cfg_add_file(&f->fw, "etc/one", "x", 1), -1);   /* duplicate */
    assert_int_equal(fw_cfg_add_file(&f->fw, "", "x", 1), -1);
    char longname[80];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_int_equal(fw_cfg_add_file(&f->fw, longname, "x", 1), -1);

    uint8_t ram[8];
    read_bytes(f, FW_CFG_RAM_SIZE, ram, 8);
    assert_int_equal(ram[0], 0x88);
    assert_int_equal(ram[7], 0x11);

    /* Directory: be32 count, then 64-byte entries (be32 size, be16 key). */
    uint8_t dir[4 + 2 * 64];
    read_bytes(f, FW_CFG_FILE_DIR, dir, sizeof(dir));
    assert_int_equal(be32(dir), 2);
    assert_int_equal(be32(dir + 4 + 64), 5);
    uint16_t key = (uint16_t)(dir[4 + 64 + 4] << 8 | dir[4 + 64 + 5]);
    assert_string_equal((char *)dir + 4 + 64 + 8, "etc/two");
    uint8_t body[5];
    read_bytes(f, key, body, 5);
    assert_memory_equal(body, "hello", 5);
    /* A write-channel selector reads the same item. */
    read_bytes(f, key | FW_CFG_WRITE_CHANNEL, body, 5);
    assert_memory_equal(body, "hello", 5);
}

/* Place a DMA descriptor at desc_gpa and start it. */
static uint32_t dma(struct fixture *f, uint64_t desc_gpa, uint32_t control, uint32_t len, uint64_t addr)
{
    uint8_t d[16];
    for (unsigned i = 0; i < 4; i++) {
        d[i] = (uint8_t)(control >> (24 - 8 * i));
        d[4 + i] = (uint8_t)(len >> (24 - 8 * i));
    }
    for (unsigned i = 0; i < 8; i++)
        d[8 + i] = (uint8_t)(addr >> (56 - 8 * i));
    assert_int_equal(guest_mem_write(&f->mem, desc_gpa, d, 16), 0);
    uint32_t hi = (uint32_t)(desc_gpa >> 32), lo = (uint32_t)desc_gpa;
    hi = __builtin_bswap32(hi);
    lo = __builtin_bswap32(lo);
    bus_write(f->bus, 0x514, &hi, 4);
    bus_write(f->bus, 0x518, &lo, 4);
    assert_int_equal(guest_mem_read(&f->mem, desc_gpa, d, 4), 0);
    return be32(d);
}

static void test_dma(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(fw_cfg_add_file(&f->fw, "etc/blob", "0123456789", 10), 0);
    uint16_t key = FW_CFG_FILE_FIRST;
    /* Select + read 4 bytes, skip 2, read the rest and 3 bytes past the end. */
    assert_int_equal(dma(f, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 4, 0x2000), 0);
    assert_int_equal(dma(f, 0x1000, FW_CFG_DMA_SKIP, 2, 0), 0);
    memset(f->mem.base + 0x3000, 0xee, 16);
    assert_int_equal(dma(f, 0x1000, FW_CFG_DMA_READ, 7, 0x3000), 0);
    assert_memory_equal(f->mem.base + 0x2000, "0123", 4);
    assert_memory_equal(f->mem.base + 0x3000, "6789\0\0\0", 7);
    assert_int_equal(f->mem.base[0x3007], 0xee);
    /* A destination outside RAM and a write request report an error. */
    assert_int_equal(dma(f, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 4,
                         0xfff00000ull), FW_CFG_DMA_ERROR);
    assert_int_equal(dma(f, 0x1000, FW_CFG_DMA_WRITE, 4, 0x2000), FW_CFG_DMA_ERROR);
    assert_memory_equal(f->mem.base + 0x2000, "0123", 4);
    /* A descriptor outside RAM is ignored without a crash. */
    uint32_t hi = 0, lo = __builtin_bswap32(0xfffff000u);
    bus_write(f->bus, 0x514, &hi, 4);
    bus_write(f->bus, 0x518, &lo, 4);
}

static void test_reset_and_vmstate(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(fw_cfg_add_file(&f->fw, "etc/blob", "abcdef", 6), 0);
    select_key(f, FW_CFG_FILE_FIRST);
    data_byte(f);
    data_byte(f);
    uint8_t buf[256];
    long n = vmstate_save(fw_cfg_device_ops.vmstate, &f->fw, buf, sizeof(buf));
    assert_true(n > 0);
    fw_cfg_device_ops.reset(&f->fw);
    assert_int_equal(data_byte(f), 'Q');    /* back to the signature */
    char err[200];
    assert_int_equal(vmstate_load(fw_cfg_device_ops.vmstate, &f->fw, sizeof(f->fw), buf, (size_t)n,
                                  err, sizeof(err)), 0);
    assert_int_equal(data_byte(f), 'c');
}

static void test_random_access(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(fw_cfg_add_file(&f->fw, "etc/blob", "abcdef", 6), 0);
    uint32_t seed = 0xf3c0u;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint64_t addr = 0x50e + ((r >> 2) % 16);
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        /* Keep DMA descriptors inside the small RAM most of the time. */
        if (addr == 0x518 && (r >> 20) % 4)
            val = __builtin_bswap32((uint32_t)(val % (2u << 20)));
        if ((r >> 8) & 1)
            bus_write(f->bus, addr, &val, size);
        else
            bus_read(f->bus, addr, &val, size);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_and_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_vmstate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
