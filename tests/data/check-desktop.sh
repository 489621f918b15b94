#!/bin/sh
# Validate the built desktop entry against the Desktop Entry Specification
# with desktop-file-validate, and check that it fits the other data files.
# Usage: check-desktop.sh BUILT_DESKTOP_FILE SOURCE_ROOT
# Exit 0 pass, 1 fail, 77 skip.
set -u
desktop=$1
root=$2

if ! command -v desktop-file-validate >/dev/null 2>&1; then
    echo "SKIP: desktop-file-validate not found (Debian package desktop-file-utils)"
    exit 77
fi

fail=0
out=$(desktop-file-validate "$desktop" 2>&1)
rc=$?
[ -n "$out" ] && printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
    echo "FAIL: desktop-file-validate exited with $rc"
    fail=1
fi
# Warnings do not change the exit status; they count as failures here. Hints may stay.
if printf '%s\n' "$out" | grep -E ': (error|warning): ' >/dev/null; then
    echo "FAIL: desktop-file-validate reported errors or warnings"
    fail=1
fi

# The value of KEY in the [Desktop Entry] group (untranslated form).
entry_value() {
    sed -n '/^\[Desktop Entry\]/,/^\[/p' "$desktop" | sed -n "s/^$1=//p" | head -n 1
}

app_id=$(basename "$desktop" .desktop)
icon=$(entry_value Icon)
if [ "$icon" != "$app_id" ]; then
    echo "FAIL: Icon=$icon, expected the application id $app_id"
    fail=1
fi
if [ ! -f "$root/data/icons/hicolor/scalable/apps/$icon.svg" ]; then
    echo "FAIL: no data/icons/hicolor/scalable/apps/$icon.svg for Icon=$icon"
    fail=1
fi
if [ ! -f "$root/data/icons/hicolor/symbolic/apps/$icon-symbolic.svg" ]; then
    echo "FAIL: no data/icons/hicolor/symbolic/apps/$icon-symbolic.svg for Icon=$icon"
    fail=1
fi

# A D-Bus activatable entry needs a D-Bus service file named after it.
if [ "$(entry_value DBusActivatable)" = "true" ] &&
   [ ! -f "$root/data/$app_id.service.in" ] && [ ! -f "$root/data/$app_id.service" ]; then
    echo "FAIL: DBusActivatable=true but data/ has no $app_id.service(.in)"
    fail=1
fi

# Field codes for files or URLs only make sense with a MimeType to open.
exec_line=$(entry_value Exec)
if printf '%s\n' "$exec_line" | grep -E '%[fFuU]' >/dev/null && [ -z "$(entry_value MimeType)" ]; then
    echo "FAIL: Exec=$exec_line takes files but the entry declares no MimeType"
    fail=1
fi

[ $fail -eq 0 ] && echo "PASS: $desktop"
exit $fail
