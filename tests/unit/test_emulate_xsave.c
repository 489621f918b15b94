/* x86 emulator: FXSAVE/FXRSTOR, LDMXCSR/STMXCSR and the XSAVE family
 * against the standard-format image, in both memory formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulate_fake.h"

#define RUN(g, rep, ...)                                        \
    ({                                                          \
        static const uint8_t bytes_[] = { __VA_ARGS__ };        \
        fake_run((g), bytes_, sizeof(bytes_), (rep));           \
    })

#define XSAVE64 0x48, 0x0f, 0xae, 0x27      /* [rdi] */
#define XSAVE 0x0f, 0xae, 0x27
#define XRSTOR64 0x48, 0x0f, 0xae, 0x2f
#define XRSTOR 0x0f, 0xae, 0x2f
#define XSAVEOPT64 0x48, 0x0f, 0xae, 0x37
#define XSAVEC64 0x48, 0x0f, 0xc7, 0x27
#define XSAVES64 0x48, 0x0f, 0xc7, 0x2f
#define XRSTORS64 0x48, 0x0f, 0xc7, 0x1f
#define FXSAVE64 0x48, 0x0f, 0xae, 0x07
#define FXSAVE 0x0f, 0xae, 0x07
#define FXRSTOR64 0x48, 0x0f, 0xae, 0x0f
#define AREA (KDATA + 0x1000)
#define PHYS_AREA (PHYS_KDATA + 0x1000)

