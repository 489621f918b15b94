/* VM definitions and the VM library (the file format is documented in
 * docs/vm-definition.md).
 *
 * GKeyFile parses the definition, but its errors carry no line number and
 * it silently merges repeated groups and keys. So the text is first checked
 * line by line here, which records the line of every group and key; value
 * errors found later are then reported at the line of their key.
 */
#include "vmdef.h"
#include "vmrun.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(hostel-vmdef-error-quark, vmdef_error)

#define GROUP_HOSTEL "hostel"
#define GROUP_MACHINE "machine"
#define GROUP_CDROM "cdrom"
#define GROUP_DISPLAY "display"
#define KEY_FORMAT "format"
#define KEY_FILE "file"
#define DEFAULT_FIRMWARE "bios"
#define DEFAULT_BOOT "cd,disk"
#define DEFAULT_DISPLAY "vga"
#define MAX_OS_ID 64
/* Deep enough for anything a VM directory holds; stops a runaway walk. */
#define MAX_TREE_DEPTH 32

/* Where each group and key of a definition file is. */
struct kf_index {
    GHashTable *lines;          /* "group" or "group\x1fkey" -> line number */
    unsigned nlines;
};

struct loader {
    const char *path;
    GKeyFile *kf;
    struct kf_index idx;
};

static void set_malformed(GError **err, const char *path, unsigned line, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static void set_malformed(GError **err, const char *path, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_MALFORMED, "%s:%u: %s", path, line, what);
    g_free(what);
}

static char *index_key(const char *group, const char *key)
{
    return key ? g_strdup_printf("%s\x1f%s", group, key) : g_strdup(group);
}

static unsigned index_lookup(const struct kf_index *idx, const char *group, const char *key)
{
    char *k = index_key(group, key);
    unsigned line = GPOINTER_TO_UINT(g_hash_table_lookup(idx->lines, k));
    g_free(k);
    return line;
}

static bool has_control_char(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* GKeyFile's rule for key names (its g_key_file_is_key_name), plus no
 * control characters: no '=', '[' or ']' except one trailing "[locale]",
 * no space at either end. */
static bool key_name_valid(const char *key)
{
    const char *q = key;
    while (*q && *q != '=' && *q != '[' && *q != ']')
        q++;
    if (q == key || key[0] == ' ' || q[-1] == ' ' || has_control_char(key))
        return false;
    if (*q == '[') {
        q++;
        while (g_ascii_isalnum(*q) || *q == '-' || *q == '_' || *q == '.' || *q == '@')
            q++;
        if (*q != ']')
            return false;
        q++;
    }
    return *q == '\0';
}

/* One line of the file (without its '\n' and a trailing '\r'). Records
 * groups and keys in idx; *group is the current group (owned by idx). */
static bool check_line(const char *path, unsigned lineno, const char *line, struct kf_index *idx,
                       const char **group, GError **err)
{
    const char *p = line;
    while (g_ascii_isspace(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return true;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close) {
            set_malformed(err, path, lineno, "The group header '%s' has no closing ']'.", p);
            return false;
        }
        const char *q = close + 1;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q) {
            set_malformed(err, path, lineno, "There is text after the group header's ']': '%s'.", q);
            return false;
        }
        char *name = g_strndup(p + 1, (size_t)(close - p - 1));
        if (!*name || strchr(name, '[') || has_control_char(name)) {
            set_malformed(err, path, lineno, "'[%s]' is not a valid group name.", name);
            g_free(name);
            return false;
        }
        unsigned first = index_lookup(idx, name, NULL);
        if (first) {
            set_malformed(err, path, lineno, "The group [%s] appears a second time (first on line %u); merge them.",
                          name, first);
            g_free(name);
            return false;
        }
        g_hash_table_insert(idx->lines, name, GUINT_TO_POINTER(lineno));
        *group = name;
        return true;
    }
    const char *eq = strchr(p, '=');
    if (!eq) {
        set_malformed(err, path, lineno, "'%s' is not a [group], a key=value pair or a # comment.", p);
        return false;
    }
    if (eq == p) {
        set_malformed(err, path, lineno, "There is no key name before the '='.");
        return false;
    }
    const char *end = eq;
    while (end > p && g_ascii_isspace(end[-1]))
        end--;
    char *key = g_strndup(p, (size_t)(end - p));
    bool ok = false;
    if (!key_name_valid(key)) {
        set_malformed(err, path, lineno, "'%s' is not a valid key name.", key);
    } else if (!*group) {
        set_malformed(err, path, lineno, "The key '%s' comes before the first [group].", key);
    } else {
        unsigned first = index_lookup(idx, *group, key);
        if (first)
            set_malformed(err, path, lineno, "The key '%s' appears a second time in [%s] (first on line %u).", key,
                          *group, first);
        else {
            g_hash_table_insert(idx->lines, index_key(*group, key), GUINT_TO_POINTER(lineno));
            ok = true;
        }
    }
    g_free(key);
    return ok;
}

