/* PIIX3 IDE controller: PCI function, legacy command/control blocks, the
 * SFF-8038i bus master, interrupts, reset and saved state. The ATA command
 * set lives in ide_ata.c and the ATAPI packet commands in ide_atapi.c.
 *
 * Register behaviour follows ATA/ATAPI-6 (T13 1410D); clauses below are
 * named after its headings unless another document is named. Choices
 * where the documents leave room:
 *  - Devices answer at once: BSY is only seen while SRST is held, and a
 *    DRQ block is ready as soon as the command (or the previous block) is.
 *  - A channel with no device at all reads 7Fh on every register: the
 *    host's pull-down on DD7 (its signal description) with the rest
 *    floating high. With one device, reads of the absent one's Status are 00h and its
 *    other registers return what the host wrote ("Device 0 only
 *    configurations").
 *  - A command written while another is still transferring replaces it.
 *  - The bus master follows the device's transfer direction; the
 *    Read/Write Control bit is stored and read back.
 *  - When the bus master cannot reach guest memory (a PRD or the table
 *    outside RAM) it sets its Error bit and stops, and the device aborts
 *    the command with an interrupt, so the guest need not wait for a
 *    timeout. A PRD table that ends before the transfer stops the bus
 *    master with Interrupt and Error clear (SFF-8038i, "Bus Master IDE
 *    Status Register"); the device keeps waiting, and a restart of the bus
 *    master with a fresh table continues where the data stopped.
 *  - Hostel may boot without firmware, so reset leaves the function as a
 *    BIOS would: I/O space enabled and both channels decoded (IDETIM bit
 *    15, which Linux's ata_piix checks), BAR4 unassigned.
 */
#include "ide_internal.h"

#include <stdio.h>
#include <string.h>

/* A PRD table may not cross a 64 KiB boundary (SFF-8038i, "Physical
 * Region Descriptor"), so it holds at most 8192 entries; the walk wraps
 * inside that page. */
#define IDE_PRD_MAX_ENTRIES 8192u
/* Channel with no device: DD7 pulled down, the rest floating. */
#define IDE_FLOATING 0x7f

#define IDE_DEVCTL_BITS (IDE_DEVCTL_NIEN | IDE_DEVCTL_SRST | IDE_DEVCTL_HOB)
#define IDE_BM_STATUS_RW (IDE_BM_STATUS_DMA0 | IDE_BM_STATUS_DMA1)
#define IDE_BM_STATUS_W1C (IDE_BM_STATUS_ERROR | IDE_BM_STATUS_INTR)
#define IDE_BM_STATUS_BITS (IDE_BM_STATUS_ACTIVE | IDE_BM_STATUS_W1C | IDE_BM_STATUS_RW)
#define IDE_BM_CMD_BITS (IDE_BM_CMD_START | IDE_BM_CMD_READ)
/* IDETIM: bits 11-10 are reserved (PIIX3 datasheet, IDETIM register). */
#define IDE_IDETIM_WMASK 0xf3ff

/* ---- Small helpers shared with ide_ata.c / ide_atapi.c ---- */

struct ide_drive *ide_selected(struct ide_channel *ch)
{
    return &ch->drive[(ch->select & IDE_SELECT_DEV) ? 1 : 0];
}

static bool ide_channel_empty(const struct ide_channel *ch)
{
    return ch->drive[0].kind == IDE_KIND_NONE && ch->drive[1].kind == IDE_KIND_NONE;
}

void ide_put_word(uint8_t *id, unsigned word, uint16_t v)
{
    id[2 * word] = (uint8_t)v;
    id[2 * word + 1] = (uint8_t)(v >> 8);
}

void ide_put_string(uint8_t *id, unsigned word, unsigned nwords, const char *s)
{
    size_t len = strlen(s);
    for (unsigned i = 0; i < 2 * nwords; i++) {
        uint8_t c = i < len ? (uint8_t)s[i] : ' ';
        /* The first character of each pair goes in the word's high byte. */
        id[2 * (word + i / 2) + ((i & 1) ? 0 : 1)] = c;
    }
}

void ide_identify_checksum(uint8_t *id)
{
    id[510] = 0xa5;
    uint8_t sum = 0;
    for (unsigned i = 0; i < 511; i++)
        sum = (uint8_t)(sum + id[i]);
    id[511] = (uint8_t)-sum;
}

uint8_t ide_ready_status(const struct ide_drive *d)
{
    /* Bit 4 is DSC for ATA devices but SERV for packet devices, which
     * must leave it clear without overlapped commands ("Status register"). */
    return d->kind == IDE_KIND_DISK ? (IDE_STATUS_DRDY | IDE_STATUS_DSC) : IDE_STATUS_DRDY;
}

/* ---- Interrupts ---- */

void ide_update_irq(struct ide_channel *ch)
{
    struct ide_drive *d = ide_selected(ch);
    /* Only the selected device drives INTRQ, and only with nIEN clear
     * (INTRQ signal description). */
    int level = d->kind != IDE_KIND_NONE && d->irq_pending && !(ch->devctl & IDE_DEVCTL_NIEN);
    if (level == ch->irq_level)
        return;
    /* The bus master's Interrupt bit latches a rising INTRQ (PIIX3 BMISx
     * bit 2). After a restore the previous level is unknown: no latch. */
    if (level && ch->irq_level == 0)
        ch->bm_status |= IDE_BM_STATUS_INTR;
    ch->irq_level = level;
    irq_set_level(ch->irq, level);
}

