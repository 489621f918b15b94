/* ATA command set of an IDE disk (ATA/ATAPI-6, T13 1410D; commands and
 * protocols below are named after its headings).
 *
 * PIO data-in commands interrupt once per DRQ block and not at the end;
 * PIO data-out commands take the first block without an interrupt and
 * interrupt after every block, the last one included ("PIO data-in" and
 * "PIO data-out" protocols). DMA commands interrupt once, at the end. Every command is
 * range-checked before any image I/O: an address past the end of the disk
 * is IDNF, an unknown command ABRT.
 */
#include "ide_internal.h"

#include <stdio.h>
#include <string.h>

/* Sectors per DMA chunk: the whole buffer. */
#define IDE_DMA_CHUNK (IDE_BUF_SIZE / IDE_SECTOR_SIZE)
#define IDE_LBA28_MAX 0x0fffffffull
/* The largest capacity CHS can express (16383 * 16 * 63). */
#define IDE_CHS_MAX_SECTORS 16514064ull

enum ide_ata_mode {
    IDE_ATA_PIO,            /* one sector per DRQ block */
    IDE_ATA_MULTIPLE,       /* mult_sectors per DRQ block */
    IDE_ATA_DMA,
};

/* Power-on values of what INITIALIZE DEVICE PARAMETERS, SET MULTIPLE MODE
 * and SET FEATURES change. */
void ide_ata_power_on(struct ide_drive *d)
{
    d->mult_sectors = 0;
    d->cur_heads = (uint8_t)(d->def_heads ? d->def_heads : 16);
    d->cur_spt = (uint8_t)(d->def_spt ? d->def_spt : 63);
    d->cur_cyls = d->def_cyls;
    d->write_cache = 1;
    d->pio_mode = 0x0c;     /* PIO mode 4 */
    d->dma_mode = 0x22;     /* multiword DMA mode 2 */
}

static bool ide_ata_cmd_lba48(uint8_t cmd)
{
    switch (cmd) {
    case ATA_CMD_READ_SECTORS_EXT:
    case ATA_CMD_READ_DMA_EXT:
    case ATA_CMD_READ_MULTIPLE_EXT:
    case ATA_CMD_WRITE_SECTORS_EXT:
    case ATA_CMD_WRITE_DMA_EXT:
    case ATA_CMD_WRITE_MULTIPLE_EXT:
    case ATA_CMD_READ_VERIFY_EXT:
        return true;
    default:
        return false;
    }
}

/* Sectors per DRQ block (PIO) or chunk (DMA) of the command in progress. */
static uint32_t ide_ata_block_sectors(const struct ide_drive *d)
{
    if (d->dma)
        return IDE_DMA_CHUNK;
    switch (d->cmd) {
    case ATA_CMD_READ_MULTIPLE:
    case ATA_CMD_READ_MULTIPLE_EXT:
    case ATA_CMD_WRITE_MULTIPLE:
    case ATA_CMD_WRITE_MULTIPLE_EXT:
        return d->mult_sectors ? d->mult_sectors : 1;
    default:
        return 1;
    }
}

static uint32_t ide_min32(uint64_t a, uint32_t b)
{
    return a < b ? (uint32_t)a : b;
}

/* The starting sector the task file names ("Address" rules): 48-bit LBA,
 * 28-bit LBA, or CHS in the current translation. False for a CHS address
 * outside the geometry. */
static bool ide_ata_address(const struct ide_drive *d, bool lba48, uint64_t *lba)
{
    uint8_t sel = d->ch->select;
    if (lba48) {
        *lba = (uint64_t)d->hob_hcyl << 40 | (uint64_t)d->hob_lcyl << 32 | (uint64_t)d->hob_sector << 24 |
               (uint64_t)d->hcyl << 16 | (uint64_t)d->lcyl << 8 | d->sector;
        return true;
    }
    if (sel & IDE_SELECT_LBA) {
        *lba = (uint64_t)(sel & 0x0f) << 24 | (uint64_t)d->hcyl << 16 | (uint64_t)d->lcyl << 8 | d->sector;
        return true;
    }
    unsigned cyl = (unsigned)d->hcyl << 8 | d->lcyl;
    unsigned head = sel & 0x0f;
    unsigned sec = d->sector;
    if (sec == 0 || sec > d->cur_spt || head >= d->cur_heads || cyl >= d->cur_cyls)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_spt + sec - 1;
    return true;
}

