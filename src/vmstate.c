#include "vmstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VMSTATE_MAGIC 0x31535648u /* "HVS1" little-endian */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

long vmstate_save(const struct vmstate_desc *desc, const void *dev, uint8_t *buf, size_t cap)
{
    size_t need = 12;
    for (size_t i = 0; i < desc->nfields; i++)
        need += 2 + strlen(desc->fields[i].name) + 4 + desc->fields[i].size;
    if (!buf)
        return (long)need;
    if (cap < need)
        return -1;
    uint8_t *p = buf;
    put32(p, VMSTATE_MAGIC);
    put32(p + 4, desc->version);
    put32(p + 8, (uint32_t)desc->nfields);
    p += 12;
    for (size_t i = 0; i < desc->nfields; i++) {
        const struct vmstate_field *f = &desc->fields[i];
        size_t n = strlen(f->name);
        put16(p, (uint16_t)n);
        memcpy(p + 2, f->name, n);
        p += 2 + n;
        put32(p, (uint32_t)f->size);
        memcpy(p + 4, (const uint8_t *)dev + f->offset, f->size);
        p += 4 + f->size;
    }
    return (long)need;
}

static const struct vmstate_field *find_field(const struct vmstate_desc *desc,
                                              const uint8_t *name, size_t n)
{
    for (size_t i = 0; i < desc->nfields; i++)
        if (strlen(desc->fields[i].name) == n && memcmp(desc->fields[i].name, name, n) == 0)
            return &desc->fields[i];
    return NULL;
}

int vmstate_load(const struct vmstate_desc *desc, void *dev, size_t dev_size,
                 const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    if (len < 12 || get32(buf) != VMSTATE_MAGIC) {
        snprintf(err, errlen, "The saved state of %s is not a device state record.", desc->name);
        return -1;
    }
    uint32_t version = get32(buf + 4);
    uint32_t count = get32(buf + 8);
    if (version > desc->version) {
        snprintf(err, errlen, "The saved state of %s is version %u, newer than this Hostel (%u); update Hostel to load it.",
                 desc->name, version, desc->version);
        return -1;
    }
    /* Work on a copy so a failure leaves dev untouched. */
    uint8_t *copy = malloc(dev_size);
    if (!copy) {
        snprintf(err, errlen, "Out of memory while loading %s.", desc->name);
        return -1;
    }
    memcpy(copy, dev, dev_size);
    unsigned char *seen = calloc(desc->nfields ? desc->nfields : 1, 1);
    if (!seen) {
        free(copy);
        snprintf(err, errlen, "Out of memory while loading %s.", desc->name);
        return -1;
    }
    size_t pos = 12;
    int rc = -1;
    for (uint32_t i = 0; i < count; i++) {
        if (len - pos < 2)
            goto truncated;
        uint16_t n = get16(buf + pos);
        if (len - pos - 2 < (size_t)n + 4)
            goto truncated;
        const uint8_t *name = buf + pos + 2;
        uint32_t size = get32(buf + pos + 2 + n);
        pos += 2 + n + 4;
        if (len - pos < size)
            goto truncated;
        const struct vmstate_field *f = find_field(desc, name, n);
        if (f) {
            if (f->size != size || f->offset + f->size > dev_size) {
                snprintf(err, errlen, "The saved state of %s has field %s of %u bytes; expected %zu.",
                         desc->name, f->name, size, f->size);
                goto out;
            }
            memcpy(copy + f->offset, buf + pos, size);
            seen[f - desc->fields] = 1;
        }
        /* Unknown fields from other builds of the same version are skipped. */
        pos += size;
    }
    for (size_t i = 0; i < desc->nfields; i++) {
        if (!seen[i] && desc->fields[i].since_version <= version) {
            snprintf(err, errlen, "The saved state of %s lacks field %s.", desc->name, desc->fields[i].name);
            goto out;
        }
    }
    memcpy(dev, copy, dev_size);
    if (desc->post_load)
        desc->post_load(dev);
    rc = 0;
    goto out;
truncated:
    snprintf(err, errlen, "The saved state of %s is truncated.", desc->name);
out:
    free(seen);
    free(copy);
    return rc;
}
