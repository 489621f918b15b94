/* IRQ line: a tiny object a device raises and lowers without knowing where
 * it lands (KVM's in-kernel irqchip, a userspace PIC, or a test probe). */
#ifndef HOSTEL_IRQ_H
#define HOSTEL_IRQ_H

#include <stdbool.h>

struct irq_line {
    /* Called with the new level (0 or 1) whenever it changes or is pulsed. */
    void (*set)(void *opaque, unsigned n, int level);
    void *opaque;
    unsigned n;     /* line number passed back to set(), e.g. a GSI */
    int level;      /* last level set, for save/restore and tests */
};

/* Initialise a line that forwards to set(opaque, n, level). */
void irq_line_init(struct irq_line *line, void (*set)(void *, unsigned, int),
                   void *opaque, unsigned n);
/* Drive the line to level (0/1). A line with no sink is silently ignored. */
void irq_set_level(struct irq_line *line, int level);
static inline void irq_raise(struct irq_line *line) { irq_set_level(line, 1); }
static inline void irq_lower(struct irq_line *line) { irq_set_level(line, 0); }
/* Edge: raise then lower. */
void irq_pulse(struct irq_line *line);

#endif
