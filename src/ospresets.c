/* OS presets from libosinfo and Hostel's own list (data/os-presets.ini). */
#include "ospresets.h"
#include "vmdef.h"

#include <gio/gio.h>
#include <string.h>

#if HAVE_OSINFO
#include <osinfo/osinfo.h>
#endif

#ifndef HOSTEL_DATADIR
#error "HOSTEL_DATADIR is defined by src/meson.build"
#endif

#define MIB (UINT64_C(1) << 20)
/* When neither libosinfo nor Hostel's list says (its "other" is missing). */
#define LAST_RESORT_DISK (16 * (UINT64_C(1) << 30))

struct ospresets {
    GPtrArray *all;             /* struct ospreset *, owned, sorted by name */
    GPtrArray *folded;          /* per preset: "name id", case-folded, for search */
    GHashTable *by_id;          /* id or alias (owned) -> struct ospreset * */
    bool osinfo;
#if HAVE_OSINFO
    OsinfoLoader *loader;       /* owns db */
    OsinfoDb *db;               /* NULL when libosinfo is not used */
#endif
};

static void preset_free(gpointer p)
{
    struct ospreset *o = p;
    g_free(o->id);
    g_free(o->name);
    g_free(o->firmware);
    g_free(o);
}

static struct ospreset *preset_copy(const struct ospreset *o)
{
    struct ospreset *c = g_new(struct ospreset, 1);
    *c = *o;
    c->id = g_strdup(o->id);
    c->name = g_strdup(o->name);
    c->firmware = g_strdup(o->firmware);
    return c;
}

char *ospresets_data_dir(void)
{
    const char *env = g_getenv("HOSTEL_DATA_DIR");
    if (env && *env)
        return g_strdup(env);
    /* Run from the build tree before `meson install`: the source tree's
     * data/ has the same file. */
    char *installed = g_build_filename(HOSTEL_DATADIR, OSPRESETS_FILE, NULL);
    bool have = g_file_test(installed, G_FILE_TEST_EXISTS);
    g_free(installed);
    return g_strdup(have ? HOSTEL_DATADIR : HOSTEL_SOURCE_DATADIR);
}

static void set_ini_error(GError **err, const char *path, const char *group, const char *key, const char *what,
                          const char *value)
{
    g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s: [%s] %s: %s, not '%s'.", path, group,
                key, what, value ? value : "");
}

/* A size with a unit: "512M", "20G", "1T". */
static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    if (!g_ascii_isdigit(*s))
        return false;
    guint64 n = g_ascii_strtoull(s, &end, 10);
    unsigned shift;
    if (g_ascii_strcasecmp(end, "M") == 0)
        shift = 20;
    else if (g_ascii_strcasecmp(end, "G") == 0)
        shift = 30;
    else if (g_ascii_strcasecmp(end, "T") == 0)
        shift = 40;
    else
        return false;
    if (n == 0 || n > (VMDEF_MAX_DISK_SIZE >> shift))
        return false;
    *out = n << shift;
    return true;
}

static bool ini_uint(GKeyFile *kf, const char *path, const char *group, const char *key, unsigned min, unsigned max,
                     unsigned *out, GError **err)
{
    char *v = g_key_file_get_string(kf, group, key, NULL);
    guint64 u;
    bool ok = v && g_ascii_string_to_unsigned(g_strstrip(v), 10, min, max, &u, NULL);
    if (ok)
        *out = (unsigned)u;
    else {
        char *what = g_strdup_printf("a whole number from %u to %u", min, max);
        set_ini_error(err, path, group, key, what, v);
        g_free(what);
    }
    g_free(v);
    return ok;
}

/* Hostel's list, in file order. A missing file is an empty list with
 * *missing set; a broken one an error. */