void ide_set_irq(struct ide_drive *d)
{
    d->irq_pending = 1;
    ide_update_irq(d->ch);
}

/* ---- Command completion ---- */

void ide_xfer_stop(struct ide_drive *d)
{
    d->xfer = IDE_XFER_NONE;
    d->dma = 0;
    d->buf_pos = 0;
    d->buf_end = 0;
    d->buf_len = 0;
    d->sectors_left = 0;
    d->xfer_left = 0;
}

void ide_cmd_ok(struct ide_drive *d)
{
    ide_xfer_stop(d);
    d->status = ide_ready_status(d);
    ide_set_irq(d);
}

void ide_cmd_error(struct ide_drive *d, uint8_t error)
{
    ide_xfer_stop(d);
    d->error = error;
    d->status = ide_ready_status(d) | IDE_STATUS_ERR;
    ide_set_irq(d);
}

void ide_drive_signature(struct ide_drive *d)
{
    /* "Signature and persistence": count 01h, LBA low 01h, LBA mid/high 00h/00h for ATA
     * devices and 14h/EBh for packet devices; error 01h (passed). */
    ide_xfer_stop(d);
    d->irq_pending = 0;
    d->error = 0x01;
    d->feature = d->hob_feature = 0;
    d->nsector = 1;
    d->sector = 1;
    d->lcyl = d->kind == IDE_KIND_CDROM ? 0x14 : 0x00;
    d->hcyl = d->kind == IDE_KIND_CDROM ? 0xeb : 0x00;
    d->hob_nsector = d->hob_sector = d->hob_lcyl = d->hob_hcyl = 0;
    /* Packet devices report 00h until IDENTIFY PACKET DEVICE ("Signature
     * and persistence"); an absent device reads 00h anyway. */
    d->status = d->kind == IDE_KIND_DISK ? (IDE_STATUS_DRDY | IDE_STATUS_DSC) : 0;
    if (d->kind == IDE_KIND_DISK && d->power_mode == IDE_POWER_SLEEP)
        d->power_mode = IDE_POWER_ACTIVE;
}

/* ---- Image I/O ---- */

static bool ide_media_range_ok(struct ide_drive *d, uint32_t buf_off, uint64_t sector, uint32_t count,
                               uint32_t sector_size)
{
    if (d->bd && sector <= d->nsectors && count <= d->nsectors - sector &&
        buf_off <= IDE_BUF_SIZE && (uint64_t)count * sector_size <= IDE_BUF_SIZE - buf_off)
        return true;
    /* Every caller checked the range first; getting here is a bug in this
     * model, reported rather than let through to the image. */
    snprintf(d->io_error, sizeof(d->io_error),
             "The IDE controller refused an access to %u sectors at sector %llu outside the image.",
             count, (unsigned long long)sector);
    return false;
}

int ide_media_read(struct ide_drive *d, void *buf, uint64_t sector, uint32_t count, uint32_t sector_size)
{
    uint8_t *dst = buf;
    if (dst < d->buf || dst > d->buf + IDE_BUF_SIZE)
        return -1;
    if (!ide_media_range_ok(d, (uint32_t)(dst - d->buf), sector, count, sector_size))
        return -1;
    if (blockdev_pread(d->bd, dst, (size_t)count * sector_size, sector * sector_size,
                       d->io_error, sizeof(d->io_error)) < 0)
        return -1;
    return 0;
}

int ide_media_write(struct ide_drive *d, const void *buf, uint64_t sector, uint32_t count)
{
    const uint8_t *src = buf;
    if (src < d->buf || src > d->buf + IDE_BUF_SIZE)
        return -1;
    if (!ide_media_range_ok(d, (uint32_t)(src - d->buf), sector, count, IDE_SECTOR_SIZE))
        return -1;
    if (blockdev_pwrite(d->bd, src, (size_t)count * IDE_SECTOR_SIZE, sector * IDE_SECTOR_SIZE,
                        d->io_error, sizeof(d->io_error)) < 0)
        return -1;
    return 0;
}

int ide_media_flush(struct ide_drive *d)
{
    if (!d->bd)
        return 0;
    return blockdev_flush(d->bd, d->io_error, sizeof(d->io_error));
}

/* ---- Transfers ---- */

static bool ide_xfer_in(const struct ide_drive *d)
{
    return d->xfer == IDE_XFER_ATA_IN || d->xfer == IDE_XFER_ATA_READ || d->xfer == IDE_XFER_ATAPI_IN;
}

static bool ide_xfer_out(const struct ide_drive *d)
{
    return d->xfer == IDE_XFER_ATA_WRITE || d->xfer == IDE_XFER_PACKET;
}

static void ide_block_done(struct ide_drive *d)
{
    switch (d->xfer) {
    case IDE_XFER_ATA_IN:
    case IDE_XFER_ATA_READ:
    case IDE_XFER_ATA_WRITE:
        ide_ata_block_done(d);
        break;
    case IDE_XFER_PACKET:
    case IDE_XFER_ATAPI_IN:
        ide_atapi_block_done(d);
        break;
    default:
        ide_xfer_stop(d);
        break;
    }
}

