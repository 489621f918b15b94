/* The serial console on the terminal: guest output to stdout, stdin to the
 * guest. On a terminal, stdin is put in raw mode (restored on exit) and
 * Ctrl-A x stops the VM, Ctrl-A Ctrl-A sends a Ctrl-A, as in other VMMs.
 *
 * Neither direction ever blocks a vCPU: guest output goes into a bounded
 * ring that the main loop drains when stdout can take it (bytes beyond the
 * ring are dropped and counted), and input the UART has no room for waits
 * in the kernel's buffer until the guest reads. */
#ifndef HOSTEL_CONSOLE_H
#define HOSTEL_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "chardev.h"

struct vm;
struct uart16550;

#define CONSOLE_OUT_RING 65536

struct console {
    struct vm *vm;
    struct uart16550 *uart;
    struct chardev out;         /* give this to the UART */
    bool raw;                   /* terminal switched to raw mode */
    struct termios saved;       /* the terminal's settings before */
    int saved_stdin_flags;      /* fcntl flags of stdin before, or -1 */
    bool escape;                /* Ctrl-A seen */
    bool eof;
    unsigned in_watch;          /* GLib source ids */
    unsigned retry_source;
    uint8_t pending[4096];      /* input the UART's FIFO had no room for */
    size_t npending;

    /* Output ring, filled by vCPUs (under out_lock), drained by the main loop. */
    pthread_mutex_t out_lock;
    uint8_t ring[CONSOLE_OUT_RING];
    size_t ring_head, ring_len;
    uint64_t dropped;           /* bytes lost because stdout did not keep up */
    bool out_watch_armed;
    bool out_closed;            /* stdout is gone: drop everything */
};

/* Set up stdout as the output sink (before the UART is created). */
void console_init(struct console *con, struct vm *vm);
/* Start feeding stdin to uart (after the UART exists). */
void console_attach_input(struct console *con, struct uart16550 *uart);
/* Write out what is still buffered (bounded wait) and restore the
 * terminal. Safe to call more than once. */
void console_restore(struct console *con);

#endif
