#!/bin/bash
# Build the e2e ISO and run tests/e2e/hostelctl-e2e.sh where KVM works.
# Usage: run-hostelctl-e2e.sh KVM_RUN HOSTELCTL HOSTEL_VM
set -euo pipefail
KVM_RUN=$1 CTL=$2 VM=$3
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$(cd "$HERE/../../data" && pwd)
[ -r /usr/share/seabios/bios-256k.bin ] || { echo "run-hostelctl-e2e: Debian's seabios is not installed: skipped"; exit 77; }
WORK=$(mktemp -d /tmp/hostel-ctl-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$HERE/../setup/make-boot-media.sh" --quiet iso "$WORK/boot.iso" || { echo "run-hostelctl-e2e: cannot build the ISO"; exit 77; }
exec "$KVM_RUN" --timeout 900 --copy "$CTL" --copy "$VM" --copy "$WORK" --copy "$DATA" --copy /usr/share/seabios \
    --copy "$HERE/hostelctl-e2e.sh" -- \
    /bin/sh "$HERE/hostelctl-e2e.sh" "$CTL" "$WORK/boot.iso" "$DATA"
