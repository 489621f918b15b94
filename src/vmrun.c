/* Running VMs: hostel-vm's command line from a definition, starting it
 * detached, and its control socket (org.hostel.VM1, peer-to-peer D-Bus;
 * data/dbus/org.hostel.VM1.xml). */
#include "vmrun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* How many of the log's last lines make the error of a failed start. */
#define LOG_TAIL_LINES 4
#define LOG_TAIL_BYTES 2048
/* After SIGTERM, how long a hostel-vm that never answered gets to exit. */
#define STOP_GRACE_MS 2000

char *vmrun_runtime_dir(void)
{
    const char *rt = g_getenv("XDG_RUNTIME_DIR");
    if (rt && g_path_is_absolute(rt))
        return g_build_filename(rt, "hostel", NULL);
    return g_strdup_printf("/tmp/hostel-%u", (unsigned)geteuid());
}

char *vmrun_socket_path(const struct vmdef *d)
{
    char *dir = vmrun_runtime_dir();
    char *name = g_strdup_printf("%s.sock", d->uuid);
    char *path = g_build_filename(dir, name, NULL);
    g_free(name);
    g_free(dir);
    return path;
}

char *vmrun_log_path(const struct vmdef *d)
{
    return g_build_filename(d->dir, VMRUN_LOG_FILE, NULL);
}

const char *vmrun_state_name(enum vmrun_state s)
{
    switch (s) {
    case VMRUN_STOPPED: return "stopped";
    case VMRUN_RUNNING: return "running";
    case VMRUN_PAUSED: return "paused";
    case VMRUN_UNRESPONSIVE: return "unresponsive";
    }
    return "unknown";
}

/* Create the runtime directory, or accept an existing one only if it is
 * a real directory (not a link) that is ours and closed to everyone else:
 * in /tmp anyone could have made it first. */
static bool ensure_runtime_dir(const char *dir, GError **err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno), "Cannot create the runtime directory %s: %s.",
                    dir, g_strerror(errno));
        return false;
    }
    struct stat st;
    if (lstat(dir, &st) < 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno), "Cannot use the runtime directory %s: %s.", dir,
                    g_strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "The runtime directory %s is not a private directory of yours (it must be a directory owned "
                    "by uid %u with mode 0700); remove it and try again.", dir, (unsigned)geteuid());
        return false;
    }
    return true;
}

static bool socket_path_fits(const char *sock, GError **err)
{
    if (strlen(sock) < sizeof(((struct sockaddr_un *)NULL)->sun_path))
        return true;
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                "The control socket path %s is too long for a unix socket; set XDG_RUNTIME_DIR to a shorter "
                "directory.", sock);
    return false;
}

static bool is_program(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static char *find_hostel_vm(const char *given, GError **err)
{
    const char *want = given && *given ? given : g_getenv("HOSTEL_VM");
    if (want && *want) {
        char *found = NULL;
        if (strchr(want, '/'))
            found = is_program(want) ? g_canonicalize_filename(want, NULL) : NULL;
        else
            found = g_find_program_in_path(want);
        if (!found)
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                        "The hostel-vm program '%s' does not exist or is not executable.", want);
        return found;
    }
    char *self = g_file_read_link("/proc/self/exe", NULL);
    if (self) {
        char *dir = g_path_get_dirname(self);
        char *beside = g_build_filename(dir, "hostel-vm", NULL);
        g_free(dir);
        g_free(self);
        if (is_program(beside))
            return beside;
        g_free(beside);
    }
    char *found = g_find_program_in_path("hostel-vm");
    if (!found)
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "hostel-vm was not found: install Hostel, or set HOSTEL_VM to the program.");
    return found;
}

