#!/bin/bash
# Fetch Debian packages the tests need and unpack them into a cache outside the
# source tree (no installation, nothing outside the cache is changed).
#
# Usage: fetch-debian.sh [--refresh] [--quiet] [THING...]
#   THING: linux-cloud   Debian's cloud kernel (resolved through the
#                        linux-image-cloud-amd64 metapackage) -> $CACHE/debian/linux-cloud/
#          busybox       busybox-static                     -> $CACHE/debian/busybox/
#          deb:PACKAGE   any other package                  -> $CACHE/debian/PACKAGE/
#   Default: linux-cloud busybox.
#   --refresh   re-resolve and re-download even when cached
#   --quiet     print nothing on success
#
# Cache: ${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}
#
# Each unpacked package directory holds a stamp, .hostel-stamp, a shell fragment
# (PKG=, VERSION=, and for linux-cloud KVER=, VMLINUZ=, MODDIR=) that other
# scripts may source. A directory only appears once complete: everything is
# downloaded and unpacked in a temporary directory that is renamed into place,
# so an interrupted run leaves no half-filled cache behind.
#
# apt-get update is run only when a package cannot be resolved or downloaded
# with the current lists (and only as root).
#
# Exit status: 0 on success, 1 if something could not be fetched.
set -euo pipefail

CACHE=${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}
DEBDIR=$CACHE/debian
REFRESH=0
QUIET=0
THINGS=()

die() { echo "fetch-debian: $*" >&2; exit 1; }
say() { [ "$QUIET" = 1 ] || echo "$@"; }

while [ $# -gt 0 ]; do
    case "$1" in
    --refresh) REFRESH=1 ;;
    --quiet) QUIET=1 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) THINGS+=("$1") ;;
    esac
    shift
done
[ ${#THINGS[@]} -gt 0 ] || THINGS=(linux-cloud busybox)

APT_OPTS=(-q)
# As root, apt drops privileges to _apt for downloads, which cannot write into
# root's home: download as root directly instead of warning about it.
[ "$(id -u)" = 0 ] && APT_OPTS+=(-o APT::Sandbox::User=root)

UPDATED=0
apt_update_once() {
    [ "$UPDATED" = 0 ] || return 1
    UPDATED=1
    if [ "$(id -u)" != 0 ]; then
        echo "fetch-debian: apt lists may be missing or stale and only root can run apt-get update" >&2
        return 1
    fi
    echo "fetch-debian: running apt-get update" >&2
    apt-get "${APT_OPTS[@]}" update >&2 || return 1
}

# candidate_version PKG -> prints the version apt would download, or fails.
candidate_version() {
    local v
    v=$(apt-cache policy "$1" 2>/dev/null | awk '/^  Candidate:/ { print $2; exit }')
    [ -n "$v" ] && [ "$v" != "(none)" ] && echo "$v"
}

# resolve THING -> sets R_PKG (the real package to download).
resolve() {
    case "$1" in
    linux-cloud)
        # The metapackage depends on the current ABI's versioned image package.
        R_PKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
                awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-cloud-amd64$/ { print $2; exit }')
        [ -n "$R_PKG" ] ;;
    busybox) R_PKG=busybox-static ;;
    deb:?*) R_PKG=${1#deb:} ;;
    *) die "unknown thing '$1' (linux-cloud, busybox, deb:PACKAGE)" ;;
    esac
}

target_dir() {
    case "$1" in
    linux-cloud|busybox) echo "$DEBDIR/$1" ;;
    deb:*) echo "$DEBDIR/${1#deb:}" ;;
    esac
}

describe() {  # describe THING DIR: the one line printed per thing
    # shellcheck disable=SC2034  # KVER: kept local, not shown
    local PKG VERSION KVER VMLINUZ MODDIR
    # shellcheck disable=SC1091
    . "$2/.hostel-stamp"
    case "$1" in
    linux-cloud) echo "linux-cloud: $PKG $VERSION vmlinuz=$VMLINUZ modules=$MODDIR" ;;
    busybox) echo "busybox: $PKG $VERSION $2/bin/busybox" ;;
    *) echo "$1: $PKG $VERSION $2" ;;
    esac
}

fetch() {
    local thing=$1 dir
    dir=$(target_dir "$thing")
    if [ "$REFRESH" = 0 ] && [ -f "$dir/.hostel-stamp" ]; then
        say "$(describe "$thing" "$dir") (cached)"
        return 0
    fi

    if ! resolve "$thing" || ! candidate_version "$R_PKG" >/dev/null; then
        apt_update_once && resolve "$thing" && candidate_version "$R_PKG" >/dev/null ||
            { echo "fetch-debian: cannot resolve $thing: no such package in the apt lists" >&2; return 1; }
    fi

    mkdir -p "$DEBDIR"
    TMP=$(mktemp -d "$DEBDIR/.fetch-${thing#deb:}.XXXXXX")
    local rc=0
    fetch_into "$thing" "$dir" "$TMP" || rc=1
    rm -rf "$TMP"
    TMP=
    return $rc
}

# fetch_into THING DIR TMP: download and unpack in TMP, then rename to DIR.
fetch_into() {
    local thing=$1 dir=$2 tmp=$3 deb ver
    mkdir "$tmp/dl" "$tmp/root"
    if ! (cd "$tmp/dl" && apt-get "${APT_OPTS[@]}" download "$R_PKG" >&2); then
        # Stale lists point at versions the mirror no longer has: update, re-resolve, retry.
        apt_update_once && resolve "$thing" &&
            (cd "$tmp/dl" && rm -f ./*.deb && apt-get "${APT_OPTS[@]}" download "$R_PKG" >&2) ||
            { echo "fetch-debian: cannot download $R_PKG" >&2; return 1; }
    fi
    deb=$(ls "$tmp"/dl/*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { echo "fetch-debian: apt-get download $R_PKG produced no .deb" >&2; return 1; }
    ver=$(dpkg-deb -f "$deb" Version)
    dpkg -x "$deb" "$tmp/root" || { echo "fetch-debian: cannot unpack $deb" >&2; return 1; }

    {
        printf 'PKG=%q\nVERSION=%q\n' "$R_PKG" "$ver"
        if [ "$thing" = linux-cloud ]; then
            local kver
            kver=$(ls "$tmp/root/lib/modules" | head -1)
            [ -n "$kver" ] && [ -f "$tmp/root/boot/vmlinuz-$kver" ] ||
                { echo "fetch-debian: $R_PKG holds no kernel image / modules" >&2; return 1; }
            printf 'KVER=%q\nVMLINUZ=%q\nMODDIR=%q\n' "$kver" \
                "$dir/boot/vmlinuz-$kver" "$dir/lib/modules/$kver"
        fi
    } > "$tmp/root/.hostel-stamp"

    # Commit: rename the complete tree into place (mv -T never nests into an
    # existing directory). If a concurrent run got there first, keep its copy.
    if [ -f "$dir/.hostel-stamp" ] && [ "$REFRESH" = 0 ]; then
        say "$(describe "$thing" "$dir") (fetched concurrently)"
        return 0
    fi
    if [ -e "$dir" ]; then
        mv -T "$dir" "$tmp/old"
    fi
    if ! mv -T "$tmp/root" "$dir" 2>/dev/null; then
        [ -f "$dir/.hostel-stamp" ] || { echo "fetch-debian: cannot create $dir" >&2; return 1; }
    fi
    say "$(describe "$thing" "$dir")"
}

TMP=
trap '[ -z "$TMP" ] || rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

rc=0
for t in "${THINGS[@]}"; do
    fetch "$t" || rc=1
done
exit $rc