static int setup(void **state)
{
    struct fake_guest *g = fake_new();
    g->cpu.regs.rdi = AREA;
    g->cpu.regs.rax = 7;
    g->cpu.regs.rdx = 0;
    *state = g;
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

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* A distinctive x87/SSE/AVX state, all in use. */
static void fill_state(struct x86_emu_cpu *cpu)
{
    uint8_t *img = cpu->xsave.region;
    memset(img, 0, HV_XSAVE_SIZE);
    img[0] = 0x7F; img[1] = 0x02;               /* FCW */
    img[2] = 0x20; img[3] = 0x01;               /* FSW */
    img[4] = 0x81;                              /* abridged FTW */
    img[6] = 0x23; img[7] = 0x01;               /* FOP */
    put64(img + 8, 0x00007FFF12345678ull);      /* FIP */
    put64(img + 16, 0x00007FFF9ABCDEF0ull);     /* FDP */
    put32(img + 24, 0x1FA0);                    /* MXCSR */
    put32(img + 28, 0xFFFF);
    for (unsigned k = 32; k < 160; k++) {
        img[k] = (uint8_t)(k * 3 + 1);
    }
    for (unsigned k = 160; k < 416; k++) {
        img[k] = (uint8_t)(k * 5 + 7);
    }
    for (unsigned k = 576; k < 832; k++) {
        img[k] = (uint8_t)(k * 11 + 3);
    }
    put64(img + 512, 7);
}

static void clear_state(struct x86_emu_cpu *cpu)
{
    uint8_t *img = cpu->xsave.region;
    memset(img, 0, HV_XSAVE_SIZE);
    img[0] = 0x7F;
    img[1] = 0x03;
    put32(img + 24, 0x1F80);
}

static void test_xsave_xrstor_standard(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    fill_state(&g->cpu);
    struct hv_xsave orig = g->cpu.xsave;
    memset(m, 0xEE, 1024);
    memset(m + 512, 0, 64);     /* software zeroes the header */

    assert_int_equal(RUN(g, &rep, XSAVE64), X86_EMU_OK);
    assert_string_equal(rep.mnemonic, "xsave64");
    assert_memory_equal(m, orig.region, 24);
    assert_int_equal(get32(m + 24), 0x1FA0);
    assert_int_equal(get32(m + 28), g->cfg.mxcsr_mask);
    assert_memory_equal(m + 32, orig.region + 32, 416 - 32);
    assert_int_equal(m[464], 0xEE);             /* bytes 464-511 untouched */
    assert_int_equal(m[511], 0xEE);
    assert_int_equal(get64(m + 512), 7);
    assert_memory_equal(m + 576, orig.region + 576, 256);
    assert_int_equal(m[832], 0xEE);             /* beyond AVX: untouched */
    assert_false(g->cpu.xsave_dirty);           /* saving leaves the image alone */

    clear_state(&g->cpu);
    assert_int_equal(RUN(g, &rep, XRSTOR64), X86_EMU_OK);
    assert_true(g->cpu.xsave_dirty);
    const uint8_t *img = g->cpu.xsave.region;
    assert_memory_equal(img, orig.region, 24);
    assert_memory_equal(img + 32, orig.region + 32, 416 - 32);
    assert_memory_equal(img + 576, orig.region + 576, 256);
    assert_int_equal(get64(img + 512), 7);

    /* A partial request saves only x87 and keeps XSTATE_BV's other bits. */
    memset(m, 0xEE, 512);
    put64(m + 512, 6);
    g->cpu.regs.rax = 1;
    assert_int_equal(RUN(g, &rep, XSAVE64), X86_EMU_OK);
    assert_int_equal(get64(m + 512), 7);
    assert_int_equal(m[24], 0xEE);              /* MXCSR is not x87 state */
    assert_int_equal(m[160], 0xEE);
    assert_memory_equal(m, orig.region, 24);

    /* EDX:EAX is masked with XCR0: bit 3 requests nothing. */
    g->cpu.regs.rax = 0xFFFFFFFF;
    g->cpu.regs.rdx = 0xFFFFFFFF;
    assert_int_equal(RUN(g, &rep, XSAVE64), X86_EMU_OK);
    assert_int_equal(get64(m + 512), 7);
}

static void test_xsave_32bit_format(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    fill_state(&g->cpu);
    memset(m, 0xEE, 1024);
    memset(m + 512, 0, 64);
    assert_int_equal(RUN(g, &rep, XSAVE), X86_EMU_OK);
    assert_string_equal(rep.mnemonic, "xsave");
    assert_int_equal(get32(m + 8), 0x12345678);
    assert_int_equal(get32(m + 12), 0);         /* FCS (not tracked) */
    assert_int_equal(get32(m + 16), 0x9ABCDEF0);
    assert_int_equal(get32(m + 20), 0);
    /* Restoring the 32-bit format zero-extends FIP and FDP. */
    assert_int_equal(RUN(g, &rep, XRSTOR), X86_EMU_OK);
    assert_int_equal(get64(g->cpu.xsave.region + 8), 0x12345678);
    assert_int_equal(get64(g->cpu.xsave.region + 16), 0x9ABCDEF0);
}

static void test_xsave_init_state(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    fill_state(&g->cpu);
    /* AVX not in use: its image bytes are stale and must not leak. */
    put64(g->cpu.xsave.region + 512, 3);
    memset(m, 0xEE, 1024);
    memset(m + 512, 0, 64);
    assert_int_equal(RUN(g, &rep, XSAVE64), X86_EMU_OK);
    assert_int_equal(get64(m + 512), 3);
    for (unsigned k = 576; k < 832; k++) {
        assert_int_equal(m[k], 0);              /* XSAVE writes the init value */
    }

    /* XSAVEOPT: the init optimization leaves the area alone. */
    memset(m + 576, 0xEE, 256);
    put64(m + 512, 4);
    assert_int_equal(RUN(g, &rep, XSAVEOPT64), X86_EMU_OK);
    assert_string_equal(rep.mnemonic, "xsaveopt64");
    assert_int_equal(get64(m + 512), 3);
    assert_int_equal(m[576], 0xEE);
    assert_int_equal(get32(m + 24), 0x1FA0);
    g->cfg.features &= ~X86_EMU_FEAT_XSAVEOPT;
    expect_exception(RUN(g, &rep, XSAVEOPT64), &rep, 6, false, 0);

    /* x87 not in use: XSAVE stores the initial x87 state. */
    put64(g->cpu.xsave.region + 512, 2);
    assert_int_equal(RUN(g, &rep, XSAVE64), X86_EMU_OK);
    assert_int_equal(m[0], 0x7F);
    assert_int_equal(m[1], 0x03);
    assert_int_equal(get64(m + 8), 0);
    assert_int_equal(m[32], 0);

    /* XRSTOR with XSTATE_BV clear initializes what RFBM selects. */
    fill_state(&g->cpu);
    memset(m, 0, 1024);
    put32(m + 24, 0x1F80);
    assert_int_equal(RUN(g, &rep, XRSTOR64), X86_EMU_OK);
    const uint8_t *img = g->cpu.xsave.region;
    assert_int_equal(img[0], 0x7F);
    assert_int_equal(img[1], 0x03);
    assert_int_equal(img[160], 0);
    assert_int_equal(img[600], 0);
    assert_int_equal(get64(img + 512) & 5, 0);
    assert_int_equal(get32(img + 24), 0x1F80);  /* the standard form loads MXCSR */
}

static void test_xsavec_compacted(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    fill_state(&g->cpu);
    struct hv_xsave orig = g->cpu.xsave;
    memset(m, 0xEE, 2048);
    assert_int_equal(RUN(g, &rep, XSAVEC64), X86_EMU_OK);
    assert_string_equal(rep.mnemonic, "xsavec64");
    assert_int_equal(get64(m + 512), 7);
    assert_int_equal(get64(m + 520), 0x8000000000000007ull);
    assert_int_equal(m[528], 0xEE);             /* rest of the header untouched */
    assert_memory_equal(m + 576, orig.region + 576, 256);
    assert_memory_equal(m + 160, orig.region + 160, 256);

    memset(m + 528, 0, 48);
    clear_state(&g->cpu);
    assert_int_equal(RUN(g, &rep, XRSTOR64), X86_EMU_OK);
    assert_memory_equal(g->cpu.xsave.region, orig.region, 24);
    assert_memory_equal(g->cpu.xsave.region + 32, orig.region + 32, 416 - 32);
    assert_memory_equal(g->cpu.xsave.region + 576, orig.region + 576, 256);
    assert_int_equal(get64(g->cpu.xsave.region + 512), 7);

    /* SSE not in use but MXCSR not default: still saved and marked. */
    put64(g->cpu.xsave.region + 512, 5);
    memset(m, 0xEE, 1024);
    assert_int_equal(RUN(g, &rep, XSAVEC64), X86_EMU_OK);
    assert_int_equal(get64(m + 512), 7);
    assert_int_equal(get32(m + 24), 0x1FA0);
    assert_int_equal(m[160], 0);                /* initial XMM values */
    put32(g->cpu.xsave.region + 24, 0x1F80);
    memset(m, 0xEE, 1024);
    assert_int_equal(RUN(g, &rep, XSAVEC64), X86_EMU_OK);
    assert_int_equal(get64(m + 512), 5);
    assert_int_equal(m[160], 0xEE);
    assert_int_equal(m[24], 0xEE);

    /* Compacted XRSTOR without SSE data: XMM zeroed, MXCSR = 1F80. */
    fill_state(&g->cpu);
    memset(m + 528, 0, 48);
    assert_int_equal(RUN(g, &rep, XRSTOR64), X86_EMU_OK);
    assert_int_equal(g->cpu.xsave.region[160], 0);
    assert_int_equal(get32(g->cpu.xsave.region + 24), 0x1F80);

    g->cfg.features &= ~X86_EMU_FEAT_XSAVEC;
    expect_exception(RUN(g, &rep, XSAVEC64), &rep, 6, false, 0);
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 13, true, 0);  /* compacted form */
}

