/* ELF32/ELF64 x86 executables: PT_LOAD segments at their physical addresses,
 * and the PVH entry note (System V gABI "Program Header", "Note Section";
 * Xen's public/elfnote.h for XEN_ELFNOTE_PHYS32_ENTRY). */
#include "loader/loader_internal.h"

#include <string.h>

#define PT_LOAD 1
#define PT_NOTE 4
#define SHT_NOTE 7
#define ET_EXEC 2
#define XEN_ELFNOTE_PHYS32_ENTRY 18
/* Notes are a few hundred bytes; a bigger note area is not worth walking. */
#define ELF_MAX_NOTE_BYTES (1u << 20)

struct elf_phdr {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* Header fields both classes share, widened to 64 bits. */
struct elf_ehdr {
    bool is64;
    uint16_t type, machine;
    uint64_t entry, phoff, shoff;
    uint16_t phentsize, phnum, shentsize, shnum;
};

bool elf_is_elf(const uint8_t *file, size_t len)
{
    return len >= 4 && file[0] == 0x7f && file[1] == 'E' && file[2] == 'L' && file[3] == 'F';
}

static int elf_read_ehdr(const uint8_t *f, size_t len, struct elf_ehdr *h, char *err, size_t errlen)
{
    if (len < 52)
        return loader_fail(err, errlen, "The ELF file is too short to hold an ELF header; it is truncated.");
    if (f[4] != 1 && f[4] != 2)
        return loader_fail(err, errlen, "The ELF file has an unknown class %u; it is damaged.", f[4]);
    if (f[5] != 1)
        return loader_fail(err, errlen, "The ELF file is big-endian or damaged; Hostel runs little-endian "
                           "x86 kernels only.");
    h->is64 = f[4] == 2;
    if (h->is64 && len < 64)
        return loader_fail(err, errlen, "The ELF file is too short to hold an ELF header; it is truncated.");
    h->type = loader_get16(f + 16);
    h->machine = loader_get16(f + 18);
    if (h->is64) {
        h->entry = loader_get64(f + 24);
        h->phoff = loader_get64(f + 32);
        h->shoff = loader_get64(f + 40);
        h->phentsize = loader_get16(f + 54);
        h->phnum = loader_get16(f + 56);
        h->shentsize = loader_get16(f + 58);
        h->shnum = loader_get16(f + 60);
    } else {
        h->entry = loader_get32(f + 24);
        h->phoff = loader_get32(f + 28);
        h->shoff = loader_get32(f + 32);
        h->phentsize = loader_get16(f + 42);
        h->phnum = loader_get16(f + 44);
        h->shentsize = loader_get16(f + 46);
        h->shnum = loader_get16(f + 48);
    }
    if (h->machine != ELF_EM_X86_64 && h->machine != ELF_EM_386)
        return loader_fail(err, errlen, "The ELF file is for another CPU architecture (machine %u); Hostel "
                           "runs x86 kernels only.", h->machine);
    if (h->type != ET_EXEC)
        return loader_fail(err, errlen, "The ELF file is not an executable (type %u), so it is not a kernel "
                           "Hostel can load.", h->type);
    unsigned min_ph = h->is64 ? 56 : 32;
    if (h->phnum == 0)
        return loader_fail(err, errlen, "The ELF file has no program headers, so there is nothing to load; "
                           "it is not a bootable kernel.");
    if (h->phentsize < min_ph)
        return loader_fail(err, errlen, "The ELF file's program headers are %u bytes, too small to be valid; "
                           "the file is damaged.", h->phentsize);
    if (!loader_range_ok(h->phoff, (uint64_t)h->phnum * h->phentsize, len))
        return loader_fail(err, errlen, "The ELF file's program headers lie past its end; the file is "
                           "truncated or damaged.");
    return 0;
}

static void elf_read_phdr(const uint8_t *f, const struct elf_ehdr *h, unsigned i, struct elf_phdr *ph)
{
    const uint8_t *p = f + h->phoff + (uint64_t)i * h->phentsize;
    ph->type = loader_get32(p);
    if (h->is64) {
        ph->offset = loader_get64(p + 8);
        ph->vaddr = loader_get64(p + 16);
        ph->paddr = loader_get64(p + 24);
        ph->filesz = loader_get64(p + 32);
        ph->memsz = loader_get64(p + 40);
        ph->align = loader_get64(p + 48);
    } else {
        ph->offset = loader_get32(p + 4);
        ph->vaddr = loader_get32(p + 8);
        ph->paddr = loader_get32(p + 12);
        ph->filesz = loader_get32(p + 16);
        ph->memsz = loader_get32(p + 20);
        ph->align = loader_get32(p + 28);
    }
}

/* Walk one note area. Malformed notes end the walk quietly, because the
 * kernel itself does not need them; only a broken PVH note is recorded,
 * since booting through it would jump somewhere random. */
static void elf_scan_notes(const uint8_t *p, uint64_t size, uint64_t align, struct elf_image *out)
{
    uint64_t a = align == 8 ? 8 : 4;
    uint64_t off = 0;
    while (size - off >= 12) {
        uint32_t namesz = loader_get32(p + off);
        uint32_t descsz = loader_get32(p + off + 4);
        uint32_t type = loader_get32(p + off + 8);
        off += 12;
        uint64_t name_pad = ((uint64_t)namesz + a - 1) & ~(a - 1);
        uint64_t desc_pad = ((uint64_t)descsz + a - 1) & ~(a - 1);
        if (name_pad > size - off)
            return;
        const uint8_t *name = p + off;
        off += name_pad;
        if (desc_pad > size - off)
            return;
        const uint8_t *desc = p + off;
        off += desc_pad;
        if (namesz == 4 && memcmp(name, "Xen", 4) == 0 && type == XEN_ELFNOTE_PHYS32_ENTRY) {
            /* Linux emits the address with _ASM_PTR, so 8 bytes on x86-64. */
            uint64_t v;
            if (descsz == 4)
                v = loader_get32(desc);
            else if (descsz == 8)
                v = loader_get64(desc);
            else {
                out->pvh_malformed = true;
                continue;
            }
            if (v > UINT32_MAX) {
                out->pvh_malformed = true;
                continue;
            }
            if (!out->has_pvh) {
                out->has_pvh = true;
                out->pvh_entry = (uint32_t)v;
            }
        } else if (namesz == 6 && memcmp(name, "Linux", 6) == 0) {
            /* Linux marks vmlinux with "Linux" notes (build salt and others). */
            out->has_linux_note = true;
        }
    }
}

/* Section headers are optional for loading, so a damaged table is skipped. */
static void elf_scan_note_sections(const uint8_t *f, size_t len, const struct elf_ehdr *h,
                                   struct elf_image *out)
{
    unsigned min_sh = h->is64 ? 64 : 40;
    if (h->shoff == 0 || h->shnum == 0 || h->shentsize < min_sh ||
        !loader_range_ok(h->shoff, (uint64_t)h->shnum * h->shentsize, len))
        return;
    for (unsigned i = 0; i < h->shnum; i++) {
        const uint8_t *s = f + h->shoff + (uint64_t)i * h->shentsize;
        if (loader_get32(s + 4) != SHT_NOTE)
            continue;
        uint64_t off = h->is64 ? loader_get64(s + 24) : loader_get32(s + 16);
        uint64_t size = h->is64 ? loader_get64(s + 32) : loader_get32(s + 20);
        uint64_t align = h->is64 ? loader_get64(s + 48) : loader_get32(s + 32);
        if (size > ELF_MAX_NOTE_BYTES || !loader_range_ok(off, size, len))
            continue;
        elf_scan_notes(f + off, size, align, out);
    }
}

/* Linux's vmlinux gives e_entry as a physical address; other linkers give
 * the virtual one. Accept either, as long as it lands in a loaded segment. */
static bool elf_entry_to_phys(const uint8_t *f, const struct elf_ehdr *h, uint64_t entry, uint64_t *phys)
{
    struct elf_phdr ph;
    for (unsigned i = 0; i < h->phnum; i++) {
        elf_read_phdr(f, h, i, &ph);
        if (ph.type == PT_LOAD && ph.memsz && entry >= ph.paddr && entry - ph.paddr < ph.memsz) {
            *phys = entry;
            return true;
        }
    }
    for (unsigned i = 0; i < h->phnum; i++) {
        elf_read_phdr(f, h, i, &ph);
        if (ph.type == PT_LOAD && ph.memsz && entry >= ph.vaddr && entry - ph.vaddr < ph.memsz) {
            *phys = ph.paddr + (entry - ph.vaddr);
            return true;
        }
    }
    return false;
}

static bool elf_phys_loaded(const uint8_t *f, const struct elf_ehdr *h, uint64_t addr)
{
    struct elf_phdr ph;
    for (unsigned i = 0; i < h->phnum; i++) {
        elf_read_phdr(f, h, i, &ph);
        if (ph.type == PT_LOAD && ph.memsz && addr >= ph.paddr && addr - ph.paddr < ph.memsz)
            return true;
    }
    return false;
}

int elf_parse(const struct guest_mem *mem, const uint8_t *file, size_t len, struct elf_image *out,
              char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    struct elf_ehdr h;
    if (elf_read_ehdr(file, len, &h, err, errlen) < 0)
        return -1;
    out->is64 = h.is64;
    out->machine = h.machine;
    out->load_start = UINT64_MAX;
    unsigned nload = 0;
    struct elf_phdr ph;
    for (unsigned i = 0; i < h.phnum; i++) {
        elf_read_phdr(file, &h, i, &ph);
        if (ph.type == PT_NOTE) {
            if (ph.filesz <= ELF_MAX_NOTE_BYTES && loader_range_ok(ph.offset, ph.filesz, len))
                elf_scan_notes(file + ph.offset, ph.filesz, ph.align, out);
            continue;
        }
        if (ph.type != PT_LOAD)
            continue;
        if (!loader_range_ok(ph.offset, ph.filesz, len))
            return loader_fail(err, errlen,
                               "The kernel's segment %u (file bytes 0x%llx+0x%llx) runs past the end of the "
                               "%zu-byte file; the file is truncated or damaged.", i,
                               (unsigned long long)ph.offset, (unsigned long long)ph.filesz, len);
        if (ph.filesz > ph.memsz)
            return loader_fail(err, errlen,
                               "The kernel's segment %u has more file bytes (0x%llx) than memory bytes "
                               "(0x%llx); the file is damaged.", i, (unsigned long long)ph.filesz,
                               (unsigned long long)ph.memsz);
        if (ph.memsz == 0)
            continue;
        if (ph.paddr + ph.memsz < ph.paddr)
            return loader_check_ram(mem, ph.paddr, ph.memsz, "The kernel", err, errlen);
        nload++;
        if (ph.paddr < out->load_start)
            out->load_start = ph.paddr;
        if (ph.paddr + ph.memsz > out->load_end)
            out->load_end = ph.paddr + ph.memsz;
    }
    /* Check RAM once the whole extent is known, so "too little memory"
     * names the range the kernel needs, not just the segment that missed. */
    for (unsigned i = 0; i < h.phnum && nload; i++) {
        elf_read_phdr(file, &h, i, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0 || guest_mem_ptr(mem, ph.paddr, ph.memsz))
            continue;
        if (out->load_end <= GUEST_PCI_HOLE_START)
            return loader_check_ram(mem, out->load_start, out->load_end - out->load_start, "The kernel",
                                    err, errlen);
        return loader_check_ram(mem, ph.paddr, ph.memsz, "The kernel", err, errlen);
    }
    if (nload == 0)
        return loader_fail(err, errlen, "The ELF file has no loadable segments, so it is not a bootable "
                           "kernel.");
    if (!out->has_pvh)
        elf_scan_note_sections(file, len, &h, out);
    if (out->has_pvh && !elf_phys_loaded(file, &h, out->pvh_entry)) {
        out->has_pvh = false;
        out->pvh_malformed = true;
    }
    out->entry_valid = elf_entry_to_phys(file, &h, h.entry, &out->entry);
    return 0;
}

void elf_copy(const struct guest_mem *mem, const uint8_t *file, size_t len)
{
    struct elf_ehdr h;
    if (elf_read_ehdr(file, len, &h, NULL, 0) < 0)
        return;
    struct elf_phdr ph;
    for (unsigned i = 0; i < h.phnum; i++) {
        elf_read_phdr(file, &h, i, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0 || ph.filesz > ph.memsz ||
            !loader_range_ok(ph.offset, ph.filesz, len))
            continue;
        uint8_t *dst = guest_mem_ptr(mem, ph.paddr, ph.memsz);
        if (!dst)
            continue;
        /* bss must read as zero, and RAM may still hold an earlier boot. */
        memcpy(dst, file + ph.offset, ph.filesz);
        memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
    }
}
