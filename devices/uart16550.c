/* 16550A UART.
 *
 * Register behaviour follows the National Semiconductor (now TI) PC16550D
 * datasheet, section 8 "Registers"; section numbers below refer to it.
 *
 * What is deliberately not modelled:
 *  - Baud-rate timing: a byte written to THR reaches the sink at once, so
 *    THRE/TEMT read back set and the TX FIFO never holds anything.
 *  - The LCR word length/parity: bytes pass through whole, as in QEMU and
 *    kvmtool, so a guest that prints before programming LCR (reset value 5
 *    data bits) is still readable. Parity, framing and break errors never
 *    occur; the only receive error is overrun, which needs loopback (host
 *    input is back-pressured through uart16550_can_receive).
 *  - The character timeout's four character times: with no line timing, the
 *    timeout indication is raised as soon as data sits below the trigger
 *    level. Linux's 8250 driver drains the FIFO on either indication, so it
 *    cannot tell the difference.
 */
#include "uart16550.h"

#include <string.h>

#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI | UART_LSR_FIFOE)
#define UART_MSR_DELTAS (UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_TERI | UART_MSR_DDCD)
#define UART_MSR_LINES (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCD)
#define UART_FCR_STORED (UART_FCR_ENABLE | UART_FCR_DMA_SELECT | UART_FCR_TRIGGER_MASK)

static bool uart16550_fifo_enabled(const struct uart16550 *u)
{
    return u->fcr & UART_FCR_ENABLE;
}

/* In 16450 mode (FCR0 = 0) the receiver holds a single byte in RBR. */
static unsigned uart16550_rx_capacity(const struct uart16550 *u)
{
    return uart16550_fifo_enabled(u) ? UART16550_FIFO_SIZE : 1;
}

/* Section 8.5: FCR bits 7-6 select 1, 4, 8 or 14 bytes. */
static unsigned uart16550_rx_trigger(const struct uart16550 *u)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return levels[(u->fcr & UART_FCR_TRIGGER_MASK) >> 6];
}

/* Section 8.6, Table IV: the pending interrupt of highest priority. */
static uint8_t uart16550_iir_id(const struct uart16550 *u)
{
    if ((u->ier & UART_IER_ELSI) && (u->lsr & UART_LSR_ERRORS))
        return UART_IIR_RLSI;
    if ((u->ier & UART_IER_ERBFI) && u->rx_count) {
        if (!uart16550_fifo_enabled(u) || u->rx_count >= uart16550_rx_trigger(u))
            return UART_IIR_RDI;
        return UART_IIR_CTI;
    }
    if ((u->ier & UART_IER_ETBEI) && u->thr_ipending)
        return UART_IIR_THRI;
    if ((u->ier & UART_IER_EDSSI) && (u->msr & UART_MSR_DELTAS))
        return UART_IIR_MSI;
    return UART_IIR_NO_INT;
}

/* On PCs the INTR pin reaches the PIC through a buffer enabled by OUT2
 * (which is why Linux sets OUT2 on PC ports). In loopback the OUT pins are
 * forced inactive (section 8.8), so the buffer is off and no IRQ leaves the
 * card even though IIR still reports the interrupt. */
static void uart16550_update_irq(struct uart16550 *u)
{
    int level = uart16550_iir_id(u) != UART_IIR_NO_INT &&
                (u->mcr & UART_MCR_OUT2) && !(u->mcr & UART_MCR_LOOP);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set_level(u->irq, level);
    }
}

/* Recompute the MSR line bits (section 8.9) and latch the deltas. In loopback
 * the modem inputs are wired to the MCR outputs: CTS=RTS, DSR=DTR, RI=OUT1,
 * DCD=OUT2. */
