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
#   hostel.e2e    print a ready marker and give the shell to the test driver
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
    echo "HOSTEL-E2E-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
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
