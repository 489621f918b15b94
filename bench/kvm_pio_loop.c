/*
 * The bare KVM loop: the least a VMM can do per port-I/O exit.
 *
 * Boots a 32-bit multiboot ELF (the benchmark guest) the way a multiboot
 * loader would -- flat protected mode, paging off, EAX = 0x2BADB002, EBX =
 * a multiboot info with only a command line -- on one vCPU, and answers
 * every KVM_EXIT_IO by going straight back into KVM_RUN. A write to the
 * debug-exit port 0xf4 ends the run with status (value << 1) | 1, as
 * hostel-vm and QEMU's isa-debug-exit do, so a driver can time this program
 * and hostel-vm in exactly the same way.
 *
 * KVM is set up as hostel-vm sets it up where it matters for an exit's cost:
 * in-kernel irqchip (PIC, IOAPIC, local APIC) and PIT, so the comparison
 * measures what the VMM does per exit, not a different KVM configuration;
 * --no-irqchip leaves them out. No devices, no threads, no Hostel code: only
 * <linux/kvm.h>.
 *
 * Usage: kvm-pio-loop [--no-irqchip] GUEST.elf [CMDLINE] [MEMORY_MIB]
 * Exit status: the guest's debug-exit status; 77 without /dev/kvm;
 * 1 on any other failure (with a message on stderr).
 * On stderr at the end: "kvm-pio-loop: exits=E io_exits=I run_ms=T".
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4
#define MBI_GPA 0x9000u
#define CMDLINE_GPA 0x9100u
#define CMDLINE_MAX 0x0f00u
#define TSS_GPA 0xfffbd000u   /* KVM_SET_TSS_ADDR: needed on Intel only */

static int die(const char *what)
{
    fprintf(stderr, "kvm-pio-loop: %s: %s\n", what, strerror(errno));
    return 1;
}

static int fail(const char *what)
{
    fprintf(stderr, "kvm-pio-loop: %s\n", what);
    return 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Copy the ELF32 image's PT_LOAD segments to their physical addresses. */
static int load_elf32(const char *path, uint8_t *ram, uint64_t ram_size, uint32_t *entry)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return die(path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return die(path);
    }
    size_t len = (size_t)st.st_size;
    uint8_t *img = malloc(len ? len : 1);
    if (!img || read(fd, img, len) != (ssize_t)len) {
        close(fd);
        free(img);
        return fail("cannot read the guest image");
    }
    close(fd);
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;
    if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_machine != EM_386 ||
        eh->e_phentsize != sizeof(Elf32_Phdr) ||
        (uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > len) {
        free(img);
        return fail("the guest image is not a 32-bit x86 ELF file");
    }
    const Elf32_Phdr *ph = (const Elf32_Phdr *)(img + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if ((uint64_t)ph[i].p_offset + ph[i].p_filesz > len || ph[i].p_filesz > ph[i].p_memsz ||
            (uint64_t)ph[i].p_paddr + ph[i].p_memsz > ram_size) {
            free(img);
            return fail("a segment of the guest image lies outside the file or guest RAM");
        }
        memcpy(ram + ph[i].p_paddr, img + ph[i].p_offset, ph[i].p_filesz);
        memset(ram + ph[i].p_paddr + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
    }
    *entry = eh->e_entry;
    free(img);
    return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type)
{
    *s = (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
        .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
    };
}

int main(int argc, char **argv)
{
    bool irqchip = true;
    if (argc > 1 && strcmp(argv[1], "--no-irqchip") == 0) {
        irqchip = false;
        argv++;
        argc--;
    }
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: kvm-pio-loop [--no-irqchip] GUEST.elf [CMDLINE] [MEMORY_MIB]\n");
        return 2;
    }
    const char *cmdline = argc > 2 ? argv[2] : "";
    uint64_t ram_size = (argc > 3 ? strtoull(argv[3], NULL, 10) : 64) << 20;
    if (ram_size < (2u << 20) || strlen(cmdline) >= CMDLINE_MAX)
        return fail("memory must be at least 2 MiB and the command line shorter than 3840 bytes");

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        fprintf(stderr, "kvm-pio-loop: skipped: /dev/kvm: %s\n", strerror(errno));
        return 77;
    }
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        return fail("unexpected KVM API version");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
    if (vm < 0)
        return die("KVM_CREATE_VM");
    ioctl(vm, KVM_SET_TSS_ADDR, (unsigned long)TSS_GPA); /* fails harmlessly on AMD */
    if (irqchip) {
        struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
        if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
            return die("KVM_CREATE_IRQCHIP");
        if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
            return die("KVM_CREATE_PIT2");
    }

    uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        return die("mmap guest RAM");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uintptr_t)ram,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return die("KVM_SET_USER_MEMORY_REGION");

    uint32_t entry = 0;
    if (load_elf32(argv[1], ram, ram_size, &entry))
        return 1;
    /* Multiboot info (spec 0.6.96 section 3.3): flags bit 2 = cmdline. */
    uint32_t *mbi = (uint32_t *)(ram + MBI_GPA);
    memset(mbi, 0, 0x100);
    mbi[0] = 1u << 2;
    mbi[4] = CMDLINE_GPA;
    memcpy(ram + CMDLINE_GPA, cmdline, strlen(cmdline) + 1);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
    if (vcpu < 0)
        return die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        return die("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        return die("mmap kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return die("KVM_GET_SREGS");
    flat_segment(&sregs.cs, 0x08, 0xb);   /* execute/read, accessed */
    flat_segment(&sregs.ds, 0x10, 0x3);   /* read/write, accessed */
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.cr0 = 0x11;                     /* PE | ET, paging off */
    sregs.cr4 = 0;
    sregs.efer = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        return die("KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = entry, .rax = 0x2BADB002, .rbx = MBI_GPA, .rflags = 0x2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return die("KVM_SET_REGS");

    uint64_t exits = 0, io_exits = 0, t0 = mono_ns();
    int status = -1;
    while (status < 0) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return die("KVM_RUN");
        }
        exits++;
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            io_exits++;
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == DEBUG_EXIT_PORT) {
                uint32_t v = 0;
                memcpy(&v, (uint8_t *)run + run->io.data_offset, run->io.size <= 4 ? run->io.size : 4);
                status = (int)(((v << 1) | 1u) & 0xff);
            }
            /* Any other port: nothing to do, straight back in. */
            break;
        case KVM_EXIT_HLT:
            return fail("the guest halted before writing the debug-exit port");
        case KVM_EXIT_SHUTDOWN:
            return fail("the guest crashed (triple fault)");
        case KVM_EXIT_FAIL_ENTRY:
            return fail("KVM could not enter the guest");
        case KVM_EXIT_INTERNAL_ERROR:
            fprintf(stderr, "kvm-pio-loop: KVM internal error, suberror %u\n", run->internal.suberror);
            return 1;
        case KVM_EXIT_MMIO:
            /* Not expected from the benchmark guest; reads see zeros. */
            if (!run->mmio.is_write)
                memset(run->mmio.data, 0, sizeof(run->mmio.data));
            break;
        case KVM_EXIT_INTR:
            break;
        default:
            fprintf(stderr, "kvm-pio-loop: unexpected exit reason %u\n", run->exit_reason);
            return 1;
        }
    }
    fprintf(stderr, "kvm-pio-loop: exits=%llu io_exits=%llu run_ms=%llu\n", (unsigned long long)exits,
            (unsigned long long)io_exits, (unsigned long long)((mono_ns() - t0) / 1000000));
    return status;
}
