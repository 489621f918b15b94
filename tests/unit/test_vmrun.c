/* Running VMs: hostel-vm's command line, the runtime directory, the state
 * of a VM from its control socket (missing, stale, silent, answering),
 * and starting hostel-vm: fake ones that fail, hang, or serve a minimal
 * org.hostel.VM1 (this program itself, run with HOSTEL_TEST_FAKE_VM set).
 * No KVM and no real VM anywhere. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmrun.h"

/* ---- The fake hostel-vm: serves State, Pause, Resume, PowerOff. ---- */

static const char fake_xml[] =
    "<node><interface name='org.hostel.VM1'>"
    "<property name='State' type='s' access='read'/>"
    "<method name='Pause'/><method name='Resume'/><method name='PowerOff'/>"
    "</interface></node>";

struct fake_vm {
    GMainLoop *loop;
    GDBusNodeInfo *node;
    GPtrArray *connections;
    const char *state;
};

static gboolean fake_quit(gpointer opaque)
{
    g_main_loop_quit(((struct fake_vm *)opaque)->loop);
    return G_SOURCE_REMOVE;
}

static void fake_method(GDBusConnection *conn, const gchar *sender, const gchar *path, const gchar *iface,
                        const gchar *method, GVariant *params, GDBusMethodInvocation *inv, gpointer opaque)
{
    struct fake_vm *vm = opaque;
    if (strcmp(method, "Pause") == 0)
        vm->state = "paused";
    else if (strcmp(method, "Resume") == 0)
        vm->state = "running";
    else if (strcmp(method, "PowerOff") == 0)
        g_timeout_add(50, fake_quit, vm);
    g_dbus_method_invocation_return_value(inv, NULL);
}

static GVariant *fake_get_property(GDBusConnection *conn, const gchar *sender, const gchar *path,
                                   const gchar *iface, const gchar *name, GError **error, gpointer opaque)
{
    return g_variant_new_string(((struct fake_vm *)opaque)->state);
}

static const GDBusInterfaceVTable fake_vtable = { .method_call = fake_method, .get_property = fake_get_property };

static gboolean fake_new_connection(GDBusServer *server, GDBusConnection *conn, gpointer opaque)
{
    struct fake_vm *vm = opaque;
    g_dbus_connection_register_object(conn, VMRUN_OBJECT_PATH, vm->node->interfaces[0], &fake_vtable, vm, NULL,
                                      NULL);
    g_ptr_array_add(vm->connections, g_object_ref(conn));
    return TRUE;
}

static int run_fake_vm(int argc, char **argv)
{
    const char *control = NULL;
    fprintf(stderr, "fake-vm:");
    for (int i = 1; i < argc; i++) {
        fprintf(stderr, " %s", argv[i]);
        if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
            control = argv[i + 1];
    }
    fprintf(stderr, "\n");
    if (!control)
        return 64;
    struct fake_vm vm = { .loop = g_main_loop_new(NULL, FALSE), .state = "running",
                          .node = g_dbus_node_info_new_for_xml(fake_xml, NULL),
                          .connections = g_ptr_array_new_with_free_func(g_object_unref) };
    char *esc = g_dbus_address_escape_value(control);
    char *address = g_strdup_printf("unix:path=%s", esc);
    char *guid = g_dbus_generate_guid();
    GError *err = NULL;
    GDBusServer *server = g_dbus_server_new_sync(address, G_DBUS_SERVER_FLAGS_AUTHENTICATION_REQUIRE_SAME_USER,
                                                 guid, NULL, NULL, &err);
    if (!server) {
        fprintf(stderr, "fake-vm: %s\n", err->message);
        return 8;
    }
    g_signal_connect(server, "new-connection", G_CALLBACK(fake_new_connection), &vm);
    g_dbus_server_start(server);
    /* Never outlive the test. */
    g_timeout_add_seconds(30, fake_quit, &vm);
    g_main_loop_run(vm.loop);
    g_dbus_server_stop(server);
    unlink(control);
    fprintf(stderr, "fake-vm: powered off\n");
    return 0;
}

