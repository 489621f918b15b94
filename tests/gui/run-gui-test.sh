#!/bin/bash
# The GUI test under Xvfb:
#   run-gui-test.sh HOSTEL VM_PROGRAM SOURCE_ROOT BUILD_ROOT [TIMEOUT_SCALE [STOP]]
#
# Starts an X server (Xvfb, on a free display), a private D-Bus session
# (for AT-SPI) and gui_driver.py, with HOME, XDG_DATA_HOME and
# XDG_RUNTIME_DIR in a temporary directory so nothing of the user's is
# touched. VM_PROGRAM becomes HOSTEL_VM: the fake VM (tests/gui/fake_vm)
# gets the full checks; any other program (the real hostel-vm) the
# scenario without the fake's records. TIMEOUT_SCALE stretches every wait;
# STOP is how the VM window stops the VM: shutdown (default) or power-off.
# Exit 77 (skipped) when Xvfb, dbus-run-session, xdotool or Python's
# AT-SPI bindings are missing.
set -u
hostel=$1 vm_program=$2 srcdir=$3 builddir=$4 scale=${5:-1} stop=${6:-shutdown}

skip() { echo "gui-test: skipped: $*"; exit 77; }
command -v Xvfb >/dev/null || skip "Xvfb is not installed (apt-get install xvfb)"
command -v dbus-run-session >/dev/null || skip "dbus-run-session is not installed (apt-get install dbus)"
command -v xdotool >/dev/null || skip "xdotool is not installed (apt-get install xdotool)"
python=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import gi; gi.require_version("Atspi", "2.0"); gi.require_version("Gdk", "3.0")
from gi.repository import Atspi, Gdk' 2>/dev/null; then
        python=$p
        break
    fi
done
[ -n "$python" ] || skip "Python's AT-SPI bindings are missing (apt-get install python3-gi gir1.2-atspi-2.0 gir1.2-gtk-3.0 at-spi2-core)"

tmp=$(mktemp -d /tmp/hostel-gui-test.XXXXXX)
xvfb_pid=
cleanup() {
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
    # A VM the test left running (a failure half-way) goes too.
    if [ -f "$tmp/record" ]; then
        for pid in $(sed -n 's/^pid //p' "$tmp/record"); do kill -CONT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

export HOME=$tmp/home XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache
export XDG_RUNTIME_DIR=$tmp/run
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export HOSTEL_VM=$vm_program HOSTEL_DATA_DIR=$srcdir/data
export GSETTINGS_BACKEND=memory PYTHONDONTWRITEBYTECODE=1
unset NO_AT_BRIDGE GTK_MODULES
# The settings schema: the build's compiled copy, else compiled here.
if [ -f "$builddir/data/gschemas.compiled" ]; then
    export GSETTINGS_SCHEMA_DIR=$builddir/data
elif ls "$srcdir"/data/*.gschema.xml >/dev/null 2>&1; then
    mkdir -p "$tmp/schemas"
    cp "$srcdir"/data/*.gschema.xml "$tmp/schemas/"
    glib-compile-schemas "$tmp/schemas" && export GSETTINGS_SCHEMA_DIR=$tmp/schemas
fi

mkdir -p "$tmp/work"
driver_args=(--hostel "$hostel" --data-home "$XDG_DATA_HOME" --work "$tmp/work" --timeout-scale "$scale" --stop "$stop")
if [ "$(basename "$vm_program")" = fake_vm ]; then
    export FAKE_VM_RECORD=$tmp/record FAKE_VM_FAIL_FILE=$tmp/fail
    driver_args+=(--fake-record "$tmp/record" --fail-file "$tmp/fail")
fi

# Xvfb picks a free display and writes its number to fd 3.
exec 3>"$tmp/display"
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
exec 3>&-
for _ in $(seq 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
[ -s "$tmp/display" ] || { echo "gui-test: Xvfb did not start:"; cat "$tmp/xvfb.log"; exit 1; }
export DISPLAY=:$(head -n1 "$tmp/display")

here=$(cd "$(dirname "$0")" && pwd)
dbus-run-session -- "$python" "$here/gui_driver.py" "${driver_args[@]}" 2> >(grep -v "Failed to set fd limit" >&2)
status=$?
if [ "$status" = 0 ]; then
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
fi
exit "$status"
