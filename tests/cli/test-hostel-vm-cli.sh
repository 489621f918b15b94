#!/bin/bash
# hostel-vm's command line: usage errors, bad files and bad images get a
# clear sentence and their distinct exit status; nothing here needs KVM,
# since every check fails before the VM would start (or checks the message
# for a missing /dev/kvm when there is none).
# Usage: test-hostel-vm-cli.sh HOSTEL_VM GUEST_IMAGE
VM=$1
GUEST=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0

expect() {   # expect STATUS 'TEXT' -- ARGS...
    local want=$1 text=$2
    shift 3
    local out status
    out=$("$VM" "$@" 2>&1 < /dev/null)
    status=$?
    if [ "$status" != "$want" ] || ! grep -qF -- "$text" <<< "$out"; then
        echo "FAIL: hostel-vm $* -> status $status (want $want), output:"
        echo "$out" | sed 's/^/    /'
        echo "    (wanted text: $text)"
        fails=$((fails + 1))
    else
        echo "ok: hostel-vm $* -> $status"
    fi
}

expect 0 "Usage: hostel-vm [--kernel FILE | --firmware FILE]" -- --help
expect 0 "hostel-vm 0." -- --version
expect 64 "--kernel-entry is for booting without firmware" -- --kernel "$GUEST" --firmware /usr/share/seabios/bios-256k.bin --kernel-entry pvh
expect 66 "Only a Linux bzImage can boot through the firmware" -- --kernel "$GUEST" --firmware /usr/share/seabios/bios-256k.bin
expect 64 "--initrd and --append need --kernel" -- --append quiet
expect 66 "Could not read the firmware" -- --firmware "$TMP/missing"
expect 66 "is not a BIOS image" -- --firmware "$GUEST"
expect 66 "is not a regular file" -- --firmware /dev/zero
expect 64 "unknown option '--bogus'" -- --bogus
expect 64 "--memory wants a size in MiB" -- --kernel "$GUEST" --memory 12
expect 64 "--memory wants a size in MiB" -- --kernel "$GUEST" --memory lots
expect 64 "--cpus wants a number from 1 to 64" -- --kernel "$GUEST" --cpus 0
expect 64 "--cpus wants a number from 1 to 64" -- --kernel "$GUEST" --cpus 65
expect 64 "--cpu is 'host' or 'conservative'" -- --kernel "$GUEST" --cpu 486
expect 64 "--kernel-entry is auto, linux64" -- --kernel "$GUEST" --kernel-entry elf
expect 64 "--serial is 'stdio' or 'none'" -- --kernel "$GUEST" --serial tcp
expect 64 "unexpected argument 'extra'" -- --kernel "$GUEST" extra
expect 66 "Could not read the kernel" -- --kernel "$TMP/missing"
expect 66 "Could not read the initrd" -- --kernel "$GUEST" --initrd "$TMP/missing"
expect 66 "is not a regular file" -- --kernel /dev/zero
expect 66 "is not a regular file" -- --kernel "$GUEST" --initrd "$TMP"
# The PC's drives and firmware options.
truncate -s 1000 "$TMP/odd.img"
expect 66 "does not exist; check the path" -- --disk "$TMP/missing.img"
expect 66 "is not a multiple of 512" -- --disk "$TMP/odd.img"
# Three disks at most; the second of two bad ones is not reached.
truncate -s 1M "$TMP/a.img"
expect 64 "--disk can be given at most 3 times" -- --disk "$TMP/a.img" --disk "$TMP/a.img" --disk "$TMP/a.img" --disk "$TMP/a.img"
expect 66 "missing2.img does not exist" -- --disk "$TMP/a.img" --disk "$TMP/missing2.img"
expect 66 "is in use by another virtual machine" -- --disk "$TMP/a.img" --disk "$TMP/a.img"
expect 66 "neither a regular file nor a block device" -- --cdrom "$TMP"
expect 64 "--boot is a list of 'cd' and 'disk'" -- --boot floppy
expect 64 "--boot is a list of 'cd' and 'disk'" -- --boot cd,,disk
expect 64 "--boot-menu wants how long" -- --boot-menu 0
expect 64 "--boot and --boot-menu are for the firmware: add --firmware" -- --kernel "$GUEST" --boot cd
expect 66 "exists and is not a socket" -- --control "$TMP/odd.img"
expect 64 "--uuid wants a UUID" -- --uuid 1234

# A file that is no kernel: rejected with a sentence (status 66), or, on a
# machine without KVM, the missing-KVM sentence (68) comes first.
head -c 4096 /dev/urandom > "$TMP/garbage"
out=$("$VM" --kernel "$TMP/garbage" 2>&1)
status=$?
if [ -e /dev/kvm ]; then
    [ "$status" = 66 ] && [ -n "$out" ] || { echo "FAIL: garbage kernel -> $status: $out"; fails=$((fails + 1)); }
else
    [ "$status" = 68 ] && grep -q "no /dev/kvm" <<< "$out" || { echo "FAIL: no-KVM message -> $status: $out"; fails=$((fails + 1)); }
fi
echo "ok: garbage kernel -> $status"

[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
