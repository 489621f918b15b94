#!/bin/bash
# Linux end-to-end tests: assemble the default guest (Debian's cloud kernel
# and a busybox initramfs) and run e2e-linux on it for each CPU count, all in
# one run of kvm-run.sh (one nested KVM host when this machine has no KVM).
#
# Usage: run-e2e.sh KVM_RUN HOSTEL_VM E2E_LINUX CONFIG[,CONFIG...]
#   CONFIG: a vCPU count, optionally with a boot protocol and a CPU model
#           ("2", "1:pvh", "1:pvh:conservative"; "1:firmware" boots it
#           through SeaBIOS)
set -euo pipefail
KVM_RUN=$1 VM=$2 E2E=$3 CPUS=$4
HERE=$(cd "$(dirname "$0")" && pwd)
mapfile -t GUEST < <("$HERE/../../scripts/make-default-guest.sh")
[ ${#GUEST[@]} = 2 ] || { echo "run-e2e: could not assemble the default guest"; exit 77; }
FW=()
for f in /usr/share/seabios /usr/share/qemu/linuxboot_dma.bin; do [ -e "$f" ] && FW+=(--copy "$f"); done
exec "$KVM_RUN" --timeout 1500 --copy "$VM" --copy "$E2E" --copy "${GUEST[0]}" --copy "${GUEST[1]}" ${FW[@]+"${FW[@]}"} -- \
    "$E2E" "$VM" "${GUEST[0]}" "${GUEST[1]}" "$CPUS" 1200