char **vmrun_argv(const struct vmdef *d, const char *hostel_vm, GError **err)
{
    if (d->ndisks > VMRUN_MAX_DISKS) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "The VM '%s' has %u disks, and hostel-vm runs at most %u beside the CD-ROM drive; remove "
                    "[disk%u] and up from %s.", d->name, d->ndisks, VMRUN_MAX_DISKS, VMRUN_MAX_DISKS,
                    d->path ? d->path : VMDEF_FILE);
        return NULL;
    }
    char *sock = vmrun_socket_path(d);
    if (!socket_path_fits(sock, err)) {
        g_free(sock);
        return NULL;
    }
    char *prog = find_hostel_vm(hostel_vm, err);
    if (!prog) {
        g_free(sock);
        return NULL;
    }
    GPtrArray *a = g_ptr_array_new();
    g_ptr_array_add(a, prog);
    g_ptr_array_add(a, g_strdup("--memory"));
    g_ptr_array_add(a, g_strdup_printf("%u", d->memory_mib));
    g_ptr_array_add(a, g_strdup("--cpus"));
    g_ptr_array_add(a, g_strdup_printf("%u", d->cpus));
    for (unsigned i = 0; i < d->ndisks; i++) {
        g_ptr_array_add(a, g_strdup("--disk"));
        g_ptr_array_add(a, vmdef_resolve(d, d->disks[i].file));
    }
    if (d->cdrom && *d->cdrom) {
        g_ptr_array_add(a, g_strdup("--cdrom"));
        g_ptr_array_add(a, vmdef_resolve(d, d->cdrom));
    }
    g_ptr_array_add(a, g_strdup("--boot"));
    g_ptr_array_add(a, g_strdup(d->boot_order));
    if (d->firmware && strcmp(d->firmware, "bios") != 0) {
        g_ptr_array_add(a, g_strdup("--firmware"));
        g_ptr_array_add(a, vmdef_resolve(d, d->firmware));
    }
    g_ptr_array_add(a, g_strdup("--uuid"));
    g_ptr_array_add(a, g_strdup(d->uuid));
    g_ptr_array_add(a, g_strdup("--control"));
    g_ptr_array_add(a, sock);
    g_ptr_array_add(a, g_strdup("--serial"));
    g_ptr_array_add(a, g_strdup("none"));
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* Cancels a blocking GIO call when its deadline passes: GDBus's
 * synchronous constructor has no timeout of its own. */
struct deadline_timer {
    GMutex lock;
    GCond cond;
    bool done;
    gint64 deadline;
    GCancellable *cancel;
};

static gpointer deadline_thread(gpointer opaque)
{
    struct deadline_timer *t = opaque;
    g_mutex_lock(&t->lock);
    while (!t->done) {
        if (!g_cond_wait_until(&t->cond, &t->lock, t->deadline)) {
            if (!t->done)
                g_cancellable_cancel(t->cancel);
            break;
        }
    }
    g_mutex_unlock(&t->lock);
    return NULL;
}

/* Connect and authenticate to the socket within timeout_ms. Errors keep
 * GIO's codes (G_IO_ERROR_TIMED_OUT for the deadline). */
static GDBusConnection *connect_socket(const char *sock, unsigned timeout_ms, GError **err)
{
    char *esc = g_dbus_address_escape_value(sock);
    char *address = g_strdup_printf("unix:path=%s", esc);
    g_free(esc);
    struct deadline_timer t = { .deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000,
                                .cancel = g_cancellable_new() };
    g_mutex_init(&t.lock);
    g_cond_init(&t.cond);
    GThread *th = g_thread_new("vmrun-deadline", deadline_thread, &t);
    GError *e = NULL;
    GDBusConnection *c = g_dbus_connection_new_for_address_sync(
        address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, t.cancel, &e);
    g_mutex_lock(&t.lock);
    t.done = true;
    g_cond_signal(&t.cond);
    g_mutex_unlock(&t.lock);
    g_thread_join(th);
    if (!c) {
        if (g_cancellable_is_cancelled(t.cancel)) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s did not answer within %u ms.", sock, timeout_ms);
            g_error_free(e);
        } else {
            g_propagate_error(err, e);
        }
    }
    g_object_unref(t.cancel);
    g_mutex_clear(&t.lock);
    g_cond_clear(&t.cond);
    g_free(address);
    return c;
}

