/* Write the SMBIOS tables Hostel builds as a dmidecode "--dump-bin" file,
 * for tests/unit/check-smbios-dmidecode.sh. That format (dmidecode(8),
 * "BINARY DUMP FILE FORMAT"): the entry point at offset 0, its table
 * address field set to 0x20 (with the checksums redone), the structure
 * table at offset 0x20. The UUID is fixed: 01234567-89ab-cdef-0123-456789abcdef. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbios.h"

#define DUMP_TABLE_OFFSET 0x20u

static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return (uint8_t)(0 - sum);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: smbios-dump NCPUS MIB_BELOW_4G MIB_ABOVE_4G FILE\n");
        return 2;
    }
    struct smbios_config cfg = {
        .ncpus = (unsigned)strtoul(argv[1], NULL, 0),
        .ram_below_4g = strtoull(argv[2], NULL, 0) << 20,
        .ram_above_4g = strtoull(argv[3], NULL, 0) << 20,
        .uuid = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef },
        .version = "0.1.0",
    };
    uint8_t *ep, *table;
    size_t ep_len, table_len;
    if (smbios_build(&cfg, &ep, &ep_len, &table, &table_len) < 0) {
        fprintf(stderr, "smbios-dump: smbios_build failed\n");
        return 1;
    }
    uint8_t head[DUMP_TABLE_OFFSET] = { 0 };
    memcpy(head, ep, ep_len);
    /* What the firmware does with the address, for a table at 0x20. */
    head[SMBIOS_EP_TABLE_ADDR] = DUMP_TABLE_OFFSET;
    head[SMBIOS_EP_DMI_CHECKSUM] = 0;
    head[SMBIOS_EP_DMI_CHECKSUM] = checksum(head + SMBIOS_EP_DMI_ANCHOR, ep_len - SMBIOS_EP_DMI_ANCHOR);
    head[SMBIOS_EP_CHECKSUM] = 0;
    head[SMBIOS_EP_CHECKSUM] = checksum(head, ep_len);

    FILE *f = fopen(argv[4], "wb");
    int rc = 0;
    if (!f || fwrite(head, 1, sizeof(head), f) != sizeof(head) ||
        fwrite(table, 1, table_len, f) != table_len)
        rc = 1;
    if (f && fclose(f) != 0)
        rc = 1;
    free(ep);
    free(table);
    return rc;
}
