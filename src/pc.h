/* The PC board for direct kernel boot: which devices exist, at which ports,
 * on which interrupt lines. */
#ifndef HOSTEL_PC_H
#define HOSTEL_PC_H

#include <stddef.h>

#include "boot.h"
#include "chardev.h"

struct vm;
struct pc;
struct uart16550;

/* Create and map the board's devices. serial_out may be NULL (output
 * dropped). Returns NULL with a sentence in err on failure. */
struct pc *pc_create(struct vm *vm, const struct chardev *serial_out, char *err, size_t errlen);
void pc_destroy(struct pc *pc);

/* Put the boot vCPU (vCPU 0) in the state the boot protocol wants. */
int pc_set_boot_state(struct vm *vm, const struct boot_result *boot, char *err, size_t errlen);

/* The first serial port, for the console's input. */
struct uart16550 *pc_uart(struct pc *pc);

#endif
