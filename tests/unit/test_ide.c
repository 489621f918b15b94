/* PIIX3 IDE controller: ATA disk and ATAPI CD-ROM through the legacy ports
 * and the bus master, against temporary image files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockdev.h"
#include "bus.h"
#include "ide.h"
#include "memory.h"
#include "pci_host.h"

#define PRI 0x1f0
#define PRI_CTL 0x3f6
#define SEC 0x170
#define SEC_CTL 0x376
#define BM 0xc000

#define DISK_SECTORS 2048u          /* 1 MiB */
#define ISO_SECTORS 100u
#define RAM_SIZE (2u << 20)

#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DSC 0x10
#define ST_DRDY 0x40
#define ST_BSY 0x80

struct fixture {
    struct ide *ide;
    struct bus *pio;
    struct guest_mem mem;
    struct irq_line irq[2];
    int level[2];
    unsigned edges[2];
    char disk_path[64];
    char iso_path[64];
    char iso2_path[64];
    struct blockdev *disk;
    struct blockdev *iso;
    struct blockdev *iso2;
    unsigned ejects;
    unsigned eject_channel, eject_unit;
};

/* ---- Plumbing ---- */

static void probe_set(void *opaque, unsigned n, int level)
{
    struct fixture *f = opaque;
    unsigned i = n == 15;
    if (level && !f->level[i])
        f->edges[i]++;
    f->level[i] = level;
}

static void on_eject(void *opaque, unsigned channel, unsigned unit)
{
    struct fixture *f = opaque;
    f->ejects++;
    f->eject_channel = channel;
    f->eject_unit = unit;
}

static uint8_t disk_pattern(uint64_t off)
{
    return (uint8_t)(off * 13 + (off >> 9) * 7 + 1);
}

static uint8_t iso_pattern(uint64_t off, uint8_t seed)
{
    return (uint8_t)(off * 31 + (off >> 11) * 3 + seed);
}

static void make_image(char *path, size_t pathlen, size_t size, int iso, uint8_t seed)
{
    snprintf(path, pathlen, "/tmp/hostel-ide-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint8_t *buf = malloc(size);
    for (size_t i = 0; i < size; i++)
        buf[i] = iso ? iso_pattern(i, seed) : disk_pattern(i);
    assert_int_equal(write(fd, buf, size), (ssize_t)size);
    free(buf);
    close(fd);
}

static void file_read(const char *path, void *buf, size_t len, uint64_t off)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void map_legacy(struct bus *pio, struct ide *ide)
{
    assert_int_equal(bus_map(pio, PRI, 8, &ide_cmd_bus_ops, &ide->chan[0], "ide0"), 0);
    assert_int_equal(bus_map(pio, PRI_CTL, 1, &ide_ctl_bus_ops, &ide->chan[0], "ide0-ctl"), 0);
    assert_int_equal(bus_map(pio, SEC, 8, &ide_cmd_bus_ops, &ide->chan[1], "ide1"), 0);
    assert_int_equal(bus_map(pio, SEC_CTL, 1, &ide_ctl_bus_ops, &ide->chan[1], "ide1-ctl"), 0);
}

/* Primary master: disk. Secondary master: CD-ROM with the ISO. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256];
    assert_int_equal(guest_mem_init(&f->mem, RAM_SIZE, err, sizeof(err)), 0);
    make_image(f->disk_path, sizeof(f->disk_path), DISK_SECTORS * 512, 0, 0);
    make_image(f->iso_path, sizeof(f->iso_path), ISO_SECTORS * 2048, 1, 5);
    make_image(f->iso2_path, sizeof(f->iso2_path), 40 * 2048, 1, 99);
    f->disk = blockdev_open(f->disk_path, 0, err, sizeof(err));
    f->iso = blockdev_open(f->iso_path, BLOCKDEV_CDROM, err, sizeof(err));
    f->iso2 = blockdev_open(f->iso2_path, BLOCKDEV_CDROM, err, sizeof(err));
    assert_non_null(f->disk);
    assert_non_null(f->iso);
    assert_non_null(f->iso2);
    irq_line_init(&f->irq[0], probe_set, f, 14);
    irq_line_init(&f->irq[1], probe_set, f, 15);
    f->pio = bus_new("pio", 0x10000);
    f->ide = calloc(1, sizeof(*f->ide));
    ide_init(f->ide, f->pio, &f->mem, &f->irq[0], &f->irq[1]);
    ide_set_eject_handler(f->ide, on_eject, f);
    assert_int_equal(ide_attach_disk(f->ide, 0, 0, f->disk), 0);
    assert_int_equal(ide_attach_cdrom(f->ide, 1, 0, f->iso), 0);
    map_legacy(f->pio, f->ide);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ide_device_ops.finalize(f->ide);
    free(f->ide);
    bus_free(f->pio);
    blockdev_close(f->disk);
    blockdev_close(f->iso);
    blockdev_close(f->iso2);
    unlink(f->disk_path);
    unlink(f->iso_path);
    unlink(f->iso2_path);
    guest_mem_destroy(&f->mem);
    free(f);
    return 0;
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
    uint8_t v = 0;
    bus_read(f->pio, port, &v, 1);
    return v;
}

static uint16_t inw(struct fixture *f, uint16_t port)
{
    uint16_t v = 0;
    bus_read(f->pio, port, &v, 2);
    return v;
}

static uint32_t inl(struct fixture *f, uint16_t port)
{
    uint32_t v = 0;
    bus_read(f->pio, port, &v, 4);
    return v;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
    bus_write(f->pio, port, &v, 1);
}

static void outw(struct fixture *f, uint16_t port, uint16_t v)
{
    bus_write(f->pio, port, &v, 2);
}

static void outl(struct fixture *f, uint16_t port, uint32_t v)
{
    bus_write(f->pio, port, &v, 4);
}

static void cfg_write(struct fixture *f, unsigned reg, uint32_t v, unsigned size)
{
    pci_device_config_write(&f->ide->pci, reg, v, size);
}

static uint32_t cfg_read(struct fixture *f, unsigned reg, unsigned size)
{
    return pci_device_config_read(&f->ide->pci, reg, size);
}

static void enable_bm(struct fixture *f)
{
    cfg_write(f, 0x20, BM, 4);
    cfg_write(f, 0x04, 0x0005, 2);      /* I/O space, bus master */
    assert_int_equal(ide_bm_base(f->ide), BM);
}

/* Program a 28-bit LBA task file on the primary channel. */
static void taskfile28(struct fixture *f, uint16_t base, unsigned dev, uint32_t lba, uint8_t count)
{
    outb(f, base + 1, 0);
    outb(f, base + 2, count);
    outb(f, base + 3, (uint8_t)lba);
    outb(f, base + 4, (uint8_t)(lba >> 8));
    outb(f, base + 5, (uint8_t)(lba >> 16));
    outb(f, base + 6, (uint8_t)(0xe0 | (dev << 4) | ((lba >> 24) & 0x0f)));
}

static void taskfile48(struct fixture *f, uint16_t base, uint64_t lba, uint16_t count)
{
    outb(f, base + 2, (uint8_t)(count >> 8));
    outb(f, base + 3, (uint8_t)(lba >> 24));
    outb(f, base + 4, (uint8_t)(lba >> 32));
    outb(f, base + 5, (uint8_t)(lba >> 40));
    outb(f, base + 2, (uint8_t)count);
    outb(f, base + 3, (uint8_t)lba);
    outb(f, base + 4, (uint8_t)(lba >> 8));
    outb(f, base + 5, (uint8_t)(lba >> 16));
    outb(f, base + 6, 0xe0);
}

/* Read one 512-byte DRQ-block worth of words. */
static void read_words(struct fixture *f, uint16_t base, uint8_t *buf, size_t bytes)
{
    for (size_t i = 0; i < bytes; i += 2) {
        uint16_t w = inw(f, base);
        buf[i] = (uint8_t)w;
        buf[i + 1] = (uint8_t)(w >> 8);
    }
}

static void write_words(struct fixture *f, uint16_t base, const uint8_t *buf, size_t bytes)
{
    for (size_t i = 0; i < bytes; i += 2)
        outw(f, base, (uint16_t)(buf[i] | buf[i + 1] << 8));
}

static void identify(struct fixture *f, uint16_t base, uint8_t cmd, uint8_t *id)
{
    outb(f, base + 7, cmd);
    uint8_t st = inb(f, base + 7);
    assert_int_equal(st & (ST_BSY | ST_DRQ | ST_ERR), ST_DRQ);
    read_words(f, base, id, 512);
    assert_int_equal(inb(f, base + 7) & (ST_DRQ | ST_ERR), 0);
}

static uint16_t id_word(const uint8_t *id, unsigned w)
{
    return (uint16_t)(id[2 * w] | id[2 * w + 1] << 8);
}

/* Undo the ATA byte order of an IDENTIFY string. */
static void id_string(const uint8_t *id, unsigned word, unsigned nwords, char *out)
{
    for (unsigned i = 0; i < nwords; i++) {
        out[2 * i] = (char)id[2 * (word + i) + 1];
        out[2 * i + 1] = (char)id[2 * (word + i)];
    }
    out[2 * nwords] = 0;
}

/* ---- ATAPI helpers ---- */

/* Send a packet by PIO and collect the data-in phase. Returns the bytes
 * the device sent; *status gets the final status. */
