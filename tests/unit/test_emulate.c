/* x86 instruction-assist emulator: decoding, the small instructions, guest
 * paging and segmentation, failure sentences, and a seeded random loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulate_fake.h"

#define RUN(g, rep, ...)                                        \
    ({                                                          \
        static const uint8_t bytes_[] = { __VA_ARGS__ };        \
        fake_run((g), bytes_, sizeof(bytes_), (rep));           \
    })

#define ZF (1ull << 6)
#define AC (1ull << 18)

static int setup(void **state)
{
    *state = fake_new();
    return 0;
}

static int teardown(void **state)
{
    fake_free(*state);
    return 0;
}

static void expect_exception(enum x86_emu_result r, const struct x86_emu_report *rep,
                             unsigned vector, bool has_error, uint32_t error_code)
{
    assert_int_equal(r, X86_EMU_EXCEPTION);
    assert_int_equal(rep->exception.vector, vector);
    assert_int_equal(rep->exception.has_error_code, has_error);
    if (has_error) {
        assert_int_equal(rep->exception.error_code, error_code);
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* ---- decoding ---- */

struct length_case {
    enum x86_emu_mode mode;
    uint8_t bytes[16];
    size_t len;         /* bytes available */
    size_t expect;      /* 0: undecodable */
};

static void set_mode(struct x86_emu_cpu *cpu, enum x86_emu_mode mode)
{
    struct hv_sregs *sr = &cpu->sregs;
    cpu->regs.rflags = 2;
    sr->cr0 = 0x11;
    sr->efer = 0;
    sr->cs.l = 0;
    sr->cs.db = 0;
    switch (mode) {
    case X86_EMU_MODE_REAL:
        sr->cr0 = 0x10;
        break;
    case X86_EMU_MODE_VM86:
        cpu->regs.rflags |= 1ull << 17;
        break;
    case X86_EMU_MODE_PROT16:
        break;
    case X86_EMU_MODE_PROT32:
        sr->cs.db = 1;
        break;
    case X86_EMU_MODE_COMPAT16:
        sr->efer = 0x500;
        break;
    case X86_EMU_MODE_COMPAT32:
        sr->efer = 0x500;
        sr->cs.db = 1;
        break;
    case X86_EMU_MODE_LONG64:
        sr->efer = 0x500;
        sr->cs.l = 1;
        break;
    }
}

