/*
 * hostel-bench: side-by-side benchmarks of hostel-vm against a reference
 * measured in the same run (a bare KVM loop, or QEMU with KVM).
 *
 * Every benchmark prints one result line with a RATIO against its reference,
 * never an absolute time alone: on nested or emulated KVM hosts (where this
 * runs in CI) absolute times say nothing about hardware, ratios do.
 *
 *   hostel-bench pio   --vm HOSTEL_VM --loop KVM_PIO_LOOP --guest GUEST [--n N] [--runs R]
 *                      (default N 30000, 7 rounds)
 *   hostel-bench boot  --vm HOSTEL_VM --qemu QEMU --guest GUEST [--runs R]
 *   hostel-bench mem   --vm HOSTEL_VM --qemu QEMU --guest GUEST [--runs R] [--memory MIB]
 *   hostel-bench linux --vm HOSTEL_VM --qemu QEMU --kernel VMLINUZ --initrd INITRD
 *                      [--runs R] [--memory MIB] [--timeout S]  (default 3 boots each)
 *
 * --qemu none leaves QEMU out (the result line then says so, no ratio).
 * Exit status: 0 measured; 77 skipped (no /dev/kvm); 1 a measurement failed.
 * Child processes run with stdin from /dev/null; their output goes to a
 * pipe and is shown only when something fails.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define GUEST_PASS_STATUS 85
#define QEMU_DEBUG_EXIT "isa-debug-exit,iobase=0xf4,iosize=4"

struct opts {
    const char *vm, *loop, *qemu, *guest, *kernel, *initrd, *iso;
    unsigned long n, runs, memory, timeout;
    bool verbose;
};

static struct opts o;

/* ---- small utilities ---------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned n)
{
    double *s = malloc(n * sizeof(*s));
    if (!s || !n) {
        free(s);
        return 0;
    }
    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

static char *read_text(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(max + 1);
    size_t len = 0;
    ssize_t n;
    while (buf && len < max && (n = read(fd, buf + len, max - len)) > 0)
        len += (size_t)n;
    close(fd);
    if (buf)
        buf[len] = 0;
    return buf;
}

/* Print the last `lines` lines of a text, indented. */
static void show_tail(const char *who, const char *text, int lines)
{
    if (!text || !*text) {
        printf("    (%s printed nothing)\n", who);
        return;
    }
    const char *p = text + strlen(text);
    while (p > text && lines >= 0) {
        p--;
        if (*p == '\n')
            lines--;
    }
    if (*p == '\n')
        p++;
    printf("    %s said:\n", who);
    while (*p) {
        const char *e = strchr(p, '\n');
        int l = e ? (int)(e - p) : (int)strlen(p);
        while (l > 0 && p[l - 1] == '\r')
            l--;
        printf("    | %.*s\n", l, p);
        p += e ? (size_t)(e - p) + 1 : strlen(p);
    }
}

static bool usable(const char *path)
{
    return path && strcmp(path, "none") != 0 && access(path, X_OK) == 0;
}

/* ---- running a child and timing it --------------------------------------- */

struct run {
    int status;        /* exit status; 128 + signal; -1 timed out / not started */
    double secs;       /* exec to exit, wall clock */
    long maxrss_kib;   /* the child's peak RSS (wait4) */
    char *out;         /* stdout + stderr, NUL-terminated */
    double t_marker;   /* exec to the marker's first appearance, 0 if none */
};

/* Called every `period` seconds while a child runs (with its pid). */
typedef void (*sampler_fn)(pid_t pid, void *arg);

static pid_t spawn(char *const argv[], int out_fd)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0)
        dup2(null, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    execv(argv[0], argv);
    fprintf(stderr, "hostel-bench: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Reap a child just sent SIGKILL, waiting at most 20 s: a process stuck in
 * the kernel (a wedged KVM_RUN) must not hang the benchmark too. */
static void reap_killed(pid_t pid, int pidfd, struct rusage *ru)
{
    int st;
    if (pidfd >= 0) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        if (poll(&p, 1, 20000) <= 0) {
            printf("hostel-bench: process %d does not die after SIGKILL (stuck in the kernel?); left behind\n",
                   (int)pid);
            return;
        }
    }
    while (wait4(pid, &st, 0, ru) < 0 && errno == EINTR)
        ;
}

/* Where a child that overran its time limit is: each thread's state and
 * kernel stack (a deadlock shows futex waits, a wedged KVM_RUN a KVM stack). */
static void dump_stuck(pid_t pid)
{
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    printf("hostel-bench: process %d overran its time limit; its threads:\n", (int)pid);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char f[320];
        snprintf(f, sizeof(f), "/proc/%d/task/%s/stat", (int)pid, e->d_name);
        char *st = read_text(f, 4096);
        const char *p = st ? strrchr(st, ')') : NULL;
        snprintf(f, sizeof(f), "/proc/%d/task/%s/comm", (int)pid, e->d_name);
        char *comm = read_text(f, 64);
        if (comm)
            comm[strcspn(comm, "\n")] = 0;
        printf("    thread %s (%s) state %c\n", e->d_name, comm ? comm : "?", p && p[1] ? p[2] : '?');
        free(st);
        free(comm);
        snprintf(f, sizeof(f), "/proc/%d/task/%s/stack", (int)pid, e->d_name);
        char *stack = read_text(f, 4096);
        for (char *l = stack, *n; l && *l; l = n) {
            n = strchr(l, '\n');
            if (n)
                *n++ = 0;
            else
                n = l + strlen(l);
            printf("        %s\n", l);
        }
        free(stack);
    }
    closedir(d);
}

/* Time limit for a run of a kind that took `typical` s before (0: none
 * yet): a stuck VMM is noticed in a minute or two, not after --timeout. */
