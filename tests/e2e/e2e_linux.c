/* End-to-end: boot Linux with a busybox initramfs in hostel-vm, wait for
 * the guest's ready marker on the serial console, type a command, check
 * its output, and power the guest off from its shell. One boot does all
 * checks of one configuration (guest kernel code is slow on nested hosts).
 *
 * Usage: e2e-linux HOSTEL_VM KERNEL INITRD CONFIG[,CONFIG...] [TIMEOUT_S]
 * CONFIG is a vCPU count, optionally with a boot protocol and a CPU model:
 * "2", "1:pvh" or "1:pvh:conservative".
 * Each CONFIG is one boot.
 * Exit: 0 pass, 1 fail, 77 skipped (no usable KVM). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct child {
    pid_t pid;
    int in;       /* guest console input */
    int out;      /* guest console output (stdout+stderr) */
    char buf[1 << 20];
    size_t len;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read output until `marker` appears after offset `from`, the child exits,
 * or the deadline passes. Returns the marker's offset or -1. */
static long wait_for(struct child *c, const char *marker, size_t from, double deadline)
{
    for (;;) {
        c->buf[c->len] = 0;
        char *hit = c->len > from ? strstr(c->buf + from, marker) : NULL;
        if (hit)
            return hit - c->buf;
        double left = deadline - now_s();
        if (left <= 0)
            return -1;
        struct pollfd p = { .fd = c->out, .events = POLLIN };
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t n = read(c->out, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (n <= 0)
            return -1;
        fwrite(c->buf + c->len, 1, (size_t)n, stdout); /* echo the console */
        fflush(stdout);
        c->len += (size_t)n;
        if (c->len >= sizeof(c->buf) - 1)
            return -1;
    }
}

static int fail(struct child *c, const char *what)
{
    printf("\ne2e-linux: FAIL: %s\n", what);
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    return 1;
}

static int run_one(const char *vm, const char *kernel, const char *initrd, const char *cpus,
                   const char *entry, const char *model, double timeout)
{
    static struct child c;
    memset(&c, 0, sizeof(c));
    int to_child[2], from_child[2];
    if (pipe(to_child) < 0 || pipe(from_child) < 0)
        return 2;
    double t0 = now_s();
    c.pid = fork();
    if (c.pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        dup2(from_child[1], 2);
        close(to_child[1]);
        close(from_child[0]);
        execl(vm, vm, "--kernel", kernel, "--initrd", initrd, "--cpus", cpus,
              "--kernel-entry", entry, "--cpu", model, "--memory", "512", "--stats",
              "--append", "console=ttyS0 panic=-1 hostel.e2e", (char *)NULL);
        perror("exec hostel-vm");
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    c.in = to_child[1];
    c.out = from_child[0];
    long ready = wait_for(&c, "HOSTEL-E2E-READY", 0, t0 + timeout);
    if (ready < 0)
        return fail(&c, "the guest did not reach userspace (no ready marker)");
    double t_ready = now_s() - t0;
    if (!strstr(c.buf, "Hostel default guest: Linux "))
        return fail(&c, "no banner from the guest's init");
    char expect_cpus[64];
    snprintf(expect_cpus, sizeof(expect_cpus), ", %s CPU(s)", cpus);
    if (!strstr(c.buf, expect_cpus))
        return fail(&c, "the guest does not see the expected number of CPUs");

    /* A command typed on the serial console runs; its output comes back. */
    const char *cmd = "echo e2e-sum=$((6*7)) cpus=$(nproc) ioapic=$(grep -c IO-APIC /proc/interrupts)\n";
    if (write(c.in, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
        return fail(&c, "could not type into the guest console");
    char expect[64];
    snprintf(expect, sizeof(expect), "e2e-sum=42 cpus=%s", cpus);
    long hit = wait_for(&c, expect, (size_t)ready, now_s() + 120);
    if (hit < 0)
        return fail(&c, "the typed command's output did not appear");
    /* Interrupts must travel through the IOAPIC, not only the 8259s. */
    if (wait_for(&c, "ioapic=", (size_t)hit, now_s() + 10) < 0 || strstr(c.buf + hit, "ioapic=0"))
        return fail(&c, "no interrupt in the guest goes through the IOAPIC");
    double t_cmd = now_s() - t0;

    const char *off = "poweroff -f\n";
    if (write(c.in, off, strlen(off)) != (ssize_t)strlen(off))
        return fail(&c, "could not type poweroff");
    int status = 0;
    double deadline = now_s() + 120;
    pid_t r = 0;
    while ((r = waitpid(c.pid, &status, WNOHANG)) == 0 && now_s() < deadline) {
        wait_for(&c, "\x01never\x01", c.len, now_s() + 0.2);
    }
    if (r != c.pid)
        return fail(&c, "hostel-vm did not exit after the guest powered off");
    wait_for(&c, "\x01never\x01", c.len, now_s() + 0.1);
    c.pid = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char what[96];
        snprintf(what, sizeof(what), "hostel-vm exited with status %d, not 0 (power off)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return fail(&c, what);
    }
    printf("\ne2e-linux: PASS cpus=%s entry=%s cpu=%s userspace_s=%.1f command_s=%.1f total_s=%.1f\n",
           cpus, entry, model, t_ready, t_cmd - t_ready, now_s() - t0);
    close(c.in);
    close(c.out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: e2e-linux HOSTEL_VM KERNEL INITRD CONFIG[,CONFIG...] [TIMEOUT_S]\n");
        return 2;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("e2e-linux: skipped: no usable /dev/kvm\n");
        return 77;
    }
    double timeout = argc > 5 ? atof(argv[5]) : 600;
    int failed = 0;
    char *list = strdup(argv[4]);
    for (char *save = NULL, *cpus = strtok_r(list, ",", &save); cpus; cpus = strtok_r(NULL, ",", &save)) {
        const char *entry = "auto", *model = "host";
        char *colon = strchr(cpus, ':');
        if (colon) {
            *colon = 0;
            entry = colon + 1;
            colon = strchr(colon + 1, ':');
            if (colon) {
                *colon = 0;
                model = colon + 1;
            }
        }
        printf("e2e-linux: booting with %s vCPU(s), kernel entry %s, CPU model %s\n", cpus, entry, model);
        if (run_one(argv[1], argv[2], argv[3], cpus, entry, model, timeout) != 0)
            failed = 1;
    }
    free(list);
    return failed;
}
