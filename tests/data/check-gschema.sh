#!/bin/sh
# Compile the GSettings schema with glib-compile-schemas --strict, read it
# back with gsettings, and check that every key is documented.
# Usage: check-gschema.sh SCHEMA_FILE SCHEMA_ID
# Exit 0 pass, 1 fail, 77 skip.
set -u
schema=$1
id=$2

if ! command -v glib-compile-schemas >/dev/null 2>&1; then
    echo "SKIP: glib-compile-schemas not found (Debian package libglib2.0-bin)"
    exit 77
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$schema" "$dir/" || exit 1

fail=0
if ! glib-compile-schemas --strict --dry-run "$dir"; then
    echo "FAIL: glib-compile-schemas --strict --dry-run"
    exit 1
fi

# Every key gets a summary and a description (they are what dconf-editor shows).
keys=$(grep -c '<key ' "$schema")
summaries=$(grep -c '<summary>' "$schema")
descriptions=$(grep -c '<description>' "$schema")
if [ "$keys" -eq 0 ] || [ "$summaries" -ne "$keys" ] || [ "$descriptions" -ne "$keys" ]; then
    echo "FAIL: $keys keys but $summaries summaries and $descriptions descriptions"
    fail=1
fi
if ! grep -q 'gettext-domain="hostel"' "$schema"; then
    echo "FAIL: <schemalist> lacks gettext-domain=\"hostel\""
    fail=1
fi

if command -v gsettings >/dev/null 2>&1; then
    glib-compile-schemas --strict --targetdir="$dir" "$dir" || exit 1
    if ! GSETTINGS_SCHEMA_DIR=$dir GSETTINGS_BACKEND=memory gsettings list-keys "$id" >/dev/null; then
        echo "FAIL: schema $id not found after compiling"
        fail=1
    fi
    # The documented host key default (README, GUI): right Control.
    hk=$(GSETTINGS_SCHEMA_DIR=$dir GSETTINGS_BACKEND=memory gsettings get "$id" host-key)
    if [ "$hk" != "'Control_R'" ]; then
        echo "FAIL: host-key defaults to $hk, expected 'Control_R'"
        fail=1
    fi
    # Window sizes must accept the GNOME HIG's smallest window size, 360x294.
    for key in main-window-width:360 main-window-height:294 vm-window-width:360 vm-window-height:294; do
        limit=${key#*:}
        key=${key%%:*}
        # "range i MIN MAX" for a key with a <range>, "type i" without one.
        range=$(GSETTINGS_SCHEMA_DIR=$dir GSETTINGS_BACKEND=memory gsettings range "$id" "$key") || {
            echo "FAIL: no key $key"
            fail=1
            continue
        }
        # shellcheck disable=SC2086 # split into its words on purpose
        set -- $range
        if [ "$1" = range ] && [ "$3" -gt "$limit" ]; then
            echo "FAIL: $key has minimum $3, above $limit"
            fail=1
        fi
    done
fi

[ $fail -eq 0 ] && echo "PASS: $schema"
exit $fail