static size_t atapi_pio(struct fixture *f, uint16_t base, const uint8_t *cdb, uint16_t bcl,
                        uint8_t *out, size_t max, uint8_t *status)
{
    outb(f, base + 1, 0);
    outb(f, base + 4, (uint8_t)bcl);
    outb(f, base + 5, (uint8_t)(bcl >> 8));
    outb(f, base + 7, 0xa0);
    uint8_t st = inb(f, base + 7);
    assert_int_equal(st & (ST_BSY | ST_DRQ), ST_DRQ);
    assert_int_equal(inb(f, base + 2) & 3, 1);     /* CoD, to device */
    for (unsigned i = 0; i < 12; i += 2)
        outw(f, base, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    size_t total = 0;
    for (unsigned guard = 0; guard < 100000; guard++) {
        st = inb(f, base + 7);
        if (!(st & ST_DRQ))
            break;
        assert_int_equal(inb(f, base + 2) & 3, 2);     /* IO, data to host */
        unsigned n = inb(f, base + 4) | inb(f, base + 5) << 8;
        assert_true(n > 0);
        if (bcl)
            assert_true(n <= bcl);
        for (unsigned j = 0; j < n; j += 2) {
            uint16_t w = inw(f, base);
            if (total + j < max)
                out[total + j] = (uint8_t)w;
            if (j + 1 < n && total + j + 1 < max)
                out[total + j + 1] = (uint8_t)(w >> 8);
        }
        total += n;
    }
    assert_int_equal(inb(f, base + 2) & 3, 3);         /* status phase */
    assert_int_equal(st & ST_BSY, 0);
    *status = st;
    return total;
}

static void cdb_clear(uint8_t *cdb)
{
    memset(cdb, 0, 12);
}

/* Sense key / ASC / ASCQ through REQUEST SENSE. */
static void request_sense(struct fixture *f, uint16_t base, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
    uint8_t cdb[12], s[18], st;
    cdb_clear(cdb);
    cdb[0] = 0x03;
    cdb[4] = 18;
    assert_int_equal(atapi_pio(f, base, cdb, 0xfffe, s, sizeof(s), &st), 18);
    assert_int_equal(st & ST_ERR, 0);
    assert_int_equal(s[0] & 0x7f, 0x70);
    *key = s[2] & 0x0f;
    *asc = s[12];
    *ascq = s[13];
}

static uint8_t tur(struct fixture *f, uint16_t base)
{
    uint8_t cdb[12], st;
    cdb_clear(cdb);
    assert_int_equal(atapi_pio(f, base, cdb, 0, NULL, 0, &st), 0);
    return st;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- DMA helpers ---- */

static void prd_put(struct fixture *f, uint32_t table, unsigned idx, uint32_t addr, uint32_t count, int eot)
{
    uint8_t e[8];
    e[0] = (uint8_t)addr;
    e[1] = (uint8_t)(addr >> 8);
    e[2] = (uint8_t)(addr >> 16);
    e[3] = (uint8_t)(addr >> 24);
    e[4] = (uint8_t)count;
    e[5] = (uint8_t)(count >> 8);
    e[6] = 0;
    e[7] = eot ? 0x80 : 0;
    assert_int_equal(guest_mem_write(&f->mem, table + idx * 8u, e, 8), 0);
}

static uint8_t *ram(struct fixture *f, uint64_t gpa, uint64_t len)
{
    uint8_t *p = guest_mem_ptr(&f->mem, gpa, len);
    assert_non_null(p);
    return p;
}

/* ---- Tests: reset and identity ---- */

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(cfg_read(f, 0x00, 2), 0x8086);
    assert_int_equal(cfg_read(f, 0x02, 2), 0x7010);
    assert_int_equal(cfg_read(f, 0x08, 4) >> 8, 0x010180);
    assert_int_equal(cfg_read(f, 0x20, 4), 0x00000001);
    assert_int_equal(cfg_read(f, 0x40, 2) & 0x8000, 0x8000);
    assert_int_equal(cfg_read(f, 0x42, 2) & 0x8000, 0x8000);
    assert_int_equal(ide_bm_base(f->ide), 0);

    /* ATA signature on the primary master (ATA/ATAPI-6 9.12). */
    assert_int_equal(inb(f, PRI + 2), 1);
    assert_int_equal(inb(f, PRI + 3), 1);
    assert_int_equal(inb(f, PRI + 4), 0);
    assert_int_equal(inb(f, PRI + 5), 0);
    assert_int_equal(inb(f, PRI + 1), 1);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    assert_int_equal(inb(f, PRI_CTL), ST_DRDY | ST_DSC);
    /* Packet signature on the secondary master, status 00h. */
    assert_int_equal(inb(f, SEC + 2), 1);
    assert_int_equal(inb(f, SEC + 3), 1);
    assert_int_equal(inb(f, SEC + 4), 0x14);
    assert_int_equal(inb(f, SEC + 5), 0xeb);
    assert_int_equal(inb(f, SEC + 7), 0);
    /* The absent slave: device 0 answers 00h for its status. */
    outb(f, PRI + 6, 0xb0);
    assert_int_equal(inb(f, PRI + 7), 0);
    assert_int_equal(inb(f, PRI_CTL), 0);
    outb(f, PRI + 2, 0x55);
    assert_int_equal(inb(f, PRI + 2), 0x55);
    outb(f, PRI + 6, 0xa0);
    assert_int_equal(f->level[0], 0);
    assert_int_equal(f->level[1], 0);

    /* Dirty things, reset, look again. */
    enable_bm(f);
    outb(f, BM + 4, 0x10);
    outb(f, BM + 2, 0x60);
    cfg_write(f, 0x40, 0xa307, 2);
    outb(f, PRI + 7, 0xec);
    assert_int_equal(f->level[0], 1);
    ide_device_ops.reset(f->ide);
    assert_int_equal(f->level[0], 0);
    assert_int_equal(ide_bm_base(f->ide), 0);
    assert_int_equal(cfg_read(f, 0x20, 4), 1);
    assert_int_equal(cfg_read(f, 0x40, 2), 0x8000);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    assert_int_equal(inb(f, PRI + 2), 1);
    assert_int_equal(f->ide->chan[0].bm_status, 0);
    assert_int_equal(f->ide->chan[0].bm_prd, 0);
}

static void test_empty_channel_and_registration(void **state)
{
    (void)state;
    struct ide *ide = calloc(1, sizeof(*ide));
    struct bus *pio = bus_new("pio", 0x10000);
    ide_init(ide, pio, NULL, NULL, NULL);
    map_legacy(pio, ide);
    uint8_t v = 0;
    /* No device at all: DD7 is pulled down, status reads below 80h. */
    bus_read(pio, PRI + 7, &v, 1);
    assert_int_equal(v & 0x80, 0);
    v = 0x55;
    bus_write(pio, PRI + 2, &v, 1);
    bus_read(pio, PRI + 2, &v, 1);
    assert_int_not_equal(v, 0x55);
    /* Attach rules. */
    assert_int_equal(ide_attach_disk(ide, 2, 0, NULL), -1);
    assert_int_equal(ide_attach_disk(ide, 0, 0, NULL), -1);
    assert_int_equal(ide_attach_cdrom(ide, 0, 1, NULL), 0);
    assert_int_equal(ide_attach_cdrom(ide, 0, 1, NULL), -1);
    assert_int_equal(ide_cdrom_change(ide, 0, 0, NULL), -1);
    /* The function sits at 00:01.1 of the host bridge. */
    struct pci_host *host = calloc(1, sizeof(*host));
    pci_host_init(host);
    assert_int_equal(pci_host_register(host, &ide->pci, 1, 1), 0);
    assert_ptr_equal(pci_host_lookup(host, 1, 1), &ide->pci);
    pci_host_device_ops.finalize(host);
    free(host);
    ide_device_ops.finalize(ide);
    bus_free(pio);
    free(ide);
}

static void test_identify(void **state)
{
    struct fixture *f = *state;
    uint8_t id[512];
    char s[48];
    outb(f, PRI + 6, 0xa0);
    outb(f, PRI + 7, 0xec);
    assert_int_equal(f->level[0], 1);
    assert_int_equal(inb(f, PRI_CTL) & ST_DRQ, ST_DRQ);
    assert_int_equal(f->level[0], 1);           /* alternate status does not ack */
    assert_int_equal(inb(f, PRI + 7) & ST_DRQ, ST_DRQ);
    assert_int_equal(f->level[0], 0);
    read_words(f, PRI, id, 512);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);

    assert_int_equal(id_word(id, 0) & 0x8000, 0);           /* ATA device */
    assert_int_equal(id_word(id, 60) | (uint32_t)id_word(id, 61) << 16, DISK_SECTORS);
    uint64_t lba48 = id_word(id, 100) | (uint64_t)id_word(id, 101) << 16 |
                     (uint64_t)id_word(id, 102) << 32 | (uint64_t)id_word(id, 103) << 48;
    assert_int_equal(lba48, DISK_SECTORS);
    assert_true(id_word(id, 83) & (1u << 10));              /* 48-bit address */
    assert_true(id_word(id, 86) & (1u << 10));
    assert_true(id_word(id, 83) & (1u << 12));              /* FLUSH CACHE */
    assert_true(id_word(id, 83) & (1u << 13));              /* FLUSH CACHE EXT */
    assert_true(id_word(id, 49) & (1u << 9));               /* LBA */
    assert_true(id_word(id, 49) & (1u << 8));               /* DMA */
    assert_true(id_word(id, 63) & 0x0007);                  /* multiword DMA modes */
    assert_true(id_word(id, 88) & 0x003f);                  /* UDMA modes */
    assert_true(id_word(id, 53) & 0x0004);                  /* word 88 valid */
    assert_int_equal(id_word(id, 47) & 0xff, 16);
    /* CHS: a geometry that fits the disk. */
    uint32_t c = id_word(id, 1), h = id_word(id, 3), sp = id_word(id, 6);
    assert_true(c && h && sp && h <= 16 && sp <= 63);
    assert_true(c * h * sp <= DISK_SECTORS);
    /* Integrity word: A5h signature and bytes summing to 0. */
    assert_int_equal(id[510], 0xa5);
    uint8_t sum = 0;
    for (unsigned i = 0; i < 512; i++)
        sum = (uint8_t)(sum + id[i]);
    assert_int_equal(sum, 0);
    id_string(id, 27, 20, s);
    assert_memory_equal(s, "HOSTEL HARDDISK ", 16);
    id_string(id, 10, 10, s);
    assert_true(s[0] != ' ' && s[0] != 0);
    id_string(id, 23, 4, s);
    assert_memory_equal(s, "1.0 ", 4);

    /* The CD-ROM aborts IDENTIFY DEVICE and shows its signature. */
    outb(f, SEC + 7, 0xec);
    uint8_t st = inb(f, SEC + 7);
    assert_int_equal(st & (ST_ERR | ST_DRQ), ST_ERR);
    assert_int_equal(inb(f, SEC + 1) & 0x04, 0x04);
    assert_int_equal(inb(f, SEC + 4), 0x14);
    assert_int_equal(inb(f, SEC + 5), 0xeb);
    identify(f, SEC, 0xa1, id);
    assert_int_equal(id_word(id, 0) >> 14, 2);              /* ATAPI */
    assert_int_equal((id_word(id, 0) >> 8) & 0x1f, 5);      /* CD-ROM */
    assert_true(id_word(id, 0) & 0x80);                     /* removable */
    assert_int_equal(id_word(id, 0) & 3, 0);                /* 12-byte packets */
    assert_true(id_word(id, 49) & (1u << 8));
    sum = 0;
    for (unsigned i = 0; i < 512; i++)
        sum = (uint8_t)(sum + id[i]);
    assert_int_equal(sum, 0);
    id_string(id, 27, 20, s);
    assert_memory_equal(s, "HOSTEL CD-ROM ", 14);
    /* The disk refuses IDENTIFY PACKET DEVICE. */
    outb(f, PRI + 7, 0xa1);
    assert_int_equal(inb(f, PRI + 7) & ST_ERR, ST_ERR);
    assert_int_equal(inb(f, PRI + 1), 0x04);
}

