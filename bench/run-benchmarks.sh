#!/bin/bash
# Run Hostel's side-by-side benchmarks in ONE call of tests/nested/kvm-run.sh:
# directly where /dev/kvm works, otherwise all inside one nested L1 VM.
#
# Usage: bench/run-benchmarks.sh [--build DIR] [--qemu PATH|none] [--runs R]
#                                [--pio-n N] [--timeout SEC] [BENCH...]
#   BENCH       pio | boot | bios | mem | linux (default: all five)
#   --build     the meson build directory (default: build, beside bench/)
#   --qemu      the reference QEMU (default: qemu-system-x86_64 from PATH;
#               'none' measures hostel-vm alone, without ratios)
#   --runs      rounds / runs per side for pio / boot / bios / mem / linux (defaults 7 / 5 / 5 / 3 / 3)
#   --pio-n     port writes per pio run (default 30000)
#   --timeout   give up on L1 after SEC seconds (default: by the benchmarks)
#
# Needs the build: hostel-vm, bench/hostel-bench, bench/kvm-pio-loop,
# bench/bench-guest.elf (`ninja -C DIR`). 'linux' assembles the default guest
# with scripts/make-default-guest.sh (cached). Prints each benchmark's lines.
# Exit status: 0 measured, 1 a benchmark failed, 77 skipped, 125 L1 failed.
# Environment: HOSTEL_KVM_RUN (default tests/nested/kvm-run.sh), plus what
# kvm-run.sh reads (HOSTEL_CACHE, HOSTEL_FORCE_NESTED, ...).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
QEMU=
RUNS=
PIO_N=
TIMEOUT=
BENCHES=()

die() { echo "run-benchmarks: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --build) [ $# -ge 2 ] || die "--build needs a directory"; BUILD=$2; shift 2 ;;
    --qemu) [ $# -ge 2 ] || die "--qemu needs a path"; QEMU=$2; shift 2 ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a number"; RUNS=$2; shift 2 ;;
    --pio-n) [ $# -ge 2 ] || die "--pio-n needs a number"; PIO_N=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs seconds"; TIMEOUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    pio|boot|bios|mem|linux) BENCHES+=("$1"); shift ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[ ${#BENCHES[@]} -gt 0 ] || BENCHES=(pio boot bios mem linux)
BUILD=$(cd "$BUILD" && pwd) || die "no build directory $BUILD"

VM=$BUILD/src/hostel-vm
HB=$BUILD/bench/hostel-bench
LOOP=$BUILD/bench/kvm-pio-loop
GUEST=$BUILD/bench/bench-guest.elf
for f in "$VM" "$HB" "$LOOP" "$GUEST"; do
    [ -f "$f" ] || die "$f is missing: build first (ninja -C $BUILD)"
done

COPIES=(--copy "$VM" --copy "$HB" --copy "$LOOP" --copy "$GUEST")
want() { local b; for b in "${BENCHES[@]}"; do [ "$b" = "$1" ] && return 0; done; return 1; }

# QEMU, with the firmware its pc machine reads for -kernel: SeaBIOS, the
# multiboot / Linux loader option ROMs and the kvmvapic ROM (-nodefaults: no
# VGA or NIC ROMs). Copied to the same paths so QEMU finds them in L1.
if [ "$QEMU" != none ] && { want boot || want bios || want mem || want linux; }; then
    [ -n "$QEMU" ] || QEMU=$(command -v qemu-system-x86_64 || echo none)
    if [ "$QEMU" != none ]; then
        COPIES+=(--copy "$QEMU")
        for fw in /usr/share/seabios/bios-256k.bin /usr/share/seabios/vgabios-stdvga.bin \
                  /usr/share/qemu/vgabios-stdvga.bin /usr/share/qemu/kvmvapic.bin \
                  /usr/share/qemu/multiboot_dma.bin /usr/share/qemu/linuxboot_dma.bin; do
            [ -e "$fw" ] && COPIES+=(--copy "$fw")
        done
    else
        echo "run-benchmarks: qemu-system-x86_64 not found: no QEMU reference (apt-get install qemu-system-x86)" >&2
    fi
fi
QEMU=${QEMU:-none}

KERNEL=none INITRD=none
if want linux; then
    mapfile -t G < <("$ROOT/scripts/make-default-guest.sh")
    if [ ${#G[@]} = 2 ]; then
        KERNEL=${G[0]} INITRD=${G[1]}
        COPIES+=(--copy "$KERNEL" --copy "$INITRD")
    else
        echo "run-benchmarks: could not assemble the default guest: skipping linux" >&2
        B2=()
        for b in "${BENCHES[@]}"; do [ "$b" = linux ] || B2+=("$b"); done
        BENCHES=("${B2[@]}")
        [ ${#BENCHES[@]} -gt 0 ] || exit 77
    fi
fi

# The bios benchmark's ISO: an El Torito no-emulation boot image whose
# first instruction ends the run (mov al, 0x2a; out 0xf4, al; then halt).
ISO=none
if want bios; then
    if [ -r /usr/share/seabios/bios-256k.bin ] && command -v xorriso >/dev/null; then
        BIOSDIR=$(mktemp -d)
        trap 'rm -rf "$BIOSDIR"' EXIT
        mkdir "$BIOSDIR/iso"
        printf '\xb0\x2a\xe6\xf4\xfa\xf4\xeb\xfd' >"$BIOSDIR/iso/boot.bin"
        truncate -s 2048 "$BIOSDIR/iso/boot.bin"
        xorriso -as mkisofs -quiet -b boot.bin -no-emul-boot -boot-load-size 4 -o "$BIOSDIR/bios.iso" "$BIOSDIR/iso"
        ISO=$BIOSDIR/bios.iso
        COPIES+=(--copy "$ISO" --copy /usr/share/seabios)
    else
        echo "run-benchmarks: bios needs Debian's seabios and xorriso: skipping bios" >&2
        B2=()
        for b in "${BENCHES[@]}"; do [ "$b" = bios ] || B2+=("$b"); done
        BENCHES=("${B2[@]}")
        [ ${#BENCHES[@]} -gt 0 ] || exit 77
    fi
fi

if [ -z "$TIMEOUT" ]; then
    # About 5x what each takes in L1 on the 2-core development machine
    # (pio ~25 s, boot ~6 s, mem ~18 s, linux ~65 s), so that a frozen L1
    # is given up on in minutes, not hours.
    TIMEOUT=120
    for b in "${BENCHES[@]}"; do
        case $b in pio) TIMEOUT=$((TIMEOUT + 150)) ;; boot) TIMEOUT=$((TIMEOUT + 60)) ;;
                   bios) TIMEOUT=$((TIMEOUT + 90)) ;; mem) TIMEOUT=$((TIMEOUT + 90)) ;; linux) TIMEOUT=$((TIMEOUT + 300)) ;; esac
    done
fi

ENVS=()
[ -z "$RUNS" ] || ENVS+=(--env "BENCH_RUNS=$RUNS")
[ -z "$PIO_N" ] || ENVS+=(--env "BENCH_PIO_N=$PIO_N")

"${HOSTEL_KVM_RUN:-$ROOT/tests/nested/kvm-run.sh}" --timeout "$TIMEOUT" "${COPIES[@]}" ${ENVS[@]+"${ENVS[@]}"} -- \
    "$HERE/bench-in-vm.sh" "$HB" "$VM" "$LOOP" "$GUEST" "$QEMU" "$KERNEL" "$INITRD" "$ISO" "${BENCHES[@]}"
