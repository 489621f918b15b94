#!/bin/sh
# hostelctl against real VMs (runs where /dev/kvm works: inside kvm-run.sh's
# L1 when the machine has none; busybox sh). Creates a VM with the e2e ISO,
# starts it headless, waits for the guest's shell on the text screen, types
# a command and reads its answer there, takes a screenshot, moves and clicks
# the pointer (the guest reads its tablet), pauses and resumes, and shuts it
# down with the power button.
# Usage: hostelctl-e2e.sh HOSTELCTL ISO DATA_DIR
CTL=$1 ISO=$2
export HOSTEL_DATA_DIR=$3
[ -c /dev/kvm ] || { echo "hostelctl-e2e: skipped: no /dev/kvm"; exit 77; }
TMP=$(mktemp -d /tmp/hostelctl-e2e.XXXXXX)
export XDG_DATA_HOME=$TMP/data XDG_RUNTIME_DIR=$TMP/run HOME=$TMP
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
VM=e2e
fail() {
    echo "hostelctl-e2e: FAIL: $*"
    for f in "$XDG_DATA_HOME"/hostel/machines/*/hostel-vm.log; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
    "$CTL" poweroff "$VM" >/dev/null 2>&1
    exit 1
}
state() { "$CTL" show "$VM" --json | sed -n 's/.*"state" : "\([a-z]*\)".*/\1/p'; }
wait_text() {  # wait_text TEXT SECONDS
    i=0
    while [ $i -lt $(($2 * 4)) ]; do
        "$CTL" text "$VM" 2>/dev/null | grep -q "$1" && return 0
        sleep 0.25
        i=$((i + 1))
    done
    return 1
}
t0=$(cut -d' ' -f1 /proc/uptime)
"$CTL" create --name "$VM" --os other-linux --memory 256 --cpus 1 --disk-size 16M --iso "$ISO" ||
    fail "create"
"$CTL" start "$VM" --headless || fail "start --headless"
[ "$(state)" = running ] || fail "the VM is not running after start (state $(state))"
"$CTL" start "$VM" --headless >/dev/null 2>&1 && fail "a second start was not refused"
wait_text HOSTEL-E2E-READY 300 || fail "the guest's ready marker did not appear on the screen"
"$CTL" type "$VM" 'echo ctl-$((6*7))\n' || fail "type"
wait_text ctl-42 60 || fail "the typed command's answer did not appear on the screen"
"$CTL" screenshot "$VM" "$TMP/shot.png" || fail "screenshot"
# The tablet: the guest's shell reads its evdev node (od: 32-bit words,
# "time(4) code<<16|type value" per event) while hostelctl moves the pointer
# beyond the screen (clamped to its last pixel) and clicks the left button:
# ABS_X and ABS_Y that the guest maps (value * pixels / 32768, as libinput
# does) to the last column and row of the screen (its size from the
# screenshot's PNG header), then BTN_LEFT (0x110) 1 and 0, each update
# ended by SYN: 7 events of 24 bytes.
set -- $(od -An -tu1 -j16 -N8 "$TMP/shot.png")
[ $# = 8 ] || fail "cannot read the screenshot's size"
W=$(($1 << 24 | $2 << 16 | $3 << 8 | $4)) H=$(($5 << 24 | $6 << 16 | $7 << 8 | $8))
"$CTL" type "$VM" 'for e in /sys/class/input/event*; do grep -q Tablet $e/device/name && T=/dev/input/${e##*/}; done; od -An -td4 -w24 -N168 $T; echo tab-$((4+4))\n' ||
    fail "type the tablet reader"
sleep 3
"$CTL" pointer "$VM" 5000 5000 --click left || fail "pointer"
wait_text tab-8 60 || fail "the tablet's events did not reach the guest"
"$CTL" text "$VM" | awk -v w="$W" -v h="$H" '$5 == 3 && int($6 * w / 32768) == w - 1 { x = 1 }
    $5 == 65539 && int($6 * h / 32768) == h - 1 { y = 1 }
    $5 == 17825793 && $6 == 1 { down = 1 } $5 == 17825793 && $6 == 0 { up = 1 } END { exit !(x && y && down && up) }' ||
    fail "the guest's tablet did not read the pointer clamped to the last pixel and a left click: $("$CTL" text "$VM" | tail -n 9)"
[ "$(head -c 4 "$TMP/shot.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "the screenshot is not a PNG"
"$CTL" pause "$VM" || fail "pause"
[ "$(state)" = paused ] || fail "state after pause: $(state)"
"$CTL" resume "$VM" || fail "resume"
[ "$(state)" = running ] || fail "state after resume: $(state)"
"$CTL" cdrom eject "$VM" || fail "cdrom eject"
"$CTL" cdrom insert "$VM" "$ISO" || fail "cdrom insert"
"$CTL" shutdown "$VM" || fail "shutdown"
i=0
while [ "$(state)" != stopped ] && [ $i -lt 240 ]; do sleep 0.25; i=$((i + 1)); done
[ "$(state)" = stopped ] || fail "the VM did not stop after the power button"
grep -q "The guest powered off" "$XDG_DATA_HOME"/hostel/machines/*/hostel-vm.log || fail "the log does not say the guest powered off"
"$CTL" delete "$VM" || fail "delete"
t1=$(cut -d' ' -f1 /proc/uptime)
echo "hostelctl-e2e: PASS in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
rm -rf "$TMP"
