/* SMBIOS entry point and structure table. Offsets and values below are
 * from DMTF DSP0134 (SMBIOS Reference Specification) 3.x; the layouts used
 * are the SMBIOS 2.8 ones, the version the entry point declares.
 *
 * Why the 32-bit "_SM_" entry point and not the 64-bit "_SM3_" one:
 * SeaBIOS (src/fw/biostables.c, smbios_romfile_setup) accepts the 31-byte
 * 2.x entry point in every release, and the 24-byte 3.0 one only since
 * 1.16. It checks the anchor file's size against the entry point it
 * expects and the tables file's size against the structure table length
 * field, then copies the tables to memory it allocates, writes their
 * address into the table address field and recomputes both checksums, so
 * that field is left 0 here. A 2.x table is limited to 64 KiB, which 64
 * vCPUs are far from filling, and every guest OS and dmidecode reads it.
 * SeaBIOS adds its own type 0 only when the tables have none; Hostel's
 * comes first, with handle 0.
 */
#include "smbios.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIB 1024ull
#define MIB (1024ull * 1024)
#define GIB (1024ull * 1024 * 1024)

/* Section 6.1.2: every structure starts with type, length, handle. */
#define SMBIOS_HEADER_LEN 4u

/* Type 0, BIOS Information (section 7.1), the 2.4+ layout. */
#define T0_VENDOR 0x04
#define T0_VERSION 0x05
#define T0_START_SEGMENT 0x06
#define T0_RELEASE_DATE 0x08
#define T0_ROM_SIZE 0x09
#define T0_CHARACTERISTICS 0x0A
#define T0_EXT1 0x12
#define T0_EXT2 0x13
#define T0_BIOS_MAJOR 0x14
#define T0_BIOS_MINOR 0x15
#define T0_EC_MAJOR 0x16
#define T0_EC_MINOR 0x17
#define T0_LEN 0x18
/* BIOS Characteristics (7.1.1, table 7). */
#define T0_CHAR_PCI (1ull << 7)
#define T0_CHAR_PNP (1ull << 9)
#define T0_CHAR_SHADOWING (1ull << 12)
#define T0_CHAR_BOOT_CD (1ull << 15)
#define T0_CHAR_SELECTABLE_BOOT (1ull << 16)
#define T0_CHAR_EDD (1ull << 19)
#define T0_CHAR_INT9_KEYBOARD (1ull << 27)
#define T0_CHAR_INT14_SERIAL (1ull << 28)
#define T0_CHAR_INT10_VIDEO (1ull << 30)
/* Extension byte 1 (7.1.2.1) and byte 2 (7.1.2.2). */
#define T0_EXT1_ACPI 0x01
#define T0_EXT2_BBS 0x01
#define T0_EXT2_TARGETED_CONTENT 0x04
#define T0_EXT2_VIRTUAL_MACHINE 0x10
/* The firmware image's last 128 KiB run at 0xE0000-0xFFFFF (PAM). */
#define T0_RUNTIME_SEGMENT 0xE000
/* ROM size is 64 KiB * (n + 1): the default image, bios-256k.bin. */
#define T0_ROM_SIZE_256K 3
#define SMBIOS_BIOS_RELEASE_DATE "11/23/2026"   /* mm/dd/yyyy */

/* Type 1, System Information (section 7.2), the 2.4+ layout. */
#define T1_MANUFACTURER 0x04
#define T1_PRODUCT 0x05
#define T1_VERSION 0x06
#define T1_SERIAL 0x07
#define T1_UUID 0x08
#define T1_WAKEUP 0x18
#define T1_SKU 0x19
#define T1_FAMILY 0x1A
#define T1_LEN 0x1B
#define T1_WAKEUP_POWER_SWITCH 0x06     /* 7.2.2 */

/* Type 3, System Enclosure (section 7.4), the 2.7+ layout with no
 * contained elements: the SKU number follows at 15h + n * m = 15h. */
#define T3_MANUFACTURER 0x04
#define T3_TYPE 0x05
#define T3_VERSION 0x06
#define T3_SERIAL 0x07
#define T3_ASSET 0x08
#define T3_BOOTUP_STATE 0x09
#define T3_PSU_STATE 0x0A
#define T3_THERMAL_STATE 0x0B
#define T3_SECURITY 0x0C
#define T3_OEM 0x0D
#define T3_HEIGHT 0x11
#define T3_POWER_CORDS 0x12
#define T3_ELEMENT_COUNT 0x13
#define T3_ELEMENT_LEN 0x14
#define T3_SKU 0x15
#define T3_LEN 0x16
#define T3_TYPE_OTHER 0x01              /* 7.4.1 */
#define T3_STATE_SAFE 0x03              /* 7.4.2 */
#define T3_SECURITY_NONE 0x03           /* 7.4.3 */