static void test_decode_lengths(void **state)
{
    (void)state;
    static const struct length_case cases[] = {
        { X86_EMU_MODE_LONG64, { 0x48, 0x8b, 0x05, 1, 2, 3, 4 }, 7, 7 },
        { X86_EMU_MODE_LONG64, { 0x0f, 0xc7, 0x0e, 0xcc, 0xcc }, 5, 3 },
        { X86_EMU_MODE_LONG64, { 0xf3, 0x48, 0x0f, 0xb8, 0xc3 }, 5, 5 },
        { X86_EMU_MODE_LONG64, { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 6, 6 },
        { X86_EMU_MODE_LONG64, { 0xc7, 0x84, 0x24, 0x10, 0, 0, 0, 1, 0, 0, 0 }, 11, 11 },
        { X86_EMU_MODE_LONG64, { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 }, 10, 10 },
        { X86_EMU_MODE_LONG64, { 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, 5 },
        { X86_EMU_MODE_LONG64, { 0x66, 0xb8, 1, 2, 3, 4 }, 6, 4 },
        { X86_EMU_MODE_LONG64, { 0xe8, 1, 2, 3, 4 }, 5, 5 },
        { X86_EMU_MODE_LONG64, { 0x0f, 0x3a, 0x0f, 0xc1, 0x08 }, 5, 5 },
        { X86_EMU_MODE_LONG64, { 0x66, 0x0f, 0x38, 0x00, 0xc1 }, 5, 5 },
        { X86_EMU_MODE_LONG64, { 0x67, 0x8b, 0x00 }, 3, 3 },
        { X86_EMU_MODE_LONG64, { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, 9 },
        { X86_EMU_MODE_LONG64, { 0x67, 0xa1, 1, 2, 3, 4 }, 6, 6 },
        { X86_EMU_MODE_LONG64, { 0xf6, 0xc0, 0x01 }, 3, 3 },
        { X86_EMU_MODE_LONG64, { 0xf6, 0xd0 }, 2, 2 },
        { X86_EMU_MODE_LONG64, { 0x66, 0xf7, 0xc0, 1, 2 }, 5, 5 },
        { X86_EMU_MODE_LONG64, { 0x0f, 0x84, 1, 2, 3, 4 }, 6, 6 },
        { X86_EMU_MODE_LONG64, { 0xc8, 1, 2, 3 }, 4, 4 },
        { X86_EMU_MODE_LONG64, { 0x40, 0x66, 0x41, 0x90 }, 4, 4 },
        { X86_EMU_MODE_LONG64, { 0xc4, 0xe2, 0x79, 0x18, 0x00 }, 5, 0 },  /* VEX */
        { X86_EMU_MODE_LONG64, { 0x0f, 0x01, 0xca }, 3, 3 },
        { X86_EMU_MODE_LONG64, { 0x8b, 0x04, 0x25, 1, 2, 3, 4 }, 7, 7 },  /* SIB, no base */
        { X86_EMU_MODE_LONG64, { 0x8b, 0x44, 0x24 }, 3, 0 },  /* truncated */
        /* 15 prefixes and no opcode: too long */
        { X86_EMU_MODE_LONG64, { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                 0x66, 0x66, 0x66, 0x66, 0x66, 0x90 }, 16, 0 },
        { X86_EMU_MODE_PROT16, { 0x8b, 0x46, 0x02 }, 3, 3 },
        { X86_EMU_MODE_REAL, { 0xc7, 0x06, 0x34, 0x12, 0x78, 0x56 }, 6, 6 },
        { X86_EMU_MODE_REAL, { 0xea, 0x00, 0x00, 0x00, 0xf0 }, 5, 5 },
        { X86_EMU_MODE_REAL, { 0x66, 0xea, 0, 0, 0, 0, 0x00, 0xf0 }, 8, 8 },
        { X86_EMU_MODE_REAL, { 0x67, 0x8b, 0x44, 0x24, 0x08 }, 5, 5 },
        { X86_EMU_MODE_PROT32, { 0xc4, 0x06 }, 2, 2 },             /* LES */
        { X86_EMU_MODE_PROT32, { 0xc5, 0xf8, 0x77 }, 3, 0 },       /* VEX vzeroupper */
        { X86_EMU_MODE_PROT32, { 0x40 }, 1, 1 },                   /* INC, not REX */
        { X86_EMU_MODE_PROT32, { 0x8b, 0x05, 1, 2, 3, 4 }, 6, 6 }, /* absolute disp32 */
        { X86_EMU_MODE_COMPAT32, { 0x66, 0xe8, 1, 2 }, 4, 4 },
    };
    struct x86_emu_cpu cpu;
    memset(&cpu, 0, sizeof(cpu));
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        set_mode(&cpu, cases[k].mode);
        assert_int_equal(x86_emu_cpu_mode(&cpu), cases[k].mode);
        size_t got = x86_emu_insn_length(&cpu, cases[k].bytes, cases[k].len);
        if (got != cases[k].expect) {
            fail_msg("case %zu: length %zu, expected %zu", k, got, cases[k].expect);
        }
    }
    assert_int_equal(x86_emu_insn_length(&cpu, NULL, 5), 0);
}

/* ---- software interrupts, FWAIT, CLAC/STAC ---- */

static void test_int3_intn_into(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    struct hv_regs before = g->cpu.regs;

    enum x86_emu_result r = RUN(g, &rep, 0xcc);
    expect_exception(r, &rep, 3, false, 0);
    assert_true(rep.exception.is_soft);
    assert_int_equal(rep.exception.kind, X86_EMU_EVENT_SOFT_EXCEPTION);
    assert_int_equal(rep.exception.insn_len, 1);
    assert_int_equal(rep.insn_len, 1);
    assert_string_equal(rep.mnemonic, "int3");
    assert_memory_equal(&before, &g->cpu.regs, sizeof(before));

    r = RUN(g, &rep, 0xcd, 0x80);
    expect_exception(r, &rep, 0x80, false, 0);
    assert_int_equal(rep.exception.kind, X86_EMU_EVENT_SOFT_INT);
    assert_int_equal(rep.exception.insn_len, 2);

    /* A prefix counts in the length pushed as the return address. */
    r = RUN(g, &rep, 0x2e, 0xcd, 0x21);
    expect_exception(r, &rep, 0x21, false, 0);
    assert_int_equal(rep.exception.insn_len, 3);

    r = RUN(g, &rep, 0xf0, 0xcc);
    expect_exception(r, &rep, 6, false, 0);

    /* INTO: #UD in 64-bit mode; in 32-bit mode a no-op unless OF. */
    r = RUN(g, &rep, 0xce);
    expect_exception(r, &rep, 6, false, 0);
    g->cpu.sregs.cs.l = 0;
    g->cpu.sregs.cs.db = 1;
    g->cpu.regs.rip = 0x1000;
    r = RUN(g, &rep, 0xce);
    assert_int_equal(r, X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, 0x1001);
    g->cpu.regs.rflags |= 1ull << 11;
    r = RUN(g, &rep, 0xce);
    expect_exception(r, &rep, 4, false, 0);
    assert_int_equal(rep.exception.kind, X86_EMU_EVENT_SOFT_EXCEPTION);
    assert_int_equal(g->cpu.regs.rip, 0x1001);

    /* Virtual-8086 INT n with IOPL < 3: #GP(0). */
    g->cpu.sregs.efer = 0;
    g->cpu.regs.rflags = 2 | (1ull << 17);
    r = RUN(g, &rep, 0xcd, 0x10);
    expect_exception(r, &rep, 13, true, 0);
    assert_int_equal(rep.mode, X86_EMU_MODE_VM86);
    g->cpu.regs.rflags |= 3ull << 12;
    r = RUN(g, &rep, 0xcd, 0x10);
    expect_exception(r, &rep, 0x10, false, 0);
}

static void test_fwait(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint64_t rip = g->cpu.regs.rip;
    assert_int_equal(RUN(g, &rep, 0x9b), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, rip + 1);
    assert_true(g->cpu.regs_dirty);

    g->cpu.sregs.cr0 |= 8;      /* TS with MP */
    expect_exception(RUN(g, &rep, 0x9b), &rep, 7, false, 0);
    assert_int_equal(g->cpu.regs.rip, rip + 1);
    g->cpu.sregs.cr0 &= ~2ull;  /* TS without MP: WAIT ignores TS */
    assert_int_equal(RUN(g, &rep, 0x9b), X86_EMU_OK);
    g->cpu.sregs.cr0 = (g->cpu.sregs.cr0 | 2) & ~8ull;

    /* A pending unmasked x87 exception: #MF with CR0.NE. */
    uint8_t *img = g->cpu.xsave.region;
    img[2] = 0x81;                      /* FSW: ES | IE */
    put64(img + 512, 1);                /* x87 in use */
    expect_exception(RUN(g, &rep, 0x9b), &rep, 16, false, 0);
    g->cpu.sregs.cr0 &= ~0x20ull;       /* NE clear: legacy FERR#, ignored */
    assert_int_equal(RUN(g, &rep, 0x9b), X86_EMU_OK);

    /* The single-step trap is reported after a successful instruction. */
    g->cpu.regs.rflags |= 1ull << 8;
    assert_int_equal(RUN(g, &rep, 0x9b), X86_EMU_OK);
    assert_true(rep.single_step);
}

static void test_clac_stac(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint64_t rip = g->cpu.regs.rip;
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xcb), X86_EMU_OK);
    assert_true(g->cpu.regs.rflags & AC);
    assert_int_equal(g->cpu.regs.rip, rip + 3);
    assert_string_equal(rep.mnemonic, "stac");
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xca), X86_EMU_OK);
    assert_false(g->cpu.regs.rflags & AC);
    assert_int_equal(g->cpu.regs.rip, rip + 6);

    /* Works with CR4.SMAP clear too; only CPUID's SMAP bit matters. */
    g->cpu.sregs.cr4 &= ~(1ull << 21);
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xcb), X86_EMU_OK);

    expect_exception(RUN(g, &rep, 0xf0, 0x0f, 0x01, 0xca), &rep, 6, false, 0);
    g->cfg.features &= ~X86_EMU_FEAT_SMAP;
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xca), &rep, 6, false, 0);
    g->cfg.features |= X86_EMU_FEAT_SMAP;
    fake_user_mode(g);
    uint64_t flags = g->cpu.regs.rflags;
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xca), &rep, 6, false, 0);
    assert_int_equal(g->cpu.regs.rflags, flags);
    assert_int_equal(rep.cpl, 3);

    /* Fences are emulated as host fences; their prefixed forms are other
     * instructions. */
    fake_free(g);
    g = fake_new();
    *state = g;
    assert_int_equal(RUN(g, &rep, 0x0f, 0xae, 0xf0), X86_EMU_OK);
    assert_string_equal(rep.mnemonic, "mfence");
    assert_int_equal(RUN(g, &rep, 0x0f, 0xae, 0xe8), X86_EMU_OK);
    assert_int_equal(RUN(g, &rep, 0x0f, 0xae, 0xf8), X86_EMU_OK);
    expect_exception(RUN(g, &rep, 0xf0, 0x0f, 0xae, 0xf0), &rep, 6, false, 0);
    assert_int_equal(RUN(g, &rep, 0x66, 0x0f, 0xae, 0xf0), X86_EMU_UNKNOWN);
    g->cpu.regs.rdi = KDATA;
    assert_int_equal(RUN(g, &rep, 0x0f, 0xae, 0x3f), X86_EMU_UNKNOWN);     /* clflush */
    assert_int_equal(RUN(g, &rep, 0x0f, 0xc7, 0xf0), X86_EMU_UNKNOWN);     /* rdrand */

    /* Other 0F 01 register forms are not emulated. */
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xf9), X86_EMU_UNKNOWN);   /* RDTSCP */
}

/* ---- POPCNT ---- */

