/* SMBIOS tables for the firmware: the 32-bit ("_SM_", SMBIOS 2.8) entry
 * point and the structure table, handed to SeaBIOS as the fw_cfg files
 * "etc/smbios/smbios-anchor" and "etc/smbios/smbios-tables". SeaBIOS
 * copies the table to guest memory, writes its address into the entry
 * point, recomputes both checksums and places the entry point in the
 * F segment, where the guest OS finds it.
 *
 * Structures (DMTF DSP0134, "System Management BIOS Reference
 * Specification", section 7): BIOS (type 0), system (1), chassis (3), one
 * processor per vCPU (4), physical memory array (16), one memory device
 * holding all RAM (17), one mapped address range for RAM below 4 GiB and
 * one for RAM above it (19), system boot information (32), end of table
 * (127). Handles are sequential from 0.
 */
#ifndef HOSTEL_SMBIOS_H
#define HOSTEL_SMBIOS_H

#include <stddef.h>
#include <stdint.h>

/* The file names SeaBIOS looks for. */
#define SMBIOS_ANCHOR_FILE "etc/smbios/smbios-anchor"
#define SMBIOS_TABLES_FILE "etc/smbios/smbios-tables"

/* Section 5.2.1: the 32-bit entry point is 1Fh bytes; SeaBIOS takes the
 * anchor file only if it is exactly this long. */
#define SMBIOS_ANCHOR_LEN 0x1Fu
/* Its structure table length field is a WORD. */
#define SMBIOS_TABLE_MAX 0xFFFFu
/* Strings are cut to this many bytes (section 6.1.3 recommends 64). */
#define SMBIOS_STRING_MAX 64u

/* Entry point field offsets (section 5.2.1, table 1). */
#define SMBIOS_EP_CHECKSUM 0x04u
#define SMBIOS_EP_LENGTH 0x05u
#define SMBIOS_EP_MAJOR 0x06u
#define SMBIOS_EP_MINOR 0x07u
#define SMBIOS_EP_MAX_STRUCT 0x08u
#define SMBIOS_EP_REVISION 0x0Au
#define SMBIOS_EP_DMI_ANCHOR 0x10u
#define SMBIOS_EP_DMI_CHECKSUM 0x15u
#define SMBIOS_EP_TABLE_LEN 0x16u
#define SMBIOS_EP_TABLE_ADDR 0x18u
#define SMBIOS_EP_NUM_STRUCTS 0x1Cu
#define SMBIOS_EP_BCD_REVISION 0x1Eu

/* Structure types used. */
enum {
    SMBIOS_TYPE_BIOS = 0,
    SMBIOS_TYPE_SYSTEM = 1,
    SMBIOS_TYPE_CHASSIS = 3,
    SMBIOS_TYPE_PROCESSOR = 4,
    SMBIOS_TYPE_MEMORY_ARRAY = 16,
    SMBIOS_TYPE_MEMORY_DEVICE = 17,
    SMBIOS_TYPE_ARRAY_MAPPED_ADDRESS = 19,
    SMBIOS_TYPE_BOOT_INFO = 32,
    SMBIOS_TYPE_END = 127,
};

struct smbios_config {
    unsigned ncpus;
    uint64_t ram_below_4g, ram_above_4g;   /* bytes */
    uint8_t uuid[16];       /* RFC 4122 byte order, as the guest should print it */
    const char *version;    /* Hostel's version, e.g. "0.1.0"; NULL: none */
};

/* Build the entry point and the structure table. The entry point's table
 * address is 0: the firmware fills it in. Returns 0 with two malloc'd
 * buffers (the caller frees them), or -1 if the configuration cannot be
 * described (no CPU, no RAM below 4 GiB or more than 4 GiB of it, more RAM
 * than type 17 can size, or a table over 64 KiB) or memory runs out. */
int smbios_build(const struct smbios_config *cfg, uint8_t **anchor, size_t *anchor_len,
                 uint8_t **table, size_t *table_len);

#endif