/* Sector count: 0 means 256 (28-bit) or 65536 (48-bit). */
static uint32_t ide_ata_count(const struct ide_drive *d, bool lba48)
{
    if (lba48) {
        uint32_t n = (uint32_t)d->hob_nsector << 8 | d->nsector;
        return n ? n : 65536;
    }
    return d->nsector ? d->nsector : 256;
}

/* Report the sector where an error happened in the address registers
 * (each command's "Error outputs"), in the form the command used. */
static void ide_ata_set_address(struct ide_drive *d, uint64_t lba)
{
    struct ide_channel *ch = d->ch;
    if (ide_ata_cmd_lba48(d->cmd)) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->hob_sector = (uint8_t)(lba >> 24);
        d->hob_lcyl = (uint8_t)(lba >> 32);
        d->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (ch->select & IDE_SELECT_LBA) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        ch->select = (uint8_t)((ch->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (d->cur_heads && d->cur_spt) {
        uint64_t per_cyl = (uint64_t)d->cur_heads * d->cur_spt;
        uint64_t cyl = lba / per_cyl;
        if (cyl > 0xffff)
            return;
        uint64_t rem = lba % per_cyl;
        d->lcyl = (uint8_t)cyl;
        d->hcyl = (uint8_t)(cyl >> 8);
        d->sector = (uint8_t)(rem % d->cur_spt + 1);
        ch->select = (uint8_t)((ch->select & 0xf0) | ((rem / d->cur_spt) & 0x0f));
    }
}

/* ---- IDENTIFY DEVICE ---- */

static void ide_ata_identify(struct ide_drive *d)
{
    uint8_t *id = d->buf;
    memset(id, 0, IDE_SECTOR_SIZE);
    char serial[21];
    snprintf(serial, sizeof(serial), "HOSTEL-HD-%u%u", d->ch->index, d->unit);

    ide_put_word(id, 0, 0x0040);                    /* ATA device, not removable */
    ide_put_word(id, 1, d->def_cyls);
    ide_put_word(id, 3, d->def_heads);
    ide_put_word(id, 6, d->def_spt);
    ide_put_string(id, 10, 10, serial);
    ide_put_string(id, 23, 4, "1.0");
    ide_put_string(id, 27, 20, "HOSTEL HARDDISK");
    ide_put_word(id, 47, 0x8000 | IDE_MAX_MULTIPLE);
    ide_put_word(id, 49, 0x0b00);                   /* IORDY, LBA, DMA */
    ide_put_word(id, 50, 0x4000);
    ide_put_word(id, 51, 0x0200);                   /* PIO timing mode 2 (obsolete) */
    ide_put_word(id, 53, 0x0007);                   /* words 54-58, 64-70, 88 valid */
    ide_put_word(id, 54, d->cur_cyls);
    ide_put_word(id, 55, d->cur_heads);
    ide_put_word(id, 56, d->cur_spt);
    uint32_t chs_cap = (uint32_t)d->cur_cyls * d->cur_heads * d->cur_spt;
    ide_put_word(id, 57, (uint16_t)chs_cap);
    ide_put_word(id, 58, (uint16_t)(chs_cap >> 16));
    ide_put_word(id, 59, d->mult_sectors ? (uint16_t)(0x0100 | d->mult_sectors) : 0);
    uint64_t lba28 = d->nsectors < IDE_LBA28_MAX ? d->nsectors : IDE_LBA28_MAX;
    ide_put_word(id, 60, (uint16_t)lba28);
    ide_put_word(id, 61, (uint16_t)(lba28 >> 16));
    uint16_t mwdma = 0x0007;                        /* modes 0-2 supported */
    if ((d->dma_mode & 0xf8) == 0x20)
        mwdma |= (uint16_t)(0x0100 << (d->dma_mode & 7));
    ide_put_word(id, 63, mwdma);
    ide_put_word(id, 64, 0x0003);                   /* PIO modes 3 and 4 */
    for (unsigned w = 65; w <= 68; w++)
        ide_put_word(id, w, 120);                   /* cycle times, ns */
    ide_put_word(id, 80, 0x007e);                   /* ATA-1 to ATA/ATAPI-6 */
    /* Command sets: NOP, write cache, power management; 48-bit address,
     * FLUSH CACHE and FLUSH CACHE EXT (words 82-87). */
    ide_put_word(id, 82, 0x4028);
    ide_put_word(id, 83, 0x7400);
    ide_put_word(id, 84, 0x4000);
    ide_put_word(id, 85, (uint16_t)(0x4008 | (d->write_cache ? 0x0020 : 0)));
    ide_put_word(id, 86, 0x3400);
    ide_put_word(id, 87, 0x4000);
    uint16_t udma = 0x003f;                         /* modes 0-5 supported */
    if ((d->dma_mode & 0xf8) == 0x40)
        udma |= (uint16_t)(0x0100 << (d->dma_mode & 7));
    ide_put_word(id, 88, udma);
    /* Hardware reset result: device number by jumper, diagnostics passed,
     * 80-conductor cable (word 93). */
    ide_put_word(id, 93, (uint16_t)(0x6000 | (d->unit ? 0x0300 : 0x000b)));
    uint64_t n = d->nsectors;
    ide_put_word(id, 100, (uint16_t)n);
    ide_put_word(id, 101, (uint16_t)(n >> 16));
    ide_put_word(id, 102, (uint16_t)(n >> 32));
    ide_put_word(id, 103, (uint16_t)(n >> 48));
    ide_identify_checksum(id);

    d->xfer = IDE_XFER_ATA_IN;
    d->buf_pos = 0;
    d->buf_end = d->buf_len = IDE_SECTOR_SIZE;
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_DRQ;
    ide_set_irq(d);
}

/* ---- Reads and writes ---- */

/* Fill the buffer with the next block (PIO) or chunk (DMA). */
static bool ide_ata_read_block(struct ide_drive *d)
{
    uint32_t n = ide_min32(d->sectors_left, ide_ata_block_sectors(d));
    if (n == 0 || ide_media_read(d, d->buf, d->lba, n, IDE_SECTOR_SIZE) < 0) {
        ide_ata_set_address(d, d->lba);
        ide_cmd_error(d, IDE_ERROR_UNC);
        return false;
    }
    d->lba += n;
    d->sectors_left -= n;
    d->buf_pos = 0;
    d->buf_end = d->buf_len = n * IDE_SECTOR_SIZE;
    return true;
}

/* Make room for the next block the host writes. */
static void ide_ata_write_block(struct ide_drive *d)
{
    uint32_t n = ide_min32(d->sectors_left, ide_ata_block_sectors(d));
    d->buf_pos = 0;
    d->buf_end = d->buf_len = n * IDE_SECTOR_SIZE;
}

static void ide_ata_rw(struct ide_drive *d, bool write, enum ide_ata_mode mode)
{
    bool lba48 = ide_ata_cmd_lba48(d->cmd);
    if (mode == IDE_ATA_MULTIPLE && d->mult_sectors == 0) {
        ide_cmd_error(d, IDE_ERROR_ABRT);       /* multiple mode not enabled */
        return;
    }
    if (write && blockdev_read_only(d->bd)) {
        ide_cmd_error(d, IDE_ERROR_ABRT);
        return;
    }
    uint64_t lba;
    uint32_t count = ide_ata_count(d, lba48);
    if (!ide_ata_address(d, lba48, &lba) || lba > d->nsectors || count > d->nsectors - lba) {
        ide_cmd_error(d, IDE_ERROR_IDNF);
        return;
    }
    d->power_mode = IDE_POWER_ACTIVE;
    d->lba = lba;
    d->sectors_left = count;
    d->dma = mode == IDE_ATA_DMA;
    d->xfer = write ? IDE_XFER_ATA_WRITE : IDE_XFER_ATA_READ;
    if (write)
        ide_ata_write_block(d);
    else if (!ide_ata_read_block(d))
        return;
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_DRQ;
    if (d->dma)
        ide_dma_ready(d);
    else if (!write)
        ide_set_irq(d);         /* data-in: the first block is ready */
}

void ide_ata_block_done(struct ide_drive *d)
{
    switch (d->xfer) {
    case IDE_XFER_ATA_IN:
        /* PIO data-in ends without an interrupt. */
        ide_xfer_stop(d);
        d->status = ide_ready_status(d);
        break;
    case IDE_XFER_ATA_READ:
        if (d->sectors_left == 0) {
            if (d->dma) {
                ide_cmd_ok(d);
            } else {
                ide_xfer_stop(d);
                d->status = ide_ready_status(d);
            }
            return;
        }
        if (!ide_ata_read_block(d))
            return;
        if (!d->dma)
            ide_set_irq(d);
        break;
    case IDE_XFER_ATA_WRITE: {
        uint32_t n = d->buf_end / IDE_SECTOR_SIZE;
        if (n == 0 || n > d->sectors_left || ide_media_write(d, d->buf, d->lba, n) < 0) {
            ide_ata_set_address(d, d->lba);
            ide_cmd_error(d, IDE_ERROR_ABRT);
            return;
        }
        d->lba += n;
        d->sectors_left -= n;
        if (d->sectors_left == 0) {
            /* With the write cache off every command writes through. */
            if (!d->write_cache && ide_media_flush(d) < 0) {
                ide_cmd_error(d, IDE_ERROR_ABRT);
                return;
            }
            ide_cmd_ok(d);
            return;
        }
        ide_ata_write_block(d);
        if (!d->dma)
            ide_set_irq(d);
        break;
    }
    default:
        ide_xfer_stop(d);
        break;
    }
}

void ide_ata_dma_failed(struct ide_drive *d)
{
    ide_cmd_error(d, IDE_ERROR_ABRT);
}

static void ide_ata_verify(struct ide_drive *d)
{
    bool lba48 = ide_ata_cmd_lba48(d->cmd);
    uint64_t lba;
    uint32_t count = ide_ata_count(d, lba48);
    if (!ide_ata_address(d, lba48, &lba) || lba > d->nsectors || count > d->nsectors - lba) {
        ide_cmd_error(d, IDE_ERROR_IDNF);
        return;
    }
    /* The image has no unreadable sectors to find. */
    d->power_mode = IDE_POWER_ACTIVE;
    ide_cmd_ok(d);
}

static void ide_ata_seek(struct ide_drive *d)
{
    uint64_t lba;
    if (!ide_ata_address(d, false, &lba) || lba >= d->nsectors) {
        ide_cmd_error(d, IDE_ERROR_IDNF);
        return;
    }
    ide_cmd_ok(d);
}

/* INITIALIZE DEVICE PARAMETERS: a new CHS translation. */
static void ide_ata_init_params(struct ide_drive *d)
{
    unsigned spt = d->nsector;
    unsigned heads = (d->ch->select & 0x0f) + 1u;
    if (spt == 0) {
        ide_cmd_error(d, IDE_ERROR_ABRT);
        return;
    }
    uint64_t total = d->nsectors < IDE_CHS_MAX_SECTORS ? d->nsectors : IDE_CHS_MAX_SECTORS;
    uint64_t cyls = total / (heads * spt);
    d->cur_heads = (uint8_t)heads;
    d->cur_spt = (uint8_t)spt;
    d->cur_cyls = (uint16_t)(cyls > 0xffff ? 0xffff : cyls);
    ide_cmd_ok(d);
}

/* SET MULTIPLE MODE: a power of two up to word 47's
 * maximum; 0 turns multiple mode off. */
static void ide_ata_set_multiple(struct ide_drive *d)
{
    unsigned n = d->nsector;
    if (n > IDE_MAX_MULTIPLE || (n & (n - 1))) {
        ide_cmd_error(d, IDE_ERROR_ABRT);
        return;
    }
    d->mult_sectors = (uint8_t)n;
    ide_cmd_ok(d);
}

static void ide_ata_flush(struct ide_drive *d)
{
    if (ide_media_flush(d) < 0) {
        ide_cmd_error(d, IDE_ERROR_ABRT);
        return;
    }
    ide_cmd_ok(d);
}

/* SET FEATURES subcommands. */
static void ide_ata_set_features(struct ide_drive *d)
{
    bool disk = d->kind == IDE_KIND_DISK;
    switch (d->feature) {
    case 0x02:              /* enable write cache */
    case 0x82:              /* disable write cache */
        if (!disk)
            break;
        d->write_cache = d->feature == 0x02;
        ide_cmd_ok(d);
        return;
    case 0x03: {            /* set transfer mode from the count register */
        uint8_t v = d->nsector;
        if (v == 0x00 || v == 0x01) {
            d->pio_mode = 0x0c;
        } else if (v >= 0x08 && v <= 0x0c) {
            d->pio_mode = v;
        } else if ((v >= 0x20 && v <= 0x22) || (v >= 0x40 && v <= 0x45)) {
            d->dma_mode = v;
        } else {
            break;
        }
        ide_cmd_ok(d);
        return;
    }
    case 0x55:              /* disable read look-ahead */
    case 0xaa:              /* enable read look-ahead */
    case 0x66:              /* keep settings over software reset */
    case 0xcc:              /* revert to power-on defaults on reset */
        ide_cmd_ok(d);
        return;
    default:
        break;
    }
    ide_cmd_error(d, IDE_ERROR_ABRT);
}

bool ide_ata_common_command(struct ide_drive *d, uint8_t cmd)
{
    switch (cmd) {
    case ATA_CMD_SET_FEATURES:
        ide_ata_set_features(d);
        return true;
    case ATA_CMD_STANDBY_IMMEDIATE:
    case ATA_CMD_STANDBY:
        d->power_mode = IDE_POWER_STANDBY;
        ide_cmd_ok(d);
        return true;
    case ATA_CMD_IDLE_IMMEDIATE:
    case ATA_CMD_IDLE:
        d->power_mode = IDE_POWER_IDLE;
        ide_cmd_ok(d);
        return true;
    case ATA_CMD_CHECK_POWER_MODE:
        /* CHECK POWER MODE: 00h standby, 80h idle, FFh active or idle. */
        d->nsector = d->power_mode == IDE_POWER_STANDBY ? 0x00
                     : d->power_mode == IDE_POWER_IDLE  ? 0x80
                                                        : 0xff;
        ide_cmd_ok(d);
        return true;
    case ATA_CMD_SLEEP:
        /* Any later command wakes the device again; real drives need a
         * reset first, which guests do anyway. */
        d->power_mode = IDE_POWER_SLEEP;
        ide_cmd_ok(d);
        return true;
    default:
        return false;
    }
}

void ide_ata_command(struct ide_drive *d, uint8_t cmd)
{
    if (d->power_mode == IDE_POWER_SLEEP)
        d->power_mode = IDE_POWER_ACTIVE;
    if (ide_ata_common_command(d, cmd))
        return;
    if ((cmd & 0xf0) == ATA_CMD_RECALIBRATE) {
        ide_cmd_ok(d);
        return;
    }
    if ((cmd & 0xf0) == ATA_CMD_SEEK) {
        ide_ata_seek(d);
        return;
    }
    switch (cmd) {
    case ATA_CMD_IDENTIFY:
        ide_ata_identify(d);
        break;
    case ATA_CMD_READ_SECTORS:
    case ATA_CMD_READ_SECTORS_NORETRY:
    case ATA_CMD_READ_SECTORS_EXT:
        ide_ata_rw(d, false, IDE_ATA_PIO);
        break;
    case ATA_CMD_WRITE_SECTORS:
    case ATA_CMD_WRITE_SECTORS_NORETRY:
    case ATA_CMD_WRITE_SECTORS_EXT:
        ide_ata_rw(d, true, IDE_ATA_PIO);
        break;
    case ATA_CMD_READ_MULTIPLE:
    case ATA_CMD_READ_MULTIPLE_EXT:
        ide_ata_rw(d, false, IDE_ATA_MULTIPLE);
        break;
    case ATA_CMD_WRITE_MULTIPLE:
    case ATA_CMD_WRITE_MULTIPLE_EXT:
        ide_ata_rw(d, true, IDE_ATA_MULTIPLE);
        break;
    case ATA_CMD_READ_DMA:
    case ATA_CMD_READ_DMA_NORETRY:
    case ATA_CMD_READ_DMA_EXT:
        ide_ata_rw(d, false, IDE_ATA_DMA);
        break;
    case ATA_CMD_WRITE_DMA:
    case ATA_CMD_WRITE_DMA_NORETRY:
    case ATA_CMD_WRITE_DMA_EXT:
        ide_ata_rw(d, true, IDE_ATA_DMA);
        break;
    case ATA_CMD_READ_VERIFY:
    case ATA_CMD_READ_VERIFY_NORETRY:
    case ATA_CMD_READ_VERIFY_EXT:
        ide_ata_verify(d);
        break;
    case ATA_CMD_FLUSH_CACHE:
    case ATA_CMD_FLUSH_CACHE_EXT:
        ide_ata_flush(d);
        break;
    case ATA_CMD_INITIALIZE_PARAMS:
        ide_ata_init_params(d);
        break;
    case ATA_CMD_SET_MULTIPLE:
        ide_ata_set_multiple(d);
        break;
    case ATA_CMD_NOP:
        /* NOP always ends aborted. */
    default:
        /* Includes the packet commands (PACKET, IDENTIFY PACKET DEVICE,
         * DEVICE RESET), which an ATA device aborts. */
        ide_cmd_error(d, IDE_ERROR_ABRT);
        break;
    }
}
