/* Shared between the IDE controller core (ide.c), the ATA command set
 * (ide_ata.c) and the ATAPI packet commands (ide_atapi.c). Not for other
 * devices. */
#ifndef HOSTEL_IDE_INTERNAL_H
#define HOSTEL_IDE_INTERNAL_H

#include "ide.h"

#define IDE_SECTOR_SIZE 512u
#define IDE_CD_SECTOR_SIZE 2048u
/* Largest DRQ block for READ/WRITE MULTIPLE (IDENTIFY word 47). */
#define IDE_MAX_MULTIPLE 16u
/* Largest ATAPI PIO DRQ block / DMA chunk: 15 CD sectors, so a block plus
 * the tail of a partly sent sector always fits in the buffer. */
#define IDE_ATAPI_MAX_BLOCK (15u * IDE_CD_SECTOR_SIZE)

/* What the data port (or the bus master) is moving for a drive. */
enum ide_xfer {
    IDE_XFER_NONE = 0,
    IDE_XFER_ATA_IN,        /* device -> host from buf only (IDENTIFY) */
    IDE_XFER_ATA_READ,      /* device -> host, blocks read from the image */
    IDE_XFER_ATA_WRITE,     /* host -> device, blocks written to the image */
    IDE_XFER_PACKET,        /* host -> device: the 12-byte ATAPI command packet */
    IDE_XFER_ATAPI_IN,      /* device -> host: ATAPI data (PIO or DMA) */
    IDE_XFER_COUNT,
};

enum ide_power {
    IDE_POWER_ACTIVE = 0,
    IDE_POWER_IDLE,
    IDE_POWER_STANDBY,
    IDE_POWER_SLEEP,
};

/* ---- ide.c: controller core ---- */

struct ide_drive *ide_selected(struct ide_channel *ch);
/* Assert the drive's INTRQ (seen by the guest if selected and nIEN clear). */
void ide_set_irq(struct ide_drive *d);
void ide_update_irq(struct ide_channel *ch);
/* Forget any transfer in progress. */
void ide_xfer_stop(struct ide_drive *d);
/* Status bits of an idle, ready device of d's kind. */
uint8_t ide_ready_status(const struct ide_drive *d);
/* Finish a command: success, or aborted with the given error bits (plus
 * ERR); both raise INTRQ. */
void ide_cmd_ok(struct ide_drive *d);
void ide_cmd_error(struct ide_drive *d, uint8_t error);
/* The drive set up a DMA transfer (xfer, dma = 1, buffer prepared): run
 * the bus master now if the guest already started it. */
void ide_dma_ready(struct ide_drive *d);
/* Set the reset signature and status (ATA/ATAPI-6 "Signature and persistence"). */
void ide_drive_signature(struct ide_drive *d);
/* Whole-sector image I/O, bounds-checked against nsectors; failures
 * record a sentence in d->io_error. Return 0 or -1. */
int ide_media_read(struct ide_drive *d, void *buf, uint64_t sector, uint32_t count, uint32_t sector_size);
int ide_media_write(struct ide_drive *d, const void *buf, uint64_t sector, uint32_t count);
int ide_media_flush(struct ide_drive *d);
/* Write an ATA string (space padded, two characters per word, first in the
 * high byte: ATA/ATAPI-6 byte ordering of strings) into IDENTIFY words. */
void ide_put_string(uint8_t *id, unsigned word, unsigned nwords, const char *s);
void ide_put_word(uint8_t *id, unsigned word, uint16_t v);
/* Word 255: signature A5h and checksum (IDENTIFY word 255). */
void ide_identify_checksum(uint8_t *id);

/* ---- ide_ata.c: ATA command set ---- */

/* Power-on defaults of the ATA settings (geometry, multiple, features). */
void ide_ata_power_on(struct ide_drive *d);
/* Execute an ATA command on a disk. */
void ide_ata_command(struct ide_drive *d, uint8_t cmd);
/* The host moved the last byte of the current block (ATA transfers). */
void ide_ata_block_done(struct ide_drive *d);
/* The bus master failed to reach guest memory: abort the command. */
void ide_ata_dma_failed(struct ide_drive *d);
/* Commands both device kinds share (ATA/ATAPI-6): power
 * management and SET FEATURES. Return true if cmd was one of them. */
bool ide_ata_common_command(struct ide_drive *d, uint8_t cmd);

/* ---- ide_atapi.c: ATAPI ---- */

void ide_atapi_power_on(struct ide_drive *d);
/* Execute an ATA command on a CD-ROM drive (PACKET and friends). */
void ide_atapi_command(struct ide_drive *d, uint8_t cmd);
/* The host moved the last byte of the current block (packet or data). */
void ide_atapi_block_done(struct ide_drive *d);
void ide_atapi_dma_failed(struct ide_drive *d);
/* Host-side medium change (see ide_cdrom_change). */
void ide_atapi_change_medium(struct ide_drive *d, struct blockdev *bd);
/* True when a medium is inserted and the tray closed. */
bool ide_atapi_medium_ready(const struct ide_drive *d);

#endif
