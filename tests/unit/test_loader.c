/* Kernel loaders: every image is built in memory (kimage.c), so the tests
 * need no files: ELF64/ELF32 with PVH notes, fake bzImages wrapping a tiny
 * vmlinux compressed by each library at test time, and multiboot kernels.
 * Then truncated, mutated and hostile variants must fail with a sentence,
 * never crash or write outside RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "loader/loader.h"
#include "loader/loader_internal.h"
#include "memory.h"
#include "kimage.h"

/* ---- little helpers ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64: fixed seeds keep failures reproducible. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void mem_new(struct guest_mem *mem, uint64_t size)
{
    char err[256];
    assert_int_equal(guest_mem_init(mem, size, err, sizeof(err)), 0);
    /* Poison, so bss zeroing is visible. */
    memset(mem->base, 0xcc, size < (256u << 20) ? size : (256u << 20));
}

static const uint8_t *gpa(const struct guest_mem *mem, uint64_t addr, uint64_t len)
{
    const uint8_t *p = guest_mem_ptr(mem, addr, len);
    assert_non_null(p);
    return p;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* Errors are one sentence for a user: capitalised, ends with a full stop. */
static void assert_sentence(const char *err)
{
    size_t n = strlen(err);
    if (n < 20 || err[0] < 'A' || err[0] > 'Z' || err[n - 1] != '.') {
        print_error("not a sentence: \"%s\"\n", err);
        fail();
    }
}

static void assert_err_contains(const char *err, const char *what)
{
    assert_sentence(err);
    if (!strstr(err, what)) {
        print_error("expected \"%s\" in \"%s\"\n", what, err);
        fail();
    }
}

/* After any load attempt: a clean error, or a result that lies in RAM. */
static void check_outcome(const struct guest_mem *mem, int r, const struct boot_image *img, const char *err)
{
    if (r < 0) {
        assert_int_equal(r, -1);
        assert_sentence(err);
        return;
    }
    assert_int_equal(r, 0);
    assert_true(img->kind != BOOT_AUTO);
    assert_true(img->load_end > img->load_start);
    assert_non_null(guest_mem_ptr(mem, img->load_start, img->load_end - img->load_start));
    assert_non_null(guest_mem_ptr(mem, img->entry, 1));
    assert_non_null(img->compression);
    if (img->kind != BOOT_LINUX64)
        assert_true(img->entry < GUEST_HIGH_RAM_START);
}

/* ---- test images ---- */

/* A tiny stand-in for Linux's vmlinux: text at 16 MiB, data + bss at 18 MiB,
 * virtual addresses in the kernel map, physical e_entry like Linux's. */
#define VM_TEXT_PA 0x1000000ull
#define VM_DATA_PA 0x1200000ull
#define VM_DATA_MEMSZ 0x10000ull
#define VM_PVH_ENTRY 0x1000100ull
static uint8_t vm_text[8192];
static uint8_t vm_data[4096];

static void fill_vmlinux_contents(void)
{
    for (size_t i = 0; i < sizeof(vm_text); i++)
        vm_text[i] = (uint8_t)((i * 7) ^ (i >> 6) ^ (i % 13 == 0 ? 0xa5 : 0));
    for (size_t i = 0; i < sizeof(vm_data); i++)
        vm_data[i] = (uint8_t)(i * 31 + 1);
}

static struct kimage_elf vmlinux_spec(bool pvh, bool linux_note)
{
    fill_vmlinux_contents();
    struct kimage_elf t = {
        .is64 = true, .machine = 62, .entry = VM_TEXT_PA, .nseg = 2,
        .seg = {
            { VM_TEXT_PA, 0xffffffff81000000ull, sizeof(vm_text), vm_text, sizeof(vm_text) },
            { VM_DATA_PA, 0xffffffff81200000ull, VM_DATA_MEMSZ, vm_data, sizeof(vm_data) },
        },
        .pvh_descsz = pvh ? 8 : 0, .pvh_entry = VM_PVH_ENTRY, .linux_note = linux_note, .trailer = 256,
    };
    return t;
}

static void make_vmlinux(struct kimage_buf *out, bool pvh, bool linux_note)
{
    struct kimage_elf t = vmlinux_spec(pvh, linux_note);
    kimage_build_elf(out, &t);
}

static void assert_vmlinux_loaded(const struct guest_mem *mem)
{
    assert_memory_equal(gpa(mem, VM_TEXT_PA, sizeof(vm_text)), vm_text, sizeof(vm_text));
    assert_memory_equal(gpa(mem, VM_DATA_PA, sizeof(vm_data)), vm_data, sizeof(vm_data));
    assert_true(all_bytes(gpa(mem, VM_DATA_PA + sizeof(vm_data), VM_DATA_MEMSZ - sizeof(vm_data)),
                          VM_DATA_MEMSZ - sizeof(vm_data), 0));
}

#define BZ_INIT_SIZE 0x400000u

static void make_bzimage(struct kimage_buf *out, const uint8_t *payload, size_t plen)
{
    kimage_bzimage(out, payload, plen, 0x020f, 0x7f, BZ_INIT_SIZE, 0x7fffffff);
}

static const char *const supported_formats[] = { "gzip", "xz", "lzma", "lz4", "zstd", "none" };
#define NFORMATS (sizeof(supported_formats) / sizeof(supported_formats[0]))

static void make_compressed_bzimage(struct kimage_buf *out, const char *fmt, bool pvh)
{
    struct kimage_buf vm = { 0 }, pl = { 0 };
    make_vmlinux(&vm, pvh, true);
    kimage_compress(fmt, vm.p, vm.len, &pl);
    make_bzimage(out, pl.p, pl.len);
    kimage_buf_free(&vm);
    kimage_buf_free(&pl);
}

#define MB_LOAD 0x100000u

/* a.out kludge: 64 bytes of preamble, the header, code; loads at 1 MiB. */
static void make_mb_kludge(struct kimage_buf *out)
{
    out->len = 0;
    kimage_buf_put(out, NULL, 4096);
    for (size_t i = 96; i < out->len; i++)
        out->p[i] = (uint8_t)(i ^ 0x3c);
    kimage_mb_header(out->p + 64, 0x10003, MB_LOAD + 64, MB_LOAD, MB_LOAD + 4096, MB_LOAD + 0x3000,
                  MB_LOAD + 96);
}

static uint8_t mb_code[2048];

static void make_mb_elf(struct kimage_buf *out, uint32_t flags)
{
    for (size_t i = 0; i < sizeof(mb_code); i++)
        mb_code[i] = (uint8_t)(i * 3);
    memset(mb_code, 0, 48);
    kimage_mb_header(mb_code, flags, 0, 0, 0, 0, 0);
    struct kimage_elf t = {
        .is64 = false, .machine = 3, .entry = MB_LOAD + 48, .nseg = 1,
        .seg = { { MB_LOAD, MB_LOAD, 0x2000, mb_code, sizeof(mb_code) } },
    };
    kimage_build_elf(out, &t);
}

/* ---- ELF / vmlinux ---- */

static void test_vmlinux_linux64(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    make_vmlinux(&f, false, false);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_LINUX64);
    assert_int_equal(img.entry, VM_TEXT_PA);
    assert_int_equal(img.load_start, VM_TEXT_PA);
    assert_int_equal(img.load_end, VM_DATA_PA + VM_DATA_MEMSZ);
    assert_false(img.from_bzimage);
    assert_string_equal(img.compression, "none");
    assert_false(img.has_pvh_entry);
    assert_vmlinux_loaded(&mem);
    /* Bytes between the segments are not the loader's business. */
    assert_int_equal(*gpa(&mem, VM_TEXT_PA + sizeof(vm_text), 1), 0xcc);
    /* A synthesized setup header, as a bzImage would carry. */
    const uint8_t *h = img.setup_header - LOADER_SETUP_HEADER_OFFSET;
    assert_memory_equal(h + 0x202, "HdrS", 4);
    assert_int_equal(loader_get16(h + 0x206), 0x020f);
    assert_int_equal(loader_get16(h + 0x1fe), 0xaa55);
    assert_int_equal(h[0x210], 0xff);
    assert_int_equal(loader_get32(h + 0x22c), 0x7fffffff);
    assert_int_equal(loader_get16(h + 0x236) & 1, 1);
    assert_int_equal(loader_get32(h + 0x238), 2047);
    assert_int_equal(0x202 + h[0x201], LOADER_SETUP_HEADER_OFFSET + img.setup_header_len);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_vmlinux_virtual_entry(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    struct kimage_elf t = vmlinux_spec(false, false);
    t.entry = 0xffffffff81000040ull;
    kimage_build_elf(&f, &t);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX64, &img, err, sizeof(err)), 0);
    assert_int_equal(img.entry, VM_TEXT_PA + 0x40);
    /* Nowhere near a segment: refused. */
    t.entry = 0xffffffff90000000ull;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX64, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "entry point");
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_vmlinux_pvh_choice(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    struct boot_image img;
    char err[256];

    /* A real vmlinux (Linux note) with a PVH note: AUTO keeps Linux's own
     * protocol, PVH on request. */
    make_vmlinux(&f, true, true);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_LINUX64);
    assert_true(img.has_pvh_entry);
    assert_int_equal(img.pvh_entry, VM_PVH_ENTRY);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_PVH, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_PVH);
    assert_int_equal(img.entry, VM_PVH_ENTRY);
    assert_vmlinux_loaded(&mem);

    /* Something that only says PVH: AUTO uses it. */
    make_vmlinux(&f, true, false);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_PVH);

    /* No PVH note: asking for PVH is an error that names the way out. */
    make_vmlinux(&f, false, true);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_PVH, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "PVH");
    assert_int_equal(img.kind, BOOT_AUTO);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX32, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "bzImage");
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_MULTIBOOT, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "multiboot");

    /* A 4-byte PVH descriptor works as well as Linux's 8-byte one. */
    struct kimage_elf t = vmlinux_spec(true, false);
    t.pvh_descsz = 4;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_PVH, &img, err, sizeof(err)), 0);
    assert_int_equal(img.entry, VM_PVH_ENTRY);

    /* A broken note or one pointing outside the kernel is reported. */
    t.pvh_descsz = 2;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_PVH, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "malformed");
    t.pvh_descsz = 8;
    t.pvh_entry = 0x3000000;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_PVH, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "PVH");
    t.pvh_entry = 0x100001000ull;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_PVH, &img, err, sizeof(err)), -1);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_elf32_pvh_section_note(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 16 << 20);
    static uint8_t code[3000];
    for (size_t i = 0; i < sizeof(code); i++)
        code[i] = (uint8_t)(i ^ 0x77);
    struct kimage_elf t = {
        .is64 = false, .machine = 3, .entry = 0x200000, .nseg = 1,
        .seg = { { 0x200000, 0x200000, 0x1000, code, sizeof(code) } },
        .pvh_descsz = 4, .pvh_entry = 0x200010, .notes_as_section = true,
    };
    struct kimage_buf f = { 0 };
    kimage_build_elf(&f, &t);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_PVH);
    assert_int_equal(img.entry, 0x200010);
    assert_memory_equal(gpa(&mem, 0x200000, sizeof(code)), code, sizeof(code));
    assert_true(all_bytes(gpa(&mem, 0x200000 + sizeof(code), 0x1000 - sizeof(code)), 0x1000 - sizeof(code), 0));
    /* 32-bit ELF cannot be started in long mode. */
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX64, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "32-bit");
    /* Without the note there is no way in. */
    t.pvh_descsz = 0;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "does not know how to start");
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_elf_hostile_headers(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    struct boot_image img;
    char err[256];
    struct kimage_elf base = vmlinux_spec(false, false);
    struct kimage_elf t;

    /* Segment file range overflowing 64 bits / past the end of the file. */
    make_vmlinux(&f, false, false);
    uint8_t *ph = f.p + 64;
    loader_put64(ph + 8, UINT64_MAX - 10);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "truncated");
    make_vmlinux(&f, false, false);
    ph = f.p + 64;
    loader_put64(ph + 32, UINT64_MAX);
    loader_put64(ph + 40, UINT64_MAX);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);

    /* filesz > memsz. */
    t = base;
    t.seg[1].memsz = 16;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "damaged");

    /* Destination wrapping around the address space. */
    t = base;
    t.seg[1].paddr = UINT64_MAX - 0x100;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "address space");

    /* Too big for the VM: say how to fix it. */
    t = base;
    t.seg[1].memsz = 0x5400000 - VM_DATA_PA;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "0x1000000-0x5400000");
    assert_err_contains(err, "64 MiB");
    assert_err_contains(err, "--memory");

    /* Straddling the PCI hole cannot be fixed by more memory. */
    t = base;
    t.seg[1].paddr = 0xbfff8000;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "PCI hole");

    /* Far away: damaged. */
    t = base;
    t.seg[1].paddr = 0xffffffff81200000ull;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "damaged");

    /* Wrong machine, wrong type, no segments. */
    t = base;
    t.machine = 183;   /* aarch64 */
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "architecture");
    t = base;
    t.type = 3;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "executable");
    t = base;
    t.nseg = 0;
    kimage_build_elf(&f, &t);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);

    /* Program header table out of the file; absurd entry size. */
    make_vmlinux(&f, false, false);
    loader_put64(f.p + 32, f.len - 8);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    make_vmlinux(&f, false, false);
    loader_put16(f.p + 54, 8);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    make_vmlinux(&f, false, false);
    loader_put16(f.p + 56, 0xffff);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);

    /* Huge note sizes must not walk off the note. */
    make_vmlinux(&f, true, true);
    size_t notes = 64 + 3 * 56;
    loader_put32(f.p + notes, 0xfffffff0u);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_false(img.has_pvh_entry);
    make_vmlinux(&f, true, true);
    loader_put32(f.p + notes + 4, 0xfffffffcu);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);

    /* Big-endian and unknown class. */
    make_vmlinux(&f, false, false);
    f.p[5] = 2;
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "big-endian");
    f.p[5] = 1;
    f.p[4] = 9;
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

