/* ATAPI CD-ROM drive: the PACKET command and protocol (ATA/ATAPI-6) and
 * the SCSI/MMC commands a CD-ROM reader needs (SPC-3 for TEST UNIT READY,
 * REQUEST SENSE, INQUIRY; MMC-3 for the rest; SFF-8020i for the ATAPI
 * details). Sectors are 2048 bytes of user data (Mode 1).
 *
 * The media model: a medium (a read-only blockdev) may be attached or not,
 * and the tray may be open or closed; the medium is readable when present
 * and the tray closed. A guest eject opens the tray (unless removal is
 * prevented) and tells the machine; a load closes it again. A host-side
 * change (ide_cdrom_change) raises a unit attention (MEDIUM MAY HAVE
 * CHANGED) and a media event for GET EVENT STATUS NOTIFICATION.
 */
#include "ide_internal.h"

#include <stdio.h>
#include <string.h>

/* Frames before LBA 0 on a CD (the 2-second pregap, MMC-3). */
#define IDE_CD_MSF_OFFSET 150u
#define IDE_CDB_LEN 12u

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void ide_atapi_power_on(struct ide_drive *d)
{
    d->sense_key = SENSE_NO_SENSE;
    d->asc = 0;
    d->ascq = 0;
    d->unit_attention = 0;
    d->media_event = IDE_MEDIA_EVENT_NONE;
    d->prevent = 0;
    d->tray_open = 0;
}

bool ide_atapi_medium_ready(const struct ide_drive *d)
{
    return d->bd && !d->tray_open && d->nsectors;
}

/* ---- Command completion (the PACKET protocol's status phase) ---- */

static void ide_atapi_set_sense(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
}

static void ide_atapi_ok(struct ide_drive *d)
{
    ide_xfer_stop(d);
    d->nsector = IDE_IREASON_IO | IDE_IREASON_COD;
    d->status = IDE_STATUS_DRDY;
    ide_set_irq(d);
}

/* CHECK CONDITION: the sense key goes in the error register's upper
 * nibble, ABRT for a command the device refused (PACKET "Error outputs"). */
static void ide_atapi_error(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    ide_xfer_stop(d);
    ide_atapi_set_sense(d, key, asc, ascq);
    d->error = (uint8_t)(key << 4);
    if (key == SENSE_ILLEGAL_REQUEST || key == SENSE_ABORTED_COMMAND)
        d->error |= IDE_ERROR_ABRT;
    d->nsector = IDE_IREASON_IO | IDE_IREASON_COD;
    d->status = IDE_STATUS_DRDY | IDE_STATUS_ERR;
    ide_set_irq(d);
}

static void ide_atapi_invalid_field(struct ide_drive *d)
{
    ide_atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
}

static void ide_atapi_not_ready(struct ide_drive *d)
{
    /* ASCQ 01h: tray closed, 02h: tray open (SPC-3 Annex D). */
    ide_atapi_error(d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, d->tray_open ? 0x02 : 0x01);
}

/* ---- Data-in phase ---- */

/* Make sure `need` bytes wait in the buffer from buf_pos on, reading
 * sectors from the medium as needed. The tail of a partly sent sector is
 * moved to the front first; IDE_ATAPI_MAX_BLOCK leaves room for it. */
static int ide_atapi_fill(struct ide_drive *d, uint32_t need)
{
    if (d->buf_pos > d->buf_len || d->buf_len > IDE_BUF_SIZE || need > IDE_BUF_SIZE)
        return -1;
    uint32_t avail = d->buf_len - d->buf_pos;
    if (avail >= need)
        return 0;
    memmove(d->buf, d->buf + d->buf_pos, avail);
    d->buf_pos = 0;
    d->buf_len = avail;
    while (d->buf_len < need && d->sectors_left) {
        uint32_t room = (IDE_BUF_SIZE - d->buf_len) / IDE_CD_SECTOR_SIZE;
        uint32_t n = d->sectors_left < room ? d->sectors_left : room;
        if (n == 0)
            return -1;
        if (ide_media_read(d, d->buf + d->buf_len, d->lba, n, IDE_CD_SECTOR_SIZE) < 0)
            return -1;
        d->lba += n;
        d->sectors_left -= n;
        d->buf_len += n * IDE_CD_SECTOR_SIZE;
    }
    return d->buf_len >= need ? 0 : -1;
}