static double limit_for(double typical)
{
    if (typical <= 0)
        return (double)o.timeout;
    double t = typical * 8 + 30;
    return t < (double)o.timeout ? t : (double)o.timeout;
}

struct capture {
    char *buf;
    size_t len, cap;
    const char *marker;    /* optional: note when this text first appears */
    double t_marker;       /* 0 until then */
};

static void capture_read(struct capture *c, int fd)
{
    if (c->cap - c->len < 4096) {
        size_t cap = c->cap ? c->cap * 2 : 65536;
        char *b = cap <= (64u << 20) ? realloc(c->buf, cap + 1) : NULL;
        if (!b) {
            char sink[4096];
            (void)read(fd, sink, sizeof(sink)); /* over 64 MiB: drop the rest */
            return;
        }
        c->buf = b;
        c->cap = cap;
    }
    ssize_t n = read(fd, c->buf + c->len, c->cap - c->len);
    if (n <= 0)
        return;
    size_t from = c->len;
    c->len += (size_t)n;
    c->buf[c->len] = 0;
    if (c->marker && !c->t_marker) {
        size_t m = strlen(c->marker);
        from = from > m ? from - m : 0;
        if (strstr(c->buf + from, c->marker))
            c->t_marker = now_s();
    }
}

/* Wait for `pid` (up to `timeout` s) while collecting its output from
 * `out_fd`, calling `sample` every `period` s. Fills status and maxrss;
 * returns the time of exit. */
static double await(pid_t pid, int out_fd, struct capture *cap, double timeout, sampler_fn sample, void *arg,
                    double period, struct run *r)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    double deadline = now_s() + timeout, t_exit = 0;
    double next_sample = sample ? now_s() + period : deadline;
    bool out_open = out_fd >= 0;
    int st = 0;
    struct rusage ru = {0};
    for (;;) {
        double now = now_s();
        if (now >= deadline) {
            dump_stuck(pid);
            kill(pid, SIGKILL);
            reap_killed(pid, pidfd, &ru);
            t_exit = now_s();
            r->status = -1;
            break;
        }
        if (sample && now >= next_sample) {
            sample(pid, arg);
            next_sample = now + period;
        }
        double until = next_sample < deadline ? next_sample : deadline;
        /* Without a pidfd (kernels before 5.3), look at the child every ms. */
        int ms = pidfd >= 0 ? (int)((until - now) * 1000) + 1 : 1;
        struct pollfd pf[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = out_open ? out_fd : -1, .events = POLLIN } };
        int n = poll(pf, 2, ms);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pf[1].revents & (POLLIN | POLLHUP))) {
            size_t before = cap->len;
            capture_read(cap, out_fd);
            if (cap->len == before && !(pf[1].revents & POLLIN))
                out_open = false; /* EOF */
        }
        bool exited = pidfd >= 0 && n > 0 && (pf[0].revents & POLLIN);
        if (pidfd < 0) {
            siginfo_t si = {0};
            exited = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
        }
        if (exited) {
            t_exit = now_s();
            while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
                ;
            r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    /* What the child wrote last (the write end is closed now it is gone,
     * unless it left children behind: then stop after a short wait). */
    while (out_open) {
        struct pollfd pf = { .fd = out_fd, .events = POLLIN };
        if (poll(&pf, 1, 200) <= 0)
            break;
        size_t before = cap->len;
        capture_read(cap, out_fd);
        if (cap->len == before)
            break;
    }
    r->maxrss_kib = ru.ru_maxrss;
    return t_exit;
}

/* Run argv to completion, its output into r.out; with `marker`, r.t_marker
 * is the time from exec to the marker's appearance in the output (0 if it
 * never appeared). */
static struct run run_timed_marker(char *const argv[], double timeout, sampler_fn sample, void *arg, double period,
                                   const char *marker)
{
    struct run r = { .status = -1 };
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        fprintf(stderr, "hostel-bench: pipe: %s\n", strerror(errno));
        return r;
    }
    struct capture cap = { .marker = marker };
    double t0 = now_s();
    pid_t pid = spawn(argv, p[1]);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return r;
    }
    r.secs = await(pid, p[0], &cap, (double)timeout, sample, arg, period, &r) - t0;
    close(p[0]);
    r.out = cap.buf ? cap.buf : calloc(1, 1);
    r.t_marker = cap.t_marker ? cap.t_marker - t0 : 0;
    if (o.verbose)
        fprintf(stderr, "hostel-bench: %s ... -> status %d in %.3f s\n", argv[0], r.status, r.secs);
    return r;
}

static struct run run_timed(char *const argv[], double timeout, sampler_fn sample, void *arg, double period)
{
    return run_timed_marker(argv, timeout, sample, arg, period, NULL);
}

static void describe_status(int status, char *buf, size_t len)
{
    if (status < 0)
        snprintf(buf, len, "timed out");
    else if (status > 128)
        snprintf(buf, len, "killed by signal %d", status - 128);
    else
        snprintf(buf, len, "exit status %d", status);
}

/* Report a child that did not end as expected; returns false. */
static bool check_status(const char *bench, const char *who, const struct run *r, int want)
{
    if (r->status == want)
        return true;
    char st[64];
    describe_status(r->status, st, sizeof(st));
    printf("%s: %s failed: %s, expected %d\n", bench, who, st, want);
    show_tail(who, r->out, 12);
    return false;
}

