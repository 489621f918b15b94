#include "fw_cfg.h"

#include <stdlib.h>
#include <string.h>

static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

const struct fw_cfg_item *fw_cfg_find(const struct fw_cfg *fw, uint16_t key)
{
    key &= (uint16_t)~FW_CFG_WRITE_CHANNEL;
    for (unsigned i = 0; i < fw->nitems; i++)
        if (fw->items[i].key == key)
            return &fw->items[i];
    return NULL;
}

static struct fw_cfg_item *fw_cfg_find_mut(struct fw_cfg *fw, uint16_t key)
{
    return (struct fw_cfg_item *)fw_cfg_find(fw, key);
}

static int fw_cfg_put(struct fw_cfg *fw, uint16_t key, const void *data, uint32_t len)
{
    if (fw->nitems >= FW_CFG_MAX_ITEMS || fw_cfg_find(fw, key))
        return -1;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, data, len);
    fw->items[fw->nitems++] = (struct fw_cfg_item){ .key = key, .len = len, .data = copy };
    return 0;
}

int fw_cfg_add(struct fw_cfg *fw, uint16_t key, const void *data, uint32_t len)
{
    if (key & FW_CFG_WRITE_CHANNEL)
        return -1;
    if (!(key & FW_CFG_ARCH_LOCAL) && key >= FW_CFG_FILE_FIRST)
        return -1;      /* files go through fw_cfg_add_file */
    if (key == FW_CFG_FILE_DIR || key == FW_CFG_SIGNATURE || key == FW_CFG_ID)
        return -1;
    return fw_cfg_put(fw, key, data, len);
}

int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t key, uint16_t value)
{
    uint8_t le[2] = { (uint8_t)value, (uint8_t)(value >> 8) };
    return fw_cfg_add(fw, key, le, sizeof(le));
}

int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t key, uint64_t value)
{
    uint8_t le[8];
    for (unsigned i = 0; i < 8; i++)
        le[i] = (uint8_t)(value >> (8 * i));
    return fw_cfg_add(fw, key, le, sizeof(le));
}

/* Directory entry (big-endian): u32 size, u16 select, u16 reserved, name[56]. */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t len)
{
    size_t nlen = name ? strlen(name) : 0;
    if (nlen == 0 || nlen >= FW_CFG_FILE_NAME_LEN || fw->nfiles >= FW_CFG_MAX_FILES)
        return -1;
    struct fw_cfg_item *dir = fw_cfg_find_mut(fw, FW_CFG_FILE_DIR);
    for (unsigned i = 0; i < fw->nfiles; i++)
        if (strncmp((const char *)dir->data + 4 + 64 * i + 8, name, FW_CFG_FILE_NAME_LEN) == 0)
            return -1;
    uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + fw->nfiles);
    uint32_t dlen = 4 + 64 * (fw->nfiles + 1);
    uint8_t *body = calloc(1, dlen);
    if (!body)
        return -1;
    if (fw_cfg_put(fw, key, data, len) < 0) {
        free(body);
        return -1;
    }
    dir = fw_cfg_find_mut(fw, FW_CFG_FILE_DIR);     /* items may not move, but be safe */
    memcpy(body, dir->data, dir->len);
    fw->nfiles++;
    put_be32(body, fw->nfiles);
    uint8_t *e = body + 4 + 64 * (fw->nfiles - 1);
    put_be32(e, len);
    put_be16(e + 4, key);
    memcpy(e + 8, name, nlen);
    free(dir->data);
    dir->data = body;
    dir->len = dlen;
    return 0;
}

void fw_cfg_init(struct fw_cfg *fw, struct guest_mem *mem)
{
    memset(fw, 0, sizeof(*fw));
    fw->mem = mem;
    uint8_t id[4] = { FW_CFG_VERSION_TRADITIONAL | FW_CFG_VERSION_DMA, 0, 0, 0 };
    uint8_t dir[4] = { 0 };
    fw_cfg_put(fw, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_put(fw, FW_CFG_ID, id, sizeof(id));
    fw_cfg_put(fw, FW_CFG_FILE_DIR, dir, sizeof(dir));
}

static uint8_t fw_cfg_next_byte(struct fw_cfg *fw)
{
    const struct fw_cfg_item *it = fw_cfg_find(fw, fw->selector);
    if (!it || fw->offset >= it->len)
        return 0;
    return it->data[fw->offset++];
}

static void fw_cfg_select(struct fw_cfg *fw, uint16_t key)
{
    fw->selector = key;
    fw->offset = 0;
}

/* ---- Port I/O ------------------------------------------------------------ */

static uint64_t fw_cfg_io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct fw_cfg *fw = opaque;
    if (offset == 0)
        return 0;       /* the selector is write-only */
    /* The data port: wider reads return consecutive bytes. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)fw_cfg_next_byte(fw) << (8 * i);
    return v;
}

static void fw_cfg_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct fw_cfg *fw = opaque;
    if (offset == 0 && size == 2)
        fw_cfg_select(fw, (uint16_t)value);
    /* Data writes are not supported (the items are read-only). */
}