/* ---- Fixture ---- */

struct fixture {
    char dir[64];
    char *runtime;              /* XDG_RUNTIME_DIR */
    char *iso;
    struct vmdef *vm;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/hostel-vmrun-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char *data = g_build_filename(f->dir, "data", NULL);
    g_setenv("XDG_DATA_HOME", data, TRUE);
    g_free(data);
    f->runtime = g_build_filename(f->dir, "run", NULL);
    assert_int_equal(mkdir(f->runtime, 0700), 0);
    g_setenv("XDG_RUNTIME_DIR", f->runtime, TRUE);
    g_unsetenv("HOSTEL_VM");
    f->iso = g_build_filename(f->dir, "boot.iso", NULL);
    assert_true(g_file_set_contents(f->iso, "iso", -1, NULL));
    GError *err = NULL;
    f->vm = vmlib_create(&(struct vmlib_new){ .name = "Runner", .memory_mib = 768, .cpus = 3,
                                              .disk_size = 4u << 20, .iso = f->iso }, &err);
    assert_null(err);
    assert_non_null(f->vm);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vmdef_free(f->vm);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    g_free(f->runtime);
    g_free(f->iso);
    free(f);
    return 0;
}

static char *write_script(const struct fixture *f, const char *name, const char *body)
{
    char *path = g_build_filename(f->dir, name, NULL);
    char *text = g_strdup_printf("#!/bin/sh\n%s", body);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    assert_int_equal(chmod(path, 0755), 0);
    g_free(text);
    return path;
}

/* The value after option opt, which must appear exactly once. */
static const char *arg_after(char **argv, const char *opt)
{
    const char *value = NULL;
    unsigned seen = 0;
    for (char **a = argv + 1; *a; a++) {
        if (strcmp(*a, opt) == 0) {
            seen++;
            value = a[1];
        }
    }
    if (seen > 1)
        fail_msg("%s appears %u times", opt, seen);
    return value;
}

static char *read_log(const struct fixture *f)
{
    char *log = vmrun_log_path(f->vm);
    char *text = NULL;
    if (!g_file_get_contents(log, &text, NULL, NULL))
        text = g_strdup("");
    g_free(log);
    return text;
}

