/* The PC board for direct kernel boot: which devices exist, at which ports,
 * on which interrupt lines. */
#ifndef HOSTEL_PC_H
#define HOSTEL_PC_H

#include <stdbool.h>
#include <stddef.h>

#include "boot.h"
#include "chardev.h"

struct vm;
struct pc;
struct uart16550;

struct pc_config {
    /* BIOS image to start from, or NULL to boot a kernel directly
     * (boot.c prepares memory and pc_set_boot_state the vCPU). */
    const char *firmware;
    const uint8_t *firmware_image;        /* its contents */
    size_t firmware_size;
    unsigned ncpus;
    const struct chardev *serial_out;     /* COM1 output; NULL drops it */
    const struct chardev *firmware_log;   /* debug port 0x402; NULL drops it */
    /* Firmware only: */
    const char *boot_order;               /* fw_cfg "bootorder" text, or NULL */
    bool boot_menu;                       /* show the firmware's boot menu */
    unsigned boot_menu_ms;                /* and wait this long in it */
};

/* Create and map the board's devices. Returns NULL with a sentence in err
 * on failure. */
struct pc *pc_create(struct vm *vm, const struct pc_config *cfg, char *err, size_t errlen);
void pc_destroy(struct pc *pc);

/* Put the boot vCPU (vCPU 0) in the state the boot protocol wants. */
int pc_set_boot_state(struct vm *vm, const struct boot_result *boot, char *err, size_t errlen);

/* The first serial port, for the console's input. */
struct uart16550 *pc_uart(struct pc *pc);

#endif
