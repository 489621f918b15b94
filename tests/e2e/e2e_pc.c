/* End-to-end test of the PC platform: SeaBIOS boots a Linux ISO from the
 * IDE CD-ROM after its boot menu lists the CD and the disk; keys typed
 * through the control interface reach a shell on the VGA console, whose
 * output shows on a screenshot; the virtio tablet's pointer positions and
 * buttons reach the guest's evdev; the ACPI power button shuts the guest down;
 * then the same system boots from the raw disk image and writes to it, and
 * to a second disk on the primary IDE slave.
 *
 * Usage: e2e-pc HOSTEL_VM ISO DISK VGA_ROM WORKDIR [TIMEOUT_S]
 * DISK is copied to WORKDIR (the test writes to its copy).
 * Exit: 0 pass, 1 fail, 77 skipped (no usable KVM). */
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_child.h"
#include "png_text.h"

static struct child vm;
static uint8_t font[256 * 16];
static double timeout = 600;

static int fail(const char *what)
{
    printf("\ne2e-pc: FAIL: %s\n", what);
    child_kill(&vm);
    return 1;
}

static GDBusConnection *control_connect(const char *sock, double deadline)
{
    gchar *addr = g_strdup_printf("unix:path=%s", sock);
    GDBusConnection *conn = NULL;
    while (!conn && now_s() < deadline) {
        GError *err = NULL;
        conn = g_dbus_connection_new_for_address_sync(addr, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                      NULL, NULL, &err);
        if (!conn) {
            g_error_free(err);
            child_drain(&vm, 0.1);
        }
    }
    g_free(addr);
    return conn;
}

/* Call a method; returns its reply (caller unrefs) or NULL with the error printed. */
static GVariant *call(GDBusConnection *conn, const char *method, GVariant *args, const char *reply_type)
{
    GError *err = NULL;
    GVariant *r = g_dbus_connection_call_sync(conn, NULL, "/org/hostel/VM", "org.hostel.VM1", method, args,
                                              reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
                                              G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &err);
    if (!r) {
        printf("e2e-pc: %s failed: %s\n", method, err->message);
        g_error_free(err);
    }
    return r;
}

static bool call_ok(GDBusConnection *conn, const char *method, GVariant *args)
{
    GVariant *r = call(conn, method, args, NULL);
    if (r)
        g_variant_unref(r);
    return r != NULL;
}

/* Poll the text screen until it contains want; returns the screen (g_free) or NULL. */
static char *wait_screen(GDBusConnection *conn, const char *want, double deadline)
{
    while (now_s() < deadline) {
        GError *err = NULL;
        GVariant *r = g_dbus_connection_call_sync(conn, NULL, "/org/hostel/VM", "org.hostel.VM1",
                                                  "GetScreenText", NULL, G_VARIANT_TYPE("(s)"),
                                                  G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &err);
        if (r) {
            const char *text;
            g_variant_get(r, "(&s)", &text);
            char *copy = strstr(text, want) ? g_strdup(text) : NULL;
            g_variant_unref(r);
            if (copy)
                return copy;
        } else {
            g_error_free(err);  /* a graphics mode, for now */
        }
        child_drain(&vm, 0.25);
    }
    return NULL;
}

/* Screenshot, read back through the font, and look for want. */
static bool screenshot_shows(GDBusConnection *conn, const char *png, const char *want, char *text, size_t cap)
{
    if (!call_ok(conn, "Screenshot", g_variant_new("(s)", png)))
        return false;
    char err[256];
    if (png_text_read(png, font, 80, text, cap, err, sizeof(err)) < 0) {
        printf("e2e-pc: %s\n", err);
        return false;
    }
    return strstr(text, want) != NULL;
}

static GString *console_seen;

static void on_console(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                       const char *signal, GVariant *params, gpointer opaque)
{
    gsize n = 0;
    GVariant *bytes = g_variant_get_child_value(params, 0);
    const char *data = g_variant_get_fixed_array(bytes, &n, 1);
    g_string_append_len(console_seen, data, (gssize)n);
    g_variant_unref(bytes);
}

