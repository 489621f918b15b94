#!/bin/sh
# Boot each test guest in hostel-vm and check its exit status and console
# text (status 85: the guest's own checks passed). Runs under busybox sh, so
# it can run inside the nested KVM host of tests/nested/kvm-run.sh.
#
# Usage: run-guests.sh HOSTEL_VM GUEST_DIR
# Prints one "guest NAME: PASS|FAIL|SKIP ..." line per run; exit 1 if any failed.
VM=$1
DIR=$2
[ -e /dev/kvm ] || { echo "run-guests: skipped: no /dev/kvm"; exit 77; }
failed=0
# name|vCPUs|expected exit status|kernel command line|expected console text
while IFS='|' read -r name cpus want append expect; do
    out=$("$VM" --kernel "$DIR/guest-$name.elf" --cpus "$cpus" --memory 64 --quiet --stats --no-reboot \
          --append "$append" 2>&1 < /dev/null)
    status=$?
    label="$name${append:+ ($append)}"
    if [ "$name" = emulate ] && [ "$status" = 119 ]; then
        echo "guest $label: SKIP (KVM's forced-emulation prefix is not enabled on this host)"
        continue
    fi
    emulated=$(echo "$out" | sed -n 's/.*emulated=\([0-9]*\).*/\1/p')
    if [ "$status" = "$want" ] && echo "$out" | grep -q "$expect" &&
       { [ "$name" != emulate ] || [ "${emulated:-0}" -gt 0 ]; }; then
        echo "guest $label: PASS ($(echo "$out" | grep "$expect" | head -1 | tr -d '\r')) [emulated=$emulated]"
    else
        echo "guest $label: FAIL (exit status $status, expected $want; emulated=$emulated)"
        echo "$out" | sed 's/^/    /'
        failed=1
    fi
done <<LIST
uart|1|85||hello through the 16550A
rtc|1|85||rtc test guest: 20
pci|1|85||i440FX 0.0, PIIX3 ISA 1.0, IDE 1.1, PM 1.3, VGA 2.0
pit_ioapic|1|85||ticks in
smp|2|85||1 AP(s) started, APIC ID 1
triple|1|4||crashed with a triple fault on vCPU 0
reset|1|2||asked for a reset
reset|1|2|kbc|asked for a reset
emulate|1|85||emulate test guest: int3
LIST
exit $failed
