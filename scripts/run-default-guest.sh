#!/bin/bash
# Boot Hostel's built-in default guest (Debian's cloud kernel and a busybox
# initramfs, see make-default-guest.sh) with hostel-vm.
#
# With a usable /dev/kvm: an interactive shell on this terminal (2 vCPUs,
# 512 MiB); 'poweroff -f' in the guest or Ctrl-A x stops it.
# Without one (a machine that is itself a VM without nested virtualization):
# hostel-vm runs inside an emulated KVM host (tests/nested/kvm-run.sh), so
# the guest runs non-interactively, prints what it sees and powers off.
#
# Usage: run-default-guest.sh [extra hostel-vm options]
# Environment: BUILD (meson build directory, default ./build).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$HERE/../build}
VM=$(cd "$BUILD" && pwd)/src/hostel-vm
[ -x "$VM" ] || { echo "run-default-guest: $VM is missing; build first: meson setup build && ninja -C build" >&2; exit 1; }

mapfile -t GUEST < <("$HERE/make-default-guest.sh")
KERNEL=${GUEST[0]}
INITRD=${GUEST[1]}

if [ "${HOSTEL_FORCE_NESTED:-0}" != 1 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    exec "$VM" --kernel "$KERNEL" --initrd "$INITRD" --cpus 2 --memory 512 \
        --append "console=ttyS0 quiet" "$@"
fi

echo "run-default-guest: this machine has no usable /dev/kvm; running hostel-vm inside an" >&2
echo "run-default-guest: emulated KVM host (QEMU TCG with AMD SVM), non-interactively." >&2
exec "$HERE/../tests/nested/kvm-run.sh" --timeout 600 --copy "$VM" --copy "$KERNEL" --copy "$INITRD" -- \
    "$VM" --kernel "$KERNEL" --initrd "$INITRD" --cpus 2 --memory 512 \
    --append "console=ttyS0 quiet hostel.demo" --stats "$@"
