#!/bin/sh
# Boot each test guest in hostel-vm and check its exit status (85 = the
# guest's checks passed) and its console line. Runs under busybox sh, so it
# can run inside the nested KVM host of tests/nested/kvm-run.sh.
#
# Usage: run-guests.sh HOSTEL_VM GUEST_DIR
# Prints one "guest NAME: PASS|FAIL ..." line per guest; exit 1 if any failed.
VM=$1
DIR=$2
[ -e /dev/kvm ] || { echo "run-guests: skipped: no /dev/kvm"; exit 77; }
failed=0
# name  cpus  expected console text
while read -r name cpus expect; do
    out=$("$VM" --kernel "$DIR/guest-$name.elf" --cpus "$cpus" --memory 64 --quiet 2>&1 < /dev/null)
    status=$?
    if [ "$status" = 85 ] && echo "$out" | grep -q "$expect"; then
        echo "guest $name: PASS ($(echo "$out" | grep "$expect" | head -1 | tr -d '\r'))"
    else
        echo "guest $name: FAIL (exit status $status, expected 85)"
        echo "$out" | sed 's/^/    /'
        failed=1
    fi
done <<LIST
uart 1 hello through the 16550A
rtc 1 rtc test guest: 20
pci 1 host bridge 8086:1237 alone on bus 0
pit_ioapic 1 ticks in
smp 2 1 AP(s) started, APIC ID 1
LIST
exit $failed
