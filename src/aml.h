/* A small builder for ACPI Machine Language (ACPI 6.4, chapter 20) and
 * resource descriptors (section 6.4), enough for the PC's DSDT: scopes,
 * devices, names, packages, buffers, simple methods.
 *
 * Objects with a PkgLength (scopes, devices, methods, packages, buffers,
 * If) are opened with aml_open_* and closed with aml_close, which patches
 * the length in; they nest. Names are 1-4 character segments, or paths of
 * them separated by '.', optionally starting with '\'.
 */
#ifndef HOSTEL_AML_H
#define HOSTEL_AML_H

#include <glib.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

struct aml {
    GByteArray *buf;
    guint open[AML_MAX_DEPTH];  /* where each open object's body starts */
    unsigned depth;
    int error;                  /* a bad name or too deep: the result is unusable */
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);

/* Raw bytes, integers (the shortest encoding), strings and names. */
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
void aml_namestring(struct aml *a, const char *name);
/* "PNP0A03" -> its compressed EISA ID as an integer. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(name, <the object that follows>). */
void aml_name(struct aml *a, const char *name);
void aml_name_integer(struct aml *a, const char *name, uint64_t v);

void aml_open_scope(struct aml *a, const char *name);
void aml_open_device(struct aml *a, const char *name);
void aml_open_method(struct aml *a, const char *name, unsigned nargs);
void aml_open_package(struct aml *a, unsigned nelems);
/* A buffer whose size is whatever is written before aml_close. */
void aml_open_buffer(struct aml *a);
void aml_open_if(struct aml *a);   /* the predicate follows, then the body */
void aml_close(struct aml *a);

/* Resource descriptors, to be written inside a buffer; end with aml_res_end. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *a, unsigned irq);
void aml_res_memory32_fixed(struct aml *a, uint32_t base, uint32_t len);
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max);
void aml_res_end(struct aml *a);

/* The finished bytes (valid until the next call), or NULL after an error
 * or with objects still open. */
const uint8_t *aml_data(const struct aml *a, size_t *len);

/* Opcodes used by callers for small method bodies. */
enum {
    AML_RETURN = 0xa4,
    AML_STORE = 0x70,
    AML_ARG0 = 0x68,
};

#endif
