/* OS presets: the memory, CPUs, disk size and firmware a new VM for an OS
 * starts with, and recognising the OS on an installation ISO.
 *
 * The catalogue comes from libosinfo (the osinfo-db database: every OS it
 * knows, with its recommended resources for x86_64) when Hostel was built
 * with it and HOSTEL_NO_OSINFO is not set in the environment, and from
 * Hostel's own short list, data/os-presets.ini in HOSTEL_DATA_DIR (or the
 * installed data directory), which fills in what libosinfo lacks and is the
 * whole catalogue without libosinfo. Used by hostelctl and the GUI.
 */
#ifndef HOSTEL_OSPRESETS_H
#define HOSTEL_OSPRESETS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSPRESETS_FILE "os-presets.ini"
#define OSPRESET_OTHER "other"          /* the preset for an OS nobody knows */

struct ospreset {
    char *id;                   /* libosinfo short id, e.g. "debian12"; or Hostel's "other-linux", "other" */
    char *name;                 /* "Debian 12" */
    unsigned memory_mib;
    unsigned cpus;
    uint64_t disk_size;         /* bytes, a multiple of 1 MiB */
    char *firmware;             /* "bios" (as struct vmdef's firmware) */
};

struct ospresets;

/* The catalogue. NULL with err (G_IO_ERROR domain, or G_KEY_FILE_ERROR for
 * a broken os-presets.ini) when neither libosinfo nor Hostel's list can be
 * read. Loading osinfo-db takes a moment: load once and keep it. */
struct ospresets *ospresets_load(GError **err);
void ospresets_free(struct ospresets *p);

/* Whether libosinfo contributed (false: Hostel's own list only). */
bool ospresets_have_osinfo(const struct ospresets *p);

/* The preset with this id (libosinfo's other short ids of an OS work too,
 * e.g. "debianbullseye"), or NULL. */
const struct ospreset *ospresets_lookup(const struct ospresets *p, const char *id);

/* All presets sorted by name (numbers in numeric order); *n gets the count. */
const struct ospreset *const *ospresets_all(const struct ospresets *p, size_t *n);

/* The presets whose name or id holds every word of text, ignoring case, in
 * the order of ospresets_all (g_ptr_array_unref; the elements are the
 * catalogue's). Empty text matches everything. */
GPtrArray *ospresets_search(const struct ospresets *p, const char *text);

/* The OS on an installation ISO, as a preset id (g_free), recognised by
 * libosinfo from the ISO's volume descriptor. NULL with err:
 * G_IO_ERROR_NOT_SUPPORTED without libosinfo, G_IO_ERROR_NOT_FOUND when it
 * does not know the ISO, or why the ISO could not be read. */
char *ospresets_identify_iso(const struct ospresets *p, const char *iso, GError **err);

/* Where os-presets.ini is: HOSTEL_DATA_DIR from the environment, else the
 * installed data directory (g_free). */
char *ospresets_data_dir(void);

#endif
