#!/bin/sh
# The GUI with a real VM (busybox sh; runs where /dev/kvm works, inside
# tests/nested/kvm-run.sh's L1 when the machine has none): a VM is created
# in the GUI's New VM assistant, driven by the keyboard only (the e2e ISO's
# path typed into the ISO field, 256 MiB typed into the memory field for
# nested hosts) and its definition file is checked for both; it is started
# from the GUI (hostel --vm), keys typed into its window with xdotool reach
# the guest's shell, the window shows exactly the screen hostel-vm renders
# (found 1:1 in an X screen dump), the host pointer over that screen
# reaches the guest's virtio tablet as the pixel under it, and after the
# power button the window closes without an error dialog.
# Usage: real-vm-gui.sh HOSTEL HOSTELCTL HOSTEL_VM ISO DATA_DIR SCHEMA_DIR FIND_IMAGE
GUI=$1 CTL=$2 ISO=$4 FIND=$7
[ -c /dev/kvm ] || { echo "real-vm-gui: skipped: no /dev/kvm"; exit 77; }
for tool in Xvfb xdotool xwd xwininfo; do
    command -v $tool >/dev/null || { echo "real-vm-gui: skipped: $tool is missing"; exit 77; }
done
T=$(mktemp -d /tmp/real-vm-gui.XXXXXX)
export HOME=$T/home XDG_DATA_HOME=$T/data XDG_CONFIG_HOME=$T/config XDG_RUNTIME_DIR=$T/run XDG_CACHE_HOME=$T/cache
export HOSTEL_VM=$3 HOSTEL_DATA_DIR=$5 GSETTINGS_SCHEMA_DIR=$6 GSETTINGS_BACKEND=keyfile NO_AT_BRIDGE=1
[ -f /etc/fonts/fonts.conf ] && export FONTCONFIG_FILE=/etc/fonts/fonts.conf
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME/glib-2.0/settings" "$XDG_RUNTIME_DIR" "$XDG_CACHE_HOME" /tmp/.X11-unix
chmod 700 "$XDG_RUNTIME_DIR"
chmod 1777 /tmp/.X11-unix
# The screen drawn 1:1, so the dump can be compared pixel for pixel.
printf '[org/hostel/Hostel]\nscale-to-window=false\n' > "$XDG_CONFIG_HOME/glib-2.0/settings/keyfile"
VM=e2e
gui_pid=
main_pid=
fail() {
    echo "real-vm-gui: FAIL: $*"
    for f in "$XDG_DATA_HOME"/hostel/machines/*/hostel-vm.log; do [ -f "$f" ] && tail -n 15 "$f"; done
    # Where hostel-vm's threads wait, for a VM that stopped answering.
    for p in $(pidof hostel-vm); do
        for t in /proc/$p/task/*; do
            echo "hostel-vm $p thread ${t##*/}: $(cut -d' ' -f3 "$t/stat") $(cat "$t/wchan" 2>/dev/null) $(cat "$t/comm")"
        done
    done
    echo "--- hostel's output:"; tail -n 20 "$T/main.log" "$T/gui.log" 2>/dev/null
    "$CTL" poweroff "$VM" >/dev/null 2>&1
    [ -n "$gui_pid" ] && kill "$gui_pid" 2>/dev/null
    [ -n "$main_pid" ] && kill "$main_pid" 2>/dev/null
    kill "$xvfb" 2>/dev/null
    exit 1
}
state() { "$CTL" show "$VM" --json 2>/dev/null | sed -n 's/.*"state" : "\([a-z]*\)".*/\1/p'; }
now() { cut -d' ' -f1 /proc/uptime | cut -d. -f1; }
wait_for() {  # wait_for SECONDS COMMAND...: by the clock, so slow tries (a hung VM) end it too
    end=$(($(now) + $1)); shift
    while [ "$(now)" -lt $end ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
    return 1
}
is_state() { [ "$(state)" = "$1" ]; }
screen_has() { "$CTL" text "$VM" 2>/dev/null | grep -q "$1"; }
window() { titled "$VM"; }
has_window() { [ -n "$(window)" ]; }
no_window() { [ -z "$(window)" ]; }
t0=$(cut -d' ' -f1 /proc/uptime)

Xvfb :7 -screen 0 1280x1024x24 -nolisten tcp >"$T/xvfb.log" 2>&1 &
xvfb=$!
export DISPLAY=:7
wait_for 20 xdotool getdisplaygeometry || fail "Xvfb did not start"

# Create the VM in the GUI's New VM assistant, driven by the keyboard:
# Ctrl+N, the name, Alt+I (the ISO field's mnemonic) and the ISO's path,
# then Return (the default button: Next, and Apply on the summary) through
# the OS page, the hardware page after Alt+M (the memory field) and 256, and
# the disk page. The assistant's window carries its current page's title.
titled() {  # titled TITLE: hostel's window with that title, if any
    # (not the 10x10 client-leader window GTK makes with the app's name)
    xwininfo -root -tree 2>/dev/null | grep -F "\"$1\": (\"hostel\"" | while read -r id rest; do
        width=$(echo "$rest" | sed -n 's/.*) *\([0-9][0-9]*\)x.*/\1/p')
        [ "${width:-0}" -ge 100 ] && { echo "$id"; break; }
    done
}
focus() {  # focus TITLE: keyboard and pointer to that window
    xdotool mousemove --window "$(titled "$1")" 100 100
    xdotool windowfocus "$(titled "$1")"
    sleep 0.5
}
"$GUI" >"$T/main.log" 2>&1 &
main_pid=$!
main_window() { [ -n "$(titled Hostel)" ]; }
assistant() { [ -n "$(titled "Name and installation image")" ]; }
wait_for 60 main_window || fail "the main window did not appear"
sleep 1
focus Hostel
xdotool key ctrl+n
wait_for 20 assistant || fail "Ctrl+N did not open the New VM assistant; windows: $(xwininfo -root -tree 2>/dev/null | grep "\"" | tr -s " " | tr "\n" "|"); focus $(xdotool getwindowfocus)"
focus "Name and installation image"
xdotool type --delay 40 "$VM"
xdotool key alt+i
sleep 0.5
xdotool type --delay 20 "$ISO"
sleep 1
for page in "Operating system" "Memory and processors" "Disk" "Summary"; do
    # Next is sensitive once the page is complete (a name, and an ISO path
    # that names a file): press it until the next page shows.
    tries=0
    while [ -z "$(titled "$page")" ]; do
        [ $tries -lt 20 ] || fail "the assistant did not go on to the page '$page'"
        xdotool key Return
        sleep 1
        tries=$((tries + 1))
    done
    focus "$page"
    if [ "$page" = "Memory and processors" ]; then
        xdotool key alt+m ctrl+a
        xdotool type --delay 40 256
    fi
