/* End-to-end: boot Linux with a busybox initramfs in hostel-vm, wait for
 * the guest's ready marker on the serial console, type a command, check
 * its output, and power the guest off from its shell. One boot does all
 * checks of one configuration (guest kernel code is slow on nested hosts).
 *
 * Usage: e2e-linux HOSTEL_VM KERNEL INITRD CONFIG[,CONFIG...] [TIMEOUT_S]
 * CONFIG is a vCPU count, optionally with a boot protocol and a CPU model:
 * "2", "1:pvh" or "1:pvh:conservative"; the protocol "firmware" boots the
 * kernel through SeaBIOS.
 * Each CONFIG is one boot.
 * Exit: 0 pass, 1 fail, 77 skipped (no usable KVM). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_child.h"

static int fail(struct child *c, const char *what)
{
    printf("\ne2e-linux: FAIL: %s\n", what);
    child_kill(c);
    return 1;
}

static int run_one(const char *vm, const char *kernel, const char *initrd, const char *cpus,
                   const char *entry, const char *model, double timeout)
{
    static struct child c;
    double t0 = now_s();
    /* Entry "firmware": SeaBIOS boots the kernel (fw_cfg and its Linux
     * boot option ROM) instead of hostel-vm entering it directly. */
    bool fw = strcmp(entry, "firmware") == 0;
    char *argv[] = { (char *)vm, "--kernel", (char *)kernel, "--initrd", (char *)initrd, "--cpus", (char *)cpus,
                     "--cpu", (char *)model, "--memory", "512", "--stats",
                     "--append", "console=ttyS0 panic=-1 hostel.e2e",
                     fw ? "--firmware" : "--kernel-entry", fw ? "/usr/share/seabios/bios-256k.bin" : (char *)entry,
                     NULL };
    if (child_spawn(&c, argv) < 0)
        return 2;
    long ready = child_wait_for(&c, "HOSTEL-E2E-READY", 0, t0 + timeout);
    if (ready < 0)
        return fail(&c, "the guest did not reach userspace (no ready marker)");
    double t_ready = now_s() - t0;
    if (!strstr(c.buf, "Hostel default guest: Linux "))
        return fail(&c, "no banner from the guest's init");
    /* Through the firmware the guest reads Hostel's SMBIOS tables. */
    if (fw && !strstr(c.buf, "DMI: Hostel Hostel Virtual Machine"))
        return fail(&c, "the guest did not find Hostel's SMBIOS tables");
    char expect_cpus[64];
    snprintf(expect_cpus, sizeof(expect_cpus), ", %s CPU(s)", cpus);
    if (!strstr(c.buf, expect_cpus))
        return fail(&c, "the guest does not see the expected number of CPUs");

    /* A command typed on the serial console runs; its output comes back. */
    const char *cmd = "echo e2e-sum=$((6*7)) cpus=$(nproc) ioapic=$(grep -c IO-APIC /proc/interrupts)\n";
    if (child_type(&c, cmd) < 0)
        return fail(&c, "could not type into the guest console");
    char expect[64];
    snprintf(expect, sizeof(expect), "e2e-sum=42 cpus=%s", cpus);
    long hit = child_wait_for(&c, expect, (size_t)ready, now_s() + 120);
    if (hit < 0)
        return fail(&c, "the typed command's output did not appear");
    /* Interrupts must travel through the IOAPIC, not only the 8259s. */
    if (child_wait_for(&c, "ioapic=", (size_t)hit, now_s() + 10) < 0 || strstr(c.buf + hit, "ioapic=0"))
        return fail(&c, "no interrupt in the guest goes through the IOAPIC");
    double t_cmd = now_s() - t0;

    if (child_type(&c, "poweroff -f\n") < 0)
        return fail(&c, "could not type poweroff");
    int status = child_wait_exit(&c, now_s() + 120);
    if (status < 0)
        return fail(&c, "hostel-vm did not exit after the guest powered off");
    if (status != 0) {
        char what[96];
        snprintf(what, sizeof(what), "hostel-vm exited with status %d, not 0 (power off)", status);
        return fail(&c, what);
    }
    printf("\ne2e-linux: PASS cpus=%s entry=%s cpu=%s userspace_s=%.1f command_s=%.1f total_s=%.1f\n",
           cpus, entry, model, t_ready, t_cmd - t_ready, now_s() - t0);
    close(c.in);
    close(c.out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: e2e-linux HOSTEL_VM KERNEL INITRD CONFIG[,CONFIG...] [TIMEOUT_S]\n");
        return 2;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("e2e-linux: skipped: no usable /dev/kvm\n");
        return 77;
    }
    double timeout = argc > 5 ? atof(argv[5]) : 600;
    int failed = 0;
    char *list = strdup(argv[4]);
    for (char *save = NULL, *cpus = strtok_r(list, ",", &save); cpus; cpus = strtok_r(NULL, ",", &save)) {
        const char *entry = "auto", *model = "host";
        char *colon = strchr(cpus, ':');
        if (colon) {
            *colon = 0;
            entry = colon + 1;
            colon = strchr(colon + 1, ':');
            if (colon) {
                *colon = 0;
                model = colon + 1;
            }
        }
        printf("e2e-linux: booting with %s vCPU(s), kernel entry %s, CPU model %s\n", cpus, entry, model);
        if (run_one(argv[1], argv[2], argv[3], cpus, entry, model, timeout) != 0)
            failed = 1;
    }
    free(list);
    return failed;
}