static uint64_t stat_field(const char *text, const char *key)
{
    const char *p = text ? strstr(text, key) : NULL;
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* ---- command lines -------------------------------------------------------- */

#define MAX_ARGS 48

struct argv_buf {
    char *v[MAX_ARGS];
    int n;
};

static void add(struct argv_buf *a, const char *s)
{
    if (a->n < MAX_ARGS - 1) {
        a->v[a->n++] = (char *)s;
        a->v[a->n] = NULL;
    }
}

static char mem_arg[32];

static const char *mem_str(void)
{
    snprintf(mem_arg, sizeof(mem_arg), "%lu", o.memory);
    return mem_arg;
}

/* hostel-vm on a multiboot or Linux image. */
static void hostel_argv(struct argv_buf *a, const char *kernel, const char *initrd, const char *append,
                        bool serial, bool stats)
{
    a->n = 0;
    add(a, o.vm);
    add(a, "--kernel"), add(a, kernel);
    if (initrd)
        add(a, "--initrd"), add(a, initrd);
    if (append)
        add(a, "--append"), add(a, append);
    add(a, "--memory"), add(a, mem_str());
    add(a, "--cpus"), add(a, "1");
    if (!serial)
        add(a, "--serial"), add(a, "none");
    if (stats)
        add(a, "--stats");
    else
        add(a, "--quiet");
}

/* QEMU with KVM, pc machine, nothing but what the guest needs: no default
 * devices (VGA, NIC, floppy, CD-ROM, parallel), no monitor, the same CPU
 * model policy as hostel-vm's default ('host'). */
static void qemu_argv(struct argv_buf *a, const char *kernel, const char *initrd, const char *append, bool serial)
{
    a->n = 0;
    add(a, o.qemu);
    add(a, "-accel"), add(a, "kvm");
    add(a, "-M"), add(a, "pc");
    add(a, "-cpu"), add(a, "host");
    add(a, "-smp"), add(a, "1");
    add(a, "-m"), add(a, mem_str());
    add(a, "-nodefaults"), add(a, "-no-user-config");
    add(a, "-display"), add(a, "none");
    add(a, "-monitor"), add(a, "none");
    add(a, "-serial"), add(a, serial ? "stdio" : "none");
    add(a, "-no-reboot");
    add(a, "-device"), add(a, QEMU_DEBUG_EXIT);
    add(a, "-kernel"), add(a, kernel);
    if (initrd)
        add(a, "-initrd"), add(a, initrd);
    if (append)
        add(a, "-append"), add(a, append);
}

static void print_cmd(const char *bench, const char *who, const struct argv_buf *a)
{
    printf("%s: %s command:", bench, who);
    for (int i = 0; i < a->n; i++)
        printf(" %s", a->v[i]);
    printf("\n");
}

/* ---- 1. port-I/O exit round trip ----------------------------------------- */

static int bench_pio(void)
{
    const char *B = "pio-roundtrip";
    if (!usable(o.vm) || !usable(o.loop) || !o.guest) {
        fprintf(stderr, "hostel-bench pio: needs --vm, --loop and --guest\n");
        return 2;
    }
    char app0[32] = "pio=0", appn[32];
    snprintf(appn, sizeof(appn), "pio=%lu", o.n);
    struct argv_buf h0, hn, l0, ln;
    hostel_argv(&h0, o.guest, NULL, app0, false, true);
    hostel_argv(&hn, o.guest, NULL, appn, false, true);
    l0 = (struct argv_buf){ { (char *)o.loop, (char *)o.guest, app0, (char *)mem_str(), NULL }, 4 };
    ln = (struct argv_buf){ { (char *)o.loop, (char *)o.guest, appn, (char *)mem_str(), NULL }, 4 };
    print_cmd(B, "hostel-vm", &hn);
    print_cmd(B, "bare loop", &ln);

    /* Rounds of four runs: each side with pio=0 and pio=N. A side's cost per
     * exit in a round is (t(N) - t(0)) / N, which cancels process start-up
     * and boot. The sides alternate which goes first, and the ratio is taken
     * per round, so load that drifts over seconds (a shared, emulated host)
     * hits both sides alike. Round 0 is a warm-up and is not counted. */
    unsigned runs = (unsigned)o.runs;
    double x[runs], y[runs], ratio[runs], th0[runs], thn[runs], tl0[runs], tln[runs];
    uint64_t hexits = 0, hio = 0, lio = 0;
    double typical[4] = {0};
    for (unsigned i = 0; i <= runs; i++) {
        struct argv_buf *order[4] = { &h0, &hn, &l0, &ln };
        double t[4];
        for (int k = 0; k < 4; k++) {
            int which = (i % 2) ? (k + 2) % 4 : k; /* odd rounds: the loop first */
            bool hostel = which < 2;
            const char *who = hostel ? "hostel-vm" : "bare KVM loop";
            struct run r = run_timed(order[which]->v, limit_for(typical[which]), NULL, NULL, 0);
            if (r.status == 77 || (hostel && r.status == 68)) {
                printf("%s: skipped: %s found no usable /dev/kvm\n", B, who);
                free(r.out);
                return 77;
            }
            if (!check_status(B, who, &r, GUEST_PASS_STATUS)) {
                free(r.out);
                return 1;
            }
            t[which] = typical[which] = r.secs;
            if (which == 1) {
                hexits = stat_field(r.out, "exits=");
                hio = stat_field(r.out, "io_exits=");
            } else if (which == 3) {
                lio = stat_field(r.out, "io_exits=");
            }
            free(r.out);
        }
        if (i == 0)
            continue;
        unsigned j = i - 1;
        th0[j] = t[0], thn[j] = t[1], tl0[j] = t[2], tln[j] = t[3];
        x[j] = (t[1] - t[0]) / (double)o.n * 1e6;
        y[j] = (t[3] - t[2]) / (double)o.n * 1e6;
        ratio[j] = y[j] > 0 ? x[j] / y[j] : 0;
        printf("%s:   round %u: hostel-vm %.2f us/exit, bare loop %.2f us/exit, ratio %.2f\n", B, i, x[j],
                   y[j], ratio[j]);
    }
    double mx = median(x, runs), my = median(y, runs), mr = median(ratio, runs);
    double lo = ratio[0], hi = ratio[0];
    for (unsigned j = 1; j < runs; j++) {
        lo = ratio[j] < lo ? ratio[j] : lo;
        hi = ratio[j] > hi ? ratio[j] : hi;
    }
    printf("%s: N=%lu outb to port 0x80 per run; %u rounds (+1 warm-up) of 4 runs; medians, wall time exec..exit:\n",
           B, o.n, runs);
    printf("%s:   hostel-vm pio=0 %.1f ms, pio=N %.1f ms (counted exits %llu, I/O %llu)\n", B,
           median(th0, runs) * 1e3, median(thn, runs) * 1e3, (unsigned long long)hexits,
           (unsigned long long)hio);
    printf("%s:   bare loop pio=0 %.1f ms, pio=N %.1f ms (counted I/O exits %llu)\n", B, median(tl0, runs) * 1e3,
           median(tln, runs) * 1e3, (unsigned long long)lio);
    printf("%s:   per-round ratios: median %.2f, range %.2f..%.2f\n", B, mr, lo, hi);
    if (mx <= 0 || my <= 0) {
        printf("%s: no usable difference between pio=0 and pio=N runs (noise?); try a larger --n\n", B);
        return 1;
    }
    printf("%s: hostel-vm %.2f us/exit, bare KVM loop %.2f us/exit, ratio X/Y = %.2f (goal <= 1.10: %s)\n", B, mx,
           my, mr, mr <= 1.10 ? "met" : "NOT met");
    return 0;
}

/* ---- 2. boot to debug-exit ------------------------------------------------ */

static int bench_boot(void)
{
    const char *B = "boot-to-debug-exit";
    if (!usable(o.vm) || !o.guest) {
        fprintf(stderr, "hostel-bench boot: needs --vm and --guest\n");
        return 2;
    }
    bool have_qemu = usable(o.qemu);
    struct argv_buf h, q;
    hostel_argv(&h, o.guest, NULL, NULL, false, false);
    qemu_argv(&q, o.guest, NULL, NULL, false);
    print_cmd(B, "hostel-vm", &h);
    if (have_qemu)
        print_cmd(B, "qemu", &q);

    unsigned runs = (unsigned)o.runs;
    double th[runs], tq[runs];
    bool qemu_ok = have_qemu;
    /* One unmeasured run each first: page cache, dynamic loader caches. */
    for (unsigned i = 0; i <= runs; i++) {
        struct run r = run_timed(h.v, limit_for(i ? th[0] : 0), NULL, NULL, 0);
        if (r.status == 68 || r.status == 77) {
            printf("%s: skipped: hostel-vm found no usable KVM\n", B);
            free(r.out);
            return 77;
        }
        if (!check_status(B, "hostel-vm", &r, GUEST_PASS_STATUS)) {
            free(r.out);
            return 1;
        }
        th[i ? i - 1 : 0] = r.secs; /* the warm-up's time sets the limit */
        free(r.out);
        if (!qemu_ok)
            continue;
        r = run_timed(q.v, limit_for(i ? tq[0] : 0), NULL, NULL, 0);
        if (!check_status(B, "qemu", &r, GUEST_PASS_STATUS))
            qemu_ok = false;
        else
            tq[i ? i - 1 : 0] = r.secs;
        free(r.out);
    }
    double mh = median(th, runs) * 1e3;
    if (!qemu_ok) {
        printf("%s: hostel-vm %.1f ms, qemu %s, no ratio\n", B, mh, have_qemu ? "failed (above)" : "not available");
        return have_qemu ? 1 : 0;
    }
    double mq = median(tq, runs) * 1e3;
    printf("%s: median of %u runs each (after one warm-up), wall time exec..exit\n", B, runs);
    printf("%s: hostel-vm %.1f ms, qemu %.1f ms, ratio = %.2f (goal <= 0.5: %s)\n", B, mh, mq, mh / mq,
           mh / mq <= 0.5 ? "met" : "NOT met");
    return 0;
}

/* ---- 2b. firmware: SeaBIOS start to the boot sector ---------------------- */

/* Both VMMs run SeaBIOS with a standard VGA (and its VGA BIOS) and an IDE
 * CD-ROM holding the same ISO, whose El Torito boot image's first
 * instruction writes to the debug-exit port. SeaBIOS's first debug-port
 * line marks its start. */
#define BIOS_MARKER "SeaBIOS (version"

static int bench_bios(void)
{
    const char *B = "bios-to-boot-sector";
    if (!usable(o.vm) || !o.iso) {
        fprintf(stderr, "hostel-bench bios: needs --vm and --iso\n");
        return 2;
    }
    bool have_qemu = usable(o.qemu);
    struct argv_buf h, q;
    h.n = 0;
    add(&h, o.vm);
    add(&h, "--cdrom"), add(&h, o.iso);
    add(&h, "--boot"), add(&h, "cd");
    add(&h, "--memory"), add(&h, mem_str());
    add(&h, "--serial"), add(&h, "none");
    add(&h, "--firmware-log"), add(&h, "-");
    add(&h, "--quiet");
    q.n = 0;
    add(&q, o.qemu);
    add(&q, "-accel"), add(&q, "kvm");
    add(&q, "-M"), add(&q, "pc");
    add(&q, "-cpu"), add(&q, "host");
    add(&q, "-smp"), add(&q, "1");
    add(&q, "-m"), add(&q, mem_str());
    add(&q, "-nodefaults"), add(&q, "-no-user-config");
    add(&q, "-display"), add(&q, "none");
    add(&q, "-monitor"), add(&q, "none");
    add(&q, "-serial"), add(&q, "none");
    add(&q, "-vga"), add(&q, "std");
    add(&q, "-no-reboot");
    add(&q, "-device"), add(&q, QEMU_DEBUG_EXIT);
    add(&q, "-chardev"), add(&q, "stdio,id=dbg");
    add(&q, "-device"), add(&q, "isa-debugcon,iobase=0x402,chardev=dbg");
    add(&q, "-cdrom"), add(&q, o.iso);
    add(&q, "-boot"), add(&q, "d");
    print_cmd(B, "hostel-vm", &h);
    if (have_qemu)
        print_cmd(B, "qemu", &q);

    unsigned runs = (unsigned)o.runs;
    double fh[runs], fq[runs], th[runs], tq[runs];
    bool qemu_ok = have_qemu;
    for (unsigned i = 0; i <= runs; i++) {
        unsigned k = i ? i - 1 : 0;
        struct run r = run_timed_marker(h.v, limit_for(i ? th[0] : 0), NULL, NULL, 0, BIOS_MARKER);
        if (r.status == 68 || r.status == 77) {
            printf("%s: skipped: hostel-vm found no usable KVM\n", B);
            free(r.out);
            return 77;
        }
        if (!check_status(B, "hostel-vm", &r, GUEST_PASS_STATUS) || !r.t_marker) {
            if (!r.t_marker)
                printf("%s: FAIL: hostel-vm printed no SeaBIOS banner on the debug port\n", B);
            free(r.out);
            return 1;
        }
        th[k] = r.secs;
        fh[k] = r.secs - r.t_marker;
        free(r.out);
        if (!qemu_ok)
            continue;
        r = run_timed_marker(q.v, limit_for(i ? tq[0] : 0), NULL, NULL, 0, BIOS_MARKER);
        if (!check_status(B, "qemu", &r, GUEST_PASS_STATUS) || !r.t_marker) {
            qemu_ok = false;
        } else {
            tq[k] = r.secs;
            fq[k] = r.secs - r.t_marker;
        }
        free(r.out);
    }
    double mfh = median(fh, runs) * 1e3, mth = median(th, runs) * 1e3;
    if (!qemu_ok) {
        printf("%s: hostel-vm %.1f ms (process %.1f ms), qemu %s, no ratio\n", B, mfh, mth,
               have_qemu ? "failed (above)" : "not available");
        return have_qemu ? 1 : 0;
    }
    double mfq = median(fq, runs) * 1e3, mtq = median(tq, runs) * 1e3;
    printf("%s: median of %u runs each (after one warm-up); firmware time = SeaBIOS banner on the debug "
           "port .. exit from the boot sector's first instruction\n", B, runs);
    printf("%s: whole process exec..exit: hostel-vm %.1f ms, qemu %.1f ms, ratio = %.2f\n", B, mth, mtq, mth / mtq);
    printf("%s: hostel-vm %.1f ms, qemu %.1f ms, ratio = %.2f (goal <= 1.0: %s)\n", B, mfh, mfq, mfh / mfq,
           mfh / mfq <= 1.0 ? "met" : "NOT met");
    return 0;
}

/* ---- 3. VMM memory overhead ----------------------------------------------- */

struct mem_sample {
    double rss_kib;          /* whole process, smaps Rss */
    double guest_kib;        /* Rss of the guest RAM mapping(s) */
    double guest_map_kib;    /* size of those mappings */
    double private_kib;      /* Private_Clean + Private_Dirty outside guest RAM */
    double hwm_kib;          /* VmHWM */
    double idle_cpu;         /* CPU share (1 = one CPU) while the guest halts */
};

/* utime + stime of a process, in seconds. */
static double cpu_seconds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    char *t = read_text(path, 4096);
    const char *p = t ? strrchr(t, ')') : NULL;
    unsigned long long ut = 0, st = 0;
    /* After "(comm)": state and 10 more fields, then utime and stime. */
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
    free(t);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Is this smaps mapping the guest's RAM? Both VMMs map it as one anonymous
 * read-write mapping of (just over) the RAM size -- QEMU maps pc.ram alone,
 * 2 MiB aligned, followed by a PROT_NONE guard page; hostel-vm exactly. */
static bool is_guest_ram(bool hostel, const char *perms, const char *name, double size_kib)
{
    double ram_kib = (double)o.memory * 1024;
    (void)hostel;
    return perms[0] == 'r' && perms[1] == 'w' && (!*name || strncmp(name, "[anon", 5) == 0) &&
           size_kib >= ram_kib && size_kib <= ram_kib + 4096;
}

static bool read_smaps(pid_t pid, bool hostel, struct mem_sample *m)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    memset(m, 0, sizeof(*m));
    char line[1024];
    bool guest = false;
    while (fgets(line, sizeof(line), f)) {
        unsigned long start, end;
        char perms[8];
        int name_at = 0;
        if (isxdigit((unsigned char)line[0]) &&
            sscanf(line, "%lx-%lx %7s %*x %*x:%*x %*u %n", &start, &end, perms, &name_at) == 3) {
            char *name = line + name_at;
            name[strcspn(name, "\n")] = 0;
            double size = (double)(end - start) / 1024;
            guest = name_at > 0 && is_guest_ram(hostel, perms, name, size);
            if (guest)
                m->guest_map_kib += size;
            continue;
        }
        double v;
        if (sscanf(line, "Rss: %lf kB", &v) == 1) {
            m->rss_kib += v;
            if (guest)
                m->guest_kib += v;
        } else if (!guest && (sscanf(line, "Private_Clean: %lf kB", &v) == 1 ||
                              sscanf(line, "Private_Dirty: %lf kB", &v) == 1)) {
            m->private_kib += v;
        }
    }
    fclose(f);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    char *st = read_text(path, 1 << 16);
    const char *h = st ? strstr(st, "VmHWM:") : NULL;
    m->hwm_kib = h ? strtod(h + 6, NULL) : 0;
    free(st);
    return m->rss_kib > 0;
}