/* ---- Tests: PIO ---- */

static void test_pio_read(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[3 * 512], want[3 * 512];
    file_read(f->disk_path, want, sizeof(want), 5 * 512);
    taskfile28(f, PRI, 0, 5, 3);
    unsigned edges = f->edges[0];
    outb(f, PRI + 7, 0x20);
    for (unsigned s = 0; s < 3; s++) {
        /* One interrupt per DRQ block, DRQ set while the block waits. */
        assert_int_equal(f->edges[0], edges + s + 1);
        uint8_t st = inb(f, PRI + 7);
        assert_int_equal(st, ST_DRDY | ST_DSC | ST_DRQ);
        if (s == 1) {
            for (unsigned i = 0; i < 512; i += 4) {
                uint32_t v = inl(f, PRI);
                memcpy(buf + 512 * s + i, &v, 4);
            }
        } else {
            read_words(f, PRI, buf + 512 * s, 512);
        }
    }
    /* No interrupt at the end of a data-in command. */
    assert_int_equal(f->edges[0], edges + 3);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    assert_memory_equal(buf, want, sizeof(buf));
    /* Past the end of the block the data port floats. */
    assert_int_equal(inw(f, PRI), 0xffff);

    /* LBA48: READ SECTORS EXT, count 2 at sector 2040. */
    file_read(f->disk_path, want, 1024, 2040 * 512);
    taskfile48(f, PRI, 2040, 2);
    outb(f, PRI + 7, 0x24);
    for (unsigned s = 0; s < 2; s++) {
        assert_int_equal(inb(f, PRI + 7) & ST_DRQ, ST_DRQ);
        read_words(f, PRI, buf + 512 * s, 512);
    }
    assert_memory_equal(buf, want, 1024);
    /* HOB reads return the previous register contents. */
    outb(f, PRI_CTL, 0x80);
    assert_int_equal(inb(f, PRI + 2), 0);
    outb(f, PRI_CTL, 0x00);

    /* CHS: cylinder 1, head 2, sector 3 with the default geometry. */
    uint8_t id[512];
    identify(f, PRI, 0xec, id);
    unsigned heads = id_word(id, 55), spt = id_word(id, 56);
    uint64_t lba = ((uint64_t)1 * heads + 2) * spt + 3 - 1;
    file_read(f->disk_path, want, 512, lba * 512);
    outb(f, PRI + 2, 1);
    outb(f, PRI + 3, 3);
    outb(f, PRI + 4, 1);
    outb(f, PRI + 5, 0);
    outb(f, PRI + 6, 0xa2);
    outb(f, PRI + 7, 0x20);
    assert_int_equal(inb(f, PRI + 7) & (ST_DRQ | ST_ERR), ST_DRQ);
    read_words(f, PRI, buf, 512);
    assert_memory_equal(buf, want, 512);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors per track. */
    outb(f, PRI + 2, 17);
    outb(f, PRI + 6, 0xa3);
    outb(f, PRI + 7, 0x91);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    lba = ((uint64_t)2 * 4 + 3) * 17 + 5 - 1;
    file_read(f->disk_path, want, 512, lba * 512);
    outb(f, PRI + 2, 1);
    outb(f, PRI + 3, 5);
    outb(f, PRI + 4, 2);
    outb(f, PRI + 5, 0);
    outb(f, PRI + 6, 0xa3);
    outb(f, PRI + 7, 0x20);
    assert_int_equal(inb(f, PRI + 7) & (ST_DRQ | ST_ERR), ST_DRQ);
    read_words(f, PRI, buf, 512);
    assert_memory_equal(buf, want, 512);
    identify(f, PRI, 0xec, id);
    assert_int_equal(id_word(id, 55), 4);
    assert_int_equal(id_word(id, 56), 17);
    /* Sector 0 does not exist in CHS. */
    outb(f, PRI + 3, 0);
    outb(f, PRI + 6, 0xa0);
    outb(f, PRI + 7, 0x20);
    assert_int_equal(inb(f, PRI + 7) & ST_ERR, ST_ERR);
    assert_int_equal(inb(f, PRI + 1), 0x10);
}

static void test_pio_write(void **state)
{
    struct fixture *f = *state;
    uint8_t data[2 * 512], back[2 * 512], after[512];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 5 + 77);
    file_read(f->disk_path, after, 512, 12 * 512);
    taskfile28(f, PRI, 0, 10, 2);
    unsigned edges = f->edges[0];
    outb(f, PRI + 7, 0x30);
    /* The first block is requested without an interrupt. */
    assert_int_equal(f->edges[0], edges);
    assert_int_equal(inb(f, PRI_CTL), ST_DRDY | ST_DSC | ST_DRQ);
    write_words(f, PRI, data, 512);
    assert_int_equal(f->edges[0], edges + 1);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC | ST_DRQ);
    for (unsigned i = 0; i < 512; i += 4) {
        uint32_t v;
        memcpy(&v, data + 512 + i, 4);
        outl(f, PRI, v);
    }
    /* ... and every block, the last one included, interrupts. */
    assert_int_equal(f->edges[0], edges + 2);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    file_read(f->disk_path, back, sizeof(back), 10 * 512);
    assert_memory_equal(back, data, sizeof(data));
    /* The neighbour is untouched. */
    file_read(f->disk_path, back, 512, 12 * 512);
    assert_memory_equal(back, after, 512);
    /* Read it back through the device. */
    taskfile28(f, PRI, 0, 10, 2);
    outb(f, PRI + 7, 0x20);
    for (unsigned s = 0; s < 2; s++) {
        assert_int_equal(inb(f, PRI + 7) & ST_DRQ, ST_DRQ);
        read_words(f, PRI, back + 512 * s, 512);
    }
    assert_memory_equal(back, data, sizeof(data));
    /* WRITE SECTORS EXT at the last sector. */
    taskfile48(f, PRI, DISK_SECTORS - 1, 1);
    outb(f, PRI + 7, 0x34);
    write_words(f, PRI, data, 512);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    file_read(f->disk_path, back, 512, (DISK_SECTORS - 1) * 512);
    assert_memory_equal(back, data, 512);
    assert_int_equal(file_size(f->disk_path), DISK_SECTORS * 512);
}

static void test_multiple(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[10 * 512], want[10 * 512];
    /* Without SET MULTIPLE MODE, READ MULTIPLE aborts. */
    taskfile28(f, PRI, 0, 0, 1);
    outb(f, PRI + 7, 0xc4);
    assert_int_equal(inb(f, PRI + 7) & ST_ERR, ST_ERR);
    assert_int_equal(inb(f, PRI + 1), 0x04);
    /* 3 is not a power of two. */
    outb(f, PRI + 2, 3);
    outb(f, PRI + 7, 0xc6);
    assert_int_equal(inb(f, PRI + 7) & ST_ERR, ST_ERR);
    outb(f, PRI + 2, 4);
    outb(f, PRI + 7, 0xc6);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    uint8_t id[512];
    identify(f, PRI, 0xec, id);
    assert_int_equal(id_word(id, 59), 0x0104);

    /* 10 sectors in blocks of 4, 4 and 2, one interrupt each. */
    file_read(f->disk_path, want, sizeof(want), 100 * 512);
    taskfile28(f, PRI, 0, 100, 10);
    unsigned edges = f->edges[0];
    outb(f, PRI + 7, 0xc4);
    const unsigned blocks[3] = { 4, 4, 2 };
    size_t off = 0;
    for (unsigned b = 0; b < 3; b++) {
        assert_int_equal(f->edges[0], edges + b + 1);
        assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC | ST_DRQ);
        for (unsigned s = 0; s < blocks[b]; s++) {
            if (s < blocks[b] - 1 || b == 2)
                assert_int_equal(inb(f, PRI_CTL) & ST_DRQ, ST_DRQ);
            read_words(f, PRI, buf + off, 512);
            off += 512;
        }
    }
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    assert_memory_equal(buf, want, sizeof(want));

    /* WRITE MULTIPLE EXT, 6 sectors: blocks of 4 and 2. */
    for (unsigned i = 0; i < 6 * 512; i++)
        buf[i] = (uint8_t)(i * 3 + 9);
    taskfile48(f, PRI, 300, 6);
    edges = f->edges[0];
    outb(f, PRI + 7, 0x39);
    assert_int_equal(f->edges[0], edges);
    write_words(f, PRI, buf, 4 * 512);
    assert_int_equal(f->edges[0], edges + 1);
    assert_int_equal(inb(f, PRI + 7) & ST_DRQ, ST_DRQ);
    write_words(f, PRI, buf + 4 * 512, 2 * 512);
    assert_int_equal(f->edges[0], edges + 2);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    file_read(f->disk_path, want, 6 * 512, 300 * 512);
    assert_memory_equal(want, buf, 6 * 512);
}

