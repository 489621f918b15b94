/* The PC board for direct kernel boot: which devices exist, at which ports,
 * on which interrupt lines. */
#ifndef HOSTEL_PC_H
#define HOSTEL_PC_H

#include <stdbool.h>
#include <stddef.h>

#include "boot.h"
#include "chardev.h"
#include "vm.h"

struct vm;
struct pc;
struct uart16550;
struct blockdev;
struct display;

struct pc_config {
    /* BIOS image to start from, or NULL to boot a kernel directly
     * (boot.c prepares memory and pc_set_boot_state the vCPU). */
    const char *firmware;
    uint8_t uuid[16];                     /* the machine's UUID (SMBIOS, fw_cfg) */
    const uint8_t *firmware_image;        /* its contents */
    size_t firmware_size;
    unsigned ncpus;
    const struct chardev *serial_out;     /* COM1 output; NULL drops it */
    const struct chardev *firmware_log;   /* debug port 0x402; NULL drops it */
    /* Drives (the board owns them from pc_create on, even when it fails):
     * disks on the primary IDE master, the primary slave and the secondary
     * slave, in that order; a CD-ROM drive on the secondary master, with
     * cdrom as its medium (NULL: empty). */
    struct blockdev *disks[VM_MAX_DISKS];
    unsigned ndisks;
    bool cdrom_drive;
    struct blockdev *cdrom;
    /* Firmware only: */
    const char *boot_order;               /* "cd,disk" style list; NULL = cd,disk */
    unsigned boot_menu_ms;                /* show the boot menu this long (0: no menu) */
    const uint8_t *vga_rom;               /* the VGA option ROM, or NULL */
    size_t vga_rom_size;
    /* A Linux kernel to boot through the firmware (fwboot.h), or NULL. */
    const uint8_t *kernel;
    size_t kernel_size;
    const uint8_t *initrd;
    size_t initrd_size;
    const char *cmdline;
    const uint8_t *linuxboot_rom;
    size_t linuxboot_rom_size;
};

/* Create and map the board's devices. Returns NULL with a sentence in err
 * on failure. */
struct pc *pc_create(struct vm *vm, const struct pc_config *cfg, char *err, size_t errlen);
void pc_destroy(struct pc *pc);

/* Put the boot vCPU (vCPU 0) in the state the boot protocol wants. */
int pc_set_boot_state(struct vm *vm, const struct boot_result *boot, char *err, size_t errlen);

/* The first serial port, for the console's input. */
struct uart16550 *pc_uart(struct pc *pc);

/* Host input and screen, called with the VM's device lock held (control.c).
 * The functions returning int return 0, or -1 with a sentence in err. */
/* Queue keys for the guest's keyboard (Linux evdev codes), typed at the
 * pace the guest reads them. */
int pc_queue_key(struct pc *pc, unsigned code, bool pressed, char *err, size_t errlen);
int pc_type_text(struct pc *pc, const char *text, char *err, size_t errlen);
int pc_press_keys(struct pc *pc, const char *combo, char *err, size_t errlen);
void pc_mouse_event(struct pc *pc, int dx, int dy, int dz, unsigned buttons);
/* Whether the guest drives the tablet (an absolute pointer). */
bool pc_pointer_absolute(struct pc *pc);
/* The tablet's pointer to pixel (x, y) of the screen in its current mode,
 * with wheel clicks and buttons as for pc_mouse_event. Fails when the
 * guest does not drive the tablet. */
int pc_pointer_event(struct pc *pc, unsigned x, unsigned y, int dz, unsigned buttons, char *err, size_t errlen);
/* Press the ACPI power button. */
void pc_power_button(struct pc *pc);
/* Write what the screen shows as a PNG. */
int pc_screenshot(struct pc *pc, const char *path, char *err, size_t errlen);
/* Render the screen into the shared display and return it. */
struct display *pc_render(struct pc *pc);
/* Put the ISO at path into the CD-ROM drive (NULL: eject the medium). */
int pc_change_cdrom(struct pc *pc, const char *path, char *err, size_t errlen);
/* Feed bytes to the serial console's input; returns how many it took. */
size_t pc_console_input(struct pc *pc, const uint8_t *data, size_t len);
/* The text-mode screen, one line per row. */
int pc_screen_text(struct pc *pc, char *buf, size_t cap, char *err, size_t errlen);

/* Internal to the board (pc_input.c): set up the typing timer. */
int pc_input_init(struct pc *pc);

#endif
