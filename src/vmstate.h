/* Versioned device state descriptions.
 *
 * Each device declares the fields it saves (name, offset into its struct,
 * size, and the version that introduced the field). Save and restore are
 * generic over that table, so no raw struct is ever dumped and the round-trip
 * tests work for every device alike.
 *
 * Stream format of one device section:
 *   u32 magic 'HVS1', u32 version, u32 field count, then per field:
 *   u16 name length, name bytes, u32 size, data bytes.
 * Fields are matched by name on load; a field the stream lacks keeps its
 * value if the stream's version predates it, and is an error otherwise.
 */
#ifndef HOSTEL_VMSTATE_H
#define HOSTEL_VMSTATE_H

#include <stddef.h>
#include <stdint.h>

struct vmstate_field {
    const char *name;
    size_t offset;
    size_t size;
    uint32_t since_version;
};

struct vmstate_desc {
    const char *name;
    uint32_t version;
    const struct vmstate_field *fields;
    size_t nfields;
    /* Optional: called after a load to recompute derived state (re-arm
     * timers, re-raise IRQ lines). */
    void (*post_load)(void *dev);
};

#define VMSTATE_FIELD(type, member, since) \
    { #member, offsetof(type, member), sizeof(((type *)0)->member), since }

/* Serialise dev into buf (capacity cap). Returns the byte count, or -1 if
 * cap is too small (call with buf NULL, cap 0 to get the size). */
long vmstate_save(const struct vmstate_desc *desc, const void *dev, uint8_t *buf, size_t cap);

/* Load dev from buf. Returns 0, or -1 with a sentence in err on a malformed
 * stream, a newer version than this build knows, or a field size mismatch.
 * On error dev is left unchanged. */
int vmstate_load(const struct vmstate_desc *desc, void *dev, size_t dev_size,
                 const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