static void test_errors_and_flush(void **state)
{
    struct fixture *f = *state;
    uint8_t before[1024], after[1024];
    file_read(f->disk_path, before, sizeof(before), (DISK_SECTORS - 2) * 512);
    /* Starting past the end, and running over it: IDNF, no data. */
    taskfile28(f, PRI, 0, DISK_SECTORS, 1);
    outb(f, PRI + 7, 0x20);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC | ST_ERR);
    assert_int_equal(inb(f, PRI + 1), 0x10);
    taskfile28(f, PRI, 0, DISK_SECTORS - 2, 3);
    outb(f, PRI + 7, 0x30);
    assert_int_equal(inb(f, PRI + 7) & (ST_ERR | ST_DRQ), ST_ERR);
    assert_int_equal(inb(f, PRI + 1), 0x10);
    outw(f, PRI, 0x1234);           /* no transfer to take it */
    taskfile48(f, PRI, 1ull << 40, 1);
    outb(f, PRI + 7, 0x34);
    assert_int_equal(inb(f, PRI + 1), 0x10);
    taskfile48(f, PRI, DISK_SECTORS - 1, 0);     /* 65536 sectors */
    outb(f, PRI + 7, 0x42);
    assert_int_equal(inb(f, PRI + 1), 0x10);
    taskfile48(f, PRI, DISK_SECTORS - 4, 4);
    outb(f, PRI + 7, 0x42);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    file_read(f->disk_path, after, sizeof(after), (DISK_SECTORS - 2) * 512);
    assert_memory_equal(before, after, sizeof(before));
    assert_int_equal(file_size(f->disk_path), DISK_SECTORS * 512);
    /* Unknown commands and NOP abort. */
    outb(f, PRI + 7, 0xff);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC | ST_ERR);
    assert_int_equal(inb(f, PRI + 1), 0x04);
    outb(f, PRI + 7, 0x00);
    assert_int_equal(inb(f, PRI + 1), 0x04);
    /* Non-data commands complete with an interrupt. */
    const uint8_t ok_cmds[] = { 0xe7, 0xea, 0x10, 0xe0, 0xe1, 0xe3 };
    for (unsigned i = 0; i < sizeof(ok_cmds); i++) {
        unsigned edges = f->edges[0];
        outb(f, PRI + 7, ok_cmds[i]);
        assert_int_equal(f->edges[0], edges + 1);
        assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    }
    /* CHECK POWER MODE after IDLE: 80h; after STANDBY: 00h. */
    outb(f, PRI + 7, 0xe5);
    assert_int_equal(inb(f, PRI + 2), 0x80);
    outb(f, PRI + 7, 0xe2);
    outb(f, PRI + 7, 0xe5);
    assert_int_equal(inb(f, PRI + 2), 0x00);
    taskfile28(f, PRI, 0, 0, 1);
    outb(f, PRI + 7, 0x20);
    read_words(f, PRI, before, 512);
    outb(f, PRI + 7, 0xe5);
    assert_int_equal(inb(f, PRI + 2), 0xff);
    /* SET FEATURES: write cache off shows in IDENTIFY, bad subcommand aborts. */
    uint8_t id[512];
    outb(f, PRI + 1, 0x82);
    outb(f, PRI + 7, 0xef);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    identify(f, PRI, 0xec, id);
    assert_int_equal(id_word(id, 85) & 0x20, 0);
    assert_true(id_word(id, 82) & 0x20);
    /* Writes go through (and are flushed) with the cache off. */
    taskfile28(f, PRI, 0, 7, 1);
    outb(f, PRI + 7, 0x30);
    memset(before, 0xab, 512);
    write_words(f, PRI, before, 512);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    file_read(f->disk_path, after, 512, 7 * 512);
    assert_memory_equal(before, after, 512);
    outb(f, PRI + 1, 0x02);
    outb(f, PRI + 7, 0xef);
    identify(f, PRI, 0xec, id);
    assert_int_equal(id_word(id, 85) & 0x20, 0x20);
    outb(f, PRI + 1, 0x03);
    outb(f, PRI + 2, 0x42);         /* UDMA mode 2 */
    outb(f, PRI + 7, 0xef);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    identify(f, PRI, 0xec, id);
    assert_int_equal(id_word(id, 88) >> 8, 0x04);
    assert_int_equal(id_word(id, 63) >> 8, 0x00);
    outb(f, PRI + 1, 0x03);
    outb(f, PRI + 2, 0x50);
    outb(f, PRI + 7, 0xef);
    assert_int_equal(inb(f, PRI + 7) & ST_ERR, ST_ERR);
    outb(f, PRI + 1, 0x77);
    outb(f, PRI + 7, 0xef);
    assert_int_equal(inb(f, PRI + 1), 0x04);
    assert_string_equal(ide_io_error(f->ide, 0, 0), "");
}

static void test_interrupts_reset_diagnostic(void **state)
{
    struct fixture *f = *state;
    /* nIEN keeps INTRQ low; clearing it lets a pending interrupt through. */
    outb(f, PRI_CTL, 0x02);
    outb(f, PRI + 7, 0xe7);
    assert_int_equal(f->level[0], 0);
    outb(f, PRI_CTL, 0x00);
    assert_int_equal(f->level[0], 1);
    /* Selecting the absent slave takes the line away; back again. */
    outb(f, PRI + 6, 0xb0);
    assert_int_equal(f->level[0], 0);
    outb(f, PRI + 6, 0xa0);
    assert_int_equal(f->level[0], 1);
    /* A new command negates INTRQ before it runs. */
    taskfile28(f, PRI, 0, 0, 2);
    outb(f, PRI + 7, 0x30);
    assert_int_equal(f->level[0], 0);
    assert_int_equal(inb(f, PRI + 7) & ST_DRQ, ST_DRQ);

    /* SRST: busy while held, signature after. */
    outb(f, PRI + 3, 0x77);
    outb(f, PRI_CTL, 0x04);
    assert_int_equal(inb(f, PRI_CTL), ST_BSY);
    outb(f, PRI + 7, 0xec);         /* ignored while in reset */
    outb(f, PRI_CTL, 0x00);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    assert_int_equal(inb(f, PRI + 2), 1);
    assert_int_equal(inb(f, PRI + 3), 1);
    assert_int_equal(inb(f, PRI + 1), 0x01);
    assert_int_equal(f->level[0], 0);
    outw(f, PRI, 0xbeef);           /* the write transfer is gone */
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);

    /* SRST on the CD channel gives the packet signature. */
    outb(f, SEC_CTL, 0x04);
    outb(f, SEC_CTL, 0x00);
    assert_int_equal(inb(f, SEC + 4), 0x14);
    assert_int_equal(inb(f, SEC + 5), 0xeb);
    assert_int_equal(inb(f, SEC + 7), 0x00);

    /* EXECUTE DEVICE DIAGNOSTIC, even when issued to device 1. */
    outb(f, PRI + 6, 0xb0);
    outb(f, PRI + 3, 0x99);
    unsigned edges = f->edges[0];
    outb(f, PRI + 7, 0x90);
    assert_int_equal(f->edges[0], edges + 1);
    assert_int_equal(inb(f, PRI + 6) & 0x10, 0);
    assert_int_equal(inb(f, PRI + 1), 0x01);
    assert_int_equal(inb(f, PRI + 3), 0x01);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    /* DEVICE RESET on the CD: signature, no interrupt; the disk aborts it. */
    outb(f, SEC + 3, 0x42);
    edges = f->edges[1];
    outb(f, SEC + 7, 0x08);
    assert_int_equal(f->edges[1], edges);
    assert_int_equal(inb(f, SEC + 3), 0x01);
    assert_int_equal(inb(f, SEC + 7), 0x00);
    outb(f, PRI + 7, 0x08);
    assert_int_equal(inb(f, PRI + 7) & ST_ERR, ST_ERR);
}

/* ---- Tests: bus master ---- */

static void test_bar4_remap(void **state)
{
    struct fixture *f = *state;
    /* Sizing: 16 ports, I/O space; all address bits writable (firmware
     * computes the size from them). A base past 64 KiB decodes nothing. */
    cfg_write(f, 0x20, 0xffffffff, 4);
    assert_int_equal(cfg_read(f, 0x20, 4), 0xfffffff1);
    assert_int_equal(ide_bm_base(f->ide), 0);
    cfg_write(f, 0x20, 0xfff1, 4);
    assert_int_equal(ide_bm_base(f->ide), 0xfff0);     /* I/O enabled after reset */
    assert_string_equal(bus_lookup_name(f->pio, 0xfff0), "ide-bm");
    /* With I/O space off nothing is mapped. */
    cfg_write(f, 0x04, 0, 2);
    assert_int_equal(ide_bm_base(f->ide), 0);
    assert_null(bus_lookup_name(f->pio, 0xfff0));
    /* The legacy ports go quiet too. */
    assert_int_equal(inb(f, PRI + 7), 0xff);
    cfg_write(f, 0x20, 0xc001, 4);
    assert_int_equal(ide_bm_base(f->ide), 0);
    cfg_write(f, 0x04, 0x0005, 2);
    assert_int_equal(cfg_read(f, 0x04, 2), 0x0005);
    assert_int_equal(ide_bm_base(f->ide), 0xc000);
    assert_string_equal(bus_lookup_name(f->pio, 0xc00f), "ide-bm");
    outl(f, 0xc004, 0x12345678);
    assert_int_equal(inl(f, 0xc004), 0x12345678 & ~3u);
    /* Move it: the old range is released. */
    cfg_write(f, 0x20, 0xd000, 4);
    assert_int_equal(ide_bm_base(f->ide), 0xd000);
    assert_null(bus_lookup_name(f->pio, 0xc000));
    assert_int_equal(inl(f, 0xd004), 0x12345678 & ~3u);
    /* On top of another device: stays unmapped, the other one untouched. */
    assert_int_equal(bus_map(f->pio, 0xe008, 4, &ide_cmd_bus_ops, &f->ide->chan[1], "other"), 0);
    cfg_write(f, 0x20, 0xe000, 4);
    assert_int_equal(ide_bm_base(f->ide), 0);
    assert_string_equal(bus_lookup_name(f->pio, 0xe008), "other");
    assert_null(bus_lookup_name(f->pio, 0xe000));
    assert_null(bus_lookup_name(f->pio, 0xd000));
    /* Port 0 is "unassigned". */
    cfg_write(f, 0x20, 0x0000, 4);
    assert_int_equal(ide_bm_base(f->ide), 0);
    assert_null(bus_lookup_name(f->pio, 0));
    cfg_write(f, 0x20, 0xc000, 4);
    assert_int_equal(ide_bm_base(f->ide), 0xc000);
    /* The memory space bit is not implemented. */
    cfg_write(f, 0x04, 0x0007, 2);
    assert_int_equal(cfg_read(f, 0x04, 2), 0x0005);
    /* IDETIM and SIDETIM read back; decode off silences the channel. */
    cfg_write(f, 0x40, 0xa307, 2);
    cfg_write(f, 0x42, 0x0c00 | 0x8000, 2);
    cfg_write(f, 0x44, 0x5a, 1);
    assert_int_equal(cfg_read(f, 0x40, 2), 0xa307);
    assert_int_equal(cfg_read(f, 0x42, 2), 0x8000);     /* reserved bits 11-10 */
    assert_int_equal(cfg_read(f, 0x44, 1), 0x5a);
    cfg_write(f, 0x42, 0x0000, 2);
    assert_int_equal(inb(f, SEC + 4), 0xff);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    cfg_write(f, 0x42, 0x8000, 2);
    assert_int_equal(inb(f, SEC + 4), 0x14);
    /* BM status: DMA capable bits are read/write, error/interrupt are
     * write-one-to-clear, active is read-only. */
    outb(f, BM + 2, 0x67);
    assert_int_equal(inb(f, BM + 2), 0x60);
    outb(f, BM + 10, 0x20);
    assert_int_equal(inb(f, BM + 10), 0x20);
}

