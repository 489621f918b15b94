#!/bin/sh
# Validate the built AppStream metainfo with appstreamcli (no network), and
# check that it names the desktop entry and the project version.
# Usage: check-metainfo.sh BUILT_METAINFO_FILE BUILT_DESKTOP_FILE PROJECT_VERSION
# Exit 0 pass, 1 fail, 77 skip. Pedantic notes and infos are printed, not failed.
set -u
metainfo=$1
desktop=$2
version=$3

if ! command -v appstreamcli >/dev/null 2>&1; then
    echo "SKIP: appstreamcli not found (Debian package appstream)"
    exit 77
fi

fail=0
# Exits non-zero on errors and warnings; --pedantic only adds notes to the output.
if ! appstreamcli validate --no-net --pedantic --explain "$metainfo"; then
    echo "FAIL: appstreamcli validate"
    fail=1
fi

# xmllint is not assumed: the elements checked here are one per line.
first_text() {
    sed -n "s|^[[:space:]]*<$1[^>]*>\\([^<]*\\)</$1>.*|\\1|p" "$metainfo" | head -n 1
}

desktop_id=$(basename "$desktop")
app_id=$(basename "$desktop" .desktop)
id=$(first_text id)
if [ "$id" != "$app_id" ]; then
    echo "FAIL: <id>$id</id>, expected $app_id (the desktop file's name)"
    fail=1
fi
launchable=$(sed -n 's|.*<launchable type="desktop-id">\([^<]*\)</launchable>.*|\1|p' "$metainfo" | head -n 1)
if [ "$launchable" != "$desktop_id" ]; then
    echo "FAIL: launchable desktop-id '$launchable', expected $desktop_id"
    fail=1
fi
# The newest release comes first and must be the version being built.
release=$(sed -n 's|.*<release [^>]*version="\([^"]*\)".*|\1|p' "$metainfo" | head -n 1)
if [ "$release" != "$version" ]; then
    echo "FAIL: newest <release> is '$release' but the project version is $version"
    fail=1
fi

[ $fail -eq 0 ] && echo "PASS: $metainfo"
exit $fail