static GPtrArray *load_hostel_list(bool *missing, GError **err)
{
    char *dir = ospresets_data_dir();
    char *path = g_build_filename(dir, OSPRESETS_FILE, NULL);
    g_free(dir);
    GPtrArray *list = g_ptr_array_new_with_free_func(preset_free);
    GKeyFile *kf = g_key_file_new();
    GError *e = NULL;
    *missing = false;
    bool ok = g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e);
    if (!ok && g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        *missing = true;
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Hostel's OS presets %s are missing: reinstall Hostel.",
                    path);
        g_error_free(e);
    } else if (!ok) {
        g_set_error(err, e->domain, e->code, "%s: %s", path, e->message);
        g_error_free(e);
    }
    gchar **groups = ok ? g_key_file_get_groups(kf, NULL) : NULL;
    for (gchar **g = groups; ok && *g; g++) {
        struct ospreset *o = g_new0(struct ospreset, 1);
        g_ptr_array_add(list, o);
        o->id = g_strdup(*g);
        o->name = g_key_file_get_string(kf, *g, "name", NULL);
        if (!o->name || !*g_strstrip(o->name)) {
            set_ini_error(err, path, *g, "name", "the OS needs a name", o->name);
            ok = false;
            break;
        }
        ok = ini_uint(kf, path, *g, "memory", VMDEF_MIN_MEMORY_MIB, VMDEF_MAX_MEMORY_MIB, &o->memory_mib, err) &&
             ini_uint(kf, path, *g, "cpus", 1, VMDEF_MAX_CPUS, &o->cpus, err);
        if (!ok)
            break;
        char *disk = g_key_file_get_string(kf, *g, "disk", NULL);
        ok = disk && parse_size(g_strstrip(disk), &o->disk_size);
        if (!ok)
            set_ini_error(err, path, *g, "disk", "a size such as 512M, 20G or 1T", disk);
        g_free(disk);
        o->firmware = g_key_file_get_string(kf, *g, "firmware", NULL);
        if (!o->firmware)
            o->firmware = g_strdup("bios");
        else if (ok && strcmp(g_strstrip(o->firmware), "bios") != 0) {
            set_ini_error(err, path, *g, "firmware", "'bios' is the only firmware for now", o->firmware);
            ok = false;
        }
    }
    g_strfreev(groups);
    g_key_file_unref(kf);
    g_free(path);
    if (!ok && !*missing) {
        g_ptr_array_unref(list);
        return NULL;
    }
    return list;
}

static void add_preset(struct ospresets *p, struct ospreset *o)
{
    g_ptr_array_add(p->all, o);
    if (!g_hash_table_contains(p->by_id, o->id))
        g_hash_table_insert(p->by_id, g_strdup(o->id), o);
}

#if HAVE_OSINFO
struct osinfo_res {
    gint64 ram, storage;
    gint cpus;
};

/* Fill what is still unknown in r from list: the x86_64 entry first, then
 * the one for all architectures. */
static void pick_resources(OsinfoResourcesList *list, struct osinfo_res *r)
{
    static const char *const arches[] = { "x86_64", OSINFO_ARCHITECTURE_ALL };
    gint n = osinfo_list_get_length(OSINFO_LIST(list));
    for (size_t a = 0; a < G_N_ELEMENTS(arches); a++) {
        for (gint i = 0; i < n; i++) {
            OsinfoResources *res = OSINFO_RESOURCES(osinfo_list_get_nth(OSINFO_LIST(list), i));
            if (g_strcmp0(osinfo_resources_get_architecture(res), arches[a]) != 0)
                continue;
            if (r->ram <= 0)
                r->ram = osinfo_resources_get_ram(res);
            if (r->storage <= 0)
                r->storage = osinfo_resources_get_storage(res);
            if (r->cpus <= 0)
                r->cpus = osinfo_resources_get_n_cpus(res);
        }
    }
}

/* libosinfo's recommended resources for x86_64, else its minimum, else
 * Hostel's preset for the same OS, else Hostel's "other". */
static struct ospreset *preset_from_os(OsinfoOs *os, const struct ospreset *fallback)
{
    struct osinfo_res r = { -1, -1, -1 };
    OsinfoResourcesList *rec = osinfo_os_get_recommended_resources(os);
    pick_resources(rec, &r);
    g_object_unref(rec);
    OsinfoResourcesList *min = osinfo_os_get_minimum_resources(os);
    pick_resources(min, &r);
    g_object_unref(min);