/* Type 4, Processor Information (section 7.5), the 2.6+ layout. */
#define T4_SOCKET 0x04
#define T4_TYPE 0x05
#define T4_FAMILY 0x06
#define T4_MANUFACTURER 0x07
#define T4_ID 0x08
#define T4_VERSION 0x10
#define T4_VOLTAGE 0x11
#define T4_EXTERNAL_CLOCK 0x12
#define T4_MAX_SPEED 0x14
#define T4_CURRENT_SPEED 0x16
#define T4_STATUS 0x18
#define T4_UPGRADE 0x19
#define T4_L1_HANDLE 0x1A
#define T4_L2_HANDLE 0x1C
#define T4_L3_HANDLE 0x1E
#define T4_SERIAL 0x20
#define T4_ASSET 0x21
#define T4_PART 0x22
#define T4_CORE_COUNT 0x23
#define T4_CORE_ENABLED 0x24
#define T4_THREAD_COUNT 0x25
#define T4_CHARACTERISTICS 0x26
#define T4_FAMILY2 0x28
#define T4_LEN 0x2A
#define T4_TYPE_CENTRAL 0x03            /* 7.5.1 */
#define T4_FAMILY_OTHER 0x01            /* 7.5.2: the host CPU is not known here */
#define T4_STATUS_POPULATED 0x40        /* 7.5: bit 6 */
#define T4_STATUS_ENABLED 0x01          /* bits 2:0 = 1 */
#define T4_UPGRADE_OTHER 0x01           /* 7.5.5 */
#define T4_CHAR_64BIT 0x0004            /* 7.5.9 */
#define SMBIOS_NO_HANDLE 0xFFFF         /* "no structure provided" */
#define SMBIOS_HANDLE_LAST 0xFEFF       /* 6.1.2: FF00h-FFFFh are reserved */

/* Type 16, Physical Memory Array (section 7.17), the 2.7+ layout. */
#define T16_LOCATION 0x04
#define T16_USE 0x05
#define T16_ECC 0x06
#define T16_MAX_CAPACITY 0x07
#define T16_ERROR_HANDLE 0x0B
#define T16_NUM_DEVICES 0x0D
#define T16_EXT_MAX_CAPACITY 0x0F
#define T16_LEN 0x17
#define T16_LOCATION_BOARD 0x03         /* 7.17.1 */
#define T16_USE_SYSTEM 0x03             /* 7.17.2 */
#define T16_ECC_NONE 0x03               /* 7.17.3 */
#define T16_CAPACITY_EXTENDED 0x80000000u
#define SMBIOS_NO_ERROR_INFO 0xFFFE     /* "not provided" */

/* Type 17, Memory Device (section 7.18), the 2.8 layout. */
#define T17_ARRAY_HANDLE 0x04
#define T17_ERROR_HANDLE 0x06
#define T17_TOTAL_WIDTH 0x08
#define T17_DATA_WIDTH 0x0A
#define T17_SIZE 0x0C
#define T17_FORM_FACTOR 0x0E
#define T17_DEVICE_SET 0x0F
#define T17_LOCATOR 0x10
#define T17_BANK 0x11
#define T17_TYPE 0x12
#define T17_TYPE_DETAIL 0x13
#define T17_SPEED 0x15
#define T17_MANUFACTURER 0x17
#define T17_SERIAL 0x18
#define T17_ASSET 0x19
#define T17_PART 0x1A
#define T17_ATTRIBUTES 0x1B
#define T17_EXT_SIZE 0x1C
#define T17_CONF_SPEED 0x20
#define T17_MIN_VOLTAGE 0x22
#define T17_MAX_VOLTAGE 0x24
#define T17_CONF_VOLTAGE 0x26
#define T17_LEN 0x28
#define T17_FORM_DIMM 0x09              /* 7.18.1 */
#define T17_TYPE_RAM 0x07               /* 7.18.2 */
#define T17_DETAIL_OTHER 0x0002         /* 7.18.3: bit 1 */
#define T17_SIZE_KIB 0x8000u            /* granularity bit */
#define T17_SIZE_USE_EXTENDED 0x7FFFu
#define T17_EXT_SIZE_MAX 0x7FFFFFFFu    /* bits 30:0, in MiB */

