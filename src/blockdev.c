/* Raw image backend: pread/pwrite on a file descriptor, bounded by the size
 * seen at open, under an flock advisory lock. */
#include "blockdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCKDEV_CD_SECTOR 2048u

struct blockdev {
    int fd;
    bool read_only;
    uint64_t size;
    char *path;
};

static void blockdev_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void blockdev_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A sentence for a failed open(2), saying what to do where we can. */
static void blockdev_open_error(const char *path, bool read_only, int e, char *err, size_t errlen)
{
    switch (e) {
    case ENOENT:
        blockdev_error(err, errlen, "The image %s does not exist; check the path.", path);
        break;
    case EACCES:
    case EPERM:
        blockdev_error(err, errlen, "Permission denied opening the image %s %s; check its permissions%s.", path,
                       read_only ? "for reading" : "for reading and writing",
                       read_only ? "" : " or attach it read-only");
        break;
    case EROFS:
        blockdev_error(err, errlen, "The image %s is on a read-only file system; attach it read-only or copy it "
                       "somewhere writable.", path);
        break;
    case EISDIR:
        blockdev_error(err, errlen, "%s is a directory, not a disk image.", path);
        break;
    default:
        blockdev_error(err, errlen, "Could not open the image %s (%s).", path, strerror(e));
        break;
    }
}

struct blockdev *blockdev_open(const char *path, unsigned flags, char *err, size_t errlen)
{
    if (!path || !path[0]) {
        blockdev_error(err, errlen, "No image file was given.");
        return NULL;
    }
    bool cdrom = flags & BLOCKDEV_CDROM;
    bool read_only = cdrom || (flags & BLOCKDEV_READ_ONLY);
    /* O_NONBLOCK so a FIFO cannot block the open; it is dropped below once
     * fstat has shown a regular file or block device. */
    int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        blockdev_open_error(path, read_only, errno, err, errlen);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        blockdev_error(err, errlen, "Could not look at the image %s (%s).", path, strerror(errno));
        goto fail;
    }
    uint64_t size;
    if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
            blockdev_error(err, errlen, "Could not get the size of the block device %s (%s).", path, strerror(errno));
            goto fail;
        }
    } else {
        blockdev_error(err, errlen, "%s is neither a regular file nor a block device; give an image file.", path);
        goto fail;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        blockdev_error(err, errlen, "Could not set up the image %s (%s).", path, strerror(errno));
        goto fail;
    }
    if (size == 0) {
        blockdev_error(err, errlen, "The image %s is empty.", path);
        goto fail;
    }
    if (cdrom && size < BLOCKDEV_CD_SECTOR) {
        blockdev_error(err, errlen, "The CD-ROM image %s is only %llu bytes, less than one 2048-byte sector; "
                       "it is not an ISO image.", path, (unsigned long long)size);
        goto fail;
    }
    if (!cdrom && size % BLOCKDEV_SECTOR_SIZE) {
        blockdev_error(err, errlen, "The disk image %s is %llu bytes, which is not a multiple of 512; "
                       "resize it to whole sectors (e.g. truncate -s %lluK).", path, (unsigned long long)size,
                       (unsigned long long)((size + 1023) / 1024));
        goto fail;
    }
    /* Shared for readers, exclusive for a writer: another VM writing the
     * image, or reading it while we write, would see torn data. */
    if (flock(fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            blockdev_error(err, errlen, "The image %s is in use by another virtual machine or program; "
                           "stop it first, or attach a copy.", path);
        else
            blockdev_error(err, errlen, "Could not lock the image %s (%s); it may be on a file system "
                           "without file locking.", path, strerror(errno));
        goto fail;
    }
    struct blockdev *bd = calloc(1, sizeof(*bd));
    char *copy = strdup(path);
    if (!bd || !copy) {
        free(bd);
        free(copy);
        blockdev_error(err, errlen, "Out of memory opening the image %s.", path);
        goto fail;
    }
    bd->fd = fd;
    bd->read_only = read_only;
    bd->size = size;
    bd->path = copy;
    return bd;
fail:
    close(fd);
    return NULL;
}

void blockdev_close(struct blockdev *bd)
{
    if (!bd)
        return;
    close(bd->fd);
    free(bd->path);
    free(bd);
}

uint64_t blockdev_size(const struct blockdev *bd)
{
    return bd->size;
}

bool blockdev_read_only(const struct blockdev *bd)
{
    return bd->read_only;
}

const char *blockdev_path(const struct blockdev *bd)
{
    return bd->path;
}

static bool blockdev_in_range(const struct blockdev *bd, size_t len, uint64_t offset)
{
    return offset <= bd->size && len <= bd->size - offset;
}

int blockdev_pread(struct blockdev *bd, void *buf, size_t len, uint64_t offset, char *err, size_t errlen)
{
    if (!blockdev_in_range(bd, len, offset)) {
        blockdev_error(err, errlen, "A read of %zu bytes at offset %llu lies outside the image %s (%llu bytes).",
                       len, (unsigned long long)offset, bd->path, (unsigned long long)bd->size);
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(bd->fd, (uint8_t *)buf + done, len - done, (off_t)(offset + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            blockdev_error(err, errlen, "Reading the image %s at offset %llu failed (%s).", bd->path,
                           (unsigned long long)(offset + done), strerror(errno));
            return -1;
        }
        if (r == 0) {
            blockdev_error(err, errlen, "The image %s ends at offset %llu, before its size when it was opened; "
                           "did another program shrink it?", bd->path, (unsigned long long)(offset + done));
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

int blockdev_pwrite(struct blockdev *bd, const void *buf, size_t len, uint64_t offset, char *err, size_t errlen)
{
    if (bd->read_only) {
        blockdev_error(err, errlen, "The image %s is attached read-only; it cannot be written.", bd->path);
        return -1;
    }
    if (!blockdev_in_range(bd, len, offset)) {
        blockdev_error(err, errlen, "A write of %zu bytes at offset %llu lies outside the image %s (%llu bytes).",
                       len, (unsigned long long)offset, bd->path, (unsigned long long)bd->size);
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t r = pwrite(bd->fd, (const uint8_t *)buf + done, len - done, (off_t)(offset + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSPC || errno == EDQUOT)
                blockdev_error(err, errlen, "Writing the image %s failed: the host file system is full; "
                               "free some space.", bd->path);
            else
                blockdev_error(err, errlen, "Writing the image %s at offset %llu failed (%s).", bd->path,
                               (unsigned long long)(offset + done), strerror(errno));
            return -1;
        }
        if (r == 0) {
            blockdev_error(err, errlen, "Writing the image %s at offset %llu made no progress.", bd->path,
                           (unsigned long long)(offset + done));
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

int blockdev_flush(struct blockdev *bd, char *err, size_t errlen)
{
    if (bd->read_only)
        return 0;
    while (fdatasync(bd->fd) < 0) {
        if (errno == EINTR)
            continue;
        blockdev_error(err, errlen, "Flushing the image %s to disk failed (%s); recent writes may be lost.",
                       bd->path, strerror(errno));
        return -1;
    }
    return 0;
}