/* Dispatch signals until the console stream contains want. */
static bool wait_console_signal(const char *want, double deadline)
{
    while (now_s() < deadline) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (strstr(console_seen->str, want))
            return true;
        child_drain(&vm, 0.05);
    }
    return false;
}

static bool pointer_absolute(GDBusConnection *conn)
{
    GVariant *r = g_dbus_connection_call_sync(conn, NULL, "/org/hostel/VM", "org.freedesktop.DBus.Properties", "Get",
                                              g_variant_new("(ss)", "org.hostel.VM1", "PointerAbsolute"),
                                              G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, NULL);
    if (!r)
        return false;
    GVariant *v;
    g_variant_get(r, "(v)", &v);
    bool on = g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean(v);
    g_variant_unref(v);
    g_variant_unref(r);
    return on;
}

/* Linux evdev codes (linux/input-event-codes.h) the tablet sends. */
enum { EV_SYN = 0, EV_KEY = 1, EV_REL = 2, EV_ABS = 3, ABS_X = 0, ABS_Y = 1, REL_WHEEL = 8, BTN_LEFT = 0x110 };
#define TABLET_MAX 32767

/* The screen pixel a guest makes of an axis value, as libinput does:
 * value * pixels / (max + 1), rounded down. */
static long guest_pixel(long value, unsigned pixels)
{
    return value * (long)pixels / (TABLET_MAX + 1);
}

/* The guest's driver takes the virtio tablet: PointerAbsolute turns true,
 * and pointer events arrive on the tablet's evdev node. The guest prints
 * what od reads from that node as "tab:" lines of 32-bit words: time (4),
 * code << 16 | type, value. */
static int check_tablet(GDBusConnection *conn, unsigned dw, unsigned dh, size_t from)
{
    double deadline = now_s() + 60;
    while (!pointer_absolute(conn) && now_s() < deadline)
        child_drain(&vm, 0.25);
    if (!pointer_absolute(conn))
        return fail("PointerAbsolute did not turn true: the guest's virtio-input driver did not take the tablet");
    /* Corner to corner (the second y beyond the screen: clamped), pressing
     * then releasing the left button with a wheel click: 4 + 5 events of 24
     * bytes. An axis event is right when the guest maps its value to the
     * pixel sent. */
    const struct { unsigned type, code; int value; } want[] = {
        { EV_ABS, ABS_X, (int)dw - 1 }, { EV_ABS, ABS_Y, (int)dh - 1 }, { EV_KEY, BTN_LEFT, 1 }, { EV_SYN, 0, 0 },
        { EV_ABS, ABS_X, 0 }, { EV_ABS, ABS_Y, 0 }, { EV_KEY, BTN_LEFT, 0 }, { EV_REL, REL_WHEEL, 1 },
        { EV_SYN, 0, 0 },
    };
    const unsigned nwant = sizeof(want) / sizeof(want[0]);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "for e in /sys/class/input/event*; do grep -q 'Hostel Tablet' $e/device/name && T=/dev/input/${e##*/}; "
             "done; (od -An -v -td4 -w24 -N %u $T | sed 's/^/tab: /'; echo tab-$((4+4))) & sleep 1; "
             "echo tabready-$((3+4))\n", nwant * 24);
    if (child_type(&vm, cmd) < 0 || child_wait_for(&vm, "tabready-7", from, now_s() + 60) < 0)
        return fail("the guest did not start reading its tablet");
    if (!call_ok(conn, "PointerEvent", g_variant_new("(uuiu)", dw - 1, dh + 100, 0, 1u)) ||
        !call_ok(conn, "PointerEvent", g_variant_new("(uuiu)", 0, 0, 1, 0u)))
        return fail("PointerEvent failed");
    long end = child_wait_for(&vm, "tab-8", from, now_s() + 60);
    if (end < 0)
        return fail("the tablet's events did not reach the guest's evdev node");
    child_drain(&vm, 0.2);
    unsigned got = 0;
    for (const char *p = strstr(vm.buf + from, "tab: "); p && got < nwant; p = strstr(p + 1, "tab: ")) {
        long w[6];
        if (sscanf(p + 5, "%ld %ld %ld %ld %ld %ld", &w[0], &w[1], &w[2], &w[3], &w[4], &w[5]) != 6)
            continue;
        unsigned type = (unsigned)w[4] & 0xffff, code = (unsigned)w[4] >> 16;
        long value = w[5];
        if (type == EV_ABS)
            value = w[5] >= 0 && w[5] <= TABLET_MAX ? guest_pixel(w[5], code == ABS_X ? dw : dh) : -1;
        if (type != want[got].type || code != want[got].code || value != want[got].value) {
            printf("e2e-pc: tablet event %u: type %u code %u value %ld (%ld), expected type %u code %u value %d "
                   "(pixels for axes)\n", got, type, code, w[5], value, want[got].type, want[got].code,
                   want[got].value);
            return fail("the guest read other tablet events than were sent");
        }
        got++;
    }
    if (got != nwant)
        return fail("the guest did not read all the tablet's events");
    printf("e2e-pc: tablet: PointerAbsolute, %u evdev events as sent\n", got);
    return 0;
}

