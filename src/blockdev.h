/* Raw image block backend: a disk or CD-ROM image file (or a host block
 * device) read and written at byte offsets.
 *
 * An open image holds an advisory lock (flock) on the file: exclusive when
 * writable, shared when read-only, so two VMs cannot write one image and
 * nobody writes an image another VM reads. The lock goes with the close.
 *
 * Every I/O is bounds-checked against the size seen at open: nothing is
 * ever read or written outside the image, and a writable image never grows.
 * Calls are synchronous; a blockdev is not thread-safe on its own (the VM's
 * device lock serialises its users).
 */
#ifndef HOSTEL_BLOCKDEV_H
#define HOSTEL_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOCKDEV_SECTOR_SIZE 512u

enum {
    /* Open read-only (shared lock); writes fail. */
    BLOCKDEV_READ_ONLY = 1u << 0,
    /* A CD-ROM image (ISO): implies read-only, and the size need not be a
     * multiple of 512 bytes (it must hold at least one 2048-byte sector). */
    BLOCKDEV_CDROM = 1u << 1,
};

struct blockdev;

/* Open the image at path. flags: BLOCKDEV_READ_ONLY, BLOCKDEV_CDROM.
 * Refuses what is neither a regular file nor a block device, an empty
 * image, a disk image whose size is not a multiple of 512 bytes, and an
 * image another process holds locked. Returns the blockdev, or NULL with a
 * sentence in err that names the file. */
struct blockdev *blockdev_open(const char *path, unsigned flags, char *err, size_t errlen);

/* Close the image and release its lock (NULL is ignored). Does not flush:
 * call blockdev_flush first where the data must be on stable storage. */
void blockdev_close(struct blockdev *bd);

/* Size in bytes, fixed at open. */
uint64_t blockdev_size(const struct blockdev *bd);
bool blockdev_read_only(const struct blockdev *bd);
/* The path the image was opened with. */
const char *blockdev_path(const struct blockdev *bd);

/* Read/write exactly len bytes at offset, retrying short transfers and
 * EINTR. A range outside [0, size) is refused without any I/O. Return 0,
 * or -1 with a sentence in err (err may be NULL when errlen is 0). */
int blockdev_pread(struct blockdev *bd, void *buf, size_t len, uint64_t offset, char *err, size_t errlen);
int blockdev_pwrite(struct blockdev *bd, const void *buf, size_t len, uint64_t offset, char *err, size_t errlen);

/* Push written data to stable storage (fdatasync). A read-only image has
 * nothing to flush. Returns 0, or -1 with a sentence in err. */
int blockdev_flush(struct blockdev *bd, char *err, size_t errlen);

#endif