/* ---- bzImage ---- */

static void test_bzimage_each_compression(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    for (size_t i = 0; i < NFORMATS; i++) {
        const char *fmt = supported_formats[i];
        memset(mem.base, 0xcc, 64 << 20);
        make_compressed_bzimage(&f, fmt, true);
        struct boot_image img;
        char err[256];
        int r = loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err));
        if (r < 0)
            fail_msg("%s: %s", fmt, err);
        assert_int_equal(img.kind, BOOT_LINUX64);
        assert_string_equal(img.compression, fmt);
        assert_true(img.from_bzimage);
        assert_int_equal(img.entry, VM_TEXT_PA);
        assert_int_equal(img.load_start, VM_TEXT_PA);
        assert_int_equal(img.load_end, VM_DATA_PA + VM_DATA_MEMSZ);
        assert_int_equal(img.protocol, 0x020f);
        assert_int_equal(img.setup_header_len, 0x26c - 0x1f1);
        assert_memory_equal(img.setup_header, f.p + 0x1f1, img.setup_header_len);
        assert_vmlinux_loaded(&mem);
        /* Nothing of the bzImage itself lands at the 32-bit load address. */
        assert_int_equal(*gpa(&mem, 0x100000, 1), 0xcc);
        /* The same image through PVH. */
        assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_PVH, &img, err, sizeof(err)), 0);
        assert_int_equal(img.kind, BOOT_PVH);
        assert_int_equal(img.entry, VM_PVH_ENTRY);
    }
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_bzimage_linux32(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    struct boot_image img;
    char err[256];
    static const char *const fallback[] = { "bzip2", "lzo" };
    for (size_t i = 0; i < 2; i++) {
        make_compressed_bzimage(&f, fallback[i], false);
        /* AUTO lets the kernel decompress itself... */
        assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
        assert_int_equal(img.kind, BOOT_LINUX32);
        assert_string_equal(img.compression, fallback[i]);
        assert_int_equal(img.entry, 0x100000);
        assert_int_equal(img.load_start, 0x100000);
        assert_int_equal(img.load_end, 0x1000000 + BZ_INIT_SIZE);
        size_t pm_len = (size_t)loader_get32(f.p + 0x1f4) * 16;
        assert_memory_equal(gpa(&mem, 0x100000, pm_len), f.p + KIMAGE_BZ_PM_OFF, pm_len);
        assert_int_equal(loader_get32(img.setup_header + (0x214 - 0x1f1)), 0x100000);
        /* ...but insisting on the 64-bit protocol says why it cannot. */
        assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX64, &img, err, sizeof(err)), -1);
        assert_err_contains(err, fallback[i]);
        assert_err_contains(err, "linux32");
    }
    /* Any bzImage can go the 32-bit way on request. */
    make_compressed_bzimage(&f, "gzip", false);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX32, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_LINUX32);
    /* A 32-bit kernel (no XLF_KERNEL_64) goes 32-bit under AUTO and refuses 64. */
    struct kimage_buf pl = { 0 }, vm = { 0 };
    make_vmlinux(&vm, false, true);
    kimage_compress("gzip", vm.p, vm.len, &pl);
    kimage_bzimage(&f, pl.p, pl.len, 0x020f, 0, BZ_INIT_SIZE, 0x7fffffff);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_LINUX32);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX64, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "32-bit kernel");
    /* Not enough RAM for the kernel to decompress itself. */
    struct guest_mem small;
    mem_new(&small, 16 << 20);
    assert_int_equal(loader_load_kernel(&small, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "--memory");
    guest_mem_destroy(&small);
    kimage_buf_free(&pl);
    kimage_buf_free(&vm);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_bzimage_bad_headers(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 }, pl = { 0 }, vm = { 0 };
    struct boot_image img;
    char err[256];
    make_vmlinux(&vm, false, true);
    kimage_compress("gzip", vm.p, vm.len, &pl);

    kimage_bzimage(&f, pl.p, pl.len, 0x0207, 0x7f, BZ_INIT_SIZE, 0x7fffffff);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "2.07");
    assert_err_contains(err, "newer kernel");

    make_bzimage(&f, pl.p, pl.len);
    loader_put16(f.p + 0x1fe, 0x1234);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "0xAA55");

    make_bzimage(&f, pl.p, pl.len);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_MULTIBOOT, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "multiboot");

    /* syssize beyond the file, payload beyond the code, short header. */
    make_bzimage(&f, pl.p, pl.len);
    loader_put32(f.p + 0x1f4, 0x10000000);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "truncated");
    make_bzimage(&f, pl.p, pl.len);
    loader_put32(f.p + 0x248, 0xfffffff0u);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    make_bzimage(&f, pl.p, pl.len);
    loader_put32(f.p + 0x24c, 0);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    make_bzimage(&f, pl.p, pl.len);
    f.p[0x201] = 0x10;
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "shorter");

    /* Unknown compression: no guessing. */
    make_bzimage(&f, (const uint8_t *)"not compressed at all, just text", 32);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "unknown compression");

    /* A payload that is not an ELF. */
    uint8_t junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 13);
    kimage_compress("zstd", junk, sizeof(junk), &pl);
    make_bzimage(&f, pl.p, pl.len);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "ELF");

    /* Decompression bomb: the payload expands past init_size. */
    kimage_compress("gzip", vm.p, vm.len, &pl);
    kimage_bzimage(&f, pl.p, pl.len, 0x020f, 0x7f, 4096, 0x7fffffff);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "more than");

    /* A vmlinux too big for a small VM. */
    struct guest_mem small;
    mem_new(&small, 16 << 20);
    make_bzimage(&f, pl.p, pl.len);
    assert_int_equal(loader_load_kernel(&small, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "16 MiB");
    assert_err_contains(err, "--memory");
    guest_mem_destroy(&small);
    kimage_buf_free(&f);
    kimage_buf_free(&pl);
    kimage_buf_free(&vm);
    guest_mem_destroy(&mem);
}