/* Start the VMM on the spinning guest, wait for its "ready" line, let it
 * settle, sample its memory, kill it. */
static bool mem_one(const char *who, bool hostel, char *const argv[], struct mem_sample *m)
{
    const char *B = "memory-overhead";
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return false;
    pid_t pid = spawn(argv, p[1]);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return false;
    }
    char buf[8192];
    size_t len = 0;
    bool ready = false;
    double deadline = now_s() + (double)o.timeout;
    while (!ready && now_s() < deadline) {
        struct pollfd pf = { .fd = p[0], .events = POLLIN };
        if (poll(&pf, 1, 200) <= 0)
            continue;
        ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        ready = strstr(buf, "bench-guest: ready") != NULL;
        if (len >= sizeof(buf) - 1)
            len = 0;
    }
    bool ok = false;
    if (ready) {
        /* Let start-up work finish (threads, lazy allocations), then see
         * what the VMM costs while its guest does nothing. */
        sleep_s(0.5);
        double c0 = cpu_seconds(pid), t0 = now_s();
        sleep_s(2.0);
        double idle = (cpu_seconds(pid) - c0) / (now_s() - t0);
        ok = read_smaps(pid, hostel, m);
        m->idle_cpu = idle;
        if (!ok)
            printf("%s: could not read /proc/%d/smaps of %s\n", B, (int)pid, who);
        else if (m->guest_map_kib == 0)
            printf("%s: warning: no guest RAM mapping found in %s's smaps\n", B, who);
    } else {
        printf("%s: %s did not print the guest's ready line\n", B, who);
    }
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    kill(pid, SIGKILL);
    /* Drain what is left, for the failure report. */
    for (;;) {
        struct pollfd pf = { .fd = p[0], .events = POLLIN };
        if (poll(&pf, 1, 1000) <= 0)
            break;
        ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len >= sizeof(buf) - 1)
            break;
    }
    buf[len] = 0;
    close(p[0]);
    struct rusage ru;
    reap_killed(pid, pidfd, &ru);
    if (pidfd >= 0)
        close(pidfd);
    if (!ready && len)
        show_tail(who, buf, 12);
    return ok;
}