static bool check_syntax(const char *path, const char *data, size_t len, struct kf_index *idx, GError **err)
{
    const char *group = NULL;
    unsigned lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *start = data + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - start) : len - pos;
        pos += linelen + (nl ? 1 : 0);
        lineno++;
        if (memchr(start, '\0', linelen)) {
            set_malformed(err, path, lineno, "The line holds a NUL byte: this is not a text file.");
            return false;
        }
        if (linelen && start[linelen - 1] == '\r')
            linelen--;
        if (!g_utf8_validate(start, (gssize)linelen, NULL)) {
            set_malformed(err, path, lineno, "The line is not valid UTF-8 text.");
            return false;
        }
        char *line = g_strndup(start, linelen);
        bool ok = check_line(path, lineno, line, idx, &group, err);
        g_free(line);
        if (!ok)
            return false;
    }
    idx->nlines = lineno;
    return true;
}

/* The line to blame for a missing group or key: the group's header, or
 * the end of the file. */
static unsigned missing_line(const struct loader *ld, const char *group)
{
    unsigned line = index_lookup(&ld->idx, group, NULL);
    if (!line)
        line = ld->idx.nlines ? ld->idx.nlines : 1;
    return line;
}

/* A string value; def (may be NULL: the key is required) when absent. */
static bool ld_string(struct loader *ld, const char *group, const char *key, const char *def, char **out,
                      GError **err)
{
    if (!g_key_file_has_key(ld->kf, group, key, NULL)) {
        if (def) {
            *out = g_strdup(def);
            return true;
        }
        if (index_lookup(&ld->idx, group, NULL))
            set_malformed(err, ld->path, missing_line(ld, group), "The group [%s] has no '%s' key.", group, key);
        else
            set_malformed(err, ld->path, missing_line(ld, group), "The file ends without a [%s] group.", group);
        return false;
    }
    GError *e = NULL;
    /* GKeyFile returns the raw value and an error for a bad escape. */
    char *v = g_key_file_get_string(ld->kf, group, key, &e);
    if (!v || e) {
        set_malformed(err, ld->path, index_lookup(&ld->idx, group, key),
                      "The value of '%s' has a backslash that is not one of \\s \\t \\n \\r \\\\.", key);
        g_clear_error(&e);
        g_free(v);
        return false;
    }
    *out = v;
    return true;
}

static bool ld_uint(struct loader *ld, const char *group, const char *key, const char *def, unsigned min,
                    unsigned max, const char *what, unsigned *out, GError **err)
{
    char *v;
    if (!ld_string(ld, group, key, def, &v, err))
        return false;
    g_strstrip(v);
    guint64 u;
    bool ok = g_ascii_string_to_unsigned(v, 10, min, max, &u, NULL);
    if (ok)
        *out = (unsigned)u;
    else
        set_malformed(err, ld->path, index_lookup(&ld->idx, group, key),
                      "'%s' is %s, a whole number from %u to %u, not '%s'.", key, what, min, max, v);
    g_free(v);
    return ok;
}

/* A caller-style check (VMDEF_ERROR_INVALID) turned into a file error at
 * the key's line. */
static bool ld_check(struct loader *ld, const char *group, const char *key, bool ok, GError **e, GError **err)
{
    if (ok)
        return true;
    set_malformed(err, ld->path, index_lookup(&ld->idx, group, key), "%s", (*e)->message);
    g_clear_error(e);
    return false;
}

bool vmdef_check_name(const char *name, GError **err)
{
    if (!name || !*name) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "A VM name cannot be empty.");
        return false;
    }
    if (!g_utf8_validate(name, -1, NULL)) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "A VM name must be UTF-8 text.");
        return false;
    }
    glong n = g_utf8_strlen(name, -1);
    if (n > VMDEF_MAX_NAME) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID,
                    "A VM name has at most %d characters; this one has %ld.", VMDEF_MAX_NAME, n);
        return false;
    }
    if (strchr(name, '/')) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "A VM name cannot contain '/': '%s'.", name);
        return false;
    }
    for (const char *p = name; *p; p = g_utf8_next_char(p)) {
        if (!g_unichar_isprint(g_utf8_get_char(p))) {
            g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID,
                        "A VM name can only hold printable characters (no tabs, line breaks or control codes).");
            return false;
        }
    }
    gunichar first = g_utf8_get_char(name);
    gunichar last = g_utf8_get_char(g_utf8_prev_char(name + strlen(name)));
    if (g_unichar_isspace(first) || g_unichar_isspace(last)) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "A VM name cannot begin or end with a space: '%s'.",
                    name);
        return false;
    }
    return true;
}

bool vmdef_check_boot_order(const char *boot, GError **err)
{
    bool cd = false, disk = false, ok = boot && *boot;
    gchar **items = g_strsplit(boot ? boot : "", ",", 0);
    for (gchar **it = items; ok && *it; it++) {
        if (strcmp(*it, "cd") == 0 && !cd)
            cd = true;
        else if (strcmp(*it, "disk") == 0 && !disk)
            disk = true;
        else
            ok = false;
    }
    g_strfreev(items);
    if (!ok)
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID,
                    "The boot order is 'cd', 'disk' or both separated by a comma (e.g. 'cd,disk'), not '%s'.",
                    boot ? boot : "");
    return ok;
}