static void test_popcnt_reg(void **state)
{
    struct fake_guest *g = *state;
    struct hv_regs *regs = &g->cpu.regs;
    struct x86_emu_report rep;
    regs->rax = 0xFFFFFFFFFFFFFFFFull;
    regs->rbx = 0xF0F0F0F0F0F0F0F0ull;
    regs->rflags = 2 | 0x8D5;   /* CF PF AF SF OF set */
    uint64_t rip = regs->rip;

    assert_int_equal(RUN(g, &rep, 0xf3, 0x48, 0x0f, 0xb8, 0xc3), X86_EMU_OK);   /* rax, rbx */
    assert_int_equal(regs->rax, 32);
    assert_int_equal(regs->rflags, 2);
    assert_int_equal(regs->rip, rip + 5);
    assert_string_equal(rep.mnemonic, "popcnt");

    regs->rax = 0xFFFFFFFFFFFFFFFFull;
    assert_int_equal(RUN(g, &rep, 0xf3, 0x0f, 0xb8, 0xc3), X86_EMU_OK);  /* eax, ebx */
    assert_int_equal(regs->rax, 16);    /* zero-extended */

    regs->rax = 0x1111111111111111ull;
    assert_int_equal(RUN(g, &rep, 0x66, 0xf3, 0x0f, 0xb8, 0xc3), X86_EMU_OK);  /* ax, bx */
    assert_int_equal(regs->rax, 0x1111111111110008ull);
    assert_int_equal(RUN(g, &rep, 0xf3, 0x66, 0x0f, 0xb8, 0xc3), X86_EMU_OK);
    assert_int_equal(regs->rax, 0x1111111111110008ull);

    /* REX.R/REX.B: popcnt r9, r12 */
    regs->r12 = 0x7;
    assert_int_equal(RUN(g, &rep, 0xf3, 0x4d, 0x0f, 0xb8, 0xcc), X86_EMU_OK);
    assert_int_equal(regs->r9, 3);

    /* Zero source: ZF set. */
    regs->rbx = 0;
    assert_int_equal(RUN(g, &rep, 0xf3, 0x48, 0x0f, 0xb8, 0xc3), X86_EMU_OK);
    assert_int_equal(regs->rax, 0);
    assert_int_equal(regs->rflags, 2 | ZF);

    /* REX not directly before the opcode is ignored: 32-bit operation. */
    regs->rbx = 0xFFFFFFFFFFFFFFFFull;
    assert_int_equal(RUN(g, &rep, 0x48, 0xf3, 0x0f, 0xb8, 0xc3), X86_EMU_OK);
    assert_int_equal(regs->rax, 32);

    /* F2 as the last of F2/F3 or no F3 at all: not POPCNT. */
    assert_int_equal(RUN(g, &rep, 0xf3, 0xf2, 0x0f, 0xb8, 0xc3), X86_EMU_UNKNOWN);
    assert_int_equal(RUN(g, &rep, 0x0f, 0xb8, 0xc3), X86_EMU_UNKNOWN);
    expect_exception(RUN(g, &rep, 0xf0, 0xf3, 0x0f, 0xb8, 0xc3), &rep, 6, false, 0);
    g->cfg.features &= ~X86_EMU_FEAT_POPCNT;
    expect_exception(RUN(g, &rep, 0xf3, 0x0f, 0xb8, 0xc3), &rep, 6, false, 0);
}

static void test_popcnt_mem(void **state)
{
    struct fake_guest *g = *state;
    struct hv_regs *regs = &g->cpu.regs;
    struct x86_emu_report rep;

    /* RIP-relative: popcnt rcx, [rip + 0x100] (9 bytes long). */
    put64(fake_phys(g, PHYS_KCODE + 9 + 0x100), 0x0101010101010101ull);
    assert_int_equal(RUN(g, &rep, 0xf3, 0x48, 0x0f, 0xb8, 0x0d, 0x00, 0x01, 0x00, 0x00),
                     X86_EMU_OK);
    assert_int_equal(regs->rcx, 8);

    /* SIB with index and disp8: popcnt rdx, [rax + rbx*4 + 8] */
    regs->rip = KCODE;
    regs->rax = KDATA + 0x100;
    regs->rbx = 0x10;
    put64(fake_phys(g, PHYS_KDATA + 0x100 + 0x40 + 8), 0xFFull);
    assert_int_equal(RUN(g, &rep, 0xf3, 0x48, 0x0f, 0xb8, 0x54, 0x98, 0x08), X86_EMU_OK);
    assert_int_equal(regs->rdx, 8);

    /* Extended base and index with negative disp8: popcnt r9, [r12 + r13*8 - 16] */
    regs->r12 = KDATA + 0x200;
    regs->r13 = 2;
    put64(fake_phys(g, PHYS_KDATA + 0x200 + 16 - 16), 0x3ull);
    assert_int_equal(RUN(g, &rep, 0xf3, 0x4f, 0x0f, 0xb8, 0x4c, 0xec, 0xf0), X86_EMU_OK);
    assert_int_equal(regs->r9, 2);

    /* FS override uses the FS base: popcnt eax, fs:[rbx] */
    g->cpu.sregs.fs.base = KDATA + 0x300;
    regs->rbx = 0x8;
    put64(fake_phys(g, PHYS_KDATA + 0x308), 0x7FFFull);
    assert_int_equal(RUN(g, &rep, 0x64, 0xf3, 0x0f, 0xb8, 0x03), X86_EMU_OK);
    assert_int_equal(regs->rax, 15);
    /* DS override in 64-bit mode: base 0 regardless. */
    g->cpu.sregs.ds.base = 0x1000;
    regs->rbx = KDATA + 0x308;
    assert_int_equal(RUN(g, &rep, 0x3e, 0xf3, 0x0f, 0xb8, 0x03), X86_EMU_OK);
    assert_int_equal(regs->rax, 15);

    /* 0x67: 32-bit addressing truncates: popcnt eax, [ebx] */
    fake_map(g, 0x10000000, 0x900000, FAKE_RW);
    put64(fake_phys(g, 0x900010), 0x1ull);
    regs->rbx = 0xABCD000010000010ull;
    assert_int_equal(RUN(g, &rep, 0x67, 0xf3, 0x0f, 0xb8, 0x03), X86_EMU_OK);
    assert_int_equal(regs->rax, 1);

    /* Spanning two pages with different physical frames. */
    fake_map(g, KDATA + 0x20000, 0xB00000, FAKE_RW);
    fake_map(g, KDATA + 0x21000, 0xC05000, FAKE_RW);
    memset(fake_phys(g, 0xB00FFC), 0xFF, 4);
    memset(fake_phys(g, 0xC05000), 0x01, 4);
    regs->rdi = KDATA + 0x20FFC;
    assert_int_equal(RUN(g, &rep, 0xf3, 0x48, 0x0f, 0xb8, 0x07), X86_EMU_OK);
    assert_int_equal(regs->rax, 32 + 4);

    /* Spanning into an unmapped page: #PF at the second page, CR2 set. */
    struct hv_regs before = *regs;
    regs->rdi = KEDGE + 0xFFC;
    before.rdi = regs->rdi;
    expect_exception(RUN(g, &rep, 0xf3, 0x48, 0x0f, 0xb8, 0x07), &rep, 14, true, 0);
    assert_int_equal(rep.exception.cr2, KEDGE + 0x1000);
    assert_int_equal(g->cpu.sregs.cr2, KEDGE + 0x1000);
    assert_true(g->cpu.sregs_dirty);
    assert_memory_equal(&before, regs, sizeof(before));
}

/* ---- CMPXCHG8B / CMPXCHG16B ---- */

static void cmpxchg16b_with(struct fake_guest *g, const struct x86_emu_ops *ops)
{
    struct hv_regs *regs = &g->cpu.regs;
    struct x86_emu_report rep;
    static const uint8_t insn[] = { 0xf0, 0x48, 0x0f, 0xc7, 0x0f };   /* lock cmpxchg16b [rdi] */
    uint8_t *m = fake_phys(g, PHYS_KDATA + 0x400);
    put64(m, 0x1111);
    put64(m + 8, 0x2222);
    regs->rdi = KDATA + 0x400;
    regs->rax = 0x1111;
    regs->rdx = 0x2222;
    regs->rbx = 0xAAAA;
    regs->rcx = 0xBBBB;
    regs->rflags = 2;
    regs->rip = KCODE;
    assert_int_equal(x86_emulate(&g->cpu, ops, g, insn, sizeof(insn), &rep), X86_EMU_OK);
    assert_int_equal(get64(m), 0xAAAA);
    assert_int_equal(get64(m + 8), 0xBBBB);
    assert_true(regs->rflags & ZF);
    assert_int_equal(regs->rip, KCODE + 5);
    assert_string_equal(rep.mnemonic, "cmpxchg16b");

    /* Mismatch: RDX:RAX receive memory, memory unchanged, ZF clear. */
    regs->rax = 0x1111;
    assert_int_equal(x86_emulate(&g->cpu, ops, g, insn, sizeof(insn), &rep), X86_EMU_OK);
    assert_int_equal(regs->rax, 0xAAAA);
    assert_int_equal(regs->rdx, 0xBBBB);
    assert_false(regs->rflags & ZF);
    assert_int_equal(get64(m), 0xAAAA);
}

