/* PIIX3 IDE controller (Intel 82371SB PIIX3 datasheet, function 1) with
 * ATA disks and ATAPI CD-ROM drives.
 *
 * The PCI function 8086:7010 (class 01 01 80: IDE, both channels in
 * compatibility mode, bus-master capable) decodes the legacy ports:
 *   primary   command block 0x1F0-0x1F7, control block 0x3F6, IRQ 14
 *   secondary command block 0x170-0x177, control block 0x376, IRQ 15
 * which the board maps with ide_cmd_bus_ops / ide_ctl_bus_ops (opaque =
 * &ide->chan[n]), and the 16-port bus-master block (SFF-8038i) at BAR4,
 * which the device maps on the I/O bus itself whenever the guest moves BAR4
 * or flips the command register's I/O enable.
 *
 * Each channel has a master and a slave (unit 0 and 1), each absent, an ATA
 * disk or an ATAPI CD-ROM. Disk and CD I/O, including bus-master DMA, runs
 * synchronously in the vCPU thread that made the triggering port access,
 * under the VM's device lock: a large transfer holds that vCPU (and the
 * lock) until the image I/O is done. That is fine for now; an I/O thread
 * can come later without changing the guest-visible behaviour.
 *
 * Blockdevs stay owned by the caller: the controller never closes one.
 */
#ifndef HOSTEL_IDE_H
#define HOSTEL_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "blockdev.h"
#include "bus.h"
#include "device.h"
#include "irq.h"
#include "memory.h"
#include "pci_device.h"

#define IDE_CHANNELS 2
#define IDE_UNITS 2
/* Per-drive transfer buffer: 16 CD sectors, 64 disk sectors. */
#define IDE_BUF_SIZE (32 * 1024)
#define IDE_IO_ERROR_LEN 256

enum ide_kind {
    IDE_KIND_NONE = 0,
    IDE_KIND_DISK = 1,
    IDE_KIND_CDROM = 2,
};

struct ide;
struct ide_channel;

struct ide_drive {
    /* Wiring (not saved): what is attached. */
    struct ide_channel *ch;
    unsigned unit;
    uint8_t kind;                   /* enum ide_kind */
    struct blockdev *bd;            /* disk image, or CD medium (NULL: none) */
    uint64_t nsectors;              /* disk: 512-byte sectors; CD: 2048-byte */
    uint16_t def_cyls, def_heads, def_spt;     /* disk default geometry */
    char io_error[IDE_IO_ERROR_LEN];           /* last backend error, "" if none */

    /* Task file as this device latched it (ATA/ATAPI-6, I/O registers). The
     * hob_ copies are the previous contents, for 48-bit commands. */
    uint8_t feature, hob_feature;
    uint8_t nsector, hob_nsector;   /* ATAPI: interrupt reason */
    uint8_t sector, hob_sector;     /* LBA low */
    uint8_t lcyl, hob_lcyl;         /* LBA mid;  ATAPI: byte count low */
    uint8_t hcyl, hob_hcyl;         /* LBA high; ATAPI: byte count high */
    uint8_t status;
    uint8_t error;
    uint8_t irq_pending;            /* INTRQ asserted by this device */

    /* Command and transfer in progress. */
    uint8_t cmd;                    /* ATA command being executed */
    uint8_t xfer;                   /* IDE_XFER_* (ide_internal.h) */
    uint8_t dma;                    /* 1: the data moves by bus-master DMA */
    uint8_t power_mode;             /* IDE_POWER_* */
    uint32_t buf_pos;               /* next byte of the current block */
    uint32_t buf_end;               /* end of the current DRQ block / DMA chunk */
    uint32_t buf_len;               /* bytes of valid data in buf (data-in) */
    uint64_t lba;                   /* next media sector to read or write */
    uint32_t sectors_left;          /* media sectors not yet read/written */
    uint64_t xfer_left;             /* ATAPI: bytes after the current block */
    uint16_t bcl;                   /* ATAPI: byte count limit of the PACKET command */

    /* ATA settings (SET MULTIPLE MODE, INITIALIZE DEVICE PARAMETERS, SET FEATURES). */
    uint8_t mult_sectors;           /* 0: multiple mode off */
    uint8_t cur_heads, cur_spt;
    uint16_t cur_cyls;
    uint8_t write_cache;
    uint8_t pio_mode;               /* SET FEATURES transfer mode values */
    uint8_t dma_mode;               /* 0x20|n multiword DMA n, 0x40|n UDMA n, 0 none */