static bool check_os(const char *os, GError **err)
{
    bool ok = strlen(os) <= MAX_OS_ID;
    for (const char *p = os; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || strchr("._+-", *p);
    if (!ok)
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID,
                    "The OS is a short id such as 'debian12' (letters, digits and . _ + -), not '%s'.", os);
    return ok;
}

static bool check_uuid(const char *uuid, GError **err)
{
    if (g_uuid_string_is_valid(uuid))
        return true;
    g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID,
                "The uuid is 36 characters like 0f8fad5b-d9cb-469f-a165-70867728950e, not '%s'.", uuid);
    return false;
}

static bool check_display(const char *display, GError **err)
{
    if (strcmp(display, DEFAULT_DISPLAY) == 0)
        return true;
    g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "The display type can only be 'vga' for now, not '%s'.",
                display);
    return false;
}

static bool check_path_value(const char *what, const char *value, GError **err)
{
    if (value && *value && !has_control_char(value))
        return true;
    g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "The %s needs a file name without control characters.",
                what);
    return false;
}

/* A group named disk<N>: N, else -1. */
static int disk_group_index(const char *group)
{
    if (strncmp(group, "disk", 4) != 0 || !g_ascii_isdigit(group[4]))
        return -1;
    guint64 n;
    if (!g_ascii_string_to_unsigned(group + 4, 10, 0, 1000, &n, NULL))
        return -1;
    return (int)n;
}

static bool load_disks(struct loader *ld, struct vmdef *d, GError **err)
{
    bool present[VMDEF_MAX_DISKS] = { false };
    gchar **groups = g_key_file_get_groups(ld->kf, NULL);
    bool ok = true;
    for (gchar **g = groups; ok && *g; g++) {
        int n = disk_group_index(*g);
        if (n < 0)
            continue;
        if (n >= VMDEF_MAX_DISKS) {
            set_malformed(err, ld->path, index_lookup(&ld->idx, *g, NULL),
                          "A VM has at most %d disks, [disk0] to [disk%d]; [%s] is one too many.", VMDEF_MAX_DISKS,
                          VMDEF_MAX_DISKS - 1, *g);
            ok = false;
        } else if (strcmp(*g, "disk0") != 0 && (*g)[4] == '0') {
            set_malformed(err, ld->path, index_lookup(&ld->idx, *g, NULL), "Write [%s] as [disk%d].", *g, n);
            ok = false;
        } else {
            present[n] = true;
        }
    }
    g_strfreev(groups);
    for (unsigned i = 0; ok && i < VMDEF_MAX_DISKS; i++) {
        char group[16];
        snprintf(group, sizeof(group), "disk%u", i);
        if (!present[i])
            continue;
        if (i > 0 && !present[i - 1]) {
            set_malformed(err, ld->path, index_lookup(&ld->idx, group, NULL),
                          "[%s] comes without [disk%u]: number the disks from disk0 up.", group, i - 1);
            return false;
        }
        char *file;
        if (!ld_string(ld, group, KEY_FILE, NULL, &file, err))
            return false;
        GError *e = NULL;
        bool good = check_path_value("disk", file, &e);
        d->disks[d->ndisks++].file = file;
        ok = ld_check(ld, group, KEY_FILE, good, &e, err);
    }
    return ok;
}

