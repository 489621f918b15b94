/* The control interface against a running hostel-vm with a test guest:
 * every lifecycle transition, errors for bad requests, a second client
 * seeing the signals, the console both ways, the display, screenshots,
 * peer checks, reset (the VM restarts in place) and power off.
 *
 * Usage: test-control HOSTEL_VM GUEST_ECHO_ELF WORKDIR
 * Exit: 0 pass, 1 fail, 77 skipped (no usable KVM). */
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../e2e/e2e_child.h"

static struct child vm;
static int failures;
static GString *states, *console_a, *console_b;

#define CHECK(cond, what) do { \
        if (cond) printf("ok: %s\n", what); \
        else { printf("FAIL: %s\n", what); failures++; } \
    } while (0)

static void pump(double seconds)
{
    double end = now_s() + seconds;
    do {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        child_drain(&vm, 0.02);
    } while (now_s() < end);
}

static bool pump_until(GString *s, const char *want, double seconds)
{
    double end = now_s() + seconds;
    while (now_s() < end) {
        pump(0.05);
        if (strstr(s->str, want))
            return true;
    }
    return false;
}

static GDBusConnection *connect_sock(const char *sock, double seconds)
{
    gchar *addr = g_strdup_printf("unix:path=%s", sock);
    GDBusConnection *c = NULL;
    double end = now_s() + seconds;
    while (!c && now_s() < end) {
        c = g_dbus_connection_new_for_address_sync(addr, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL,
                                                   NULL);
        if (!c)
            child_drain(&vm, 0.1);
    }
    g_free(addr);
    return c;
}

static GVariant *call(GDBusConnection *c, const char *method, GVariant *args, const char *type, GError **err)
{
    return g_dbus_connection_call_sync(c, NULL, "/org/hostel/VM", "org.hostel.VM1", method, args,
                                       type ? G_VARIANT_TYPE(type) : NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, err);
}

static bool call_ok(GDBusConnection *c, const char *method, GVariant *args)
{
    GError *e = NULL;
    GVariant *r = call(c, method, args, NULL, &e);
    if (!r) {
        printf("   %s: %s\n", method, e->message);
        g_error_free(e);
        return false;
    }
    g_variant_unref(r);
    return true;
}

/* The call fails, with a message containing want (NULL: any). */
static bool call_fails(GDBusConnection *c, const char *method, GVariant *args, const char *want)
{
    GError *e = NULL;
    GVariant *r = call(c, method, args, NULL, &e);
    if (r) {
        g_variant_unref(r);
        return false;
    }
    bool ok = !want || strstr(e->message, want);
    if (!ok)
        printf("   %s failed with: %s\n", method, e->message);
    g_error_free(e);
    return ok;
}

static char *get_state(GDBusConnection *c)
{
    GVariant *r = g_dbus_connection_call_sync(c, NULL, "/org/hostel/VM", "org.freedesktop.DBus.Properties", "Get",
                                              g_variant_new("(ss)", "org.hostel.VM1", "State"),
                                              G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
    if (!r)
        return g_strdup("(none)");
    GVariant *v;
    g_variant_get(r, "(v)", &v);
    char *s = g_variant_dup_string(v, NULL);
    g_variant_unref(v);
    g_variant_unref(r);
    return s;
}

static void on_state(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                     const char *signal, GVariant *params, gpointer opaque)
{
    const char *state, *reason;
    g_variant_get(params, "(&s&s)", &state, &reason);
    g_string_append_printf(states, "%s;", state);
}

static void on_console(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                       const char *signal, GVariant *params, gpointer opaque)
{
    gsize n = 0;
    GVariant *bytes = g_variant_get_child_value(params, 0);
    const char *data = g_variant_get_fixed_array(bytes, &n, 1);
    g_string_append_len(opaque, data, (gssize)n);
    g_variant_unref(bytes);
}

static void subscribe(GDBusConnection *c, GString *console)
{
    g_dbus_connection_signal_subscribe(c, NULL, "org.hostel.VM1", "ConsoleOutput", "/org/hostel/VM", NULL,
                                       G_DBUS_SIGNAL_FLAGS_NONE, on_console, console, NULL);
}

/* In a child running as nobody (no GLib there: this process has threads),
 * connect to the socket; if connected, offer D-Bus EXTERNAL authentication
 * as that user. Exit 0 when refused (EACCES, or the server rejects the
 * authentication), 1 when it got in. */
static int try_as_nobody(const char *sock)
{
    if (setgid(65534) != 0 || setuid(65534) != 0)
        return 2;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(sock) >= sizeof(addr.sun_path))
        return 2;
    memcpy(addr.sun_path, sock, strlen(sock) + 1);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return 0;
    /* "AUTH EXTERNAL" with the uid in hex-encoded ASCII ("65534"). */
    static const char auth[] = "\0AUTH EXTERNAL 3635353334\r\n";
    if (write(fd, auth, sizeof(auth) - 1) != (ssize_t)(sizeof(auth) - 1))
        return 0;
    char reply[256] = {0};
    ssize_t n = read(fd, reply, sizeof(reply) - 1);
    return n > 2 && strncmp(reply, "OK", 2) == 0 ? 1 : 0;
}