/* Type 19, Memory Array Mapped Address (section 7.20), the 2.7+ layout. */
#define T19_START 0x04
#define T19_END 0x08
#define T19_ARRAY_HANDLE 0x0C
#define T19_PARTITION_WIDTH 0x0E
#define T19_EXT_START 0x0F
#define T19_EXT_END 0x17
#define T19_LEN 0x1F
#define T19_USE_EXTENDED 0xFFFFFFFFu

/* Type 32, System Boot Information (section 7.33). */
#define T32_STATUS 0x0A
#define T32_LEN 0x0B
#define T32_NO_ERRORS 0x00

/* Type 127, End-of-Table (section 7.45). */
#define T127_LEN 0x04

struct smbios_builder {
    uint8_t *buf;           /* SMBIOS_TABLE_MAX bytes */
    size_t used;            /* end of what is written */
    size_t cur;             /* start of the structure being built */
    unsigned nstrings;      /* in the structure being built */
    unsigned next_handle;
    unsigned count;
    size_t max_size;
    bool overflow;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return (uint8_t)(0 - sum);
}

/* Start a structure with a zeroed formatted area of len bytes. Returns it,
 * or NULL once the table is full. Its handle is the next in sequence. */
static uint8_t *sb_begin(struct smbios_builder *b, uint8_t type, uint8_t len)
{
    /* Room for the formatted area and the two terminating NULs. */
    if (b->overflow || b->next_handle > SMBIOS_HANDLE_LAST ||
        SMBIOS_TABLE_MAX - b->used < (size_t)len + 2) {
        b->overflow = true;
        return NULL;
    }
    b->cur = b->used;
    uint8_t *p = b->buf + b->cur;
    memset(p, 0, len);
    p[0] = type;
    p[1] = len;
    put16(p + 2, (uint16_t)b->next_handle++);
    b->used += len;
    b->nstrings = 0;
    return p;
}

/* Append a string to the current structure's string set (section 6.1.3)
 * and return its number, or 0 ("none") for NULL or "". Strings longer than
 * SMBIOS_STRING_MAX are cut. */
static uint8_t sb_string(struct smbios_builder *b, const char *s)
{
    if (b->overflow || !s || !*s)
        return 0;
    size_t n = strnlen(s, SMBIOS_STRING_MAX);
    /* The string, its NUL and the set's final NUL must fit. */
    if (b->nstrings == 255 || SMBIOS_TABLE_MAX - b->used < n + 2) {
        b->overflow = true;
        return 0;
    }
    memcpy(b->buf + b->used, s, n);
    b->buf[b->used + n] = 0;
    b->used += n + 1;
    return (uint8_t)++b->nstrings;
}

/* Close the string set: one NUL after the last string, or two if the
 * structure has none. sb_begin and sb_string reserved the room. */
static void sb_end(struct smbios_builder *b)
{
    if (b->overflow)
        return;
    if (b->nstrings == 0)
        b->buf[b->used++] = 0;
    b->buf[b->used++] = 0;
    size_t size = b->used - b->cur;
    if (size > b->max_size)
        b->max_size = size;
    b->count++;
}

/* "X.Y..." to the System BIOS major and minor release; 0xFF for both when
 * the version has no such form (section 7.1, offsets 14h-15h). */
static void parse_release(const char *version, uint8_t *major, uint8_t *minor)
{
    *major = *minor = 0xFF;
    if (!version)
        return;
    unsigned v[2] = { 0, 0 };
    const char *p = version;
    for (int i = 0; i < 2; i++) {
        if (*p < '0' || *p > '9')
            return;
        while (*p >= '0' && *p <= '9') {
            v[i] = v[i] * 10 + (unsigned)(*p - '0');
            if (v[i] > 254)
                return;
            p++;
        }
        if (i == 0 && *p++ != '.')
            return;
    }
    *major = (uint8_t)v[0];
    *minor = (uint8_t)v[1];
}

