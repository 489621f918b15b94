/* VM definitions (docs/vm-definition.md) and the VM library: round trip,
 * comments and unknown keys kept, malformed files reported by line and
 * never written, format versions, name rules, create/list/find/delete,
 * disk images, crash-safe saving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdef.h"

struct fixture {
    char dir[64];
    char *data_home;            /* XDG_DATA_HOME */
    char *file;                 /* a definition outside the library: DIR/vm/machine.hostel */
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (flag == FTW_DP)
        chmod(path, 0700);
    return remove(path);
}

static void rm_tree(const char *dir)
{
    chmod(dir, 0700);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/hostel-vmdef-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->data_home = g_build_filename(f->dir, "data", NULL);
    g_setenv("XDG_DATA_HOME", f->data_home, TRUE);
    char *run = g_build_filename(f->dir, "run", NULL);
    assert_int_equal(mkdir(run, 0700), 0);
    g_setenv("XDG_RUNTIME_DIR", run, TRUE);
    g_free(run);
    char *vm = g_build_filename(f->dir, "vm", NULL);
    assert_int_equal(mkdir(vm, 0700), 0);
    f->file = g_build_filename(vm, VMDEF_FILE, NULL);
    g_free(vm);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rm_tree(f->dir);
    g_free(f->data_home);
    g_free(f->file);
    free(f);
    return 0;
}