const struct bus_ops fw_cfg_io_bus_ops = {
    .read = fw_cfg_io_read,
    .write = fw_cfg_io_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2,
};

/* ---- DMA ----------------------------------------------------------------- */

/* Carry out the access descriptor at gpa: be32 control, be32 length, be64
 * address. The control word is written back as 0 on success or with the
 * error bit. */
static void fw_cfg_dma(struct fw_cfg *fw, uint64_t gpa)
{
    uint8_t desc[16];
    if (guest_mem_read(fw->mem, gpa, desc, sizeof(desc)) < 0)
        return;     /* no descriptor to report an error in */
    uint32_t control = get_be32(desc);
    uint32_t len = get_be32(desc + 4);
    uint64_t addr = get_be64(desc + 8);
    bool error = false;

    if (control & FW_CFG_DMA_SELECT)
        fw_cfg_select(fw, (uint16_t)(control >> 16));
    if (control & FW_CFG_DMA_WRITE) {
        error = true;
    } else if (control & (FW_CFG_DMA_READ | FW_CFG_DMA_SKIP)) {
        const struct fw_cfg_item *it = fw_cfg_find(fw, fw->selector);
        uint32_t avail = (it && fw->offset < it->len) ? it->len - fw->offset : 0;
        uint32_t copy = len < avail ? len : avail;
        if (control & FW_CFG_DMA_READ) {
            /* Past the item's end the guest gets zeros, as on the data port. */
            if (copy && guest_mem_write(fw->mem, addr, it->data + fw->offset, copy) < 0)
                error = true;
            uint8_t zeros[256] = {0};
            for (uint64_t done = copy; !error && done < len;) {
                uint64_t n = len - done < sizeof(zeros) ? len - done : sizeof(zeros);
                if (guest_mem_write(fw->mem, addr + done, zeros, n) < 0)
                    error = true;
                done += n;
            }
        }
        if (!error)
            fw->offset += copy;
    }
    uint8_t ctl[4];
    put_be32(ctl, error ? FW_CFG_DMA_ERROR : 0);
    guest_mem_write(fw->mem, gpa, ctl, sizeof(ctl));
}

static uint64_t fw_cfg_dma_read(void *opaque, uint64_t offset, unsigned size)
{
    /* The register reads as the signature, big-endian: byte i of the
     * 8-byte register is bits 63-8i..56-8i of the value. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size && offset + i < 8; i++)
        v |= ((FW_CFG_DMA_SIGNATURE >> (56 - 8 * (offset + i))) & 0xff) << (8 * i);
    return v;
}

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

static void fw_cfg_dma_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct fw_cfg *fw = opaque;
    /* The register is big-endian: the high half at 0x514, the low half at
     * 0x518, whose write starts the transfer. */
    if (size != 4)
        return;
    if (offset == 0) {
        fw->dma_addr_high = bswap32((uint32_t)value);
    } else if (offset == 4) {
        uint64_t gpa = (uint64_t)fw->dma_addr_high << 32 | bswap32((uint32_t)value);
        fw->dma_addr_high = 0;
        fw_cfg_dma(fw, gpa);
    }
}

const struct bus_ops fw_cfg_dma_bus_ops = {
    .read = fw_cfg_dma_read,
    .write = fw_cfg_dma_write,
    .sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

/* ---- Device ops ---------------------------------------------------------- */

static void fw_cfg_reset(void *dev)
{
    struct fw_cfg *fw = dev;
    fw->selector = 0;
    fw->offset = 0;
    fw->dma_addr_high = 0;
}

static void fw_cfg_finalize(void *dev)
{
    struct fw_cfg *fw = dev;
    for (unsigned i = 0; i < fw->nitems; i++)
        free(fw->items[i].data);
    fw->nitems = 0;
    fw->nfiles = 0;
}

static const struct vmstate_field fw_cfg_vmstate_fields[] = {
    VMSTATE_FIELD(struct fw_cfg, selector, 1),
    VMSTATE_FIELD(struct fw_cfg, offset, 1),
    VMSTATE_FIELD(struct fw_cfg, dma_addr_high, 1),
};

static const struct vmstate_desc fw_cfg_vmstate = {
    .name = "fw_cfg",
    .version = 1,
    .fields = fw_cfg_vmstate_fields,
    .nfields = sizeof(fw_cfg_vmstate_fields) / sizeof(fw_cfg_vmstate_fields[0]),
};

const struct device_ops fw_cfg_device_ops = {
    .name = "fw_cfg",
    .reset = fw_cfg_reset,
    .finalize = fw_cfg_finalize,
    .vmstate = &fw_cfg_vmstate,
    .size = sizeof(struct fw_cfg),
};
