#!/bin/sh
# Run check-potfiles.sh on small made-up source trees and check its verdicts,
# so that a checker which passes everything is caught.
# Usage: potfiles-selftest.sh CHECK_POTFILES_SH
set -u
check=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect VERDICT DESCRIPTION: run the checker on $tmp/t, VERDICT pass or fail.
expect() {
    if sh "$check" "$tmp/t" > "$tmp/out" 2>&1; then got=pass; else got=fail; fi
    if [ "$got" != "$1" ]; then
        echo "FAIL: $2: checker said $got, expected $1"
        sed 's/^/    /' "$tmp/out"
        fail=1
    else
        echo "ok: $2 ($got)"
    fi
}

mkdir -p "$tmp/t/po" "$tmp/t/gui" "$tmp/t/src" "$tmp/t/data"
printf '# header\n' > "$tmp/t/po/POTFILES.in"
expect pass "empty tree, empty list"

printf 'int f(void) { return G_N_ELEMENTS (x) + my_(1); }\n' > "$tmp/t/gui/plain.c"
expect pass "C file without translatable strings"

printf 'const char *s = _("Start");\n' > "$tmp/t/gui/window.c"
expect fail "gui/window.c with _(\"...\") not listed"
printf 'gui/window.c\n' >> "$tmp/t/po/POTFILES.in"
expect pass "gui/window.c listed"

printf 'x = C_ ("menu", "Open");\n' > "$tmp/t/src/hostelctl.c"
expect fail "src/hostelctl.c with C_ (\"...\") not listed"
printf 'src/hostelctl.c\n' >> "$tmp/t/po/POTFILES.in"
expect pass "src/hostelctl.c listed"

printf 'g_print (ngettext ("%%d VM", "%%d VMs", n), n);\n' > "$tmp/t/gui/list.c"
expect fail "ngettext call not listed"
printf 'gui/list.c\n' >> "$tmp/t/po/POTFILES.in"

printf 'static const char *names[] = { N_(\n  "Off") };\n' > "$tmp/t/gui/names.c"
expect fail "N_( with the string on the next line not listed"
printf 'gui/names.c\n' >> "$tmp/t/po/POTFILES.in"

mkdir -p "$tmp/t/gui/ui"
printf '<interface><object class="GtkLabel"><property name="label" translatable="yes">Name</property></object></interface>\n' \
    > "$tmp/t/gui/ui/window.ui"
expect fail ".ui file with translatable=\"yes\" not listed"
printf 'gui/ui/window.ui\n' > "$tmp/t/po/POTFILES.skip"
expect pass ".ui file named in POTFILES.skip"
rm "$tmp/t/po/POTFILES.skip"
printf 'gui/ui/window.ui\n' >> "$tmp/t/po/POTFILES.in"
expect pass ".ui file listed"

printf '[Desktop Entry]\nName=X\n' > "$tmp/t/data/x.desktop.in"
expect fail "data/x.desktop.in not listed"
printf 'data/x.desktop.in\n' >> "$tmp/t/po/POTFILES.in"
expect pass "data/x.desktop.in listed"

printf 'gui/gone.c\n' >> "$tmp/t/po/POTFILES.in"
expect fail "POTFILES.in lists a file that does not exist"
sed -i '/gui\/gone.c/d' "$tmp/t/po/POTFILES.in"
printf 'gui/window.c\n' >> "$tmp/t/po/POTFILES.in"
expect fail "POTFILES.in lists a file twice"

[ $fail -eq 0 ] && echo "PASS"
exit $fail