static void test_not_a_kernel(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 16 << 20);
    struct boot_image img;
    char err[256];
    uint8_t one = 0;
    assert_int_equal(loader_load_kernel(&mem, &one, 0, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "empty");
    assert_int_equal(loader_load_kernel(&mem, NULL, 0, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_int_equal(loader_load_kernel(&mem, &one, 1, (enum boot_kind)42, &img, err, sizeof(err)), -1);

    uint8_t junk[1024];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(loader_load_kernel(&mem, junk, sizeof(junk), BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "does not recognise");

    struct kimage_buf z = { 0 };
    kimage_compress("gzip", junk, sizeof(junk), &z);
    assert_int_equal(loader_load_kernel(&mem, z.p, z.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "gzip-compressed as a whole");

    junk[0] = 'M';
    junk[1] = 'Z';
    assert_int_equal(loader_load_kernel(&mem, junk, sizeof(junk), BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "UEFI");
    junk[0] = 0xfa;
    loader_put16(junk + 0x1fe, 0xaa55);
    assert_int_equal(loader_load_kernel(&mem, junk, sizeof(junk), BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "boot sector");
    /* A tiny error buffer is still terminated and nothing overflows. */
    char tiny[8];
    assert_int_equal(loader_load_kernel(&mem, junk, sizeof(junk), BOOT_AUTO, &img, tiny, sizeof(tiny)), -1);
    assert_int_equal(strlen(tiny), 7);
    kimage_buf_free(&z);
    guest_mem_destroy(&mem);
}

/* ---- decompressor, directly ---- */

static void test_decompress_bounds(void **state)
{
    (void)state;
    size_t n = 3u << 20;
    uint8_t *zeros = calloc(1, n);
    assert_non_null(zeros);
    memcpy(zeros, "\x7f" "ELF", 4);   /* so "none" is recognised too */
    struct kimage_buf c = { 0 };
    char err[256];
    uint8_t *out;
    size_t out_len;
    for (size_t i = 0; i < NFORMATS; i++) {
        const char *fmt = supported_formats[i];
        kimage_compress(fmt, zeros, n, &c);
        /* Exactly enough room is fine. */
        if (decompress_buffer(c.p, c.len, n, &out, &out_len, err, sizeof(err)) < 0)
            fail_msg("%s: %s", fmt, err);
        assert_int_equal(out_len, n);
        assert_memory_equal(out, zeros, n);
        free(out);
        /* One byte less is a bomb, whatever the appended size claims. */
        assert_int_equal(decompress_buffer(c.p, c.len, n - 1, &out, &out_len, err, sizeof(err)), -1);
        assert_null(out);
        assert_sentence(err);
        if (strcmp(fmt, "none") == 0)
            continue;
        assert_int_equal(decompress_buffer(c.p, c.len, 1u << 20, &out, &out_len, err, sizeof(err)), -1);
        assert_err_contains(err, "more than");
        /* Cut in half: truncated, not garbage. */
        assert_int_equal(decompress_buffer(c.p, c.len / 2, n, &out, &out_len, err, sizeof(err)), -1);
        assert_sentence(err);
    }
    /* A huge appended size must not turn into a huge allocation. */
    kimage_compress("gzip", zeros, 4096, &c);
    loader_put32(c.p + c.len - 4, 0xffffffffu);
    assert_int_equal(decompress_buffer(c.p, c.len, 1u << 20, &out, &out_len, err, sizeof(err)), -1);
    /* Detection of formats Hostel does not decompress. */
    bool sup;
    assert_string_equal(decompress_detect((const uint8_t *)"BZh9", 4, &sup), "bzip2");
    assert_false(sup);
    assert_string_equal(decompress_detect((const uint8_t *)"\x89LZO\0", 5, &sup), "lzo");
    assert_false(sup);
    assert_null(decompress_detect((const uint8_t *)"\x1f", 1, &sup));
    assert_int_equal(decompress_buffer((const uint8_t *)"BZh91AY&SY", 10, 4096, &out, &out_len, err,
                                       sizeof(err)), -1);
    assert_err_contains(err, "bzip2");
    kimage_buf_free(&c);
    free(zeros);
}

/* ---- multiboot ---- */

static void test_multiboot_kludge(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 16 << 20);
    struct kimage_buf f = { 0 };
    make_mb_kludge(&f);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_MULTIBOOT);
    assert_int_equal(img.entry, MB_LOAD + 96);
    assert_int_equal(img.load_start, MB_LOAD);
    assert_int_equal(img.load_end, MB_LOAD + 0x3000);
    assert_true(img.has_multiboot);
    assert_int_equal(img.multiboot_flags, 0x10003);
    assert_memory_equal(gpa(&mem, MB_LOAD, f.len), f.p, f.len);
    assert_true(all_bytes(gpa(&mem, MB_LOAD + 4096, 0x2000), 0x2000, 0));
    /* load_end_addr 0 means "to the end of the file"; no bss. */
    kimage_mb_header(f.p + 64, 0x10000, MB_LOAD + 64, MB_LOAD, 0, 0, MB_LOAD + 96);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_MULTIBOOT, &img, err, sizeof(err)), 0);
    assert_int_equal(img.load_end, MB_LOAD + f.len);
    /* Not Linux, not PVH. */
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX64, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "multiboot");

    /* Hostile address fields. */
    struct { uint32_t hdr, load, end, bss, entry; const char *what; } bad[] = {
        { MB_LOAD, MB_LOAD + 64, 0, 0, MB_LOAD + 96, "before the start" },
        { MB_LOAD + 0x10000, MB_LOAD, 0, 0, MB_LOAD, "before the start" },
        { MB_LOAD + 64, MB_LOAD, MB_LOAD, 0, MB_LOAD + 96, "not above" },
        { MB_LOAD + 64, MB_LOAD, MB_LOAD + 0x100000, 0, MB_LOAD + 96, "truncated" },
        { MB_LOAD + 64, MB_LOAD, MB_LOAD + 4096, MB_LOAD + 16, MB_LOAD + 96, "bss" },
        { MB_LOAD + 64, MB_LOAD, MB_LOAD + 4096, 0, MB_LOAD + 8192, "entry" },
        { MB_LOAD + 64, MB_LOAD, MB_LOAD + 4096, 0x5000000u, MB_LOAD + 96, "--memory" },
        { MB_LOAD + 64, MB_LOAD, MB_LOAD + 4096, 0xfffff000u, MB_LOAD + 96, "PCI hole" },
        { 0xfff00040u, 0xfff00000u, 0, 0, 0xfff00060u, "PCI hole" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kimage_mb_header(f.p + 64, 0x10000, bad[i].hdr, bad[i].load, bad[i].end, bad[i].bss, bad[i].entry);
        assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
        assert_err_contains(err, bad[i].what);
    }
    /* Requirements Hostel cannot meet, and a broken checksum. */
    kimage_mb_header(f.p + 64, 0x10004, MB_LOAD + 64, MB_LOAD, 0, 0, MB_LOAD + 96);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "video mode");
    kimage_mb_header(f.p + 64, 0x10100, MB_LOAD + 64, MB_LOAD, 0, 0, MB_LOAD + 96);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "0x100");
    kimage_mb_header(f.p + 64, 0x10000, MB_LOAD + 64, MB_LOAD, 0, 0, MB_LOAD + 96);
    f.p[64 + 8] ^= 1;
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "checksum");
    /* Flag 16 clear and not ELF: nowhere to load it. */
    kimage_mb_header(f.p + 64, 0x3, 0, 0, 0, 0, 0);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "neither ELF");
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_multiboot_elf(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 16 << 20);
    struct kimage_buf f = { 0 };
    make_mb_elf(&f, 0x3);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_MULTIBOOT);
    assert_int_equal(img.entry, MB_LOAD + 48);
    assert_int_equal(img.load_end, MB_LOAD + 0x2000);
    assert_memory_equal(gpa(&mem, MB_LOAD, sizeof(mb_code)), mb_code, sizeof(mb_code));
    assert_true(all_bytes(gpa(&mem, MB_LOAD + sizeof(mb_code), 0x2000 - sizeof(mb_code)),
                          0x2000 - sizeof(mb_code), 0));
    /* Explicit protocols are honoured or refused, never silently swapped. */
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_PVH, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "PVH");
    /* A broken checksum leaves an ELF32 with no way in, and says why. */
    size_t hdr_off = loader_get32(f.p + 52 + 4);   /* first PT_LOAD's p_offset */
    f.p[hdr_off + 8] ^= 0x10;
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "checksum");
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_MULTIBOOT, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "checksum");
    make_mb_elf(&f, 0x3);
    /* The header must lie in the first 8 KiB. */
    struct kimage_buf g = { 0 };
    kimage_buf_put(&g, NULL, 8192);
    kimage_buf_put(&g, f.p, f.len);
    kimage_mb_header(g.p + 8192, 0x10000, MB_LOAD, MB_LOAD, 0, 0, MB_LOAD);
    assert_int_equal(loader_load_kernel(&mem, g.p, g.len, BOOT_AUTO, &img, err, sizeof(err)), -1);
    assert_err_contains(err, "does not recognise");
    kimage_buf_free(&g);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