/* A PIO transfer through the data port, `size` bytes of the current DRQ
 * block. An access that runs past the end of the block (a 32-bit access
 * to an odd-word ATAPI block) ends with it: on real hardware the second
 * half finds DRQ clear and moves nothing, so it must not take bytes of
 * the next block either. Outside a PIO transfer the port floats. */
static uint32_t ide_data_read(struct ide_channel *ch, unsigned size)
{
    struct ide_drive *d = ide_selected(ch);
    uint32_t v = 0xffffffffu;
    if (d->kind == IDE_KIND_NONE || d->dma || !ide_xfer_in(d) || d->buf_end > IDE_BUF_SIZE)
        return v;
    for (unsigned i = 0; i < size && i < 4 && d->buf_pos < d->buf_end; i++) {
        v &= ~(0xffu << (8 * i));
        v |= (uint32_t)d->buf[d->buf_pos++] << (8 * i);
    }
    if (d->buf_pos == d->buf_end)
        ide_block_done(d);
    return v;
}

static void ide_data_write(struct ide_channel *ch, uint32_t value, unsigned size)
{
    struct ide_drive *d = ide_selected(ch);
    if (d->kind == IDE_KIND_NONE || d->dma || !ide_xfer_out(d) || d->buf_end > IDE_BUF_SIZE)
        return;
    for (unsigned i = 0; i < size && i < 4 && d->buf_pos < d->buf_end; i++)
        d->buf[d->buf_pos++] = (uint8_t)(value >> (8 * i));
    if (d->buf_pos == d->buf_end)
        ide_block_done(d);
}

/* ---- Bus master (SFF-8038i) ---- */

static bool ide_dma_pending(const struct ide_drive *d)
{
    return d->kind != IDE_KIND_NONE && d->dma &&
           (d->xfer == IDE_XFER_ATA_READ || d->xfer == IDE_XFER_ATA_WRITE || d->xfer == IDE_XFER_ATAPI_IN);
}

static uint32_t ide_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The bus master could not reach guest memory. */
static void ide_dma_fail(struct ide_channel *ch, struct ide_drive *d)
{
    ch->bm_status |= IDE_BM_STATUS_ERROR;
    ch->bm_status &= (uint8_t)~IDE_BM_STATUS_ACTIVE;
    if (d->kind == IDE_KIND_DISK)
        ide_ata_dma_failed(d);
    else
        ide_atapi_dma_failed(d);
}

/* Move data between the selected drive's buffer and the regions of the PRD
 * table, chunk by chunk, until the command completes, the table ends or
 * memory is unreachable. Each PRD is 8 bytes: a 32-bit physical address
 * (bit 0 zero), a 16-bit byte count (0 = 64 KiB, bit 0 zero) and EOT in
 * bit 31 of the second dword (SFF-8038i, "Physical Region Descriptor"). */
static void ide_bm_run(struct ide_channel *ch)
{
    if (!(ch->bm_cmd & IDE_BM_CMD_START) || !(ch->bm_status & IDE_BM_STATUS_ACTIVE))
        return;
    struct ide_drive *d = ide_selected(ch);
    if (!ide_dma_pending(d))
        return;
    struct guest_mem *mem = ch->ide->mem;
    uint32_t table = ch->bm_prd;
    unsigned entries = 0;
    uint64_t addr = 0;
    uint32_t left = 0;
    bool eot = false;
    while (ide_dma_pending(d)) {
        if (left == 0) {
            if (eot || entries == IDE_PRD_MAX_ENTRIES) {
                /* Table exhausted before the device finished. */
                ch->bm_status &= (uint8_t)~IDE_BM_STATUS_ACTIVE;
                return;
            }
            uint8_t e[8];
            if (!mem || guest_mem_read(mem, table, e, sizeof(e)) < 0) {
                ide_dma_fail(ch, d);
                return;
            }
            addr = ide_le32(e) & ~1u;
            uint32_t count = ide_le32(e + 4) & 0xfffe;
            left = count ? count : 0x10000;
            eot = ide_le32(e + 4) & IDE_PRD_EOT;
            entries++;
            table = (table & 0xffff0000u) | ((table + 8) & 0xffffu);
            continue;
        }
        if (d->buf_pos > d->buf_end || d->buf_end > IDE_BUF_SIZE) {
            ide_dma_fail(ch, d);
            return;
        }
        uint32_t n = d->buf_end - d->buf_pos;
        if (n > left)
            n = left;
        if (n) {
            /* PRD addresses are 32-bit: a region may not run past 4 GiB. */
            if (addr + n > 0x100000000ull) {
                ide_dma_fail(ch, d);
                return;
            }
            int r = d->xfer == IDE_XFER_ATA_WRITE ? guest_mem_read(mem, addr, d->buf + d->buf_pos, n)
                                                  : guest_mem_write(mem, addr, d->buf + d->buf_pos, n);
            if (r < 0) {
                ide_dma_fail(ch, d);
                return;
            }
            d->buf_pos += n;
            addr += n;
            left -= n;
        }
        if (d->buf_pos == d->buf_end) {
            ide_block_done(d);
            /* A transfer that continues always brings a fresh chunk; guard
             * against looping on an empty one all the same. */
            if (ide_dma_pending(d) && d->buf_pos == d->buf_end) {
                ide_dma_fail(ch, d);
                return;
            }
        }
    }
    /* Done. If the last region was used up exactly, the table is
     * exhausted and Active clears; a larger table leaves it set. */
    if (left == 0 && eot)
        ch->bm_status &= (uint8_t)~IDE_BM_STATUS_ACTIVE;
}

