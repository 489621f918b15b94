#include "console.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "uart16550.h"
#include "vm.h"

static void console_write(void *opaque, const uint8_t *buf, size_t len)
{
    (void)opaque;
    while (len) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
            poll(&p, 1, 100);
            continue;
        }
        if (n <= 0)
            return; /* stdout closed: drop the output, keep the VM running */
        buf += n;
        len -= (size_t)n;
    }
}

void console_init(struct console *con, struct vm *vm)
{
    *con = (struct console){ .vm = vm };
    con->out.write = console_write;
    con->out.opaque = con;
}

/* Push what is pending into the UART; called with dev_lock held. */
static void console_flush_pending(struct console *con)
{
    if (!con->npending)
        return;
    size_t n = uart16550_receive(con->uart, con->pending, con->npending);
    memmove(con->pending, con->pending + n, con->npending - n);
    con->npending -= n;
}

static gboolean console_retry(gpointer data)
{
    struct console *con = data;
    pthread_mutex_lock(&con->vm->dev_lock);
    console_flush_pending(con);
    bool more = con->npending > 0;
    pthread_mutex_unlock(&con->vm->dev_lock);
    if (more)
        return G_SOURCE_CONTINUE;
    con->retry_source = 0;
    return G_SOURCE_REMOVE;
}

static gboolean console_readable(gint fd, GIOCondition cond, gpointer data)
{
    struct console *con = data;
    /* Leave input in the kernel's buffer while the guest is not taking it. */
    if (con->npending) {
        if (!con->retry_source)
            con->retry_source = g_timeout_add(5, console_retry, con);
        return G_SOURCE_CONTINUE;
    }
    uint8_t buf[1024];
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
        if (out < sizeof(con->pending))
            con->pending[out++] = c;
    }
    con->npending = out;
    pthread_mutex_lock(&con->vm->dev_lock);
    console_flush_pending(con);
    pthread_mutex_unlock(&con->vm->dev_lock);
    if (con->npending && !con->retry_source)
        con->retry_source = g_timeout_add(5, console_retry, con);
    return G_SOURCE_CONTINUE;
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
    g_unix_set_fd_nonblocking(STDIN_FILENO, TRUE, NULL);
    con->in_watch = g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, console_readable, con);
}

void console_restore(struct console *con)
{
    if (con->raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &con->saved);
        con->raw = false;
    }
    if (con->in_watch) {
        g_source_remove(con->in_watch);
        con->in_watch = 0;
    }
    if (con->uart)
        g_unix_set_fd_nonblocking(STDIN_FILENO, FALSE, NULL);
    if (con->retry_source) {
        g_source_remove(con->retry_source);
        con->retry_source = 0;
    }
}