/* ---- initrd ---- */

static void test_place_initrd(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    make_vmlinux(&f, false, true);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    size_t n = (1u << 20) + 5;
    uint8_t *rd = malloc(n);
    assert_non_null(rd);
    for (size_t i = 0; i < n; i++)
        rd[i] = (uint8_t)(i * 11);
    uint64_t at;
    assert_int_equal(loader_place_initrd(&mem, &img, rd, n, 0, &at, err, sizeof(err)), 0);
    assert_int_equal(at, ((64ull << 20) - n) & ~0xfffull);
    assert_memory_equal(gpa(&mem, at, n), rd, n);
    /* Keep clear of the top when asked. */
    assert_int_equal(loader_place_initrd(&mem, &img, rd, n, 48u << 20, &at, err, sizeof(err)), 0);
    assert_int_equal(at, ((48ull << 20) - n) & ~0xfffull);
    /* Too big to fit above the kernel. */
    assert_int_equal(loader_place_initrd(&mem, &img, rd, n, 0x1300000, &at, err, sizeof(err)), -1);
    assert_err_contains(err, "--memory");
    assert_int_equal(loader_place_initrd(&mem, &img, rd, 0, 0, &at, err, sizeof(err)), -1);
    assert_err_contains(err, "empty");

    /* The kernel's initrd_addr_max is honoured. */
    struct kimage_buf pl = { 0 }, vm = { 0 };
    make_vmlinux(&vm, false, true);
    kimage_compress("gzip", vm.p, vm.len, &pl);
    kimage_bzimage(&f, pl.p, pl.len, 0x020f, 0x7f, BZ_INIT_SIZE, 0x2ffffff);
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(loader_place_initrd(&mem, &img, rd, n, 0, &at, err, sizeof(err)), 0);
    assert_int_equal(at, (0x3000000ull - n) & ~0xfffull);
    kimage_buf_free(&pl);
    kimage_buf_free(&vm);
    free(rd);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

/* ---- boot information ---- */

#define AREA 0x20000u
#define AREA_SIZE 0x10000u

static const struct e820_entry test_e820[] = {
    { 0, 0x9fc00, E820_RAM },
    { 0x9fc00, 0x400, E820_RESERVED },
    { 0xf0000, 0x10000, E820_RESERVED },
    { 0x100000, (64u << 20) - 0x100000, E820_RAM },
};

static void test_zero_page(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    make_compressed_bzimage(&f, "gzip", false);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    struct boot_config cfg = {
        .cmdline = "console=ttyS0 root=/dev/vda",
        .initrd_addr = 0x3000000, .initrd_size = 0x12345,
        .e820 = test_e820, .e820_count = 4, .acpi_rsdp = 0xe0000,
    };
    assert_int_equal(loader_build_zero_page(&mem, &img, &cfg, AREA, AREA_SIZE, err, sizeof(err)), 0);
    const uint8_t *zp = gpa(&mem, AREA, 4096);
    assert_int_equal(zp[0x1f1], KIMAGE_BZ_SETUP_SECTS);                 /* header copied from the bzImage */
    assert_int_equal(loader_get16(zp + 0x1fe), 0xaa55);
    assert_memory_equal(zp + 0x202, "HdrS", 4);
    assert_int_equal(loader_get16(zp + 0x206), 0x020f);
    assert_int_equal(loader_get32(zp + 0x260), BZ_INIT_SIZE);
    assert_int_equal(zp[0x1ef], 0);                               /* sentinel */
    assert_int_equal(zp[0x210], 0xff);                            /* type_of_loader */
    assert_int_equal(zp[0x211] & 1, 1);                           /* LOADED_HIGH */
    assert_int_equal(loader_get32(zp + 0x228), AREA + 4096);      /* cmd_line_ptr */
    assert_int_equal(loader_get32(zp + 0x0c8), 0);
    assert_string_equal((const char *)gpa(&mem, AREA + 4096, 1), cfg.cmdline);
    assert_int_equal(loader_get32(zp + 0x218), 0x3000000);        /* ramdisk_image */
    assert_int_equal(loader_get32(zp + 0x21c), 0x12345);          /* ramdisk_size */
    assert_int_equal(loader_get32(zp + 0x0c0), 0);
    assert_int_equal(loader_get32(zp + 0x0c4), 0);
    assert_int_equal(loader_get64(zp + 0x070), 0xe0000);          /* acpi_rsdp_addr */
    assert_int_equal(zp[0x1e8], 4);                               /* e820_entries */
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *e = zp + 0x2d0 + 20 * i;
        assert_int_equal(loader_get64(e), test_e820[i].addr);
        assert_int_equal(loader_get64(e + 8), test_e820[i].size);
        assert_int_equal(loader_get32(e + 16), test_e820[i].type);
    }
    assert_true(all_bytes(zp + 0x2d0 + 20 * 4, 20, 0));
    assert_true(all_bytes(zp, 0x70, 0));                          /* screen_info etc. left zero */

    /* Hostile or impossible requests. */
    char longline[3000];
    memset(longline, 'a', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = 0;
    struct boot_config c2 = cfg;
    c2.cmdline = longline;
    assert_int_equal(loader_build_zero_page(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), -1);
    assert_err_contains(err, "shorten");
    struct e820_entry many[129];
    for (unsigned i = 0; i < 129; i++)
        many[i] = (struct e820_entry){ (uint64_t)i << 20, 1u << 20, E820_RAM };
    c2 = cfg;
    c2.e820 = many;
    c2.e820_count = 129;
    assert_int_equal(loader_build_zero_page(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), -1);
    assert_err_contains(err, "128");
    c2.e820_count = 128;
    assert_int_equal(loader_build_zero_page(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), 0);
    assert_int_equal(gpa(&mem, AREA, 4096)[0x1e8], 128);
    assert_int_equal(loader_build_zero_page(&mem, &img, &cfg, AREA, 4096, err, sizeof(err)), -1);
    assert_err_contains(err, "reserved");
    assert_int_equal(loader_build_zero_page(&mem, &img, &cfg, VM_TEXT_PA, AREA_SIZE, err, sizeof(err)), -1);
    assert_err_contains(err, "overlaps");
    assert_int_equal(loader_build_zero_page(&mem, &img, &cfg, (64u << 20) - 4096, AREA_SIZE, err,
                                            sizeof(err)), -1);
    assert_err_contains(err, "--memory");
    c2 = cfg;
    c2.initrd_addr = (64u << 20) - 0x1000;
    assert_int_equal(loader_build_zero_page(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), -1);
    c2.initrd_addr = AREA + 0x800;
    assert_int_equal(loader_build_zero_page(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), -1);
    assert_err_contains(err, "overlaps");
    struct boot_image pvh = img;
    pvh.kind = BOOT_PVH;
    assert_int_equal(loader_build_zero_page(&mem, &pvh, &cfg, AREA, AREA_SIZE, err, sizeof(err)), -1);
    assert_err_contains(err, "pvh");

    /* LINUX32 gets code32_start; a NULL command line is an empty one. */
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_LINUX32, &img, err, sizeof(err)), 0);
    c2 = cfg;
    c2.cmdline = NULL;
    c2.initrd_addr = 0x2000000;
    assert_int_equal(loader_build_zero_page(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), 0);
    zp = gpa(&mem, AREA, 4096);
    assert_int_equal(loader_get32(zp + 0x214), 0x100000);
    assert_int_equal(*gpa(&mem, AREA + 4096, 1), 0);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_zero_page_high_initrd(void **state)
{
    (void)state;
    struct guest_mem mem;
    char err[256];
    /* 3 GiB low + 5 GiB high: the memfd is sparse, so this costs nothing. */
    assert_int_equal(guest_mem_init(&mem, 8ull << 30, err, sizeof(err)), 0);
    struct kimage_buf f = { 0 };
    make_vmlinux(&f, false, true);
    struct boot_image img;
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    struct boot_config cfg = { .cmdline = "x", .initrd_addr = 0x100002000ull, .initrd_size = 0x1000 };
    /* The synthesized header lacks XLF_CAN_BE_LOADED_ABOVE_4G. */
    assert_int_equal(loader_build_zero_page(&mem, &img, &cfg, AREA, AREA_SIZE, err, sizeof(err)), -1);
    assert_err_contains(err, "place it lower");
    uint8_t *xlf = img.setup_header + (0x236 - 0x1f1);
    loader_put16(xlf, loader_get16(xlf) | 2);
    cfg.initrd_size = 0x100001000ull;
    assert_int_equal(loader_build_zero_page(&mem, &img, &cfg, AREA, AREA_SIZE, err, sizeof(err)), 0);
    const uint8_t *zp = gpa(&mem, AREA, 4096);
    assert_int_equal(loader_get32(zp + 0x218), 0x2000);
    assert_int_equal(loader_get32(zp + 0x0c0), 1);
    assert_int_equal(loader_get32(zp + 0x21c), 0x1000);
    assert_int_equal(loader_get32(zp + 0x0c4), 1);
    /* Default placement stays below 3 GiB and initrd_addr_max. */
    uint8_t rd[4096] = { 1 };
    uint64_t at;
    assert_int_equal(loader_place_initrd(&mem, &img, rd, sizeof(rd), 0, &at, err, sizeof(err)), 0);
    assert_int_equal(at, 0x80000000ull - 4096);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_pvh_start_info(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    make_vmlinux(&f, true, false);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    assert_int_equal(img.kind, BOOT_PVH);
    struct boot_config cfg = {
        .cmdline = "console=hvc0", .initrd_addr = 0x3000000, .initrd_size = 0x5000,
        .initrd_cmdline = "initrd.img", .e820 = test_e820, .e820_count = 4, .acpi_rsdp = 0xe0000,
    };
    assert_int_equal(loader_build_pvh_start_info(&mem, &img, &cfg, AREA, AREA_SIZE, err, sizeof(err)), 0);
    const uint8_t *si = gpa(&mem, AREA, 0x38);
    assert_int_equal(loader_get32(si + 0x00), 0x336ec578);
    assert_int_equal(loader_get32(si + 0x04), 1);
    assert_int_equal(loader_get32(si + 0x08), 0);
    assert_int_equal(loader_get32(si + 0x0c), 1);
    assert_int_equal(loader_get64(si + 0x20), 0xe0000);
    assert_int_equal(loader_get32(si + 0x30), 4);
    assert_int_equal(loader_get32(si + 0x34), 0);
    uint64_t mod = loader_get64(si + 0x10);
    uint64_t map = loader_get64(si + 0x28);
    uint64_t cl = loader_get64(si + 0x18);
    assert_true(mod >= AREA + 0x38 && mod % 8 == 0);
    assert_true(map % 8 == 0);
    const uint8_t *m = gpa(&mem, mod, 32);
    assert_int_equal(loader_get64(m), 0x3000000);
    assert_int_equal(loader_get64(m + 8), 0x5000);
    assert_string_equal((const char *)gpa(&mem, loader_get64(m + 16), 1), "initrd.img");
    assert_int_equal(loader_get64(m + 24), 0);
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *e = gpa(&mem, map + 24 * i, 24);
        assert_int_equal(loader_get64(e), test_e820[i].addr);
        assert_int_equal(loader_get64(e + 8), test_e820[i].size);
        assert_int_equal(loader_get32(e + 16), test_e820[i].type);
        assert_int_equal(loader_get32(e + 20), 0);
    }
    assert_string_equal((const char *)gpa(&mem, cl, 1), "console=hvc0");
    /* No initrd: no module list. */
    struct boot_config c2 = cfg;
    c2.initrd_size = 0;
    c2.initrd_cmdline = NULL;
    assert_int_equal(loader_build_pvh_start_info(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), 0);
    assert_int_equal(loader_get32(si + 0x0c), 0);
    assert_int_equal(loader_get64(si + 0x10), 0);
    assert_int_equal(loader_build_pvh_start_info(&mem, &img, &cfg, AREA, 0x40, err, sizeof(err)), -1);
    assert_err_contains(err, "reserved");
    assert_int_equal(loader_build_pvh_start_info(&mem, &img, &cfg, AREA + 4, AREA_SIZE, err, sizeof(err)), -1);
    assert_int_equal(loader_build_pvh_start_info(&mem, &img, &cfg, VM_DATA_PA, AREA_SIZE, err, sizeof(err)), -1);
    assert_err_contains(err, "overlaps");
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

static void test_multiboot_info(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    make_mb_kludge(&f);
    struct boot_image img;
    char err[256];
    assert_int_equal(loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err)), 0);
    static uint8_t mod[10000];
    memset(mod, 0x42, sizeof(mod));
    uint64_t at;
    assert_int_equal(loader_place_initrd(&mem, &img, mod, sizeof(mod), 0, &at, err, sizeof(err)), 0);
    assert_int_equal(at % 4096, 0);
    struct boot_config cfg = {
        .cmdline = "kernel arg", .initrd_addr = at, .initrd_size = sizeof(mod), .initrd_cmdline = "mod arg",
        .e820 = test_e820, .e820_count = 4,
    };
    assert_int_equal(loader_build_multiboot_info(&mem, &img, &cfg, AREA, AREA_SIZE, err, sizeof(err)), 0);
    const uint8_t *mi = gpa(&mem, AREA, 116);
    assert_int_equal(loader_get32(mi + 0), 0x1 | 0x4 | 0x8 | 0x40 | 0x200);
    assert_int_equal(loader_get32(mi + 4), 639);
    assert_int_equal(loader_get32(mi + 8), 63 * 1024);
    assert_string_equal((const char *)gpa(&mem, loader_get32(mi + 16), 1), "kernel arg");
    assert_int_equal(loader_get32(mi + 20), 1);
    const uint8_t *md = gpa(&mem, loader_get32(mi + 24), 16);
    assert_int_equal(loader_get32(md), at);
    assert_int_equal(loader_get32(md + 4), at + sizeof(mod));
    assert_string_equal((const char *)gpa(&mem, loader_get32(md + 8), 1), "mod arg");
    assert_int_equal(loader_get32(md + 12), 0);
    assert_int_equal(loader_get32(mi + 44), 4 * 24);
    uint32_t map = loader_get32(mi + 48);
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *e = gpa(&mem, map + 24 * i, 24);
        assert_int_equal(loader_get32(e), 20);
        assert_int_equal(loader_get64(e + 4), test_e820[i].addr);
        assert_int_equal(loader_get64(e + 12), test_e820[i].size);
        assert_int_equal(loader_get32(e + 20), test_e820[i].type);
    }
    assert_string_equal((const char *)gpa(&mem, loader_get32(mi + 64), 1), "hostel");
    /* Without a memory map the sizes still come from RAM. */
    struct boot_config c2 = cfg;
    c2.e820_count = 0;
    c2.initrd_size = 0;
    assert_int_equal(loader_build_multiboot_info(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), 0);
    assert_int_equal(loader_get32(mi + 0), 0x1 | 0x4 | 0x8 | 0x200);
    assert_int_equal(loader_get32(mi + 4), 640);
    assert_int_equal(loader_get32(mi + 8), 63 * 1024);
    assert_int_equal(loader_get32(mi + 20), 0);
    /* The kernel asked for page-aligned modules. */
    c2 = cfg;
    c2.initrd_addr = at + 8;
    assert_int_equal(loader_build_multiboot_info(&mem, &img, &c2, AREA, AREA_SIZE, err, sizeof(err)), -1);
    assert_err_contains(err, "page-aligned");
    /* The area overlapping the kernel (which lives at 1 MiB). */
    assert_int_equal(loader_build_multiboot_info(&mem, &img, &cfg, MB_LOAD + 0x1000, AREA_SIZE, err,
                                                 sizeof(err)), -1);
    assert_err_contains(err, "overlaps");
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