static void test_dma_read_write(void **state)
{
    struct fixture *f = *state;
    enable_bm(f);
    /* Two regions, 1 KiB and 2 KiB, for 6 sectors from LBA 100. */
    prd_put(f, 0x1000, 0, 0x10000, 1024, 0);
    prd_put(f, 0x1000, 1, 0x20000, 2048, 1);
    outl(f, BM + 4, 0x1000);
    outb(f, BM + 2, 0x06);
    uint8_t want[3072];
    file_read(f->disk_path, want, sizeof(want), 100 * 512);
    taskfile28(f, PRI, 0, 100, 6);
    outb(f, PRI + 7, 0xc8);
    /* Nothing moves before the bus master starts. */
    assert_int_equal(inb(f, PRI_CTL) & ST_DRQ, ST_DRQ);
    assert_int_equal(f->level[0], 0);
    outb(f, BM + 0, 0x09);
    assert_memory_equal(ram(f, 0x10000, 1024), want, 1024);
    assert_memory_equal(ram(f, 0x20000, 2048), want + 1024, 2048);
    /* Exact fit: Active clear, Interrupt set, device done with INTRQ. */
    assert_int_equal(inb(f, BM + 2) & 0x07, 0x04);
    assert_int_equal(f->level[0], 1);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    outb(f, BM + 0, 0x00);
    outb(f, BM + 2, 0x04);
    assert_int_equal(inb(f, BM + 2) & 0x07, 0);

    /* WRITE DMA EXT with the bus master started first; the table is
     * larger than the transfer, so Active stays set (SFF-8038i). */
    uint8_t *src = ram(f, 0x30000, 4096);
    for (unsigned i = 0; i < 4096; i++)
        src[i] = (uint8_t)(i * 11 + 3);
    prd_put(f, 0x2000, 0, 0x30000, 4096, 0);
    prd_put(f, 0x2000, 1, 0x40000, 4096, 1);
    outl(f, BM + 4, 0x2000);
    outb(f, BM + 0, 0x01);
    assert_int_equal(inb(f, BM + 2) & 0x01, 0x01);
    taskfile48(f, PRI, 500, 8);
    outb(f, PRI + 7, 0x35);
    assert_int_equal(inb(f, BM + 2) & 0x07, 0x05);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    outb(f, BM + 0, 0x00);
    assert_int_equal(inb(f, BM + 2) & 0x01, 0);
    outb(f, BM + 2, 0x04);
    uint8_t back[4096];
    file_read(f->disk_path, back, 4096, 500 * 512);
    assert_memory_equal(back, src, 4096);

    /* A 64 KiB region (count 0) for 128 sectors. */
    uint8_t *big = malloc(65536);
    file_read(f->disk_path, big, 65536, 1024 * 512);
    prd_put(f, 0x3000, 0, 0x100000, 0, 1);
    outl(f, BM + 4, 0x3000);
    taskfile28(f, PRI, 0, 1024, 128);
    outb(f, PRI + 7, 0xc8);
    outb(f, BM + 0, 0x09);
    assert_memory_equal(ram(f, 0x100000, 65536), big, 65536);
    assert_int_equal(inb(f, BM + 2) & 0x07, 0x04);
    outb(f, BM + 0, 0x00);
    outb(f, BM + 2, 0x04);
    free(big);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
}

static void test_dma_short_and_bad_tables(void **state)
{
    struct fixture *f = *state;
    enable_bm(f);
    uint8_t want[4096];
    file_read(f->disk_path, want, sizeof(want), 40 * 512);
    /* The table covers 1 KiB of a 4 KiB read: the engine stops with
     * Interrupt and Error clear, the device still waits. */
    memset(ram(f, 0x50000, 4096), 0, 4096);
    prd_put(f, 0x1000, 0, 0x50000, 1024, 1);
    outl(f, BM + 4, 0x1000);
    taskfile28(f, PRI, 0, 40, 8);
    outb(f, PRI + 7, 0xc8);
    outb(f, BM + 0, 0x09);
    assert_int_equal(inb(f, BM + 2) & 0x07, 0x00);
    assert_int_equal(f->level[0], 0);
    assert_int_equal(inb(f, PRI_CTL) & ST_DRQ, ST_DRQ);
    assert_memory_equal(ram(f, 0x50000, 1024), want, 1024);
    /* A restart with a table for the rest finishes the command. */
    outb(f, BM + 0, 0x08);
    prd_put(f, 0x1000, 0, 0x50400, 3072, 1);
    outb(f, BM + 0, 0x09);
    assert_int_equal(inb(f, BM + 2) & 0x07, 0x04);
    assert_memory_equal(ram(f, 0x50000, 4096), want, 4096);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    outb(f, BM + 0, 0x00);
    outb(f, BM + 2, 0x06);

    /* A region outside RAM: Error set, command aborted, RAM and image
     * untouched beyond what was legal. */
    uint8_t before[512];
    file_read(f->disk_path, before, 512, 60 * 512);
    prd_put(f, 0x1000, 0, 0x10000000, 512, 1);
    taskfile28(f, PRI, 0, 60, 1);
    outb(f, PRI + 7, 0xca);
    outb(f, BM + 0, 0x01);
    assert_int_equal(inb(f, BM + 2) & 0x03, 0x02);
    assert_int_equal(inb(f, PRI + 7) & ST_ERR, ST_ERR);
    uint8_t after[512];
    file_read(f->disk_path, after, 512, 60 * 512);
    assert_memory_equal(before, after, 512);
    outb(f, BM + 0, 0x00);
    outb(f, BM + 2, 0x06);
    assert_int_equal(inb(f, BM + 2) & 0x06, 0);
    /* A region straddling the end of RAM. */
    prd_put(f, 0x1000, 0, RAM_SIZE - 256, 512, 1);
    taskfile28(f, PRI, 0, 60, 1);
    outb(f, PRI + 7, 0xc8);
    outb(f, BM + 0, 0x09);
    assert_int_equal(inb(f, BM + 2) & 0x02, 0x02);
    outb(f, BM + 0, 0x00);
    outb(f, BM + 2, 0x06);
    /* The table itself outside RAM. */
    outl(f, BM + 4, 0x20000000);
    taskfile28(f, PRI, 0, 60, 1);
    outb(f, PRI + 7, 0xc8);
    outb(f, BM + 0, 0x09);
    assert_int_equal(inb(f, BM + 2) & 0x03, 0x02);
    assert_int_equal(inb(f, PRI + 7) & ST_ERR, ST_ERR);
    outb(f, BM + 0, 0x00);
    outb(f, BM + 2, 0x06);
    /* A table of 8192 tiny regions without EOT ends there. */
    outl(f, BM + 4, 0x80000);
    for (unsigned i = 0; i < 8192; i++)
        prd_put(f, 0x80000, i, 0x60000, 2, 0);
    taskfile28(f, PRI, 0, 60, 100);
    outb(f, PRI + 7, 0xc8);
    outb(f, BM + 0, 0x09);
    assert_int_equal(inb(f, BM + 2) & 0x07, 0x00);
    assert_int_equal(inb(f, PRI_CTL) & ST_DRQ, ST_DRQ);
    outb(f, BM + 0, 0x00);
    /* SRST frees the device again. */
    outb(f, PRI_CTL, 0x04);
    outb(f, PRI_CTL, 0x00);
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    assert_int_equal(file_size(f->disk_path), DISK_SECTORS * 512);
    assert_string_equal(ide_io_error(f->ide, 0, 0), "");
}

/* ---- Tests: ATAPI ---- */

static void test_atapi_inquiry_capacity_read(void **state)
{
    struct fixture *f = *state;
    uint8_t cdb[12], buf[16384], want[8192], st;
    cdb_clear(cdb);
    cdb[0] = 0x12;
    cdb[4] = 36;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st), 36);
    assert_int_equal(st & ST_ERR, 0);
    assert_int_equal(buf[0] & 0x1f, 0x05);          /* CD/DVD */
    assert_int_equal(buf[1] & 0x80, 0x80);          /* removable */
    assert_int_equal(buf[4], 31);
    /* The allocation length cuts the reply. */
    cdb[4] = 5;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st), 5);
    /* An interrupt announced each phase. */
    assert_true(f->edges[1] >= 2);

    cdb_clear(cdb);
    cdb[0] = 0x25;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st), 8);
    assert_int_equal(get_be32(buf), ISO_SECTORS - 1);
    assert_int_equal(get_be32(buf + 4), 2048);

    /* READ(10) of 3 sectors at LBA 7, in 2 KiB DRQ blocks. */
    uint8_t want3[3 * 2048];
    file_read(f->iso_path, want3, sizeof(want3), 7 * 2048);
    cdb_clear(cdb);
    cdb[0] = 0x28;
    put_be32(cdb + 2, 7);
    cdb[8] = 3;
    assert_int_equal(atapi_pio(f, SEC, cdb, 2048, buf, sizeof(buf), &st), 3 * 2048);
    assert_int_equal(st & ST_ERR, 0);
    assert_memory_equal(buf, want3, sizeof(want3));
    /* An odd byte count limit: blocks shrink to even sizes, data intact. */
    assert_int_equal(atapi_pio(f, SEC, cdb, 0x0301, buf, sizeof(buf), &st), 3 * 2048);
    assert_memory_equal(buf, want3, sizeof(want3));
    /* 32-bit reads, Linux style: whole dwords, then one more dword for
     * the 2 bytes left of each 1026-byte block. The extra half must not
     * eat into the next block. */
    outb(f, SEC + 1, 0);
    outb(f, SEC + 4, 0x02);
    outb(f, SEC + 5, 0x04);
    outb(f, SEC + 7, 0xa0);
    for (unsigned i = 0; i < 12; i += 2)
        outw(f, SEC, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    size_t got = 0;
    while ((st = inb(f, SEC + 7)) & ST_DRQ) {
        unsigned n = inb(f, SEC + 4) | inb(f, SEC + 5) << 8;
        assert_true(n <= 0x402 && got + n <= sizeof(buf));
        for (unsigned j = 0; j < n; j += 4) {
            uint32_t v = inl(f, SEC);
            memcpy(buf + got + j, &v, n - j < 4 ? n - j : 4);
        }
        got += n;
    }
    assert_int_equal(st & ST_ERR, 0);
    assert_int_equal(got, 3 * 2048);
    assert_memory_equal(buf, want3, sizeof(want3));
    /* READ(12), last 4 sectors. */
    file_read(f->iso_path, want, 4 * 2048, (ISO_SECTORS - 4) * 2048);
    cdb_clear(cdb);
    cdb[0] = 0xa8;
    put_be32(cdb + 2, ISO_SECTORS - 4);
    put_be32(cdb + 6, 4);
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st), 4 * 2048);
    assert_memory_equal(buf, want, 4 * 2048);
    /* Out of range. */
    put_be32(cdb + 2, ISO_SECTORS - 3);
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st), 0);
    assert_int_equal(st & ST_ERR, ST_ERR);
    assert_int_equal(inb(f, SEC + 1) >> 4, 0x5);
    uint8_t key, asc, ascq;
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x5);
    assert_int_equal(asc, 0x21);
    /* Sense was reported and is cleared now. */
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0);
    /* READ CD, user data only, 1 sector at 9; other formats are refused. */
    file_read(f->iso_path, want, 2048, 9 * 2048);
    cdb_clear(cdb);
    cdb[0] = 0xbe;
    put_be32(cdb + 2, 9);
    cdb[8] = 1;
    cdb[9] = 0x10;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st), 2048);
    assert_memory_equal(buf, want, 2048);
    cdb[9] = 0xf8;                  /* sync, headers, user data, EDC/ECC */
    atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x5);
    assert_int_equal(asc, 0x24);
    cdb[9] = 0x10;
    cdb[1] = 1 << 2;                /* expect CD-DA */
    atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
    /* An unknown opcode: ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE. */
    cdb_clear(cdb);
    cdb[0] = 0xff;
    atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
    assert_int_equal(inb(f, SEC + 1) & 0xf4, 0x54);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x5);
    assert_int_equal(asc, 0x20);
    /* Other commands that just work. */
    const uint8_t simple[][2] = { { 0xbb, 0 }, { 0x2b, 0 }, { 0x1e, 0 } };
    for (unsigned i = 0; i < 3; i++) {
        cdb_clear(cdb);
        cdb[0] = simple[i][0];
        atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st);
        assert_int_equal(st & ST_ERR, 0);
    }
    cdb_clear(cdb);
    cdb[0] = 0x2b;
    put_be32(cdb + 2, ISO_SECTORS);
    atapi_pio(f, SEC, cdb, 0xfffe, buf, sizeof(buf), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
}