static void uart16550_update_msr(struct uart16550 *u)
{
    uint8_t lines;
    if (u->mcr & UART_MCR_LOOP) {
        lines = ((u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
                ((u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
                ((u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
                ((u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
    } else {
        lines = u->modem_inputs & UART_MSR_LINES;
    }
    uint8_t changed = (u->msr ^ lines) & UART_MSR_LINES;
    uint8_t delta = 0;
    if (changed & UART_MSR_CTS)
        delta |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR)
        delta |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD)
        delta |= UART_MSR_DDCD;
    /* TERI is set only on the trailing edge of RI (RI going inactive). */
    if ((changed & UART_MSR_RI) && !(lines & UART_MSR_RI))
        delta |= UART_MSR_TERI;
    u->msr = (uint8_t)((u->msr & UART_MSR_DELTAS) | delta | lines);
}

static void uart16550_rx_clear(struct uart16550 *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* A byte reaches the receiver shift register. When there is no room the byte
 * overruns (section 8.4, LSR bit 1): in FIFO mode it is lost, in 16450 mode
 * it overwrites RBR. */
static void uart16550_rx_push(struct uart16550 *u, uint8_t byte)
{
    unsigned cap = uart16550_rx_capacity(u);
    if (u->rx_count >= cap) {
        u->lsr |= UART_LSR_OE;
        if (!uart16550_fifo_enabled(u)) {
            u->rx_head = 0;
            u->rx_count = 1;
            u->rx_fifo[0] = byte;
        }
        return;
    }
    u->rx_fifo[(u->rx_head + u->rx_count) % UART16550_FIFO_SIZE] = byte;
    u->rx_count++;
}

static uint8_t uart16550_rx_pop(struct uart16550 *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t byte = u->rx_fifo[u->rx_head];
    u->rx_head = (uint8_t)((u->rx_head + 1) % UART16550_FIFO_SIZE);
    u->rx_count--;
    return byte;
}

static uint8_t uart16550_lsr_value(const struct uart16550 *u)
{
    /* The transmitter is always idle: THRE and TEMT stay set. */
    return (uint8_t)((u->lsr & UART_LSR_ERRORS) | (u->rx_count ? UART_LSR_DR : 0) |
                     UART_LSR_THRE | UART_LSR_TEMT);
}

static void uart16550_transmit(struct uart16550 *u, uint8_t byte)
{
    if (u->mcr & UART_MCR_LOOP)
        uart16550_rx_push(u, byte);
    else if (u->out && u->out->write)
        u->out->write(u->out->opaque, &byte, 1);
    /* The holding register is empty again straight away. */
    u->thr_ipending = 1;
}

static void uart16550_write_fcr(struct uart16550 *u, uint8_t val)
{
    bool was_enabled = uart16550_fifo_enabled(u);
    if (!(val & UART_FCR_ENABLE)) {
        /* Section 8.5: the other bits are only programmed while FCR0 is
         * set, and leaving FIFO mode clears both FIFOs. */
        if (was_enabled)
            uart16550_rx_clear(u);
        u->fcr = 0;
        return;
    }
    if (!was_enabled || (val & UART_FCR_CLEAR_RCVR))
        uart16550_rx_clear(u);
    /* FCR2 (clear XMIT) has nothing to clear: the TX FIFO is always empty. */
    u->fcr = val & UART_FCR_STORED;
}

static uint8_t uart16550_reg_read(struct uart16550 *u, unsigned reg)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    uint8_t val;
    switch (reg) {
    case UART_RBR:
        if (dlab)
            return u->dll;
        val = uart16550_rx_pop(u);
        break;
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR: {
        uint8_t id = uart16550_iir_id(u);
        /* Section 8.6: reading IIR clears a THRE interrupt it reports. */
        if (id == UART_IIR_THRI)
            u->thr_ipending = 0;
        val = (uint8_t)(id | (uart16550_fifo_enabled(u) ? UART_IIR_FIFO_ENABLED : 0));
        break;
    }
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        val = uart16550_lsr_value(u);
        u->lsr &= (uint8_t)~UART_LSR_ERRORS;
        break;
    case UART_MSR:
        val = u->msr;
        u->msr &= (uint8_t)~UART_MSR_DELTAS;
        break;
    case UART_SCR:
        return u->scr;
    default:
        return 0xff;
    }
    uart16550_update_irq(u);
    return val;
}

static void uart16550_reg_write(struct uart16550 *u, unsigned reg, uint8_t val)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_THR:
        if (dlab)
            u->dll = val;
        else
            uart16550_transmit(u, val);
        break;
    case UART_IER:
        if (dlab) {
            u->dlm = val;
            break;
        }
        /* Enabling ETBEI while THR is empty raises the THRE interrupt at
         * once; Linux's startup test (UART_BUG_THRE) relies on it. */
        if ((val & UART_IER_ETBEI) && !(u->ier & UART_IER_ETBEI))
            u->thr_ipending = 1;
        u->ier = val & 0x0f;
        break;
    case UART_FCR:
        uart16550_write_fcr(u, val);
        break;
    case UART_LCR:
        u->lcr = val;
        break;
    case UART_MCR:
        u->mcr = val & 0x1f;
        uart16550_update_msr(u);
        break;
    case UART_LSR:
    case UART_MSR:
        /* Writable only for factory test; ignore. */
        break;
    case UART_SCR:
        u->scr = val;
        break;
    default:
        return;
    }
    uart16550_update_irq(u);
}

static uint64_t uart16550_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    if (offset >= UART16550_NREGS)
        return 0xff;
    return uart16550_reg_read(opaque, (unsigned)offset);
}

static void uart16550_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset >= UART16550_NREGS)
        return;
    uart16550_reg_write(opaque, (unsigned)offset, (uint8_t)value);
}

const struct bus_ops uart16550_bus_ops = {
    .read = uart16550_bus_read,
    .write = uart16550_bus_write,
    .sizes = BUS_SIZE_1,
};

size_t uart16550_can_receive(const struct uart16550 *u)
{
    /* In loopback the serial input is disconnected from the receiver. */
    if (u->mcr & UART_MCR_LOOP)
        return 0;
    unsigned cap = uart16550_rx_capacity(u);
    return u->rx_count < cap ? cap - u->rx_count : 0;
}

size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
    size_t room = uart16550_can_receive(u);
    size_t n = len < room ? len : room;
    for (size_t i = 0; i < n; i++)
        uart16550_rx_push(u, buf[i]);
    if (n)
        uart16550_update_irq(u);
    return n;
}