static bool load_fields(struct loader *ld, struct vmdef *d, GError **err)
{
    GError *e = NULL;
    unsigned format;
    char *fmt;
    if (!ld_string(ld, GROUP_HOSTEL, KEY_FORMAT, NULL, &fmt, err))
        return false;
    g_strstrip(fmt);
    guint64 f;
    bool ok = g_ascii_string_to_unsigned(fmt, 10, 1, G_MAXUINT, &f, NULL);
    if (!ok)
        set_malformed(err, ld->path, index_lookup(&ld->idx, GROUP_HOSTEL, KEY_FORMAT),
                      "'format' is the format version, a whole number from 1 up, not '%s'.", fmt);
    g_free(fmt);
    if (!ok)
        return false;
    format = (unsigned)f;
    if (format > VMDEF_FORMAT_VERSION) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_VERSION,
                    "%s was written by a newer Hostel (format %u; this one reads format %d and older): "
                    "update Hostel to use this VM.", ld->path, format, VMDEF_FORMAT_VERSION);
        return false;
    }

    char *uuid = NULL;
    if (!ld_string(ld, GROUP_MACHINE, "name", NULL, &d->name, err) ||
        !ld_check(ld, GROUP_MACHINE, "name", vmdef_check_name(d->name, &e), &e, err) ||
        !ld_string(ld, GROUP_MACHINE, "uuid", NULL, &uuid, err))
        return false;
    g_strstrip(uuid);
    ok = ld_check(ld, GROUP_MACHINE, "uuid", check_uuid(uuid, &e), &e, err);
    if (ok)
        g_strlcpy(d->uuid, uuid, sizeof(d->uuid));
    g_free(uuid);
    if (!ok)
        return false;
    for (char *p = d->uuid; *p; p++)
        *p = g_ascii_tolower(*p);

    if (!ld_string(ld, GROUP_MACHINE, "os", "", &d->os, err))
        return false;
    g_strstrip(d->os);
    if (!ld_check(ld, GROUP_MACHINE, "os", check_os(d->os, &e), &e, err))
        return false;
    char def_mem[16], def_cpus[16];
    snprintf(def_mem, sizeof(def_mem), "%u", VMDEF_DEFAULT_MEMORY_MIB);
    snprintf(def_cpus, sizeof(def_cpus), "%u", VMDEF_DEFAULT_CPUS);
    if (!ld_uint(ld, GROUP_MACHINE, "memory", def_mem, VMDEF_MIN_MEMORY_MIB, VMDEF_MAX_MEMORY_MIB,
                 "the memory in MiB", &d->memory_mib, err) ||
        !ld_uint(ld, GROUP_MACHINE, "cpus", def_cpus, 1, VMDEF_MAX_CPUS, "the number of CPUs", &d->cpus, err))
        return false;
    if (!ld_string(ld, GROUP_MACHINE, "firmware", DEFAULT_FIRMWARE, &d->firmware, err) ||
        !ld_check(ld, GROUP_MACHINE, "firmware", check_path_value("firmware", d->firmware, &e), &e, err))
        return false;
    if (!ld_string(ld, GROUP_MACHINE, "boot", DEFAULT_BOOT, &d->boot_order, err))
        return false;
    g_strstrip(d->boot_order);
    if (!ld_check(ld, GROUP_MACHINE, "boot", vmdef_check_boot_order(d->boot_order, &e), &e, err))
        return false;

    if (!load_disks(ld, d, err))
        return false;

    char *cdrom;
    if (!ld_string(ld, GROUP_CDROM, KEY_FILE, "", &cdrom, err))
        return false;
    if (*cdrom && has_control_char(cdrom)) {
        set_malformed(err, ld->path, index_lookup(&ld->idx, GROUP_CDROM, KEY_FILE),
                      "The CD-ROM needs a file name without control characters.");
        g_free(cdrom);
        return false;
    }
    if (*cdrom)
        d->cdrom = cdrom;
    else
        g_free(cdrom);

    if (!ld_string(ld, GROUP_DISPLAY, "type", DEFAULT_DISPLAY, &d->display, err))
        return false;
    g_strstrip(d->display);
    return ld_check(ld, GROUP_DISPLAY, "type", check_display(d->display, &e), &e, err);
}

static void stamp_set(struct vmdef *d, const struct stat *st)
{
    d->stamp.valid = true;
    d->stamp.dev = st->st_dev;
    d->stamp.ino = st->st_ino;
    d->stamp.size = (uint64_t)st->st_size;
    d->stamp.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static bool stamp_matches(const struct vmdef *d, const struct stat *st)
{
    return d->stamp.dev == st->st_dev && d->stamp.ino == st->st_ino && d->stamp.size == (uint64_t)st->st_size &&
           d->stamp.mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* The whole file, at most VMDEF_MAX_FILE_SIZE bytes. */
static char *read_definition(const char *path, size_t *len, struct stat *st, GError **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        g_set_error(err, VMDEF_ERROR, e == ENOENT ? VMDEF_ERROR_NOT_FOUND : VMDEF_ERROR_IO,
                    "Cannot read the VM definition %s: %s.", path, g_strerror(e));
        return NULL;
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_IO, "The VM definition %s is not a regular file.", path);
        close(fd);
        return NULL;
    }
    if (st->st_size > VMDEF_MAX_FILE_SIZE) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_MALFORMED,
                    "%s:1: The file has %lld bytes; a VM definition has at most %d.", path, (long long)st->st_size,
                    VMDEF_MAX_FILE_SIZE);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st->st_size + 1, got = 0;
    char *buf = g_malloc(cap);
    for (;;) {
        if (got == cap - 1) {
            if (cap > VMDEF_MAX_FILE_SIZE) {
                g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_MALFORMED,
                            "%s:1: The file is larger than a VM definition can be (%d bytes).", path,
                            VMDEF_MAX_FILE_SIZE);
                g_free(buf);
                close(fd);
                return NULL;
            }
            cap *= 2;
            buf = g_realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_IO, "Cannot read the VM definition %s: %s.", path,
                        g_strerror(errno));
            g_free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
}