void ide_dma_ready(struct ide_drive *d)
{
    ide_bm_run(d->ch);
}

static void ide_bm_write_cmd(struct ide_channel *ch, uint8_t v)
{
    uint8_t old = ch->bm_cmd;
    /* Read/Write Control must not change while the engine runs. */
    if (old & IDE_BM_CMD_START)
        v = (uint8_t)((v & IDE_BM_CMD_START) | (old & IDE_BM_CMD_READ));
    ch->bm_cmd = v & IDE_BM_CMD_BITS;
    if (!(old & IDE_BM_CMD_START) && (v & IDE_BM_CMD_START)) {
        ch->bm_status |= IDE_BM_STATUS_ACTIVE;
        ide_bm_run(ch);
    } else if ((old & IDE_BM_CMD_START) && !(v & IDE_BM_CMD_START)) {
        /* Stopping discards the engine's state; the device keeps its own. */
        ch->bm_status &= (uint8_t)~IDE_BM_STATUS_ACTIVE;
    }
}

static uint8_t ide_bm_readb(struct ide *ide, unsigned off)
{
    struct ide_channel *ch = &ide->chan[off >= IDE_BM_CHANNEL_STRIDE];
    unsigned r = off % IDE_BM_CHANNEL_STRIDE;
    switch (r) {
    case IDE_BM_CMD:
        return ch->bm_cmd;
    case IDE_BM_STATUS:
        return ch->bm_status;
    case IDE_BM_PRD:
    case IDE_BM_PRD + 1:
    case IDE_BM_PRD + 2:
    case IDE_BM_PRD + 3:
        return (uint8_t)(ch->bm_prd >> (8 * (r - IDE_BM_PRD)));
    default:
        return 0;       /* reserved */
    }
}

static void ide_bm_writeb(struct ide *ide, unsigned off, uint8_t v)
{
    struct ide_channel *ch = &ide->chan[off >= IDE_BM_CHANNEL_STRIDE];
    unsigned r = off % IDE_BM_CHANNEL_STRIDE;
    switch (r) {
    case IDE_BM_CMD:
        ide_bm_write_cmd(ch, v);
        break;
    case IDE_BM_STATUS: {
        uint8_t s = (uint8_t)((ch->bm_status & ~IDE_BM_STATUS_RW) | (v & IDE_BM_STATUS_RW));
        s &= (uint8_t)~(v & IDE_BM_STATUS_W1C);
        ch->bm_status = s;
        break;
    }
    case IDE_BM_PRD:
    case IDE_BM_PRD + 1:
    case IDE_BM_PRD + 2:
    case IDE_BM_PRD + 3: {
        unsigned shift = 8 * (r - IDE_BM_PRD);
        uint32_t p = (ch->bm_prd & ~(0xffu << shift)) | ((uint32_t)v << shift);
        ch->bm_prd = p & ~3u;   /* dword aligned */
        break;
    }
    default:
        break;
    }
}

static uint64_t ide_bm_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 8; i++) {
        uint64_t o = offset + i;
        uint64_t b = o < IDE_BM_SIZE ? ide_bm_readb(opaque, (unsigned)o) : 0xff;
        v |= b << (8 * i);
    }
    return v;
}

static void ide_bm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size && i < 8; i++) {
        uint64_t o = offset + i;
        if (o < IDE_BM_SIZE)
            ide_bm_writeb(opaque, (unsigned)o, (uint8_t)(value >> (8 * i)));
    }
}