/* Offer the next DRQ block (PIO) or DMA chunk. A PIO block respects the
 * byte count limit, even unless it is the last (PACKET protocol). */
static void ide_atapi_next_block(struct ide_drive *d)
{
    uint32_t limit = IDE_ATAPI_MAX_BLOCK;
    if (!d->dma) {
        /* A limit of 0 is not allowed; treat it as the largest even one. */
        uint32_t bcl = d->bcl ? d->bcl : 0xfffe;
        if (d->xfer_left > bcl && (bcl & 1))
            bcl = bcl > 1 ? bcl - 1 : 2;
        if (bcl < limit)
            limit = bcl;
    }
    uint32_t block = d->xfer_left < limit ? (uint32_t)d->xfer_left : limit;
    if (block == 0 || ide_atapi_fill(d, block) < 0) {
        ide_atapi_error(d, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR, 0);
        return;
    }
    d->buf_end = d->buf_pos + block;
    d->xfer_left -= block;
    if (!d->dma) {
        d->lcyl = (uint8_t)block;
        d->hcyl = (uint8_t)(block >> 8);
        d->nsector = IDE_IREASON_IO;
        d->status = IDE_STATUS_DRDY | IDE_STATUS_DRQ;
        ide_set_irq(d);
    }
}

/* Start sending xfer_left bytes: buf[0, buf_len) holds the first ones and
 * sectors_left more sectors follow from d->lba. */
static void ide_atapi_start_in(struct ide_drive *d, bool dma)
{
    if (d->xfer_left == 0) {
        ide_atapi_ok(d);
        return;
    }
    d->xfer = IDE_XFER_ATAPI_IN;
    d->dma = dma;
    d->buf_pos = 0;
    ide_atapi_next_block(d);
    if (d->xfer == IDE_XFER_ATAPI_IN && d->dma) {
        d->nsector = IDE_IREASON_IO;
        d->status = IDE_STATUS_DRDY | IDE_STATUS_DRQ;
        ide_dma_ready(d);
    }
}

/* Send the len-byte reply built in buf, cut to the allocation length. */
static void ide_atapi_reply(struct ide_drive *d, uint32_t len, uint32_t alloc, bool dma)
{
    uint32_t n = len < alloc ? len : alloc;
    d->buf_len = n;
    d->xfer_left = n;
    d->sectors_left = 0;
    ide_atapi_start_in(d, dma);
}