static void build_bios(struct smbios_builder *b, const struct smbios_config *cfg)
{
    uint8_t *p = sb_begin(b, SMBIOS_TYPE_BIOS, T0_LEN);
    if (!p)
        return;
    p[T0_VENDOR] = sb_string(b, "Hostel");
    p[T0_VERSION] = sb_string(b, cfg->version);
    put16(p + T0_START_SEGMENT, T0_RUNTIME_SEGMENT);
    p[T0_RELEASE_DATE] = sb_string(b, SMBIOS_BIOS_RELEASE_DATE);
    p[T0_ROM_SIZE] = T0_ROM_SIZE_256K;
    /* What SeaBIOS provides: PCI BIOS, PnP BIOS, shadowed ROM, El Torito
     * and BBS boot menu, EDD disk services, the legacy int 9h/14h/10h. */
    put64(p + T0_CHARACTERISTICS, T0_CHAR_PCI | T0_CHAR_PNP | T0_CHAR_SHADOWING |
          T0_CHAR_BOOT_CD | T0_CHAR_SELECTABLE_BOOT | T0_CHAR_EDD |
          T0_CHAR_INT9_KEYBOARD | T0_CHAR_INT14_SERIAL | T0_CHAR_INT10_VIDEO);
    p[T0_EXT1] = T0_EXT1_ACPI;
    p[T0_EXT2] = T0_EXT2_BBS | T0_EXT2_TARGETED_CONTENT | T0_EXT2_VIRTUAL_MACHINE;
    parse_release(cfg->version, &p[T0_BIOS_MAJOR], &p[T0_BIOS_MINOR]);
    p[T0_EC_MAJOR] = 0xFF;      /* no embedded controller firmware */
    p[T0_EC_MINOR] = 0xFF;
    sb_end(b);
}

static void build_system(struct smbios_builder *b, const struct smbios_config *cfg)
{
    uint8_t *p = sb_begin(b, SMBIOS_TYPE_SYSTEM, T1_LEN);
    if (!p)
        return;
    p[T1_MANUFACTURER] = sb_string(b, "Hostel");
    p[T1_PRODUCT] = sb_string(b, "Hostel Virtual Machine");
    p[T1_VERSION] = sb_string(b, cfg->version);
    p[T1_SERIAL] = 0;
    /* Section 7.2.1: time_low, time_mid and time_hi_and_version are
     * stored little-endian, the rest in RFC 4122 (network) order. */
    uint8_t *u = p + T1_UUID;
    const uint8_t *in = cfg->uuid;
    u[0] = in[3]; u[1] = in[2]; u[2] = in[1]; u[3] = in[0];
    u[4] = in[5]; u[5] = in[4];
    u[6] = in[7]; u[7] = in[6];
    memcpy(u + 8, in + 8, 8);
    p[T1_WAKEUP] = T1_WAKEUP_POWER_SWITCH;
    p[T1_SKU] = sb_string(b, "Hostel");
    p[T1_FAMILY] = sb_string(b, "Virtual Machine");
    sb_end(b);
}

static void build_chassis(struct smbios_builder *b)
{
    uint8_t *p = sb_begin(b, SMBIOS_TYPE_CHASSIS, T3_LEN);
    if (!p)
        return;
    p[T3_MANUFACTURER] = sb_string(b, "Hostel");
    p[T3_TYPE] = T3_TYPE_OTHER;
    p[T3_BOOTUP_STATE] = T3_STATE_SAFE;
    p[T3_PSU_STATE] = T3_STATE_SAFE;
    p[T3_THERMAL_STATE] = T3_STATE_SAFE;
    p[T3_SECURITY] = T3_SECURITY_NONE;
    /* Version, serial, asset tag, OEM word, height, power cords, contained
     * elements and SKU stay 0: none / unspecified. */
    sb_end(b);
}

static void build_processor(struct smbios_builder *b, unsigned index)
{
    uint8_t *p = sb_begin(b, SMBIOS_TYPE_PROCESSOR, T4_LEN);
    if (!p)
        return;
    char socket[24];
    snprintf(socket, sizeof(socket), "CPU %u", index);
    p[T4_SOCKET] = sb_string(b, socket);
    p[T4_TYPE] = T4_TYPE_CENTRAL;
    p[T4_FAMILY] = T4_FAMILY_OTHER;
    p[T4_MANUFACTURER] = sb_string(b, "Hostel");
    /* Processor ID (CPUID 1 EAX/EDX), voltage, clocks and speeds are not
     * known here and stay 0 ("unknown"). */
    p[T4_VERSION] = sb_string(b, "Hostel Virtual CPU");
    p[T4_STATUS] = T4_STATUS_POPULATED | T4_STATUS_ENABLED;
    p[T4_UPGRADE] = T4_UPGRADE_OTHER;
    put16(p + T4_L1_HANDLE, SMBIOS_NO_HANDLE);
    put16(p + T4_L2_HANDLE, SMBIOS_NO_HANDLE);
    put16(p + T4_L3_HANDLE, SMBIOS_NO_HANDLE);
    /* Each vCPU is its own socket with one core and one thread. */
    p[T4_CORE_COUNT] = 1;
    p[T4_CORE_ENABLED] = 1;
    p[T4_THREAD_COUNT] = 1;
    put16(p + T4_CHARACTERISTICS, T4_CHAR_64BIT);
    put16(p + T4_FAMILY2, T4_FAMILY_OTHER);
    sb_end(b);
}