struct vmdef *vmdef_load(const char *path, GError **err)
{
    size_t len;
    struct stat st;
    char *data = read_definition(path, &len, &st, err);
    if (!data)
        return NULL;
    struct loader ld = {
        .path = path,
        .kf = g_key_file_new(),
        .idx.lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    };
    struct vmdef *d = g_new0(struct vmdef, 1);
    bool ok = check_syntax(path, data, len, &ld.idx, err);
    if (ok) {
        GError *e = NULL;
        ok = g_key_file_load_from_data(ld.kf, data, len, G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS,
                                       &e);
        /* The line check above accepts only what GKeyFile accepts, so this
         * is a safety net: GKeyFile's message names no line. */
        if (!ok) {
            g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_MALFORMED, "%s: %s", path, e->message);
            g_error_free(e);
        }
    }
    if (ok)
        ok = load_fields(&ld, d, err);
    g_hash_table_unref(ld.idx.lines);
    g_free(data);
    if (!ok) {
        g_key_file_unref(ld.kf);
        vmdef_free(d);
        return NULL;
    }
    d->kf = ld.kf;
    d->path = g_strdup(path);
    d->dir = g_path_get_dirname(path);
    stamp_set(d, &st);
    return d;
}

void vmdef_free(struct vmdef *d)
{
    if (!d)
        return;
    g_free(d->dir);
    g_free(d->path);
    if (d->kf)
        g_key_file_unref(d->kf);
    g_free(d->name);
    g_free(d->os);
    g_free(d->firmware);
    g_free(d->boot_order);
    for (unsigned i = 0; i < d->ndisks && i < VMDEF_MAX_DISKS; i++)
        g_free(d->disks[i].file);
    g_free(d->cdrom);
    g_free(d->display);
    g_free(d);
}

char *vmdef_resolve(const struct vmdef *d, const char *file)
{
    if (!file)
        return NULL;
    if (g_path_is_absolute(file) || !d->dir)
        return g_strdup(file);
    return g_build_filename(d->dir, file, NULL);
}

/* The caller's fields, checked before anything is written. */
static bool check_fields(const struct vmdef *d, GError **err)
{
    if (!vmdef_check_name(d->name, err) || !check_uuid(d->uuid, err) || !check_os(d->os ? d->os : "", err))
        return false;
    if (d->memory_mib < VMDEF_MIN_MEMORY_MIB || d->memory_mib > VMDEF_MAX_MEMORY_MIB) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "The memory is from %u to %u MiB, not %u.",
                    VMDEF_MIN_MEMORY_MIB, VMDEF_MAX_MEMORY_MIB, d->memory_mib);
        return false;
    }
    if (d->cpus < 1 || d->cpus > VMDEF_MAX_CPUS) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "A VM has from 1 to %d CPUs, not %u.", VMDEF_MAX_CPUS,
                    d->cpus);
        return false;
    }
    if (!check_path_value("firmware", d->firmware, err) || !vmdef_check_boot_order(d->boot_order, err))
        return false;
    if (d->ndisks > VMDEF_MAX_DISKS) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "A VM has at most %d disks, not %u.", VMDEF_MAX_DISKS,
                    d->ndisks);
        return false;
    }
    for (unsigned i = 0; i < d->ndisks; i++)
        if (!check_path_value("disk", d->disks[i].file, err))
            return false;
    if (d->cdrom && !check_path_value("CD-ROM", d->cdrom, err))
        return false;
    return check_display(d->display ? d->display : "", err);
}

/* Names are compared case-insensitively, after Unicode normalisation. */
static char *fold_name(const char *name)
{
    char *n = g_utf8_normalize(name, -1, G_NORMALIZE_NFKC);
    char *f = g_utf8_casefold(n ? n : name, -1);
    g_free(n);
    return f;
}

/* The definitions in the subdirectories of dir. Problems (may be NULL)
 * gets a sentence for each that does not load; with strict, a directory
 * whose name is not its VM's UUID is a problem too. */
static GPtrArray *scan_dir(const char *dir, GPtrArray *problems, bool strict)
{
    GPtrArray *vms = g_ptr_array_new_with_free_func((GDestroyNotify)vmdef_free);
    GDir *gd = g_dir_open(dir, 0, NULL);
    if (!gd)
        return vms;
    const char *entry;
    while ((entry = g_dir_read_name(gd))) {
        if (entry[0] == '.')
            continue;
        char *sub = g_build_filename(dir, entry, NULL);
        char *path = g_build_filename(sub, VMDEF_FILE, NULL);
        struct stat st;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            GError *e = NULL;
            struct vmdef *d = vmdef_load(path, &e);
            if (!d && g_error_matches(e, VMDEF_ERROR, VMDEF_ERROR_NOT_FOUND)) {
                if (problems)
                    g_ptr_array_add(problems, g_strdup_printf("%s holds no %s; remove the directory if it is "
                                                              "left over.", sub, VMDEF_FILE));
            } else if (!d) {
                if (problems)
                    g_ptr_array_add(problems, g_strdup(e->message));
            } else if (strict && g_ascii_strcasecmp(d->uuid, entry) != 0) {
                if (problems)
                    g_ptr_array_add(problems, g_strdup_printf("%s: its uuid %s is not its directory's name; a copied "
                                                              "VM needs a new uuid and a directory of that name.",
                                                              path, d->uuid));
                vmdef_free(d);
            } else {
                g_ptr_array_add(vms, d);
            }
            g_clear_error(&e);
        }
        g_free(path);
        g_free(sub);
    }
    g_dir_close(gd);
    return vms;
}