/* The compacted layout follows XCOMP_BV, with 64-byte alignment on request. */
static void test_compacted_layout(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    g->cfg.xstate[3] = (struct x86_emu_xstate_component){ .size = 8, .offset = 960 };
    g->cfg.xstate[4] = (struct x86_emu_xstate_component){ .size = 64, .offset = 1024,
                                                          .align64 = true };
    g->cpu.xcrs.xcr0 = 0x1F;
    g->cpu.regs.rax = 0x1F;
    fill_state(&g->cpu);
    uint8_t *img = g->cpu.xsave.region;
    memset(img + 960, 0x33, 8);
    memset(img + 1024, 0x44, 64);
    put64(img + 512, 0x1F);
    memset(m, 0xEE, 2048);
    assert_int_equal(RUN(g, &rep, XSAVEC64), X86_EMU_OK);
    assert_int_equal(get64(m + 520), 0x800000000000001Full);
    assert_int_equal(m[832], 0x33);             /* component 3 right after AVX */
    assert_int_equal(m[839], 0x33);
    assert_int_equal(m[840], 0xEE);             /* padding up to 896 */
    assert_int_equal(m[896], 0x44);             /* component 4, 64-byte aligned */
    assert_int_equal(m[959], 0x44);
    assert_int_equal(m[960], 0xEE);

    /* Without AVX requested, component 3 moves to 576. */
    g->cpu.regs.rax = 0x1B;
    memset(m, 0xEE, 2048);
    assert_int_equal(RUN(g, &rep, XSAVEC64), X86_EMU_OK);
    assert_int_equal(m[576], 0x33);
    assert_int_equal(m[640], 0x44);

    /* Restore: only component 4 requested; component 3's data is skipped. */
    memset(m + 528, 0, 48);
    memset(img + 960, 0, 8);
    memset(img + 1024, 0, 64);
    g->cpu.regs.rax = 0x10;
    assert_int_equal(RUN(g, &rep, XRSTOR64), X86_EMU_OK);
    assert_int_equal(img[960], 0);
    assert_int_equal(img[1024], 0x44);

    /* A component in the mask with no known layout: not emulated. */
    g->cpu.xcrs.xcr0 = 0x3F;
    g->cpu.regs.rax = 0x3F;
    g->cfg.xstate[5].size = 0;
    assert_int_equal(RUN(g, &rep, XSAVEC64), X86_EMU_UNKNOWN);
    assert_int_equal(RUN(g, &rep, XSAVE64), X86_EMU_UNKNOWN);
}