const struct bus_ops ide_bm_bus_ops = {
    .read = ide_bm_read,
    .write = ide_bm_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

/* ---- Command block and control block ---- */

/* The legacy ports answer while the function's I/O space is enabled and
 * the channel's IDETIM decode bit is set (PIIX3 datasheet: PCICMD IOSE, IDETIM IDE decode enable). */
static bool ide_decodes(const struct ide_channel *ch)
{
    const struct pci_device *pci = &ch->ide->pci;
    unsigned reg = ch->index ? IDE_PCI_IDETIM_SEC : IDE_PCI_IDETIM_PRI;
    return (pci_config_get16(pci, PCI_COMMAND) & PCI_COMMAND_IO) &&
           (pci_config_get16(pci, reg) & IDE_IDETIM_DECODE);
}

static void ide_execute_diagnostic(struct ide_channel *ch)
{
    /* EXECUTE DEVICE DIAGNOSTIC: both devices run it whatever DEV says; device 0
     * reports for the pair and interrupts. */
    for (unsigned u = 0; u < IDE_UNITS; u++)
        ide_drive_signature(&ch->drive[u]);
    ch->select = 0;
    if (ch->drive[0].kind != IDE_KIND_NONE)
        ide_set_irq(&ch->drive[0]);
    else if (ch->drive[1].kind != IDE_KIND_NONE)
        ide_set_irq(&ch->drive[1]);
    ide_update_irq(ch);
}

static void ide_command(struct ide_channel *ch, uint8_t cmd)
{
    if (ch->devctl & IDE_DEVCTL_SRST)
        return;
    if (cmd == ATA_CMD_EXECUTE_DIAGNOSTIC) {
        ide_execute_diagnostic(ch);
        return;
    }
    struct ide_drive *d = ide_selected(ch);
    if (d->kind == IDE_KIND_NONE)
        return;         /* device 0 does not execute device 1's commands */
    /* Writing the Command register clears a pending interrupt (5.2.9). */
    d->irq_pending = 0;
    ide_update_irq(ch);
    ide_xfer_stop(d);
    d->cmd = cmd;
    if (d->kind == IDE_KIND_DISK)
        ide_ata_command(d, cmd);
    else
        ide_atapi_command(d, cmd);
}

static uint8_t ide_reg_read(struct ide_channel *ch, unsigned reg)
{
    if (ide_channel_empty(ch))
        return IDE_FLOATING;
    struct ide_drive *d = ide_selected(ch);
    bool hob = ch->devctl & IDE_DEVCTL_HOB;
    switch (reg) {
    case IDE_REG_ERROR:
        return d->error;
    case IDE_REG_NSECTOR:
        return hob ? d->hob_nsector : d->nsector;
    case IDE_REG_SECTOR:
        return hob ? d->hob_sector : d->sector;
    case IDE_REG_LCYL:
        return hob ? d->hob_lcyl : d->lcyl;
    case IDE_REG_HCYL:
        return hob ? d->hob_hcyl : d->hcyl;
    case IDE_REG_SELECT:
        return ch->select;
    case IDE_REG_STATUS:
        if (d->kind == IDE_KIND_NONE)
            return 0;
        /* Reading Status acknowledges the interrupt ("Status register"). */
        d->irq_pending = 0;
        ide_update_irq(ch);
        return d->status;
    default:
        return 0xff;
    }
}

static void ide_latch(uint8_t *reg, uint8_t *hob, uint8_t v)
{
    *hob = *reg;
    *reg = v;
}

static void ide_reg_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
    /* Both devices latch every register write except Command. A write
     * to any command block register clears HOB ("Device Control register"). */
    if (reg != IDE_REG_COMMAND)
        ch->devctl &= (uint8_t)~IDE_DEVCTL_HOB;
    for (unsigned u = 0; u < IDE_UNITS && reg != IDE_REG_COMMAND && reg != IDE_REG_SELECT; u++) {
        struct ide_drive *d = &ch->drive[u];
        switch (reg) {
        case IDE_REG_FEATURE:
            ide_latch(&d->feature, &d->hob_feature, v);
            break;
        case IDE_REG_NSECTOR:
            ide_latch(&d->nsector, &d->hob_nsector, v);
            break;
        case IDE_REG_SECTOR:
            ide_latch(&d->sector, &d->hob_sector, v);
            break;
        case IDE_REG_LCYL:
            ide_latch(&d->lcyl, &d->hob_lcyl, v);
            break;
        case IDE_REG_HCYL:
            ide_latch(&d->hcyl, &d->hob_hcyl, v);
            break;
        default:
            break;
        }
    }
    if (reg == IDE_REG_SELECT) {
        ch->select = v;
        ide_update_irq(ch);
    } else if (reg == IDE_REG_COMMAND) {
        ch->devctl &= (uint8_t)~IDE_DEVCTL_HOB;
        ide_command(ch, v);
    }
}

static uint64_t ide_ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t ide_cmd_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ide_channel *ch = opaque;
    if (size > 4)
        size = 4;
    if (offset >= 8 || !ide_decodes(ch))
        return ide_ones(size);
    if (offset == IDE_REG_DATA) {
        if (ide_channel_empty(ch))
            return 0x7f7f7f7fu & ide_ones(size);
        return ide_data_read(ch, size);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t o = offset + i;
        uint64_t b = o < 8 ? ide_reg_read(ch, (unsigned)o) : 0xff;
        v |= b << (8 * i);
    }
    return v;
}

static void ide_cmd_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct ide_channel *ch = opaque;
    if (size > 4)
        size = 4;
    if (offset >= 8 || !ide_decodes(ch))
        return;
    if (offset == IDE_REG_DATA) {
        ide_data_write(ch, (uint32_t)value, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        uint64_t o = offset + i;
        if (o < 8)
            ide_reg_write(ch, (unsigned)o, (uint8_t)(value >> (8 * i)));
    }
}

const struct bus_ops ide_cmd_bus_ops = {
    .read = ide_cmd_read,
    .write = ide_cmd_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

static void ide_write_devctl(struct ide_channel *ch, uint8_t v)
{
    uint8_t old = ch->devctl;
    ch->devctl = v & IDE_DEVCTL_BITS;
    if (!(old & IDE_DEVCTL_SRST) && (v & IDE_DEVCTL_SRST)) {
        /* Software reset protocol: devices stop what they do and stay busy while SRST
         * is held; INTRQ is negated. */
        for (unsigned u = 0; u < IDE_UNITS; u++) {
            struct ide_drive *d = &ch->drive[u];
            ide_xfer_stop(d);
            d->irq_pending = 0;
            if (d->kind != IDE_KIND_NONE)
                d->status = IDE_STATUS_BSY;
        }
    } else if ((old & IDE_DEVCTL_SRST) && !(v & IDE_DEVCTL_SRST)) {
        for (unsigned u = 0; u < IDE_UNITS; u++)
            ide_drive_signature(&ch->drive[u]);
        ch->select = 0;
    }
    ide_update_irq(ch);
}

static uint64_t ide_ctl_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ide_channel *ch = opaque;
    if (offset != 0 || !ide_decodes(ch))
        return ide_ones(size > 4 ? 4 : size);
    /* Alternate Status: Status without acknowledging the interrupt. */
    uint8_t v;
    if (ide_channel_empty(ch))
        v = IDE_FLOATING;
    else if (ide_selected(ch)->kind == IDE_KIND_NONE)
        v = 0;
    else
        v = ide_selected(ch)->status;
    return v;
}