    struct ospreset *o = g_new0(struct ospreset, 1);
    o->id = g_strdup(osinfo_product_get_short_id(OSINFO_PRODUCT(os)));
    o->name = g_strdup(osinfo_product_get_name(OSINFO_PRODUCT(os)));
    o->firmware = g_strdup("bios");
    if (r.ram > 0)
        o->memory_mib = (unsigned)CLAMP(((uint64_t)r.ram + MIB - 1) / MIB, VMDEF_MIN_MEMORY_MIB, VMDEF_MAX_MEMORY_MIB);
    else
        o->memory_mib = fallback ? fallback->memory_mib : VMDEF_DEFAULT_MEMORY_MIB;
    if (r.cpus > 0)
        o->cpus = (unsigned)MIN(r.cpus, VMDEF_MAX_CPUS);
    else
        o->cpus = fallback ? fallback->cpus : VMDEF_DEFAULT_CPUS;
    if (r.storage > 0)
        o->disk_size = CLAMP(((uint64_t)r.storage + MIB - 1) / MIB * MIB, VMDEF_MIN_DISK_SIZE, VMDEF_MAX_DISK_SIZE);
    else
        o->disk_size = fallback ? fallback->disk_size : LAST_RESORT_DISK;
    return o;
}

static const struct ospreset *find_in(GPtrArray *list, const char *id)
{
    for (guint i = 0; list && i < list->len; i++) {
        const struct ospreset *o = g_ptr_array_index(list, i);
        if (strcmp(o->id, id) == 0)
            return o;
    }
    return NULL;
}

/* Every OS osinfo-db knows. false (nothing added) when it cannot be read. */
static bool load_osinfo(struct ospresets *p, GPtrArray *hostel)
{
    GError *e = NULL;
    p->loader = osinfo_loader_new();
    osinfo_loader_process_default_path(p->loader, &e);
    if (e) {
        g_error_free(e);
        g_clear_object(&p->loader);
        return false;
    }
    p->db = osinfo_loader_get_db(p->loader);
    OsinfoOsList *oses = osinfo_db_get_os_list(p->db);
    gint n = osinfo_list_get_length(OSINFO_LIST(oses));
    const struct ospreset *other = find_in(hostel, OSPRESET_OTHER);
    for (gint i = 0; i < n; i++) {
        OsinfoOs *os = OSINFO_OS(osinfo_list_get_nth(OSINFO_LIST(oses), i));
        const char *id = osinfo_product_get_short_id(OSINFO_PRODUCT(os));
        const char *name = osinfo_product_get_name(OSINFO_PRODUCT(os));
        if (!id || !*id || !name || !*name)
            continue;
        const struct ospreset *own = find_in(hostel, id);
        struct ospreset *o = preset_from_os(os, own ? own : other);
        add_preset(p, o);
        /* The other short ids (e.g. "debianbullseye") find it too. */
        GList *ids = osinfo_product_get_short_id_list(OSINFO_PRODUCT(os));
        for (GList *l = ids; l; l = l->next)
            if (!g_hash_table_contains(p->by_id, l->data))
                g_hash_table_insert(p->by_id, g_strdup(l->data), o);
        g_list_free(ids);
    }
    g_object_unref(oses);
    return n > 0;
}
#endif

static gint compare_by_name(gconstpointer a, gconstpointer b)
{
    const struct ospreset *oa = *(const struct ospreset *const *)a, *ob = *(const struct ospreset *const *)b;
    char *ka = g_utf8_collate_key_for_filename(oa->name, -1);
    char *kb = g_utf8_collate_key_for_filename(ob->name, -1);
    int c = strcmp(ka, kb);
    g_free(ka);
    g_free(kb);
    return c ? c : strcmp(oa->id, ob->id);
}