/* ---- truncation and mutation ---- */

static unsigned loads_ok, loads_refused;

static void try_load(const struct guest_mem *mem, const uint8_t *p, size_t n, enum boot_kind want)
{
    struct boot_image img;
    char err[256];
    err[0] = 0;
    int r = loader_load_kernel(mem, p, n, want, &img, err, sizeof(err));
    check_outcome(mem, r, &img, err);
    if (r == 0)
        loads_ok++;
    else
        loads_refused++;
}

static void every_prefix(const struct guest_mem *mem, const struct kimage_buf *f, size_t step)
{
    uint8_t *copy = malloc(f->len);
    assert_non_null(copy);
    for (size_t n = 0; n < f->len; n += (n < 1024 ? 1 : step)) {
        /* A fresh, exact-size copy, so ASan sees any read past the end. */
        memcpy(copy, f->p, n);
        uint8_t *exact = malloc(n ? n : 1);
        assert_non_null(exact);
        memcpy(exact, copy, n);
        try_load(mem, exact, n, BOOT_AUTO);
        free(exact);
    }
    free(copy);
}

static void test_truncated_images(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 };
    make_vmlinux(&f, true, true);
    every_prefix(&mem, &f, 1);
    make_mb_kludge(&f);
    every_prefix(&mem, &f, 1);
    make_mb_elf(&f, 0x3);
    every_prefix(&mem, &f, 1);
    for (size_t i = 0; i < NFORMATS; i++) {
        make_compressed_bzimage(&f, supported_formats[i], true);
        every_prefix(&mem, &f, 3);
    }
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