done
xdotool key Return
created() { "$CTL" show "$VM" >/dev/null 2>&1; }
wait_for 20 created || fail "the assistant did not create the VM"
echo "real-vm-gui: the assistant created '$VM'"
# The definition file records what was typed: [cdrom] file, [machine] memory.
key() {  # key GROUP KEY: its value in the VM's definition file
    awk -v g="[$1]" -v k="$2" '/^\[/ { in_g = ($0 == g) } in_g && index($0, k "=") == 1 {
        print substr($0, length(k) + 2) }' "$XDG_DATA_HOME"/hostel/machines/*/machine.hostel
}
[ "$(key cdrom file)" = "$ISO" ] || fail "the definition's CD-ROM is '$(key cdrom file)', not the ISO typed in, $ISO"
[ "$(key machine memory)" = 256 ] || fail "the definition's memory is '$(key machine memory)' MiB, not the 256 typed in"
echo "real-vm-gui: the definition has the ISO and 256 MiB typed into the assistant"
"$GUI" --vm "$VM" >"$T/gui.log" 2>&1 &
gui_pid=$!
wait_for 60 is_state running || fail "the GUI did not start the VM (state $(state))"
wait_for 60 has_window || fail "no VM window; windows: $(xwininfo -root -tree 2>/dev/null | grep '"' | tr -s ' ' | tr '\n' '|')"
wait_for 300 screen_has HOSTEL-E2E-READY || fail "the guest did not reach its shell"
wid=$(window)
# Click into the guest screen to capture the keyboard, type, release.
echo "real-vm-gui: VM window $wid"
eval "$(xdotool getwindowgeometry --shell "$wid")"
xdotool mousemove --window "$wid" $((WIDTH / 2)) $((HEIGHT / 2)) click 1
sleep 1
xdotool type --delay 60 'echo gui-$((6*7))'
xdotool key Return
wait_for 60 screen_has gui-42 || fail "keys typed into the VM window did not reach the guest"
xdotool key Control_R
sleep 1
"$CTL" screenshot "$VM" "$T/guest.png" || fail "hostelctl screenshot"
sleep 0.5
xwd -root -silent > "$T/root.xwd" || fail "xwd"
where=$("$FIND" "$T/root.xwd" "$T/guest.png") || fail "the VM window does not show the guest's screen 1:1"
echo "real-vm-gui: the guest's screen: $where"
# "found WxH at X,Y": the guest's screen on the X screen.
set -- $(echo "$where" | sed -n 's/^found \([0-9]*\)x\([0-9]*\) at \([0-9]*\),\([0-9]*\)$/\1 \2 \3 \4/p')
[ $# = 4 ] || fail "find-image said '$where'"
gw=$1 gh=$2 gx=$3 gy=$4

# The absolute pointer: the guest drives the virtio tablet, so the host
# pointer over pixel (px, py) of the guest's screen reaches the guest's
# evdev node as that pixel on the tablet's 0..32767 axes, without a mouse
# capture. The shell on tty1 reads one pointer update (X, Y, SYN: three
# 24-byte events) and shows them; a click first captures the keyboard.
xdotool mousemove $((gx + gw / 2)) $((gy + gh / 2)) click 1
sleep 1
xdotool type --delay 60 'for e in /sys/class/input/event*; do grep -q Tablet $e/device/name && T=/dev/input/${e##*/}; done; od -An -td4 -w24 -N72 $T; echo tab-$((4+4))'
xdotool key Return
sleep 3
px=$((gw / 5)) py=$((gh / 3))
xdotool mousemove $((gx + px)) $((gy + py))
wait_for 60 screen_has tab-8 || fail "the pointer's position did not reach the guest's tablet; screen: $("$CTL" text "$VM" | tail -n 6)"
# The guest maps an axis value back to a pixel as libinput does:
# value * pixels / 32768, rounded down.
"$CTL" text "$VM" | awk -v px="$px" -v py="$py" -v w="$gw" -v h="$gh" '
    $5 == 3 { fx = (int($6 * w / 32768) == px); vx = $6 } $5 == 65539 { fy = (int($6 * h / 32768) == py); vy = $6 }
    END { if (fx && fy) print "real-vm-gui: the host pointer over pixel " px "," py " reached the guest as " vx "," vy
          exit !(fx && fy) }' ||
    fail "the guest's tablet did not read pixel $px,$py: $("$CTL" text "$VM" | tail -n 6)"
xdotool key Control_R
sleep 1
grep -E "CRITICAL|WARNING" "$T/gui.log" && fail "hostel printed warnings"
"$CTL" shutdown "$VM" || fail "hostelctl shutdown"
wait_for 60 is_state stopped || fail "the VM did not stop after the power button"
wait_for 10 no_window || fail "the VM window stayed open after the guest powered off"
sleep 1
[ "$(xdotool search --name . 2>/dev/null | wc -l)" -ge 1 ] && xdotool search --name "rror" 2>/dev/null | grep -q . &&
    fail "an error dialog appeared after a normal power-off"
kill "$gui_pid" "$main_pid" 2>/dev/null
kill "$xvfb" 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
echo "real-vm-gui: PASS in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
rm -rf "$T"
