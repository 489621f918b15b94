#include "pam.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vm.h"

/* Segment 0 is 0xF0000-0xFFFFF (PAM0 bits 5-4); segments 1-12 are the
 * 16 KiB pieces of 0xC0000-0xEFFFF, two per register PAM1-PAM6 (bits 1-0
 * for the lower piece, 5-4 for the upper). */
uint64_t pam_segment_base(unsigned i)
{
    return i == 0 ? 0xF0000u : VM_BIOS_AREA_START + (uint64_t)(i - 1) * 0x4000u;
}

uint64_t pam_segment_size(unsigned i)
{
    return i == 0 ? 0x10000u : 0x4000u;
}

static unsigned pam_segment_of(uint64_t gpa)
{
    return gpa >= 0xF0000u ? 0 : 1 + (unsigned)((gpa - VM_BIOS_AREA_START) / 0x4000u);
}

static uint8_t pam_reg_mode(const uint8_t regs[7], unsigned i)
{
    if (i == 0)
        return (regs[0] >> 4) & 3;
    unsigned reg = 1 + (i - 1) / 2;
    return ((i - 1) & 1) ? (regs[reg] >> 4) & 3 : regs[reg] & 3;
}

/* Host pointer of the ROM byte seen at gpa in the ISA BIOS window, or NULL. */
static uint8_t *pam_rom_ptr(const struct pam *pam, uint64_t gpa)
{
    uint64_t window = pam->rom_size < PAM_ISA_BIOS_SIZE ? pam->rom_size : PAM_ISA_BIOS_SIZE;
    if (!pam->rom || gpa < VM_BIOS_AREA_END - window || gpa >= VM_BIOS_AREA_END)
        return NULL;
    return pam->rom + pam->rom_size - (VM_BIOS_AREA_END - gpa);
}

static int pam_map_segment(struct pam *pam, unsigned i, uint8_t mode, char *err, size_t errlen)
{
    uint64_t base = pam_segment_base(i), size = pam_segment_size(i);
    uint8_t *ram = pam->vm->mem.regions[0].hva + base;
    void *hva = NULL;
    unsigned flags = 0;
    if (mode == PAM_MODE_RAM) {
        hva = ram;
    } else if (mode == PAM_MODE_READ) {
        hva = ram;
        flags = HV_MEM_READONLY;
    } else {
        /* Reads go to the ROM (or nowhere); writes, if enabled, exit. */
        hva = pam_rom_ptr(pam, base);
        if (hva && !pam_rom_ptr(pam, base + size - 1))
            hva = NULL;
        flags = HV_MEM_READONLY;
    }
    pam->mode[i] = mode;
    return vm_set_slot(pam->vm, VM_SLOT_PAM0 + i, base, hva ? size : 0, hva, flags, err, errlen);
}

int pam_update(struct pam *pam, const uint8_t regs[7], char *err, size_t errlen)
{
    for (unsigned i = 0; i < PAM_SEGMENTS; i++)
        if (pam_map_segment(pam, i, pam_reg_mode(regs, i), err, errlen) < 0)
            return -1;
    return 0;
}

void pam_init_ram(struct pam *pam, struct vm *vm)
{
    memset(pam, 0, sizeof(*pam));
    pam->vm = vm;
}

int pam_check_rom(const char *name, size_t size, char *err, size_t errlen)
{
    if (size == 0 || size % 0x10000 || size > PAM_ROM_MAX) {
        snprintf(err, errlen, "The firmware %s is not a BIOS image: its size must be a multiple of 64 KiB, "
                 "at most 16 MiB.", name);
        return -1;
    }
    return 0;
}

int pam_load_rom(struct pam *pam, struct vm *vm, const uint8_t *image, size_t size, const char *name,
                 char *err, size_t errlen)
{
    pam_init_ram(pam, vm);
    if (pam_check_rom(name, size, err, errlen) < 0)
        return -1;
    uint8_t *rom = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rom == MAP_FAILED) {
        snprintf(err, errlen, "Out of memory for the firmware %s.", name);
        return -1;
    }
    memcpy(rom, image, size);
    mprotect(rom, size, PROT_READ);
    pam->rom = rom;
    pam->rom_size = size;
    return vm_set_slot(vm, VM_SLOT_BIOS, 0x100000000ull - size, size, rom, HV_MEM_READONLY, err, errlen);
}

void pam_destroy(struct pam *pam)
{
    if (pam->rom)
        munmap(pam->rom, pam->rom_size);
    pam->rom = NULL;
}

/* Accesses that no slot took: writes to ROM or read-only segments, any
 * access to a segment in write-only mode, and a segment between two slot
 * mappings while the registers change. */
static uint64_t pam_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pam *pam = opaque;
    uint64_t v = 0;
    for (unsigned b = 0; b < size; b++) {
        uint64_t gpa = VM_BIOS_AREA_START + offset + b;
        if (gpa >= VM_BIOS_AREA_END)
            break;
        uint8_t byte = 0xff;
        if (pam->mode[pam_segment_of(gpa)] & PAM_MODE_READ) {
            byte = pam->vm->mem.regions[0].hva[gpa];
        } else {
            const uint8_t *r = pam_rom_ptr(pam, gpa);
            if (r)
                byte = *r;
        }
        v |= (uint64_t)byte << (8 * b);
    }
    return v;
}

static void pam_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pam *pam = opaque;
    for (unsigned b = 0; b < size; b++) {
        uint64_t gpa = VM_BIOS_AREA_START + offset + b;
        if (gpa >= VM_BIOS_AREA_END)
            break;
        if (pam->mode[pam_segment_of(gpa)] & PAM_MODE_WRITE)
            pam->vm->mem.regions[0].hva[gpa] = (uint8_t)(value >> (8 * b));
    }
}

const struct bus_ops pam_mmio_bus_ops = {
    .read = pam_mmio_read,
    .write = pam_mmio_write,
    .sizes = BUS_SIZE_ALL,
};
