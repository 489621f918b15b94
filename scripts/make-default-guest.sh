#!/bin/bash
# Assemble Hostel's built-in default guest from Debian packages: Debian's
# cloud kernel and a busybox initramfs whose /init gives a shell on the
# serial console. Output (cached, rebuilt when its inputs change):
#   $CACHE/default-guest/vmlinuz
#   $CACHE/default-guest/initramfs.cpio.gz
# and the two paths are printed, one per line.
#
# The init script understands two words on the kernel command line:
#   hostel.demo   print what the guest sees, then power off (non-interactive)
#   hostel.e2e    print a ready marker and give the shell to the test driver;
#                 also: a second shell on tty1 (VGA text console + keyboard),
#                 and busybox acpid powering off on the ACPI power button
#                 (its evdev/button drivers are modules in the cloud kernel:
#                 the initramfs carries those two, the IDE disk's drivers and
#                 the virtio tablet's, loaded only under hostel.e2e)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}
OUT=$CACHE/default-guest

"$HERE/../tests/setup/fetch-debian.sh" --quiet linux-cloud busybox >&2
# shellcheck disable=SC1091
. "$CACHE/debian/linux-cloud/.hostel-stamp"
KVMLINUZ=$VMLINUZ
BUSYBOX=$CACHE/debian/busybox/bin/busybox
[ -x "$BUSYBOX" ] || { echo "make-default-guest: busybox-static did not unpack to $BUSYBOX" >&2; exit 1; }

read -r -d '' INIT <<'INIT_EOF' || true
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "Hostel default guest: Linux $(uname -r), $(nproc) CPU(s), $(sed -n 's/MemTotal: *//p' /proc/meminfo) RAM"
if grep -qw hostel.demo /proc/cmdline; then
    echo "uptime: $(cut -d' ' -f1 /proc/uptime) s; powering off"
    poweroff -f
fi
if grep -qw hostel.e2e /proc/cmdline; then
    # ACPI power button: busybox acpid maps KEY_POWER to the handler
    # /etc/acpi/PWRF/00000080 (run relative to its config directory).
    for m in evdev button scsi_common scsi_mod libata ata_piix sd_mod \
             virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_input; do
        [ -f /lib/modules/*/$m.ko ] && insmod /lib/modules/*/$m.ko 2>/dev/null
    done
    mkdir -p /etc/acpi/PWRF /var/log
    printf '%s\n' '#!/bin/sh' \
        'echo "hostel-e2e: power button, powering off" >/dev/console' \
        'poweroff -f' >/etc/acpi/PWRF/00000080
    chmod 755 /etc/acpi/PWRF/00000080
    [ -c /dev/input/event0 ] && acpid -c /etc/acpi -l /var/log/acpid.log
    # A second shell on the VGA text console, fed by the PS/2 keyboard.
    if [ -c /dev/tty1 ]; then
        setsid sh -c 'exec sh -i </dev/tty1 >/dev/tty1 2>&1' &
    fi
    READY="HOSTEL-E2E-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
    [ -c /dev/tty1 ] && echo "$READY" >/dev/tty1
    echo "$READY"
fi
echo "Type 'poweroff -f' to stop the VM."
setsid cttyhack sh
poweroff -f
INIT_EOF

# Rebuild only when the kernel, busybox or this script changed.
KEY=$(sha256sum "$0" "$KVMLINUZ" "$BUSYBOX" | sha256sum | cut -c1-16)
if [ -f "$OUT/.key" ] && [ "$(cat "$OUT/.key")" = "$KEY" ] && [ -f "$OUT/initramfs.cpio.gz" ]; then
    echo "$OUT/vmlinuz"
    echo "$OUT/initramfs.cpio.gz"
    exit 0
fi

TMP=$(mktemp -d "$CACHE/default-guest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/root"/{bin,sbin,dev,proc,sys,tmp,root,etc}
cp "$BUSYBOX" "$TMP/root/bin/busybox"
# Only the drivers hostel.e2e needs: the power button (see above), the
# IDE disk (ata_piix and its SCSI disk) and the virtio tablet, in load order.
mkdir -p "$TMP/root/lib/modules/$KVER"
for m in drivers/input/evdev.ko drivers/acpi/button.ko drivers/scsi/scsi_common.ko drivers/scsi/scsi_mod.ko \
         drivers/ata/libata.ko drivers/ata/ata_piix.ko drivers/scsi/sd_mod.ko \
         drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_pci_legacy_dev.ko \
         drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci.ko drivers/virtio/virtio_input.ko; do
    cp "$MODDIR/kernel/$m" "$TMP/root/lib/modules/$KVER/"
done
for a in $("$BUSYBOX" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$TMP/root/bin/$a"
done
printf '%s\n' "$INIT" > "$TMP/root/init"
chmod 755 "$TMP/root/init"
(cd "$TMP/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -6) > "$TMP/initramfs.cpio.gz"
cp "$KVMLINUZ" "$TMP/vmlinuz"
echo "$KEY" > "$TMP/.key"
rm -rf "$TMP/root"
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "$OUT/vmlinuz"
echo "$OUT/initramfs.cpio.gz"
