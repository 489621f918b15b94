#!/bin/sh
# Run a set of Hostel benchmarks where /dev/kvm works: directly, or inside
# the nested L1 of tests/nested/kvm-run.sh (busybox sh: POSIX only).
# bench/run-benchmarks.sh calls this through kvm-run.sh; it can also be run
# by hand on a machine with KVM.
#
# Usage: bench-in-vm.sh HOSTEL_BENCH HOSTEL_VM KVM_PIO_LOOP GUEST QEMU|none KERNEL|none INITRD|none ISO|none BENCH...
#   BENCH: pio boot bios mem linux
# Environment: BENCH_PIO_N (outs per pio run), BENCH_RUNS (runs per side).
# Exit status: 0 all measured (or skipped), 1 one failed, 77 all skipped.
if [ $# -lt 9 ]; then
    echo "usage: bench-in-vm.sh HOSTEL_BENCH HOSTEL_VM KVM_PIO_LOOP GUEST QEMU KERNEL INITRD ISO BENCH..." >&2
    exit 2
fi
HB=$1 VM=$2 LOOP=$3 GUEST=$4 QEMU=$5 KERNEL=$6 INITRD=$7 ISO=$8
shift 8

[ -c /dev/kvm ] || { echo "bench: skipped: no /dev/kvm"; exit 77; }

# KVM's per-VM exit counters (linux benchmark) live in debugfs; mount it in
# kvm-run.sh's L1 only, never on a real host.
if [ "$HOSTEL_NESTED" = 1 ] && [ ! -d /sys/kernel/debug/kvm ] && [ "$(id -u)" = 0 ]; then
    mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
fi

runs=
[ -z "$BENCH_RUNS" ] || runs="--runs $BENCH_RUNS"
pio_n=
[ -z "$BENCH_PIO_N" ] || pio_n="--n $BENCH_PIO_N"

failed=0
measured=0
# $runs and $pio_n are split into option and value on purpose.
# shellcheck disable=SC2086
for b in "$@"; do
    start=$(cut -d' ' -f1 /proc/uptime)
    case "$b" in
    pio)   "$HB" pio --vm "$VM" --loop "$LOOP" --guest "$GUEST" $pio_n $runs ;;
    boot)  "$HB" boot --vm "$VM" --qemu "$QEMU" --guest "$GUEST" $runs ;;
    bios)  "$HB" bios --vm "$VM" --qemu "$QEMU" --iso "$ISO" $runs ;;
    mem)   "$HB" mem --vm "$VM" --qemu "$QEMU" --guest "$GUEST" $runs ;;
    linux) "$HB" linux --vm "$VM" --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" $runs ;;
    *)     echo "bench: unknown benchmark '$b' (pio, boot, bios, mem, linux)"; false ;;
    esac
    rc=$?
    end=$(cut -d' ' -f1 /proc/uptime)
    echo "bench: $b finished with status $rc in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
    case $rc in
    0) measured=1 ;;
    77) ;;
    *) failed=1 ;;
    esac
done
[ $failed = 0 ] || exit 1
[ $measured = 1 ] || exit 77
exit 0