static int bench_mem(void)
{
    const char *B = "memory-overhead";
    if (!usable(o.vm) || !o.guest) {
        fprintf(stderr, "hostel-bench mem: needs --vm and --guest\n");
        return 2;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("%s: skipped: no usable /dev/kvm\n", B);
        return 77;
    }
    bool have_qemu = usable(o.qemu);
    struct argv_buf h, q;
    hostel_argv(&h, o.guest, NULL, "spin", true, false);
    qemu_argv(&q, o.guest, NULL, "spin", true);
    print_cmd(B, "hostel-vm", &h);
    if (have_qemu)
        print_cmd(B, "qemu", &q);

    unsigned runs = (unsigned)o.runs;
    double oh[runs], oq[runs], ph[runs], pq[runs], wh[runs], wq[runs], ch[runs], cq[runs];
    double rh[runs], rq[runs], gh[runs], gq[runs];
    struct mem_sample mh = {0}, mq = {0};
    bool qemu_ok = have_qemu;
    for (unsigned i = 0; i < runs; i++) {
        if (!mem_one("hostel-vm", true, h.v, &mh))
            return 1;
        oh[i] = mh.rss_kib - mh.guest_kib;
        ph[i] = mh.private_kib;
        wh[i] = mh.hwm_kib - mh.guest_kib;
        ch[i] = mh.idle_cpu;
        rh[i] = mh.rss_kib;
        gh[i] = mh.guest_kib;
        if (qemu_ok && mem_one("qemu", false, q.v, &mq)) {
            oq[i] = mq.rss_kib - mq.guest_kib;
            pq[i] = mq.private_kib;
            wq[i] = mq.hwm_kib - mq.guest_kib;
            cq[i] = mq.idle_cpu;
            rq[i] = mq.rss_kib;
            gq[i] = mq.guest_kib;
        } else {
            qemu_ok = false;
        }
    }
    printf("%s: method: guest halts (cli; hlt) after printing a ready line; 2.5 s later /proc/PID/smaps is\n"
           "%s:   read; overhead = total Rss - Rss of the guest RAM mapping (hostel-vm: its anonymous RAM; QEMU: the\n"
           "%s:   anonymous %lu MiB pc.ram mapping). Firmware ROMs (QEMU's BIOS, option ROMs) count as overhead.\n"
           "%s:   Rss counts shared library pages in full. Medians of %u runs. Kernel memory (KVM's page\n"
           "%s:   tables, vCPU state) is not in Rss and not counted.\n",
           B, B, B, o.memory, B, runs, B);
    printf("%s:   hostel-vm: Rss %.1f MiB, guest RAM touched %.2f of %.0f MiB, private (non-guest) %.1f MiB, "
           "VmHWM - guest %.1f MiB, idle CPU %.1f%%\n", B, median(rh, runs) / 1024, median(gh, runs) / 1024,
           mh.guest_map_kib / 1024, median(ph, runs) / 1024, median(wh, runs) / 1024, median(ch, runs) * 100);
    if (!qemu_ok) {
        printf("%s: hostel-vm %.1f MiB, qemu %s, no ratio\n", B, median(oh, runs) / 1024,
               have_qemu ? "failed (above)" : "not available");
        return have_qemu ? 1 : 0;
    }
    printf("%s:   qemu:      Rss %.1f MiB, guest RAM touched %.2f of %.0f MiB, private (non-guest) %.1f MiB, "
           "VmHWM - guest %.1f MiB, idle CPU %.1f%%\n", B, median(rq, runs) / 1024, median(gq, runs) / 1024,
           mq.guest_map_kib / 1024, median(pq, runs) / 1024, median(wq, runs) / 1024, median(cq, runs) * 100);
    double x = median(oh, runs) / 1024, y = median(oq, runs) / 1024;
    printf("%s: private-memory ratio = %.2f (Private_Clean + Private_Dirty outside guest RAM)\n", B,
           median(ph, runs) / median(pq, runs));
    printf("%s: hostel-vm %.1f MiB, qemu %.1f MiB, ratio = %.2f (goal <= 0.5: %s)\n", B, x, y, x / y,
           x / y <= 0.5 ? "met" : "NOT met");
    return 0;
}