static gint compare_by_name(gconstpointer a, gconstpointer b)
{
    const struct vmdef *da = *(const struct vmdef *const *)a, *db = *(const struct vmdef *const *)b;
    int c = g_utf8_collate(da->name, db->name);
    return c ? c : strcmp(da->uuid, db->uuid);
}

/* Is name free among the VMs in dir (other than self_uuid)? Those that
 * vmlib_list leaves out do not count. */
static bool check_unique_in(const char *dir, const char *name, const char *self_uuid, GError **err)
{
    GPtrArray *vms = scan_dir(dir, NULL, true);
    char *want = fold_name(name);
    bool ok = true;
    for (guint i = 0; ok && i < vms->len; i++) {
        const struct vmdef *o = g_ptr_array_index(vms, i);
        if (self_uuid && g_ascii_strcasecmp(o->uuid, self_uuid) == 0)
            continue;
        char *have = fold_name(o->name);
        if (strcmp(have, want) == 0) {
            g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_EXISTS, "There is a VM named '%s' already; choose another name.",
                        o->name);
            ok = false;
        }
        g_free(have);
    }
    g_free(want);
    g_ptr_array_unref(vms);
    return ok;
}

static bool fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0 || errno == EINVAL;
    close(fd);
    return ok;
}

/* Replace path with data crash-safely: a temporary file in the same
 * directory, written and fsynced, renamed over path, then the directory
 * fsynced so the rename itself is durable. On failure path is untouched
 * and the temporary file removed. st: the new file's status; *replaced
 * tells whether path is the new file (even if the final directory fsync
 * failed). */
static bool write_atomic(const char *path, const char *data, size_t len, struct stat *st, bool *replaced,
                         GError **err)
{
    *replaced = false;
    char *dir = g_path_get_dirname(path);
    char *base = g_path_get_basename(path);
    char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    const char *step = "create a temporary file in";
    int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0666);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            step = "write";
            ok = false;
        } else {
            done += (size_t)w;
        }
    }
    if (ok && (fsync(fd) < 0 || fstat(fd, st) < 0)) {
        step = "flush";
        ok = false;
    }
    int saved = errno;
    if (fd >= 0 && close(fd) < 0 && ok) {
        saved = errno;
        step = "write";
        ok = false;
    }
    if (ok && rename(tmp, path) < 0) {
        saved = errno;
        step = "replace";
        ok = false;
    }
    *replaced = ok;
    if (ok && !fsync_dir(dir)) {
        /* The new file is in place; only its durability is in doubt. */
        saved = errno;
        step = "flush the directory of";
        ok = false;
    } else if (!ok && fd >= 0) {
        unlink(tmp);
    }
    if (!ok)
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_IO, "Cannot %s %s: %s.", step,
                    strcmp(step, "create a temporary file in") == 0 ? dir : path, g_strerror(saved));
    g_free(tmp);
    g_free(base);
    g_free(dir);
    return ok;
}

/* The fields into the key file; other keys and comments stay as they are. */
static void store_fields(struct vmdef *d)
{
    GKeyFile *kf = d->kf;
    char num[32];
    snprintf(num, sizeof(num), "%d", VMDEF_FORMAT_VERSION);
    g_key_file_set_value(kf, GROUP_HOSTEL, KEY_FORMAT, num);
    g_key_file_set_string(kf, GROUP_MACHINE, "name", d->name);
    g_key_file_set_value(kf, GROUP_MACHINE, "uuid", d->uuid);
    g_key_file_set_string(kf, GROUP_MACHINE, "os", d->os ? d->os : "");
    snprintf(num, sizeof(num), "%u", d->memory_mib);
    g_key_file_set_value(kf, GROUP_MACHINE, "memory", num);
    snprintf(num, sizeof(num), "%u", d->cpus);
    g_key_file_set_value(kf, GROUP_MACHINE, "cpus", num);
    g_key_file_set_string(kf, GROUP_MACHINE, "firmware", d->firmware);
    g_key_file_set_string(kf, GROUP_MACHINE, "boot", d->boot_order);
    for (unsigned i = 0; i < d->ndisks; i++) {
        char group[16];
        snprintf(group, sizeof(group), "disk%u", i);
        g_key_file_set_string(kf, group, KEY_FILE, d->disks[i].file);
    }
    gchar **groups = g_key_file_get_groups(kf, NULL);
    for (gchar **g = groups; *g; g++) {
        int n = disk_group_index(*g);
        if (n >= 0 && (unsigned)n >= d->ndisks)
            g_key_file_remove_group(kf, *g, NULL);
    }
    g_strfreev(groups);
    g_key_file_set_string(kf, GROUP_CDROM, KEY_FILE, d->cdrom ? d->cdrom : "");
    g_key_file_set_string(kf, GROUP_DISPLAY, "type", d->display);
}

