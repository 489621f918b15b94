#!/bin/bash
# Build boot media for Hostel's end-to-end tests, from Debian packages only:
# the default guest (Debian's cloud kernel and the busybox initramfs of
# scripts/make-default-guest.sh) behind a real bootloader, so that the whole
# BIOS -> boot sector -> bootloader -> Linux path is exercised. Needs no root
# beyond apt (no loop devices, nothing is mounted).
#
# Usage: make-boot-media.sh [OPTIONS] iso|disk OUT
#   iso OUT    bootable El Torito CD image: ISOLINUX, no-emulation boot,
#              boot-info-table (e.g. qemu -cdrom OUT -boot d)
#   disk OUT   raw hard-disk image: MBR with syslinux's boot code, one active
#              FAT16 partition from 1 MiB to the end holding SYSLINUX
#              (e.g. qemu -drive file=OUT,format=raw,if=ide -boot c)
#   --append PARAMS  kernel parameters after the console ones
#                    (default "hostel.e2e"; --append "" for none)
#   --size MIB       size of the disk image (default 64, at least 16)
#   --quiet          print nothing on success
#
# Both bootloaders start Linux at once (no prompt) with
#   console=tty0 console=ttyS0,115200 PARAMS
# so the kernel and /dev/console (the last console=, the serial port) write to
# COM1, and the kernel also writes to the VGA text screen; the bootloader
# itself also talks on COM1 (SERIAL 0 115200). See make-default-guest.sh for
# what the guest's init does under hostel.e2e.
#
# Tools (xorriso, isolinux, syslinux, syslinux-common, mtools, dosfstools,
# fdisk) are installed with apt-get when missing (root only). Results are
# cached in ${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}/boot-media,
# keyed on this script, the kernel, the initramfs, the options and the tool
# versions; OUT is a copy. File dates are pinned to SOURCE_DATE_EPOCH (default
# a constant); only the disk's ldlinux.sys/ldlinux.c32 dates vary per build.
#
# Prints one line: the image made, its size, the kernel and the command line.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SELF=$HERE/$(basename "$0")
CACHE=${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}
APPEND=hostel.e2e
SIZE_MIB=64
QUIET=0
CONSOLES="console=tty0 console=ttyS0,115200"
EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

die() { echo "make-boot-media: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -e/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; }

ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --append) [ $# -ge 2 ] || die "--append needs a value"; APPEND=$2; shift ;;
    --append=*) APPEND=${1#--append=} ;;
    --size) [ $# -ge 2 ] || die "--size needs a value"; SIZE_MIB=$2; shift ;;
    --size=*) SIZE_MIB=${1#--size=} ;;
    --quiet) QUIET=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) ARGS+=("$1") ;;
    esac
    shift
done
[ ${#ARGS[@]} = 2 ] || { usage >&2; exit 2; }
MODE=${ARGS[0]} OUT=${ARGS[1]}
case "$MODE" in iso|disk) ;; *) die "unknown medium '$MODE' (iso or disk)" ;; esac
if ! [[ "$SIZE_MIB" =~ ^[0-9]+$ ]] || [ "$SIZE_MIB" -lt 16 ] || [ "$SIZE_MIB" -gt 2048 ]; then
    die "--size must be a number of MiB between 16 and 2048"
fi
case "$APPEND" in *$'\n'*) die "--append must be one line" ;; esac
CMDLINE="$CONSOLES${APPEND:+ $APPEND}"

ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX_C32=/usr/lib/syslinux/modules/bios/ldlinux.c32
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin

# --- tools -------------------------------------------------------------------
# need PACKAGE FILE...: PACKAGE is wanted when one of the files is missing.
WANT=()
need() {
    local pkg=$1 f
    shift
    for f in "$@"; do
        [ -e "$f" ] || { WANT+=("$pkg"); return 0; }
    done
}
if [ "$MODE" = iso ]; then
    need xorriso /usr/bin/xorriso
    need isolinux "$ISOLINUX_BIN"
    need syslinux-common "$LDLINUX_C32"
else
    need syslinux /usr/bin/syslinux
    need syslinux-common "$MBR_BIN" "$LDLINUX_C32"
    need mtools /usr/bin/mcopy
    need dosfstools /sbin/mkfs.fat
    need fdisk /sbin/sfdisk