static void write_text(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void write_str(const char *path, const char *text)
{
    write_text(path, text, strlen(text));
}

static char *read_text(const char *path, size_t *len)
{
    char *data = NULL;
    gsize n = 0;
    assert_true(g_file_get_contents(path, &data, &n, NULL));
    if (len)
        *len = n;
    return data;
}

/* Entries of dir whose name starts with '.', other than . and .. */
static unsigned hidden_entries(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    assert_non_null(d);
    unsigned n = 0;
    const char *e;
    while ((e = g_dir_read_name(d)))
        n += e[0] == '.';
    g_dir_close(d);
    return n;
}

#define UUID1 "5b6e1c2a-8f0d-4e7b-9a3c-2d1e0f4a6b7c"
#define UUID2 "c0ffee00-1234-4abc-8def-0123456789ab"

static const char full_def[] =
    "[hostel]\n"
    "format=1\n"
    "\n"
    "[machine]\n"
    "name=Build box\n"
    "uuid=" UUID1 "\n"
    "os=debian12\n"
    "memory=1536\n"
    "cpus=3\n"
    "firmware=/opt/fw/bios.bin\n"
    "boot=disk,cd\n"
    "\n"
    "[disk0]\n"
    "file=disk0.img\n"
    "\n"
    "[disk1]\n"
    "file=/srv/images/data.img\n"
    "\n"
    "[cdrom]\n"
    "file=/srv/iso/debian.iso\n"
    "\n"
    "[display]\n"
    "type=vga\n";

static void test_roundtrip(void **state)
{
    struct fixture *f = *state;
    write_str(f->file, full_def);
    GError *err = NULL;
    struct vmdef *d = vmdef_load(f->file, &err);
    assert_null(err);
    assert_non_null(d);
    assert_string_equal(d->name, "Build box");
    assert_string_equal(d->uuid, UUID1);
    assert_string_equal(d->os, "debian12");
    assert_int_equal(d->memory_mib, 1536);
    assert_int_equal(d->cpus, 3);
    assert_string_equal(d->firmware, "/opt/fw/bios.bin");
    assert_string_equal(d->boot_order, "disk,cd");
    assert_int_equal(d->ndisks, 2);
    assert_string_equal(d->disks[0].file, "disk0.img");
    assert_string_equal(d->disks[1].file, "/srv/images/data.img");
    assert_string_equal(d->cdrom, "/srv/iso/debian.iso");
    assert_string_equal(d->display, "vga");
    char *vmdir = g_path_get_dirname(f->file);
    assert_string_equal(d->dir, vmdir);
    assert_string_equal(d->path, f->file);
    char *resolved = vmdef_resolve(d, d->disks[0].file);
    char *want = g_build_filename(vmdir, "disk0.img", NULL);
    assert_string_equal(resolved, want);
    g_free(resolved);
    g_free(want);
    resolved = vmdef_resolve(d, d->disks[1].file);
    assert_string_equal(resolved, "/srv/images/data.img");
    g_free(resolved);

    /* Change every field, save, read back. */
    g_free(d->name);
    d->name = g_strdup("Bâtiment = \"7\"; #1 \\ back");
    g_free(d->os);
    d->os = g_strdup("win11");
    d->memory_mib = VMDEF_MAX_MEMORY_MIB;
    d->cpus = VMDEF_MAX_CPUS;
    g_free(d->firmware);
    d->firmware = g_strdup("bios");
    g_free(d->boot_order);
    d->boot_order = g_strdup("cd");
    g_free(d->disks[1].file);
    d->ndisks = 1;
    g_free(d->disks[0].file);
    d->disks[0].file = g_strdup("other name.img");
    g_free(d->cdrom);
    d->cdrom = NULL;
    assert_true(vmdef_save(d, &err));
    assert_null(err);
    vmdef_free(d);

    d = vmdef_load(f->file, &err);
    assert_null(err);
    assert_non_null(d);
    assert_string_equal(d->name, "Bâtiment = \"7\"; #1 \\ back");
    assert_string_equal(d->uuid, UUID1);
    assert_string_equal(d->os, "win11");
    assert_int_equal(d->memory_mib, VMDEF_MAX_MEMORY_MIB);
    assert_int_equal(d->cpus, VMDEF_MAX_CPUS);
    assert_string_equal(d->firmware, "bios");
    assert_string_equal(d->boot_order, "cd");
    assert_int_equal(d->ndisks, 1);
    assert_string_equal(d->disks[0].file, "other name.img");
    assert_null(d->cdrom);
    assert_string_equal(d->display, "vga");
    /* The removed disk's group is gone from the file. */
    char *text = read_text(f->file, NULL);
    assert_null(strstr(text, "[disk1]"));
    assert_null(strstr(text, "data.img"));
    g_free(text);

    /* Disks added back, from none. */
    d->ndisks = 0;
    g_free(d->disks[0].file);
    assert_true(vmdef_save(d, &err));
    vmdef_free(d);
    d = vmdef_load(f->file, &err);
    assert_non_null(d);
    assert_int_equal(d->ndisks, 0);
    d->disks[0].file = g_strdup("a.img");
    d->disks[1].file = g_strdup("b.img");
    d->disks[2].file = g_strdup("c.img");
    d->ndisks = 3;
    assert_true(vmdef_save(d, &err));
    vmdef_free(d);
    d = vmdef_load(f->file, &err);
    assert_non_null(d);
    assert_int_equal(d->ndisks, 3);
    assert_string_equal(d->disks[2].file, "c.img");
    vmdef_free(d);
    g_free(vmdir);
}

/* Keys left out take their documented defaults. */
static void test_defaults(void **state)
{
    struct fixture *f = *state;
    write_str(f->file, "[hostel]\nformat=1\n[machine]\nname=Minimal\nuuid=" UUID1 "\n");
    GError *err = NULL;
    struct vmdef *d = vmdef_load(f->file, &err);
    assert_non_null(d);
    assert_string_equal(d->os, "");
    assert_int_equal(d->memory_mib, VMDEF_DEFAULT_MEMORY_MIB);
    assert_int_equal(d->cpus, VMDEF_DEFAULT_CPUS);
    assert_string_equal(d->firmware, "bios");
    assert_string_equal(d->boot_order, "cd,disk");
    assert_int_equal(d->ndisks, 0);
    assert_null(d->cdrom);
    assert_string_equal(d->display, "vga");
    vmdef_free(d);
    /* Upper-case UUIDs, CRLF line ends, spaces around '=' and values. */
    write_str(f->file, "[hostel]\r\nformat = 1\r\n[machine]\r\nname = Spacey\r\n"
                       "uuid = C0FFEE00-1234-4ABC-8DEF-0123456789AB\r\nmemory = 64 \r\n");
    d = vmdef_load(f->file, &err);
    assert_null(err);
    assert_non_null(d);
    assert_string_equal(d->name, "Spacey");
    assert_string_equal(d->uuid, UUID2);
    assert_int_equal(d->memory_mib, 64);
    vmdef_free(d);
}

static const char commented_def[] =
    "# My build machine. Do not touch the disk.\n"
    "# (second line of the header)\n"
    "\n"
    "[hostel]\n"
    "format=1\n"
    "\n"
    "[machine]\n"
    "# Shown in the GUI\n"
    "name=Commented\n"
    "name[de]=Kommentiert\n"
    "uuid=" UUID1 "\n"
    "memory=512\n"
    "# more CPUs later\n"
    "cpus=1\n"
    "favourite-colour=green\n"
    "\n"
    "[network]\n"
    "# reserved, written by a future Hostel\n"
    "model=e1000\n"
    "mac=52:54:00:12:34:56\n"
    "\n"
    "[my tool]\n"
    "list=a;b;c;\n"
    "escaped=tab\\there\n";

static void test_keeps_comments_and_unknown(void **state)
{
    struct fixture *f = *state;
    write_str(f->file, commented_def);
    GError *err = NULL;
    struct vmdef *d = vmdef_load(f->file, &err);
    assert_null(err);
    assert_non_null(d);
    d->memory_mib = 2048;
    assert_true(vmdef_save(d, &err));
    assert_null(err);
    vmdef_free(d);

    char *text = read_text(f->file, NULL);
    /* The original lines, in their order, with memory changed; the keys
     * Hostel writes that were absent come after the existing ones. */
    const char *const lines_in_order[] = {
        "# My build machine. Do not touch the disk.\n# (second line of the header)\n\n[hostel]\nformat=1\n",
        "[machine]\n# Shown in the GUI\nname=Commented\nname[de]=Kommentiert\nuuid=" UUID1 "\nmemory=2048\n"
        "# more CPUs later\ncpus=1\nfavourite-colour=green\n",
        "[network]\n# reserved, written by a future Hostel\nmodel=e1000\nmac=52:54:00:12:34:56\n",
        "[my tool]\nlist=a;b;c;\nescaped=tab\\there\n",
    };
    const char *at = text;
    for (size_t i = 0; i < G_N_ELEMENTS(lines_in_order); i++) {
        const char *found = strstr(at, lines_in_order[i]);
        assert_non_null(found);
        at = found + strlen(lines_in_order[i]);
    }
    assert_non_null(strstr(text, "\nos=\n"));
    assert_non_null(strstr(text, "\nboot=cd,disk\n"));
    assert_non_null(strstr(text, "[display]\ntype=vga\n"));
    g_free(text);

    /* Loading and saving again changes nothing. */
    size_t len1, len2;
    char *before = read_text(f->file, &len1);
    d = vmdef_load(f->file, &err);
    assert_non_null(d);
    assert_true(vmdef_save(d, &err));
    vmdef_free(d);
    char *after = read_text(f->file, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(before, after, len1);
    g_free(before);
    g_free(after);
}

struct bad_case {
    const char *text;
    unsigned line;
    const char *says;           /* a fragment of what the message says */
};

#define HEAD "[hostel]\nformat=1\n[machine]\nname=Bad\nuuid=" UUID1 "\n"   /* 5 lines */

static const struct bad_case bad_cases[] = {
    { "[hostel]\nformat=1\n[machine\nname=x\n", 3, "no closing ']'" },
    { "# comment\nname=x\n[hostel]\n", 2, "before the first [group]" },
    { HEAD "memory=512\nthis is not a key\n", 7, "is not a [group], a key=value pair" },
    { HEAD "memory=512\n\nmemory=1024\n", 8, "appears a second time in [machine] (first on line 6)" },
    { HEAD "[disk0]\nfile=a.img\n[hostel]\n", 8, "[hostel] appears a second time (first on line 1)" },
    { HEAD "=512\n", 6, "no key name" },
    { HEAD "na]me=1\n", 6, "not a valid key name" },
    { HEAD " bad key=1\n[x] y\n", 7, "text after the group header" },
    { HEAD "[]\n", 6, "not a valid group name" },
    { HEAD "os=debian\xff\n", 6, "not valid UTF-8" },
    { HEAD "cpus=1\nos=a\0b\n", 7, "NUL byte" },
    { HEAD "memory=lots\n", 6, "'memory' is the memory in MiB" },
    { HEAD "cpus=1\nmemory=8\n", 7, "from 16 to 1048576, not '8'" },
    { HEAD "memory=-1\n", 6, "'memory'" },
    { HEAD "cpus=0\n", 6, "'cpus' is the number of CPUs" },
    { HEAD "cpus=65\n", 6, "from 1 to 64" },
    { HEAD "boot=floppy\n", 6, "boot order" },
    { HEAD "boot=cd,cd\n", 6, "boot order" },
    { HEAD "os=Debian 12\n", 6, "short id" },
    { HEAD "firmware=\n", 6, "firmware needs a file name" },
    { HEAD "[display]\ntype=cirrus\n", 7, "only be 'vga'" },
    { HEAD "[disk0]\nfile=a.img\n[disk4]\nfile=e.img\n", 8, "at most 4 disks" },
    { HEAD "[disk1]\nfile=b.img\n", 6, "[disk1] comes without [disk0]" },
    { HEAD "[disk0]\nformat=raw\n", 6, "[disk0] has no 'file' key" },
    { HEAD "[disk0]\nfile=\n", 7, "disk needs a file name" },
    { HEAD "[disk00]\nfile=x\n", 6, "as [disk0]" },
    { "[hostel]\nformat=1\n[machine]\nuuid=" UUID1 "\n", 3, "[machine] has no 'name' key" },
    { "[hostel]\nformat=1\n\n# only this\n", 4, "ends without a [machine] group" },
    { "[machine]\nname=x\n", 2, "ends without a [hostel] group" },
    { "", 1, "ends without a [hostel] group" },
    { "[hostel]\nformat=one\n[machine]\n", 2, "format version" },
    { "[hostel]\nformat=0\n[machine]\n", 2, "format version" },
    { "[hostel]\nformat=1\n[machine]\nuuid=" UUID1 "\nname=a\\qb\n", 5, "'name' has a backslash" },
    { "[hostel]\nformat=1\n[machine]\nuuid=" UUID1 "\nname=ab\\\n", 5, "'name' has a backslash" },
    { "[hostel]\nformat=1\n[machine]\nuuid=not-a-uuid\nname=x\n", 4, "uuid is 36 characters" },
    { "[hostel]\nformat=1\n[machine]\nuuid=" UUID1 "\nname=\n", 5, "cannot be empty" },
    { "[hostel]\nformat=1\n[machine]\nuuid=" UUID1 "\nname=a/b\n", 5, "cannot contain '/'" },
    { "[hostel]\nformat=1\n[machine]\nuuid=" UUID1 "\nname= \\sx\n", 5, "begin or end with a space" },
    { "[hostel]\nformat=1\n[machine]\nuuid=" UUID1 "\nname=a\\tb\n", 5, "printable" },
    { "[hostel]\nformat=1\n[machine]\nuuid=" UUID1 "\n"
      "name=12345678901234567890123456789012345678901234567890123456789012345\n", 5, "at most 64 characters" },
};

/* Sizes of the cases' texts, which may hold NUL bytes. */
static size_t case_len(const struct bad_case *c)
{
    if (strstr(c->says, "NUL"))
        return sizeof(HEAD "cpus=1\nos=a\0b\n") - 1;
    return strlen(c->text);
}

static void test_malformed(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = case_len(c);
        write_text(f->file, c->text, len);
        struct stat before;
        assert_int_equal(stat(f->file, &before), 0);
        GError *err = NULL;
        struct vmdef *d = vmdef_load(f->file, &err);
        if (d || !err)
            fail_msg("case %zu loaded: %s", i, c->text);
        assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_MALFORMED));
        char *prefix = g_strdup_printf("%s:%u: ", f->file, c->line);
        if (!g_str_has_prefix(err->message, prefix) || !strstr(err->message, c->says))
            fail_msg("case %zu: got \"%s\", want \"%s...%s\"", i, err->message, prefix, c->says);
        g_free(prefix);
        g_error_free(err);
        /* Untouched: same bytes, same inode and time. */
        size_t n;
        char *now = read_text(f->file, &n);
        assert_int_equal(n, len);
        assert_memory_equal(now, c->text, len);
        g_free(now);
        struct stat after;
        assert_int_equal(stat(f->file, &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    }
}

/* A definition broken (or edited) on disk after it was loaded is not
 * written over. */
static void test_changed_on_disk(void **state)
{
    struct fixture *f = *state;
    write_str(f->file, full_def);
    GError *err = NULL;
    struct vmdef *d = vmdef_load(f->file, &err);
    assert_non_null(d);
    static const char broken[] = "[hostel]\nformat=1\n[machine\n";
    write_str(f->file, broken);
    d->cpus = 2;
    assert_false(vmdef_save(d, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_CHANGED));
    g_clear_error(&err);
    char *text = read_text(f->file, NULL);
    assert_string_equal(text, broken);
    g_free(text);
    /* Removed on disk: not recreated. */
    assert_int_equal(unlink(f->file), 0);
    assert_false(vmdef_save(d, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_CHANGED));
    g_clear_error(&err);
    assert_int_equal(access(f->file, F_OK), -1);
    vmdef_free(d);
    /* A definition without a file cannot be saved. */
    struct vmdef bare = { .name = (char *)"x", .uuid = UUID1, .memory_mib = 64, .cpus = 1 };
    assert_false(vmdef_save(&bare, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_INVALID));
    g_clear_error(&err);
}

static void test_newer_version(void **state)
{
    struct fixture *f = *state;
    static const char newer[] = "[hostel]\nformat=2\n[machine]\nname=Future\nuuid=" UUID1 "\n"
                                "[gpu]\nmodel=virtio\n";
    write_str(f->file, newer);
    GError *err = NULL;
    assert_null(vmdef_load(f->file, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_VERSION));
    assert_non_null(strstr(err->message, f->file));
    assert_non_null(strstr(err->message, "newer Hostel"));
    assert_non_null(strstr(err->message, "format 2"));
    g_clear_error(&err);
    char *text = read_text(f->file, NULL);
    assert_string_equal(text, newer);
    g_free(text);
    /* The library lists it as a problem, and leaves it alone. */
    char *machines = g_build_filename(f->data_home, "hostel", "machines", UUID1, NULL);
    assert_int_equal(g_mkdir_with_parents(machines, 0700), 0);
    char *path = g_build_filename(machines, VMDEF_FILE, NULL);
    write_str(path, newer);
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *vms = vmlib_list(problems);
    assert_int_equal(vms->len, 0);
    assert_int_equal(problems->len, 1);
    assert_non_null(strstr(g_ptr_array_index(problems, 0), "newer Hostel"));
    g_ptr_array_unref(vms);
    g_ptr_array_unref(problems);
    assert_null(vmlib_find(UUID1, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_VERSION));
    g_clear_error(&err);
    text = read_text(path, NULL);
    assert_string_equal(text, newer);
    g_free(text);
    g_free(path);
    g_free(machines);
}

static void test_name_rules(void **state)
{
    GError *err = NULL;
    const char *good[] = { "a", "Debian 12 (test)", "Ünïcode ☃", "x-y_z.1", "名前" };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        if (!vmdef_check_name(good[i], &err))
            fail_msg("'%s' refused: %s", good[i], err->message);
    }
    GString *s = g_string_new(NULL);
    for (int i = 0; i < VMDEF_MAX_NAME; i++)
        g_string_append(s, "é");          /* 2 bytes, 1 character */
    assert_true(vmdef_check_name(s->str, NULL));
    g_string_append(s, "e");
    assert_false(vmdef_check_name(s->str, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_INVALID));
    g_clear_error(&err);
    g_string_free(s, TRUE);
    const char *bad[] = { "", "a/b", "/", "tab\there", "new\nline", " lead", "trail ", "bell\a",
                          "\xc3\x28", "del\x7f" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (vmdef_check_name(bad[i], &err))
            fail_msg("'%s' accepted", bad[i]);
        assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_INVALID));
        g_clear_error(&err);
    }
    assert_false(vmdef_check_name(NULL, NULL));

    /* Unique, ignoring case, in the library. */
    struct vmdef *a = vmlib_create(&(struct vmlib_new){ .name = "Straße Box" }, &err);
    assert_non_null(a);
    struct vmdef *b = vmlib_create(&(struct vmlib_new){ .name = "STRASSE BOX" }, &err);
    assert_null(b);
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_EXISTS));
    g_clear_error(&err);
    assert_false(vmlib_check_name("straße box", NULL, &err));
    g_clear_error(&err);
    assert_true(vmlib_check_name("straße box", a->uuid, &err));
    b = vmlib_create(&(struct vmlib_new){ .name = "Other" }, &err);
    assert_non_null(b);
    /* Renaming onto another VM's name is refused, and nothing written. */
    char *before = read_text(b->path, NULL);
    g_free(b->name);
    b->name = g_strdup("straße BOX");
    assert_false(vmdef_save(b, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_EXISTS));
    g_clear_error(&err);
    char *after = read_text(b->path, NULL);
    assert_string_equal(before, after);
    /* A bad name is refused by save too. */
    g_free(b->name);
    b->name = g_strdup("a/b");
    assert_false(vmdef_save(b, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_INVALID));
    g_clear_error(&err);
    /* Changing the case of its own name is fine. */
    g_free(a->name);
    a->name = g_strdup("STRAßE box");
    assert_true(vmdef_save(a, &err));
    g_free(before);
    g_free(after);
    vmdef_free(a);
    vmdef_free(b);
}