/* A consistent bzImage around a cut compressed stream: must be refused. */
static void test_truncated_payloads(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 64 << 20);
    struct kimage_buf f = { 0 }, vm = { 0 }, pl = { 0 };
    make_vmlinux(&vm, true, true);
    for (size_t i = 0; i < NFORMATS; i++) {
        const char *fmt = supported_formats[i];
        kimage_compress(fmt, vm.p, vm.len, &pl);
        /* The appended size is optional, and "none" is the ELF itself,
         * whose unloaded tail (relocations) may go. */
        size_t must_fail = strcmp(fmt, "none") == 0 ? vm.len - 256 : pl.len - (strcmp(fmt, "gzip") ? 4 : 0);
        for (size_t cut = 1; cut < pl.len; cut += (cut < 256 ? 1 : 7)) {
            make_bzimage(&f, pl.p, cut);
            struct boot_image img;
            char err[256];
            int r = loader_load_kernel(&mem, f.p, f.len, BOOT_AUTO, &img, err, sizeof(err));
            check_outcome(&mem, r, &img, err);
            if (cut < must_fail && r == 0)
                fail_msg("%s payload cut at %zu of %zu was accepted", fmt, cut, pl.len);
        }
    }
    kimage_buf_free(&f);
    kimage_buf_free(&vm);
    kimage_buf_free(&pl);
    guest_mem_destroy(&mem);
}