static void test_cmpxchg16b(void **state)
{
    struct fake_guest *g = *state;
    struct hv_regs *regs = &g->cpu.regs;
    struct x86_emu_report rep;
    cmpxchg16b_with(g, &fake_ops);
    cmpxchg16b_with(g, &fake_ops_nomap);

    /* Misaligned: #GP(0). */
    regs->rdi = KDATA + 0x408;
    expect_exception(RUN(g, &rep, 0x48, 0x0f, 0xc7, 0x0f), &rep, 13, true, 0);
    /* Read-only page: a write fault even if the comparison fails. */
    regs->rdi = KRO;
    regs->rax = 0x5555;
    expect_exception(RUN(g, &rep, 0x48, 0x0f, 0xc7, 0x0f), &rep, 14, true, 3);
    assert_int_equal(rep.exception.cr2, KRO);
    assert_int_equal(regs->rax, 0x5555);
    /* Register operand: #UD. */
    expect_exception(RUN(g, &rep, 0x48, 0x0f, 0xc7, 0xc8), &rep, 6, false, 0);
    g->cfg.features &= ~X86_EMU_FEAT_CX16;
    regs->rdi = KDATA + 0x400;
    expect_exception(RUN(g, &rep, 0x48, 0x0f, 0xc7, 0x0f), &rep, 6, false, 0);
}

static void test_cmpxchg8b(void **state)
{
    struct fake_guest *g = *state;
    struct hv_regs *regs = &g->cpu.regs;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_KDATA + 0x503);
    put64(m, 0x0000000200000001ull);
    regs->rdi = KDATA + 0x503;      /* CMPXCHG8B has no alignment rule */
    regs->rax = 0xFFFFFFFF00000001ull;  /* only EAX/EDX compare */
    regs->rdx = 0xFFFFFFFF00000002ull;
    regs->rbx = 0x33;
    regs->rcx = 0x44;
    assert_int_equal(RUN(g, &rep, 0x0f, 0xc7, 0x0f), X86_EMU_OK);
    assert_int_equal(get64(m), 0x0000004400000033ull);
    assert_true(regs->rflags & ZF);
    assert_string_equal(rep.mnemonic, "cmpxchg8b");
    assert_int_equal(RUN(g, &rep, 0x0f, 0xc7, 0x0f), X86_EMU_OK);
    assert_int_equal(regs->rax, 0x33);  /* 32-bit results zero-extend */
    assert_int_equal(regs->rdx, 0x44);
    assert_false(regs->rflags & ZF);

    /* Crossing into an unmapped page: nothing written on the first. */
    uint8_t *edge = fake_phys(g, PHYS_KEDGE + 0xFFC);
    put64(edge - 4, 0);
    regs->rdi = KEDGE + 0xFFC;
    regs->rax = 0;
    regs->rdx = 0;
    expect_exception(RUN(g, &rep, 0x0f, 0xc7, 0x0f), &rep, 14, true, 2);
    assert_int_equal(rep.exception.cr2, KEDGE + 0x1000);
    assert_int_equal(get64(edge - 4), 0);

    /* With the page mapped it works across the boundary (non-atomically
     * without a single host mapping). */
    fake_map(g, KEDGE + 0x1000, 0xE00000, FAKE_RW);
    put64(fake_phys(g, 0xE00000), 0);
    assert_int_equal(RUN(g, &rep, 0x0f, 0xc7, 0x0f), X86_EMU_OK);
    assert_true(regs->rflags & ZF);
    assert_int_equal(edge[0], 0x33);
    assert_int_equal(*fake_phys(g, 0xE00000), 0x44);
}

/* ---- fetching from guest memory ---- */

static void test_fetch(void **state)
{
    struct fake_guest *g = *state;
    struct hv_regs *regs = &g->cpu.regs;
    struct x86_emu_report rep;
    static const uint8_t popcnt[] = { 0xf3, 0x48, 0x0f, 0xb8, 0xc3 };

    /* Across a page boundary into a different physical frame. */
    fake_map(g, KCODE + 0x1000, 0x102000, 0);
    memcpy(fake_phys(g, PHYS_KCODE + 0xFFE), popcnt, 2);
    memcpy(fake_phys(g, 0x102000), popcnt + 2, 3);
    regs->rip = KCODE + 0xFFE;
    regs->rbx = 0xFF;
    assert_int_equal(fake_run(g, NULL, 0, &rep), X86_EMU_OK);
    assert_int_equal(regs->rax, 8);
    assert_int_equal(regs->rip, KCODE + 0x1003);
    assert_int_equal(rep.insn_len, 5);
    assert_memory_equal(rep.insn, popcnt, 5);

    /* The accelerator's bytes come first; missing ones are fetched. */
    regs->rip = KCODE + 0xFFE;
    regs->rbx = 0xF;
    assert_int_equal(fake_run(g, popcnt, 2, &rep), X86_EMU_OK);
    assert_int_equal(regs->rax, 4);

    /* The rest is on a page that is not mapped: #PF for a fetch. */
    memcpy(fake_phys(g, 0x102FFE), popcnt, 2);
    regs->rip = KCODE + 0x1FFE;
    expect_exception(fake_run(g, NULL, 0, &rep), &rep, 14, true, 0x10);
    assert_int_equal(rep.exception.cr2, KCODE + 0x2000);

    /* Executing from an NX page, and (SMEP) a user page. */
    regs->rip = KDATA;
    expect_exception(fake_run(g, NULL, 0, &rep), &rep, 14, true, 0x11);
    fake_map(g, 0x500000, 0x310000, FAKE_US);
    regs->rip = 0x500000;
    expect_exception(fake_run(g, NULL, 0, &rep), &rep, 14, true, 0x11);
    g->cpu.sregs.cr4 &= ~(1ull << 20);
    memcpy(fake_phys(g, 0x310000), popcnt, 5);
    assert_int_equal(fake_run(g, NULL, 0, &rep), X86_EMU_OK);

    /* A non-canonical RIP: #GP(0). */
    regs->rip = 0x0000800000000000ull;
    expect_exception(fake_run(g, NULL, 0, &rep), &rep, 13, true, 0);
}

/* ---- paging and segmentation ---- */

static enum x86_emu_result read_at(struct fake_guest *g, uint64_t addr,
                                   struct x86_emu_report *rep)
{
    g->cpu.regs.rdi = addr;
    g->cpu.regs.rip = KCODE;
    return RUN(g, rep, 0xf3, 0x48, 0x0f, 0xb8, 0x07);   /* popcnt rax, [rdi] */
}

static enum x86_emu_result write_at(struct fake_guest *g, uint64_t addr,
                                    struct x86_emu_report *rep)
{
    g->cpu.regs.rdi = addr;
    g->cpu.regs.rip = KCODE;
    return RUN(g, rep, 0x0f, 0xc7, 0x0f);              /* cmpxchg8b [rdi] */
}