static void test_library(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    char *machines = vmlib_machines_dir();
    char *want = g_build_filename(f->data_home, "hostel", "machines", NULL);
    assert_string_equal(machines, want);
    g_free(want);

    /* Empty (the directory does not even exist yet). */
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *vms = vmlib_list(problems);
    assert_int_equal(vms->len, 0);
    assert_int_equal(problems->len, 0);
    g_ptr_array_unref(vms);

    /* The ISO, given relative to the working directory, is stored absolute. */
    char *iso = g_build_filename(f->dir, "install.iso", NULL);
    write_str(iso, "not really an ISO");
    char *cwd = g_get_current_dir();
    assert_int_equal(chdir(f->dir), 0);
    struct vmlib_new n = { .name = "zeta", .os = "debian12", .memory_mib = 2048, .cpus = 2,
                           .disk_size = 8u << 20, .iso = "./install.iso" };
    struct vmdef *z = vmlib_create(&n, &err);
    assert_int_equal(chdir(cwd), 0);
    g_free(cwd);
    assert_null(err);
    assert_non_null(z);
    assert_string_equal(z->cdrom, iso);
    assert_true(g_uuid_string_is_valid(z->uuid));
    char *zdir = g_build_filename(machines, z->uuid, NULL);
    assert_string_equal(z->dir, zdir);
    char *zfile = g_build_filename(zdir, VMDEF_FILE, NULL);
    assert_string_equal(z->path, zfile);
    struct stat st;
    assert_int_equal(stat(zdir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    struct vmdef *a = vmlib_create(&(struct vmlib_new){ .name = "Alpha" }, &err);
    assert_non_null(a);
    assert_int_equal(a->memory_mib, VMDEF_DEFAULT_MEMORY_MIB);
    assert_int_equal(a->cpus, VMDEF_DEFAULT_CPUS);
    assert_int_equal(a->ndisks, 0);
    assert_null(a->cdrom);
    assert_string_equal(a->os, "");
    struct vmdef *m = vmlib_create(&(struct vmlib_new){ .name = "mid", .cpus = 4 }, &err);
    assert_non_null(m);

    /* What is on disk loads back as it was made. */
    struct vmdef *zl = vmdef_load(zfile, &err);
    assert_non_null(zl);
    assert_string_equal(zl->name, "zeta");
    assert_string_equal(zl->os, "debian12");
    assert_int_equal(zl->memory_mib, 2048);
    assert_int_equal(zl->cpus, 2);
    assert_int_equal(zl->ndisks, 1);
    assert_string_equal(zl->disks[0].file, VMDEF_DISK_IMAGE);
    assert_string_equal(zl->cdrom, iso);
    assert_string_equal(zl->boot_order, "cd,disk");
    assert_string_equal(zl->firmware, "bios");
    vmdef_free(zl);

    /* Listed by name; the broken ones reported, not listed. */
    char *stray = g_build_filename(machines, "leftover", NULL);
    assert_int_equal(mkdir(stray, 0700), 0);
    char *broken_dir = g_build_filename(machines, UUID2, NULL);
    assert_int_equal(mkdir(broken_dir, 0700), 0);
    char *broken = g_build_filename(broken_dir, VMDEF_FILE, NULL);
    write_str(broken, "[hostel]\nformat=1\n[machine]\nname=Broken\nuuid=" UUID2 "\nmemory=huge\n");
    /* A copy of a VM under another directory name. */
    char *copy_dir = g_build_filename(machines, UUID1, NULL);
    assert_int_equal(mkdir(copy_dir, 0700), 0);
    char *copy = g_build_filename(copy_dir, VMDEF_FILE, NULL);
    char *ztext = read_text(zfile, NULL);
    write_str(copy, ztext);
    g_free(ztext);

    vms = vmlib_list(problems);
    assert_int_equal(vms->len, 3);
    assert_string_equal(((struct vmdef *)g_ptr_array_index(vms, 0))->name, "Alpha");
    assert_string_equal(((struct vmdef *)g_ptr_array_index(vms, 1))->name, "mid");
    assert_string_equal(((struct vmdef *)g_ptr_array_index(vms, 2))->name, "zeta");
    g_ptr_array_unref(vms);
    assert_int_equal(problems->len, 3);
    bool saw_broken = false, saw_stray = false, saw_copy = false;
    char *broken_at = g_strdup_printf("%s:6: ", broken);
    for (guint i = 0; i < problems->len; i++) {
        const char *p = g_ptr_array_index(problems, i);
        saw_broken |= g_str_has_prefix(p, broken_at);
        saw_stray |= g_str_has_prefix(p, stray);
        saw_copy |= g_str_has_prefix(p, copy) && strstr(p, "uuid") != NULL;
    }
    g_free(broken_at);
    assert_true(saw_broken && saw_stray && saw_copy);
    g_ptr_array_unref(problems);

    /* Found by name (any case) and by UUID (any case). */
    struct vmdef *found = vmlib_find("ZETA", &err);
    assert_non_null(found);
    assert_string_equal(found->uuid, z->uuid);
    vmdef_free(found);
    char *upper = g_ascii_strup(m->uuid, -1);
    found = vmlib_find(upper, &err);
    g_free(upper);
    assert_non_null(found);
    assert_string_equal(found->name, "mid");
    vmdef_free(found);
    assert_null(vmlib_find("nobody", &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_NOT_FOUND));
    g_clear_error(&err);
    assert_null(vmlib_find(UUID2, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_MALFORMED));
    g_clear_error(&err);

    /* Delete: the directory and the image in it go; an image elsewhere stays. */
    char *outside = g_build_filename(f->dir, "outside.img", NULL);
    write_str(outside, "keep me");
    g_free(z->disks[0].file);
    z->disks[0].file = g_strdup(outside);
    assert_true(vmdef_save(z, &err));
    assert_true(vmlib_delete(z, &err));
    assert_null(err);
    assert_int_equal(access(zdir, F_OK), -1);
    assert_int_equal(access(outside, F_OK), 0);
    assert_int_equal(access(iso, F_OK), 0);
    assert_null(vmlib_find("zeta", &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_NOT_FOUND));
    g_clear_error(&err);
    vms = vmlib_list(NULL);
    assert_int_equal(vms->len, 2);
    g_ptr_array_unref(vms);
    /* The name is free again. */
    assert_true(vmlib_check_name("Zeta", NULL, &err));

    /* Only VMs in the library are deleted. */
    write_str(f->file, full_def);
    struct vmdef *loose = vmdef_load(f->file, &err);
    assert_non_null(loose);
    assert_false(vmlib_delete(loose, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_INVALID));
    g_clear_error(&err);
    assert_int_equal(access(f->file, F_OK), 0);
    vmdef_free(loose);

    g_free(outside);
    g_free(copy);
    g_free(copy_dir);
    g_free(broken);
    g_free(broken_dir);
    g_free(stray);
    g_free(zfile);
    g_free(zdir);
    g_free(iso);
    vmdef_free(z);
    vmdef_free(a);
    vmdef_free(m);
    g_free(machines);
}

static void test_create_checks(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    const struct vmlib_new bad[] = {
        { .name = "disk not sectors", .disk_size = (1u << 20) + 100 },
        { .name = "disk too small", .disk_size = 512 * 1024 },
        { .name = "disk too big", .disk_size = VMDEF_MAX_DISK_SIZE + 512 },
        { .name = "memory", .memory_mib = 8 },
        { .name = "memory", .memory_mib = VMDEF_MAX_MEMORY_MIB + 1 },
        { .name = "cpus", .cpus = VMDEF_MAX_CPUS + 1 },
        { .name = "os", .os = "not an id" },
        { .name = "iso", .iso = "/nonexistent/hostel.iso" },
        { .name = "bad/name" },
        { .name = "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct vmdef *d = vmlib_create(&bad[i], &err);
        if (d)
            fail_msg("case %zu created", i);
        assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_INVALID));
        g_clear_error(&err);
    }
    /* Nothing was left behind. */
    char *machines = vmlib_machines_dir();
    GDir *d = g_dir_open(machines, 0, NULL);
    if (d) {
        assert_null(g_dir_read_name(d));
        g_dir_close(d);
    }
    g_free(machines);
    (void)f;
}

static void test_disk_image(void **state)
{
    GError *err = NULL;
    const uint64_t size = (UINT64_C(5) << 30) + 512;    /* 5 GiB and a sector */
    struct vmdef *d = vmlib_create(&(struct vmlib_new){ .name = "disky", .disk_size = size }, &err);
    assert_null(err);
    assert_non_null(d);
    assert_int_equal(d->ndisks, 1);
    char *image = vmdef_resolve(d, d->disks[0].file);
    char *want = g_build_filename(d->dir, VMDEF_DISK_IMAGE, NULL);
    assert_string_equal(image, want);
    struct stat st;
    assert_int_equal(stat(image, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal((uint64_t)st.st_size, size);
    /* Sparse: far fewer blocks than bytes. */
    assert_true((uint64_t)st.st_blocks * 512 < (1u << 20));
    g_free(want);
    g_free(image);
    vmdef_free(d);

    d = vmlib_create(&(struct vmlib_new){ .name = "smallest", .disk_size = VMDEF_MIN_DISK_SIZE }, &err);
    assert_non_null(d);
    image = vmdef_resolve(d, d->disks[0].file);
    assert_int_equal(stat(image, &st), 0);
    assert_int_equal(st.st_size, VMDEF_MIN_DISK_SIZE);
    g_free(image);
    vmdef_free(d);

    /* No disk asked for: no image. */
    d = vmlib_create(&(struct vmlib_new){ .name = "diskless" }, &err);
    assert_non_null(d);
    image = g_build_filename(d->dir, VMDEF_DISK_IMAGE, NULL);
    assert_int_equal(access(image, F_OK), -1);
    g_free(image);
    vmdef_free(d);
}

static void test_crash_safe_write(void **state)
{
    struct fixture *f = *state;
    write_str(f->file, full_def);
    GError *err = NULL;
    struct vmdef *d = vmdef_load(f->file, &err);
    assert_non_null(d);
    char *dir = g_path_get_dirname(f->file);

    /* A successful save leaves no temporary file behind. */
    d->cpus = 4;
    assert_true(vmdef_save(d, &err));
    assert_int_equal(hidden_entries(dir), 0);
    size_t good_len;
    char *good = read_text(f->file, &good_len);

    /* The write fails half way (file size limit): the old content stays,
     * and so does nothing else. */
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit tiny = { .rlim_cur = 64, .rlim_max = old.rlim_max };
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &tiny), 0);
    d->cpus = 8;
    g_free(d->name);
    d->name = g_strdup("A longer name so that the file is bigger than the limit");
    bool saved = vmdef_save(d, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    assert_false(saved);
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_IO));
    assert_non_null(strstr(err->message, f->file));
    g_clear_error(&err);
    size_t len;
    char *now = read_text(f->file, &len);
    assert_int_equal(len, good_len);
    assert_memory_equal(now, good, len);
    g_free(now);
    assert_int_equal(hidden_entries(dir), 0);

    /* A directory that cannot be written (not for root, who can). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(dir, 0500), 0);
        assert_false(vmdef_save(d, &err));
        assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_IO));
        g_clear_error(&err);
        assert_int_equal(chmod(dir, 0700), 0);
        now = read_text(f->file, &len);
        assert_int_equal(len, good_len);
        assert_memory_equal(now, good, len);
        g_free(now);
    }

    /* The failed attempts did not spoil the next save. */
    assert_true(vmdef_save(d, &err));
    struct vmdef *back = vmdef_load(f->file, &err);
    assert_non_null(back);
    assert_int_equal(back->cpus, 8);
    vmdef_free(back);
    assert_int_equal(hidden_entries(dir), 0);
    g_free(good);
    g_free(dir);
    vmdef_free(d);
}

