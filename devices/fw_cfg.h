/* Firmware configuration device ("fw_cfg"), the interface SeaBIOS and OVMF
 * use on virtual PCs to read the machine's configuration: RAM layout, CPU
 * count, boot order, ACPI tables, option ROMs.
 *
 * Interface (as documented in QEMU's docs/specs/fw_cfg.rst, which firmware
 * follows): a 16-bit selector at port 0x510, a byte-wide data port at
 * 0x511 that reads the selected item from its start, and a DMA address
 * register at 0x514 (64-bit, big-endian; writing the low half at 0x518
 * starts the transfer). Items 0x20 and up are named files listed in the
 * file directory item.
 *
 * The items are fixed once the machine is built; the guest cannot write
 * them (a DMA write request completes with the error bit).
 */
#ifndef HOSTEL_FW_CFG_H
#define HOSTEL_FW_CFG_H

#include <stdint.h>

#include "bus.h"
#include "device.h"
#include "memory.h"

#define FW_CFG_MAX_ITEMS 64
#define FW_CFG_FILE_NAME_LEN 56
#define FW_CFG_MAX_FILES 32

/* Item keys. */
enum {
    FW_CFG_SIGNATURE = 0x00,
    FW_CFG_ID = 0x01,
    FW_CFG_UUID = 0x02,
    FW_CFG_RAM_SIZE = 0x03,
    FW_CFG_NOGRAPHIC = 0x04,
    FW_CFG_NB_CPUS = 0x05,
    FW_CFG_BOOT_MENU = 0x0e,
    FW_CFG_MAX_CPUS = 0x0f,
    FW_CFG_FILE_DIR = 0x19,
    FW_CFG_FILE_FIRST = 0x20,
    FW_CFG_WRITE_CHANNEL = 0x4000,
    FW_CFG_ARCH_LOCAL = 0x8000,
};

/* FW_CFG_ID feature bits. */
enum {
    FW_CFG_VERSION_TRADITIONAL = 1u << 0,
    FW_CFG_VERSION_DMA = 1u << 1,
};

/* DMA control word bits. */
enum {
    FW_CFG_DMA_ERROR = 1u << 0,
    FW_CFG_DMA_READ = 1u << 1,
    FW_CFG_DMA_SKIP = 1u << 2,
    FW_CFG_DMA_SELECT = 1u << 3,
    FW_CFG_DMA_WRITE = 1u << 4,
};

/* Reading 8 bytes at 0x514 returns "QEMU CFG" (big-endian). */
#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ull

struct fw_cfg_item {
    uint16_t key;
    uint32_t len;
    uint8_t *data;      /* owned copy */
};

struct fw_cfg {
    /* Wiring and content (not saved: rebuilt from the configuration). */
    struct guest_mem *mem;
    struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
    unsigned nitems;
    unsigned nfiles;

    /* Saved. */
    uint16_t selector;
    uint32_t offset;            /* read position in the selected item */
    uint32_t dma_addr_high;     /* host order */
};

extern const struct device_ops fw_cfg_device_ops;
/* Map at 0x510, length 2: selector (16-bit) and data (8-bit). */
extern const struct bus_ops fw_cfg_io_bus_ops;
/* Map at 0x514, length 8: the DMA address register. */
extern const struct bus_ops fw_cfg_dma_bus_ops;

/* Empty device with the signature, ID and file directory items. */
void fw_cfg_init(struct fw_cfg *fw, struct guest_mem *mem);

/* Add an item (key < 0x20 or arch-local) or a named file. data is copied.
 * Return 0, or -1 if the key is taken or out of range, the name is empty,
 * too long or taken, or the device is full. */
int fw_cfg_add(struct fw_cfg *fw, uint16_t key, const void *data, uint32_t len);
int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t key, uint16_t value);
int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t key, uint64_t value);
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t len);

/* The item behind a key, or NULL (for the board and tests). */
const struct fw_cfg_item *fw_cfg_find(const struct fw_cfg *fw, uint16_t key);

#endif