static void close_connection(GDBusConnection *c)
{
    g_dbus_connection_close_sync(c, NULL, NULL);
    g_object_unref(c);
}

static bool is_not_running(const GError *e)
{
    return g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
           g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

GDBusConnection *vmrun_connect(const struct vmdef *d, unsigned timeout_ms, GError **err)
{
    char *sock = vmrun_socket_path(d);
    struct stat st;
    GDBusConnection *c = NULL;
    GError *e = NULL;
    if (lstat(sock, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "The VM '%s' is not running.", d->name);
    } else if (!(c = connect_socket(sock, timeout_ms, &e))) {
        if (is_not_running(e))
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "The VM '%s' is not running.", d->name);
        else if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "The VM '%s' does not answer on its control socket %s (waited %u ms).", d->name, sock,
                        timeout_ms);
        else
            g_set_error(err, e->domain, e->code, "Cannot connect to the VM '%s': %s", d->name, e->message);
        g_error_free(e);
    }
    g_free(sock);
    return c;
}

static int call_timeout(unsigned timeout_ms)
{
    return timeout_ms ? (int)MIN(timeout_ms, (unsigned)G_MAXINT) : -1;
}

static bool check_reply_type(const char *reply_type, GError **err)
{
    if (!reply_type || g_variant_type_string_is_valid(reply_type))
        return true;
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' is not a D-Bus type.", reply_type);
    return false;
}

GVariant *vmrun_call(GDBusConnection *c, const char *method, GVariant *args, const char *reply_type,
                     unsigned timeout_ms, GError **err)
{
    return vmrun_call_with_fds(c, method, args, reply_type, NULL, timeout_ms, err);
}

GVariant *vmrun_call_with_fds(GDBusConnection *c, const char *method, GVariant *args, const char *reply_type,
                              GUnixFDList **fds, unsigned timeout_ms, GError **err)
{
    if (fds)
        *fds = NULL;
    if (!check_reply_type(reply_type, err)) {
        if (args)
            g_variant_unref(g_variant_ref_sink(args));
        return NULL;
    }
    GError *e = NULL;
    GVariant *r = g_dbus_connection_call_with_unix_fd_list_sync(
        c, NULL, VMRUN_OBJECT_PATH, VMRUN_INTERFACE, method, args, reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
        G_DBUS_CALL_FLAGS_NONE, call_timeout(timeout_ms), NULL, fds, NULL, &e);
    if (!r) {
        g_dbus_error_strip_remote_error(e);
        g_propagate_error(err, e);
    }
    return r;
}

char *vmrun_get_state(GDBusConnection *c, unsigned timeout_ms, GError **err)
{
    GError *e = NULL;
    GVariant *r = g_dbus_connection_call_sync(c, NULL, VMRUN_OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get",
                                              g_variant_new("(ss)", VMRUN_INTERFACE, "State"), G_VARIANT_TYPE("(v)"),
                                              G_DBUS_CALL_FLAGS_NONE, call_timeout(timeout_ms), NULL, &e);
    if (!r) {
        g_dbus_error_strip_remote_error(e);
        g_propagate_error(err, e);
        return NULL;
    }
    GVariant *v;
    g_variant_get(r, "(v)", &v);
    char *state = NULL;
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
        state = g_variant_dup_string(v, NULL);
    else
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The VM's State is a %s, not a string.",
                    g_variant_get_type_string(v));
    g_variant_unref(v);
    g_variant_unref(r);
    return state;
}