static void test_atapi_dma(void **state)
{
    struct fixture *f = *state;
    enable_bm(f);
    uint8_t want[5 * 2048];
    file_read(f->iso_path, want, sizeof(want), 20 * 2048);
    prd_put(f, 0x1000, 0, 0x10000, 4096, 0);
    prd_put(f, 0x1000, 1, 0x20000, 6144, 1);
    outl(f, BM + 8 + 4, 0x1000);
    outb(f, BM + 8 + 2, 0x06);
    outb(f, BM + 8 + 0, 0x09);
    uint8_t cdb[12];
    cdb_clear(cdb);
    cdb[0] = 0x28;
    put_be32(cdb + 2, 20);
    cdb[8] = 5;
    outb(f, SEC + 1, 0x01);         /* DMA */
    outb(f, SEC + 7, 0xa0);
    for (unsigned i = 0; i < 12; i += 2)
        outw(f, SEC, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    assert_memory_equal(ram(f, 0x10000, 4096), want, 4096);
    assert_memory_equal(ram(f, 0x20000, 6144), want + 4096, 6144);
    assert_int_equal(inb(f, BM + 8 + 2) & 0x07, 0x04);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(inb(f, SEC + 7) & (ST_ERR | ST_DRQ), 0);
    assert_int_equal(inb(f, SEC + 2) & 3, 3);
    outb(f, BM + 8 + 0, 0x00);
    /* A DMA INQUIRY works too. */
    outb(f, BM + 8 + 2, 0x04);
    prd_put(f, 0x1000, 0, 0x30000, 36, 1);
    outb(f, BM + 8 + 0, 0x09);
    cdb_clear(cdb);
    cdb[0] = 0x12;
    cdb[4] = 36;
    outb(f, SEC + 1, 0x01);
    outb(f, SEC + 7, 0xa0);
    for (unsigned i = 0; i < 12; i += 2)
        outw(f, SEC, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    assert_int_equal(ram(f, 0x30000, 1)[0], 0x05);
    assert_int_equal(inb(f, BM + 8 + 2) & 0x07, 0x04);
    outb(f, BM + 8 + 0, 0x00);
}

static void test_atapi_toc(void **state)
{
    struct fixture *f = *state;
    uint8_t cdb[12], b[256], st;
    /* Format 0, LBA: one data track at 0, lead-out at the capacity. */
    cdb_clear(cdb);
    cdb[0] = 0x43;
    cdb[8] = 0xff;
    size_t n = atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(n, 4 + 2 * 8);
    assert_int_equal(get_be16(b), n - 2);
    assert_int_equal(b[2], 1);
    assert_int_equal(b[3], 1);
    assert_int_equal(b[4 + 1] & 0x0f, 0x04);        /* data track */
    assert_int_equal(b[4 + 2], 1);
    assert_int_equal(get_be32(b + 4 + 4), 0);
    assert_int_equal(b[12 + 2], 0xaa);
    assert_int_equal(get_be32(b + 12 + 4), ISO_SECTORS);
    /* MSF: LBA + 150 frames, 75 frames a second. */
    cdb[1] = 0x02;
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    unsigned frames = ISO_SECTORS + 150;
    assert_int_equal(b[8 + 1], 0);
    assert_int_equal(b[8 + 2], 2);
    assert_int_equal(b[8 + 3], 0);
    assert_int_equal(b[16 + 1], frames / 4500);
    assert_int_equal(b[16 + 2], frames / 75 % 60);
    assert_int_equal(b[16 + 3], frames % 75);
    /* Starting at the lead-out only returns the lead-out. */
    cdb[6] = 0xaa;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 12);
    cdb[6] = 2;
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
    /* Format 1: session information. */
    cdb_clear(cdb);
    cdb[0] = 0x43;
    cdb[2] = 1;
    cdb[8] = 0xff;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 12);
    assert_int_equal(get_be16(b), 10);
    assert_int_equal(b[2], 1);
    assert_int_equal(b[3], 1);
    assert_int_equal(b[6], 1);
    assert_int_equal(get_be32(b + 8), 0);
    /* Format 2: raw TOC with points A0, A1, A2 and track 1. */
    cdb[2] = 2;
    n = atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(n, 4 + 4 * 11);
    assert_int_equal(get_be16(b), n - 2);
    int seen_a2 = 0, seen_t1 = 0;
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *d = b + 4 + 11 * i;
        assert_int_equal(d[0], 1);
        if (d[3] == 0xa2) {
            seen_a2 = 1;
            assert_int_equal(d[8], frames / 4500);
            assert_int_equal(d[9], frames / 75 % 60);
            assert_int_equal(d[10], frames % 75);
        }
        if (d[3] == 0x01) {
            seen_t1 = 1;
            assert_int_equal(d[9], 2);
        }
        if (d[3] == 0xa0 || d[3] == 0xa1)
            assert_int_equal(d[8], 1);
    }
    assert_true(seen_a2 && seen_t1);
    /* Other formats are refused; the allocation length truncates. */
    cdb[2] = 5;
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
    cdb[2] = 0;
    cdb[8] = 6;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 6);
    assert_int_equal(get_be16(b), 18);
}

static void test_atapi_configuration_modes(void **state)
{
    struct fixture *f = *state;
    uint8_t cdb[12], b[1024], st;
    cdb_clear(cdb);
    cdb[0] = 0x46;
    cdb[8] = 0xff;
    cdb[7] = 0x03;
    size_t n = atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_true(n > 8);
    assert_int_equal(get_be32(b), n - 4);
    assert_int_equal(get_be16(b + 6), 0x0008);      /* CD-ROM */
    int seen[0x20] = {0}, cdrom_profile = 0;
    for (size_t p = 8; p + 4 <= n; p += 4 + b[p + 3]) {
        uint16_t code = get_be16(b + p);
        if (code < 0x20)
            seen[code] = 1;
        if (code == 0x0000) {
            for (unsigned q = 0; q < b[p + 3]; q += 4)
                if (get_be16(b + p + 4 + q) == 0x0008 && (b[p + 4 + q + 2] & 1))
                    cdrom_profile = 1;
        }
        if (code == 0x0010) {
            assert_int_equal(b[p + 2] & 1, 1);      /* current */
            assert_int_equal(get_be32(b + p + 4), 2048);
        }
    }
    assert_true(seen[0x00] && seen[0x01] && seen[0x02] && seen[0x03] && seen[0x10]);
    assert_true(cdrom_profile);
    /* RT 2: just the Random Readable feature. */
    cdb[1] = 2;
    cdb[3] = 0x10;
    n = atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(n, 8 + 12);
    assert_int_equal(get_be16(b + 8), 0x0010);

    /* MODE SENSE(10): capabilities page, and all pages. */
    cdb_clear(cdb);
    cdb[0] = 0x5a;
    cdb[2] = 0x2a;
    cdb[8] = 0xff;
    n = atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(st & ST_ERR, 0);
    assert_int_equal(get_be16(b), n - 2);
    assert_int_equal(b[8] & 0x3f, 0x2a);
    assert_int_equal(b[9] + 2 + 8, n);
    assert_true(b[8 + 6] & 0x08);                   /* eject supported */
    cdb[2] = 0x3f;
    size_t all = atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_true(all > n);
    int pages = 0;
    for (size_t p = 8; p + 2 <= all; p += 2 + b[p + 1]) {
        unsigned code = b[p] & 0x3f;
        assert_true(code == 0x01 || code == 0x0d || code == 0x2a);
        pages++;
    }
    assert_int_equal(pages, 3);
    cdb[2] = 0x05;
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
    cdb[2] = 0xea;                  /* saved values */
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);

    /* READ DISC INFORMATION and MECHANISM STATUS. */
    cdb_clear(cdb);
    cdb[0] = 0x51;
    cdb[8] = 0xff;
    n = atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(n, 34);
    assert_int_equal(b[2] & 0x03, 0x02);            /* complete disc */
    cdb_clear(cdb);
    cdb[0] = 0xbd;
    cdb[9] = 0xff;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 8);
    assert_int_equal(b[1] & 0x10, 0);
}

static uint8_t gesn(struct fixture *f, uint8_t *status)
{
    uint8_t cdb[12], b[16], st;
    cdb_clear(cdb);
    cdb[0] = 0x4a;
    cdb[1] = 1;
    cdb[4] = 0x10;
    cdb[8] = sizeof(b);
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 8);
    assert_int_equal(st & ST_ERR, 0);
    assert_int_equal(b[2] & 0x07, 0x04);            /* media class */
    assert_int_equal(b[2] & 0x80, 0);
    *status = b[5];
    return b[4] & 0x0f;
}