static int run_cd(const char *hostel_vm, const char *iso, const char *disk, const char *dir)
{
    char sock[512], png[512];
    snprintf(sock, sizeof(sock), "%s/control.sock", dir);
    double t0 = now_s();
    char *argv[] = { (char *)hostel_vm, "--cdrom", (char *)iso, "--disk", (char *)disk, "--boot", "cd,disk",
                     "--boot-menu", "20000", "--control", sock, "--memory", "256", "--stats", NULL };
    if (child_spawn(&vm, argv) < 0)
        return fail("could not start hostel-vm");
    GDBusConnection *conn = control_connect(sock, now_s() + 30);
    if (!conn)
        return fail("could not connect to the control socket");
    console_seen = g_string_new(NULL);
    g_dbus_connection_signal_subscribe(conn, NULL, "org.hostel.VM1", "ConsoleOutput", "/org/hostel/VM", NULL,
                                       G_DBUS_SIGNAL_FLAGS_NONE, on_console, NULL, NULL);

    /* SeaBIOS offers its menu; Esc opens it and it lists both drives. */
    char *screen = wait_screen(conn, "Press ESC for boot menu", now_s() + timeout);
    if (!screen)
        return fail("SeaBIOS did not offer its boot menu on the screen");
    g_free(screen);
    double t_menu = now_s() - t0;
    if (!call_ok(conn, "PressKeys", g_variant_new("(s)", "esc")))
        return fail("could not press Esc");
    screen = wait_screen(conn, "Select boot device", now_s() + 60);
    if (!screen)
        return fail("the boot menu did not open");
    child_drain(&vm, 0.5);
    g_free(screen);
    screen = wait_screen(conn, "Select boot device", now_s() + 5);
    char *cd = screen ? strstr(screen, "DVD/CD") : NULL;
    if (!cd || !strstr(screen, "ata0-0") || !strstr(screen, "ata1-0")) {
        printf("%s\n", screen ? screen : "");
        return fail("the boot menu does not list the CD-ROM (ata1-0) and the disk (ata0-0)");
    }
    /* The menu line is "N. DVD/CD [...]": press N. */
    const char *line = cd;
    while (line > screen && line[-1] != '\n')
        line--;
    while (*line == ' ')
        line++;
    char key[2] = { *line, 0 };
    if (key[0] < '1' || key[0] > '9')
        return fail("cannot find the CD-ROM's number in the boot menu");
    snprintf(png, sizeof(png), "%s/boot-menu.png", dir);
    char text[8192];
    if (!screenshot_shows(conn, png, "Select boot device", text, sizeof(text))) {
        printf("%s\n", text);
        return fail("the boot menu screenshot does not show the menu");
    }
    g_free(screen);
    if (!call_ok(conn, "PressKeys", g_variant_new("(s)", key)))
        return fail("could not choose the CD-ROM");

    long ready = child_wait_for(&vm, "HOSTEL-E2E-READY", 0, now_s() + timeout);
    if (ready < 0)
        return fail("the ISO's Linux did not reach userspace (no ready marker on the serial console)");
    double t_ready = now_s() - t0;
    if (!strstr(vm.buf, "ISOLINUX"))
        return fail("the serial console shows no ISOLINUX banner");

    /* Keys through the PS/2 keyboard reach the shell on tty1 (the VGA screen). */
    if (!call_ok(conn, "TypeText", g_variant_new("(s)", "echo kbd-$((6*7))\n")))
        return fail("TypeText failed");
    screen = wait_screen(conn, "kbd-42", now_s() + 120);
    if (!screen)
        return fail("the typed command's output did not appear on the VGA text screen");
    g_free(screen);
    snprintf(png, sizeof(png), "%s/shell.png", dir);
    if (!screenshot_shows(conn, png, "kbd-42", text, sizeof(text)) || !strstr(text, "HOSTEL-E2E-READY")) {
        printf("%s\n", text);
        return fail("the screenshot does not show the typed command's output and the ready marker");
    }
    /* And the serial console still answers. */
    if (child_type(&vm, "echo serial-$((6*9))\n") < 0 ||
        child_wait_for(&vm, "serial-54", (size_t)ready, now_s() + 60) < 0)
        return fail("the serial console did not run a typed command");
    double t_typed = now_s() - t0;
    /* The serial console also reaches control clients, both ways. */
    if (!wait_console_signal("serial-54", now_s() + 10))
        return fail("ConsoleOutput did not carry the serial console's output");
    GVariant *in = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, "echo ctl-$((5*5))\n", 19, 1);
    if (!call_ok(conn, "ConsoleInput", g_variant_new_tuple(&in, 1)) || !wait_console_signal("ctl-25", now_s() + 60))
        return fail("ConsoleInput did not reach the guest's serial shell");

    /* Linux's clocksource selection sees the HPET and can run on it; the
     * local APIC timer ticks. */
    /* (The markers are computed so the echoed command line cannot match.) */
    if (child_type(&vm, "cd /sys/devices/system/clocksource/clocksource0; echo cs-$((2+2))=$(tr ' ' , "
                        "<available_clocksource) lapic-$((2+3))=$(awk '/LOC:/ {print ($2 > 100)}' /proc/interrupts);"
                        " echo hpet >current_clocksource && sleep 1 && echo cur-$((3+3))=$(cat current_clocksource);"
                        " cd /\n") < 0)
        return fail("could not type the clocksource check");
    long cs = child_wait_for(&vm, "cs-4=", (size_t)ready, now_s() + 60);
    long cur = child_wait_for(&vm, "cur-6=", (size_t)ready, now_s() + 60);
    child_drain(&vm, 0.5);
    const char *eol = cs >= 0 ? strchr(vm.buf + cs, '\n') : NULL;
    char *hpet = cs >= 0 ? strstr(vm.buf + cs, "hpet") : NULL;
    if (cs < 0 || cur < 0 || !hpet || (eol && hpet > eol) || !strstr(vm.buf + cs, "lapic-5=1") ||
        strncmp(vm.buf + cur, "cur-6=hpet", 10) != 0)
        return fail("the HPET is not a working clocksource, or the local APIC timer does not tick");

    /* The shared framebuffer shows the text screen: not all one colour. */
    GUnixFDList *fds = NULL;
    GError *gerr = NULL;
    GVariant *disp = g_dbus_connection_call_with_unix_fd_list_sync(conn, NULL, "/org/hostel/VM", "org.hostel.VM1",
                                                                   "GetDisplay", NULL, G_VARIANT_TYPE("(huuut)"),
                                                                   G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &fds,
                                                                   NULL, &gerr);
    if (!disp)
        return fail(gerr->message);
    gint32 idx;
    guint32 dw, dh, dstride;
    guint64 dgen;
    g_variant_get(disp, "(huuut)", &idx, &dw, &dh, &dstride, &dgen);
    int dfd = g_unix_fd_list_get(fds, idx, NULL);
    const uint32_t *px = dfd >= 0 ? mmap(NULL, (size_t)dstride * dh, PROT_READ, MAP_SHARED, dfd, 0) : MAP_FAILED;
    if (px == MAP_FAILED || dw < 640 || dh < 400)
        return fail("GetDisplay did not give a mappable framebuffer of a text screen");
    unsigned lit = 0;
    for (size_t i = 0; i < (size_t)dstride / 4 * dh; i++)
        lit += px[i] != px[0];
    munmap((void *)px, (size_t)dstride * dh);
    close(dfd);
    g_object_unref(fds);
    g_variant_unref(disp);
    if (lit < 500)
        return fail("the shared framebuffer is blank");
    /* Removable media: eject, a bad path is refused with a sentence, insert. */
    GVariant *bad = call(conn, "ChangeCdrom", g_variant_new("(s)", "/nonexistent.iso"), NULL);
    if (bad)
        return fail("ChangeCdrom accepted a missing file");
    if (!call_ok(conn, "EjectCdrom", NULL) || !call_ok(conn, "ChangeCdrom", g_variant_new("(s)", iso)))
        return fail("the CD-ROM could not be ejected and inserted again");
    if (!call_ok(conn, "MouseEvent", g_variant_new("(iiiu)", 5, -3, 1, 1u)) ||
        !call_ok(conn, "MouseEvent", g_variant_new("(iiiu)", 0, 0, 0, 0u)))
        return fail("MouseEvent failed");
    printf("e2e-pc: display %ux%u, %u lit pixels; media change and mouse calls answered\n", dw, dh, lit);
    if (check_tablet(conn, dw, dh, (size_t)ready) != 0)
        return 1;

    /* The ACPI power button: the guest shuts itself down. */
    if (!call_ok(conn, "Shutdown", NULL))
        return fail("Shutdown failed");
    if (child_wait_for(&vm, "hostel-e2e: power button, powering off", (size_t)ready, now_s() + 60) < 0)
        return fail("the guest did not react to the power button");
    int status = child_wait_exit(&vm, now_s() + 60);
    if (status != 0) {
        char what[96];
        snprintf(what, sizeof(what), "hostel-vm exited with status %d after the power button, not 0", status);
        return fail(what);
    }
    g_object_unref(conn);
    printf("\ne2e-pc: PASS cd: boot_menu_s=%.1f userspace_s=%.1f typed_s=%.1f total_s=%.1f\n",
           t_menu, t_ready, t_typed - t_ready, now_s() - t0);
    return 0;
}