static void test_xsaves_xrstors(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    fill_state(&g->cpu);
    struct hv_xsave orig = g->cpu.xsave;
    memset(m, 0, 1024);
    assert_int_equal(RUN(g, &rep, XSAVES64), X86_EMU_OK);
    assert_string_equal(rep.mnemonic, "xsaves64");
    assert_int_equal(get64(m + 520), 0x8000000000000007ull);
    clear_state(&g->cpu);
    assert_int_equal(RUN(g, &rep, XRSTORS64), X86_EMU_OK);
    assert_memory_equal(g->cpu.xsave.region + 576, orig.region + 576, 256);
    assert_memory_equal(g->cpu.xsave.region + 160, orig.region + 160, 256);

    /* XRSTORS needs the compacted format. */
    put64(m + 520, 0);
    expect_exception(RUN(g, &rep, XRSTORS64), &rep, 13, true, 0);
    /* Supervisor state (IA32_XSS) has no place in the image. */
    g->cpu.xss = 1ull << 8;
    g->cpu.regs.rax = 0x107;
    assert_int_equal(RUN(g, &rep, XSAVES64), X86_EMU_UNKNOWN);
    g->cpu.regs.rax = 7;
    /* CPL 3: #GP(0). */
    fake_user_mode(g);
    g->cpu.regs.rdi = UDATA;
    expect_exception(RUN(g, &rep, XSAVES64), &rep, 13, true, 0);
    expect_exception(RUN(g, &rep, XRSTORS64), &rep, 13, true, 0);
    /* ... while XSAVE works in user mode. */
    assert_int_equal(RUN(g, &rep, XSAVE64), X86_EMU_OK);
    g->cfg.features &= ~X86_EMU_FEAT_XSAVES;
    expect_exception(RUN(g, &rep, XSAVES64), &rep, 6, false, 0);
}

