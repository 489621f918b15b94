#!/bin/bash
# The GUI with a real VM where KVM works (tests/nested/kvm-run.sh: inside its
# L1 when this machine has none): builds the e2e ISO, then runs
# real-vm-gui.sh with Xvfb, the GTK runtime data and the tools copied in.
# Usage: run-real-vm-gui.sh KVM_RUN HOSTEL HOSTELCTL HOSTEL_VM FIND_IMAGE BUILD_ROOT
set -euo pipefail
KVM_RUN=$1
# Absolute paths: hostel starts hostel-vm from elsewhere.
GUI=$(realpath "$2") CTL=$(realpath "$3") VM=$(realpath "$4") FIND=$(realpath "$5") BUILD=$(realpath "$6")
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$(cd "$HERE/../../data" && pwd)
for tool in Xvfb xkbcomp xdotool xwd xwininfo; do
    command -v $tool >/dev/null || { echo "run-real-vm-gui: $tool is missing (apt-get install xvfb xdotool x11-apps x11-utils): skipped"; exit 77; }
done
[ -r /usr/share/seabios/bios-256k.bin ] || { echo "run-real-vm-gui: Debian's seabios is not installed: skipped"; exit 77; }
[ -f "$BUILD/data/gschemas.compiled" ] || { echo "run-real-vm-gui: the build has no compiled settings schema"; exit 1; }
WORK=$(mktemp -d /tmp/hostel-real-vm-gui.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$HERE/../setup/make-boot-media.sh" --quiet iso "$WORK/boot.iso" || { echo "run-real-vm-gui: cannot build the ISO"; exit 77; }
COPIES=()
# X and the GTK runtime's data: keyboard maps, image loaders and the MIME
# database they need, fonts, icons.
for p in "$(command -v Xvfb)" "$(command -v xkbcomp)" "$(command -v xdotool)" "$(command -v xwd)" \
         "$(command -v xwininfo)" /usr/share/X11/xkb /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0 /etc/fonts \
         /usr/share/fonts/truetype/dejavu /usr/share/icons/hicolor /usr/share/mime /usr/share/seabios; do
    [ -e "$p" ] && COPIES+=(--copy "$p")
done
exec "$KVM_RUN" --timeout 600 "${COPIES[@]}" --copy "$GUI" --copy "$CTL" --copy "$VM" --copy "$FIND" \
    --copy "$WORK" --copy "$DATA" --copy "$BUILD/data" --copy "$HERE/real-vm-gui.sh" -- \
    /bin/sh "$HERE/real-vm-gui.sh" "$GUI" "$CTL" "$VM" "$WORK/boot.iso" "$DATA" "$BUILD/data" "$FIND"
