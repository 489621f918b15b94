/* VM definitions and the VM library.
 *
 * Each VM is a directory under $XDG_DATA_HOME/hostel/machines/ named after
 * its UUID, holding its definition file (VMDEF_FILE, a GKeyFile documented
 * in docs/vm-definition.md), its disk images and, later, its snapshots.
 * The definition is human-readable and hand-editable: loading keeps its
 * comments and any keys Hostel does not know, and saving writes them back.
 * Saving is crash-safe (temporary file, fsync, rename). A file that does
 * not load is reported with its path, line and what is wrong, and is never
 * written over.
 *
 * Used by hostelctl and the GUI (not by hostel-vm, which takes options).
 */
#ifndef HOSTEL_VMDEF_H
#define HOSTEL_VMDEF_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define VMDEF_FORMAT_VERSION 1
#define VMDEF_FILE "machine.hostel"
#define VMDEF_MAX_DISKS 4
#define VMDEF_MIN_MEMORY_MIB 16
#define VMDEF_MAX_MEMORY_MIB (1024u * 1024u)
#define VMDEF_MAX_CPUS 64
#define VMDEF_MAX_NAME 64               /* characters */
#define VMDEF_DEFAULT_MEMORY_MIB 1024
#define VMDEF_DEFAULT_CPUS 1
#define VMDEF_DISK_IMAGE "disk0.img"    /* the disk vmlib_create makes */
#define VMDEF_MIN_DISK_SIZE (1024u * 1024u)
#define VMDEF_MAX_DISK_SIZE (UINT64_C(1) << 44)   /* 16 TiB */
#define VMDEF_MAX_FILE_SIZE (1024 * 1024)         /* larger definitions are refused */

/* Errors: VMDEF_ERROR domain. Messages are one sentence for the user; for
 * a malformed file they start with "FILE:LINE: ". */
#define VMDEF_ERROR (vmdef_error_quark())
GQuark vmdef_error_quark(void);
enum vmdef_error {
    VMDEF_ERROR_MALFORMED,      /* the file does not parse or a value is wrong */
    VMDEF_ERROR_VERSION,        /* written by a newer Hostel */
    VMDEF_ERROR_NOT_FOUND,      /* no such VM */
    VMDEF_ERROR_EXISTS,         /* a VM with that name exists */
    VMDEF_ERROR_INVALID,        /* a value given by the caller is out of range */
    VMDEF_ERROR_IO,             /* reading or writing failed */
    VMDEF_ERROR_CHANGED,        /* the file changed on disk since it was loaded */
    VMDEF_ERROR_RUNNING,        /* the VM is running (vmlib_delete) */
};

struct vmdef_disk {
    char *file;                 /* image path: relative to the VM's directory, or absolute */
};

struct vmdef {
    char *dir;                  /* the VM's directory */
    char *path;                 /* its definition file */
    GKeyFile *kf;               /* the whole file, comments and unknown keys included */

    /* The parsed definition. Edit these, then vmdef_save. */
    char *name;
    char uuid[37];
    char *os;                   /* OS id, e.g. "debian12" (libosinfo short id), or "" */
    unsigned memory_mib;
    unsigned cpus;
    char *firmware;             /* "bios" (Hostel's default SeaBIOS) or a BIOS image path */
    char *boot_order;           /* "cd,disk" style */
    struct vmdef_disk disks[VMDEF_MAX_DISKS];
    unsigned ndisks;
    char *cdrom;                /* ISO path, or NULL for an empty drive */
    char *display;              /* "vga" */

    /* Private: the file as it was loaded or last saved (device, inode,
     * size, mtime), so vmdef_save refuses to overwrite a file that was
     * edited (or broken) on disk in the meantime. */
    struct {
        bool valid;
        uint64_t dev, ino, size;
        int64_t mtime_ns;
    } stamp;
};

/* Read a definition file. NULL with err set on failure: VMDEF_ERROR_MALFORMED
 * ("FILE:LINE: what is wrong."), VMDEF_ERROR_VERSION, VMDEF_ERROR_IO. */
struct vmdef *vmdef_load(const char *path, GError **err);
/* Check the parsed fields and write them into the key file, then save it
 * crash-safely. Returns false with err set (nothing written) on failure:
 * VMDEF_ERROR_INVALID for a bad field (a name also has to be unique among
 * the VMs in the directory above d->dir), VMDEF_ERROR_CHANGED when the file
 * on disk is no longer the one loaded, VMDEF_ERROR_IO. */
bool vmdef_save(struct vmdef *d, GError **err);
void vmdef_free(struct vmdef *d);

/* The name rules, without uniqueness: 1 to VMDEF_MAX_NAME printable
 * characters, no '/', no leading or trailing space. */
bool vmdef_check_name(const char *name, GError **err);
/* A boot order: "cd", "disk" or both, separated by a comma, no repeats. */
bool vmdef_check_boot_order(const char *boot, GError **err);

/* An image path as hostel-vm needs it: relative paths resolved against
 * the VM's directory (g_free the result). */
char *vmdef_resolve(const struct vmdef *d, const char *file);

/* The machines directory, $XDG_DATA_HOME/hostel/machines (g_free). The
 * environment is read on every call (GLib's cached value is not used). */
char *vmlib_machines_dir(void);

/* All VMs, sorted by name (free with g_ptr_array_unref; elements are
 * freed with it). Definitions that fail to load are left out and their
 * errors added to problems (a GPtrArray of strings; may be NULL). */
GPtrArray *vmlib_list(GPtrArray *problems);

/* The VM with this name or UUID. NULL with VMDEF_ERROR_NOT_FOUND (or a
 * load error) otherwise. */
struct vmdef *vmlib_find(const char *name_or_uuid, GError **err);

/* The name rules plus uniqueness (case-insensitive) among the VMs in the
 * machines directory, leaving out the VM self_uuid (may be NULL). For
 * checking a name as the user types it. */
bool vmlib_check_name(const char *name, const char *self_uuid, GError **err);

struct vmlib_new {
    const char *name;
    const char *os;             /* may be NULL */
    unsigned memory_mib;        /* 0: VMDEF_DEFAULT_MEMORY_MIB */
    unsigned cpus;              /* 0: VMDEF_DEFAULT_CPUS */
    uint64_t disk_size;         /* bytes of a new raw disk "disk0.img"; 0 = no disk;
                                 * else a multiple of 512, >= VMDEF_MIN_DISK_SIZE */
    const char *iso;            /* may be NULL; must exist; stored as an absolute path */
};

/* Create a VM: directory, disk image (sparse raw file), definition.
 * Fails with VMDEF_ERROR_EXISTS if the name is taken. */
struct vmdef *vmlib_create(const struct vmlib_new *n, GError **err);

/* Delete the VM's directory with its definition and the disk images
 * inside it (images elsewhere are not touched). Only a VM directory in the
 * machines directory, named by its UUID, is deleted, and only while the VM
 * is stopped (VMDEF_ERROR_RUNNING otherwise). */
bool vmlib_delete(struct vmdef *d, GError **err);

#endif