static void test_xsave_faults(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    fill_state(&g->cpu);
    memset(m, 0, 1024);
    struct hv_xsave before = g->cpu.xsave;

    g->cpu.regs.rdi = AREA + 0x20;
    expect_exception(RUN(g, &rep, XSAVE64), &rep, 13, true, 0);
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 13, true, 0);
    expect_exception(RUN(g, &rep, XSAVEC64), &rep, 13, true, 0);
    g->cpu.regs.rdi = AREA;
    expect_exception(RUN(g, &rep, 0xf0, XSAVE64), &rep, 6, false, 0);
    expect_exception(RUN(g, &rep, 0x66, XSAVE64), &rep, 6, false, 0);
    g->cpu.sregs.cr0 |= 8;
    expect_exception(RUN(g, &rep, XSAVE64), &rep, 7, false, 0);
    g->cpu.sregs.cr0 &= ~8ull;
    g->cpu.sregs.cr4 &= ~(1ull << 18);
    expect_exception(RUN(g, &rep, XSAVE64), &rep, 6, false, 0);
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 6, false, 0);
    g->cpu.sregs.cr4 |= 1ull << 18;
    /* Register operand: not these instructions (fences etc.). */
    assert_int_equal(RUN(g, &rep, 0x0f, 0xae, 0xe7), X86_EMU_UNKNOWN);

    /* Header checks of the standard form. */
    assert_int_equal(RUN(g, &rep, XSAVE64), X86_EMU_OK);
    put64(m + 512, 0xF);                        /* bit 3 not in XCR0 */
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 13, true, 0);
    put64(m + 512, 7);
    m[530] = 1;                                 /* bytes 23:8 must be zero */
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 13, true, 0);
    m[530] = 0;
    m[540] = 1;                                 /* beyond byte 23: ignored */
    assert_int_equal(RUN(g, &rep, XRSTOR64), X86_EMU_OK);
    m[540] = 0;
    /* ... and of the compacted form. */
    put64(m + 520, 0x8000000000000003ull);      /* XSTATE_BV bit 2 not in XCOMP_BV */
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 13, true, 0);
    put64(m + 520, 0x800000000000000Full);      /* XCOMP_BV bit 3 not in XCR0 */
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 13, true, 0);
    put64(m + 520, 0x8000000000000007ull);
    m[560] = 1;                                 /* bytes 63:16 must be zero */
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 13, true, 0);
    m[560] = 0;
    /* Reserved MXCSR bits. */
    put64(m + 520, 0);
    put32(m + 24, 0x10000);
    g->cpu.xsave = before;
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 13, true, 0);
    assert_memory_equal(&before, &g->cpu.xsave, sizeof(before));

    /* An area crossing into an unmapped page: #PF before any write. */
    uint64_t edge = KEDGE + 0x1000 - 0x200;
    uint8_t *em = fake_phys(g, PHYS_KEDGE + 0x1000 - 0x200);
    memset(em, 0xEE, 0x200);
    g->cpu.regs.rdi = edge;
    expect_exception(RUN(g, &rep, XSAVE64), &rep, 14, true, 2);
    assert_int_equal(rep.exception.cr2, KEDGE + 0x1000);
    assert_int_equal(em[0], 0xEE);
    expect_exception(RUN(g, &rep, XRSTOR64), &rep, 14, true, 0);
    /* Read-only destination. */
    g->cpu.regs.rdi = KRO;
    expect_exception(RUN(g, &rep, XSAVE64), &rep, 14, true, 3);
}

static void test_xsave_rip_relative(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    /* xsave64 [rip + disp32]: 8 bytes long, target KDATA + 0x2000. */
    g->cpu.regs.rip = KDATA + 0x2000 - 8 - 0x40;
    fake_map(g, g->cpu.regs.rip & ~0xFFFull, PHYS_KDATA + 0x1000, 0);
    uint8_t insn[] = { 0x48, 0x0f, 0xae, 0x25, 0x40, 0x00, 0x00, 0x00 };
    fill_state(&g->cpu);
    assert_int_equal(fake_run(g, insn, sizeof(insn), &rep), X86_EMU_OK);
    assert_int_equal(get64(fake_phys(g, PHYS_KDATA + 0x2000 + 512)), 7);
    assert_int_equal(g->cpu.regs.rip, KDATA + 0x2000 - 0x40);
}