static void ide_ctl_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct ide_channel *ch = opaque;
    if (offset != 0 || !ide_decodes(ch))
        return;
    ide_write_devctl(ch, (uint8_t)value);
}

const struct bus_ops ide_ctl_bus_ops = {
    .read = ide_ctl_read,
    .write = ide_ctl_write,
    .sizes = BUS_SIZE_1,
};

/* ---- PCI function ---- */

static void ide_bm_remap(struct ide *ide)
{
    uint16_t want = 0;
    uint32_t base = pci_config_get32(&ide->pci, IDE_PCI_BMIBA) & 0xfffffff0u;
    if ((pci_config_get16(&ide->pci, PCI_COMMAND) & PCI_COMMAND_IO) && base <= 0xfff0)
        want = (uint16_t)base;
    if (want == ide->bm_base)
        return;
    if (ide->bm_base)
        bus_unmap(ide->pio, ide->bm_base);
    ide->bm_base = 0;
    /* Port 0 means unassigned; a base on top of another device's ports
     * stays unmapped, as a decode conflict would be on real hardware. */
    if (want && ide->pio && bus_map(ide->pio, want, IDE_BM_SIZE, &ide_bm_bus_ops, ide, "ide-bm") == 0)
        ide->bm_base = want;
}

static void ide_config_written(struct pci_device *pci, unsigned reg, unsigned size)
{
    if (reg < PCI_COMMAND + 2 && reg + size > PCI_COMMAND)
        ide_bm_remap(pci->opaque);
    else if (reg < IDE_PCI_BMIBA + 4 && reg + size > IDE_PCI_BMIBA)
        ide_bm_remap(pci->opaque);
}

static const struct pci_device_ops ide_pci_ops = {
    .config_written = ide_config_written,
};

/* PIIX3 function 1 configuration space (PIIX3 datasheet, IDE interface configuration registers): only I/O
 * space and bus master enables are implemented in PCICMD, the latency
 * timer's upper nibble, BMIBA bits 15-4, IDETIM and SIDETIM. */
static void ide_pci_setup(struct ide *ide)
{
    pci_device_init(&ide->pci, IDE_PCI_VENDOR, IDE_PCI_DEVICE, 0x00, IDE_PCI_CLASS, PCI_HEADER_TYPE_NORMAL,
                    &ide_pci_ops, ide);
    pci_config_set_wmask(&ide->pci, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    pci_config_set16(&ide->pci, PCI_COMMAND, PCI_COMMAND_IO);
    pci_config_set16(&ide->pci, PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FAST_BACK);
    pci_config_set_wmask(&ide->pci, PCI_CACHE_LINE_SIZE, 0, 1);
    pci_config_set_wmask(&ide->pci, PCI_LATENCY_TIMER, 0xf0, 1);
    pci_config_set_wmask(&ide->pci, PCI_INTERRUPT_LINE, 0, 1);
    /* BMIBA: I/O space indicator in bit 0, 16 ports. All 32 address bits
     * are writable, as PCI I/O BARs are, so a sizing write of all-ones
     * reads back 0xfffffff1 (16 ports); bases beyond 64 KiB decode nothing. */
    pci_config_set32(&ide->pci, IDE_PCI_BMIBA, 1);
    pci_config_set_wmask(&ide->pci, IDE_PCI_BMIBA, 0xfffffff0u, 4);
    pci_config_set16(&ide->pci, IDE_PCI_IDETIM_PRI, IDE_IDETIM_DECODE);
    pci_config_set16(&ide->pci, IDE_PCI_IDETIM_SEC, IDE_IDETIM_DECODE);
    pci_config_set_wmask(&ide->pci, IDE_PCI_IDETIM_PRI, IDE_IDETIM_WMASK, 2);
    pci_config_set_wmask(&ide->pci, IDE_PCI_IDETIM_SEC, IDE_IDETIM_WMASK, 2);
    pci_config_set_wmask(&ide->pci, IDE_PCI_SIDETIM, 0xff, 1);
}

/* ---- Device ops ---- */

static void ide_drive_power_on(struct ide_drive *d)
{
    d->cmd = 0;
    d->lba = 0;
    d->bcl = 0;
    d->power_mode = IDE_POWER_ACTIVE;
    memset(d->buf, 0, sizeof(d->buf));
    ide_ata_power_on(d);
    ide_atapi_power_on(d);
    ide_drive_signature(d);
}

static void ide_reset(void *dev)
{
    struct ide *ide = dev;
    ide_pci_setup(ide);
    ide_bm_remap(ide);
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        struct ide_channel *ch = &ide->chan[c];
        ch->select = 0;
        ch->devctl = 0;
        ch->bm_cmd = 0;
        ch->bm_status = 0;
        ch->bm_prd = 0;
        for (unsigned u = 0; u < IDE_UNITS; u++)
            ide_drive_power_on(&ch->drive[u]);
        ch->irq_level = -1;
        ide_update_irq(ch);
    }
}

