#include "e2e_child.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int child_spawn(struct child *c, char *const argv[])
{
    memset(c, 0, sizeof(*c));
    int to_child[2], from_child[2];
    if (pipe(to_child) < 0 || pipe(from_child) < 0)
        return -1;
    c->pid = fork();
    if (c->pid < 0)
        return -1;
    if (c->pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        dup2(from_child[1], 2);
        close(to_child[1]);
        close(from_child[0]);
        execv(argv[0], argv);
        perror("exec hostel-vm");
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    c->in = to_child[1];
    c->out = from_child[0];
    return 0;
}

long child_wait_for(struct child *c, const char *marker, size_t from, double deadline)
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
        if (r <= 0)
            continue;
        ssize_t n = read(c->out, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        fwrite(c->buf + c->len, 1, (size_t)n, stdout); /* echo the console */
        fflush(stdout);
        c->len += (size_t)n;
        if (c->len >= sizeof(c->buf) - 1)
            return -1;
    }
}

void child_drain(struct child *c, double seconds)
{
    child_wait_for(c, "\x01never\x01", c->len, now_s() + seconds);
}

int child_type(struct child *c, const char *text)
{
    size_t n = strlen(text);
    return write(c->in, text, n) == (ssize_t)n ? 0 : -1;
}

int child_wait_exit(struct child *c, double deadline)
{
    while (!c->exited && now_s() < deadline) {
        pid_t r = waitpid(c->pid, &c->status, WNOHANG);
        if (r == c->pid) {
            c->exited = true;
            break;
        }
        child_drain(c, 0.2);
    }
    if (!c->exited) {
        child_kill(c);
        return -1;
    }
    child_drain(c, 0.1);
    return WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status);
}

void child_kill(struct child *c)
{
    if (c->pid > 0 && !c->exited) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &c->status, 0);
        c->exited = true;
    }
}