static void test_xgetbv_xsetbv(void **state)
{
    struct fake_guest *g = *state;
    struct hv_regs *regs = &g->cpu.regs;
    struct x86_emu_report rep;
    regs->rcx = 0xFFFFFFFF00000000ull;          /* only ECX counts */
    regs->rax = ~0ull;
    regs->rdx = ~0ull;
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xd0), X86_EMU_OK);
    assert_int_equal(regs->rax, 7);
    assert_int_equal(regs->rdx, 0);
    put64(g->cpu.xsave.region + 512, 3);
    regs->rcx = 1;
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xd0), X86_EMU_OK);
    assert_int_equal(regs->rax, 3);
    regs->rcx = 2;
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xd0), &rep, 13, true, 0);

    regs->rcx = 0;
    regs->rax = 3;
    regs->rdx = 0;
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xd1), X86_EMU_OK);
    assert_int_equal(g->cpu.xcrs.xcr0, 3);
    assert_true(g->cpu.xcrs_dirty);
    static const uint64_t bad[] = { 2, 5, 0xF, 0x27, 0x10003 };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        regs->rax = bad[k];
        expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xd1), &rep, 13, true, 0);
    }
    regs->rax = 7;
    regs->rdx = 1;                              /* bit 32 */
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xd1), &rep, 13, true, 0);
    regs->rdx = 0;
    regs->rcx = 1;
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xd1), &rep, 13, true, 0);
    regs->rcx = 0;
    g->cfg.xcr0_supported = 0xE7;
    regs->rax = 0xE7;
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xd1), X86_EMU_OK);
    assert_int_equal(g->cpu.xcrs.xcr0, 0xE7);

    /* XGETBV works in user mode, XSETBV does not. */
    fake_user_mode(g);
    assert_int_equal(RUN(g, &rep, 0x0f, 0x01, 0xd0), X86_EMU_OK);
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xd1), &rep, 13, true, 0);
    g->cpu.sregs.cr4 &= ~(1ull << 18);
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xd0), &rep, 6, false, 0);
    expect_exception(RUN(g, &rep, 0x0f, 0x01, 0xd1), &rep, 6, false, 0);
}

static void test_fxsave_fxrstor(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    fill_state(&g->cpu);
    struct hv_xsave orig = g->cpu.xsave;
    memset(m, 0xEE, 512);
    assert_int_equal(RUN(g, &rep, FXSAVE64), X86_EMU_OK);
    assert_string_equal(rep.mnemonic, "fxsave64");
    assert_memory_equal(m, orig.region, 24);
    assert_memory_equal(m + 32, orig.region + 32, 416 - 32);
    assert_int_equal(get32(m + 24), 0x1FA0);
    assert_int_equal(m[416], 0xEE);
    assert_int_equal(m[511], 0xEE);

    memset(m, 0xEE, 512);
    assert_int_equal(RUN(g, &rep, FXSAVE), X86_EMU_OK);
    assert_int_equal(get32(m + 12), 0);

    memset(m, 0xEE, 512);
    assert_int_equal(RUN(g, &rep, FXSAVE64), X86_EMU_OK);
    clear_state(&g->cpu);
    assert_int_equal(RUN(g, &rep, FXRSTOR64), X86_EMU_OK);
    assert_memory_equal(g->cpu.xsave.region, orig.region, 24);
    assert_memory_equal(g->cpu.xsave.region + 32, orig.region + 32, 416 - 32);
    assert_int_equal(get64(g->cpu.xsave.region + 512) & 3, 3);
    assert_true(g->cpu.xsave_dirty);

    put32(m + 24, 0x40000);
    expect_exception(RUN(g, &rep, FXRSTOR64), &rep, 13, true, 0);
    g->cpu.regs.rdi = AREA + 8;
    expect_exception(RUN(g, &rep, FXSAVE64), &rep, 13, true, 0);
    g->cpu.regs.rdi = AREA;
    g->cpu.sregs.cr0 |= 4;                      /* EM */
    expect_exception(RUN(g, &rep, FXSAVE64), &rep, 7, false, 0);
    g->cpu.sregs.cr0 &= ~4ull;
    g->cfg.features &= ~X86_EMU_FEAT_FXSR;
    expect_exception(RUN(g, &rep, FXSAVE64), &rep, 6, false, 0);
    g->cfg.features |= X86_EMU_FEAT_FXSR;

    /* Compatibility mode: XMM8-15 are neither saved nor restored. */
    fake_map(g, 0x10000000, 0x900000, FAKE_RW);
    g->cpu.sregs.cs.l = 0;
    g->cpu.sregs.cs.db = 1;
    g->cpu.regs.rip = 0x1000;
    g->cpu.regs.rdi = 0x10000000;
    uint8_t *cm = fake_phys(g, 0x900000);
    memset(cm, 0xEE, 512);
    assert_int_equal(RUN(g, &rep, FXSAVE), X86_EMU_OK);
    assert_int_equal(rep.mode, X86_EMU_MODE_COMPAT32);
    assert_memory_equal(cm + 160, g->cpu.xsave.region + 160, 128);
    assert_int_equal(cm[288], 0xEE);
    assert_int_equal(cm[415], 0xEE);
    uint8_t xmm8 = g->cpu.xsave.region[288];
    assert_int_equal(RUN(g, &rep, 0x0f, 0xae, 0x0f), X86_EMU_OK);      /* fxrstor */
    assert_int_equal(g->cpu.xsave.region[288], xmm8);

    /* ... nor YMM8-15's upper halves by XSAVE/XRSTOR. */
    memset(g->cpu.xsave.region + 576, 0x5A, 256);
    g->cpu.xsave.region[512] |= 4;
    memset(cm, 0xEE, 1024);
    memset(cm + 512, 0, 64);
    assert_int_equal(RUN(g, &rep, XSAVE), X86_EMU_OK);
    assert_memory_equal(cm + 576, g->cpu.xsave.region + 576, 128);
    assert_int_equal(cm[576 + 128], 0xEE);
    memset(cm + 576, 0, 128);
    put64(cm + 512, 3);                         /* AVX initialized by XRSTOR */
    uint8_t ymm8 = g->cpu.xsave.region[576 + 128];
    assert_int_equal(RUN(g, &rep, XRSTOR), X86_EMU_OK);
    assert_int_equal(g->cpu.xsave.region[576], 0);
    assert_int_equal(g->cpu.xsave.region[576 + 128], ymm8);
    assert_true(g->cpu.xsave.region[512] & 4);  /* YMM8-15 still in use */
}

