#!/bin/sh
# Check the message catalogs: LINGUAS and the .po files agree, and every
# catalog passes msgfmt --check (format strings, header, domain).
# Usage: check-po.sh PO_DIR
# Exit 0 pass, 1 fail, 77 skip.
set -u
po=$1

if ! command -v msgfmt >/dev/null 2>&1; then
    echo "SKIP: msgfmt not found (Debian package gettext)"
    exit 77
fi

fail=0
langs=$(sed -e 's/#.*//' "$po/LINGUAS")
for lang in $langs; do
    if [ ! -f "$po/$lang.po" ]; then
        echo "FAIL: $lang is in LINGUAS but po/$lang.po does not exist"
        fail=1
    fi
done
for f in "$po"/*.po; do
    [ -e "$f" ] || continue
    lang=$(basename "$f" .po)
    # shellcheck disable=SC2086 # one language a line
    if ! printf '%s\n' $langs | grep -Fx "$lang" >/dev/null; then
        echo "FAIL: po/$lang.po exists but $lang is not in LINGUAS"
        fail=1
    fi
    if ! msgfmt --check --statistics -o /dev/null "$f"; then
        echo "FAIL: msgfmt --check $f"
        fail=1
    fi
    # The catalog must say which language it is for, matching its file name.
    if ! grep -q "^\"Language: $lang\\\\n\"" "$f"; then
        echo "FAIL: $f lacks the header line Language: $lang"
        fail=1
    fi
done

[ $fail -eq 0 ] && echo "PASS: $po"
exit $fail
