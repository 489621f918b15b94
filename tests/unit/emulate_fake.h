/* A fake guest for the x86 emulator tests: 16 MiB of "physical" memory,
 * hand-built 4-level page tables, a GDT, an IDT and a 64-bit TSS, and a vCPU
 * in 64-bit kernel mode. */
#ifndef HOSTEL_TEST_EMULATE_FAKE_H
#define HOSTEL_TEST_EMULATE_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emulate/x86_emulate.h"

#define FAKE_MEM_SIZE (16u << 20)

/* Page-table entry bits. */
#define FAKE_P 0x1ull
#define FAKE_RW 0x2ull
#define FAKE_US 0x4ull
#define FAKE_A 0x20ull
#define FAKE_D 0x40ull
#define FAKE_PS 0x80ull
#define FAKE_NX (1ull << 63)

/* Virtual layout (physical address in parentheses). */
#define KCODE 0xffffffff81000000ull     /* 2 pages, RX (0x100000) */
#define KDATA 0xffffc90000000000ull     /* 16 pages, RW, NX (0x200000) */
#define UDATA 0x0000000000400000ull     /* 4 pages, RW, user (0x300000) */
#define KRO 0xffffc90000100000ull       /* 1 page, read-only (0x400000) */
#define KNP 0xffffc90000200000ull       /* not mapped */
#define KEDGE 0xffffc90000300000ull     /* 1 page (0x500000); the next is not mapped */
#define KIDT 0xfffffe0000000000ull      /* (0x600000) */
#define KGDT 0xfffffe0000001000ull      /* (0x601000) */
#define KTSS 0xfffffe0000002000ull      /* (0x602000) */
#define KSTACK 0xffffc90000400000ull    /* 4 pages (0x700000); RSP0 = top */
#define KIST1 0xffffc90000500000ull     /* 2 pages (0x800000); IST1 = top */
#define KHANDLER 0xffffffff81100000ull  /* handlers' addresses (not mapped) */

#define PHYS_KCODE 0x100000ull
#define PHYS_KDATA 0x200000ull
#define PHYS_UDATA 0x300000ull
#define PHYS_KRO 0x400000ull
#define PHYS_KEDGE 0x500000ull
#define PHYS_IDT 0x600000ull
#define PHYS_GDT 0x601000ull
#define PHYS_TSS 0x602000ull
#define PHYS_KSTACK 0x700000ull
#define PHYS_IST1 0x800000ull

#define SEL_KCODE 0x10
#define SEL_KDATA 0x18
#define SEL_UDATA 0x23
#define SEL_UCODE 0x2b

struct fake_guest {
    uint8_t *mem;
    uint64_t next_table;    /* bump allocator for page tables */
    size_t max_access;      /* largest single physical access seen */
    unsigned accesses;
    struct x86_emu_config cfg;
    struct x86_emu_cpu cpu;
};

/* Guest-physical memory callbacks, with and without map_phys. */
extern const struct x86_emu_ops fake_ops;
extern const struct x86_emu_ops fake_ops_nomap;

/* Allocate memory and build the 64-bit kernel-mode guest described above. */
struct fake_guest *fake_new(void);
void fake_free(struct fake_guest *g);

/* Host pointer to guest-physical memory. */
uint8_t *fake_phys(struct fake_guest *g, uint64_t gpa);

/* Map one 4 KiB page (4-level tables under CR3); flags are the leaf's bits
 * (FAKE_P is added). Upper levels are P|RW|US. */
void fake_map(struct fake_guest *g, uint64_t virt, uint64_t phys, uint64_t flags);
/* A 2 MiB (level 1) or 1 GiB (level 2) page. */
void fake_map_large(struct fake_guest *g, uint64_t virt, uint64_t phys, uint64_t flags,
                    unsigned level);
/* Guest-physical address of the leaf entry mapping virt (0 if none). */
uint64_t fake_leaf(struct fake_guest *g, uint64_t virt);

/* Host pointer for a mapped guest-virtual address (through the tables). */
uint8_t *fake_virt(struct fake_guest *g, uint64_t virt);

/* Write a 64-bit IDT gate. */
void fake_gate(struct fake_guest *g, unsigned vector, uint64_t handler, uint16_t selector,
               unsigned type, unsigned dpl, unsigned ist, bool present);

/* Switch the vCPU to CPL 3 64-bit user code. */
void fake_user_mode(struct fake_guest *g);

/* Run one instruction given as bytes. */
enum x86_emu_result fake_run(struct fake_guest *g, const uint8_t *bytes, size_t len,
                             struct x86_emu_report *rep);

#endif