bool vmdef_save(struct vmdef *d, GError **err)
{
    if (!d || !d->kf || !d->path || !d->dir) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "This VM definition has no file to be saved to.");
        return false;
    }
    if (!check_fields(d, err))
        return false;
    char *parent = g_path_get_dirname(d->dir);
    bool ok = check_unique_in(parent, d->name, d->uuid, err);
    g_free(parent);
    if (!ok)
        return false;
    struct stat st;
    if (lstat(d->path, &st) == 0) {
        if (!d->stamp.valid || !stamp_matches(d, &st)) {
            g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_CHANGED,
                        "%s changed on disk since it was read; load it again before saving.", d->path);
            return false;
        }
    } else if (d->stamp.valid) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_CHANGED, "%s was removed since it was read; nothing was saved.",
                    d->path);
        return false;
    }
    store_fields(d);
    gsize len;
    char *data = g_key_file_to_data(d->kf, &len, NULL);
    bool replaced;
    ok = write_atomic(d->path, data, len, &st, &replaced, err);
    g_free(data);
    if (replaced)
        stamp_set(d, &st);
    return ok;
}

char *vmlib_machines_dir(void)
{
    /* XDG base directory spec: a relative XDG_DATA_HOME is ignored. */
    const char *data = g_getenv("XDG_DATA_HOME");
    if (data && g_path_is_absolute(data))
        return g_build_filename(data, "hostel", "machines", NULL);
    return g_build_filename(g_get_home_dir(), ".local", "share", "hostel", "machines", NULL);
}

GPtrArray *vmlib_list(GPtrArray *problems)
{
    char *dir = vmlib_machines_dir();
    GPtrArray *vms = scan_dir(dir, problems, true);
    g_free(dir);
    g_ptr_array_sort(vms, compare_by_name);
    return vms;
}

struct vmdef *vmlib_find(const char *name_or_uuid, GError **err)
{
    if (g_uuid_string_is_valid(name_or_uuid)) {
        char *lower = g_ascii_strdown(name_or_uuid, -1);
        char *dir = vmlib_machines_dir();
        char *path = g_build_filename(dir, lower, VMDEF_FILE, NULL);
        GError *e = NULL;
        struct vmdef *d = vmdef_load(path, &e);
        g_free(path);
        g_free(dir);
        g_free(lower);
        if (d || !g_error_matches(e, VMDEF_ERROR, VMDEF_ERROR_NOT_FOUND)) {
            if (e)
                g_propagate_error(err, e);
            return d;
        }
        g_error_free(e);
    }
    GPtrArray *vms = vmlib_list(NULL);
    char *want = fold_name(name_or_uuid);
    int found = -1;
    unsigned matches = 0;
    for (guint i = 0; i < vms->len; i++) {
        const struct vmdef *d = g_ptr_array_index(vms, i);
        char *have = fold_name(d->name);
        if (strcmp(have, want) == 0) {
            found = (int)i;
            matches++;
        }
        g_free(have);
    }
    g_free(want);
    struct vmdef *d = NULL;
    if (matches == 1)
        d = g_ptr_array_steal_index(vms, (guint)found);
    else if (matches > 1)
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_EXISTS, "Several VMs are named '%s'; give the UUID instead.",
                    name_or_uuid);
    else
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_NOT_FOUND, "There is no VM named '%s'.", name_or_uuid);
    g_ptr_array_unref(vms);
    return d;
}

bool vmlib_check_name(const char *name, const char *self_uuid, GError **err)
{
    if (!vmdef_check_name(name, err))
        return false;
    char *dir = vmlib_machines_dir();
    bool ok = check_unique_in(dir, name, self_uuid, err);
    g_free(dir);
    return ok;
}

/* Remove name (relative to the directory parentfd) and everything below
 * it, without following symbolic links. */
static int remove_tree_at(int parentfd, const char *name, unsigned depth)
{
    struct stat st;
    if (depth > MAX_TREE_DEPTH) {
        errno = ELOOP;
        return -1;
    }
    if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(parentfd, name, 0);
    int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *dp = fdopendir(fd);
    if (!dp) {
        close(fd);
        return -1;
    }
    int rc = 0, saved = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (remove_tree_at(dirfd(dp), e->d_name, depth + 1) < 0 && !rc) {
            rc = -1;
            saved = errno;
        }
    }
    closedir(dp);
    if (rc < 0) {
        errno = saved;
        return -1;
    }
    return unlinkat(parentfd, name, AT_REMOVEDIR);
}

static bool remove_tree(const char *path, GError **err)
{
    char *parent = g_path_get_dirname(path);
    char *base = g_path_get_basename(path);
    int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = pfd >= 0 && remove_tree_at(pfd, base, 0) == 0;
    if (!ok)
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_IO, "Cannot remove %s: %s.", path, g_strerror(errno));
    if (pfd >= 0) {
        fsync(pfd);
        close(pfd);
    }
    g_free(base);
    g_free(parent);
    return ok;
}