static void ide_finalize(void *dev)
{
    struct ide *ide = dev;
    if (ide->bm_base)
        bus_unmap(ide->pio, ide->bm_base);
    ide->bm_base = 0;
}

/* A saved stream is as hostile as the guest: bring each transfer back to a
 * consistent state before the data port or the bus master can use it. */
static void ide_drive_post_load(struct ide_drive *d)
{
    bool ok = d->xfer < IDE_XFER_COUNT && d->buf_pos <= d->buf_end && d->buf_end <= IDE_BUF_SIZE &&
              d->buf_len <= IDE_BUF_SIZE;
    if (ok) {
        switch (d->xfer) {
        case IDE_XFER_ATA_IN:
            ok = d->kind != IDE_KIND_NONE && !d->dma;
            break;
        case IDE_XFER_ATA_READ:
            ok = d->kind == IDE_KIND_DISK;
            break;
        case IDE_XFER_ATA_WRITE:
            ok = d->kind == IDE_KIND_DISK && d->buf_end % IDE_SECTOR_SIZE == 0;
            break;
        case IDE_XFER_PACKET:
            ok = d->kind == IDE_KIND_CDROM && !d->dma && d->buf_end == 12;
            break;
        case IDE_XFER_ATAPI_IN:
            ok = d->kind == IDE_KIND_CDROM && d->buf_end <= d->buf_len;
            break;
        default:
            break;
        }
    }
    if (!ok) {
        ide_xfer_stop(d);
        if (d->kind != IDE_KIND_NONE)
            d->status = ide_ready_status(d);
    }
    d->dma = d->dma ? 1 : 0;
    d->irq_pending = d->irq_pending ? 1 : 0;
    if (d->mult_sectors > IDE_MAX_MULTIPLE || (d->mult_sectors & (d->mult_sectors - 1)))
        d->mult_sectors = 0;
    if (d->cur_heads == 0 || d->cur_heads > 16 || d->cur_spt == 0) {
        d->cur_heads = (uint8_t)(d->def_heads ? d->def_heads : 16);
        d->cur_spt = (uint8_t)(d->def_spt ? d->def_spt : 63);
        d->cur_cyls = d->def_cyls;
    }
    if (d->power_mode > IDE_POWER_SLEEP)
        d->power_mode = IDE_POWER_ACTIVE;
    d->sense_key &= 0x0f;
}

static void ide_post_load(void *dev)
{
    struct ide *ide = dev;
    /* Identity and fixed bits come from the model, not the stream. */
    struct pci_device saved = ide->pci;
    ide_pci_setup(ide);
    for (unsigned r = 0; r < PCI_CONFIG_SPACE_SIZE; r++) {
        uint8_t m = ide->pci.wmask[r] | ide->pci.w1cmask[r];
        ide->pci.config[r] = (uint8_t)((ide->pci.config[r] & ~m) | (saved.config[r] & m));
    }
    ide_bm_remap(ide);
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        struct ide_channel *ch = &ide->chan[c];
        ch->devctl &= IDE_DEVCTL_BITS;
        ch->bm_cmd &= IDE_BM_CMD_BITS;
        ch->bm_status &= IDE_BM_STATUS_BITS;
        ch->bm_prd &= ~3u;
        for (unsigned u = 0; u < IDE_UNITS; u++)
            ide_drive_post_load(&ch->drive[u]);
        ch->irq_level = -1;
        ide_update_irq(ch);
    }
}

/* One drive's saved fields, written out once per channel/unit so each has
 * its own name in the stream ("chan[0].drive[1].status"). */
#define IDE_DRIVE_VMSTATE(c, u) \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].feature, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].hob_feature, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].nsector, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].hob_nsector, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].sector, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].hob_sector, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].lcyl, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].hob_lcyl, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].hcyl, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].hob_hcyl, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].status, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].error, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].irq_pending, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].cmd, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].xfer, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].dma, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].power_mode, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].buf_pos, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].buf_end, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].buf_len, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].lba, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].sectors_left, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].xfer_left, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].bcl, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].mult_sectors, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].cur_heads, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].cur_spt, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].cur_cyls, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].write_cache, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].pio_mode, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].dma_mode, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].sense_key, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].asc, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].ascq, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].unit_attention, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].media_event, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].prevent, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].tray_open, 1), \
    VMSTATE_FIELD(struct ide, chan[c].drive[u].buf, 1)

#define IDE_CHANNEL_VMSTATE(c) \
    VMSTATE_FIELD(struct ide, chan[c].select, 1), \
    VMSTATE_FIELD(struct ide, chan[c].devctl, 1), \
    VMSTATE_FIELD(struct ide, chan[c].bm_cmd, 1), \
    VMSTATE_FIELD(struct ide, chan[c].bm_status, 1), \
    VMSTATE_FIELD(struct ide, chan[c].bm_prd, 1), \
    IDE_DRIVE_VMSTATE(c, 0), \
    IDE_DRIVE_VMSTATE(c, 1)

