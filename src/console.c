#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "uart16550.h"
#include "vm.h"

/* ---- output -------------------------------------------------------------- */

/* Write what the ring holds without blocking for long: at most one chunk per
 * call, so the main loop stays responsive. Called with out_lock held.
 * Returns false when stdout cannot take more now. */
static bool console_drain_some(struct console *con)
{
    while (con->ring_len) {
        size_t n = CONSOLE_OUT_RING - con->ring_head;
        if (n > con->ring_len)
            n = con->ring_len;
        if (n > 4096)
            n = 4096; /* a pipe that polls writable takes this much at once */
        ssize_t w = write(STDOUT_FILENO, con->ring + con->ring_head, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return false;
        if (w <= 0) {
            /* stdout is closed or broken: the guest keeps running, its
             * output goes nowhere. */
            con->out_closed = true;
            con->ring_len = 0;
            return true;
        }
        con->ring_head = (con->ring_head + (size_t)w) % CONSOLE_OUT_RING;
        con->ring_len -= (size_t)w;
    }
    return true;
}

static gboolean console_writable(gint fd, GIOCondition cond, gpointer data)
{
    struct console *con = data;
    pthread_mutex_lock(&con->out_lock);
    bool done = console_drain_some(con) && con->ring_len == 0;
    if (done)
        con->out_watch_armed = false;
    pthread_mutex_unlock(&con->out_lock);
    return done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* The UART's sink: runs on a vCPU thread with dev_lock held, so it only
 * copies into the ring and never waits for stdout. */
static void console_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct console *con = opaque;
    pthread_mutex_lock(&con->out_lock);
    if (!con->out_closed) {
        size_t room = CONSOLE_OUT_RING - con->ring_len;
        size_t n = len < room ? len : room;
        for (size_t i = 0; i < n; i++)
            con->ring[(con->ring_head + con->ring_len + i) % CONSOLE_OUT_RING] = buf[i];
        con->ring_len += n;
        con->dropped += len - n;
        if (con->ring_len && !con->out_watch_armed) {
            con->out_watch_armed = true;
            g_unix_fd_add(STDOUT_FILENO, G_IO_OUT | G_IO_ERR | G_IO_HUP, console_writable, con);
        }
    }
    pthread_mutex_unlock(&con->out_lock);
}

void console_init(struct console *con, struct vm *vm)
{
    memset(con, 0, sizeof(*con));
    con->vm = vm;
    con->saved_stdin_flags = -1;
    con->out.write = console_write;
    con->out.opaque = con;
    pthread_mutex_init(&con->out_lock, NULL);
}

/* ---- input --------------------------------------------------------------- */

static gboolean console_readable(gint fd, GIOCondition cond, gpointer data);

static void console_watch_input(struct console *con)
{
    if (!con->in_watch && !con->eof)
        con->in_watch = g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, console_readable, con);
}

/* Push what is pending into the UART. */
static void console_flush_pending(struct console *con)
{
    if (!con->npending)
        return;
    pthread_mutex_lock(&con->vm->dev_lock);
    size_t n = uart16550_receive(con->uart, con->pending, con->npending);
    pthread_mutex_unlock(&con->vm->dev_lock);
    memmove(con->pending, con->pending + n, con->npending - n);
    con->npending -= n;
}

static gboolean console_retry(gpointer data)
{
    struct console *con = data;
    console_flush_pending(con);
    if (con->npending)
        return G_SOURCE_CONTINUE;
    con->retry_source = 0;
    console_watch_input(con); /* room again: read more */
    return G_SOURCE_REMOVE;
}

static gboolean console_readable(gint fd, GIOCondition cond, gpointer data)
{
    struct console *con = data;
    uint8_t buf[sizeof(con->pending)];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        con->eof = true;
        con->in_watch = 0;
        return G_SOURCE_REMOVE;
    }
    size_t out = 0;
    for (ssize_t i = 0; i < n; i++) {
        uint8_t c = buf[i];
        if (con->raw && con->escape) {
            con->escape = false;
            if (c == 'x' || c == 'X') {
                vm_request_stop(con->vm, VM_STOP_USER, VM_EXIT_USER, "Stopped from the console (Ctrl-A x).");
                return G_SOURCE_CONTINUE;
            }
            if (c != 0x01)
                continue;
        } else if (con->raw && c == 0x01) {
            con->escape = true;
            continue;
        }
        con->pending[out++] = c;
    }
    con->npending = out;
    console_flush_pending(con);
    if (!con->npending)
        return G_SOURCE_CONTINUE;
    /* The guest is not taking input now: stop reading (the rest waits in
     * the kernel) and offer what we hold again every few milliseconds. */
    con->retry_source = g_timeout_add(5, console_retry, con);
    con->in_watch = 0;
    return G_SOURCE_REMOVE;
}

void console_attach_input(struct console *con, struct uart16550 *uart)
{
    con->uart = uart;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &con->saved) == 0) {
        struct termios raw = con->saved;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR; /* keep our own messages readable */
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
            con->raw = true;
    }
    con->saved_stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
    if (con->saved_stdin_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, con->saved_stdin_flags | O_NONBLOCK);
    console_watch_input(con);
}

void console_restore(struct console *con)
{
    /* Give stdout up to a second for what the guest wrote last. */
    pthread_mutex_lock(&con->out_lock);
    for (int i = 0; i < 100 && con->ring_len && !con->out_closed; i++) {
        if (console_drain_some(con))
            continue;
        pthread_mutex_unlock(&con->out_lock);
        struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
        poll(&p, 1, 10);
        pthread_mutex_lock(&con->out_lock);
    }
    pthread_mutex_unlock(&con->out_lock);
    if (con->raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &con->saved);
        con->raw = false;
    }
    if (con->in_watch) {
        g_source_remove(con->in_watch);
        con->in_watch = 0;
    }
    if (con->retry_source) {
        g_source_remove(con->retry_source);
        con->retry_source = 0;
    }
    if (con->saved_stdin_flags >= 0) {
        fcntl(STDIN_FILENO, F_SETFL, con->saved_stdin_flags);
        con->saved_stdin_flags = -1;
    }
}
