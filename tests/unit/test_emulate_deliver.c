/* x86 emulator: exception and interrupt delivery in long, protected and real
 * mode, including faults raised while delivering (#GP, #NP, #PF, #DF, triple
 * fault). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulate_fake.h"

#define IF (1ull << 9)
#define TF (1ull << 8)
#define RF (1ull << 16)

#define H(v) (KHANDLER + (v) * 0x10)    /* handler address for vector v */

static int setup(void **state)
{
    struct fake_guest *g = fake_new();
    fake_gate(g, 3, H(3), SEL_KCODE, 0xE, 3, 0, true);
    fake_gate(g, 2, H(2), SEL_KCODE, 0xE, 0, 1, true);         /* NMI on IST1 */
    fake_gate(g, 8, H(8), SEL_KCODE, 0xE, 0, 1, true);         /* #DF on IST1 */
    fake_gate(g, 11, H(11), SEL_KCODE, 0xE, 0, 0, true);
    fake_gate(g, 13, H(13), SEL_KCODE, 0xE, 0, 0, true);
    fake_gate(g, 14, H(14), SEL_KCODE, 0xE, 0, 0, true);
    fake_gate(g, 0x40, H(0x40), SEL_KCODE, 0xE, 0, 0, false);  /* not present */
    fake_gate(g, 0x80, H(0x80), SEL_KCODE, 0xF, 3, 0, true);   /* trap gate */
    fake_gate(g, 0x81, H(0x81), SEL_KCODE, 0xE, 0, 0, true);   /* kernel only */
    fake_gate(g, 0x82, H(0x82), SEL_KCODE, 0xC, 3, 0, true);   /* call gate type */
    g->cpu.regs.rflags = 0x202;
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    fake_free(*state);
    return 0;
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

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
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

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

/* The 64-bit frame at the vCPU's new RSP. */
static const uint8_t *frame(struct fake_guest *g)
{
    const uint8_t *p = fake_virt(g, g->cpu.regs.rsp);
    assert_non_null(p);
    return p;
}

static enum x86_emu_result deliver_report(struct fake_guest *g, const struct x86_emu_report *rep)
{
    const struct x86_emu_exception *e = &rep->exception;
    return x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, e->vector, e->has_error_code,
                                     e->error_code, e->is_soft, e->insn_len);
}

static void test_int3_kernel(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint64_t rip = KCODE + 0x40, rsp = KSTACK + 0x2FF8;
    g->cpu.regs.rip = rip;
    g->cpu.regs.rsp = rsp;
    g->cpu.regs.rflags = 0x202 | TF | RF;
    static const uint8_t int3[] = { 0xcc };
    assert_int_equal(fake_run(g, int3, 1, &rep), X86_EMU_EXCEPTION);
    assert_int_equal(deliver_report(g, &rep), X86_EMU_OK);

    assert_int_equal(g->cpu.regs.rip, H(3));
    assert_int_equal(g->cpu.regs.rsp, ((rsp & ~0xFull) - 40));
    const uint8_t *f = frame(g);
    assert_int_equal(get64(f + 0), rip + 1);
    assert_int_equal(get64(f + 8), SEL_KCODE);
    assert_int_equal(get64(f + 16), 0x202 | TF | RF);
    assert_int_equal(get64(f + 24), rsp);
    assert_int_equal(get64(f + 32), SEL_KDATA);
    assert_int_equal(g->cpu.regs.rflags, 2);    /* IF, TF, RF cleared */
    assert_int_equal(g->cpu.sregs.cs.selector, SEL_KCODE);
    assert_int_equal(g->cpu.sregs.ss.selector, SEL_KDATA);
    assert_true(g->cpu.regs_dirty);
    assert_true(g->cpu.sregs_dirty);
}

