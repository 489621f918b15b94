#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "uart16550.h"
#include "rng.h"

#define COM1 0x3f8

struct fixture {
    struct uart16550 uart;
    struct irq_line irq;
    struct chardev out;
    struct bus *bus;
    int level;
    unsigned edges;             /* 0 -> 1 transitions */
    uint8_t sent[4096];
    size_t nsent;
};

static void probe_set(void *opaque, unsigned n, int level)
{
    struct fixture *f = opaque;
    if (level && !f->level)
        f->edges++;
    f->level = level;
}

static void sink_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct fixture *f = opaque;
    for (size_t i = 0; i < len; i++)
        f->sent[f->nsent++ % sizeof(f->sent)] = buf[i];
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    irq_line_init(&f->irq, probe_set, f, 4);
    f->out.write = sink_write;
    f->out.opaque = f;
    uart16550_init(&f->uart, &f->irq, &f->out);
    f->bus = bus_new("pio", 0x10000);
    assert_int_equal(bus_map(f->bus, COM1, 8, &uart16550_bus_ops, &f->uart, "com1"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    uart16550_device_ops.finalize(&f->uart);
    bus_free(f->bus);
    free(f);
    return 0;
}

static uint8_t inb(struct fixture *f, unsigned reg)
{
    uint8_t v = 0;
    bus_read(f->bus, COM1 + reg, &v, 1);
    return v;
}

static void outb(struct fixture *f, unsigned reg, uint8_t v)
{
    bus_write(f->bus, COM1 + reg, &v, 1);
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(inb(f, UART_IER), 0x00);
    assert_int_equal(inb(f, UART_IIR), 0x01);
    assert_int_equal(inb(f, UART_LCR), 0x00);
    assert_int_equal(inb(f, UART_MCR), 0x00);
    assert_int_equal(inb(f, UART_LSR), 0x60);
    assert_int_equal(inb(f, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
    assert_int_equal(inb(f, UART_SCR), 0x00);
    assert_int_equal(inb(f, UART_RBR), 0x00);
    outb(f, UART_LCR, UART_LCR_DLAB);
    assert_int_equal(inb(f, UART_DLL), 12);
    assert_int_equal(inb(f, UART_DLM), 0);
    assert_int_equal(f->level, 0);

    /* Dirty everything, reset, and check again. */
    outb(f, UART_DLL, 1);
    outb(f, UART_LCR, 0x03);
    outb(f, UART_IER, 0x0f);
    outb(f, UART_FCR, 0xc7);
    outb(f, UART_MCR, 0x0b);
    outb(f, UART_SCR, 0x5a);
    uart16550_receive(&f->uart, (const uint8_t *)"abc", 3);
    assert_int_equal(f->level, 1);
    uart16550_device_ops.reset(&f->uart);
    assert_int_equal(f->level, 0);
    assert_int_equal(inb(f, UART_IIR), 0x01);
    assert_int_equal(inb(f, UART_LSR), 0x60);
    assert_int_equal(inb(f, UART_SCR), 0);
    assert_int_equal(uart16550_can_receive(&f->uart), 1);
}

static void test_scratch_and_divisor(void **state)
{
    struct fixture *f = *state;
    outb(f, UART_SCR, 0xa5);
    assert_int_equal(inb(f, UART_SCR), 0xa5);
    outb(f, UART_LCR, UART_LCR_DLAB | 0x03);
    outb(f, UART_DLL, 0x01);
    outb(f, UART_DLM, 0x02);
    assert_int_equal(inb(f, UART_DLL), 0x01);
    assert_int_equal(inb(f, UART_DLM), 0x02);
    outb(f, UART_LCR, 0x03);
    /* With DLAB clear the same offsets are THR/IER. */
    assert_int_equal(inb(f, UART_IER), 0);
    outb(f, UART_IER, 0xff);
    assert_int_equal(inb(f, UART_IER), 0x0f);
    assert_int_equal(f->nsent, 0);
}

static void test_transmit_and_thre_irq(void **state)
{
    struct fixture *f = *state;
    outb(f, UART_LCR, 0x03);
    outb(f, UART_THR, 'h');
    outb(f, UART_THR, 'i');
    assert_int_equal(f->nsent, 2);
    assert_memory_equal(f->sent, "hi", 2);
    assert_int_equal(inb(f, UART_LSR) & 0x60, 0x60);
    /* No interrupt without ETBEI, and none on the pin without OUT2. */
    assert_int_equal(inb(f, UART_IIR), 0x01);
    outb(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(f->level, 0);
    outb(f, UART_MCR, UART_MCR_OUT2);
    assert_int_equal(f->level, 1);
    /* Reading IIR reports THRE once and clears it. */
    assert_int_equal(inb(f, UART_IIR), UART_IIR_THRI);
    assert_int_equal(f->level, 0);
    assert_int_equal(inb(f, UART_IIR), UART_IIR_NO_INT);
    /* Writing THR makes it empty again at once: a new THRE interrupt. */
    outb(f, UART_THR, '!');
    assert_int_equal(f->level, 1);
    assert_int_equal(f->edges, 2);
    /* Linux's UART_BUG_THRE probe: toggling ETBEI re-raises THRE. */
    assert_int_equal(inb(f, UART_IIR), UART_IIR_THRI);
    outb(f, UART_IER, 0);
    outb(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(inb(f, UART_IIR), UART_IIR_THRI);
}

static void test_rx_fifo_trigger_and_timeout(void **state)
{
    struct fixture *f = *state;
    uint8_t data[20];
    for (int i = 0; i < 20; i++)
        data[i] = (uint8_t)('A' + i);
    /* 16450 mode: one byte of room. */
    assert_int_equal(uart16550_can_receive(&f->uart), 1);
    outb(f, UART_FCR, UART_FCR_ENABLE | 0x80);      /* trigger level 8 */
    assert_int_equal(inb(f, UART_IIR), 0xc1);
    assert_int_equal(uart16550_can_receive(&f->uart), 16);
    outb(f, UART_IER, UART_IER_ERBFI);
    outb(f, UART_MCR, UART_MCR_OUT2);
    assert_int_equal(uart16550_receive(&f->uart, data, 3), 3);
    /* Below the trigger: character timeout indication. */
    assert_int_equal(inb(f, UART_IIR), 0xc0 | UART_IIR_CTI);
    assert_int_equal(f->level, 1);
    assert_int_equal(uart16550_receive(&f->uart, data + 3, 17), 13);
    assert_int_equal(uart16550_can_receive(&f->uart), 0);
    assert_int_equal(uart16550_receive(&f->uart, data, 1), 0);
    assert_int_equal(inb(f, UART_IIR), 0xc0 | UART_IIR_RDI);
    for (int i = 0; i < 9; i++)
        assert_int_equal(inb(f, UART_RBR), 'A' + i);
    /* 7 left, below 8. */
    assert_int_equal(inb(f, UART_IIR), 0xc0 | UART_IIR_CTI);
    for (int i = 9; i < 16; i++) {
        assert_true(inb(f, UART_LSR) & UART_LSR_DR);
        assert_int_equal(inb(f, UART_RBR), 'A' + i);
    }
    assert_false(inb(f, UART_LSR) & UART_LSR_DR);
    assert_int_equal(inb(f, UART_IIR), 0xc1);
    assert_int_equal(f->level, 0);
    assert_false(inb(f, UART_LSR) & UART_LSR_OE);   /* host input never overruns */

    /* FCR1 clears the receive FIFO; FCR0=0 leaves FIFO mode and clears too. */
    uart16550_receive(&f->uart, data, 5);
    outb(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
    assert_false(inb(f, UART_LSR) & UART_LSR_DR);
    uart16550_receive(&f->uart, data, 5);
    outb(f, UART_FCR, 0);
    assert_false(inb(f, UART_LSR) & UART_LSR_DR);
    assert_int_equal(inb(f, UART_IIR), 0x01);
    /* 16450 mode: a single byte is "data available", not a timeout. */
    assert_int_equal(uart16550_receive(&f->uart, data, 5), 1);
    assert_int_equal(inb(f, UART_IIR), UART_IIR_RDI);
}

static void test_trigger_levels(void **state)
{
    struct fixture *f = *state;
    static const unsigned levels[4] = { 1, 4, 8, 14 };
    uint8_t data[16] = { 0 };
    outb(f, UART_IER, UART_IER_ERBFI);
    for (unsigned t = 0; t < 4; t++) {
        outb(f, UART_FCR, (uint8_t)(UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | (t << 6)));
        for (unsigned n = 1; n <= 16; n++) {
            uart16550_receive(&f->uart, data, 1);
            uint8_t want = n >= levels[t] ? UART_IIR_RDI : UART_IIR_CTI;
            assert_int_equal(inb(f, UART_IIR), 0xc0 | want);
        }
    }
}

static void test_loopback(void **state)
{
    struct fixture *f = *state;
    /* Linux's autoconfig loopback check: MCR = LOOP|OUT2|RTS gives
     * MSR lines CTS|DCD = 0x90. */
    outb(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    assert_int_equal(inb(f, UART_MSR) & 0xf0, 0x90);
    outb(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1 | UART_MCR_DTR);
    assert_int_equal(inb(f, UART_MSR), UART_MSR_RI | UART_MSR_DSR | UART_MSR_DCTS |
                                       UART_MSR_DDSR | UART_MSR_DDCD);
    /* RI going inactive is the TERI edge. */
    outb(f, UART_MCR, UART_MCR_LOOP);
    assert_int_equal(inb(f, UART_MSR), UART_MSR_TERI | UART_MSR_DDSR);

    outb(f, UART_FCR, UART_FCR_ENABLE);
    outb(f, UART_IER, UART_IER_ERBFI | UART_IER_ELSI);
    outb(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    for (int i = 0; i < 16; i++)
        outb(f, UART_THR, (uint8_t)i);
    assert_int_equal(f->nsent, 0);          /* nothing leaves the chip */
    assert_int_equal(uart16550_can_receive(&f->uart), 0);
    assert_int_equal(inb(f, UART_IIR), 0xc0 | UART_IIR_RDI);
    /* IIR reports it but the OUT2 buffer is off in loopback. */
    assert_int_equal(f->level, 0);
    outb(f, UART_THR, 0x99);                /* overrun: lost in FIFO mode */
    assert_int_equal(inb(f, UART_IIR), 0xc0 | UART_IIR_RLSI);
    assert_int_equal(inb(f, UART_LSR), UART_LSR_OE | UART_LSR_DR | 0x60);
    assert_int_equal(inb(f, UART_LSR), UART_LSR_DR | 0x60);
    for (int i = 0; i < 16; i++)
        assert_int_equal(inb(f, UART_RBR), i);
    assert_int_equal(inb(f, UART_IIR), 0xc1);
    /* Leaving loopback: the pin follows IIR again. */
    outb(f, UART_MCR, UART_MCR_OUT2);
    outb(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(f->level, 1);

    /* 16450-mode overrun overwrites RBR. */
    outb(f, UART_IER, 0);
    outb(f, UART_FCR, 0);
    outb(f, UART_MCR, UART_MCR_LOOP);
    outb(f, UART_THR, 1);
    outb(f, UART_THR, 2);
    assert_int_equal(inb(f, UART_LSR) & UART_LSR_OE, UART_LSR_OE);
    assert_int_equal(inb(f, UART_RBR), 2);
}

static void test_priority_and_modem_status(void **state)
{
    struct fixture *f = *state;
    outb(f, UART_MCR, UART_MCR_OUT2);
    outb(f, UART_IER, UART_IER_EDSSI);
    assert_int_equal(f->level, 0);
    uart16550_set_modem_inputs(&f->uart, UART_MSR_DSR | UART_MSR_RI);
    assert_int_equal(f->level, 1);
    assert_int_equal(inb(f, UART_IIR), UART_IIR_MSI);
    /* Enable everything: THRE outranks modem status... */
    outb(f, UART_IER, 0x0f);
    assert_int_equal(inb(f, UART_IIR), UART_IIR_THRI);   /* and the read clears it */
    assert_int_equal(inb(f, UART_IIR), UART_IIR_MSI);
    /* ...received data outranks THRE... */
    outb(f, UART_THR, 'x');
    uart16550_receive(&f->uart, (const uint8_t *)"y", 1);
    assert_int_equal(inb(f, UART_IIR), UART_IIR_RDI);
    /* ...and line status outranks everything (make an overrun). */
    outb(f, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
    outb(f, UART_THR, 'z');
    assert_int_equal(inb(f, UART_IIR), UART_IIR_RLSI);
    outb(f, UART_MCR, UART_MCR_OUT2);
    assert_true(inb(f, UART_LSR) & UART_LSR_OE);
    assert_int_equal(inb(f, UART_IIR), UART_IIR_RDI);
    assert_int_equal(inb(f, UART_RBR), 'z');
    assert_int_equal(inb(f, UART_IIR), UART_IIR_THRI);
    /* CTS and DCD dropped since reset: their deltas are latched. */
    uint8_t msr = inb(f, UART_MSR);
    assert_int_equal(msr & 0xf0, UART_MSR_DSR | UART_MSR_RI);
    assert_int_equal(msr & UART_MSR_DCTS, UART_MSR_DCTS);
    assert_int_equal(msr & UART_MSR_DDCD, UART_MSR_DDCD);
    assert_int_equal(inb(f, UART_MSR) & 0x0f, 0);
    assert_int_equal(inb(f, UART_IIR), UART_IIR_NO_INT);
    assert_int_equal(f->level, 0);
}

static void test_vmstate_roundtrip(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = uart16550_device_ops.vmstate;
    outb(f, UART_LCR, UART_LCR_DLAB);
    outb(f, UART_DLL, 3);
    outb(f, UART_LCR, 0x1b);
    outb(f, UART_FCR, 0x41);
    outb(f, UART_IER, 0x07);
    outb(f, UART_MCR, 0x0b);
    outb(f, UART_SCR, 0x77);
    uart16550_receive(&f->uart, (const uint8_t *)"hello", 5);
    (void)inb(f, UART_RBR);
    assert_int_equal(f->level, 1);

    uint8_t buf[512], buf2[512];
    long n = vmstate_save(desc, &f->uart, buf, sizeof(buf));
    assert_true(n > 0);

    /* Change everything, then restore. */
    uart16550_device_ops.reset(&f->uart);
    outb(f, UART_SCR, 0x11);
    uart16550_receive(&f->uart, (const uint8_t *)"Z", 1);
    assert_int_equal(f->level, 0);
    char err[200];
    assert_int_equal(vmstate_load(desc, &f->uart, uart16550_device_ops.size, buf, (size_t)n,
                                  err, sizeof(err)), 0);
    assert_int_equal(f->level, 1);          /* post_load re-drove the line */
    long n2 = vmstate_save(desc, &f->uart, buf2, sizeof(buf2));
    assert_int_equal(n, n2);
    assert_memory_equal(buf, buf2, (size_t)n);
    assert_int_equal(inb(f, UART_SCR), 0x77);
    assert_int_equal(inb(f, UART_LCR), 0x1b);
    /* Four bytes left at trigger level 4: data available. */
    assert_int_equal(inb(f, UART_IIR), 0xc0 | UART_IIR_RDI);
    assert_int_equal(inb(f, UART_RBR), 'e');
}

static void test_vmstate_hostile(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = uart16550_device_ops.vmstate;
    /* A stream with out-of-range indices must be tamed, not trusted. */
    struct uart16550 evil = f->uart;
    evil.rx_head = 200;
    evil.rx_count = 250;
    evil.fcr = 0xff;
    uint8_t buf[512];
    long n = vmstate_save(desc, &evil, buf, sizeof(buf));
    char err[200];
    assert_int_equal(vmstate_load(desc, &f->uart, sizeof(f->uart), buf, (size_t)n, err, sizeof(err)), 0);
    assert_true(f->uart.rx_head < UART16550_FIFO_SIZE);
    assert_true(f->uart.rx_count <= UART16550_FIFO_SIZE);
    for (int i = 0; i < 40; i++)
        (void)inb(f, UART_RBR);
    assert_int_equal(f->uart.rx_count, 0);
}

static void test_random_access(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 0x16550u;
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng_next(&seed);
        unsigned size = 1u << (r & 3);
        uint64_t addr = COM1 - 4 + ((r >> 2) % 16);
        uint64_t val = ((uint64_t)rng_next(&seed) << 32) | rng_next(&seed);
        switch ((r >> 8) % 8) {
        case 0: case 1: case 2:
            bus_write(f->bus, addr, &val, size);
            break;
        case 3: case 4: case 5:
            bus_read(f->bus, addr, &val, size);
            break;
        case 6: {
            uint8_t in[24];
            memset(in, (int)r, sizeof(in));
            uart16550_receive(&f->uart, in, (r >> 16) % sizeof(in));
            break;
        }
        default:
            if ((r >> 16) % 64 == 0)
                uart16550_set_modem_inputs(&f->uart, (uint8_t)(r >> 24));
            if ((r >> 16) % 4096 == 1)
                uart16550_device_ops.reset(&f->uart);
            break;
        }
        assert_true(f->uart.rx_count <= UART16550_FIFO_SIZE);
        assert_true(f->uart.rx_head < UART16550_FIFO_SIZE);
        assert_int_equal(f->level, f->uart.irq_level);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scratch_and_divisor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transmit_and_thre_irq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_fifo_trigger_and_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_and_modem_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