static void test_ldmxcsr_stmxcsr(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint8_t *m = fake_phys(g, PHYS_AREA);
    put32(m, 0x1FC0);
    assert_int_equal(RUN(g, &rep, 0x0f, 0xae, 0x17), X86_EMU_OK);      /* ldmxcsr [rdi] */
    assert_string_equal(rep.mnemonic, "ldmxcsr");
    assert_int_equal(get32(g->cpu.xsave.region + 24), 0x1FC0);
    assert_true(get64(g->cpu.xsave.region + 512) & 2);
    put32(m + 4, 0);
    g->cpu.regs.rdi = AREA + 4;
    assert_int_equal(RUN(g, &rep, 0x0f, 0xae, 0x1f), X86_EMU_OK);      /* stmxcsr [rdi] */
    assert_int_equal(get32(m + 4), 0x1FC0);
    put32(m + 4, 0x20000);
    expect_exception(RUN(g, &rep, 0x0f, 0xae, 0x17), &rep, 13, true, 0);
    g->cpu.sregs.cr4 &= ~(1ull << 9);
    expect_exception(RUN(g, &rep, 0x0f, 0xae, 0x17), &rep, 6, false, 0);
    g->cpu.sregs.cr4 |= 1ull << 9;
    g->cpu.sregs.cr0 |= 8;
    expect_exception(RUN(g, &rep, 0x0f, 0xae, 0x1f), &rep, 7, false, 0);
    /* VEX forms (vldmxcsr) are not decoded. */
    assert_int_equal(RUN(g, &rep, 0xc5, 0xf8, 0xae, 0x17), X86_EMU_UNKNOWN);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_xsave_xrstor_standard),
        T(test_xsave_32bit_format),
        T(test_xsave_init_state),
        T(test_xsavec_compacted),
        T(test_compacted_layout),
        T(test_xsaves_xrstors),
        T(test_xsave_faults),
        T(test_xsave_rip_relative),
        T(test_xgetbv_xsetbv),
        T(test_fxsave_fxrstor),
        T(test_ldmxcsr_stmxcsr),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