static void test_int3_user(void **state)
{
    struct fake_guest *g = *state;
    fake_user_mode(g);
    uint64_t rip = 0x401000, rsp = UDATA + 0x800;
    g->cpu.regs.rip = rip;
    g->cpu.regs.rsp = rsp;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 3, false, 0, true, 1),
                     X86_EMU_OK);
    /* Privilege change: the stack comes from TSS.RSP0. */
    assert_int_equal(g->cpu.regs.rsp, KSTACK + 0x4000 - 40);
    const uint8_t *f = frame(g);
    assert_int_equal(get64(f + 0), rip + 1);
    assert_int_equal(get64(f + 8), SEL_UCODE);
    assert_int_equal(get64(f + 16), 0x202);
    assert_int_equal(get64(f + 24), rsp);
    assert_int_equal(get64(f + 32), SEL_UDATA);
    assert_int_equal(g->cpu.sregs.cs.selector, SEL_KCODE);
    assert_int_equal(g->cpu.sregs.ss.selector, 0);
    assert_int_equal(x86_emu_cpu_cpl(&g->cpu), 0);
    assert_int_equal(x86_emu_cpu_mode(&g->cpu), X86_EMU_MODE_LONG64);
}

static void test_ist_and_trap_gate(void **state)
{
    struct fake_guest *g = *state;
    uint64_t rip = g->cpu.regs.rip;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 2, false, 0, false, 0),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rsp, KIST1 + 0x2000 - 40);
    assert_int_equal(get64(frame(g)), rip);     /* not soft: the same RIP */
    assert_int_equal(g->cpu.regs.rip, H(2));

    /* A trap gate leaves IF alone. */
    fake_user_mode(g);
    g->cpu.regs.rflags = 0x202;
    g->cpu.regs.rsp = UDATA + 0x100;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x80, false, 0, true, 2),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rflags, 0x202);
    assert_int_equal(g->cpu.regs.rip, H(0x80));
}

static void test_soft_int_dpl(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    fake_user_mode(g);
    uint64_t rip = 0x401000;
    g->cpu.regs.rip = rip;
    g->cpu.regs.rsp = UDATA + 0x100;
    static const uint8_t int81[] = { 0xcd, 0x81 };
    assert_int_equal(fake_run(g, int81, 2, &rep), X86_EMU_EXCEPTION);
    assert_int_equal(deliver_report(g, &rep), X86_EMU_OK);
    /* #GP(0x81 * 8 + 2) delivered instead, returning to the INT itself. */
    assert_int_equal(g->cpu.regs.rip, H(13));
    assert_int_equal(g->cpu.regs.rsp, KSTACK + 0x4000 - 48);
    const uint8_t *f = frame(g);
    assert_int_equal(get64(f + 0), 0x81 * 8 + 2);
    assert_int_equal(get64(f + 8), rip);
    assert_int_equal(get64(f + 16), SEL_UCODE);
    assert_int_equal(get64(f + 24) & RF, RF);  /* a fault: RF in the image */

    /* A hardware interrupt ignores the gate's DPL. */
    g = *state;
    fake_user_mode(g);
    g->cpu.regs.rsp = UDATA + 0x100;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x81, false, 0, false, 0),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, H(0x81));
}

static void test_bad_gates(void **state)
{
    struct fake_guest *g = *state;
    uint64_t rsp = KSTACK + 0x3000;
    g->cpu.regs.rsp = rsp;
    /* Not present, hardware event: #NP with EXT. */
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x40, false, 0, false, 0),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, H(11));
    assert_int_equal(get64(frame(g)), 0x40 * 8 + 2 + 1);

    /* A call-gate type in the IDT: #GP(vector, IDT). */
    g->cpu.regs.rsp = rsp;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x82, false, 0, true, 2),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, H(13));
    assert_int_equal(get64(frame(g)), 0x82 * 8 + 2);

    /* Beyond the IDT limit. */
    g->cpu.regs.rsp = rsp;
    g->cpu.sregs.idt.limit = 0x80 * 16 - 1;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x80, false, 0, true, 2),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, H(13));
    assert_int_equal(get64(frame(g)), 0x80 * 8 + 2);

    /* A gate whose selector lies beyond the GDT: #GP(selector). */
    g->cpu.sregs.idt.limit = 0xFFF;
    g->cpu.regs.rsp = rsp;
    fake_gate(g, 0x83, H(0x83), 0x80, 0xE, 3, 0, true);
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x83, false, 0, true, 2),
                     X86_EMU_OK);
    assert_int_equal(get64(frame(g)), 0x80);
    /* ... or names a data segment. */
    g->cpu.regs.rsp = rsp;
    fake_gate(g, 0x83, H(0x83), SEL_KDATA, 0xE, 3, 0, true);
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x83, false, 0, true, 2),
                     X86_EMU_OK);
    assert_int_equal(get64(frame(g)), SEL_KDATA);
}