static void test_paging_faults(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    struct hv_sregs *sr = &g->cpu.sregs;

    expect_exception(read_at(g, KNP, &rep), &rep, 14, true, 0);
    assert_int_equal(rep.exception.cr2, KNP);
    expect_exception(write_at(g, KNP + 8, &rep), &rep, 14, true, 2);
    assert_int_equal(sr->cr2, KNP + 8);

    /* Read-only: supervisor writes fault with CR0.WP, succeed without. */
    assert_int_equal(read_at(g, KRO, &rep), X86_EMU_OK);
    expect_exception(write_at(g, KRO, &rep), &rep, 14, true, 3);
    sr->cr0 &= ~(1ull << 16);
    assert_int_equal(write_at(g, KRO, &rep), X86_EMU_OK);
    sr->cr0 |= 1ull << 16;

    /* SMAP: kernel access to a user page needs RFLAGS.AC. */
    expect_exception(read_at(g, UDATA, &rep), &rep, 14, true, 1);
    g->cpu.regs.rflags |= AC;
    assert_int_equal(read_at(g, UDATA, &rep), X86_EMU_OK);
    g->cpu.regs.rflags &= ~AC;
    sr->cr4 &= ~(1ull << 21);
    assert_int_equal(read_at(g, UDATA, &rep), X86_EMU_OK);
    sr->cr4 |= 1ull << 21;

    /* User mode: supervisor pages fault with U set. */
    fake_user_mode(g);
    assert_int_equal(read_at(g, UDATA, &rep), X86_EMU_OK);
    expect_exception(read_at(g, KDATA, &rep), &rep, 14, true, 5);
    expect_exception(write_at(g, KRO, &rep), &rep, 14, true, 7);
    expect_exception(write_at(g, KNP, &rep), &rep, 14, true, 6);
    fake_map(g, UDATA + 0x10000, 0x320000, FAKE_US);    /* user read-only */
    expect_exception(write_at(g, UDATA + 0x10000, &rep), &rep, 14, true, 7);

    /* Non-canonical: #GP(0); through RSP/RBP (SS): #SS(0). */
    g = *state;
    sr->cs.dpl = 0;
    sr->ss.dpl = 0;
    expect_exception(read_at(g, 0x0000800000000000ull, &rep), &rep, 13, true, 0);
    g->cpu.regs.rsp = 0xFFFF700000000000ull;
    expect_exception(RUN(g, &rep, 0xf3, 0x0f, 0xb8, 0x04, 0x24), &rep, 12, true, 0);
    g->cpu.regs.rsp = KSTACK;
    /* Access ending beyond the canonical range. */
    expect_exception(read_at(g, 0x00007FFFFFFFFFFCull, &rep), &rep, 13, true, 0);
}

