#!/bin/bash
# hostelctl's command line without KVM: the VM library through create, list,
# show, modify, cdrom (stopped VM), disk, os-list and delete, with --json;
# usage errors and their exit statuses; a malformed definition reported
# with its file and line and left as it was; starting a VM whose hostel-vm
# fails, reported with hostel-vm's own sentence.
# Usage: test-hostelctl.sh HOSTELCTL
CTL=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export XDG_DATA_HOME=$TMP/data XDG_RUNTIME_DIR=$TMP/run HOME=$TMP/home HOSTEL_NO_OSINFO=1
mkdir -p "$XDG_RUNTIME_DIR" "$HOME"
chmod 700 "$XDG_RUNTIME_DIR"
fails=0

expect() {   # expect STATUS 'TEXT' -- ARGS...
    local want=$1 text=$2
    shift 3
    local out status
    out=$("$CTL" "$@" 2>&1 < /dev/null)
    status=$?
    if [ "$status" != "$want" ] || ! grep -qF -- "$text" <<<"$out"; then
        echo "FAIL: hostelctl $* -> status $status (want $want), output:"
        sed 's/^/    /' <<<"$out"
        echo "    (wanted text: $text)"
        fails=$((fails + 1))
    else
        echo "ok: hostelctl $* -> $status"
    fi
}

json_field() {  # json_field FIELD: read JSON on stdin, print the field
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]] if isinstance(d, dict) else d[0][sys.argv[1]])' "$1"
}

expect 0 "Usage: hostelctl COMMAND" -- --help
for c in list create show modify start pause resume reset shutdown poweroff screenshot type text pointer cdrom delete disk os-list; do
    expect 0 "Usage: hostelctl $c" -- "$c" --help
done
expect 64 "unknown command 'frobnicate'" -- frobnicate
expect 0 "No VMs yet" -- list
expect 64 "Give the new VM a name with --name" -- create
expect 64 "--memory wants MiB" -- create --name a --memory 8
expect 64 "--cpus wants a number" -- create --name a --cpus 0
expect 64 "--disk-size wants a size" -- create --name a --disk-size lots
expect 64 "Unknown --os" -- create --name a --os nosuchos
expect 66 "Cannot read the ISO" -- create --name a --iso "$TMP/missing.iso"

head -c 4096 /dev/zero > "$TMP/fake.iso"
expect 0 "Created VM 'Desk 1'" -- create --name "Desk 1" --os debian12 --disk-size 64M --iso "$TMP/fake.iso"
expect 1 "" -- create --name "desk 1"
json=$("$CTL" show "Desk 1" --json)
[ "$(json_field memory_mib <<<"$json")" = 2048 ] && [ "$(json_field cpus <<<"$json")" = 2 ] &&
    [ "$(json_field state <<<"$json")" = stopped ] && [ "$(json_field cdrom <<<"$json")" = "$TMP/fake.iso" ] ||
    { echo "FAIL: show --json: $json"; fails=$((fails + 1)); }
disk=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["disks"][0])' <<<"$json")
[ "$(stat -c %s "$disk")" = $((64 << 20)) ] || { echo "FAIL: the disk is not 64 MiB"; fails=$((fails + 1)); }
expect 0 "Desk 1" -- list
expect 0 '"name" : "Desk 1"' -- list --json

expect 0 "" -- modify "Desk 1" --memory 512 --cpus 1 --boot disk,cd --no-iso
json=$("$CTL" show "Desk 1" --json)
[ "$(json_field memory_mib <<<"$json")" = 512 ] && [ "$(json_field boot_order <<<"$json")" = disk,cd ] &&
    [ "$(json_field cdrom <<<"$json")" = None ] || { echo "FAIL: modify did not stick: $json"; fails=$((fails + 1)); }
expect 64 "" -- modify "Desk 1" --boot floppy
expect 2 "no VM named" -- show nosuch
expect 0 "" -- cdrom insert "Desk 1" "$TMP/fake.iso"
[ "$("$CTL" show "Desk 1" --json | json_field cdrom)" = "$TMP/fake.iso" ] ||
    { echo "FAIL: cdrom insert on a stopped VM"; fails=$((fails + 1)); }
expect 64 "Say 'insert VM FILE' or 'eject VM'" -- cdrom spin "Desk 1"

# Control commands need a running VM.
expect 3 "is not running; start it with" -- pause "Desk 1"
expect 3 "is not running" -- type "Desk 1" 'echo hi\n'
expect 3 "is not running" -- screenshot "Desk 1" "$TMP/x.png"
expect 64 "Give the VM and the PNG file" -- screenshot "Desk 1"
expect 3 "is not running" -- pointer "Desk 1" 10 20 --click left
expect 64 "--click wants left, right or middle" -- pointer "Desk 1" 10 20 --click up
expect 64 "--wheel wants a number of clicks" -- pointer "Desk 1" 10 20 --wheel 0
expect 64 "--wheel wants a number of clicks" -- pointer "Desk 1" 10 20 --wheel 101
expect 64 "X and Y are pixels" -- pointer "Desk 1" 10 y
expect 64 "Give the VM and the pixel" -- pointer "Desk 1" 10

# Starting with a hostel-vm that fails: its own sentence comes back.
printf '#!/bin/sh\necho "hostel-vm: No usable KVM here (test)." >&2\nexit 68\n' > "$TMP/fake-vm"
chmod +x "$TMP/fake-vm"
HOSTEL_VM=$TMP/fake-vm expect 1 "No usable KVM here (test)" -- start "Desk 1" --headless

# Disks.
expect 0 "Created the raw disk image" -- disk create "$TMP/extra.img" 8M
expect 66 "pick a new file name" -- disk create "$TMP/extra.img" 8M
expect 64 "multiple of 512" -- disk create "$TMP/odd.img" 1000
expect 0 "Size:      8388608 bytes" -- disk info "$TMP/extra.img"
expect 0 '"size" : 8388608' -- disk info "$TMP/extra.img" --json
expect 66 "does not exist" -- disk info "$TMP/none.img"
expect 0 "debian12" -- os-list
expect 0 "Windows" -- os-list windows

# A definition broken by hand: reported with file and line, never rewritten.
def=$(ls "$XDG_DATA_HOME"/hostel/machines/*/machine.hostel)
printf 'this line is not a key\n' >> "$def"
line=$(wc -l < "$def")
before=$(md5sum < "$def")
uuid=$(basename "$(dirname "$def")")
expect 4 "machine.hostel:" -- list
expect 4 "machine.hostel:$line:" -- show "$uuid"
expect 4 "machine.hostel:" -- modify "$uuid" --memory 256
[ "$(md5sum < "$def")" = "$before" ] || { echo "FAIL: the broken definition was rewritten"; fails=$((fails + 1)); }
# Repair by hand and delete.
head -n -1 "$def" > "$def.tmp" && mv "$def.tmp" "$def"
expect 0 "" -- delete "Desk 1"
expect 0 "No VMs yet" -- list
[ ! -e "$disk" ] || { echo "FAIL: delete left the disk"; fails=$((fails + 1)); }

[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