static const struct vmstate_field ide_vmstate_fields[] = {
    VMSTATE_FIELD(struct ide, pci.config, 1),
    IDE_CHANNEL_VMSTATE(0),
    IDE_CHANNEL_VMSTATE(1),
};

static const struct vmstate_desc ide_vmstate = {
    .name = "ide",
    .version = 1,
    .fields = ide_vmstate_fields,
    .nfields = sizeof(ide_vmstate_fields) / sizeof(ide_vmstate_fields[0]),
    .post_load = ide_post_load,
};

const struct device_ops ide_device_ops = {
    .name = "ide",
    .reset = ide_reset,
    .finalize = ide_finalize,
    .vmstate = &ide_vmstate,
    .size = sizeof(struct ide),
};

/* ---- Public API ---- */

void ide_init(struct ide *ide, struct bus *pio, struct guest_mem *mem,
              struct irq_line *irq14, struct irq_line *irq15)
{
    memset(ide, 0, sizeof(*ide));
    ide->pio = pio;
    ide->mem = mem;
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        struct ide_channel *ch = &ide->chan[c];
        ch->ide = ide;
        ch->index = c;
        ch->irq = c ? irq15 : irq14;
        for (unsigned u = 0; u < IDE_UNITS; u++) {
            ch->drive[u].ch = ch;
            ch->drive[u].unit = u;
        }
    }
    ide_reset(ide);
}

static struct ide_drive *ide_drive_at(struct ide *ide, unsigned channel, unsigned unit)
{
    if (channel >= IDE_CHANNELS || unit >= IDE_UNITS)
        return NULL;
    return &ide->chan[channel].drive[unit];
}

/* Default translation ("CHS translation"): 16 heads and 63 sectors per track,
 * at most 16383 cylinders; a disk too small for one full cylinder gets
 * fewer heads (and sectors) so C*H*S never exceeds its capacity. */
static void ide_default_geometry(struct ide_drive *d)
{
    uint64_t total = d->nsectors;
    uint64_t spt = 63, heads = 16;
    if (total < heads * spt) {
        heads = total / spt;
        if (heads == 0) {
            heads = 1;
            spt = total;
        }
    }
    uint64_t cyls = total / (heads * spt);
    if (cyls > 16383)
        cyls = 16383;
    d->def_cyls = (uint16_t)cyls;
    d->def_heads = (uint16_t)heads;
    d->def_spt = (uint16_t)spt;
}

int ide_attach_disk(struct ide *ide, unsigned channel, unsigned unit, struct blockdev *bd)
{
    struct ide_drive *d = ide_drive_at(ide, channel, unit);
    if (!d || d->kind != IDE_KIND_NONE || !bd || blockdev_size(bd) < IDE_SECTOR_SIZE)
        return -1;
    d->kind = IDE_KIND_DISK;
    d->bd = bd;
    d->nsectors = blockdev_size(bd) / IDE_SECTOR_SIZE;
    d->io_error[0] = 0;
    ide_default_geometry(d);
    ide_drive_power_on(d);
    ide_update_irq(d->ch);
    return 0;
}

int ide_attach_cdrom(struct ide *ide, unsigned channel, unsigned unit, struct blockdev *bd)
{
    struct ide_drive *d = ide_drive_at(ide, channel, unit);
    if (!d || d->kind != IDE_KIND_NONE)
        return -1;
    d->kind = IDE_KIND_CDROM;
    d->bd = bd;
    d->nsectors = bd ? blockdev_size(bd) / IDE_CD_SECTOR_SIZE : 0;
    d->io_error[0] = 0;
    ide_drive_power_on(d);
    ide_update_irq(d->ch);
    return 0;
}

int ide_cdrom_change(struct ide *ide, unsigned channel, unsigned unit, struct blockdev *bd)
{
    struct ide_drive *d = ide_drive_at(ide, channel, unit);
    if (!d || d->kind != IDE_KIND_CDROM)
        return -1;
    ide_atapi_change_medium(d, bd);
    return 0;
}

struct blockdev *ide_blockdev(const struct ide *ide, unsigned channel, unsigned unit)
{
    if (channel >= IDE_CHANNELS || unit >= IDE_UNITS)
        return NULL;
    return ide->chan[channel].drive[unit].bd;
}

bool ide_cdrom_tray_open(const struct ide *ide, unsigned channel, unsigned unit)
{
    if (channel >= IDE_CHANNELS || unit >= IDE_UNITS)
        return false;
    const struct ide_drive *d = &ide->chan[channel].drive[unit];
    return d->kind == IDE_KIND_CDROM && d->tray_open;
}

void ide_set_eject_handler(struct ide *ide, ide_eject_fn *fn, void *opaque)
{
    ide->eject = fn;
    ide->eject_opaque = opaque;
}

const char *ide_io_error(const struct ide *ide, unsigned channel, unsigned unit)
{
    if (channel >= IDE_CHANNELS || unit >= IDE_UNITS)
        return "";
    return ide->chan[channel].drive[unit].io_error;
}

uint16_t ide_bm_base(const struct ide *ide)
{
    return ide->bm_base;
}