fi
if [ ${#WANT[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing packages ${WANT[*]}: install them (apt-get install ${WANT[*]})"
    echo "make-boot-media: installing ${WANT[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get -q -y --no-install-recommends install "${WANT[@]}" >&2; then
        echo "make-boot-media: running apt-get update" >&2
        apt-get -q update >&2 || die "apt-get update failed"
        apt-get -q -y --no-install-recommends install "${WANT[@]}" >&2 ||
            die "cannot install ${WANT[*]}"
    fi
fi
PATH=$PATH:/sbin:/usr/sbin

# --- inputs and cache --------------------------------------------------------
mapfile -t GUEST < <("$HERE/../../scripts/make-default-guest.sh")
if [ ${#GUEST[@]} != 2 ] || [ ! -f "${GUEST[0]}" ] || [ ! -f "${GUEST[1]}" ]; then
    die "could not assemble the default guest (scripts/make-default-guest.sh)"
fi
VMLINUZ=${GUEST[0]} INITRD=${GUEST[1]}
# shellcheck disable=SC1091
KVER=$(. "$CACHE/debian/linux-cloud/.hostel-stamp" && echo "$KVER")

TOOLS=$(dpkg-query -W -f='${Package}=${Version}\n' isolinux syslinux syslinux-common \
        xorriso mtools dosfstools fdisk 2>/dev/null || true)
KEY=$({ sha256sum "$SELF" "$VMLINUZ" "$INITRD"
        printf '%s\n' "$MODE" "$SIZE_MIB" "$CMDLINE" "$EPOCH" "$TOOLS"; } | sha256sum | cut -c1-16)
CDIR=$CACHE/boot-media
EXT=$([ "$MODE" = iso ] && echo iso || echo img)
CACHED=$CDIR/$MODE-$KEY.$EXT
mkdir -p "$CDIR"
# Forget media nobody asked for in a month.
find "$CDIR" -maxdepth 1 -type f -name '*-*.*' -mtime +30 -delete 2>/dev/null || true

TMP=
trap '[ -z "$TMP" ] || rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# Bootloader configuration, shared by ISOLINUX and SYSLINUX. SERIAL must come
# first; PROMPT 0 boots the default label at once (TIMEOUT only matters if a
# key forces the prompt).
write_cfg() {  # write_cfg FILE KERNEL INITRD
    cat > "$1" <<EOF
SERIAL 0 115200
DEFAULT hostel
PROMPT 0
TIMEOUT 1
LABEL hostel
  KERNEL $2
  INITRD $3
  APPEND $CMDLINE
EOF
}

# stage DIR: kernel and initramfs under short (8.3) names, dates pinned.
stage() {
    mkdir -p "$1"
    cp "$VMLINUZ" "$1/vmlinuz"
    cp "$INITRD" "$1/initrd.gz"
}

build_iso() {  # build_iso OUTFILE
    local root=$TMP/iso
    stage "$root/isolinux"
    cp "$ISOLINUX_BIN" "$LDLINUX_C32" "$root/isolinux/"
    write_cfg "$root/isolinux/isolinux.cfg" /isolinux/vmlinuz /isolinux/initrd.gz
    find "$root" -exec touch -h -d "@$EPOCH" {} +
    SOURCE_DATE_EPOCH=$EPOCH xorriso -as mkisofs -quiet -o "$1" \
        -V HOSTEL_E2E -R -J \
        -b isolinux/isolinux.bin -c isolinux/boot.cat \
        -no-emul-boot -boot-load-size 4 -boot-info-table \
        "$root" >"$TMP/xorriso.log" 2>&1 || { cat "$TMP/xorriso.log" >&2; return 1; }
}

build_disk() {  # build_disk OUTFILE
    local img=$1 part=$TMP/part.img root=$TMP/fat
    local start=2048 sectors=$((SIZE_MIB * 2048))
    # MBR: one active FAT16 (type 6) partition from LBA 2048 to the end;
    # sfdisk writes only the table and signature, syslinux's boot code
    # fills the first 440 bytes.
    truncate -s "${SIZE_MIB}M" "$img"
    printf 'label: dos\nlabel-id: 0x484f5354\nstart=%d, type=6, bootable\n' "$start" |
        sfdisk --quiet --no-reread --no-tell-kernel "$img" >&2
    dd if="$MBR_BIN" of="$img" bs=440 count=1 conv=notrunc status=none
    # The filesystem is made in a file of its own (hidden sectors = the
    # partition's start, which the boot sector adds to its reads).
    mkfs.fat -F 16 -n HOSTEL --invariant -h "$start" \
        -C "$part" $(((sectors - start) / 2)) >/dev/null
    syslinux --install "$part"
    stage "$root"
    write_cfg "$root/syslinux.cfg" /vmlinuz /initrd.gz
    touch -d "@$EPOCH" "$root"/*
    MTOOLS_SKIP_CHECK=1 mcopy -m -i "$part" "$root"/vmlinuz "$root"/initrd.gz "$root"/syslinux.cfg ::/
    dd if="$part" of="$img" bs=1M seek=$((start / 2048)) conv=notrunc,sparse status=none
}

STATE=cached
if [ ! -f "$CACHED" ]; then
    STATE=built
    TMP=$(mktemp -d "$CDIR/.build-$MODE.XXXXXX")
    "build_$MODE" "$TMP/out.$EXT" || die "building the $MODE image failed"
    mv -f "$TMP/out.$EXT" "$CACHED"
    rm -rf "$TMP"
    TMP=
else
    touch "$CACHED"
fi

OUTTMP=$OUT.tmp.$$
cp --sparse=always "$CACHED" "$OUTTMP"
mv -f "$OUTTMP" "$OUT"
[ "$QUIET" = 1 ] ||
    echo "$MODE: $OUT ($(( $(stat -c %s "$OUT") / 1048576 )) MiB, $STATE; Linux $KVER; cmdline: $CMDLINE)"