static void test_paging_bits(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;

    /* Accessed and dirty bits. */
    uint64_t leaf = fake_leaf(g, KDATA + 0x3000);
    uint8_t *pte = fake_phys(g, leaf);
    put64(pte, get64(pte) & ~(FAKE_A | FAKE_D));
    assert_int_equal(read_at(g, KDATA + 0x3000, &rep), X86_EMU_OK);
    assert_true(get64(pte) & FAKE_A);
    assert_false(get64(pte) & FAKE_D);
    assert_int_equal(write_at(g, KDATA + 0x3000, &rep), X86_EMU_OK);
    assert_true(get64(pte) & FAKE_D);
    /* Without map_phys the bits are set too. */
    put64(pte, get64(pte) & ~(FAKE_A | FAKE_D));
    g->cpu.regs.rdi = KDATA + 0x3000;
    static const uint8_t cx8[] = { 0x0f, 0xc7, 0x0f };
    assert_int_equal(x86_emulate(&g->cpu, &fake_ops_nomap, g, cx8, 3, &rep), X86_EMU_OK);
    assert_int_equal(get64(pte) & (FAKE_A | FAKE_D), FAKE_A | FAKE_D);
    /* Upper levels get A as well. */
    assert_true(get64(fake_phys(g, 0x1000 + ((KDATA >> 39) & 511) * 8)) & FAKE_A);

    /* 2 MiB and 1 GiB pages. */
    fake_map_large(g, 0xffffc90040000000ull, 0xA00000, FAKE_RW, 1);
    put64(fake_phys(g, 0xA12340), 0x3F);
    assert_int_equal(read_at(g, 0xffffc90040012340ull, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rax, 6);
    fake_map_large(g, 0xffffc98000000000ull, 0, FAKE_RW, 2);
    put64(fake_phys(g, 0xA12348), 0x1);
    assert_int_equal(read_at(g, 0xffffc98000A12348ull, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rax, 1);

    /* Reserved bits: a misaligned 2 MiB frame, bits above MAXPHYADDR, and
     * NX with EFER.NXE clear. */
    fake_map_large(g, 0xffffc90040200000ull, 0xA02000, FAKE_RW, 1);
    expect_exception(read_at(g, 0xffffc90040200000ull, &rep), &rep, 14, true, 9);
    g->cfg.phys_addr_bits = 40;
    fake_map(g, KDATA + 0x30000, 1ull << 45, FAKE_RW);
    expect_exception(read_at(g, KDATA + 0x30000, &rep), &rep, 14, true, 9);
    expect_exception(write_at(g, KDATA + 0x30000, &rep), &rep, 14, true, 0xB);
    g->cfg.phys_addr_bits = 52;
    g->cpu.sregs.efer &= ~(1ull << 11);
    expect_exception(read_at(g, KDATA, &rep), &rep, 14, true, 9);
    g->cpu.sregs.efer |= 1ull << 11;

    /* A frame outside RAM: the access cannot be emulated. */
    fake_map(g, KDATA + 0x31000, 0x2000000, FAKE_RW);
    assert_int_equal(read_at(g, KDATA + 0x31000, &rep), X86_EMU_MEM_ERROR);
    assert_int_equal(rep.mem_gpa, 0x2000000);
    char msg[512];
    x86_emu_describe_result(&g->cpu, X86_EMU_MEM_ERROR, &rep, msg, sizeof(msg));
    assert_non_null(strstr(msg, "0x2000000"));
    assert_non_null(strstr(msg, "not RAM"));

    /* 5-level paging: the same tables one level down. */
    uint64_t pml5 = 0xF00000;
    memset(fake_phys(g, pml5), 0, 4096);
    put64(fake_phys(g, pml5 + 511 * 8), 0x1000 | 7);
    g->cpu.sregs.cr3 = pml5;
    g->cpu.sregs.cr4 |= 1ull << 12;
    assert_int_equal(read_at(g, 0xFF00000000000000ull | (KDATA & 0x00FFFFFFFFFFFFFFull), &rep),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rax, 0);
}

/* 32-bit paging (with PSE) and PAE paging, 32-bit protected mode. */
static void test_paging_legacy(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    struct hv_sregs *sr = &g->cpu.sregs;
    sr->efer = 0;
    sr->cs.l = 0;
    sr->cs.db = 1;
    sr->ds.db = 1;
    g->cpu.regs.rip = 0x1000;
    uint8_t *pd = fake_phys(g, 0xD00000);
    memset(pd, 0, 0x3000);
    /* 0x00400000 -> PT at 0xD01000 -> 0x300000 (4 KiB); 0x00800000 -> 4 MiB
     * page at 0x800000. */
    uint32_t pde0 = 0xD01000 | 7, pde1 = 0x800000 | 0x87, pte = 0x300000 | 3;
    memcpy(pd + 4 * 1, &pde0, 4);
    memcpy(pd + 4 * 2, &pde1, 4);
    memcpy(fake_phys(g, 0xD01000), &pte, 4);
    sr->cr3 = 0xD00000;
    sr->cr4 = (1ull << 4) | (1ull << 18);   /* PSE, OSXSAVE */
    put64(fake_phys(g, 0x300010), 0xF);
    put64(fake_phys(g, 0x812340), 0x3);
    static const uint8_t pop32[] = { 0xf3, 0x0f, 0xb8, 0x07 };  /* popcnt eax, [edi] */
    g->cpu.regs.rdi = 0x00400010;
    assert_int_equal(fake_run(g, pop32, 4, &rep), X86_EMU_OK);
    assert_int_equal(rep.mode, X86_EMU_MODE_PROT32);
    assert_int_equal(g->cpu.regs.rax, 4);
    assert_int_equal(g->cpu.regs.rip, 0x1004);
    g->cpu.regs.rdi = 0x00812340;
    assert_int_equal(fake_run(g, pop32, 4, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rax, 2);
    assert_true(pd[8] & FAKE_A);
    g->cpu.regs.rdi = 0x00C00000;
    expect_exception(fake_run(g, pop32, 4, &rep), &rep, 14, true, 0);
    assert_int_equal(rep.exception.cr2, 0x00C00000);
    /* Without CR4.PSE the PS bit is ignored: the PDE names a page table. */
    sr->cr4 &= ~(1ull << 4);
    g->cpu.regs.rdi = 0x00812340;
    memset(fake_phys(g, 0x800000), 0, 4096);
    expect_exception(fake_run(g, pop32, 4, &rep), &rep, 14, true, 0);

    /* PAE: PDPT at 0xD02000 -> PD 0xD03000 -> PT 0xD04000 -> 0x300000. */
    uint64_t pdpte = 0xD03000 | 1, pde = 0xD04000 | 7, pte64 = 0x300000 | 3 | FAKE_NX;
    put64(fake_phys(g, 0xD02000), pdpte);
    put64(fake_phys(g, 0xD03000 + 2 * 8), pde);
    put64(fake_phys(g, 0xD04000), pte64);
    sr->cr3 = 0xD02000;
    sr->cr4 = (1ull << 5) | (1ull << 18);
    sr->efer = 1ull << 11;
    g->cpu.regs.rdi = 0x00400010;
    assert_int_equal(fake_run(g, pop32, 4, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rax, 4);
    g->cpu.regs.rdi = 0x40000000;   /* PDPTE 1: not present */
    expect_exception(fake_run(g, pop32, 4, &rep), &rep, 14, true, 0);

    /* Segment limits and types outside 64-bit mode. */
    sr->cr0 &= ~(1ull << 31);       /* paging off: linear = physical */
    sr->ds.limit = 0x300012;
    g->cpu.regs.rdi = 0x300010;
    expect_exception(fake_run(g, pop32, 4, &rep), &rep, 13, true, 0);
    sr->ds.limit = 0x300013;
    assert_int_equal(fake_run(g, pop32, 4, &rep), X86_EMU_OK);
    sr->ds.base = 0x10;
    g->cpu.regs.rdi = 0x300000;
    assert_int_equal(fake_run(g, pop32, 4, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rax, 4);
    sr->ds.unusable = 1;
    expect_exception(fake_run(g, pop32, 4, &rep), &rep, 13, true, 0);
    sr->ds.unusable = 0;
    /* Writes through a read-only data segment: #GP(0). */
    sr->ds.type = 1;
    static const uint8_t cx8_32[] = { 0x0f, 0xc7, 0x0f };
    expect_exception(fake_run(g, cx8_32, 3, &rep), &rep, 13, true, 0);
    /* Expand-down segment: offsets at or below the limit fault. */
    sr->ds.type = 7;
    sr->ds.limit = 0x300000;
    g->cpu.regs.rdi = 0x2FFFF0;
    expect_exception(fake_run(g, pop32, 4, &rep), &rep, 13, true, 0);
    g->cpu.regs.rdi = 0x300008;
    assert_int_equal(fake_run(g, pop32, 4, &rep), X86_EMU_OK);
    /* SS-relative (EBP base): #SS. */
    sr->ss.limit = 0xFF;
    g->cpu.regs.rbp = 0x1000;
    static const uint8_t pop_ebp[] = { 0xf3, 0x0f, 0xb8, 0x45, 0x00 };
    expect_exception(fake_run(g, pop_ebp, 5, &rep), &rep, 12, true, 0);
}

/* Real mode: 16-bit addressing, segment bases. */
static void test_real_mode(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    struct hv_sregs *sr = &g->cpu.sregs;
    sr->cr0 = 0x10;
    sr->cr4 = 0;
    sr->efer = 0;
    sr->cs.l = 0;
    sr->cs.db = 0;
    sr->cs.base = 0xF0000;
    sr->cs.limit = 0xFFFF;
    sr->ds.base = 0x20000;
    sr->ds.limit = 0xFFFF;
    sr->ss.base = 0x30000;
    sr->ss.limit = 0xFFFF;
    g->cpu.regs.rip = 0xFFF0;
    g->cpu.regs.rbx = 0x100;
    g->cpu.regs.rsi = 0x20;
    g->cpu.regs.rbp = 0x40;
    g->cpu.regs.rdi = 0x2;
    put64(fake_phys(g, 0x20124), 0x0F0F);
    put64(fake_phys(g, 0x30042 + 6), 0x1);
    g->cpu.regs.rax = 0xAAAA5555;
    /* popcnt ax, [bx+si+4] */
    assert_int_equal(RUN(g, &rep, 0xf3, 0x0f, 0xb8, 0x40, 0x04), X86_EMU_OK);
    assert_int_equal(rep.mode, X86_EMU_MODE_REAL);
    assert_int_equal(g->cpu.regs.rax, 0xAAAA0008);
    assert_int_equal(g->cpu.regs.rip, 0xFFF5);
    /* popcnt eax, [bp+di+6]: 66 prefix and SS default */
    assert_int_equal(RUN(g, &rep, 0x66, 0xf3, 0x0f, 0xb8, 0x43, 0x06), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rax, 1);
    /* IP wraps at 64 KiB. */
    g->cpu.regs.rip = 0xFFFF;
    assert_int_equal(RUN(g, &rep, 0x9b), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, 0);
    /* Beyond the segment limit: #GP. */
    g->cpu.regs.rbx = 0xFFFF;       /* a word at 0xFFFF crosses the limit */
    g->cpu.regs.rsi = 0;
    expect_exception(RUN(g, &rep, 0xf3, 0x0f, 0xb8, 0x40, 0x00), &rep, 13, true, 0);
    /* Fetching from memory through CS. */
    memcpy(fake_phys(g, 0xF0000 + 0x100), (const uint8_t[]){ 0x9b }, 1);
    g->cpu.regs.rip = 0x100;
    assert_int_equal(fake_run(g, NULL, 0, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, 0x101);
}

/* ---- sentences and configuration ---- */

static void test_describe(void **state)
{
    struct fake_guest *g = *state;
    char msg[512];
    static const uint8_t ud2[15] = { 0x0f, 0x0b, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc };
    g->cpu.regs.rip = 0xffffffff81234567ull;
    x86_emu_describe(&g->cpu, ud2, sizeof(ud2), msg, sizeof(msg));
    assert_non_null(strstr(msg, "vCPU stopped: instruction 0f 0b at RIP 0xffffffff81234567 "
                                "in 64-bit kernel mode (CPL 0) is not one Hostel can emulate."));
    struct x86_emu_report rep;
    assert_int_equal(fake_run(g, ud2, sizeof(ud2), &rep), X86_EMU_UNKNOWN);
    assert_null(rep.mnemonic);
    x86_emu_describe_result(&g->cpu, X86_EMU_UNKNOWN, &rep, msg, sizeof(msg));
    assert_non_null(strstr(msg, "instruction 0f 0b at"));

    fake_user_mode(g);
    g->cpu.sregs.cs.l = 0;
    g->cpu.sregs.cs.db = 1;
    g->cpu.regs.rip = 0x8048000;
    x86_emu_describe(&g->cpu, ud2, 2, msg, sizeof(msg));
    assert_non_null(strstr(msg, "in 32-bit compatibility user mode (CPL 3)"));
    g->cpu.sregs.cr0 = 0x10;
    x86_emu_describe(&g->cpu, NULL, 0, msg, sizeof(msg));
    assert_non_null(strstr(msg, "(bytes unavailable)"));
    assert_non_null(strstr(msg, "in real mode"));

    /* Undecodable bytes are shown as given; a tiny buffer stays terminated. */
    static const uint8_t vex[] = { 0xc5, 0xf8, 0x77 };
    g->cpu.sregs.cr0 = 0x80050033;
    fake_user_mode(g);
    x86_emu_describe(&g->cpu, vex, 3, msg, sizeof(msg));
    assert_non_null(strstr(msg, "c5 f8 77 at"));
    char tiny[8];
    x86_emu_describe(&g->cpu, vex, 3, tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), 7);
    x86_emu_describe_result(&g->cpu, X86_EMU_TRIPLE_FAULT, NULL, msg, sizeof(msg));
    assert_non_null(strstr(msg, "triple"));
    g->cpu.sregs.cs.l = 0;
    g->cpu.sregs.cs.db = 1;
    g->cpu.sregs.efer = 0;
    g->cpu.sregs.ss.dpl = 0;
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xd1), X86_EMU_EXCEPTION);   /* xsetbv 0: #GP */
    x86_emu_describe_result(&g->cpu, X86_EMU_EXCEPTION, &rep, msg, sizeof(msg));
    assert_non_null(strstr(msg, "0f 01 d1 at"));
    assert_non_null(strstr(msg, "32-bit protected kernel mode (CPL 0) raised #GP"));
    x86_emu_describe_result(&g->cpu, X86_EMU_OK, &rep, msg, sizeof(msg));
    assert_non_null(strstr(msg, "was emulated"));
}

static void test_config_from_cpuid(void **state)
{
    struct fake_guest *g = *state;
    struct hv_cpuid *cpuid = calloc(1, sizeof(*cpuid));
    struct hv_cpuid_entry e[] = {
        { .function = 1, .ecx = (1u << 23) | (1u << 26), .edx = (1u << 24) | (1u << 8) },
        { .function = 7, .index = 0, .flags = 1, .ebx = 0 },
        { .function = 0xD, .index = 0, .flags = 1, .eax = 7 },
        { .function = 0xD, .index = 1, .flags = 1, .eax = 0xB },
        { .function = 0xD, .index = 2, .flags = 1, .eax = 256, .ebx = 576 },
        { .function = 0x80000008, .eax = 0x3027 },
    };
    memcpy(cpuid->entries, e, sizeof(e));
    cpuid->nent = sizeof(e) / sizeof(e[0]);
    x86_emu_config_from_cpuid(&g->cfg, cpuid);
    free(cpuid);
    uint32_t want = X86_EMU_FEAT_POPCNT | X86_EMU_FEAT_XSAVE | X86_EMU_FEAT_FXSR |
                    X86_EMU_FEAT_CX8 | X86_EMU_FEAT_XSAVEOPT | X86_EMU_FEAT_XSAVEC |
                    X86_EMU_FEAT_XSAVES;
    assert_int_equal(g->cfg.features, want);
    assert_int_equal(g->cfg.xcr0_supported, 7);
    assert_int_equal(g->cfg.xstate[2].size, 256);
    assert_int_equal(g->cfg.xstate[2].offset, 576);
    assert_int_equal(g->cfg.phys_addr_bits, 39);
    struct x86_emu_report rep;
    /* No SMAP and no CX16 in this CPUID: #UD. */
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xcb), &rep, 6, false, 0);
    g->cpu.regs.rdi = KDATA;
    expect_exception(RUN(g, &rep, 0x48, 0x0f, 0xc7, 0x0f), &rep, 6, false, 0);
    /* A NULL config means the defaults. */
    g->cpu.config = NULL;
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xcb), X86_EMU_OK);
}

