/* 16550A UART (PC COM port): eight byte-wide I/O registers.
 *
 * Transmitted bytes go straight to a chardev sink; there is no baud-rate
 * timing, so the transmitter is always empty again by the time the guest
 * looks. Received bytes are pushed in by the host with uart16550_receive(),
 * which takes only what fits, so input is back-pressured instead of lost.
 */
#ifndef HOSTEL_UART16550_H
#define HOSTEL_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "chardev.h"
#include "device.h"
#include "irq.h"

#define UART16550_FIFO_SIZE 16
#define UART16550_NREGS 8

struct uart16550 {
    /* Wiring (not saved). */
    struct irq_line *irq;
    const struct chardev *out;
    int irq_level;              /* level last driven, to skip redundant calls */

    /* Registers (saved). */
    uint8_t dll, dlm;           /* divisor latch */
    uint8_t ier;
    uint8_t fcr;                /* stored bits only: enable, DMA mode, trigger */
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr;
    uint8_t msr;                /* delta bits 0-3 and current lines 4-7 */
    uint8_t scr;
    uint8_t modem_inputs;       /* CTS/DSR/RI/DCD from the outside, MSR bit layout */
    uint8_t thr_ipending;       /* THR-empty interrupt armed, cleared by an IIR read */
    uint8_t rx_head;            /* index of the oldest byte */
    uint8_t rx_count;
    uint8_t rx_fifo[UART16550_FIFO_SIZE];
};

extern const struct device_ops uart16550_device_ops;
/* Byte-wide registers at offsets 0-7 (map at e.g. 0x3f8, length 8). */
extern const struct bus_ops uart16550_bus_ops;

/* Wire the UART to its interrupt line and output sink (either may be NULL)
 * and put it in its power-on state. */
void uart16550_init(struct uart16550 *uart, struct irq_line *irq, const struct chardev *out);

/* How many bytes uart16550_receive would accept right now. */
size_t uart16550_can_receive(const struct uart16550 *uart);

/* Push host input into the receiver. Returns how many bytes were taken (the
 * rest should be offered again later, e.g. after the guest drained the FIFO). */
size_t uart16550_receive(struct uart16550 *uart, const uint8_t *buf, size_t len);

/* Set the modem input lines (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI |
 * UART_MSR_DCD); changes show up as MSR delta bits. Lines default to
 * CTS, DSR and DCD asserted: a host connected and ready. */
void uart16550_set_modem_inputs(struct uart16550 *uart, uint8_t lines);

/* Register offsets and bits, PC16550D datasheet section 8 "Registers" (Table II). */
enum {
    UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
    UART_IER = 1, UART_DLM = 1,
    UART_IIR = 2, UART_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

enum {
    UART_IER_ERBFI = 0x01,      /* received data available */
    UART_IER_ETBEI = 0x02,      /* transmitter holding register empty */
    UART_IER_ELSI = 0x04,       /* receiver line status */
    UART_IER_EDSSI = 0x08,      /* modem status */

    UART_IIR_NO_INT = 0x01,
    UART_IIR_ID_MASK = 0x0e,
    UART_IIR_MSI = 0x00,
    UART_IIR_THRI = 0x02,
    UART_IIR_RDI = 0x04,
    UART_IIR_RLSI = 0x06,
    UART_IIR_CTI = 0x0c,        /* character timeout */
    UART_IIR_FIFO_ENABLED = 0xc0,

    UART_FCR_ENABLE = 0x01,
    UART_FCR_CLEAR_RCVR = 0x02,
    UART_FCR_CLEAR_XMIT = 0x04,
    UART_FCR_DMA_SELECT = 0x08,
    UART_FCR_TRIGGER_MASK = 0xc0,

    UART_LCR_DLAB = 0x80,

    UART_MCR_DTR = 0x01,
    UART_MCR_RTS = 0x02,
    UART_MCR_OUT1 = 0x04,
    UART_MCR_OUT2 = 0x08,
    UART_MCR_LOOP = 0x10,

    UART_LSR_DR = 0x01,
    UART_LSR_OE = 0x02,
    UART_LSR_PE = 0x04,
    UART_LSR_FE = 0x08,
    UART_LSR_BI = 0x10,
    UART_LSR_THRE = 0x20,
    UART_LSR_TEMT = 0x40,
    UART_LSR_FIFOE = 0x80,      /* error in receiver FIFO */

    UART_MSR_DCTS = 0x01,
    UART_MSR_DDSR = 0x02,
    UART_MSR_TERI = 0x04,
    UART_MSR_DDCD = 0x08,
    UART_MSR_CTS = 0x10,
    UART_MSR_DSR = 0x20,
    UART_MSR_RI = 0x40,
    UART_MSR_DCD = 0x80,
};

#endif