/* Random bytes and random line mixes never crash the loader, and
 * whatever loads saves and loads again to the same fields. */
static void test_random_files(void **state)
{
    struct fixture *f = *state;
    static const char *const pieces[] = {
        "[hostel]\n", "format=1\n", "format=2\n", "[machine]\n", "name=R\n", "uuid=" UUID1 "\n",
        "memory=64\n", "cpus=2\n", "boot=disk\n", "[disk0]\n", "file=x.img\n", "[disk1]\n", "[cdrom]\n",
        "file=\n", "# c\n", "\n", "=\n", "[\n", "]\n", "k=v\\\n", "name=\\s\n", "os=a b\n", "\r\n",
        "[display]\n", "type=vga\n", "x[y]=1\n", "\xff\n",
    };
    GRand *r = g_rand_new_with_seed(0x5eed);
    GString *s = g_string_new(NULL);
    unsigned loaded = 0;
    for (int iter = 0; iter < 3000; iter++) {
        g_string_truncate(s, 0);
        if (iter % 3 == 0) {
            unsigned n = (unsigned)g_rand_int_range(r, 0, 200);
            for (unsigned i = 0; i < n; i++)
                g_string_append_c(s, (char)g_rand_int_range(r, 1, 256));
        } else {
            g_string_append(s, "[hostel]\nformat=1\n[machine]\nname=R\nuuid=" UUID1 "\n");
            unsigned n = (unsigned)g_rand_int_range(r, 0, 12);
            for (unsigned i = 0; i < n; i++)
                g_string_append(s, pieces[g_rand_int_range(r, 0, G_N_ELEMENTS(pieces))]);
        }
        write_text(f->file, s->str, s->len);
        GError *err = NULL;
        struct vmdef *d = vmdef_load(f->file, &err);
        if (!d) {
            assert_non_null(err);
            assert_true(g_str_has_prefix(err->message, f->file));
            g_error_free(err);
            continue;
        }
        loaded++;
        assert_true(vmdef_save(d, &err));
        struct vmdef *e = vmdef_load(f->file, &err);
        assert_non_null(e);
        assert_string_equal(d->name, e->name);
        assert_int_equal(d->memory_mib, e->memory_mib);
        assert_int_equal(d->ndisks, e->ndisks);
        assert_string_equal(d->boot_order, e->boot_order);
        vmdef_free(e);
        vmdef_free(d);
    }
    assert_true(loaded > 100);
    g_string_free(s, TRUE);
    g_rand_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keeps_comments_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_library, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_safe_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