    /* ATAPI state. */
    uint8_t sense_key, asc, ascq;
    uint8_t unit_attention;         /* MEDIUM MAY HAVE CHANGED pending */
    uint8_t media_event;            /* GET EVENT STATUS NOTIFICATION media event code */
    uint8_t prevent;                /* PREVENT ALLOW MEDIUM REMOVAL */
    uint8_t tray_open;

    uint8_t buf[IDE_BUF_SIZE];
};

struct ide_channel {
    /* Wiring (not saved). */
    struct ide *ide;
    unsigned index;
    struct irq_line *irq;
    int irq_level;                  /* level last driven, -1 = unknown */

    /* Saved. */
    uint8_t select;                 /* Device register: DEV bit 4, LBA bit 6, head */
    uint8_t devctl;                 /* Device Control: nIEN, SRST, HOB */
    uint8_t bm_cmd;                 /* SFF-8038i Bus Master IDE Command */
    uint8_t bm_status;              /* Bus Master IDE Status */
    uint32_t bm_prd;                /* Descriptor Table Pointer */
    struct ide_drive drive[IDE_UNITS];
};

/* Called when the guest opens the tray of a CD-ROM (START STOP UNIT with
 * LoEj). The medium stays attached with the tray open; the machine may
 * tell the user and later call ide_cdrom_change. Runs under the device
 * lock in a vCPU thread: it must not call back into the controller. */
typedef void ide_eject_fn(void *opaque, unsigned channel, unsigned unit);

struct ide {
    struct pci_device pci;          /* saved: configuration space */
    /* Wiring (not saved). */
    struct bus *pio;
    struct guest_mem *mem;
    uint16_t bm_base;               /* where the BAR4 block is mapped, 0 = not */
    ide_eject_fn *eject;
    void *eject_opaque;

    struct ide_channel chan[IDE_CHANNELS];
};

extern const struct device_ops ide_device_ops;
/* Command block: 8 ports (0x1F0 / 0x170), opaque = &ide->chan[0] / [1]. */
extern const struct bus_ops ide_cmd_bus_ops;
/* Control block: 1 port (0x3F6 / 0x376), opaque = &ide->chan[0] / [1]. */
extern const struct bus_ops ide_ctl_bus_ops;
/* Bus-master block (16 ports, opaque = ide); the device maps it itself at
 * BAR4, exported for tests and for reference. */
extern const struct bus_ops ide_bm_bus_ops;

/* Wire the controller (pio: the I/O bus BAR4 is mapped on; mem: guest RAM
 * for DMA; irq14/irq15: the primary/secondary lines) and put it in its
 * power-on state with no drives. ide must not move afterwards. */
void ide_init(struct ide *ide, struct bus *pio, struct guest_mem *mem,
              struct irq_line *irq14, struct irq_line *irq15);

/* Attach a disk (read-write blockdev; a read-only one fails guest writes)
 * as channel 0/1, unit 0 (master) / 1 (slave). Returns 0, or -1 if the
 * place is out of range or taken, or bd is NULL. */
int ide_attach_disk(struct ide *ide, unsigned channel, unsigned unit, struct blockdev *bd);

/* Attach a CD-ROM drive with medium bd (read-only blockdev) or none (NULL).
 * Returns 0, or -1 if the place is out of range or taken. */
int ide_attach_cdrom(struct ide *ide, unsigned channel, unsigned unit, struct blockdev *bd);

/* Host-side medium change: insert bd (tray closes, unit attention MEDIUM
 * MAY HAVE CHANGED, "new media" event) or remove the medium (NULL, "media
 * removal" event). The previous medium is the caller's to close. Returns
 * 0, or -1 if there is no CD-ROM drive there. */
int ide_cdrom_change(struct ide *ide, unsigned channel, unsigned unit, struct blockdev *bd);

/* The medium or disk attached there (NULL if none). */
struct blockdev *ide_blockdev(const struct ide *ide, unsigned channel, unsigned unit);

/* True while a CD-ROM's tray is open (after a guest eject). */
bool ide_cdrom_tray_open(const struct ide *ide, unsigned channel, unsigned unit);

/* Be told when the guest ejects a CD (see ide_eject_fn). */
void ide_set_eject_handler(struct ide *ide, ide_eject_fn *fn, void *opaque);

/* The last image I/O error of a drive as a sentence ("" if none), e.g. a
 * full host disk; the guest only sees an ATA/SCSI error. */
const char *ide_io_error(const struct ide *ide, unsigned channel, unsigned unit);