static void test_page_fault_frame(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    uint64_t rip = KCODE + 0x80;
    g->cpu.regs.rip = rip;
    g->cpu.regs.rdi = KNP + 0x10;
    static const uint8_t pop[] = { 0xf3, 0x48, 0x0f, 0xb8, 0x07 };
    assert_int_equal(fake_run(g, pop, sizeof(pop), &rep), X86_EMU_EXCEPTION);
    assert_int_equal(rep.exception.vector, 14);
    assert_false(rep.exception.is_soft);
    assert_int_equal(deliver_report(g, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, H(14));
    assert_int_equal(g->cpu.sregs.cr2, KNP + 0x10);
    const uint8_t *f = frame(g);
    assert_int_equal(get64(f), 0);              /* supervisor read, not present */
    assert_int_equal(get64(f + 8), rip);
    assert_true(get64(f + 24) & RF);
}

static void test_double_and_triple_fault(void **state)
{
    struct fake_guest *g = *state;
    /* The kernel stack is not mapped: #BP -> #PF -> #PF -> #DF on IST1. */
    uint64_t rip = KCODE + 0x10;
    g->cpu.regs.rip = rip;
    g->cpu.regs.rsp = KNP + 0x100;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 3, false, 0, true, 1),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, H(8));
    assert_int_equal(g->cpu.regs.rsp, KIST1 + 0x2000 - 48);
    const uint8_t *f = frame(g);
    assert_int_equal(get64(f), 0);              /* #DF's error code */
    assert_int_equal(get64(f + 8), rip);
    assert_int_equal(get64(f + 32), KNP + 0x100);
    assert_int_equal(g->cpu.sregs.cr2 & ~0xFFFull, KNP);

    /* Without IST for #DF there is nowhere left to go. */
    g = *state;
    fake_gate(g, 8, H(8), SEL_KCODE, 0xE, 0, 0, true);
    g->cpu.regs.rip = rip;
    g->cpu.regs.rsp = KNP + 0x100;
    struct hv_regs before = g->cpu.regs;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 14, true, 2, false, 0),
                     X86_EMU_TRIPLE_FAULT);
    assert_memory_equal(&before, &g->cpu.regs, sizeof(before));

    /* A bad TSS for the privilege switch: #TS, then #DF. */
    g = *state;
    fake_gate(g, 8, H(8), SEL_KCODE, 0xE, 0, 1, true);
    fake_user_mode(g);
    g->cpu.regs.rsp = UDATA;
    g->cpu.sregs.tr.limit = 0x3;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x80, false, 0, true, 2),
                     X86_EMU_TRIPLE_FAULT);
    g->cpu.sregs.tr.limit = 0x67;
    put64(fake_phys(g, PHYS_TSS + 4), 0x0000800000000000ull);     /* non-canonical RSP0 */
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x80, false, 0, true, 2),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rip, H(8));

    /* Memory that is not RAM stops delivery. */
    g = *state;
    g->cpu.sregs.idt.base = 0xffffc90000700000ull;
    fake_map(g, g->cpu.sregs.idt.base, 0x2000000, 0);
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 3, false, 0, true, 1),
                     X86_EMU_MEM_ERROR);
}

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
    sr->cs.selector = 0xF000;
    sr->cs.base = 0xF0000;
    sr->cs.limit = 0xFFFF;
    sr->ss.selector = 0x3000;
    sr->ss.base = 0x30000;
    sr->ss.limit = 0xFFFF;
    sr->idt.base = 0;
    sr->idt.limit = 0x3FF;
    put16(fake_phys(g, 0x10 * 4), 0x1234);
    put16(fake_phys(g, 0x10 * 4 + 2), 0xC000);
    g->cpu.regs.rip = 0x5000;
    g->cpu.regs.rsp = 0xABCD0100;
    g->cpu.regs.rflags = 0x40202;               /* AC and IF */
    static const uint8_t int10[] = { 0xcd, 0x10 };
    assert_int_equal(fake_run(g, int10, 2, &rep), X86_EMU_EXCEPTION);
    assert_int_equal(rep.mode, X86_EMU_MODE_REAL);
    assert_int_equal(deliver_report(g, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rsp, 0xABCD00FA);
    assert_int_equal(get16(fake_phys(g, 0x300FA)), 0x5002);
    assert_int_equal(get16(fake_phys(g, 0x300FC)), 0xF000);
    assert_int_equal(get16(fake_phys(g, 0x300FE)), 0x0202);
    assert_int_equal(g->cpu.regs.rip, 0x1234);
    assert_int_equal(sr->cs.selector, 0xC000);
    assert_int_equal(sr->cs.base, 0xC0000);
    assert_int_equal(g->cpu.regs.rflags, 2);

    /* SP wraps within the segment. */
    g->cpu.regs.rsp = 0x2;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x10, false, 0, false, 0),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rsp, 0xFFFC);
    assert_int_equal(get16(fake_phys(g, 0x30000)), 0x0002);     /* FLAGS at SP=0 */
    assert_int_equal(get16(fake_phys(g, 0x3FFFE)), 0xC000);     /* CS */
    assert_int_equal(get16(fake_phys(g, 0x3FFFC)), 0x1234);     /* IP */

    /* Vector beyond the IVT limit: #GP, which is beyond it too: shutdown. */
    sr->idt.limit = 0x3;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x10, false, 0, true, 2),
                     X86_EMU_TRIPLE_FAULT);
}