/* ---- 4. Linux boot to userspace ------------------------------------------- */

/* KVM's own per-VM counters (debugfs, /sys/kernel/debug/kvm/PID-FD/), read
 * while the VMM runs: they vanish with the VM, so the last sample is up to
 * one sampling period old. They count every exit, in-kernel ones included,
 * so they compare two VMMs on equal terms. */
struct kvm_counters {
    bool seen;
    uint64_t exits, io_exits, mmio_exits;
    char all[8192];        /* --verbose: every non-zero counter, "name=value ..." */
};

static void read_all_counters(const char *dir, char *out, size_t len)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    out[0] = 0;
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && n + 80 < len) {
        if (e->d_name[0] == '.' || e->d_type == DT_DIR)
            continue;
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char *t = read_text(path, 64);
        unsigned long long v = t ? strtoull(t, NULL, 10) : 0;
        free(t);
        if (v)
            n += (size_t)snprintf(out + n, len - n, " %s=%llu", e->d_name, v);
    }
    closedir(d);
}

static uint64_t read_u64_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *t = read_text(path, 64);
    uint64_t v = t ? strtoull(t, NULL, 10) : 0;
    free(t);
    return v;
}

static void sample_kvm(pid_t pid, void *arg)
{
    struct kvm_counters *c = arg;
    DIR *d = opendir("/sys/kernel/debug/kvm");
    if (!d)
        return;
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%d-", (int)pid);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char dir[300];
        snprintf(dir, sizeof(dir), "/sys/kernel/debug/kvm/%s", e->d_name);
        uint64_t exits = read_u64_file(dir, "exits");
        if (exits >= c->exits) {
            c->seen = true;
            c->exits = exits;
            c->io_exits = read_u64_file(dir, "io_exits");
            c->mmio_exits = read_u64_file(dir, "mmio_exits");
            if (o.verbose)
                read_all_counters(dir, c->all, sizeof(c->all));
        }
    }
    closedir(d);
}