static void test_atapi_media(void **state)
{
    struct fixture *f = *state;
    uint8_t key, asc, ascq, ms, cdb[12], b[4096], st;
    assert_int_equal(tur(f, SEC) & ST_ERR, 0);
    assert_int_equal(gesn(f, &ms), 0);
    assert_int_equal(ms & 0x03, 0x02);              /* present, door closed */

    /* Take the medium out: media removal event, NOT READY. */
    assert_int_equal(ide_cdrom_change(f->ide, 1, 0, NULL), 0);
    assert_int_equal(gesn(f, &ms), 3);
    assert_int_equal(ms & 0x02, 0);
    assert_int_equal(gesn(f, &ms), 0);
    assert_int_equal(tur(f, SEC) & ST_ERR, ST_ERR);
    assert_int_equal(inb(f, SEC + 1) >> 4, 0x2);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x2);
    assert_int_equal(asc, 0x3a);
    cdb_clear(cdb);
    cdb[0] = 0x25;
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
    cdb_clear(cdb);
    cdb[0] = 0x46;
    cdb[8] = 0xff;
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(get_be16(b + 6), 0x0000);      /* no current profile */

    /* Insert another disc: unit attention once, then ready. */
    assert_int_equal(ide_cdrom_change(f->ide, 1, 0, f->iso2), 0);
    assert_int_equal(gesn(f, &ms), 2);              /* new media */
    assert_int_equal(ms & 0x02, 0x02);
    assert_int_equal(tur(f, SEC) & ST_ERR, ST_ERR);
    assert_int_equal(inb(f, SEC + 1) >> 4, 0x6);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x6);
    assert_int_equal(asc, 0x28);
    assert_int_equal(tur(f, SEC) & ST_ERR, 0);
    cdb_clear(cdb);
    cdb[0] = 0x25;
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(get_be32(b), 40 - 1);
    uint8_t want[2048];
    file_read(f->iso2_path, want, 2048, 39 * 2048);
    cdb_clear(cdb);
    cdb[0] = 0x28;
    put_be32(cdb + 2, 39);
    cdb[8] = 1;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 2048);
    assert_memory_equal(b, want, 2048);
    /* REQUEST SENSE reports a pending unit attention directly, too. */
    assert_int_equal(ide_cdrom_change(f->ide, 1, 0, f->iso), 0);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x6);
    assert_int_equal(asc, 0x28);
    assert_int_equal(tur(f, SEC) & ST_ERR, 0);
}

static void test_atapi_eject(void **state)
{
    struct fixture *f = *state;
    uint8_t key, asc, ascq, ms, cdb[12], b[64], st;
    /* Removal prevented: the eject is refused. */
    cdb_clear(cdb);
    cdb[0] = 0x1e;
    cdb[4] = 1;
    atapi_pio(f, SEC, cdb, 0, b, 0, &st);
    assert_int_equal(st & ST_ERR, 0);
    cdb_clear(cdb);
    cdb[0] = 0x1b;
    cdb[4] = 0x02;                  /* LoEj, stop: eject */
    atapi_pio(f, SEC, cdb, 0, b, 0, &st);
    assert_int_equal(st & ST_ERR, ST_ERR);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x5);
    assert_int_equal(asc, 0x53);
    assert_int_equal(f->ejects, 0);
    cdb_clear(cdb);
    cdb[0] = 0x1e;
    atapi_pio(f, SEC, cdb, 0, b, 0, &st);
    /* Allowed: the tray opens and the machine is told. */
    cdb_clear(cdb);
    cdb[0] = 0x1b;
    cdb[4] = 0x02;
    atapi_pio(f, SEC, cdb, 0, b, 0, &st);
    assert_int_equal(st & ST_ERR, 0);
    assert_int_equal(f->ejects, 1);
    assert_int_equal(f->eject_channel, 1);
    assert_int_equal(f->eject_unit, 0);
    assert_true(ide_cdrom_tray_open(f->ide, 1, 0));
    assert_int_equal(tur(f, SEC) & ST_ERR, ST_ERR);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x2);
    assert_int_equal(asc, 0x3a);
    assert_int_equal(ascq, 0x02);                   /* tray open */
    assert_int_equal(gesn(f, &ms), 3);
    assert_int_equal(ms & 0x03, 0x01);              /* door open, no medium */
    cdb_clear(cdb);
    cdb[0] = 0xbd;
    cdb[9] = 8;
    atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st);
    assert_int_equal(b[1] & 0x10, 0x10);
    /* Load closes the tray: unit attention, then ready. */
    cdb_clear(cdb);
    cdb[0] = 0x1b;
    cdb[4] = 0x03;
    atapi_pio(f, SEC, cdb, 0, b, 0, &st);
    assert_int_equal(st & ST_ERR, 0);
    assert_false(ide_cdrom_tray_open(f->ide, 1, 0));
    assert_int_equal(tur(f, SEC) & ST_ERR, ST_ERR);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x6);
    assert_int_equal(tur(f, SEC) & ST_ERR, 0);
    assert_int_equal(f->ejects, 1);
}

static void test_atapi_no_medium_drive(void **state)
{
    struct fixture *f = *state;
    /* A second CD-ROM drive as the secondary slave, empty. */
    assert_int_equal(ide_attach_cdrom(f->ide, 1, 1, NULL), 0);
    outb(f, SEC + 6, 0xb0);
    assert_int_equal(inb(f, SEC + 5), 0xeb);
    uint8_t key, asc, ascq, cdb[12], b[64], st;
    assert_int_equal(tur(f, SEC) & ST_ERR, ST_ERR);
    request_sense(f, SEC, &key, &asc, &ascq);
    assert_int_equal(key, 0x2);
    assert_int_equal(asc, 0x3a);
    assert_int_equal(ascq, 0x01);
    cdb_clear(cdb);
    cdb[0] = 0x28;
    cdb[8] = 1;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 0);
    assert_int_equal(st & ST_ERR, ST_ERR);
    cdb_clear(cdb);
    cdb[0] = 0x12;
    cdb[4] = 36;
    assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 36);
    /* The master still has its disc. */
    outb(f, SEC + 6, 0xa0);
    assert_int_equal(tur(f, SEC) & ST_ERR, 0);
}

/* ---- Saved state ---- */