/* Flat 32-bit protected mode without paging: GDT, IDT and TSS at physical
 * addresses. */
static void enter_protected32(struct fake_guest *g, unsigned cpl)
{
    struct hv_sregs *sr = &g->cpu.sregs;
    sr->cr0 = 0x11;
    sr->cr4 = 0;
    sr->efer = 0;
    uint8_t *gdt = fake_phys(g, PHYS_GDT);
    put64(gdt + 0x08, 0x00cf9b000000ffffull);   /* code32 DPL0 */
    put64(gdt + 0x10, 0x00cf93000000ffffull);   /* data32 DPL0 */
    put64(gdt + 0x18, 0x00cffb000000ffffull);   /* code32 DPL3 */
    put64(gdt + 0x20, 0x00cff3000000ffffull);   /* data32 DPL3 */
    sr->gdt.base = PHYS_GDT;
    sr->gdt.limit = 0x27;
    sr->idt.base = PHYS_IDT;
    sr->idt.limit = 0x7FF;
    /* 32-bit TSS: ESP0, SS0. */
    put32(fake_phys(g, PHYS_TSS + 4), 0x00710000);
    put32(fake_phys(g, PHYS_TSS + 8), 0x10);
    sr->tr.base = PHYS_TSS;
    sr->tr.limit = 0x67;
    sr->tr.type = 0xB;
    sr->tr.present = 1;
    struct hv_segment code = { .limit = 0xFFFFFFFF, .type = 0xB, .present = 1, .s = 1, .db = 1,
                               .g = 1 };
    struct hv_segment data = code;
    data.type = 0x3;
    sr->cs = code;
    sr->ss = data;
    sr->ds = data;
    sr->cs.selector = cpl ? 0x1b : 0x08;
    sr->cs.dpl = (uint8_t)cpl;
    sr->ss.selector = cpl ? 0x23 : 0x10;
    sr->ss.dpl = (uint8_t)cpl;
}

static void gate32(struct fake_guest *g, unsigned vector, uint32_t handler, uint16_t selector,
                   unsigned type, unsigned dpl)
{
    uint64_t d = (handler & 0xFFFF) | ((uint64_t)selector << 16) | ((uint64_t)type << 40) |
                 ((uint64_t)dpl << 45) | (1ull << 47) | ((uint64_t)(handler >> 16) << 48);
    put64(fake_phys(g, PHYS_IDT + vector * 8), d);
}