static enum vmrun_state state_at(const char *sock)
{
    struct stat st;
    if (lstat(sock, &st) < 0 || !S_ISSOCK(st.st_mode))
        return VMRUN_STOPPED;
    GError *e = NULL;
    GDBusConnection *c = connect_socket(sock, VMRUN_STATE_TIMEOUT_MS, &e);
    if (!c) {
        enum vmrun_state s = is_not_running(e) ? VMRUN_STOPPED : VMRUN_UNRESPONSIVE;
        g_error_free(e);
        return s;
    }
    char *name = vmrun_get_state(c, VMRUN_STATE_TIMEOUT_MS, NULL);
    close_connection(c);
    enum vmrun_state s = VMRUN_UNRESPONSIVE;
    if (name && strcmp(name, "paused") == 0)
        s = VMRUN_PAUSED;
    else if (name && strcmp(name, "stopped") == 0)
        s = VMRUN_STOPPED;
    else if (name)
        s = VMRUN_RUNNING;      /* "running", or a state a newer hostel-vm added */
    g_free(name);
    return s;
}

enum vmrun_state vmrun_state(const struct vmdef *d)
{
    char *sock = vmrun_socket_path(d);
    enum vmrun_state s = state_at(sock);
    g_free(sock);
    return s;
}

/* The last lines the log got after offset start, joined by spaces. */
static char *log_tail(const char *log, off_t start)
{
    int fd = open(log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return g_strdup("");
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end - start > LOG_TAIL_BYTES ? end - LOG_TAIL_BYTES : start;
    char buf[LOG_TAIL_BYTES + 1];
    ssize_t n = from >= 0 && end > from ? pread(fd, buf, (size_t)(end - from), from) : 0;
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    char *text = g_utf8_make_valid(buf, -1);
    gchar **lines = g_strsplit(text, "\n", 0);
    g_free(text);
    GPtrArray *keep = g_ptr_array_new();
    guint total = g_strv_length(lines);
    /* The first line may be cut in the middle when the tail was clipped. */
    guint first = from > start ? 1 : 0;
    for (guint i = total; i > first && keep->len < LOG_TAIL_LINES; i--) {
        g_strstrip(lines[i - 1]);
        if (*lines[i - 1])
            g_ptr_array_insert(keep, 0, lines[i - 1]);
    }
    g_ptr_array_add(keep, NULL);
    char *joined = g_strjoinv(" ", (gchar **)keep->pdata);
    g_ptr_array_free(keep, TRUE);
    g_strfreev(lines);
    return joined;
}

static void child_setup(gpointer unused)
{
    /* Its own session: the VM outlives the terminal and the GUI. */
    setsid();
}

static void reap_child(GPid pid, gint status, gpointer unused)
{
    g_spawn_close_pid(pid);
}

static char *exit_description(int status)
{
    if (WIFSIGNALED(status))
        return g_strdup_printf("was killed by signal %d", WTERMSIG(status));
    return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
}

/* hostel-vm never answered: stop it, and wait for it. */
static void stop_child(GPid pid)
{
    kill(pid, SIGTERM);
    gint64 until = g_get_monotonic_time() + STOP_GRACE_MS * 1000;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (g_get_monotonic_time() >= until) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        g_usleep(10000);
    }
    g_spawn_close_pid(pid);
}

static int open_log(const struct vmdef *d, char **const argv, off_t *start, GError **err)
{
    char *log = vmrun_log_path(d);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        g_set_error(err, G_IO_ERROR, g_io_error_from_errno(errno), "Cannot open the VM's log %s: %s.", log,
                    g_strerror(errno));
        g_free(log);
        return -1;
    }
    g_free(log);
    GDateTime *now = g_date_time_new_now_local();
    char *when = g_date_time_format_iso8601(now);
    g_date_time_unref(now);
    GString *head = g_string_new(NULL);
    g_string_append_printf(head, "--- %s: starting", when);
    for (char **a = argv; *a; a++) {
        char *q = g_shell_quote(*a);
        g_string_append_printf(head, " %s", q);
        g_free(q);
    }
    g_string_append_c(head, '\n');
    g_free(when);
    /* Best effort: the header only helps the reader of the log. */
    if (write(fd, head->str, head->len) < 0)
        g_string_truncate(head, 0);
    g_string_free(head, TRUE);
    *start = lseek(fd, 0, SEEK_END);
    return fd;
}

