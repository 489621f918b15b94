/* Tiny freestanding runtime for the test guests: port I/O, a polled
 * serial console, and the debug-exit port (isa-debug-exit at 0xf4). */
#ifndef HOSTEL_TEST_GUEST_H
#define HOSTEL_TEST_GUEST_H

#include <stdint.h>

/* Written to the debug-exit port: the VM exits with (v << 1) | 1. */
#define GUEST_PASS 0x2a   /* exit status 85 */
#define GUEST_FAIL 0x15   /* exit status 43 */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void mmio_write32(uint32_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static inline uint32_t mmio_read32(uint32_t addr) { return *(volatile uint32_t *)addr; }

void serial_init(void);
void print(const char *s);
void print_hex(uint32_t v);
void print_dec(uint32_t v);
/* Report a failed check and exit with GUEST_FAIL. */
void fail(const char *what);
#define CHECK(cond) do { if (!(cond)) fail(#cond); } while (0)
__attribute__((noreturn)) void guest_exit(uint32_t code);

/* The test's body: return GUEST_PASS or call fail(). */
uint32_t guest_main(uint32_t magic, uint32_t mbi);

#endif
