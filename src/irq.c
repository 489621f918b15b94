#include "irq.h"

#include <stddef.h>

void irq_line_init(struct irq_line *line, void (*set)(void *, unsigned, int),
                   void *opaque, unsigned n)
{
    line->set = set;
    line->opaque = opaque;
    line->n = n;
    line->level = 0;
}

void irq_set_level(struct irq_line *line, int level)
{
    if (!line)
        return;
    line->level = level ? 1 : 0;
    if (line->set)
        line->set(line->opaque, line->n, line->level);
}

void irq_pulse(struct irq_line *line)
{
    irq_set_level(line, 1);
    irq_set_level(line, 0);
}