#define DATA_DISK_SECTORS 4096   /* the second disk: 2 MiB */

static int run_disk(const char *hostel_vm, const char *disk, const char *data)
{
    double t0 = now_s();
    char *argv[] = { (char *)hostel_vm, "--disk", (char *)disk, "--disk", (char *)data, "--boot", "disk",
                     "--memory", "256", NULL };
    if (child_spawn(&vm, argv) < 0)
        return fail("could not start hostel-vm");
    long ready = child_wait_for(&vm, "HOSTEL-E2E-READY", 0, now_s() + timeout);
    if (ready < 0)
        return fail("Linux did not boot from the disk (no ready marker)");
    if (!strstr(vm.buf, "SYSLINUX"))
        return fail("the serial console shows no SYSLINUX banner");
    double t_ready = now_s() - t0;
    /* Write into the gap before the first partition, synchronously (the
     * guest flushes its cache), then power off from the shell. */
    if (child_type(&vm, "printf HOSTEL-DISK-WRITE | dd of=/dev/sda bs=512 seek=100 conv=fsync 2>/dev/null"
                        " && echo write-$((3*5))\n") < 0 ||
        child_wait_for(&vm, "write-15", (size_t)ready, now_s() + 120) < 0)
        return fail("the guest could not write to its disk");
    /* The second disk, on the primary slave, is sdb: its size, and a write
     * to its last sector. */
    char cmd[256], want[64];
    snprintf(cmd, sizeof(cmd), "echo sdb-$((1+1))=$(cat /sys/block/sdb/size) && printf HOSTEL-DATA-WRITE | "
             "dd of=/dev/sdb bs=512 seek=%u conv=fsync 2>/dev/null && echo data-$((2+5))\n", DATA_DISK_SECTORS - 1);
    snprintf(want, sizeof(want), "sdb-2=%u", DATA_DISK_SECTORS);
    if (child_type(&vm, cmd) < 0 || child_wait_for(&vm, "data-7", (size_t)ready, now_s() + 120) < 0 ||
        !strstr(vm.buf + ready, want))
        return fail("the guest does not see the second disk as sdb of 2 MiB, or could not write to it");
    /* A reboot restarts the machine: the firmware and the boot loader run
     * again and the system comes back. */
    size_t before = vm.len;
    if (child_type(&vm, "reboot -f\n") < 0)
        return fail("could not type reboot");
    long again = child_wait_for(&vm, "HOSTEL-E2E-READY", before, now_s() + timeout);
    if (again < 0 || !strstr(vm.buf + before, "SYSLINUX"))
        return fail("the guest did not come back after reboot -f");
    double t_reboot = now_s() - t0;
    if (child_type(&vm, "poweroff -f\n") < 0)
        return fail("could not type poweroff");
    int status = child_wait_exit(&vm, now_s() + 60);
    if (status != 0)
        return fail("hostel-vm did not power off cleanly after the disk boot");
    FILE *f = fopen(disk, "rb");
    char got[18] = {0};
    if (!f || fseek(f, 100 * 512, SEEK_SET) != 0 || fread(got, 1, 17, f) != 17 ||
        strcmp(got, "HOSTEL-DISK-WRITE") != 0)
        return fail("the guest's write did not reach the disk image");
    fclose(f);
    f = fopen(data, "rb");
    memset(got, 0, sizeof(got));
    if (!f || fseek(f, (DATA_DISK_SECTORS - 1) * 512L, SEEK_SET) != 0 || fread(got, 1, 17, f) != 17 ||
        strcmp(got, "HOSTEL-DATA-WRITE") != 0)
        return fail("the guest's write did not reach the second disk's image");
    fclose(f);
    printf("\ne2e-pc: PASS disk: userspace_s=%.1f rebooted_s=%.1f total_s=%.1f\n", t_ready, t_reboot,
           now_s() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: e2e-pc HOSTEL_VM ISO DISK VGA_ROM WORKDIR [TIMEOUT_S]\n");
        return 2;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("e2e-pc: skipped: no usable /dev/kvm\n");
        return 77;
    }
    if (argc > 6)
        timeout = atof(argv[6]);
    gchar *rom = NULL;
    gsize rom_len = 0;
    if (!g_file_get_contents(argv[4], &rom, &rom_len, NULL) ||
        png_text_find_font((const uint8_t *)rom, rom_len, font) < 0) {
        printf("e2e-pc: no 8x16 font found in %s\n", argv[4]);
        return 1;
    }
    g_free(rom);
    /* The test writes to its own copy of the disk. */
    char disk[512];
    snprintf(disk, sizeof(disk), "%s/disk.img", argv[5]);
    gchar *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(argv[3], &data, &len, NULL) || !g_file_set_contents(disk, data, (gssize)len, NULL)) {
        printf("e2e-pc: cannot copy the disk image to %s\n", disk);
        return 1;
    }
    g_free(data);
    char data_disk[512];
    snprintf(data_disk, sizeof(data_disk), "%s/data.img", argv[5]);
    gchar *zeros = g_malloc0(DATA_DISK_SECTORS * 512);
    gboolean made = g_file_set_contents(data_disk, zeros, DATA_DISK_SECTORS * 512, NULL);
    g_free(zeros);
    if (!made) {
        printf("e2e-pc: cannot write %s\n", data_disk);
        return 1;
    }
    if (run_cd(argv[1], argv[2], disk, argv[5]) != 0)
        return 1;
    return run_disk(argv[1], disk, data_disk);
}
