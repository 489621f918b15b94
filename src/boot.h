/* Direct kernel boot without firmware: load the kernel and initrd, write
 * the tables the kernel needs (e820, ACPI, its boot protocol's info block),
 * and put the boot vCPU in the state that protocol expects. */
#ifndef HOSTEL_BOOT_H
#define HOSTEL_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv.h"
#include "loader/loader.h"
#include "memory.h"

/* Fixed low-memory layout (all inside the first 640 KiB of RAM). */
#define BOOT_GDT_ADDR 0x500u
#define BOOT_PML4_ADDR 0x9000u
#define BOOT_PDPT_ADDR 0xA000u
#define BOOT_PD_ADDR 0xB000u      /* 4 page directories: 4 GiB in 2 MiB pages */
#define BOOT_INFO_ADDR 0x20000u   /* zero page / start_info / multiboot info */
#define BOOT_INFO_SIZE 0x10000u
#define BOOT_EBDA_START 0x9FC00u
#define BOOT_SEL_CODE 0x10u       /* Linux's __BOOT_CS */
#define BOOT_SEL_DATA 0x18u       /* Linux's __BOOT_DS */

struct boot_request {
    const uint8_t *kernel;
    size_t kernel_len;
    const uint8_t *initrd;     /* may be NULL */
    size_t initrd_len;
    const char *cmdline;       /* may be NULL */
    unsigned ncpus;
    bool hpet;                 /* the board has an HPET (for ACPI) */
    enum boot_kind want;       /* BOOT_AUTO, or a protocol the user insists on */
};

struct boot_result {
    struct boot_image image;
    uint64_t initrd_addr;
    uint64_t rsdp;
    struct hv_regs regs;       /* for the boot vCPU */
    struct hv_sregs sregs;     /* on top of the vCPU's reset sregs */
};

/* Build the PC's e820 map for this RAM. Returns the number of entries. */
unsigned boot_build_e820(const struct guest_mem *mem, struct e820_entry *out, unsigned max);

/* Do everything in guest memory and compute the boot vCPU state.
 * Returns 0, or -1 with a sentence in err. */
int boot_prepare(const struct guest_mem *mem, const struct boot_request *req,
                 struct boot_result *res, char *err, size_t errlen);

/* Apply res's registers to the boot vCPU. base_sregs: its current special
 * registers (from get_sregs), so the parts boot does not set are kept. */
void boot_apply_sregs(const struct boot_result *res, struct hv_sregs *sregs);

#endif