bool vmrun_start(const struct vmdef *d, const char *hostel_vm, unsigned timeout_ms, GError **err)
{
    if (!timeout_ms)
        timeout_ms = VMRUN_DEFAULT_START_TIMEOUT_MS;
    char **argv = vmrun_argv(d, hostel_vm, err);
    if (!argv)
        return false;
    char *rt = vmrun_runtime_dir();
    char *sock = vmrun_socket_path(d);
    char *log = vmrun_log_path(d);
    bool ok = ensure_runtime_dir(rt, err);
    struct stat st;
    if (ok) {
        enum vmrun_state s = state_at(sock);
        if (s != VMRUN_STOPPED) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_EXISTS, "The VM '%s' is already %s.", d->name,
                        s == VMRUN_UNRESPONSIVE ? "running (and does not answer)" : "running");
            ok = false;
        } else if (lstat(sock, &st) == 0) {
            /* Left by a hostel-vm that was killed; nobody listens on it. */
            if (S_ISSOCK(st.st_mode)) {
                unlink(sock);
            } else {
                g_set_error(err, G_IO_ERROR, G_IO_ERROR_EXISTS,
                            "%s is in the way of the VM's control socket; remove it.", sock);
                ok = false;
            }
        }
    }
    off_t start = 0;
    int logfd = ok ? open_log(d, argv, &start, err) : -1;
    ok = ok && logfd >= 0;
    GPid pid = 0;
    if (ok) {
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        GError *e = NULL;
        ok = devnull >= 0 &&
             g_spawn_async_with_pipes_and_fds(d->dir, (const gchar *const *)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                              child_setup, NULL, devnull, logfd, logfd, NULL, NULL, 0, &pid, NULL,
                                              NULL, NULL, &e);
        if (!ok) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot start %s: %s", argv[0],
                        e ? e->message : g_strerror(errno));
            g_clear_error(&e);
        }
        if (devnull >= 0)
            close(devnull);
    }
    if (logfd >= 0)
        close(logfd);

    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gulong pause_us = 5000;
    while (ok) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            char *tail = log_tail(log, start);
            char *how = exit_description(status);
            if (*tail)
                g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "The VM '%s' did not start: %s (hostel-vm %s; "
                            "its log is %s)", d->name, tail, how, log);
            else
                g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "The VM '%s' did not start: hostel-vm %s without a message (its log is %s).", d->name,
                            how, log);
            g_free(how);
            g_free(tail);
            g_spawn_close_pid(pid);
            ok = false;
            break;
        }
        gint64 now = g_get_monotonic_time();
        if (lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && now < deadline) {
            unsigned left = (unsigned)MAX((deadline - now) / 1000, 1);
            GDBusConnection *c = connect_socket(sock, MIN(left, VMRUN_STATE_TIMEOUT_MS), NULL);
            char *state = c ? vmrun_get_state(c, MIN(left, VMRUN_STATE_TIMEOUT_MS), NULL) : NULL;
            bool answered = state != NULL;
            if (c)
                close_connection(c);
            g_free(state);
            if (answered) {
                g_child_watch_add(pid, reap_child, NULL);
                break;
            }
        }
        if (g_get_monotonic_time() >= deadline) {
            stop_child(pid);
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "The VM '%s' did not answer on its control socket within %u ms and was stopped; see %s.",
                        d->name, timeout_ms, log);
            ok = false;
            break;
        }
        g_usleep(pause_us);
        pause_us = MIN(pause_us * 2, 100000);
    }
    g_free(log);
    g_free(sock);
    g_free(rt);
    g_strfreev(argv);
    return ok;
}