/* A sparse raw image: the file has the size, but no blocks until the
 * guest writes. */
static bool create_disk_image(const char *path, uint64_t size, GError **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    bool ok = fd >= 0 && ftruncate(fd, (off_t)size) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0 && close(fd) < 0 && ok) {
        saved = errno;
        ok = false;
    }
    if (!ok) {
        if (fd >= 0)
            unlink(path);
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_IO, "Cannot create the disk image %s: %s.", path,
                    g_strerror(saved));
    }
    return ok;
}

static bool check_new(const struct vmlib_new *n, GError **err)
{
    if (!vmlib_check_name(n->name, NULL, err) || (n->os && !check_os(n->os, err)))
        return false;
    if (n->disk_size && (n->disk_size % 512 || n->disk_size < VMDEF_MIN_DISK_SIZE ||
                         n->disk_size > VMDEF_MAX_DISK_SIZE)) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID,
                    "A disk is a multiple of 512 bytes from 1 MiB to 16 TiB, not %" G_GUINT64_FORMAT " bytes.",
                    n->disk_size);
        return false;
    }
    if (n->iso) {
        struct stat st;
        if (!*n->iso || stat(n->iso, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
            g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID, "The ISO image '%s' does not exist or is not a file.",
                        n->iso);
            return false;
        }
    }
    return true;
}

struct vmdef *vmlib_create(const struct vmlib_new *n, GError **err)
{
    if (!check_new(n, err))
        return NULL;
    struct vmdef *d = g_new0(struct vmdef, 1);
    d->name = g_strdup(n->name);
    d->os = g_strdup(n->os ? n->os : "");
    d->memory_mib = n->memory_mib ? n->memory_mib : VMDEF_DEFAULT_MEMORY_MIB;
    d->cpus = n->cpus ? n->cpus : VMDEF_DEFAULT_CPUS;
    d->firmware = g_strdup(DEFAULT_FIRMWARE);
    d->boot_order = g_strdup(DEFAULT_BOOT);
    d->display = g_strdup(DEFAULT_DISPLAY);
    if (n->iso)
        d->cdrom = g_canonicalize_filename(n->iso, NULL);
    if (n->disk_size)
        d->disks[d->ndisks++].file = g_strdup(VMDEF_DISK_IMAGE);
    char *uuid = g_uuid_string_random();
    g_strlcpy(d->uuid, uuid, sizeof(d->uuid));
    g_free(uuid);
    /* Check the numbers before anything is created. */
    if (!check_fields(d, err)) {
        vmdef_free(d);
        return NULL;
    }

    char *machines = vmlib_machines_dir();
    if (g_mkdir_with_parents(machines, 0700) < 0) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_IO, "Cannot create %s: %s.", machines, g_strerror(errno));
        g_free(machines);
        vmdef_free(d);
        return NULL;
    }
    d->dir = g_build_filename(machines, d->uuid, NULL);
    d->path = g_build_filename(d->dir, VMDEF_FILE, NULL);
    g_free(machines);
    if (mkdir(d->dir, 0700) < 0) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_IO, "Cannot create %s: %s.", d->dir, g_strerror(errno));
        vmdef_free(d);
        return NULL;
    }
    d->kf = g_key_file_new();
    g_key_file_set_value(d->kf, GROUP_HOSTEL, KEY_FORMAT, "1");
    g_key_file_set_comment(d->kf, NULL, NULL,
                           " A Hostel virtual machine. The format is described in Hostel's\n"
                           " docs/vm-definition.md; comments and unknown keys are kept.", NULL);
    bool ok = true;
    if (n->disk_size) {
        char *image = g_build_filename(d->dir, VMDEF_DISK_IMAGE, NULL);
        ok = create_disk_image(image, n->disk_size, err);
        g_free(image);
    }
    if (ok)
        ok = vmdef_save(d, err);
    if (!ok) {
        remove_tree(d->dir, NULL);
        vmdef_free(d);
        return NULL;
    }
    return d;
}

bool vmlib_delete(struct vmdef *d, GError **err)
{
    char *machines = vmlib_machines_dir();
    char *want = g_build_filename(machines, d->uuid, NULL);
    char *have = d->dir ? g_canonicalize_filename(d->dir, NULL) : NULL;
    char *want_c = g_canonicalize_filename(want, NULL);
    bool ok = have && strcmp(have, want_c) == 0;
    if (!ok)
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_INVALID,
                    "Only a VM in %s can be deleted, and %s is not one; remove it by hand if you mean to.", machines,
                    d->dir ? d->dir : "this definition");
    g_free(want_c);
    g_free(have);
    g_free(want);
    g_free(machines);
    if (!ok)
        return false;
    enum vmrun_state s = vmrun_state(d);
    if (s != VMRUN_STOPPED) {
        g_set_error(err, VMDEF_ERROR, VMDEF_ERROR_RUNNING, "The VM '%s' is %s; shut it down before deleting it.",
                    d->name, vmrun_state_name(s));
        return false;
    }
    return remove_tree(d->dir, err);
}