static void describe_counters(const struct kvm_counters *c, char *buf, size_t len)
{
    if (!c->seen)
        snprintf(buf, len, "KVM counters unavailable (no debugfs)");
    else
        snprintf(buf, len, "KVM counted >= %llu exits (I/O %llu, MMIO %llu)",
                 (unsigned long long)c->exits, (unsigned long long)c->io_exits,
                 (unsigned long long)c->mmio_exits);
}

/* The default guest's init prints "uptime: X s; powering off". */
static bool guest_uptime(const char *out, char *buf, size_t len)
{
    const char *p = out ? strstr(out, "uptime: ") : NULL;
    if (!p || !strstr(p, "powering off"))
        return false;
    p += 8;
    size_t n = strcspn(p, " ;\r\n");
    snprintf(buf, len, "%.*s", (int)(n < 32 ? n : 32), p);
    return true;
}

#define USERSPACE_MARKER "Hostel default guest:"

/* One boot: prints its line, fills the times; false if it did not reach
 * the guest's power-off line. */
static bool linux_one(const char *who, char *const argv[], bool hostel, double typical, double *t_user,
                      double *t_exit, double *uptime, struct run *last)
{
    const char *B = "linux-boot";
    struct kvm_counters c = {0};
    struct run r = run_timed_marker(argv, limit_for(typical), sample_kvm, &c, 0.1, USERSPACE_MARKER);
    char up[40] = "?", kc[160], st[160] = "";
    bool ok = r.status == 0 && r.t_marker > 0 && guest_uptime(r.out, up, sizeof(up));
    describe_counters(&c, kc, sizeof(kc));
    if (hostel)
        snprintf(st, sizeof(st), "--stats: userspace exits %llu (I/O %llu, emulated %llu); ",
                 (unsigned long long)stat_field(r.out, "exits="), (unsigned long long)stat_field(r.out, "io_exits="),
                 (unsigned long long)stat_field(r.out, "emulated="));
    printf("%s:   %-10s userspace at %.2f s, exit at %.2f s, status %d, guest uptime %s s; %s%s\n", B, who,
           r.t_marker, r.secs, r.status, up, st, kc);
    if (o.verbose && c.seen)
        printf("%s:     KVM counters:%s\n", B, c.all);
    if (!ok) {
        char d[64];
        describe_status(r.status, d, sizeof(d));
        printf("%s: %s did not reach the guest's power-off line (%s after %.1f s)\n", B, who, d, r.secs);
        show_tail(who, r.out, 25);
    }
    *t_user = r.t_marker;
    *t_exit = r.secs;
    *uptime = ok ? strtod(up, NULL) : 0;
    free(last->out);
    *last = r;
    return ok;
}