/* Returns the array's handle. */
static unsigned build_memory_array(struct smbios_builder *b, uint64_t total, unsigned ndevices)
{
    unsigned handle = b->next_handle;
    uint8_t *p = sb_begin(b, SMBIOS_TYPE_MEMORY_ARRAY, T16_LEN);
    if (!p)
        return handle;
    p[T16_LOCATION] = T16_LOCATION_BOARD;
    p[T16_USE] = T16_USE_SYSTEM;
    p[T16_ECC] = T16_ECC_NONE;
    /* In KiB; from 2 TiB on, 8000 0000h and the byte count in the
     * extended field. */
    uint64_t kib = (total + KIB - 1) / KIB;
    if (kib < T16_CAPACITY_EXTENDED) {
        put32(p + T16_MAX_CAPACITY, (uint32_t)kib);
    } else {
        put32(p + T16_MAX_CAPACITY, T16_CAPACITY_EXTENDED);
        put64(p + T16_EXT_MAX_CAPACITY, total);
    }
    put16(p + T16_ERROR_HANDLE, SMBIOS_NO_ERROR_INFO);
    put16(p + T16_NUM_DEVICES, (uint16_t)ndevices);
    sb_end(b);
    return handle;
}

/* One device holds all RAM (Hostel's RAM is one region). */
static void build_memory_device(struct smbios_builder *b, unsigned array, uint64_t size)
{
    uint8_t *p = sb_begin(b, SMBIOS_TYPE_MEMORY_DEVICE, T17_LEN);
    if (!p)
        return;
    put16(p + T17_ARRAY_HANDLE, (uint16_t)array);
    put16(p + T17_ERROR_HANDLE, SMBIOS_NO_ERROR_INFO);
    put16(p + T17_TOTAL_WIDTH, 64);     /* no ECC bits */
    put16(p + T17_DATA_WIDTH, 64);
    /* Section 7.18.5: MiB (or KiB with bit 15) up to 32 GiB - 2 MiB; from
     * 7FFFh on, the MiB count goes to Extended Size. */
    uint64_t mib = size / MIB;
    if (size % MIB && size / KIB < T17_SIZE_USE_EXTENDED)
        put16(p + T17_SIZE, (uint16_t)(T17_SIZE_KIB | size / KIB));
    else if (mib < T17_SIZE_USE_EXTENDED)
        put16(p + T17_SIZE, (uint16_t)mib);
    else {
        put16(p + T17_SIZE, T17_SIZE_USE_EXTENDED);
        put32(p + T17_EXT_SIZE, (uint32_t)mib);
    }
    p[T17_FORM_FACTOR] = T17_FORM_DIMM;
    p[T17_DEVICE_SET] = 0;
    p[T17_LOCATOR] = sb_string(b, "DIMM 0");
    p[T17_BANK] = 0;
    p[T17_TYPE] = T17_TYPE_RAM;
    put16(p + T17_TYPE_DETAIL, T17_DETAIL_OTHER);
    p[T17_MANUFACTURER] = sb_string(b, "Hostel");
    /* Speed, serial, asset tag, part number, rank, configured speed and
     * voltages: unknown (0). */
    sb_end(b);
}

/* The guest-physical range [start, start + size). Section 7.20: addresses
 * in KiB, the end one the last KiB; a range that does not fit 32-bit KiB
 * (or is not KiB-aligned) has FFFF FFFFh there and byte addresses in the
 * extended fields. */