static unsigned count_of(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A unix socket at path: listening (but never accepting) or, with
 * listening false, bound and closed, as a killed hostel-vm leaves it. */
static int make_socket(const char *path, bool listening)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    assert_true(strlen(path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (listening) {
        assert_int_equal(listen(fd, 16), 0);
        return fd;
    }
    close(fd);
    return -1;
}

static void make_runtime_dir(const struct fixture *f)
{
    char *rt = vmrun_runtime_dir();
    assert_int_equal(g_mkdir_with_parents(rt, 0700), 0);
    g_free(rt);
}

/* ---- Tests ---- */

static void test_paths(void **state)
{
    struct fixture *f = *state;
    char *rt = vmrun_runtime_dir();
    char *want = g_build_filename(f->runtime, "hostel", NULL);
    assert_string_equal(rt, want);
    char *sock = vmrun_socket_path(f->vm);
    char *want_sock = g_strdup_printf("%s/%s.sock", want, f->vm->uuid);
    assert_string_equal(sock, want_sock);
    char *log = vmrun_log_path(f->vm);
    char *want_log = g_build_filename(f->vm->dir, "hostel-vm.log", NULL);
    assert_string_equal(log, want_log);
    g_free(want_log);
    g_free(log);
    g_free(want_sock);
    g_free(sock);
    g_free(want);
    g_free(rt);
    /* Without XDG_RUNTIME_DIR (or with a relative one): /tmp/hostel-UID. */
    char *fallback = g_strdup_printf("/tmp/hostel-%u", (unsigned)geteuid());
    g_unsetenv("XDG_RUNTIME_DIR");
    rt = vmrun_runtime_dir();
    assert_string_equal(rt, fallback);
    g_free(rt);
    g_setenv("XDG_RUNTIME_DIR", "relative/dir", TRUE);
    rt = vmrun_runtime_dir();
    assert_string_equal(rt, fallback);
    g_free(rt);
    g_free(fallback);
    g_setenv("XDG_RUNTIME_DIR", f->runtime, TRUE);
    assert_string_equal(vmrun_state_name(VMRUN_STOPPED), "stopped");
    assert_string_equal(vmrun_state_name(VMRUN_RUNNING), "running");
    assert_string_equal(vmrun_state_name(VMRUN_PAUSED), "paused");
    assert_string_equal(vmrun_state_name(VMRUN_UNRESPONSIVE), "unresponsive");
}

static void test_argv(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    char **argv = vmrun_argv(f->vm, "/bin/true", &err);
    assert_null(err);
    assert_non_null(argv);
    assert_string_equal(argv[0], "/bin/true");
    assert_int_equal(g_strv_length(argv), 17);
    assert_string_equal(arg_after(argv, "--uuid"), f->vm->uuid);
    assert_string_equal(arg_after(argv, "--memory"), "768");
    assert_string_equal(arg_after(argv, "--cpus"), "3");
    char *disk = g_build_filename(f->vm->dir, "disk0.img", NULL);
    assert_string_equal(arg_after(argv, "--disk"), disk);
    g_free(disk);
    assert_string_equal(arg_after(argv, "--cdrom"), f->iso);
    assert_string_equal(arg_after(argv, "--boot"), "cd,disk");
    char *sock = g_strdup_printf("%s/hostel/%s.sock", f->runtime, f->vm->uuid);
    assert_string_equal(arg_after(argv, "--control"), sock);
    g_free(sock);
    assert_string_equal(arg_after(argv, "--serial"), "none");
    assert_null(arg_after(argv, "--firmware"));
    assert_null(arg_after(argv, "--quiet"));
    g_strfreev(argv);

    /* Another firmware; relative image paths resolved, absolute kept; no
     * disk, no CD. */
    g_free(f->vm->firmware);
    f->vm->firmware = g_strdup("fw/my-bios.bin");
    g_free(f->vm->boot_order);
    f->vm->boot_order = g_strdup("disk");
    g_free(f->vm->cdrom);
    f->vm->cdrom = NULL;
    f->vm->ndisks = 0;
    argv = vmrun_argv(f->vm, "/bin/true", &err);
    assert_non_null(argv);
    char *fw = g_build_filename(f->vm->dir, "fw", "my-bios.bin", NULL);
    assert_string_equal(arg_after(argv, "--firmware"), fw);
    g_free(fw);
    assert_string_equal(arg_after(argv, "--boot"), "disk");
    assert_null(arg_after(argv, "--disk"));
    assert_null(arg_after(argv, "--cdrom"));
    assert_int_equal(g_strv_length(argv), 15);
    g_strfreev(argv);
    f->vm->ndisks = 1;
    g_free(f->vm->firmware);
    f->vm->firmware = g_strdup("/usr/share/seabios/bios.bin");
    argv = vmrun_argv(f->vm, "/bin/true", &err);
    assert_string_equal(arg_after(argv, "--firmware"), "/usr/share/seabios/bios.bin");
    g_strfreev(argv);

    /* The program: HOSTEL_VM, a name in PATH, or not found. */
    g_setenv("HOSTEL_VM", "/bin/true", TRUE);
    argv = vmrun_argv(f->vm, NULL, &err);
    assert_non_null(argv);
    assert_string_equal(argv[0], "/bin/true");
    g_strfreev(argv);
    g_unsetenv("HOSTEL_VM");
    argv = vmrun_argv(f->vm, "sh", &err);
    assert_non_null(argv);
    assert_true(g_path_is_absolute(argv[0]));
    g_strfreev(argv);
    assert_null(vmrun_argv(f->vm, "/nonexistent/hostel-vm", &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_clear_error(&err);
    assert_null(vmrun_argv(f->vm, f->iso, &err));     /* not executable */
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_clear_error(&err);

    /* Up to three disks go to hostel-vm in order; a fourth is refused. */
    for (unsigned i = 1; i < 4; i++)
        f->vm->disks[i].file = g_strdup_printf("disk%u.img", i);
    f->vm->ndisks = 3;
    argv = vmrun_argv(f->vm, "/bin/true", &err);
    assert_non_null(argv);
    unsigned seen = 0;
    for (unsigned i = 0; argv[i]; i++) {
        if (strcmp(argv[i], "--disk") != 0)
            continue;
        char *want = vmdef_resolve(f->vm, f->vm->disks[seen].file);
        assert_string_equal(argv[i + 1], want);
        g_free(want);
        seen++;
    }
    assert_int_equal(seen, 3);
    g_strfreev(argv);
    f->vm->ndisks = 4;
    assert_null(vmrun_argv(f->vm, "/bin/true", &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED));
    assert_non_null(strstr(err->message, "remove [disk3]"));
    g_clear_error(&err);

    /* A runtime directory too long for a socket path. */
    f->vm->ndisks = 1;
    for (unsigned i = 1; i < 4; i++)
        g_clear_pointer(&f->vm->disks[i].file, g_free);
    char *deep = g_strnfill(120, 'x');
    char *long_rt = g_strdup_printf("/tmp/%s", deep);
    g_setenv("XDG_RUNTIME_DIR", long_rt, TRUE);
    assert_null(vmrun_argv(f->vm, "/bin/true", &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG));
    g_clear_error(&err);
    g_setenv("XDG_RUNTIME_DIR", f->runtime, TRUE);
    g_free(long_rt);
    g_free(deep);
}

static void test_state_not_running(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    /* No runtime directory, no socket. */
    assert_int_equal(vmrun_state(f->vm), VMRUN_STOPPED);
    assert_null(vmrun_connect(f->vm, 500, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    assert_non_null(strstr(err->message, "not running"));
    g_clear_error(&err);

    make_runtime_dir(f);
    char *sock = vmrun_socket_path(f->vm);
    /* A stale socket: bound once, nobody listening. */
    make_socket(sock, false);
    struct stat st;
    assert_int_equal(lstat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(vmrun_state(f->vm), VMRUN_STOPPED);
    assert_null(vmrun_connect(f->vm, 500, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_clear_error(&err);
    /* vmrun_start clears it away before starting. */
    char *fails = write_script(f, "fails.sh", "exit 1\n");
    assert_false(vmrun_start(f->vm, fails, 2000, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_FAILED));
    g_clear_error(&err);
    assert_int_equal(lstat(sock, &st), -1);

    /* A plain file where the socket should be. */
    assert_true(g_file_set_contents(sock, "stale", -1, NULL));
    assert_int_equal(vmrun_state(f->vm), VMRUN_STOPPED);
    assert_null(vmrun_connect(f->vm, 500, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    g_clear_error(&err);
    assert_false(vmrun_start(f->vm, fails, 2000, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_EXISTS));
    assert_non_null(strstr(err->message, sock));
    g_clear_error(&err);
    char *text = NULL;
    assert_true(g_file_get_contents(sock, &text, NULL, NULL));
    assert_string_equal(text, "stale");
    g_free(text);
    g_free(fails);
    g_free(sock);
}

static void test_state_unresponsive(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    make_runtime_dir(f);
    char *sock = vmrun_socket_path(f->vm);
    int fd = make_socket(sock, true);
    gint64 t0 = g_get_monotonic_time();
    assert_int_equal(vmrun_state(f->vm), VMRUN_UNRESPONSIVE);
    gint64 took = g_get_monotonic_time() - t0;
    assert_true(took >= 900 * 1000 && took < 3 * G_USEC_PER_SEC);

    t0 = g_get_monotonic_time();
    assert_null(vmrun_connect(f->vm, 300, &err));
    took = g_get_monotonic_time() - t0;
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
    assert_non_null(strstr(err->message, "does not answer"));
    g_clear_error(&err);
    assert_true(took >= 250 * 1000 && took < 2 * G_USEC_PER_SEC);

    /* Neither started again nor deleted while it might be running. */
    char *never = write_script(f, "never.sh", "echo should not run\nexit 1\n");
    assert_false(vmrun_start(f->vm, never, 2000, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_EXISTS));
    g_clear_error(&err);
    char *log = read_log(f);
    assert_null(strstr(log, "should not run"));
    g_free(log);
    assert_false(vmlib_delete(f->vm, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_RUNNING));
    g_clear_error(&err);
    assert_int_equal(access(f->vm->path, F_OK), 0);
    close(fd);
    g_free(never);
    g_free(sock);
}

static void test_runtime_dir_private(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    char *quick = write_script(f, "quick.sh", "exit 0\n");
    /* Created 0700 on demand. */
    assert_false(vmrun_start(f->vm, quick, 2000, &err));
    g_clear_error(&err);
    char *rt = vmrun_runtime_dir();
    struct stat st;
    assert_int_equal(lstat(rt, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(st.st_uid, geteuid());
    /* Refused when others may enter it, or when it is a link. */
    assert_int_equal(chmod(rt, 0755), 0);
    assert_false(vmrun_start(f->vm, quick, 2000, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED));
    assert_non_null(strstr(err->message, rt));
    g_clear_error(&err);
    assert_int_equal(rmdir(rt), 0);
    char *elsewhere = g_build_filename(f->dir, "elsewhere", NULL);
    assert_int_equal(mkdir(elsewhere, 0700), 0);
    assert_int_equal(symlink(elsewhere, rt), 0);
    assert_false(vmrun_start(f->vm, quick, 2000, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED));
    g_clear_error(&err);
    g_free(elsewhere);
    g_free(rt);
    g_free(quick);
}

static void test_start_fails(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    char *script = write_script(f, "kvmless.sh",
                                "if read line; then echo \"stdin:[$line]\"; else echo 'stdin: empty'; fi\n"
                                "echo \"args: $*\"\n"
                                "set -- $(cat /proc/$$/stat)\n"
                                "[ \"$6\" = \"$$\" ] && echo 'own session'\n"
                                "echo 'hostel-vm: No usable KVM: /dev/kvm does not exist.' >&2\n"
                                "exit 68\n");
    assert_false(vmrun_start(f->vm, script, 5000, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_FAILED));
    assert_non_null(strstr(err->message, "hostel-vm: No usable KVM: /dev/kvm does not exist."));
    assert_non_null(strstr(err->message, "status 68"));
    assert_non_null(strstr(err->message, "Runner"));
    g_clear_error(&err);
    char *log = read_log(f);
    assert_non_null(strstr(log, "stdin: empty"));
    assert_non_null(strstr(log, "own session"));
    assert_non_null(strstr(log, "--control"));
    assert_non_null(strstr(log, "--serial none"));
    assert_int_equal(count_of(log, "--- "), 1);
    g_free(log);
    char *path = vmrun_log_path(f->vm);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);
    g_free(path);

    /* The next start appends, and its error holds only its own lines. */
    char *second = write_script(f, "second.sh", "echo 'second run failed too'\nexit 1\n");
    assert_false(vmrun_start(f->vm, second, 5000, &err));
    assert_non_null(strstr(err->message, "second run failed too"));
    assert_null(strstr(err->message, "KVM"));
    g_clear_error(&err);
    log = read_log(f);
    assert_int_equal(count_of(log, "--- "), 2);
    assert_non_null(strstr(log, "No usable KVM"));
    g_free(log);

    /* Many lines: the last ones make the sentence. */
    char *chatty = write_script(f, "chatty.sh", "i=0\nwhile [ $i -lt 500 ]; do echo \"line $i\"; i=$((i+1)); done\n"
                                                "echo 'the real reason' >&2\nexit 2\n");
    assert_false(vmrun_start(f->vm, chatty, 5000, &err));
    assert_non_null(strstr(err->message, "line 499 the real reason"));
    assert_null(strstr(err->message, "line 1 "));
    g_clear_error(&err);

    /* Silent, and killed by a signal. */
    char *silent = write_script(f, "silent.sh", "exit 3\n");
    assert_false(vmrun_start(f->vm, silent, 5000, &err));
    assert_non_null(strstr(err->message, "without a message"));
    assert_non_null(strstr(err->message, "status 3"));
    g_clear_error(&err);
    char *killed = write_script(f, "killed.sh", "kill -9 $$\n");
    assert_false(vmrun_start(f->vm, killed, 5000, &err));
    assert_non_null(strstr(err->message, "signal 9"));
    g_clear_error(&err);
    assert_int_equal(vmrun_state(f->vm), VMRUN_STOPPED);
    g_free(killed);
    g_free(silent);
    g_free(chatty);
    g_free(second);
    g_free(script);
}

static void test_start_timeout(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    char *script = write_script(f, "hang.sh", "echo \"pid $$\"\nexec sleep 30\n");
    gint64 t0 = g_get_monotonic_time();
    assert_false(vmrun_start(f->vm, script, 400, &err));
    gint64 took = g_get_monotonic_time() - t0;
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
    assert_non_null(strstr(err->message, "400 ms"));
    g_clear_error(&err);
    assert_true(took >= 400 * 1000 && took < 4 * G_USEC_PER_SEC);
    char *log = read_log(f);
    const char *p = strstr(log, "pid ");
    assert_non_null(p);
    pid_t pid = (pid_t)atoi(p + 4);
    assert_true(pid > 1);
    /* Stopped and reaped. */
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    g_free(log);
    g_free(script);
}

static void test_start_fake_vm(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    char *self = g_file_read_link("/proc/self/exe", NULL);
    assert_non_null(self);
    g_setenv("HOSTEL_TEST_FAKE_VM", "1", TRUE);
    bool started = vmrun_start(f->vm, self, 10000, &err);
    g_unsetenv("HOSTEL_TEST_FAKE_VM");
    if (!started)
        fail_msg("start: %s", err->message);
    char *log = read_log(f);
    assert_non_null(strstr(log, "fake-vm: --memory 768 --cpus 3"));
    g_free(log);
    assert_int_equal(vmrun_state(f->vm), VMRUN_RUNNING);

    GDBusConnection *c = vmrun_connect(f->vm, 2000, &err);
    assert_null(err);
    assert_non_null(c);
    GVariant *r = vmrun_call(c, "Pause", NULL, NULL, 2000, &err);
    assert_non_null(r);
    g_variant_unref(r);
    char *s = vmrun_get_state(c, 2000, &err);
    assert_string_equal(s, "paused");
    g_free(s);
    assert_int_equal(vmrun_state(f->vm), VMRUN_PAUSED);
    /* Errors come back as the VM's sentence, without D-Bus's prefix. */
    assert_null(vmrun_call(c, "Explode", NULL, NULL, 2000, &err));
    assert_non_null(err);
    assert_null(strstr(err->message, "GDBus.Error"));
    g_clear_error(&err);
    assert_null(vmrun_call(c, "Resume", NULL, "((", 2000, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
    g_clear_error(&err);
    GUnixFDList *fds = (GUnixFDList *)&fds;
    r = vmrun_call_with_fds(c, "Resume", NULL, "()", &fds, 0, &err);
    assert_non_null(r);
    assert_null(fds);
    g_variant_unref(r);
    assert_int_equal(vmrun_state(f->vm), VMRUN_RUNNING);

    /* Running: not started twice, not deleted. */
    assert_false(vmrun_start(f->vm, self, 2000, &err));
    assert_true(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_EXISTS));
    g_clear_error(&err);
    assert_false(vmlib_delete(f->vm, &err));
    assert_true(g_error_matches(err, VMDEF_ERROR, VMDEF_ERROR_RUNNING));
    g_clear_error(&err);

    r = vmrun_call(c, "PowerOff", NULL, NULL, 2000, &err);
    assert_non_null(r);
    g_variant_unref(r);
    g_dbus_connection_close_sync(c, NULL, NULL);
    g_object_unref(c);
    gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (vmrun_state(f->vm) != VMRUN_STOPPED && g_get_monotonic_time() < until)
        g_usleep(20000);
    assert_int_equal(vmrun_state(f->vm), VMRUN_STOPPED);
    /* The child watch reaps it once the main context runs. */
    for (int i = 0; i < 50; i++) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        g_usleep(10000);
    }
    log = read_log(f);
    assert_non_null(strstr(log, "fake-vm: powered off"));
    g_free(log);
    assert_true(vmlib_delete(f->vm, &err));
    g_free(self);
}

/* Random definitions: the vector always says what the definition says. */
static void test_random_argv(void **state)
{
    struct fixture *f = *state;
    GRand *r = g_rand_new_with_seed(0xa11);
    static const char *const boots[] = { "cd", "disk", "cd,disk", "disk,cd" };
    for (int iter = 0; iter < 20000; iter++) {
        struct vmdef *d = f->vm;
        d->memory_mib = (unsigned)g_rand_int_range(r, VMDEF_MIN_MEMORY_MIB, VMDEF_MAX_MEMORY_MIB + 1);
        d->cpus = (unsigned)g_rand_int_range(r, 1, VMDEF_MAX_CPUS + 1);
        g_free(d->boot_order);
        d->boot_order = g_strdup(boots[g_rand_int_range(r, 0, 4)]);
        d->ndisks = (unsigned)g_rand_int_range(r, 0, 2);   /* the fixture has one disk file */
        g_free(d->cdrom);
        d->cdrom = g_rand_boolean(r) ? g_strdup_printf("cd%u.iso", g_rand_int(r)) : NULL;
        g_free(d->firmware);
        d->firmware = g_rand_boolean(r) ? g_strdup("bios") : g_strdup_printf("/fw/%u.bin", g_rand_int(r));
        GError *err = NULL;
        char **argv = vmrun_argv(d, "/bin/true", &err);
        assert_non_null(argv);
        char num[16];
        snprintf(num, sizeof(num), "%u", d->memory_mib);
        assert_string_equal(arg_after(argv, "--memory"), num);
        snprintf(num, sizeof(num), "%u", d->cpus);
        assert_string_equal(arg_after(argv, "--cpus"), num);
        assert_string_equal(arg_after(argv, "--boot"), d->boot_order);
        assert_int_equal(arg_after(argv, "--disk") != NULL, d->ndisks > 0);
        assert_int_equal(arg_after(argv, "--cdrom") != NULL, d->cdrom != NULL);
        const char *fw = arg_after(argv, "--firmware");
        if (strcmp(d->firmware, "bios") == 0)
            assert_null(fw);
        else
            assert_string_equal(fw, d->firmware);
        /* Every option has its value. */
        unsigned n = g_strv_length(argv);
        assert_int_equal(n % 2, 1);
        for (unsigned i = 1; i < n; i += 2)
            assert_true(g_str_has_prefix(argv[i], "--") && !g_str_has_prefix(argv[i + 1], "--"));
        g_strfreev(argv);
    }
    g_rand_free(r);
}

int main(int argc, char **argv)
{
    if (g_getenv("HOSTEL_TEST_FAKE_VM"))
        return run_fake_vm(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_not_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_unresponsive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_dir_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_fake_vm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_argv, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
