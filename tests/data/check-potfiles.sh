#!/bin/sh
# Check that po/POTFILES.in lists every file with translatable strings, and
# nothing that does not exist.
# Usage: check-potfiles.sh SOURCE_ROOT
#
# Files searched (paths relative to SOURCE_ROOT):
#   gui/ (all .c .h .ui .blp), src/hostelctl*.c/.h, src/cli/ (.c .h .ui):
#     listed when they contain _("  N_("  C_("  NC_("  Q_("  (a space before
#     the parenthesis, and the string on the next line, count too),
#     ngettext/g_dngettext/g_dpgettext2 calls, or translatable="yes" (.ui);
#   data/*.desktop.in, data/*.metainfo.xml.in, data/*.gschema.xml,
#   gui/*.desktop.in: always listed.
# Files named in po/POTFILES.skip are exempt.
# Exit 0 pass, 1 fail.
set -u
root=$1
potfiles=$root/po/POTFILES.in
skipfile=$root/po/POTFILES.skip

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Entries of a POTFILES-style list: no comments, blanks or [encoding] lines.
entries() {
    [ -f "$1" ] || return 0
    sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
        -e '/^\[encoding/d' -e '/^$/d' "$1"
}

if [ ! -f "$potfiles" ]; then
    echo "FAIL: $potfiles does not exist"
    exit 1
fi
entries "$potfiles" | sort > "$tmp/listed"
entries "$skipfile" | sort > "$tmp/skipped"

fail=0
dups=$(uniq -d "$tmp/listed")
if [ -n "$dups" ]; then
    echo "FAIL: listed more than once in po/POTFILES.in:"
    printf '%s\n' "$dups" | sed 's/^/  /'
    fail=1
fi
while read -r f; do
    if [ ! -f "$root/$f" ]; then
        echo "FAIL: po/POTFILES.in lists $f, which does not exist"
        fail=1
    fi
done < "$tmp/listed"

cd "$root" || exit 1
: > "$tmp/candidates"
if [ -d gui ]; then
    find gui -type f \( -name '*.c' -o -name '*.h' -o -name '*.ui' -o -name '*.blp' \) \
        >> "$tmp/candidates"
fi
if [ -d src/cli ]; then
    find src/cli -type f \( -name '*.c' -o -name '*.h' -o -name '*.ui' \) >> "$tmp/candidates"
fi
for f in src/hostelctl*.c src/hostelctl*.h; do
    [ -f "$f" ] && echo "$f" >> "$tmp/candidates"
done

# C-like sources: a marker macro or a plural/context call.
c_marker='(^|[^A-Za-z0-9_])((N|C|NC|Q)?_[[:space:]]*\([[:space:]]*("|$)|(g_d?ngettext|ngettext|g_dpgettext2?)[[:space:]]*\()'
ui_marker='translatable[[:space:]]*=[[:space:]]*["'"'"'](yes|true|1)["'"'"']'
: > "$tmp/required"
while read -r f; do
    case $f in
        *.ui) pattern=$ui_marker ;;
        *) pattern=$c_marker ;;
    esac
    if grep -E "$pattern" "$f" >/dev/null 2>&1; then
        echo "$f" >> "$tmp/required"
    fi
done < "$tmp/candidates"
for f in data/*.desktop.in data/*.metainfo.xml.in data/*.gschema.xml gui/*.desktop.in; do
    [ -f "$f" ] && echo "$f" >> "$tmp/required"
done

sort -u "$tmp/required" > "$tmp/required.sorted"
missing=$(comm -23 "$tmp/required.sorted" "$tmp/listed" | comm -23 - "$tmp/skipped")
if [ -n "$missing" ]; then
    echo "FAIL: files with translatable strings missing from po/POTFILES.in:"
    printf '%s\n' "$missing" | sed 's/^/  /'
    fail=1
fi

[ $fail -eq 0 ] && echo "PASS: po/POTFILES.in lists all $(wc -l < "$tmp/listed") files with translatable strings"
exit $fail
