/* The serial console on the terminal: guest output to stdout, stdin to the
 * guest. On a terminal, stdin is put in raw mode (restored on exit) and
 * Ctrl-A x stops the VM, Ctrl-A Ctrl-A sends a Ctrl-A, as in other VMMs. */
#ifndef HOSTEL_CONSOLE_H
#define HOSTEL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "chardev.h"

struct vm;
struct uart16550;

struct console {
    struct vm *vm;
    struct uart16550 *uart;
    struct chardev out;         /* give this to the UART */
    bool raw;                   /* terminal switched to raw mode */
    struct termios saved;       /* the terminal's settings before */
    bool escape;                /* Ctrl-A seen */
    bool eof;
    unsigned in_watch;          /* GLib source ids */
    unsigned retry_source;
    uint8_t pending[4096];      /* input the UART's FIFO had no room for */
    size_t npending;
};

/* Set up stdout as the output sink (before the UART is created). */
void console_init(struct console *con, struct vm *vm);
/* Start feeding stdin to uart (after the UART exists). */
void console_attach_input(struct console *con, struct uart16550 *uart);
/* Restore the terminal. Safe to call more than once. */
void console_restore(struct console *con);

#endif
