/* OS presets: Hostel's own list (shipped and test-written), libosinfo's
 * catalogue when it is there, search, and recognising the OS on an ISO
 * from its ISO 9660 volume descriptors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ftw.h>
#include <gio/gio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ospresets.h"
#include "vmdef.h"

#ifndef HAVE_OSINFO
#define HAVE_OSINFO 0
#endif

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

struct fixture {
    char dir[64];
    char *ini;                  /* DIR/os-presets.ini, for test-written lists */
    char *source_data;          /* HOSTEL_DATA_DIR as the test started: the source tree's data/ */
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/hostel-ospresets-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->ini = g_build_filename(f->dir, OSPRESETS_FILE, NULL);
    const char *data = g_getenv("HOSTEL_DATA_DIR");
    if (!data)
        fail_msg("HOSTEL_DATA_DIR is not set: run this test through meson");
    f->source_data = g_strdup(data);
    g_setenv("HOSTEL_NO_OSINFO", "1", TRUE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    g_setenv("HOSTEL_DATA_DIR", f->source_data, TRUE);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    g_free(f->ini);
    g_free(f->source_data);
    free(f);
    return 0;
}

static void check_sane(const struct ospreset *o)
{
    assert_non_null(o->id);
    assert_true(*o->id);
    assert_non_null(o->name);
    assert_true(*o->name);
    assert_in_range(o->memory_mib, VMDEF_MIN_MEMORY_MIB, VMDEF_MAX_MEMORY_MIB);
    assert_in_range(o->cpus, 1, VMDEF_MAX_CPUS);
    assert_true(o->disk_size >= VMDEF_MIN_DISK_SIZE && o->disk_size <= VMDEF_MAX_DISK_SIZE);
    assert_int_equal(o->disk_size % MIB, 0);
    assert_string_equal(o->firmware, "bios");
}

/* The search rule, written out again: every word of text is in "name id",
 * ignoring case. */
static bool matches(const struct ospreset *o, const char *text)
{
    char *hay_raw = g_strdup_printf("%s %s", o->name, o->id);
    char *hay = g_utf8_casefold(hay_raw, -1);
    char *q = g_utf8_casefold(text, -1);
    gchar **words = g_strsplit_set(q, " \t\n", 0);
    bool all = true;
    for (gchar **w = words; *w; w++)
        if (**w && !strstr(hay, *w))
            all = false;
    g_strfreev(words);
    g_free(q);
    g_free(hay);
    g_free(hay_raw);
    return all;
}

static void check_search(const struct ospresets *p, const char *text)
{
    size_t n;
    const struct ospreset *const *all = ospresets_all(p, &n);
    GPtrArray *found = ospresets_search(p, text);
    guint at = 0;
    for (size_t i = 0; i < n; i++) {
        bool in = at < found->len && g_ptr_array_index(found, at) == all[i];
        if (in)
            at++;
        if (in != matches(all[i], text))
            fail_msg("search '%s': '%s' %s", text, all[i]->name, in ? "found wrongly" : "missed");
    }
    /* In catalogue order, nothing else. */
    assert_int_equal(at, found->len);
    g_ptr_array_unref(found);
}

static const char *search_ids(const struct ospresets *p, const char *text, char *buf, size_t len)
{
    GPtrArray *found = ospresets_search(p, text);
    buf[0] = '\0';
    for (guint i = 0; i < found->len; i++) {
        const struct ospreset *o = g_ptr_array_index(found, i);
        g_strlcat(buf, i ? " " : "", len);
        g_strlcat(buf, o->id, len);
    }
    g_ptr_array_unref(found);
    return buf;
}