static void test_vmstate_midtransfer(void **state)
{
    struct fixture *f = *state;
    const struct vmstate_desc *desc = ide_device_ops.vmstate;
    uint8_t want[4 * 512], got[4 * 512];
    file_read(f->disk_path, want, sizeof(want), 200 * 512);
    taskfile28(f, PRI, 0, 200, 4);
    outb(f, PRI + 7, 0x20);
    read_words(f, PRI, got, 512 + 100);
    long n = vmstate_save(desc, f->ide, NULL, 0);
    assert_true(n > 0);
    uint8_t *buf = malloc((size_t)n);
    assert_int_equal(vmstate_save(desc, f->ide, buf, (size_t)n), n);
    /* Wander off: another command replaces the transfer. */
    outb(f, PRI + 7, 0xec);
    cfg_write(f, 0x40, 0x1234, 2);
    char err[256];
    assert_int_equal(vmstate_load(desc, f->ide, ide_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    read_words(f, PRI, got + 612, sizeof(got) - 612);
    assert_memory_equal(got, want, sizeof(want));
    assert_int_equal(inb(f, PRI + 7), ST_DRDY | ST_DSC);
    assert_int_equal(cfg_read(f, 0x40, 2), 0x8000);

    /* A hostile stream: transfer positions out of range are dropped. */
    struct ide *evil = malloc(sizeof(*evil));
    memcpy(evil, f->ide, sizeof(*evil));
    evil->chan[0].drive[0].xfer = 2;
    evil->chan[0].drive[0].buf_pos = 10;
    evil->chan[0].drive[0].buf_end = 0xffffff;
    evil->chan[0].drive[1].xfer = 200;
    evil->chan[1].drive[0].buf_len = 0x7fffffff;
    evil->chan[1].drive[0].xfer = 5;
    evil->chan[1].drive[0].buf_end = 100;
    evil->pci.config[0] = 0x11;
    assert_int_equal(vmstate_save(desc, evil, buf, (size_t)n), n);
    free(evil);
    assert_int_equal(vmstate_load(desc, f->ide, ide_device_ops.size, buf, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(cfg_read(f, 0, 2), 0x8086);
    assert_int_equal(inw(f, PRI), 0xffff);
    assert_int_equal(inw(f, SEC), 0xffff);
    assert_int_equal(inb(f, PRI + 7) & ST_DRQ, 0);
    free(buf);
}

/* ---- Random accesses ---- */

static uint32_t rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

static void check_responsive(struct fixture *f)
{
    /* Restore decoding, reset both channels, and IDENTIFY. */
    cfg_write(f, 0x04, 0x0005, 2);
    cfg_write(f, 0x40, 0x8000, 2);
    cfg_write(f, 0x42, 0x8000, 2);
    outb(f, BM + 0, 0);
    outb(f, BM + 8, 0);
    for (unsigned c = 0; c < 2; c++) {
        uint16_t ctl = c ? SEC_CTL : PRI_CTL, base = c ? SEC : PRI;
        outb(f, ctl, 0x04);
        outb(f, ctl, 0x00);
        outb(f, base + 6, 0xa0);
        uint8_t id[512];
        identify(f, base, c ? 0xa1 : 0xec, id);
        uint8_t sum = 0;
        for (unsigned i = 0; i < 512; i++)
            sum = (uint8_t)(sum + id[i]);
        assert_int_equal(sum, 0);
        if (!c)
            assert_int_equal(id_word(id, 60), DISK_SECTORS);
    }
    /* And the CD still reads the right bytes. */
    uint8_t cdb[12], b[2048], want[2048], st;
    if (ide_blockdev(f->ide, 1, 0) == f->iso) {
        tur(f, SEC);
        tur(f, SEC);
        file_read(f->iso_path, want, 2048, 3 * 2048);
        cdb_clear(cdb);
        cdb[0] = 0x28;
        put_be32(cdb + 2, 3);
        cdb[8] = 1;
        outb(f, SEC + 1, 0);
        assert_int_equal(atapi_pio(f, SEC, cdb, 0xfffe, b, sizeof(b), &st), 2048);
        assert_memory_equal(b, want, 2048);
    }
    assert_int_equal(file_size(f->disk_path), DISK_SECTORS * 512);
    assert_int_equal(file_size(f->iso_path), ISO_SECTORS * 2048);
    assert_string_equal(ide_io_error(f->ide, 0, 0), "");
    assert_string_equal(ide_io_error(f->ide, 1, 0), "");
}

static void check_iso_unchanged(struct fixture *f)
{
    uint8_t *b = malloc(ISO_SECTORS * 2048);
    file_read(f->iso_path, b, ISO_SECTORS * 2048, 0);
    for (size_t i = 0; i < ISO_SECTORS * 2048; i++)
        if (b[i] != iso_pattern(i, 5))
            fail_msg("ISO byte %zu changed", i);
    free(b);
}

/* Save, load into the same controller, save again: a consistent state
 * survives post_load unchanged. */
static void vmstate_roundtrip(struct fixture *f)
{
    const struct vmstate_desc *desc = ide_device_ops.vmstate;
    long n = vmstate_save(desc, f->ide, NULL, 0);
    uint8_t *a = malloc((size_t)n), *b = malloc((size_t)n);
    char err[256];
    assert_int_equal(vmstate_save(desc, f->ide, a, (size_t)n), n);
    assert_int_equal(vmstate_load(desc, f->ide, ide_device_ops.size, a, (size_t)n, err, sizeof(err)), 0);
    assert_int_equal(vmstate_save(desc, f->ide, b, (size_t)n), n);
    assert_memory_equal(a, b, (size_t)n);
    free(a);
    free(b);
}

static void test_random_ports(void **state)
{
    struct fixture *f = *state;
    enable_bm(f);
    static const uint16_t ports[] = { PRI, PRI_CTL, SEC, SEC_CTL, BM };
    static const uint8_t lens[] = { 8, 1, 8, 1, 16 };
    uint64_t seed = 0x1de5eed;
    for (unsigned i = 0; i < 200000; i++) {
        uint32_t r = rng(&seed);
        unsigned which = r % 5;
        unsigned size = 1u << ((r >> 4) % 3);
        uint16_t port = (uint16_t)(ports[which] + (r >> 8) % lens[which]);
        /* Bias towards the data and command ports and small values. */
        if ((r >> 20) % 4 == 0)
            port = (which & 2) ? SEC : PRI;
        uint32_t v = rng(&seed);
        if (v & 1)
            v &= 0x3f;
        if (((r >> 24) & 7) == 0 && which >= 2 && which <= 3)
            v = (r & 0x80) ? 0xa0 : (r & 0x40) ? 0x28 : 0x43;   /* PACKET / CDB bytes */
        if ((r >> 27) & 1)
            bus_write(f->pio, port, &v, size);
        else
            bus_read(f->pio, port, &v, size);
        /* Now and then the guest reprograms the PCI function. */
        if (r % 4096 == 7) {
            uint32_t cv = rng(&seed);
            unsigned reg = (cv >> 8) % 2 ? 0x20 : (cv >> 9) % 2 ? 0x04 : 0x40 + (cv >> 10) % 5;
            cfg_write(f, reg, cv, 1u << ((cv >> 16) % 3));
            cfg_write(f, 0x20, BM, 4);
            cfg_write(f, 0x04, 0x0005, 2);
        }
        if (r % 65536 == 11)
            ide_cdrom_change(f->ide, 1, 0, (r & 0x100) ? f->iso : NULL);
    }
    ide_cdrom_change(f->ide, 1, 0, f->iso);
    enable_bm(f);
    check_responsive(f);
    check_iso_unchanged(f);
}

static void random_prd(struct fixture *f, uint64_t *seed, unsigned channel)
{
    uint32_t r = rng(seed);
    uint32_t table = (r % 3 == 0) ? rng(seed) : 0x1000 + (r % 64) * 8;
    unsigned n = 1 + rng(seed) % 4;
    for (unsigned i = 0; i < n && table + 8 * i + 8 <= RAM_SIZE; i++) {
        uint32_t a = rng(seed);
        uint32_t addr = (a & 3) == 0 ? rng(seed) : 0x100000 + (rng(seed) % 0x80000);
        uint32_t count = (a >> 4) & 1 ? rng(seed) & 0xffff : ((a >> 5) % 16) * 512;
        prd_put(f, table, i, addr, count, i == n - 1 && ((a >> 8) & 7));
    }
    outl(f, (uint16_t)(BM + 8 * channel + 4), table);
    outb(f, (uint16_t)(BM + 8 * channel + 2), 0x06);
    outb(f, (uint16_t)(BM + 8 * channel), (uint8_t)(((r >> 8) & 1) ? 0x09 : 0x01));
}

static void test_random_ata_commands(void **state)
{
    struct fixture *f = *state;
    enable_bm(f);
    static const uint8_t cmds[] = {
        0x00, 0x08, 0x10, 0x20, 0x21, 0x24, 0x25, 0x29, 0x30, 0x31, 0x34, 0x35, 0x39, 0x40, 0x41,
        0x42, 0x70, 0x90, 0x91, 0xa0, 0xa1, 0xc4, 0xc5, 0xc6, 0xc8, 0xc9, 0xca, 0xcb, 0xe0, 0xe1,
        0xe2, 0xe3, 0xe5, 0xe6, 0xe7, 0xea, 0xec, 0xef,
    };
    uint64_t seed = 0xa7a;
    for (unsigned i = 0; i < 20000; i++) {
        uint32_t r = rng(&seed);
        /* Small addresses land inside the 1 MiB disk now and then. */
        uint32_t lba = (r & 1) ? rng(&seed) % (DISK_SECTORS + 64) : rng(&seed);
        uint16_t count = (r & 2) ? (uint16_t)(rng(&seed) % 20) : (uint16_t)rng(&seed);
        outb(f, PRI_CTL, (uint8_t)((r >> 2) & 0x02));
        outb(f, PRI + 1, (uint8_t)rng(&seed));
        outb(f, PRI + 2, (uint8_t)(count >> 8));
        outb(f, PRI + 3, (uint8_t)(lba >> 24));
        outb(f, PRI + 4, (uint8_t)rng(&seed));
        outb(f, PRI + 5, (uint8_t)((r & 4) ? 0 : rng(&seed)));
        outb(f, PRI + 2, (uint8_t)count);
        outb(f, PRI + 3, (uint8_t)lba);
        outb(f, PRI + 4, (uint8_t)(lba >> 8));
        outb(f, PRI + 5, (uint8_t)(lba >> 16));
        outb(f, PRI + 6, (uint8_t)(((r >> 3) & 3) == 0 ? rng(&seed) : 0xe0 | ((lba >> 24) & 0x0f)));
        if ((r >> 5) % 3 == 0)
            random_prd(f, &seed, 0);
        uint8_t cmd = (r >> 7) % 8 ? cmds[rng(&seed) % sizeof(cmds)] : (uint8_t)rng(&seed);
        outb(f, PRI + 7, cmd);
        if ((r >> 10) % 4 == 0)
            random_prd(f, &seed, 0);
        /* Move some data, in and out, while DRQ says so. */
        unsigned words = rng(&seed) % 2048;
        for (unsigned w = 0; w < words; w++) {
            uint8_t st = inb(f, PRI_CTL);
            if (!(st & ST_DRQ))
                break;
            if ((r >> 12) & 1)
                outw(f, PRI, (uint16_t)rng(&seed));
            else
                inw(f, PRI);
        }
        inb(f, PRI + 7);
        if ((r >> 14) % 16 == 0)
            outb(f, BM + 0, 0);
        if ((r >> 18) % 64 == 0) {
            outb(f, PRI_CTL, 0x04);
            outb(f, PRI_CTL, 0x00);
        }
        if (i % 499 == 0)
            vmstate_roundtrip(f);
    }
    check_responsive(f);
    check_iso_unchanged(f);
}

static void test_random_atapi_packets(void **state)
{
    struct fixture *f = *state;
    enable_bm(f);
    static const uint8_t ops[] = {
        0x00, 0x03, 0x12, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a, 0x51, 0x5a, 0xa8, 0xbb,
        0xbd, 0xbe, 0x1a, 0x55, 0x42, 0x52, 0xad,
    };
    uint64_t seed = 0xcdcdcd;
    for (unsigned i = 0; i < 20000; i++) {
        uint32_t r = rng(&seed);
        uint8_t cdb[12];
        for (unsigned k = 0; k < 12; k++)
            cdb[k] = (uint8_t)rng(&seed);
        cdb[0] = (r % 8) ? ops[rng(&seed) % sizeof(ops)] : (uint8_t)rng(&seed);
        if ((r >> 3) & 1) {
            /* Plausible reads: small LBAs and counts. */
            memset(cdb + 2, 0, 10);
            cdb[5] = (uint8_t)(rng(&seed) % (ISO_SECTORS + 8));
            cdb[8] = (uint8_t)(rng(&seed) % 12);
            cdb[9] = (uint8_t)((r >> 4) & 1 ? 0x10 : cdb[9]);
            cdb[4] = (uint8_t)rng(&seed);
        }
        if (cdb[0] == 0x1b && (r >> 5) % 4)
            cdb[4] &= (uint8_t)~0x02;       /* fewer ejects */
        uint16_t bcl = (r >> 6) % 4 ? (uint16_t)rng(&seed) : (uint16_t)(rng(&seed) % 16);
        bool dma = (r >> 8) % 4 == 0;
        if (dma)
            random_prd(f, &seed, 1);
        outb(f, SEC_CTL, (uint8_t)((r >> 9) & 0x02));
        outb(f, SEC + 1, dma ? 0x01 : (uint8_t)(rng(&seed) & 0xfe));
        outb(f, SEC + 4, (uint8_t)bcl);
        outb(f, SEC + 5, (uint8_t)(bcl >> 8));
        outb(f, SEC + 6, (r >> 10) % 16 ? 0xa0 : 0xb0);
        outb(f, SEC + 7, (r >> 14) % 32 ? 0xa0 : (uint8_t)rng(&seed));
        unsigned limit = (r >> 19) % 8 ? 6 : rng(&seed) % 8;
        for (unsigned w = 0; w < limit; w++)
            outw(f, SEC, (uint16_t)(cdb[2 * (w % 6)] | cdb[2 * (w % 6) + 1] << 8));
        /* Drain (some of) the reply. */
        unsigned words = (r >> 22) % 4 ? 20000 : rng(&seed) % 64;
        for (unsigned w = 0; w < words; w++) {
            if (!(inb(f, SEC_CTL) & ST_DRQ))
                break;
            if ((r >> 24) % 16 == 0)
                inl(f, SEC);
            else
                inw(f, SEC);
        }
        inb(f, SEC + 7);
        if ((r >> 26) % 8 == 0)
            outb(f, BM + 8, 0);
        if (r % 997 == 0)
            ide_cdrom_change(f->ide, 1, 0, (r & 0x800) ? f->iso : (r & 0x1000) ? f->iso2 : NULL);
        if (r % 1511 == 0) {
            outb(f, SEC_CTL, 0x04);
            outb(f, SEC_CTL, 0x00);
        }
        if (i % 499 == 0)
            vmstate_roundtrip(f);
    }
    ide_cdrom_change(f->ide, 1, 0, f->iso);
    check_responsive(f);
    check_iso_unchanged(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_channel_and_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pio_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pio_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiple, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupts_reset_diagnostic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar4_remap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_read_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_short_and_bad_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_inquiry_capacity_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_dma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_toc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_configuration_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_media, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_eject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_no_medium_drive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vmstate_midtransfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_ata_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_atapi_packets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