static void build_mapped_range(struct smbios_builder *b, unsigned array, uint64_t start, uint64_t size)
{
    uint8_t *p = sb_begin(b, SMBIOS_TYPE_ARRAY_MAPPED_ADDRESS, T19_LEN);
    if (!p)
        return;
    uint64_t end = start + size - 1;
    if (start % KIB == 0 && size % KIB == 0 && end / KIB < T19_USE_EXTENDED) {
        put32(p + T19_START, (uint32_t)(start / KIB));
        put32(p + T19_END, (uint32_t)(end / KIB));
    } else {
        put32(p + T19_START, T19_USE_EXTENDED);
        put32(p + T19_END, T19_USE_EXTENDED);
        put64(p + T19_EXT_START, start);
        put64(p + T19_EXT_END, end);
    }
    put16(p + T19_ARRAY_HANDLE, (uint16_t)array);
    p[T19_PARTITION_WIDTH] = 1;         /* one device per row */
    sb_end(b);
}

static void build_boot_info(struct smbios_builder *b)
{
    uint8_t *p = sb_begin(b, SMBIOS_TYPE_BOOT_INFO, T32_LEN);
    if (!p)
        return;
    p[T32_STATUS] = T32_NO_ERRORS;
    sb_end(b);
}

static void build_end(struct smbios_builder *b)
{
    if (sb_begin(b, SMBIOS_TYPE_END, T127_LEN))
        sb_end(b);
}

/* Section 5.2.1: the 32-bit entry point. */
static void build_anchor(uint8_t *ep, const struct smbios_builder *b)
{
    memset(ep, 0, SMBIOS_ANCHOR_LEN);
    memcpy(ep, "_SM_", 4);
    ep[SMBIOS_EP_LENGTH] = SMBIOS_ANCHOR_LEN;
    ep[SMBIOS_EP_MAJOR] = 2;
    ep[SMBIOS_EP_MINOR] = 8;
    put16(ep + SMBIOS_EP_MAX_STRUCT, (uint16_t)b->max_size);
    ep[SMBIOS_EP_REVISION] = 0;         /* formatted area (0Bh-0Fh) unused */
    memcpy(ep + SMBIOS_EP_DMI_ANCHOR, "_DMI_", 5);
    put16(ep + SMBIOS_EP_TABLE_LEN, (uint16_t)b->used);
    put32(ep + SMBIOS_EP_TABLE_ADDR, 0);    /* set by the firmware */
    put16(ep + SMBIOS_EP_NUM_STRUCTS, (uint16_t)b->count);
    ep[SMBIOS_EP_BCD_REVISION] = 0x28;
    /* The intermediate checksum covers 10h-1Eh, the entry point checksum
     * the whole structure (including the former). */
    ep[SMBIOS_EP_DMI_CHECKSUM] = checksum(ep + SMBIOS_EP_DMI_ANCHOR, SMBIOS_ANCHOR_LEN - SMBIOS_EP_DMI_ANCHOR);
    ep[SMBIOS_EP_CHECKSUM] = checksum(ep, SMBIOS_ANCHOR_LEN);
}

int smbios_build(const struct smbios_config *cfg, uint8_t **anchor, size_t *anchor_len,
                 uint8_t **table, size_t *table_len)
{
    *anchor = *table = NULL;
    *anchor_len = *table_len = 0;
    if (cfg->ncpus == 0 || cfg->ram_below_4g == 0 || cfg->ram_below_4g > 4 * GIB ||
        cfg->ram_above_4g > UINT64_MAX - 4 * GIB)
        return -1;
    uint64_t total = cfg->ram_below_4g + cfg->ram_above_4g;
    if (total / MIB > T17_EXT_SIZE_MAX)
        return -1;

    struct smbios_builder b = { .buf = malloc(SMBIOS_TABLE_MAX) };
    uint8_t *ep = malloc(SMBIOS_ANCHOR_LEN);
    if (!b.buf || !ep)
        goto fail;
    build_bios(&b, cfg);
    build_system(&b, cfg);
    build_chassis(&b);
    for (unsigned i = 0; i < cfg->ncpus && !b.overflow; i++)
        build_processor(&b, i);
    unsigned array = build_memory_array(&b, total, 1);
    build_memory_device(&b, array, total);
    build_mapped_range(&b, array, 0, cfg->ram_below_4g);
    if (cfg->ram_above_4g)
        build_mapped_range(&b, array, 4 * GIB, cfg->ram_above_4g);
    build_boot_info(&b);
    build_end(&b);
    if (b.overflow)
        goto fail;

    build_anchor(ep, &b);
    uint8_t *t = realloc(b.buf, b.used);
    if (t)
        b.buf = t;
    *anchor = ep;
    *anchor_len = SMBIOS_ANCHOR_LEN;
    *table = b.buf;
    *table_len = b.used;
    return 0;

fail:
    free(b.buf);
    free(ep);
    return -1;
}