void uart16550_set_modem_inputs(struct uart16550 *u, uint8_t lines)
{
    u->modem_inputs = lines & UART_MSR_LINES;
    uart16550_update_msr(u);
    uart16550_update_irq(u);
}

/* Master reset values, section 8 Table IV. The divisor latch is not touched
 * by MR; on power-up we give it 12 (9600 baud from 1.8432 MHz) like a BIOS
 * would, so it never reads as a meaningless 0. */
static void uart16550_reset(void *dev)
{
    struct uart16550 *u = dev;
    u->dll = 12;
    u->dlm = 0;
    u->ier = 0;
    u->fcr = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->lsr = 0;
    u->scr = 0;
    u->thr_ipending = 0;
    uart16550_rx_clear(u);
    memset(u->rx_fifo, 0, sizeof(u->rx_fifo));
    /* MR clears the deltas; the line bits follow the inputs. */
    u->msr = u->modem_inputs & UART_MSR_LINES;
    uart16550_update_irq(u);
}

static void uart16550_finalize(void *dev)
{
    (void)dev;
}

/* A saved stream is as hostile as the guest: bring every index back in range
 * before anything uses it, then re-drive the IRQ line. */
static void uart16550_post_load(void *dev)
{
    struct uart16550 *u = dev;
    u->ier &= 0x0f;
    u->mcr &= 0x1f;
    u->fcr &= UART_FCR_STORED;
    u->modem_inputs &= UART_MSR_LINES;
    u->thr_ipending = u->thr_ipending ? 1 : 0;
    u->rx_head %= UART16550_FIFO_SIZE;
    if (u->rx_count > uart16550_rx_capacity(u))
        u->rx_count = (uint8_t)uart16550_rx_capacity(u);
    u->irq_level = -1;
    uart16550_update_irq(u);
}

static const struct vmstate_field uart16550_vmstate_fields[] = {
    VMSTATE_FIELD(struct uart16550, dll, 1),
    VMSTATE_FIELD(struct uart16550, dlm, 1),
    VMSTATE_FIELD(struct uart16550, ier, 1),
    VMSTATE_FIELD(struct uart16550, fcr, 1),
    VMSTATE_FIELD(struct uart16550, lcr, 1),
    VMSTATE_FIELD(struct uart16550, mcr, 1),
    VMSTATE_FIELD(struct uart16550, lsr, 1),
    VMSTATE_FIELD(struct uart16550, msr, 1),
    VMSTATE_FIELD(struct uart16550, scr, 1),
    VMSTATE_FIELD(struct uart16550, modem_inputs, 1),
    VMSTATE_FIELD(struct uart16550, thr_ipending, 1),
    VMSTATE_FIELD(struct uart16550, rx_head, 1),
    VMSTATE_FIELD(struct uart16550, rx_count, 1),
    VMSTATE_FIELD(struct uart16550, rx_fifo, 1),
};

static const struct vmstate_desc uart16550_vmstate = {
    .name = "uart16550",
    .version = 1,
    .fields = uart16550_vmstate_fields,
    .nfields = sizeof(uart16550_vmstate_fields) / sizeof(uart16550_vmstate_fields[0]),
    .post_load = uart16550_post_load,
};

const struct device_ops uart16550_device_ops = {
    .name = "uart16550",
    .reset = uart16550_reset,
    .finalize = uart16550_finalize,
    .vmstate = &uart16550_vmstate,
    .size = sizeof(struct uart16550),
};

void uart16550_init(struct uart16550 *u, struct irq_line *irq, const struct chardev *out)
{
    memset(u, 0, sizeof(*u));
    u->irq = irq;
    u->out = out;
    u->irq_level = -1;
    u->modem_inputs = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    uart16550_reset(u);
}