static void mutate(uint8_t *p, size_t n, size_t hot)
{
    static const uint64_t interesting[] = {
        0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000u, 0xffffffffu, 0x100000000ull,
        0x1000000, 0xfffffff0u, UINT64_MAX, UINT64_MAX - 0xfff, 0x8000000000000000ull,
    };
    unsigned flips = 1 + rng() % 6;
    for (unsigned k = 0; k < flips; k++) {
        /* Mostly in the headers, where the interesting parsing is. */
        size_t at = (rng() % 4 && hot < n) ? rng() % hot : rng() % n;
        switch (rng() % 3) {
        case 0:
            p[at] ^= (uint8_t)(1u << (rng() % 8));
            break;
        case 1:
            p[at] = (uint8_t)rng();
            break;
        default: {
            uint64_t v = interesting[rng() % (sizeof(interesting) / sizeof(interesting[0]))];
            size_t w = (size_t)1 << (rng() % 4);
            at &= ~(w - 1);
            for (size_t b = 0; b < w && at + b < n; b++)
                p[at + b] = (uint8_t)(v >> (8 * b));
            break;
        }
        }
    }
}

static void fuzz_image(const struct guest_mem *mem, const struct kimage_buf *f, size_t hot, unsigned iterations,
                       uint64_t seed)
{
    rng_state = seed;
    uint8_t *copy = malloc(f->len);
    assert_non_null(copy);
    static const enum boot_kind kinds[] = { BOOT_AUTO, BOOT_AUTO, BOOT_LINUX64, BOOT_PVH, BOOT_MULTIBOOT,
                                            BOOT_LINUX32 };
    for (unsigned i = 0; i < iterations; i++) {
        memcpy(copy, f->p, f->len);
        mutate(copy, f->len, hot);
        try_load(mem, copy, f->len, kinds[rng() % (sizeof(kinds) / sizeof(kinds[0]))]);
    }
    free(copy);
}

