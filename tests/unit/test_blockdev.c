/* Raw image backend: open checks, locking, bounded I/O, flush. */
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

struct fixture {
    char dir[64];
    char path[96];
};

static void write_file(const char *path, size_t size, uint8_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    uint8_t *buf = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(i * 7 + seed);
    assert_int_equal(write(fd, buf, size), (ssize_t)size);
    free(buf);
    close(fd);
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/hostel-blockdev-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/disk.img", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[128];
    const char *names[] = { "disk.img", "odd.img", "cd.iso", "tiny.iso", "empty.img", "fifo", "sub" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
        unlink(p);
        rmdir(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_missing_file(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    assert_null(blockdev_open(f->path, 0, err, sizeof(err)));
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "does not exist"));
    assert_null(blockdev_open("", 0, err, sizeof(err)));
}

static void test_roundtrip(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    write_file(f->path, 64 * 1024, 3);
    struct blockdev *bd = blockdev_open(f->path, 0, err, sizeof(err));
    assert_non_null(bd);
    assert_int_equal(blockdev_size(bd), 64 * 1024);
    assert_false(blockdev_read_only(bd));
    assert_string_equal(blockdev_path(bd), f->path);

    uint8_t buf[4096], back[4096];
    assert_int_equal(blockdev_pread(bd, buf, sizeof(buf), 1000, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], (uint8_t)((1000 + i) * 7 + 3));
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i ^ 0x5a);
    assert_int_equal(blockdev_pwrite(bd, buf, sizeof(buf), 60 * 1024, err, sizeof(err)), 0);
    assert_int_equal(blockdev_flush(bd, err, sizeof(err)), 0);
    /* Another descriptor sees the bytes on the file. */
    int fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, back, sizeof(back), 60 * 1024), (ssize_t)sizeof(back));
    close(fd);
    assert_memory_equal(buf, back, sizeof(buf));
    /* The whole image in one call. */
    uint8_t *all = malloc(64 * 1024);
    assert_int_equal(blockdev_pread(bd, all, 64 * 1024, 0, err, sizeof(err)), 0);
    assert_memory_equal(all + 60 * 1024, buf, sizeof(buf));
    free(all);
    blockdev_close(bd);
}

static void test_out_of_range(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    write_file(f->path, 8192, 1);
    struct blockdev *bd = blockdev_open(f->path, 0, err, sizeof(err));
    assert_non_null(bd);
    uint8_t buf[1024] = {0};
    assert_int_equal(blockdev_pwrite(bd, buf, 1024, 8192 - 512, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "outside"));
    assert_non_null(strstr(err, f->path));
    assert_int_equal(blockdev_pwrite(bd, buf, 1, 8192, NULL, 0), -1);
    assert_int_equal(blockdev_pwrite(bd, buf, 1, UINT64_MAX, NULL, 0), -1);
    assert_int_equal(blockdev_pread(bd, buf, 1024, 8192 - 512, err, sizeof(err)), -1);
    assert_int_equal(blockdev_pread(bd, buf, 16, UINT64_MAX - 8, NULL, 0), -1);
    /* Exactly up to the end is fine; nothing grew. */
    assert_int_equal(blockdev_pwrite(bd, buf, 512, 8192 - 512, err, sizeof(err)), 0);
    assert_int_equal(blockdev_pread(bd, buf, 0, 8192, err, sizeof(err)), 0);
    blockdev_close(bd);
    assert_int_equal(file_size(f->path), 8192);
}

static void test_size_rules(void **state)
{
    struct fixture *f = *state;
    char err[256] = "", p[128];
    snprintf(p, sizeof(p), "%s/odd.img", f->dir);
    write_file(p, 1000, 0);
    assert_null(blockdev_open(p, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "512"));
    assert_non_null(strstr(err, p));
    assert_null(blockdev_open(p, BLOCKDEV_READ_ONLY, err, sizeof(err)));

    /* An ISO need not be a multiple of 512, but must hold one sector. */
    snprintf(p, sizeof(p), "%s/cd.iso", f->dir);
    write_file(p, 2048 * 3 + 100, 0);
    struct blockdev *bd = blockdev_open(p, BLOCKDEV_CDROM, err, sizeof(err));
    assert_non_null(bd);
    assert_true(blockdev_read_only(bd));
    assert_int_equal(blockdev_size(bd), 2048 * 3 + 100);
    uint8_t b[16] = {0};
    assert_int_equal(blockdev_pwrite(bd, b, sizeof(b), 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "read-only"));
    assert_int_equal(blockdev_flush(bd, err, sizeof(err)), 0);
    blockdev_close(bd);

    snprintf(p, sizeof(p), "%s/tiny.iso", f->dir);
    write_file(p, 1000, 0);
    assert_null(blockdev_open(p, BLOCKDEV_CDROM, err, sizeof(err)));
    assert_non_null(strstr(err, p));

    snprintf(p, sizeof(p), "%s/empty.img", f->dir);
    write_file(p, 0, 0);
    assert_null(blockdev_open(p, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "empty"));
}

static void test_not_a_file(void **state)
{
    struct fixture *f = *state;
    char err[256] = "", p[128];
    snprintf(p, sizeof(p), "%s/sub", f->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_null(blockdev_open(p, BLOCKDEV_READ_ONLY, err, sizeof(err)));
    assert_non_null(strstr(err, p));
    /* A FIFO must be refused, not block the open. */
    snprintf(p, sizeof(p), "%s/fifo", f->dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_null(blockdev_open(p, BLOCKDEV_READ_ONLY, err, sizeof(err)));
    assert_non_null(strstr(err, "neither a regular file nor a block device"));
    assert_null(blockdev_open("/dev/null", BLOCKDEV_READ_ONLY, err, sizeof(err)));
    assert_non_null(strstr(err, "/dev/null"));
}

static void test_locking(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    write_file(f->path, 4096, 0);
    struct blockdev *a = blockdev_open(f->path, 0, err, sizeof(err));
    assert_non_null(a);
    /* A second writer and a reader are both refused while a writer holds it. */
    assert_null(blockdev_open(f->path, 0, err, sizeof(err)));
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "in use"));
    assert_null(blockdev_open(f->path, BLOCKDEV_READ_ONLY, err, sizeof(err)));
    blockdev_close(a);
    /* Readers share; a writer then waits for them. */
    struct blockdev *r1 = blockdev_open(f->path, BLOCKDEV_READ_ONLY, err, sizeof(err));
    struct blockdev *r2 = blockdev_open(f->path, BLOCKDEV_READ_ONLY, err, sizeof(err));
    assert_non_null(r1);
    assert_non_null(r2);
    assert_null(blockdev_open(f->path, 0, err, sizeof(err)));
    blockdev_close(r1);
    blockdev_close(r2);
    a = blockdev_open(f->path, 0, err, sizeof(err));
    assert_non_null(a);
    blockdev_close(a);
    blockdev_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locking, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