static void ide_atapi_read_sectors(struct ide_drive *d, uint64_t lba, uint64_t count, bool dma)
{
    if (lba > d->nsectors || count > d->nsectors - lba) {
        ide_atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    d->lba = lba;
    d->sectors_left = (uint32_t)count;
    d->buf_len = 0;
    d->xfer_left = count * IDE_CD_SECTOR_SIZE;
    ide_atapi_start_in(d, dma);
}

void ide_atapi_dma_failed(struct ide_drive *d)
{
    ide_atapi_error(d, SENSE_ABORTED_COMMAND, 0, 0);
}

/* ---- SCSI / MMC commands ---- */

static void ide_atapi_request_sense(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    if (cdb[1] & 0x01) {            /* DESC: only fixed format is supported */
        ide_atapi_invalid_field(d);
        return;
    }
    if (d->unit_attention) {
        d->unit_attention = 0;
        ide_atapi_set_sense(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
    }
    /* Fixed format sense data (SPC-3). */
    uint8_t *b = d->buf;
    memset(b, 0, 18);
    b[0] = 0x70;                    /* current error, fixed format */
    b[2] = d->sense_key & 0x0f;
    b[7] = 10;                      /* additional sense length */
    b[12] = d->asc;
    b[13] = d->ascq;
    /* Reported: the condition is cleared. */
    ide_atapi_set_sense(d, SENSE_NO_SENSE, 0, 0);
    ide_atapi_reply(d, 18, cdb[4], dma);
}

static void ide_atapi_inquiry(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    uint8_t *b = d->buf;
    uint32_t alloc = be16(cdb + 3);
    if (cdb[1] & 0x02) {            /* CmdDt (obsolete) */
        ide_atapi_invalid_field(d);
        return;
    }
    if (cdb[1] & 0x01) {
        /* Vital product data pages (SPC-3): the page list and the
         * unit serial number. */
        memset(b, 0, 64);
        b[0] = 0x05;
        b[1] = cdb[2];
        if (cdb[2] == 0x00) {
            b[3] = 2;
            b[4] = 0x00;
            b[5] = 0x80;
            ide_atapi_reply(d, 6, alloc, dma);
        } else if (cdb[2] == 0x80) {
            char serial[21];
            int n = snprintf(serial, sizeof(serial), "HOSTEL-CD-%u%u", d->ch->index, d->unit);
            b[3] = (uint8_t)n;
            memcpy(b + 4, serial, (size_t)n);
            ide_atapi_reply(d, 4 + (uint32_t)n, alloc, dma);
        } else {
            ide_atapi_invalid_field(d);
        }
        return;
    }
    if (cdb[2]) {
        ide_atapi_invalid_field(d);
        return;
    }
    /* Standard INQUIRY data (SPC-3). */
    memset(b, 0, 36);
    b[0] = 0x05;                    /* CD/DVD device */
    b[1] = 0x80;                    /* removable medium */
    b[2] = 0x05;                    /* SPC-3 */
    b[3] = 0x02;                    /* response data format 2 */
    b[4] = 36 - 5;                  /* additional length */
    memcpy(b + 8, "HOSTEL  ", 8);
    memcpy(b + 16, "CD-ROM          ", 16);
    memcpy(b + 32, "1.0 ", 4);
    ide_atapi_reply(d, 36, alloc, dma);
}

static void ide_atapi_read_capacity(struct ide_drive *d, bool dma)
{
    uint64_t last = d->nsectors - 1;
    put_be32(d->buf, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
    put_be32(d->buf + 4, IDE_CD_SECTOR_SIZE);
    ide_atapi_reply(d, 8, 8, dma);
}

/* READ CD (MMC-3): user data of Mode 1 sectors only. */
static void ide_atapi_read_cd(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    unsigned type = (cdb[1] >> 2) & 7;
    uint32_t lba = be32(cdb + 2);
    uint32_t count = (uint32_t)cdb[6] << 16 | (uint32_t)cdb[7] << 8 | cdb[8];
    uint8_t fields = cdb[9];
    if (type != 0 && type != 2) {   /* any, or Mode 1 */
        ide_atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_ILLEGAL_MODE_FOR_TRACK, 0);
        return;
    }
    if ((cdb[10] & 0x07) || (fields != 0x00 && fields != 0x10)) {
        /* Sub-channel data, sync, headers, EDC/ECC or C2 are not kept. */
        ide_atapi_invalid_field(d);
        return;
    }
    if (fields == 0x00)
        count = 0;                  /* nothing selected: no data */
    ide_atapi_read_sectors(d, lba, count, dma);
}

/* A TOC address: LBA, or MSF (MMC-3) as 00h M S F. */
static void ide_atapi_put_addr(uint8_t *p, uint64_t lba, bool msf)
{
    if (!msf) {
        put_be32(p, lba > 0xffffffffu ? 0xffffffffu : (uint32_t)lba);
        return;
    }
    uint64_t f = lba + IDE_CD_MSF_OFFSET;
    uint64_t m = f / (75 * 60);
    p[0] = 0;
    if (m > 0xff) {                 /* beyond what MSF can express */
        p[1] = 0xff;
        p[2] = 59;
        p[3] = 74;
        return;
    }
    p[1] = (uint8_t)m;
    p[2] = (uint8_t)(f / 75 % 60);
    p[3] = (uint8_t)(f % 75);
}

/* READ TOC/PMA/ATIP (MMC-3): one data track (ADR 1,
 * control 4: data, copy prohibited) starting at LBA 0, in one session. */
static void ide_atapi_read_toc(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    bool msf = cdb[1] & 0x02;
    unsigned format = cdb[2] & 0x0f;
    if (format == 0)
        format = cdb[9] >> 6;       /* SFF-8020i put the format here */
    unsigned track = cdb[6];
    uint32_t alloc = be16(cdb + 7);
    uint8_t *b = d->buf;
    uint32_t len;
    memset(b, 0, 64);
    switch (format) {
    case 0: {
        if (track > 1 && track != 0xaa) {
            ide_atapi_invalid_field(d);
            return;
        }
        uint8_t *p = b + 4;
        if (track <= 1) {
            p[1] = 0x14;
            p[2] = 1;
            ide_atapi_put_addr(p + 4, 0, msf);
            p += 8;
        }
        p[1] = 0x14;
        p[2] = 0xaa;                /* lead-out */
        ide_atapi_put_addr(p + 4, d->nsectors, msf);
        p += 8;
        len = (uint32_t)(p - b);
        b[2] = 1;                   /* first track */
        b[3] = 1;                   /* last track */
        break;
    }
    case 1:                         /* session information */
        len = 12;
        b[2] = 1;
        b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;                   /* first track in the last session */
        ide_atapi_put_addr(b + 8, 0, msf);
        break;
    case 2: {                       /* raw TOC: points A0, A1, A2 and track 1 */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };
        uint8_t *p = b + 4;
        for (unsigned i = 0; i < 4; i++, p += 11) {
            p[0] = 1;               /* session */
            p[1] = 0x14;
            p[3] = points[i];
            switch (points[i]) {
            case 0xa0:
                p[8] = 1;           /* first track; disc type 00h: CD-ROM */
                break;
            case 0xa1:
                p[8] = 1;           /* last track */
                break;
            case 0xa2:
                ide_atapi_put_addr(p + 7, d->nsectors, true);
                p[7] = 0;
                break;
            default:
                ide_atapi_put_addr(p + 7, 0, true);
                p[7] = 0;
                break;
            }
        }
        len = (uint32_t)(p - b);
        b[2] = 1;
        b[3] = 1;
        break;
    }
    default:
        ide_atapi_invalid_field(d);
        return;
    }
    put_be16(b, (uint16_t)(len - 2));
    ide_atapi_reply(d, len, alloc, dma);
}

/* Append one feature descriptor (MMC-3, "Features") if the request type
 * asks for it: RT 0 all from SFN on, RT 1 the current ones from SFN on,
 * RT 2 exactly SFN. */
static uint32_t ide_atapi_feature(uint8_t *b, uint32_t pos, unsigned rt, uint16_t sfn, uint16_t code,
                                  uint8_t version, bool persistent, bool current,
                                  const uint8_t *data, uint8_t len)
{
    if ((rt == 2 && code != sfn) || (rt != 2 && code < sfn) || (rt == 1 && !current))
        return pos;
    put_be16(b + pos, code);
    b[pos + 2] = (uint8_t)(version << 2 | (persistent ? 0x02 : 0) | (current ? 0x01 : 0));
    b[pos + 3] = len;
    if (len)
        memcpy(b + pos + 4, data, len);
    return pos + 4 + len;
}

/* GET CONFIGURATION (MMC-3): the CD-ROM profile and the
 * features it requires. */
static void ide_atapi_get_configuration(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    unsigned rt = cdb[1] & 0x03;
    uint16_t sfn = be16(cdb + 2);
    uint32_t alloc = be16(cdb + 7);
    if (rt == 3) {
        ide_atapi_invalid_field(d);
        return;
    }
    bool ready = ide_atapi_medium_ready(d);
    uint8_t *b = d->buf;
    memset(b, 0, 256);
    const uint8_t profiles[4] = { 0x00, 0x08, ready ? 0x01 : 0x00, 0x00 };   /* CD-ROM, CurrentP */
    const uint8_t core[4] = { 0x00, 0x00, 0x00, 0x02 };            /* physical interface: ATAPI */
    const uint8_t morphing[4] = { 0x00, 0x00, 0x00, 0x00 };        /* polling only */
    /* Tray loading mechanism, Eject, Lock. */
    const uint8_t removable[4] = { 0x29, 0x00, 0x00, 0x00 };
    uint8_t random_readable[8] = { 0 };
    put_be32(random_readable, IDE_CD_SECTOR_SIZE);
    put_be16(random_readable + 4, 1);                              /* blocking */
    const uint8_t cd_read[4] = { 0x00, 0x00, 0x00, 0x00 };
    uint32_t p = 8;
    p = ide_atapi_feature(b, p, rt, sfn, 0x0000, 0, true, true, profiles, 4);
    p = ide_atapi_feature(b, p, rt, sfn, 0x0001, 0, true, true, core, 4);
    p = ide_atapi_feature(b, p, rt, sfn, 0x0002, 1, true, true, morphing, 4);
    p = ide_atapi_feature(b, p, rt, sfn, 0x0003, 0, true, true, removable, 4);
    p = ide_atapi_feature(b, p, rt, sfn, 0x0010, 0, false, ready, random_readable, 8);
    p = ide_atapi_feature(b, p, rt, sfn, 0x001d, 0, false, ready, NULL, 0);        /* Multi-Read */
    p = ide_atapi_feature(b, p, rt, sfn, 0x001e, 0, false, ready, cd_read, 4);     /* CD Read */
    p = ide_atapi_feature(b, p, rt, sfn, 0x0100, 0, true, true, NULL, 0);          /* Power Management */
    put_be32(b, p - 4);
    put_be16(b + 6, ready ? 0x0008 : 0x0000);                      /* current profile */
    ide_atapi_reply(d, p, alloc, dma);
}

/* GET EVENT STATUS NOTIFICATION (MMC-3), polled, media
 * class only. Reporting an event consumes it. */
static void ide_atapi_get_event_status(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    if (!(cdb[1] & 0x01)) {         /* asynchronous operation is not supported */
        ide_atapi_invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    uint32_t alloc = be16(cdb + 7);
    uint32_t len;
    memset(b, 0, 8);
    b[3] = 0x10;                    /* supported classes: media */
    if (cdb[4] & 0x10) {
        put_be16(b, 6);
        b[2] = 0x04;                /* media class */
        b[4] = d->media_event & 0x0f;
        b[5] = (uint8_t)((d->tray_open ? 0x01 : 0) | (ide_atapi_medium_ready(d) ? 0x02 : 0));
        d->media_event = IDE_MEDIA_EVENT_NONE;
        len = 8;
    } else {
        put_be16(b, 2);
        b[2] = 0x80;                /* NEA: no class requested is supported */
        len = 4;
    }
    ide_atapi_reply(d, len, alloc, dma);
}

/* Mode pages: read error recovery (01h), CD device parameters (0Dh) and
 * CD capabilities and mechanical status (2Ah), MMC-3 "Mode Parameters". */
static uint32_t ide_atapi_mode_page(struct ide_drive *d, uint8_t *p, unsigned page, bool changeable)
{
    uint32_t len;
    switch (page) {
    case 0x01:
        len = 12;
        memset(p, 0, len);
        if (!changeable) {
            p[3] = 5;               /* read retry count */
            p[8] = 5;               /* write retry count */
        }
        break;
    case 0x0d:
        len = 8;
        memset(p, 0, len);
        if (!changeable) {
            p[5] = 60;              /* S units per M */
            p[7] = 75;              /* F units per S */
        }
        break;
    case 0x2a:
        len = 20;
        memset(p, 0, len);
        if (!changeable) {
            p[4] = 0x40;            /* multi-session */
            /* Tray, eject, lock supported, lock state. */
            p[6] = (uint8_t)(0x29 | (d->prevent ? 0x02 : 0));
            put_be16(p + 8, 4234);  /* maximum read speed, kB/s (24x) */
            put_be16(p + 10, 256);  /* volume levels */
            put_be16(p + 12, 512);  /* buffer size, KiB */
            put_be16(p + 14, 4234); /* current read speed */
        }
        break;
    default:
        return 0;
    }
    p[0] = (uint8_t)page;
    p[1] = (uint8_t)(len - 2);
    return len;
}

static void ide_atapi_mode_sense(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    unsigned pc = cdb[2] >> 6;
    unsigned page = cdb[2] & 0x3f;
    uint32_t alloc = be16(cdb + 7);
    if (pc == 3) {
        ide_atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    bool changeable = pc == 1;
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    uint32_t p = 8;
    if (page == 0x3f) {
        p += ide_atapi_mode_page(d, b + p, 0x01, changeable);
        p += ide_atapi_mode_page(d, b + p, 0x0d, changeable);
        p += ide_atapi_mode_page(d, b + p, 0x2a, changeable);
    } else {
        uint32_t n = ide_atapi_mode_page(d, b + p, page, changeable);
        if (n == 0) {
            ide_atapi_invalid_field(d);
            return;
        }
        p += n;
    }
    put_be16(b, (uint16_t)(p - 2));
    /* Medium type: 01h 120 mm data CD, 70h door closed no disc, 71h door open. */
    b[2] = ide_atapi_medium_ready(d) ? 0x01 : d->tray_open ? 0x71 : 0x70;
    ide_atapi_reply(d, p, alloc, dma);
}

/* START STOP UNIT (MMC-3). */
static void ide_atapi_start_stop(struct ide_drive *d, const uint8_t *cdb)
{
    bool start = cdb[4] & 0x01;
    bool loej = cdb[4] & 0x02;
    if ((cdb[4] >> 4) || !loej) {   /* power conditions, spin up/down: nothing to do */
        ide_atapi_ok(d);
        return;
    }
    if (!start) {
        if (d->prevent) {
            ide_atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_MEDIUM_REMOVAL_PREVENTED, 0x02);
            return;
        }
        if (!d->tray_open) {
            d->tray_open = 1;
            if (d->bd)
                d->media_event = IDE_MEDIA_EVENT_REMOVAL;
            struct ide *ide = d->ch->ide;
            if (ide->eject)
                ide->eject(ide->eject_opaque, d->ch->index, d->unit);
        }
    } else if (d->tray_open) {
        d->tray_open = 0;
        if (d->bd) {
            d->unit_attention = 1;
            d->media_event = IDE_MEDIA_EVENT_NEW_MEDIA;
        }
    }
    ide_atapi_ok(d);
}

/* READ DISC INFORMATION (MMC-3): a complete (closed)
 * single-session disc. */
static void ide_atapi_read_disc_info(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    if (cdb[1] & 0x07) {
        ide_atapi_invalid_field(d);
        return;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 0x0e;                    /* last session complete, disc complete */
    b[3] = 1;                       /* first track on disc */
    b[4] = 1;                       /* sessions */
    b[5] = 1;                       /* first track in last session */
    b[6] = 1;                       /* last track in last session */
    b[8] = 0x00;                    /* disc type: CD-DA or CD-ROM */
    memset(b + 16, 0xff, 8);        /* no lead-in / lead-out for a closed disc */
    ide_atapi_reply(d, 34, be16(cdb + 7), dma);
}

/* MECHANISM STATUS (MMC-3): no changer, no slot tables. */
static void ide_atapi_mechanism_status(struct ide_drive *d, const uint8_t *cdb, bool dma)
{
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    b[1] = d->tray_open ? 0x10 : 0x00;      /* door open */
    ide_atapi_reply(d, 8, be16(cdb + 8), dma);
}

static bool ide_atapi_needs_medium(uint8_t op)
{
    switch (op) {
    case SCSI_TEST_UNIT_READY:
    case SCSI_READ_CAPACITY:
    case SCSI_READ_10:
    case SCSI_READ_12:
    case SCSI_READ_CD:
    case SCSI_READ_TOC:
    case SCSI_READ_DISC_INFO:
    case SCSI_SEEK_10:
        return true;
    default:
        return false;
    }
}

/* MMC-3: these report without consuming a unit attention. */
static bool ide_atapi_ignores_unit_attention(uint8_t op)
{
    return op == SCSI_INQUIRY || op == SCSI_REQUEST_SENSE || op == SCSI_GET_CONFIGURATION ||
           op == SCSI_GET_EVENT_STATUS;
}

static void ide_atapi_exec(struct ide_drive *d)
{
    uint8_t cdb[IDE_CDB_LEN];
    memcpy(cdb, d->buf, sizeof(cdb));
    /* Features bit 0 of the PACKET command asks for DMA. */
    bool dma = d->feature & 0x01;
    ide_xfer_stop(d);
    uint8_t op = cdb[0];
    if (op != SCSI_REQUEST_SENSE)
        ide_atapi_set_sense(d, SENSE_NO_SENSE, 0, 0);
    if (d->unit_attention && !ide_atapi_ignores_unit_attention(op)) {
        d->unit_attention = 0;
        ide_atapi_error(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
        return;
    }
    if (ide_atapi_needs_medium(op) && !ide_atapi_medium_ready(d)) {
        ide_atapi_not_ready(d);
        return;
    }
    switch (op) {
    case SCSI_TEST_UNIT_READY:
    case SCSI_SET_CD_SPEED:
        ide_atapi_ok(d);
        break;
    case SCSI_REQUEST_SENSE:
        ide_atapi_request_sense(d, cdb, dma);
        break;
    case SCSI_INQUIRY:
        ide_atapi_inquiry(d, cdb, dma);
        break;
    case SCSI_READ_CAPACITY:
        ide_atapi_read_capacity(d, dma);
        break;
    case SCSI_READ_10:
        ide_atapi_read_sectors(d, be32(cdb + 2), be16(cdb + 7), dma);
        break;
    case SCSI_READ_12:
        ide_atapi_read_sectors(d, be32(cdb + 2), be32(cdb + 6), dma);
        break;
    case SCSI_READ_CD:
        ide_atapi_read_cd(d, cdb, dma);
        break;
    case SCSI_SEEK_10:
        if (be32(cdb + 2) >= d->nsectors)
            ide_atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        else
            ide_atapi_ok(d);
        break;
    case SCSI_READ_TOC:
        ide_atapi_read_toc(d, cdb, dma);
        break;
    case SCSI_GET_CONFIGURATION:
        ide_atapi_get_configuration(d, cdb, dma);
        break;
    case SCSI_GET_EVENT_STATUS:
        ide_atapi_get_event_status(d, cdb, dma);
        break;
    case SCSI_MODE_SENSE_10:
        ide_atapi_mode_sense(d, cdb, dma);
        break;
    case SCSI_START_STOP_UNIT:
        ide_atapi_start_stop(d, cdb);
        break;
    case SCSI_PREVENT_ALLOW:
        d->prevent = cdb[4] & 0x01;
        ide_atapi_ok(d);
        break;
    case SCSI_READ_DISC_INFO:
        ide_atapi_read_disc_info(d, cdb, dma);
        break;
    case SCSI_MECHANISM_STATUS:
        ide_atapi_mechanism_status(d, cdb, dma);
        break;
    default:
        ide_atapi_error(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        break;
    }
}

void ide_atapi_block_done(struct ide_drive *d)
{
    switch (d->xfer) {
    case IDE_XFER_PACKET:
        ide_atapi_exec(d);
        break;
    case IDE_XFER_ATAPI_IN:
        /* After the last block comes the status phase, with an interrupt. */
        if (d->xfer_left == 0)
            ide_atapi_ok(d);
        else
            ide_atapi_next_block(d);
        break;
    default:
        ide_xfer_stop(d);
        break;
    }
}

/* ---- ATA commands of a packet device ---- */

/* IDENTIFY PACKET DEVICE (ATA/ATAPI-6). */
static void ide_atapi_identify(struct ide_drive *d)
{
    uint8_t *id = d->buf;
    memset(id, 0, IDE_SECTOR_SIZE);
    char serial[21];
    snprintf(serial, sizeof(serial), "HOSTEL-CD-%u%u", d->ch->index, d->unit);
    /* ATAPI, CD-ROM (05h), removable, DRQ within 50 us of PACKET without
     * an interrupt, 12-byte packets. */
    ide_put_word(id, 0, 0x85c0);
    ide_put_string(id, 10, 10, serial);
    ide_put_string(id, 23, 4, "1.0");
    ide_put_string(id, 27, 20, "HOSTEL CD-ROM");
    ide_put_word(id, 49, 0x0b00);                   /* IORDY, LBA, DMA */
    ide_put_word(id, 50, 0x4000);
    ide_put_word(id, 53, 0x0006);                   /* words 64-70 and 88 valid */
    uint16_t mwdma = 0x0007;
    if ((d->dma_mode & 0xf8) == 0x20)
        mwdma |= (uint16_t)(0x0100 << (d->dma_mode & 7));
    ide_put_word(id, 63, mwdma);
    ide_put_word(id, 64, 0x0003);
    for (unsigned w = 65; w <= 68; w++)
        ide_put_word(id, w, 120);
    ide_put_word(id, 80, 0x007e);
    /* NOP, DEVICE RESET, PACKET, power management. */
    ide_put_word(id, 82, 0x4218);
    ide_put_word(id, 83, 0x4000);
    ide_put_word(id, 84, 0x4000);
    ide_put_word(id, 85, 0x4218);
    ide_put_word(id, 87, 0x4000);
    uint16_t udma = 0x003f;
    if ((d->dma_mode & 0xf8) == 0x40)
        udma |= (uint16_t)(0x0100 << (d->dma_mode & 7));
    ide_put_word(id, 88, udma);
    ide_put_word(id, 93, (uint16_t)(0x6000 | (d->unit ? 0x0300 : 0x000b)));
    ide_identify_checksum(id);

    d->xfer = IDE_XFER_ATA_IN;
    d->buf_pos = 0;
    d->buf_end = d->buf_len = IDE_SECTOR_SIZE;
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DRQ;
    ide_set_irq(d);
}

/* PACKET (ATA/ATAPI-6): wait for the command packet. With word 0 bits
 * 6:5 = 10b the device asks for it without an interrupt. */
static void ide_atapi_packet(struct ide_drive *d)
{
    d->bcl = (uint16_t)(d->hcyl << 8 | d->lcyl);
    d->xfer = IDE_XFER_PACKET;
    d->buf_pos = 0;
    d->buf_end = d->buf_len = IDE_CDB_LEN;
    d->nsector = IDE_IREASON_COD;
    d->status = IDE_STATUS_DRDY | IDE_STATUS_DRQ;
}

void ide_atapi_command(struct ide_drive *d, uint8_t cmd)
{
    if (d->power_mode == IDE_POWER_SLEEP)
        d->power_mode = IDE_POWER_ACTIVE;
    if (ide_ata_common_command(d, cmd))
        return;
    switch (cmd) {
    case ATA_CMD_IDENTIFY_PACKET:
        ide_atapi_identify(d);
        break;
    case ATA_CMD_PACKET:
        ide_atapi_packet(d);
        break;
    case ATA_CMD_DEVICE_RESET:
        /* DEVICE RESET: reset the device alone, no interrupt. */
        ide_drive_signature(d);
        break;
    case ATA_CMD_IDENTIFY:
        /* A packet device aborts IDENTIFY DEVICE and shows its signature
         * so the host knows to use IDENTIFY PACKET DEVICE (IDENTIFY DEVICE). */
        ide_cmd_error(d, IDE_ERROR_ABRT);
        d->nsector = 1;
        d->sector = 1;
        d->lcyl = 0x14;
        d->hcyl = 0xeb;
        break;
    default:
        ide_cmd_error(d, IDE_ERROR_ABRT);
        break;
    }
}

void ide_atapi_change_medium(struct ide_drive *d, struct blockdev *bd)
{
    bool had = d->bd != NULL;
    bool busy = d->xfer != IDE_XFER_NONE && d->xfer != IDE_XFER_PACKET;
    d->bd = bd;
    d->nsectors = bd ? blockdev_size(bd) / IDE_CD_SECTOR_SIZE : 0;
    if (bd) {
        d->tray_open = 0;
        d->unit_attention = 1;
        d->media_event = IDE_MEDIA_EVENT_NEW_MEDIA;
    } else if (had) {
        d->media_event = IDE_MEDIA_EVENT_REMOVAL;
    }
    /* A transfer from the old medium cannot go on. */
    if (busy) {
        if (bd) {
            d->unit_attention = 0;
            ide_atapi_error(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
        } else {
            ide_atapi_not_ready(d);
        }
    }
}