struct ospresets *ospresets_load(GError **err)
{
    bool missing;
    GError *hostel_err = NULL;
    GPtrArray *hostel = load_hostel_list(&missing, &hostel_err);
    if (!hostel) {
        g_propagate_error(err, hostel_err);
        return NULL;
    }
    struct ospresets *p = g_new0(struct ospresets, 1);
    p->all = g_ptr_array_new_with_free_func(preset_free);
    p->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *no = g_getenv("HOSTEL_NO_OSINFO");
    if (!(no && *no)) {
#if HAVE_OSINFO
        p->osinfo = load_osinfo(p, hostel);
#endif
    }
    if (!p->osinfo && missing) {
        g_propagate_error(err, hostel_err);
        g_ptr_array_unref(hostel);
        ospresets_free(p);
        return NULL;
    }
    g_clear_error(&hostel_err);
    for (guint i = 0; i < hostel->len; i++) {
        const struct ospreset *o = g_ptr_array_index(hostel, i);
        if (!g_hash_table_contains(p->by_id, o->id))
            add_preset(p, preset_copy(o));
    }
    g_ptr_array_unref(hostel);
    g_ptr_array_sort(p->all, compare_by_name);
    p->folded = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < p->all->len; i++) {
        const struct ospreset *o = g_ptr_array_index(p->all, i);
        char *both = g_strdup_printf("%s %s", o->name, o->id);
        g_ptr_array_add(p->folded, g_utf8_casefold(both, -1));
        g_free(both);
    }
    return p;
}

void ospresets_free(struct ospresets *p)
{
    if (!p)
        return;
    if (p->by_id)
        g_hash_table_unref(p->by_id);
    if (p->folded)
        g_ptr_array_unref(p->folded);
    if (p->all)
        g_ptr_array_unref(p->all);
#if HAVE_OSINFO
    g_clear_object(&p->loader);
#endif
    g_free(p);
}

bool ospresets_have_osinfo(const struct ospresets *p)
{
    return p->osinfo;
}

const struct ospreset *ospresets_lookup(const struct ospresets *p, const char *id)
{
    return id ? g_hash_table_lookup(p->by_id, id) : NULL;
}

const struct ospreset *const *ospresets_all(const struct ospresets *p, size_t *n)
{
    *n = p->all->len;
    return (const struct ospreset *const *)p->all->pdata;
}

GPtrArray *ospresets_search(const struct ospresets *p, const char *text)
{
    GPtrArray *found = g_ptr_array_new();
    char *folded = g_utf8_casefold(text ? text : "", -1);
    gchar **words = g_strsplit_set(folded, " \t\n", 0);
    g_free(folded);
    for (guint i = 0; i < p->all->len; i++) {
        const char *hay = g_ptr_array_index(p->folded, i);
        bool all = true;
        for (gchar **w = words; all && *w; w++)
            all = !**w || strstr(hay, *w);
        if (all)
            g_ptr_array_add(found, g_ptr_array_index(p->all, i));
    }
    g_strfreev(words);
    return found;
}

char *ospresets_identify_iso(const struct ospresets *p, const char *iso, GError **err)
{
#if HAVE_OSINFO
    if (p->db) {
        GError *e = NULL;
        OsinfoMedia *media = osinfo_media_create_from_location(iso, NULL, &e);
        if (!media) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Cannot read %s as an installation ISO: %s", iso,
                        e->message);
            g_error_free(e);
            return NULL;
        }
        char *id = NULL;
        if (osinfo_db_identify_media(p->db, media)) {
            OsinfoOs *os = osinfo_media_get_os(media);
            if (os) {
                id = g_strdup(osinfo_product_get_short_id(OSINFO_PRODUCT(os)));
                g_object_unref(os);
            }
        }
        g_object_unref(media);
        if (!id)
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                        "The OS on %s is not one libosinfo knows; choose it from the list.", iso);
        return id;
    }
#endif
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "Recognising the OS on an ISO needs libosinfo, which this Hostel %s; choose the OS from the list.",
                HAVE_OSINFO ? "is not using now" : "was built without");
    return NULL;
}