static void test_protected_mode(void **state)
{
    struct fake_guest *g = *state;
    struct x86_emu_report rep;
    enter_protected32(g, 0);
    gate32(g, 0x80, 0x00101000, 0x08, 0xF, 3);
    gate32(g, 0x81, 0x00102000, 0x08, 0x7, 3);  /* 16-bit trap gate */
    gate32(g, 0x82, 0, 0x28, 0x5, 3);           /* task gate */
    gate32(g, 0x0D, 0x00103000, 0x08, 0xE, 0);
    g->cpu.regs.rip = 0x00100500;
    g->cpu.regs.rsp = 0x00708000;
    static const uint8_t int80[] = { 0xcd, 0x80 };
    assert_int_equal(fake_run(g, int80, 2, &rep), X86_EMU_EXCEPTION);
    assert_int_equal(rep.mode, X86_EMU_MODE_PROT32);
    assert_int_equal(deliver_report(g, &rep), X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rsp, 0x00708000 - 12);
    const uint8_t *f = fake_phys(g, g->cpu.regs.rsp);
    assert_int_equal(get32(f), 0x00100502);
    assert_int_equal(get32(f + 4), 0x08);
    assert_int_equal(get32(f + 8), 0x202);
    assert_int_equal(g->cpu.regs.rip, 0x00101000);
    assert_int_equal(g->cpu.regs.rflags, 0x202);        /* trap gate */

    /* 16-bit gate: 2-byte pushes. */
    g->cpu.regs.rsp = 0x00708000;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x81, false, 0, true, 2),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rsp, 0x00708000 - 6);
    f = fake_phys(g, g->cpu.regs.rsp);
    assert_int_equal(get16(f + 2), 0x08);

    /* Task gates are not emulated. */
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 0x82, false, 0, true, 2),
                     X86_EMU_UNKNOWN);

    /* From CPL 3 through the TSS's SS0:ESP0, with an error code. */
    g = *state;
    enter_protected32(g, 3);
    gate32(g, 0x0D, 0x00103000, 0x08, 0xE, 0);
    g->cpu.regs.rip = 0x08048000;
    g->cpu.regs.rsp = 0x00300800;
    assert_int_equal(x86_emu_cpu_cpl(&g->cpu), 3);
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 13, true, 0x18, false, 0),
                     X86_EMU_OK);
    assert_int_equal(g->cpu.regs.rsp, 0x00710000 - 24);
    f = fake_phys(g, g->cpu.regs.rsp);
    assert_int_equal(get32(f), 0x18);
    assert_int_equal(get32(f + 4), 0x08048000);
    assert_int_equal(get32(f + 8), 0x1b);
    assert_int_equal(get32(f + 12) & ~RF, 0x202);
    assert_int_equal(get32(f + 16), 0x00300800);
    assert_int_equal(get32(f + 20), 0x23);
    assert_int_equal(g->cpu.sregs.ss.selector, 0x10);
    assert_int_equal(g->cpu.sregs.cs.selector, 0x08);
    assert_int_equal(x86_emu_cpu_cpl(&g->cpu), 0);
    assert_int_equal(g->cpu.regs.rflags & IF, 0);

    /* A TSS whose SS0 is not a writable DPL-0 data segment: #TS -> #DF -> shutdown
     * (no #DF gate here). */
    g = *state;
    enter_protected32(g, 3);
    put32(fake_phys(g, PHYS_TSS + 8), 0x18);
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 13, true, 0, false, 0),
                     X86_EMU_TRIPLE_FAULT);

    /* Virtual-8086 mode delivery is not emulated. */
    g->cpu.regs.rflags |= 1ull << 17;
    assert_int_equal(x86_emu_deliver_interrupt(&g->cpu, &fake_ops, g, 13, true, 0, false, 0),
                     X86_EMU_UNKNOWN);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_int3_kernel),
        T(test_int3_user),
        T(test_ist_and_trap_gate),
        T(test_soft_int_dpl),
        T(test_bad_gates),
        T(test_page_fault_frame),
        T(test_double_and_triple_fault),
        T(test_real_mode),
        T(test_protected_mode),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
