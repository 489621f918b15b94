#!/bin/sh
# Check that at least one language in po/LINGUAS has a catalog that is
# complete against the CURRENT sources, not against a possibly stale
# po/hostel.pot: a fresh template is extracted from po/POTFILES.in with the
# same xgettext options as meson's i18n.gettext(preset : 'glib'), each
# po/<lang>.po is msgmerge'd against it into a temporary file, and
# msgfmt --statistics must report no untranslated and no fuzzy messages.
# Adding a _("...") string to a listed file without translating it makes the
# catalog incomplete until `meson compile hostel-pot hostel-update-po` has
# been run and the new entries translated.
# Usage: check-po-complete.sh SOURCE_ROOT
# Exit 0 pass, 1 fail, 77 skip (gettext tools missing).
set -u
root=$1
po=$root/po

for tool in xgettext msgmerge msgfmt msgattrib; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not found (Debian package gettext)"
        exit 77
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$po/POTFILES.in" ] || [ ! -f "$po/LINGUAS" ]; then
    echo "FAIL: $po/POTFILES.in or $po/LINGUAS does not exist"
    exit 1
fi

# The template. File types come from xgettext's own detection: C for .c,
# Glade (GtkBuilder) for .ui, Desktop for .desktop.in, and the ITS rules
# installed by glib (gschema.its) and appstream (metainfo.its) for the XML
# files -- the same way meson's hostel-pot target extracts them. The
# keywords and flags are those of meson's 'glib' preset.
if ! xgettext --package-name=hostel -f "$po/POTFILES.in" -D "$root" -o "$tmp/hostel.pot" \
        --from-code=UTF-8 --add-comments \
        --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
        --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
        --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
        --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
        --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
        --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
        --flag=g_markup_printf_escaped:1:c-format --flag=g_log:3:c-format \
        --flag=g_print:1:c-format --flag=g_printerr:1:c-format --flag=g_printf:1:c-format \
        --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format --flag=g_snprintf:3:c-format \
        2> "$tmp/xgettext.err"; then
    echo "FAIL: xgettext could not extract the strings of po/POTFILES.in:"
    sed 's/^/  /' "$tmp/xgettext.err"
    exit 1
fi
# Every message but the header.
total=$(($(grep -c '^msgid ' "$tmp/hostel.pot") - 1))
if [ "$total" -le 0 ]; then
    echo "FAIL: the template extracted from po/POTFILES.in holds no messages"
    exit 1
fi

# msgids of a catalog, one a line (a message's string pieces joined, "\n"
# kept as written).
msgids() {
    awk '
        /^msgid "/      { if (id != "") print id; id = substr($0, 8, length($0) - 8); inid = 1; next }
        /^"/ && inid    { id = id substr($0, 2, length($0) - 2); next }
                        { inid = 0 }
        END             { if (id != "") print id }' "$1"
}

# The number before WORD in msgfmt's statistics line (0 when absent).
count() {
    n=$(printf '%s\n' "$2" | grep -oE "[0-9]+ $1" | head -n 1 | cut -d ' ' -f 1)
    echo "${n:-0}"
}

complete=""
incomplete=""
langs=$(sed -e 's/#.*//' "$po/LINGUAS")
for lang in $langs; do
    if [ ! -f "$po/$lang.po" ]; then
        echo "$lang: po/$lang.po does not exist"
        incomplete="$incomplete $lang"
        continue
    fi
    if ! msgmerge -q -o "$tmp/$lang.po" "$po/$lang.po" "$tmp/hostel.pot" 2> "$tmp/msgmerge.err"; then
        echo "$lang: msgmerge failed:"
        sed 's/^/  /' "$tmp/msgmerge.err"
        incomplete="$incomplete $lang"
        continue
    fi
    stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$tmp/$lang.po" 2>&1)
    translated=$(count translated "$stats")
    fuzzy=$(count fuzzy "$stats")
    untranslated=$(count untranslated "$stats")
    if [ "$fuzzy" -eq 0 ] && [ "$untranslated" -eq 0 ] && [ "$translated" -gt 0 ]; then
        echo "$lang: complete ($translated messages)"
        complete="$complete $lang"
        continue
    fi
    echo "$lang: $translated translated, $fuzzy fuzzy, $untranslated untranslated" \
        "against the current sources"
    msgattrib --untranslated --no-obsolete --no-wrap -o "$tmp/$lang.missing" "$tmp/$lang.po"
    msgattrib --only-fuzzy --no-obsolete --no-wrap -o "$tmp/$lang.fuzzy" "$tmp/$lang.po"
    for kind in missing fuzzy; do
        [ -s "$tmp/$lang.$kind" ] || continue
        msgids "$tmp/$lang.$kind" > "$tmp/$lang.$kind.ids"
        n=$(wc -l < "$tmp/$lang.$kind.ids")
        [ "$n" -gt 0 ] || continue
        [ $kind = missing ] && what=untranslated || what=fuzzy
        echo "  first $what messages:"
        head -n 5 "$tmp/$lang.$kind.ids" | sed 's/^/    msgid "/; s/$/"/'
        [ "$n" -gt 5 ] && echo "    ... and $((n - 5)) more"
    done
    incomplete="$incomplete $lang"
done

if [ -z "$complete" ]; then
    if [ -z "$langs" ]; then
        echo "FAIL: po/LINGUAS lists no language"
    else
        echo "FAIL: no language in po/LINGUAS is completely translated; run" \
            "'meson compile -C BUILD hostel-pot hostel-update-po' and translate the" \
            "untranslated and fuzzy entries (po/README.md)"
    fi
    exit 1
fi
echo "PASS: complete against the current sources:$complete${incomplete:+ (incomplete:$incomplete)}"
exit 0
