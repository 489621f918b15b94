#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pam.h"
#include "vm.h"
#include "rng.h"

static unsigned set_memory_calls;
static bool fail_set_memory;

static int t_set_memory(struct hv_vm *hvm, unsigned slot, uint64_t gpa, uint64_t size, void *hva,
                        unsigned flags, struct hv_error *err)
{
    set_memory_calls++;
    if (fail_set_memory) {
        snprintf(err->msg, sizeof(err->msg), "refused");
        return -1;
    }
    return 0;
}

static const struct hv_ops t_hv = { .name = "test", .set_memory = t_set_memory };

struct fixture {
    struct vm vm;
    struct pam pam;
    uint8_t image[0x40000];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[200];
    f->vm.hv = &t_hv;
    assert_int_equal(guest_mem_init(&f->vm.mem, 2 << 20, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(f->image); i++)
        f->image[i] = (uint8_t)(i * 7 + (i >> 12));
    fail_set_memory = false;
    set_memory_calls = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pam_destroy(&f->pam);
    guest_mem_destroy(&f->vm.mem);
    free(f);
    return 0;
}

static void regs_all(uint8_t regs[7], uint8_t v)
{
    regs[0] = v & 0x30;
    for (unsigned i = 1; i < 7; i++)
        regs[i] = v;
}

static uint8_t rd(struct fixture *f, uint64_t gpa)
{
    return (uint8_t)pam_mmio_bus_ops.read(&f->pam, gpa - VM_BIOS_AREA_START, 1);
}

static void wr(struct fixture *f, uint64_t gpa, uint8_t v)
{
    pam_mmio_bus_ops.write(&f->pam, gpa - VM_BIOS_AREA_START, v, 1);
}

static void test_segments(void **state)
{
    assert_int_equal(pam_segment_base(0), 0xF0000);
    assert_int_equal(pam_segment_size(0), 0x10000);
    assert_int_equal(pam_segment_base(1), 0xC0000);
    assert_int_equal(pam_segment_base(12), 0xEC000);
    assert_int_equal(pam_segment_size(12), 0x4000);
}

static void test_rom_and_reset_state(void **state)
{
    struct fixture *f = *state;
    char err[200];
    assert_int_equal(pam_check_rom("x", 12345, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a BIOS image"));
    assert_int_equal(pam_load_rom(&f->pam, &f->vm, f->image, sizeof(f->image), "bios", err, sizeof(err)), 0);
    const struct vm_slot *bios = &f->vm.slots[VM_SLOT_BIOS];
    assert_int_equal(bios->gpa, 0x100000000ull - sizeof(f->image));
    assert_int_equal(bios->flags, HV_MEM_READONLY);
    assert_memory_equal(bios->hva, f->image, sizeof(f->image));

    uint8_t regs[7];
    regs_all(regs, 0x00);
    assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), 0);
    /* E and F segments show the ROM's last 128 KiB, read-only. */
    const struct vm_slot *fseg = &f->vm.slots[VM_SLOT_PAM0 + 0];
    assert_int_equal(fseg->gpa, 0xF0000);
    assert_int_equal(fseg->flags, HV_MEM_READONLY);
    assert_memory_equal(fseg->hva, f->image + sizeof(f->image) - 0x10000, 0x10000);
    const struct vm_slot *eseg = &f->vm.slots[VM_SLOT_PAM0 + 9];   /* 0xE0000 */
    assert_int_equal(eseg->gpa, 0xE0000);
    assert_memory_equal(eseg->hva, f->image + sizeof(f->image) - 0x20000, 0x4000);
    /* C and D segments decode to nothing. */
    assert_int_equal(f->vm.slots[VM_SLOT_PAM0 + 1].size, 0);
    assert_int_equal(rd(f, 0xC0000), 0xff);
    /* A write to the ROM is dropped; reads through the fallback see ROM. */
    wr(f, 0xF0010, 0x5a);
    assert_int_equal(rd(f, 0xF0010), f->image[sizeof(f->image) - 0x10000 + 0x10]);
    assert_int_equal(f->vm.mem.base[0xF0010], 0);
}

static void test_modes(void **state)
{
    struct fixture *f = *state;
    char err[200];
    assert_int_equal(pam_load_rom(&f->pam, &f->vm, f->image, sizeof(f->image), "bios", err, sizeof(err)), 0);
    uint8_t regs[7];
    /* Write-only (mode 2): reads come from the ROM, writes reach RAM. */
    regs_all(regs, 0x22);
    assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), 0);
    wr(f, 0xF1234, 0x77);
    assert_int_equal(f->vm.mem.base[0xF1234], 0x77);
    assert_int_equal(rd(f, 0xF1234), f->image[sizeof(f->image) - 0x10000 + 0x1234]);
    wr(f, 0xC8000, 0x66);
    assert_int_equal(f->vm.mem.base[0xC8000], 0x66);
    assert_int_equal(rd(f, 0xC8000), 0xff);
    /* RAM (mode 3): plain read-write slots on guest RAM. */
    regs_all(regs, 0x33);
    assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), 0);
    for (unsigned i = 0; i < PAM_SEGMENTS; i++) {
        const struct vm_slot *s = &f->vm.slots[VM_SLOT_PAM0 + i];
        assert_int_equal(s->gpa, pam_segment_base(i));
        assert_int_equal(s->size, pam_segment_size(i));
        assert_ptr_equal(s->hva, f->vm.mem.base + pam_segment_base(i));
        assert_int_equal(s->flags, 0);
    }
    assert_int_equal(rd(f, 0xF1234), 0x77);
    /* Read-only (mode 1): RAM read-only, writes dropped. */
    regs_all(regs, 0x11);
    assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), 0);
    assert_int_equal(f->vm.slots[VM_SLOT_PAM0].flags, HV_MEM_READONLY);
    assert_ptr_equal(f->vm.slots[VM_SLOT_PAM0].hva, f->vm.mem.base + 0xF0000);
    wr(f, 0xF1234, 0x01);
    assert_int_equal(f->vm.mem.base[0xF1234], 0x77);
    /* Mixed: each half of a register drives its own segment. */
    regs_all(regs, 0x00);
    regs[1] = 0x30;     /* 0xC4000 RAM, 0xC0000 off */
    assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), 0);
    assert_int_equal(f->vm.slots[VM_SLOT_PAM0 + 1].size, 0);
    assert_int_equal(f->vm.slots[VM_SLOT_PAM0 + 2].gpa, 0xC4000);
    /* Re-applying the same registers does not touch KVM. */
    unsigned calls = set_memory_calls;
    assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), 0);
    assert_int_equal(set_memory_calls, calls);
}