static void test_shipped_list(void **state)
{
    GError *err = NULL;
    struct ospresets *p = ospresets_load(&err);
    assert_null(err);
    assert_non_null(p);
    assert_false(ospresets_have_osinfo(p));
    /* The OSes the product asks for. */
    const struct { const char *id, *name_has; } want[] = {
        { "debian12", "Debian 12" }, { "ubuntu24.04", "Ubuntu 24.04" }, { "fedora-unknown", "Fedora" },
        { "win10", "Windows 10" }, { "win11", "Windows 11" }, { "freedos1.3", "FreeDOS" },
        { "other-linux", "Other Linux" }, { OSPRESET_OTHER, "Other" },
    };
    size_t n;
    const struct ospreset *const *all = ospresets_all(p, &n);
    assert_int_equal(n, G_N_ELEMENTS(want));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        const struct ospreset *o = ospresets_lookup(p, want[i].id);
        if (!o)
            fail_msg("no preset %s", want[i].id);
        assert_string_equal(o->id, want[i].id);
        assert_non_null(strstr(o->name, want[i].name_has));
        check_sane(o);
    }
    for (size_t i = 0; i < n; i++)
        check_sane(all[i]);
    /* Windows needs more than DOS. */
    assert_true(ospresets_lookup(p, "win11")->memory_mib >= 4096);
    assert_true(ospresets_lookup(p, "freedos1.3")->memory_mib < ospresets_lookup(p, "win10")->memory_mib);
    /* Sorted by name. */
    const char *order[] = { "Debian 12", "Fedora", "FreeDOS 1.3", "Microsoft Windows 10", "Microsoft Windows 11",
                            "Other", "Other Linux", "Ubuntu 24.04 LTS" };
    for (size_t i = 0; i < n; i++)
        assert_string_equal(all[i]->name, order[i]);
    assert_null(ospresets_lookup(p, "nonexistent"));
    assert_null(ospresets_lookup(p, NULL));

    char buf[256];
    assert_string_equal(search_ids(p, "windows", buf, sizeof(buf)), "win10 win11");
    assert_string_equal(search_ids(p, "WIN 11", buf, sizeof(buf)), "win11");
    assert_string_equal(search_ids(p, "linux", buf, sizeof(buf)), "other-linux");
    assert_string_equal(search_ids(p, "  debian12 ", buf, sizeof(buf)), "debian12");
    assert_string_equal(search_ids(p, "bsd", buf, sizeof(buf)), "");
    GPtrArray *everything = ospresets_search(p, "");
    assert_int_equal(everything->len, n);
    g_ptr_array_unref(everything);
    everything = ospresets_search(p, NULL);
    assert_int_equal(everything->len, n);
    g_ptr_array_unref(everything);

    /* No libosinfo in use: no ISO recognition. */
    assert_null(ospresets_identify_iso(p, "/dev/null", &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED));
    g_clear_error(&err);
    ospresets_free(p);
}

