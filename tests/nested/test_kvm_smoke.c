/*
 * KVM smoke test: proves that /dev/kvm runs guest code, with nothing of
 * Hostel in between.
 *
 * One VM with NVCPUS vCPUs, each on its own thread, all started in real mode
 * at the same snippet:  out 0xf4, al ; hlt   with AL preset to the vCPU's
 * number + 1. Each vCPU must exit once with KVM_EXIT_IO (port 0xf4, its
 * value) and then with KVM_EXIT_HLT.
 *
 * Usage: test-kvm-smoke [CYCLES]   create, run and destroy the VM CYCLES
 * times (default 1): creating and destroying vCPUs makes the host kernel
 * patch its own code, which is what froze an emulated nested host once.
 *
 * Exit status: 0 ok ("kvm smoke ok"), 77 if /dev/kvm is missing (meson's
 * "skipped"), 1 on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define NVCPUS 2
#define CODE_GPA 0x1000
#define DEBUG_PORT 0xf4

struct vcpu_ctx {
    int vm_fd;
    int mmap_size;
    int index;
    char error[160];
};

/* out dx, al ; hlt  (DX and AL are preset through KVM_SET_REGS) */
static const uint8_t guest_code[] = { 0xee, 0xf4 };

static void *vcpu_thread(void *opaque)
{
    struct vcpu_ctx *ctx = opaque;
    int fd = ioctl(ctx->vm_fd, KVM_CREATE_VCPU, (unsigned long)ctx->index);
    if (fd < 0) {
        snprintf(ctx->error, sizeof(ctx->error), "KVM_CREATE_VCPU: %s", strerror(errno));
        return NULL;
    }
    struct kvm_run *run = mmap(NULL, (size_t)ctx->mmap_size, PROT_READ | PROT_WRITE,
                               MAP_SHARED, fd, 0);
    if (run == MAP_FAILED) {
        snprintf(ctx->error, sizeof(ctx->error), "mmap kvm_run: %s", strerror(errno));
        goto out_close;
    }

    struct kvm_sregs sregs;
    if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) {
        snprintf(ctx->error, sizeof(ctx->error), "KVM_GET_SREGS: %s", strerror(errno));
        goto out_unmap;
    }
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) {
        snprintf(ctx->error, sizeof(ctx->error), "KVM_SET_SREGS: %s", strerror(errno));
        goto out_unmap;
    }
    struct kvm_regs regs = {
        .rip = CODE_GPA,
        .rax = (uint64_t)ctx->index + 1,
        .rdx = DEBUG_PORT,
        .rflags = 0x2,
    };
    if (ioctl(fd, KVM_SET_REGS, &regs) < 0) {
        snprintf(ctx->error, sizeof(ctx->error), "KVM_SET_REGS: %s", strerror(errno));
        goto out_unmap;
    }

    int seen_io = 0;
    for (int exits = 0; exits < 16; exits++) {
        if (ioctl(fd, KVM_RUN, NULL) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            snprintf(ctx->error, sizeof(ctx->error), "KVM_RUN: %s", strerror(errno));
            goto out_unmap;
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
            if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 1 ||
                run->io.port != DEBUG_PORT || run->io.count != 1 ||
                data[0] != ctx->index + 1) {
                snprintf(ctx->error, sizeof(ctx->error),
                         "unexpected I/O exit: dir %d size %d port 0x%x value %u",
                         run->io.direction, run->io.size, run->io.port, data[0]);
                goto out_unmap;
            }
            seen_io++;
            break;
        }
        case KVM_EXIT_HLT:
            if (seen_io != 1)
                snprintf(ctx->error, sizeof(ctx->error), "halted after %d debug-port writes",
                         seen_io);
            goto out_unmap;
        case KVM_EXIT_FAIL_ENTRY:
            snprintf(ctx->error, sizeof(ctx->error), "KVM_EXIT_FAIL_ENTRY, reason 0x%llx",
                     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            goto out_unmap;
        case KVM_EXIT_INTERNAL_ERROR:
            snprintf(ctx->error, sizeof(ctx->error), "KVM_EXIT_INTERNAL_ERROR, suberror %u",
                     run->internal.suberror);
            goto out_unmap;
        default:
            snprintf(ctx->error, sizeof(ctx->error), "unexpected exit reason %u",
                     run->exit_reason);
            goto out_unmap;
        }
    }
    snprintf(ctx->error, sizeof(ctx->error), "no KVM_EXIT_HLT after 16 exits");
out_unmap:
    munmap(run, (size_t)ctx->mmap_size);
out_close:
    close(fd);
    return NULL;
}

/* One VM lifecycle; returns 0 if every vCPU did what it should. */
static int run_vm(int kvm, int mmap_size)
{
    int vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
    if (vm < 0) {
        fprintf(stderr, "KVM_CREATE_VM: %s\n", strerror(errno));
        return 1;
    }
    int failed = 1;
    uint8_t *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("mmap guest memory");
        goto out_vm;
    }
    memcpy(mem, guest_code, sizeof(guest_code));
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = CODE_GPA,
        .memory_size = 0x1000,
        .userspace_addr = (uint64_t)(uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        perror("KVM_SET_USER_MEMORY_REGION");
        goto out_mem;
    }

    struct vcpu_ctx ctx[NVCPUS];
    pthread_t threads[NVCPUS];
    int started = 0;
    for (; started < NVCPUS; started++) {
        ctx[started] = (struct vcpu_ctx){ .vm_fd = vm, .mmap_size = mmap_size, .index = started };
        int err = pthread_create(&threads[started], NULL, vcpu_thread, &ctx[started]);
        if (err) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            break;
        }
    }
    failed = started < NVCPUS;
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        if (ctx[i].error[0]) {
            fprintf(stderr, "vCPU %d: %s\n", i, ctx[i].error);
            failed = 1;
        }
    }
out_mem:
    munmap(mem, 0x1000);
out_vm:
    close(vm);
    return failed;
}

int main(int argc, char **argv)
{
    long cycles = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    if (argc > 2 || cycles < 1 || cycles > 100000) {
        fprintf(stderr, "usage: %s [CYCLES]\n", argv[0]);
        return 1;
    }
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        if (errno == ENOENT || errno == ENXIO || errno == ENODEV) {
            printf("SKIP: /dev/kvm is not available (%s)\n", strerror(errno));
            return 77;
        }
        fprintf(stderr, "open /dev/kvm: %s\n", strerror(errno));
        return 1;
    }
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        fprintf(stderr, "KVM API version %d, expected %d\n", api, KVM_API_VERSION);
        return 1;
    }
    int mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size < (int)sizeof(struct kvm_run)) {
        fprintf(stderr, "KVM_GET_VCPU_MMAP_SIZE: %s\n", strerror(errno));
        return 1;
    }
    for (long c = 0; c < cycles; c++) {
        if (run_vm(kvm, mmap_size)) {
            fprintf(stderr, "kvm smoke failed in VM %ld of %ld\n", c + 1, cycles);
            return 1;
        }
    }
    printf("kvm smoke ok (%ld VM%s of %d vCPUs)\n", cycles, cycles == 1 ? "" : "s", NVCPUS);
    return 0;
}