/* ---- seeded random instructions ---- */

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t random_address(uint64_t *s)
{
    static const uint64_t bases[] = { KCODE, KDATA, UDATA, KRO, KNP, KEDGE, KIDT, KSTACK,
                                      KIST1, 0, 0x100000, 0x0000800000000000ull };
    uint64_t r = rng(s);
    switch (r & 7) {
    case 0: return rng(s);
    case 1: return r >> 40;
    case 2: case 3: case 4:
        /* Mapped and often suitably aligned for XSAVE/CMPXCHG16B. */
        return KDATA + ((r >> 8) & 0xFFC0) + (((r >> 30) & 3) == 0 ? ((r >> 32) & 0x3F) : 0);
    default:
        return bases[(r >> 8) % (sizeof(bases) / sizeof(bases[0]))] + ((r >> 20) & 0x3FFF);
    }
}

/* A valid 64-bit kernel state, lightly, moderately or heavily mutated. */
static void randomize_cpu(struct fake_guest *g, const struct x86_emu_cpu *base, uint64_t *s)
{
    struct x86_emu_cpu *cpu = &g->cpu;
    *cpu = *base;
    cpu->config = &g->cfg;
    uint64_t level = rng(s) & 3;
    uint64_t r = level == 0 ? 0 : rng(s);
    if (level < 3) {
        r &= rng(s) & rng(s);   /* fewer mutations */
    }
    if (r & 1) cpu->sregs.cr0 ^= rng(s) & 0x8005003F;
    if (r & 2) cpu->sregs.cr4 ^= rng(s) & 0x00341630;
    if (r & 4) cpu->sregs.efer ^= rng(s) & 0xD00;
    if (r & 8) {
        cpu->sregs.cs.l = rng(s) & 1;
        cpu->sregs.cs.db = rng(s) & 1;
        cpu->sregs.cs.type = rng(s) & 15;
        cpu->sregs.cs.limit = (uint32_t)rng(s);
        cpu->sregs.cs.base = rng(s) & 0xFFFFF;
    }
    if (r & 16) {
        cpu->sregs.ss.dpl = rng(s) & 3;
        cpu->sregs.ss.db = rng(s) & 1;
        cpu->sregs.ss.limit = (uint32_t)rng(s);
        cpu->sregs.ds.type = rng(s) & 15;
        cpu->sregs.ds.limit = (uint32_t)rng(s);
        cpu->sregs.ds.unusable = rng(s) & 1;
        cpu->sregs.fs.base = random_address(s);
    }
    if (r & 32) cpu->regs.rflags = (rng(s) & 0x3F7FD5) | 2;
    if (r & 64) cpu->sregs.cr3 = rng(s) & ((r & 128) ? ~0ull : 0xFFF000);
    if (r & 256) cpu->xcrs.xcr0 = rng(s) & ((r & 512) ? ~0ull : 0x2FF);
    if (r & 1024) cpu->xss = rng(s);
    if (r & 2048) {
        for (unsigned k = 0; k < 64; k++) {
            cpu->xsave.region[rng(s) % HV_XSAVE_SIZE] = (uint8_t)rng(s);
        }
        put64(cpu->xsave.region + 512, rng(s) & ((r & 4096) ? ~0ull : 7));
    }
    if (r & 8192) {
        cpu->sregs.idt.base = random_address(s);
        cpu->sregs.idt.limit = (uint16_t)rng(s);
        cpu->sregs.gdt.base = random_address(s);
        cpu->sregs.gdt.limit = (uint16_t)rng(s);
        cpu->sregs.tr.base = random_address(s);
        cpu->sregs.tr.limit = (uint32_t)rng(s);
        cpu->sregs.tr.type = rng(s) & 15;
    }
    if (r & 16384) g->cfg.features = (uint32_t)rng(s);
    if (r & 32768) g->cfg.phys_addr_bits = (uint8_t)rng(s);
    if (r & 65536) {
        g->cfg.xstate[rng(s) % X86_EMU_XSTATE_MAX].size = (uint32_t)(rng(s) & 0x1FFF);
        g->cfg.xstate[rng(s) % X86_EMU_XSTATE_MAX].offset = (uint32_t)(rng(s) & 0x1FFF);
        g->cfg.xstate[rng(s) % X86_EMU_XSTATE_MAX].align64 = rng(s) & 1;
    }
    if (r & 131072) fake_user_mode(g);
    uint64_t *gprs[] = { &cpu->regs.rax, &cpu->regs.rbx, &cpu->regs.rcx, &cpu->regs.rdx,
                         &cpu->regs.rsi, &cpu->regs.rdi, &cpu->regs.rsp, &cpu->regs.rbp,
                         &cpu->regs.r8, &cpu->regs.r12, &cpu->regs.r13 };
    for (size_t k = 0; k < sizeof(gprs) / sizeof(gprs[0]); k++) {
        uint64_t v = rng(s);
        *gprs[k] = (v & 1) ? random_address(s) : (v & 2) ? (v >> 60) : rng(s);
    }
    cpu->regs.rax &= (rng(s) & 1) ? 0xFF : ~0ull;   /* XSAVE masks */
    cpu->regs.rip = (r & 262144) ? random_address(s) : KCODE + (rng(s) & 0x1FFF);
}

