#!/bin/bash
# PC platform end-to-end test: build the boot ISO and disk from Debian
# packages (tests/setup/make-boot-media.sh), then run e2e-pc on them in one
# run of kvm-run.sh (a nested KVM host when this machine has no KVM).
#
# Usage: run-e2e-pc.sh KVM_RUN HOSTEL_VM E2E_PC
set -euo pipefail
KVM_RUN=$1 VM=$2 E2E=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ROM=/usr/share/seabios/vgabios-stdvga.bin
BIOS=/usr/share/seabios/bios-256k.bin
[ -r "$ROM" ] && [ -r "$BIOS" ] || { echo "run-e2e-pc: Debian's seabios package is not installed: skipped"; exit 77; }
WORK=$(mktemp -d /tmp/hostel-e2e-pc.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$HERE/../setup/make-boot-media.sh" --quiet iso "$WORK/boot.iso" || { echo "run-e2e-pc: cannot build the ISO"; exit 77; }
"$HERE/../setup/make-boot-media.sh" --quiet disk "$WORK/boot.img" || { echo "run-e2e-pc: cannot build the disk"; exit 77; }
exec "$KVM_RUN" --timeout 1500 --copy "$VM" --copy "$E2E" --copy "$WORK" --copy /usr/share/seabios -- \
    "$E2E" "$VM" "$WORK/boot.iso" "$WORK/boot.img" "$ROM" "$WORK" 1200