/* Another user must not get in (only possible to try as root): not through
 * the socket's mode, and not through the server's peer check either, with
 * the mode opened up for the second try. */
static void check_other_user(const char *sock)
{
    if (getuid() != 0) {
        printf("skip: a different user cannot be tried without root\n");
        return;
    }
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            chmod(sock, 0666);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            _exit(try_as_nobody(sock));
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, round == 0 ? "another user cannot open the control socket"
                                                                : "the server refuses another user's credentials");
    }
    chmod(sock, 0600);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* progress shows even if it hangs */
    if (argc != 4) {
        fprintf(stderr, "usage: test-control HOSTEL_VM GUEST_ECHO_ELF WORKDIR\n");
        return 2;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("test-control: skipped: no usable /dev/kvm\n");
        return 77;
    }
    char dir[512], sock[600], png[600];
    snprintf(dir, sizeof(dir), "%s/hostel-control.XXXXXX", argv[3]);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sock, sizeof(sock), "%s/vm.sock", dir);
    snprintf(png, sizeof(png), "%s/shot.png", dir);
    states = g_string_new(NULL);
    console_a = g_string_new(NULL);
    console_b = g_string_new(NULL);
    char *vm_argv[] = { argv[1], "--kernel", argv[2], "--memory", "32", "--control", sock, NULL };
    if (child_spawn(&vm, vm_argv) < 0)
        return 1;

    GDBusConnection *a = connect_sock(sock, 30), *b = connect_sock(sock, 5);
    CHECK(a && b, "two clients connect");
    if (!a || !b) {
        child_kill(&vm);
        return 1;
    }
    struct stat st;
    CHECK(stat(sock, &st) == 0 && (st.st_mode & 0777) == 0600, "the socket is private (mode 0600)");
    check_other_user(sock);
    g_dbus_connection_signal_subscribe(b, NULL, "org.hostel.VM1", "StateChanged", "/org/hostel/VM", NULL,
                                       G_DBUS_SIGNAL_FLAGS_NONE, on_state, NULL, NULL);
    subscribe(a, console_a);
    subscribe(b, console_b);
    CHECK(child_wait_for(&vm, "echo test guest: ready", 0, now_s() + 60) >= 0, "the guest runs");

    /* Lifecycle: pause and resume, seen by the other client. */
    char *s = get_state(a);
    CHECK(strcmp(s, "running") == 0, "State is running");
    g_free(s);
    CHECK(call_ok(a, "Pause", NULL), "Pause");
    s = get_state(b);
    CHECK(strcmp(s, "paused") == 0, "State is paused, as the second client sees it");
    g_free(s);
    CHECK(pump_until(states, "paused;", 5), "the second client got StateChanged paused");
    CHECK(call_ok(a, "Pause", NULL), "Pause while paused is harmless");
    CHECK(call_ok(a, "Resume", NULL), "Resume");
    CHECK(pump_until(states, "paused;running;", 5), "the second client got StateChanged running");

    /* The serial console both ways; both clients see the output. */
    GVariant *in = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, "hello control\n", 14, 1);
    CHECK(call_ok(a, "ConsoleInput", g_variant_new_tuple(&in, 1)), "ConsoleInput");
    CHECK(pump_until(console_a, "echo: HELLO CONTROL", 30) && pump_until(console_b, "echo: HELLO CONTROL", 5),
          "ConsoleOutput carries the guest's answer to both clients");

    /* Bad requests get errors and change nothing. */
    CHECK(call_fails(a, "SendKey", g_variant_new("(ub)", 99999u, TRUE), "not a Linux key code"),
          "SendKey with a bad key code is refused");
    CHECK(call_fails(a, "TypeText", g_variant_new("(s)", "caf\xc3\xa9"), NULL), "TypeText with a non-US character is refused");
    CHECK(call_fails(a, "PressKeys", g_variant_new("(s)", "ctrl+nosuchkey"), NULL), "PressKeys with an unknown key is refused");
    CHECK(call_fails(a, "ChangeCdrom", g_variant_new("(s)", "/nonexistent.iso"), "CD-ROM"),
          "ChangeCdrom without a CD-ROM drive is refused");
    CHECK(call_fails(a, "NoSuchMethod", NULL, NULL), "an unknown method is refused");
    CHECK(call_fails(a, "Screenshot", g_variant_new("(s)", "/nonexistent-dir/x.png"), NULL),
          "a screenshot into a missing directory is refused");
    CHECK(call_ok(a, "SendKey", g_variant_new("(ub)", 30u, TRUE)) &&
          call_ok(a, "SendKey", g_variant_new("(ub)", 30u, FALSE)), "SendKey with a real key");
    CHECK(call_ok(a, "MouseEvent", g_variant_new("(iiiu)", 3, 4, 0, 1u)), "MouseEvent");

    /* The display: a memfd with the text screen's geometry; a screenshot. */
    GUnixFDList *fds = NULL;
    GVariant *d = g_dbus_connection_call_with_unix_fd_list_sync(a, NULL, "/org/hostel/VM", "org.hostel.VM1",
                                                                "GetDisplay", NULL, G_VARIANT_TYPE("(huuut)"),
                                                                G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &fds, NULL,
                                                                NULL);
    bool display_ok = false;
    if (d) {
        gint32 idx;
        guint32 w, h, stride;
        guint64 gen;
        g_variant_get(d, "(huuut)", &idx, &w, &h, &stride, &gen);
        int fd = g_unix_fd_list_get(fds, idx, NULL);
        void *p = fd >= 0 ? mmap(NULL, (size_t)stride * h, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
        display_ok = p != MAP_FAILED && w == 720 && h == 400 && stride >= w * 4;
        if (p != MAP_FAILED)
            munmap(p, (size_t)stride * h);
        if (fd >= 0)
            close(fd);
        g_object_unref(fds);
        g_variant_unref(d);
    }
    CHECK(display_ok, "GetDisplay passes a mappable 720x400 framebuffer");
    CHECK(call_ok(a, "Screenshot", g_variant_new("(s)", png)), "Screenshot");
    FILE *f = fopen(png, "rb");
    unsigned char magic[8] = {0};
    CHECK(f && fread(magic, 1, 8, f) == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0, "the screenshot is a PNG");
    if (f)
        fclose(f);

    /* Reset: the machine restarts in place; the socket comes back. */
    size_t before = vm.len;
    call_ok(a, "Reset", NULL);
    g_object_unref(a);
    g_object_unref(b);
    CHECK(child_wait_for(&vm, "echo test guest: ready", before, now_s() + 60) >= 0,
          "after Reset the guest starts again in the same process");
    a = connect_sock(sock, 30);
    CHECK(a != NULL, "the control socket is back after the reset");
    if (!a) {
        child_kill(&vm);
        return 1;
    }
    b = connect_sock(sock, 5);
    g_string_truncate(states, 0);
    g_dbus_connection_signal_subscribe(b, NULL, "org.hostel.VM1", "StateChanged", "/org/hostel/VM", NULL,
                                       G_DBUS_SIGNAL_FLAGS_NONE, on_state, NULL, NULL);
    pump(0.2);

    /* Power off: the VM stops (status 10) and the other client is told. */
    call_ok(a, "PowerOff", NULL);
    CHECK(pump_until(states, "stopped;", 10), "the second client got StateChanged stopped");
    int status = child_wait_exit(&vm, now_s() + 30);
    CHECK(status == 10, "hostel-vm exits with status 10 after PowerOff");
    CHECK(access(sock, F_OK) != 0, "the socket is gone after the VM stopped");
    unlink(png);
    rmdir(dir);
    printf("%s: %d failure(s)\n", failures ? "test-control: FAIL" : "test-control: PASS", failures);
    return failures ? 1 : 0;
}