/* An instruction: random bytes, or an emulated opcode with random
 * prefixes, ModRM, SIB and displacement. */
static void random_insn(uint8_t insn[15], uint64_t *s)
{
    static const uint8_t prefixes[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36,
                                        0x64, 0x65, 0x40, 0x48, 0x41, 0x4c, 0x4f };
    static const uint8_t opcodes[][3] = {
        { 0x0f, 0xae, 0 }, { 0x0f, 0xc7, 0 }, { 0x0f, 0xb8, 0 }, { 0x0f, 0x01, 0 },
        { 0xcc, 0, 0 }, { 0xcd, 0, 0 }, { 0xce, 0, 0 }, { 0x9b, 0, 0 },
    };
    for (unsigned k = 0; k < 15; k++) {
        insn[k] = (uint8_t)rng(s);
    }
    if (rng(s) & 3) {
        unsigned n = 0;
        unsigned np = rng(s) % 4;
        for (unsigned k = 0; k < np; k++) {
            insn[n++] = prefixes[rng(s) % sizeof(prefixes)];
        }
        const uint8_t *op = opcodes[rng(s) % (sizeof(opcodes) / sizeof(opcodes[0]))];
        unsigned oplen = op[0] == 0x0f ? 2 : 1;
        memcpy(insn + n, op, oplen);
        n += oplen;
        if (op[0] == 0x0f && op[1] == 0x01) {
            static const uint8_t rm01[] = { 0xca, 0xcb, 0xd0, 0xd1 };
            insn[n] = rm01[rng(s) % 4];
        } else if ((rng(s) & 3) && op[0] == 0x0f) {
            /* A memory ModRM through a pointer register. */
            insn[n] = (uint8_t)(((rng(s) % 3) << 6) | ((rng(s) & 7) << 3) | (rng(s) & 7));
        }
    }
}

static void test_random(void **state)
{
    struct fake_guest *g = *state;
    long iterations = 500000;
    const char *env = getenv("HOSTEL_EMU_FUZZ_ITERS");
    if (env) {
        iterations = strtol(env, NULL, 10);
    }
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    /* Deliverable gates of every kind, with a few on IST1. */
    for (unsigned v = 0; v < 256; v++) {
        fake_gate(g, v, KHANDLER + v, SEL_KCODE, (v & 1) ? 0xF : 0xE, (v & 2) ? 3 : 0,
                  (v % 5) == 0 || v == 8, (v % 17) != 16);
    }
    struct x86_emu_cpu base = g->cpu;
    struct x86_emu_config base_cfg = g->cfg;
    long results[X86_EMU_TRIPLE_FAULT + 1] = { 0 };
    for (long i = 0; i < iterations; i++) {
        g->cfg = base_cfg;
        randomize_cpu(g, &base, &seed);
        uint8_t insn[15];
        random_insn(insn, &seed);
        size_t len = rng(&seed) % 16;
        if (len == 0) {
            memcpy(fake_phys(g, PHYS_KCODE + (g->cpu.regs.rip & 0xFFF)), insn,
                   (g->cpu.regs.rip & 0xFFF) <= 0x1000 - 15 ? 15 : 0x1000 - (g->cpu.regs.rip & 0xFFF));
        }
        if ((i & 1023) == 0) {
            /* Scribble on memory now and then, page tables included. */
            for (unsigned k = 0; k < 16; k++) {
                uint64_t at = rng(&seed) % (FAKE_MEM_SIZE - 8);
                put64(fake_phys(g, at), rng(&seed));
            }
        }
        const struct x86_emu_ops *ops = (i & 1) ? &fake_ops : &fake_ops_nomap;
        struct x86_emu_report rep;
        enum x86_emu_result r = x86_emulate(&g->cpu, ops, g, insn, len, &rep);
        assert_true(r >= X86_EMU_OK && r <= X86_EMU_MEM_ERROR);
        results[r]++;
        assert_true(rep.insn_len <= 15);
        if (r == X86_EMU_EXCEPTION) {
            assert_true(rep.exception.vector < 32 || rep.exception.is_soft);
        }
        char msg[96];
        x86_emu_describe_result(&g->cpu, r, &rep, msg, sizeof(msg));
        assert_true(strlen(msg) < sizeof(msg));
        if (r == X86_EMU_EXCEPTION || (i & 7) == 0) {
            uint64_t v = rng(&seed);
            bool use_report = r == X86_EMU_EXCEPTION && (v & 1);
            r = x86_emu_deliver_interrupt(
                &g->cpu, ops, g, use_report ? rep.exception.vector : (uint8_t)(v >> 16),
                use_report ? rep.exception.has_error_code : (v >> 8) & 1,
                use_report ? rep.exception.error_code : (uint32_t)(v >> 32),
                use_report ? rep.exception.is_soft : (v >> 9) & 1,
                use_report ? rep.exception.insn_len : (v >> 10) & 15);
            assert_true(r >= X86_EMU_OK && r <= X86_EMU_TRIPLE_FAULT);
            results[r]++;
        }
        assert_true(g->max_access <= 2 * HV_XSAVE_SIZE);
    }
    print_message("random: %ld ok, %ld exception, %ld unknown, %ld mem error, %ld triple\n",
                  results[0], results[1], results[2], results[3], results[4]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_lengths),
        cmocka_unit_test_setup_teardown(test_int3_intn_into, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fwait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clac_stac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_popcnt_reg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_popcnt_mem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmpxchg16b, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmpxchg8b, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_from_cpuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