static void test_small_rom_and_failure(void **state)
{
    struct fixture *f = *state;
    char err[200];
    /* A 64 KiB ROM covers only the F segment. */
    assert_int_equal(pam_load_rom(&f->pam, &f->vm, f->image, 0x10000, "bios", err, sizeof(err)), 0);
    uint8_t regs[7];
    regs_all(regs, 0x00);
    assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), 0);
    assert_int_equal(f->vm.slots[VM_SLOT_PAM0].size, 0x10000);
    assert_int_equal(f->vm.slots[VM_SLOT_PAM0 + 12].size, 0);
    assert_int_equal(rd(f, 0xEC000), 0xff);
    fail_set_memory = true;
    regs_all(regs, 0x33);
    assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "refused"));
}

static void test_random(void **state)
{
    struct fixture *f = *state;
    char err[200];
    assert_int_equal(pam_load_rom(&f->pam, &f->vm, f->image, sizeof(f->image), "bios", err, sizeof(err)), 0);
    uint32_t seed = 0x440fu;
    uint8_t regs[7] = {0};
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        uint64_t off = rng_next(&seed) % (VM_BIOS_AREA_END - VM_BIOS_AREA_START + 16);
        unsigned size = 1u << (r & 3);
        if ((r >> 4) % 64 == 0) {
            regs[(r >> 10) % 7] = (uint8_t)(r >> 16);
            assert_int_equal(pam_update(&f->pam, regs, err, sizeof(err)), 0);
        } else if ((r >> 4) & 1) {
            pam_mmio_bus_ops.write(&f->pam, off, r, size);
        } else {
            (void)pam_mmio_bus_ops.read(&f->pam, off, size);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segments),
        cmocka_unit_test_setup_teardown(test_rom_and_reset_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_rom_and_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