static void test_mutated_images(void **state)
{
    (void)state;
    struct guest_mem mem;
    mem_new(&mem, 32 << 20);
    struct kimage_buf f = { 0 };
    loads_ok = loads_refused = 0;
    make_vmlinux(&f, true, true);
    fuzz_image(&mem, &f, 512, 3000, 0x1234567);
    struct kimage_elf t = {
        .is64 = false, .machine = 3, .entry = 0x200000, .nseg = 1,
        .seg = { { 0x200000, 0x200000, 0x1000, vm_data, 512 } },
        .pvh_descsz = 4, .pvh_entry = 0x200010, .notes_as_section = true, .trailer = 16,
    };
    kimage_build_elf(&f, &t);
    fuzz_image(&mem, &f, f.len, 3000, 0x2345678);
    make_mb_kludge(&f);
    fuzz_image(&mem, &f, 128, 2000, 0x3456789);
    make_mb_elf(&f, 0x3);
    fuzz_image(&mem, &f, 256, 2000, 0x456789a);
    for (size_t i = 0; i < NFORMATS; i++) {
        make_compressed_bzimage(&f, supported_formats[i], true);
        /* Hot zone: the setup header and the start of the payload. */
        fuzz_image(&mem, &f, KIMAGE_BZ_PM_OFF + KIMAGE_BZ_STUB + 64, 400, 0x56789ab + i);
    }
    /* A mutated vmlinux behind a valid compressed stream reaches the ELF
     * parser through the bzImage path. */
    rng_state = 0x6789abc;
    struct kimage_buf vm = { 0 }, pl = { 0 };
    for (unsigned i = 0; i < 600; i++) {
        make_vmlinux(&vm, true, true);
        mutate(vm.p, vm.len, 512);
        kimage_compress(i % 2 ? "gzip" : "lz4", vm.p, vm.len, &pl);
        make_bzimage(&f, pl.p, pl.len);
        try_load(&mem, f.p, f.len, i % 3 ? BOOT_AUTO : BOOT_PVH);
    }
    /* Both outcomes must be common, or the mutations test nothing. */
    print_message("mutated images: %u loaded, %u refused\n", loads_ok, loads_refused);
    assert_true(loads_ok > 1000 && loads_refused > 1000);
    kimage_buf_free(&vm);
    kimage_buf_free(&pl);
    kimage_buf_free(&f);
    guest_mem_destroy(&mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmlinux_linux64),
        cmocka_unit_test(test_vmlinux_virtual_entry),
        cmocka_unit_test(test_vmlinux_pvh_choice),
        cmocka_unit_test(test_elf32_pvh_section_note),
        cmocka_unit_test(test_elf_hostile_headers),
        cmocka_unit_test(test_bzimage_each_compression),
        cmocka_unit_test(test_bzimage_linux32),
        cmocka_unit_test(test_bzimage_bad_headers),
        cmocka_unit_test(test_not_a_kernel),
        cmocka_unit_test(test_decompress_bounds),
        cmocka_unit_test(test_multiboot_kludge),
        cmocka_unit_test(test_multiboot_elf),
        cmocka_unit_test(test_place_initrd),
        cmocka_unit_test(test_zero_page),
        cmocka_unit_test(test_zero_page_high_initrd),
        cmocka_unit_test(test_pvh_start_info),
        cmocka_unit_test(test_multiboot_info),
        cmocka_unit_test(test_truncated_images),
        cmocka_unit_test(test_truncated_payloads),
        cmocka_unit_test(test_mutated_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