static void test_own_list(void **state)
{
    struct fixture *f = *state;
    g_setenv("HOSTEL_DATA_DIR", f->dir, TRUE);
    assert_true(g_file_set_contents(f->ini,
                                    "# test list\n"
                                    "[foo10]\nname=Foo 10\nmemory=300\ncpus=5\ndisk=1T\n"
                                    "[foo9]\nname=Foo 9\nmemory=16\ncpus=1\ndisk=1M\nfirmware=bios\n"
                                    "[bar]\nname=  Bar  \nmemory= 1048576 \ncpus=64\ndisk=512m\n",
                                    -1, NULL));
    GError *err = NULL;
    struct ospresets *p = ospresets_load(&err);
    assert_null(err);
    assert_non_null(p);
    size_t n;
    const struct ospreset *const *all = ospresets_all(p, &n);
    assert_int_equal(n, 3);
    /* Numbers in numeric order. */
    assert_string_equal(all[0]->id, "bar");
    assert_string_equal(all[1]->id, "foo9");
    assert_string_equal(all[2]->id, "foo10");
    const struct ospreset *o = ospresets_lookup(p, "foo10");
    assert_string_equal(o->name, "Foo 10");
    assert_int_equal(o->memory_mib, 300);
    assert_int_equal(o->cpus, 5);
    assert_int_equal(o->disk_size, UINT64_C(1) << 40);
    assert_string_equal(o->firmware, "bios");
    o = ospresets_lookup(p, "foo9");
    assert_int_equal(o->memory_mib, 16);
    assert_int_equal(o->disk_size, MIB);
    o = ospresets_lookup(p, "bar");
    assert_string_equal(o->name, "Bar");
    assert_int_equal(o->memory_mib, 1048576);
    assert_int_equal(o->cpus, 64);
    assert_int_equal(o->disk_size, 512 * MIB);
    ospresets_free(p);

    /* Broken lists are refused, naming the file, the OS and the key. */
    const struct { const char *text, *says; } bad[] = {
        { "[x]\nname=X\nmemory=8\ncpus=1\ndisk=1G\n", "[x] memory" },
        { "[x]\nname=X\nmemory=64\ncpus=65\ndisk=1G\n", "[x] cpus" },
        { "[x]\nname=X\nmemory=64\ncpus=1\ndisk=20\n", "[x] disk" },
        { "[x]\nname=X\nmemory=64\ncpus=1\ndisk=0G\n", "[x] disk" },
        { "[x]\nname=X\nmemory=64\ncpus=1\ndisk=17T\n", "[x] disk" },
        { "[x]\nname=X\nmemory=64\ncpus=1\n", "[x] disk" },
        { "[x]\nmemory=64\ncpus=1\ndisk=1G\n", "[x] name" },
        { "[x]\nname=X\nmemory=64\ncpus=1\ndisk=1G\nfirmware=uefi\n", "[x] firmware" },
        { "[x]\nname=X\n[x\n", "" },
        { "name=X\n", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        assert_true(g_file_set_contents(f->ini, bad[i].text, -1, NULL));
        p = ospresets_load(&err);
        if (p)
            fail_msg("case %zu loaded", i);
        assert_non_null(err);
        if (!strstr(err->message, f->ini) || !strstr(err->message, bad[i].says))
            fail_msg("case %zu: %s", i, err->message);
        g_clear_error(&err);
    }
    /* Missing, and no libosinfo to stand in. */
    assert_int_equal(unlink(f->ini), 0);
    assert_null(ospresets_load(&err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    assert_non_null(strstr(err->message, f->ini));
    g_clear_error(&err);
}

static bool osinfo_usable(void)
{
    return HAVE_OSINFO && g_file_test("/usr/share/osinfo/os", G_FILE_TEST_IS_DIR);
}

static void test_osinfo_catalogue(void **state)
{
    struct fixture *f = *state;
    if (!osinfo_usable()) {
        skip();
        return;
    }
    g_unsetenv("HOSTEL_NO_OSINFO");
    GError *err = NULL;
    struct ospresets *p = ospresets_load(&err);
    assert_null(err);
    assert_non_null(p);
    assert_true(ospresets_have_osinfo(p));
    size_t n;
    const struct ospreset *const *all = ospresets_all(p, &n);
    assert_true(n > 100);
    for (size_t i = 0; i < n; i++)
        check_sane(all[i]);
    const struct ospreset *d11 = ospresets_lookup(p, "debian11");
    assert_non_null(d11);
    assert_string_equal(d11->name, "Debian 11");
    /* osinfo-db recommends 1 GiB and 20 GiB for Debian 11. */
    assert_true(d11->memory_mib >= 1024);
    assert_true(d11->disk_size >= 10 * GIB);
    /* Its other short id finds the same preset. */
    assert_ptr_equal(ospresets_lookup(p, "debianbullseye"), d11);
    /* Windows 11 has only minimum resources in osinfo-db: 4 GiB, 2 CPUs. */
    const struct ospreset *w11 = ospresets_lookup(p, "win11");
    assert_non_null(w11);
    assert_true(w11->memory_mib >= 4096 && w11->cpus >= 2 && w11->disk_size >= 64 * GIB);
    /* Hostel's own entries fill in: the generic ones always, and the OSes
     * an older osinfo-db does not know. */
    assert_non_null(ospresets_lookup(p, "other"));
    assert_non_null(ospresets_lookup(p, "other-linux"));
    assert_non_null(ospresets_lookup(p, "debian12"));
    assert_non_null(ospresets_lookup(p, "ubuntu24.04"));
    /* Each id once. */
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < n; i++) {
        if (g_hash_table_contains(seen, all[i]->id))
            fail_msg("%s twice", all[i]->id);
        g_hash_table_add(seen, all[i]->id);
    }
    g_hash_table_destroy(seen);
    char buf[4096];
    assert_non_null(strstr(search_ids(p, "debian 11", buf, sizeof(buf)), "debian11"));
    check_search(p, "windows");
    check_search(p, "fedora 3");
    check_search(p, "LINUX");
    ospresets_free(p);

    /* libosinfo alone when Hostel's list is missing. */
    g_setenv("HOSTEL_DATA_DIR", f->dir, TRUE);
    p = ospresets_load(&err);
    assert_non_null(p);
    assert_non_null(ospresets_lookup(p, "debian11"));
    assert_null(ospresets_lookup(p, "other-linux"));
    ospresets_free(p);
    /* A broken list of Hostel's is an error even with libosinfo. */
    assert_true(g_file_set_contents(f->ini, "[x]\nname=X\nmemory=1\ncpus=1\ndisk=1G\n", -1, NULL));
    assert_null(ospresets_load(&err));
    assert_non_null(err);
    g_clear_error(&err);
}

/* An ISO 9660 image with just its volume descriptors (ECMA-119 8.4, 8.2;
 * El Torito 1.0 section 2.0): primary, boot record, terminator. */
static void write_iso(const char *path, const char *volume_id)
{
    const size_t sector = 2048, sectors = 64;
    uint8_t *img = calloc(sectors, sector);
    uint8_t *pvd = img + 16 * sector;
    pvd[0] = 1;
    memcpy(pvd + 1, "CD001", 5);
    pvd[6] = 1;
    memset(pvd + 8, ' ', 32);               /* system identifier */
    memcpy(pvd + 8, "LINUX", 5);
    memset(pvd + 40, ' ', 32);              /* volume identifier */
    memcpy(pvd + 40, volume_id, strlen(volume_id));
    /* Volume space size, both byte orders. */
    uint32_t blocks = (uint32_t)sectors;
    for (int i = 0; i < 4; i++) {
        pvd[80 + i] = (uint8_t)(blocks >> (8 * i));
        pvd[87 - i] = (uint8_t)(blocks >> (8 * i));
    }
    pvd[120] = 1, pvd[123] = 1;             /* volume set size */
    pvd[124] = 1, pvd[127] = 1;             /* volume sequence number */
    pvd[128] = 0x00, pvd[129] = 0x08;       /* logical block size 2048 */
    pvd[130] = 0x08, pvd[131] = 0x00;
    memset(pvd + 190, ' ', 128 * 4 + 37 * 3); /* set, publisher, preparer, application, files */
    memcpy(pvd + 574, "HOSTEL TEST", 11);
    pvd[881] = 1;                           /* file structure version */
    uint8_t *boot = img + 17 * sector;
    boot[0] = 0;
    memcpy(boot + 1, "CD001", 5);
    boot[6] = 1;
    memcpy(boot + 7, "EL TORITO SPECIFICATION", 23);
    boot[71] = 20;                          /* boot catalogue at sector 20 */
    uint8_t *term = img + 18 * sector;
    term[0] = 255;
    memcpy(term + 1, "CD001", 5);
    term[6] = 1;
    /* Boot catalogue: validation entry (checksum makes the words sum to 0)
     * and a bootable no-emulation entry. */
    uint8_t *cat = img + 20 * sector;
    cat[0] = 1;
    cat[30] = 0x55, cat[31] = 0xaa;
    uint16_t sum = 0;
    for (int i = 0; i < 32; i += 2)
        sum = (uint16_t)(sum + (cat[i] | cat[i + 1] << 8));
    uint16_t check = (uint16_t)(0x10000 - sum);
    cat[28] = (uint8_t)check, cat[29] = (uint8_t)(check >> 8);
    cat[32] = 0x88;
    cat[38] = 4;
    cat[40] = 21;
    assert_true(g_file_set_contents(path, (const char *)img, (gssize)(sectors * sector), NULL));
    free(img);
}

static void test_identify_iso(void **state)
{
    struct fixture *f = *state;
    if (!osinfo_usable()) {
        skip();
        return;
    }
    g_unsetenv("HOSTEL_NO_OSINFO");
    GError *err = NULL;
    struct ospresets *p = ospresets_load(&err);
    assert_non_null(p);
    char *iso = g_build_filename(f->dir, "debian.iso", NULL);
    /* osinfo-db knows Debian 11's netinst ISO by its volume id. */
    write_iso(iso, "Debian 11.5.0 amd64 n");
    char *id = ospresets_identify_iso(p, iso, &err);
    if (!id)
        fail_msg("not recognised: %s", err->message);
    assert_string_equal(id, "debian11");
    assert_non_null(ospresets_lookup(p, id));
    g_free(id);
    write_iso(iso, "HOSTEL NOBODY KNOWS");
    assert_null(ospresets_identify_iso(p, iso, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_clear_error(&err);
    /* Not an ISO at all; no file. */
    assert_true(g_file_set_contents(iso, "just text", -1, NULL));
    assert_null(ospresets_identify_iso(p, iso, &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, iso));
    g_clear_error(&err);
    assert_null(ospresets_identify_iso(p, "/nonexistent/x.iso", &err));
    assert_non_null(err);
    g_clear_error(&err);
    g_free(iso);
    ospresets_free(p);
}

/* Random queries: the results are exactly the presets that match. */
static void test_random_search(void **state)
{
    GError *err = NULL;
    if (osinfo_usable())
        g_unsetenv("HOSTEL_NO_OSINFO");
    struct ospresets *p = ospresets_load(&err);
    assert_non_null(p);
    static const char alphabet[] = "abcdefilnorstuwx0123456789. -";
    GRand *r = g_rand_new_with_seed(0x05);
    char q[8];
    for (int iter = 0; iter < 1000; iter++) {
        int len = g_rand_int_range(r, 0, (int)sizeof(q));
        for (int i = 0; i < len; i++)
            q[i] = alphabet[g_rand_int_range(r, 0, (int)sizeof(alphabet) - 1)];
        q[len] = '\0';
        check_search(p, q);
    }
    g_rand_free(r);
    ospresets_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shipped_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_osinfo_catalogue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identify_iso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_search, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