/* Where the bus-master block is mapped now (0 = nowhere). */
uint16_t ide_bm_base(const struct ide *ide);

/* PCI identity and PIIX3 function 1 registers (82371SB datasheet, PCI
 * configuration registers of the IDE interface). */
enum {
    IDE_PCI_VENDOR = 0x8086,
    IDE_PCI_DEVICE = 0x7010,
    IDE_PCI_CLASS = 0x010180,       /* mass storage, IDE, prog-if: bus master */
    IDE_PCI_BMIBA = 0x20,           /* BAR4: bus master interface base address */
    IDE_PCI_IDETIM_PRI = 0x40,      /* IDE timing, primary (16 bits) */
    IDE_PCI_IDETIM_SEC = 0x42,      /* IDE timing, secondary */
    IDE_PCI_SIDETIM = 0x44,         /* slave IDE timing */
    IDE_IDETIM_DECODE = 0x8000,     /* IDE decode enable */
    IDE_BM_SIZE = 16,
};

/* Command block register offsets (ATA/ATAPI-6, I/O register descriptions). */
enum {
    IDE_REG_DATA = 0,
    IDE_REG_ERROR = 1,              /* read */
    IDE_REG_FEATURE = 1,            /* write */
    IDE_REG_NSECTOR = 2,
    IDE_REG_SECTOR = 3,             /* LBA low */
    IDE_REG_LCYL = 4,               /* LBA mid */
    IDE_REG_HCYL = 5,               /* LBA high */
    IDE_REG_SELECT = 6,             /* Device */
    IDE_REG_STATUS = 7,             /* read */
    IDE_REG_COMMAND = 7,            /* write */
};

/* Status, error, device and device control bits (ATA/ATAPI-6 registers). */
enum {
    IDE_STATUS_ERR = 0x01,          /* ATAPI: CHK */
    IDE_STATUS_DRQ = 0x08,
    IDE_STATUS_DSC = 0x10,          /* device seek complete (obsolete, kept set) */
    IDE_STATUS_DF = 0x20,
    IDE_STATUS_DRDY = 0x40,
    IDE_STATUS_BSY = 0x80,

    IDE_ERROR_AMNF = 0x01,
    IDE_ERROR_ABRT = 0x04,
    IDE_ERROR_IDNF = 0x10,
    IDE_ERROR_UNC = 0x40,

    IDE_SELECT_DEV = 0x10,
    IDE_SELECT_LBA = 0x40,

    IDE_DEVCTL_NIEN = 0x02,
    IDE_DEVCTL_SRST = 0x04,
    IDE_DEVCTL_HOB = 0x80,

    /* ATAPI interrupt reason (in the sector count register). */
    IDE_IREASON_COD = 0x01,
    IDE_IREASON_IO = 0x02,
};

/* Bus master registers, SFF-8038i / PIIX3 bus master IDE I/O registers. */
enum {
    IDE_BM_CMD = 0,
    IDE_BM_STATUS = 2,
    IDE_BM_PRD = 4,
    IDE_BM_CHANNEL_STRIDE = 8,

    IDE_BM_CMD_START = 0x01,
    IDE_BM_CMD_READ = 0x08,         /* 1: bus master writes memory (device read) */

    IDE_BM_STATUS_ACTIVE = 0x01,
    IDE_BM_STATUS_ERROR = 0x02,
    IDE_BM_STATUS_INTR = 0x04,
    IDE_BM_STATUS_DMA0 = 0x20,      /* drive 0 DMA capable */
    IDE_BM_STATUS_DMA1 = 0x40,
    IDE_BM_STATUS_SIMPLEX = 0x80,

    IDE_PRD_EOT = 0x80000000u,
};