static int bench_linux(void)
{
    const char *B = "linux-boot";
    if (!usable(o.vm) || !o.kernel || !o.initrd) {
        fprintf(stderr, "hostel-bench linux: needs --vm, --kernel and --initrd\n");
        return 2;
    }
    const char *append = "console=ttyS0 panic=-1 hostel.demo";
    bool have_qemu = usable(o.qemu);
    struct argv_buf h, q;
    hostel_argv(&h, o.kernel, o.initrd, append, true, true);
    qemu_argv(&q, o.kernel, o.initrd, append, true);
    print_cmd(B, "hostel-vm", &h);
    if (have_qemu)
        print_cmd(B, "qemu", &q);
    printf("%s: times are wall clock from exec to the init's first line (\"" USERSPACE_MARKER "\" on the serial\n"
           "%s:   console: userspace) and to the VMM's exit after the guest's poweroff -f; 'uptime' is the guest\n"
           "%s:   kernel's own clock when init ran. KVM's exit counters come from debugfs, sampled every 0.1 s.\n",
           B, B, B);

    /* A failed boot is reported and counted, and the others still make the
     * medians: an intermittent guest crash is a finding, not a reason to
     * lose the measurement. */
    unsigned runs = (unsigned)o.runs, nh = 0, nq = 0, qfail = 0;
    double hu[runs], he[runs], hk[runs], qu[runs], qe[runs], qk[runs];
    struct run last = {0};
    for (unsigned i = 0; i < runs; i++) {
        if (linux_one("hostel-vm:", h.v, true, nh ? he[0] : 0, &hu[nh], &he[nh], &hk[nh], &last)) {
            nh++;
        } else if (last.status == 68) {
            printf("%s: skipped: hostel-vm found no usable KVM\n", B);
            free(last.out);
            return 77;
        }
        /* QEMU failing twice in a row (e.g. a KVM internal error on hosts
         * whose KVM emulates guest kernel code) is not retried further. */
        if (have_qemu && qfail < 2) {
            if (linux_one("qemu:", q.v, false, nq ? qe[0] : 0, &qu[nq], &qe[nq], &qk[nq], &last))
                nq++, qfail = 0;
            else
                qfail++;
        }
    }
    free(last.out);
    if (nh < runs)
        printf("%s: hostel-vm FAILED %u of %u boots (above)\n", B, runs - nh, runs);
    if (have_qemu && nq < runs)
        printf("%s: qemu failed %u of %u boots (above)\n", B, runs - nq, runs);
    if (!nh) {
        printf("%s: hostel-vm did not boot, no ratio\n", B);
        return 1;
    }
    double mhu = median(hu, nh), mhe = median(he, nh);
    if (!nq) {
        printf("%s: hostel-vm %.2f s to userspace (%.2f s to exit), qemu %s, no ratio\n", B, mhu, mhe,
               have_qemu ? "failed (above)" : "not available");
        return nh == runs ? 0 : 1;
    }
    double mqu = median(qu, nq), mqe = median(qe, nq);
    printf("%s: medians of %u (hostel-vm) and %u (qemu) boots: guest uptime at init hostel-vm %.2f s, qemu %.2f s\n",
           B, nh, nq, median(hk, nh), median(qk, nq));
    printf("%s: boot to power-off: hostel-vm %.2f s, qemu %.2f s, ratio = %.2f\n", B, mhe, mqe, mhe / mqe);
    printf("%s: hostel-vm %.2f s, qemu %.2f s to userspace, ratio = %.2f\n", B, mhu, mqu, mhu / mqu);
    return nh == runs ? 0 : 1;
}

/* ---- main ------------------------------------------------------------------ */

static const char usage_text[] =
    "usage: hostel-bench pio|boot|bios|mem|linux [--vm HOSTEL_VM] [--loop KVM_PIO_LOOP] [--qemu QEMU|none]\n"
    "                    [--guest GUEST.elf] [--iso BIOS.iso] [--kernel VMLINUZ] [--initrd INITRD] [--n N] [--runs R]\n"
    "                    [--memory MIB] [--timeout S] [--verbose]\n";

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "vm", required_argument, NULL, 'v' },     { "loop", required_argument, NULL, 'l' },
        { "qemu", required_argument, NULL, 'q' },   { "guest", required_argument, NULL, 'g' },
        { "kernel", required_argument, NULL, 'k' }, { "initrd", required_argument, NULL, 'i' },
        { "n", required_argument, NULL, 'n' },      { "runs", required_argument, NULL, 'r' },
        { "memory", required_argument, NULL, 'm' }, { "timeout", required_argument, NULL, 't' },
        { "verbose", no_argument, NULL, 'V' },      { "help", no_argument, NULL, 'h' },
        { "iso", required_argument, NULL, 'I' },
        { NULL, 0, NULL, 0 },
    };
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *what = argv[1];
    o = (struct opts){ .n = 30000, .runs = 0, .memory = 0, .timeout = 0 };
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'v': o.vm = optarg; break;
        case 'l': o.loop = optarg; break;
        case 'q': o.qemu = optarg; break;
        case 'g': o.guest = optarg; break;
        case 'k': o.kernel = optarg; break;
        case 'i': o.initrd = optarg; break;
        case 'n': o.n = strtoul(optarg, NULL, 10); break;
        case 'r': o.runs = strtoul(optarg, NULL, 10); break;
        case 'm': o.memory = strtoul(optarg, NULL, 10); break;
        case 't': o.timeout = strtoul(optarg, NULL, 10); break;
        case 'V': o.verbose = true; break;
        case 'I': o.iso = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (o.n == 0 || o.runs > 100) {
        fputs("hostel-bench: --n must be positive, --runs at most 100\n", stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    bool is_linux = strcmp(what, "linux") == 0;
    if (!o.memory)
        o.memory = is_linux ? 256 : 64;
    if (!o.timeout)
        o.timeout = is_linux ? 1200 : 300;
    if (strcmp(what, "pio") == 0)
        return o.runs = o.runs ? o.runs : 7, bench_pio();
    if (strcmp(what, "boot") == 0)
        return o.runs = o.runs ? o.runs : 5, bench_boot();
    if (strcmp(what, "bios") == 0)
        return o.runs = o.runs ? o.runs : 5, bench_bios();
    if (strcmp(what, "mem") == 0)
        return o.runs = o.runs ? o.runs : 3, bench_mem();
    if (is_linux)
        return o.runs = o.runs ? o.runs : 3, bench_linux();
    fputs(usage_text, stderr);
    return 2;
}