/* ATA commands implemented (ATA/ATAPI-6 command descriptions). */
enum {
    ATA_CMD_NOP = 0x00,
    ATA_CMD_DEVICE_RESET = 0x08,
    ATA_CMD_RECALIBRATE = 0x10,     /* 0x10-0x1f */
    ATA_CMD_READ_SECTORS = 0x20,
    ATA_CMD_READ_SECTORS_NORETRY = 0x21,
    ATA_CMD_READ_SECTORS_EXT = 0x24,
    ATA_CMD_READ_DMA_EXT = 0x25,
    ATA_CMD_READ_MULTIPLE_EXT = 0x29,
    ATA_CMD_WRITE_SECTORS = 0x30,
    ATA_CMD_WRITE_SECTORS_NORETRY = 0x31,
    ATA_CMD_WRITE_SECTORS_EXT = 0x34,
    ATA_CMD_WRITE_DMA_EXT = 0x35,
    ATA_CMD_WRITE_MULTIPLE_EXT = 0x39,
    ATA_CMD_READ_VERIFY = 0x40,
    ATA_CMD_READ_VERIFY_NORETRY = 0x41,
    ATA_CMD_READ_VERIFY_EXT = 0x42,
    ATA_CMD_SEEK = 0x70,            /* 0x70-0x7f */
    ATA_CMD_EXECUTE_DIAGNOSTIC = 0x90,
    ATA_CMD_INITIALIZE_PARAMS = 0x91,
    ATA_CMD_PACKET = 0xa0,
    ATA_CMD_IDENTIFY_PACKET = 0xa1,
    ATA_CMD_READ_MULTIPLE = 0xc4,
    ATA_CMD_WRITE_MULTIPLE = 0xc5,
    ATA_CMD_SET_MULTIPLE = 0xc6,
    ATA_CMD_READ_DMA = 0xc8,
    ATA_CMD_READ_DMA_NORETRY = 0xc9,
    ATA_CMD_WRITE_DMA = 0xca,
    ATA_CMD_WRITE_DMA_NORETRY = 0xcb,
    ATA_CMD_STANDBY_IMMEDIATE = 0xe0,
    ATA_CMD_IDLE_IMMEDIATE = 0xe1,
    ATA_CMD_STANDBY = 0xe2,
    ATA_CMD_IDLE = 0xe3,
    ATA_CMD_CHECK_POWER_MODE = 0xe5,
    ATA_CMD_SLEEP = 0xe6,
    ATA_CMD_FLUSH_CACHE = 0xe7,
    ATA_CMD_FLUSH_CACHE_EXT = 0xea,
    ATA_CMD_IDENTIFY = 0xec,
    ATA_CMD_SET_FEATURES = 0xef,
};

/* SCSI/MMC operation codes implemented (SPC-3, MMC-3). */
enum {
    SCSI_TEST_UNIT_READY = 0x00,
    SCSI_REQUEST_SENSE = 0x03,
    SCSI_INQUIRY = 0x12,
    SCSI_START_STOP_UNIT = 0x1b,
    SCSI_PREVENT_ALLOW = 0x1e,
    SCSI_READ_CAPACITY = 0x25,
    SCSI_READ_10 = 0x28,
    SCSI_SEEK_10 = 0x2b,
    SCSI_READ_TOC = 0x43,
    SCSI_GET_CONFIGURATION = 0x46,
    SCSI_GET_EVENT_STATUS = 0x4a,
    SCSI_READ_DISC_INFO = 0x51,
    SCSI_MODE_SENSE_10 = 0x5a,
    SCSI_READ_12 = 0xa8,
    SCSI_SET_CD_SPEED = 0xbb,
    SCSI_MECHANISM_STATUS = 0xbd,
    SCSI_READ_CD = 0xbe,
};

/* Sense keys and additional sense codes (SPC-3 sense key and ASC/ASCQ tables). */
enum {
    SENSE_NO_SENSE = 0x0,
    SENSE_NOT_READY = 0x2,
    SENSE_MEDIUM_ERROR = 0x3,
    SENSE_ILLEGAL_REQUEST = 0x5,
    SENSE_UNIT_ATTENTION = 0x6,
    SENSE_ABORTED_COMMAND = 0xb,

    ASC_INVALID_OPCODE = 0x20,
    ASC_LBA_OUT_OF_RANGE = 0x21,
    ASC_INVALID_FIELD_IN_CDB = 0x24,
    ASC_MEDIUM_MAY_HAVE_CHANGED = 0x28,
    ASC_SAVING_NOT_SUPPORTED = 0x39,
    ASC_MEDIUM_NOT_PRESENT = 0x3a,
    ASC_MEDIUM_REMOVAL_PREVENTED = 0x53,
    ASC_ILLEGAL_MODE_FOR_TRACK = 0x64,
    ASC_UNRECOVERED_READ_ERROR = 0x11,
};

/* GET EVENT STATUS NOTIFICATION media event codes (MMC-3, media event descriptor). */
enum {
    IDE_MEDIA_EVENT_NONE = 0,
    IDE_MEDIA_EVENT_EJECT_REQUEST = 1,
    IDE_MEDIA_EVENT_NEW_MEDIA = 2,
    IDE_MEDIA_EVENT_REMOVAL = 3,
};

#endif
