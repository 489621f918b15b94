#!/usr/bin/env python3
"""The GUI test: hostel under Xvfb, driven through AT-SPI and xdotool.

1. Create a VM with the "New virtual machine" assistant (name, with the
   fake VM an ISO path typed with xdotool and Return in its field, OS by
   search, memory, processors, disk size) and check the list and the
   definition file.
2. Change its memory in the settings dialog.
3. Start it (the VM program comes from HOSTEL_VM): its window shows the
   VM's screen. With the fake VM (--fake-record): the test pattern is on
   the screen at the right aspect; keys typed while the window has
   captured the keyboard reach the VM as the right evdev codes and the
   host key releases it; pointer motion arrives as relative deltas; when
   the VM switches to its tablet, the pointer goes uncaptured as screen
   pixels (clamped to the edges), with buttons and wheel, and a click
   captures the keyboard alone; a click on another application's window
   (under openbox, which focuses the window clicked) ends that capture,
   and the keys typed then go to that window, not to the VM; a
   damaged square and a mode change are redrawn; a stopped (SIGSTOP) VM
   shows as "Not responding" while the GUI keeps answering.
   With the fake VM, too: "Insert CD image…" in the VM window's menu,
   the image's path typed into the file chooser's location entry (Ctrl+L)
   and Return send ChangeCdrom with that path and save it in the
   definition; the chooser opens again in that image's folder, and Cancel
   sends nothing. "Eject CD", a screenshot, the main window's preview.
   Full screen (under openbox, started for it: Xvfb has no window manager,
   and full screen is the window manager's to grant): from the menu the
   window covers the X screen, the VM's screen is drawn scaled to it, the
   status line says F11 leaves it (the header bar is hidden), and F11
   gives the window its size back; F11 enters it as well; while the
   keyboard is captured F11 goes to the VM instead.
4. Stop it from the VM window's Power menu; the window closes and the
   list says "Stopped".
5. With the fake VM: a VM that fails to start and one that dies are
   reported in a dialog with the reason.
6. Delete the VM (with confirmation).

Run by run-gui-test.sh, which sets up the display, the buses and a
private home. The VM program and the timeouts are parameters, so the same
scenario runs against the real hostel-vm.
"""

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import gi

gi.require_version("GLib", "2.0")
from gi.repository import GLib  # noqa: E402

from atspi_ui import Atspi, Ui, UiError, dump  # noqa: E402
import screen_check  # noqa: E402
from gi.repository import Gdk  # noqa: E402  (screen_check chose its version)

VM_NAME = "Test VM"
# GtkAssistant's title is the page's.
ASSISTANT_TITLES = ("Name and installation image", "Operating system", "Memory and processors", "Disk", "Summary")
GIB = 1024 ** 3
# The VM window's capture label with the guest's tablet, not captured.
UNCAPTURED_ABSOLUTE = "Click the screen to capture the keyboard; the mouse works without capture."
# ... and captured (the keyboard alone).
CAPTURED_ABSOLUTE = "Press Right Ctrl to release the keyboard."
# Another application: a window in a process of its own; at each key
# pressed in it, it prints the names of the keys pressed so far.
OTHER_TITLE = "Another application"
OTHER_APP = r"""
import sys
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, Gtk
w = Gtk.Window(title=sys.argv[1])
w.set_default_size(int(sys.argv[4]), int(sys.argv[5]))
w.move(int(sys.argv[2]), int(sys.argv[3]))
typed = []
def key(w, ev):
    typed.append(Gdk.keyval_name(ev.keyval))
    print(" ".join(typed), flush=True)
w.connect("key-press-event", key)
w.connect("destroy", Gtk.main_quit)
w.show_all()
Gtk.main()
"""


def log(msg):
    print(f"gui-test: {msg}", flush=True)


def evdev_codes():
    """KEY_* from the kernel's header: the codes the guest must see."""
    codes = {}
    with open("/usr/include/linux/input-event-codes.h") as f:
        for line in f:
            m = re.match(r"#define\s+(KEY_\w+)\s+(\d+)\b", line)
            if m:
                codes[m.group(1)] = int(m.group(2))
    return codes


class Record:
    """What the fake VM recorded (fake_vm.c)."""

    def __init__(self, path):
        self.path = path

    def lines(self):
        try:
            with open(self.path) as f:
                return [line.rstrip("\n") for line in f]
        except FileNotFoundError:
            return []

    def keys(self):
        out = []
        for line in self.lines():
            p = line.split()
            if p[0] == "key":
                out.append((int(p[1]), p[2] == "1"))
        return out

    def mouse(self):
        return [tuple(int(v) for v in line.split()[1:]) for line in self.lines() if line.startswith("mouse ")]

    def pointer(self):
        """PointerEvent calls: (x, y, dz, buttons)."""
        return [tuple(int(v) for v in line.split()[1:]) for line in self.lines() if line.startswith("pointer ")]

    def pointer_refused(self):
        """PointerEvent calls the VM refused: it had no absolute pointer."""
        return [line for line in self.lines() if line.startswith("pointer-refused ")]

    def methods(self):
        return [line.split()[1] for line in self.lines() if line.startswith("method ")]

    def calls(self, method):
        """The argument of each call of a method with one ("method NAME ARG")."""
        return [line.split(" ", 2)[2] for line in self.lines()
                if line.startswith(f"method {method} ") and len(line.split(" ", 2)) == 3]

    def pids(self):
        return [int(line.split()[1]) for line in self.lines() if line.startswith("pid ")]


def xdotool(*args):
    subprocess.run(["xdotool", *args], check=True)


def x_window(title):
    """The X window id of the visible top-level window with this title."""
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{re.escape(title)}$"],
                         capture_output=True, text=True).stdout.split()
    return out[-1] if out else None


def x_geometry(wid):
    """A window's (x, y, width, height) on the screen, from xwininfo."""
    out = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True, check=True).stdout
    val = {}
    for key in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height"):
        m = re.search(rf"^\s*{key}:\s*(-?\d+)", out, re.M)
        if not m:
            raise UiError(f"xwininfo says nothing of '{key}':\n{out}")
        val[key] = int(m.group(1))
    return (val["Absolute upper-left X"], val["Absolute upper-left Y"], val["Width"], val["Height"])


def x_screen_size():
    out = subprocess.run(["xdotool", "getdisplaygeometry"], capture_output=True, text=True, check=True).stdout
    w, h = out.split()
    return int(w), int(h)


class Test:
    def __init__(self, args):
        self.args = args
        self.ui = Ui(("hostel", "Hostel"), args.timeout_scale)
        self.record = Record(args.fake_record) if args.fake_record else None
        self.hostel = None
        self.other_app = None
        # An "installation image" Hostel does not recognise (the fake VM
        # never reads it; a real hostel-vm gets no CD).
        self.iso = None
        if self.record:
            self.iso = os.path.join(args.work, "install.iso")
            with open(self.iso, "wb") as f:
                f.truncate(1024 * 1024)
            # The CD inserted into the running VM, and a second image beside
            # it, in a folder of their own whose name has a space.
            self.cd_dir = os.path.join(args.work, "CD images")
            os.mkdir(self.cd_dir)
            self.cd = os.path.join(self.cd_dir, "Rescue disc.iso")
            self.cd_other = os.path.join(self.cd_dir, "Tools.iso")
            for path in (self.cd, self.cd_other):
                with open(path, "wb") as f:
                    f.truncate(64 * 1024)

    # ---- helpers ----

    def main_window(self):
        return self.ui.window("Hostel")

    def vm_window(self):
        return self.ui.window(VM_NAME)

    def definition(self):
        files = glob.glob(os.path.join(self.args.data_home, "hostel", "machines", "*", "machine.hostel"))
        if len(files) != 1:
            raise UiError(f"expected one VM definition, found {files}")
        kf = GLib.KeyFile()
        kf.load_from_file(files[0], GLib.KeyFileFlags.NONE)
        return files[0], kf

    def settled(self, acc):
        """acc's extents when they stay the same for a moment, else None."""
        first = self.ui.extents(acc)
        time.sleep(0.2 * self.args.timeout_scale)
        return first if self.ui.extents(acc) == first else None

    def row_state(self, state):
        """The VM's row in the main window says state."""
        lst = self.ui.find(self.main_window(), role="list box", name="Virtual machines")
        return lst is not None and self.ui.find(lst, role="label", name=state) is not None

    def alert(self, contains):
        for w in self.ui.windows():
            if w.get_role_name() in ("alert", "dialog") and self.ui.find(w, role="label", contains=contains):
                return w
        return None

    def close_alert(self, contains):
        a = self.ui.wait(f"a dialog saying '{contains}'", lambda: self.alert(contains), 20)
        texts = [self.ui.text(l) for l in self.ui.find_all(a, role="label")]
        log(f"dialog: {' / '.join(t for t in texts if t)}")
        self.ui.press_button(a, "Close")
        self.ui.wait("the dialog to close", lambda: self.alert(contains) is None)
        return texts

    # ---- steps ----

    def start_hostel(self):
        self.hostel_log = os.path.join(self.args.work, "hostel.log")
        self.hostel = subprocess.Popen([self.args.hostel], stderr=open(self.hostel_log, "w"))
        self.ui.wait("the main window", self.main_window, 30)

    def create_vm(self):
        ui = self.ui
        ui.press_button(self.main_window(), "New virtual machine")
        assistant = lambda: ui.window(ASSISTANT_TITLES)  # noqa: E731
        ui.wait("the assistant", assistant)
        name = ui.wait_labelled(assistant, "Name")
        # A name the library refuses keeps the assistant on its first page.
        ui.set_text(name, "Bad/name")
        ui.wait("the name to be refused", lambda: ui.find(assistant(), role="label", contains="cannot contain '/'"))
        if ui.find(assistant(), role="push button", name="Next", showing=True).get_state_set().contains(
                Atspi.StateType.SENSITIVE):
            raise UiError("Next is offered for a name with '/'")
        ui.set_text(name, VM_NAME)
        if self.iso:
            # The ISO's path typed into its field as a user would, then
            # Return there goes on like Next (the default button).
            iso = ui.wait_labelled(assistant, "Installation image")
            # The refusal's sentence goes and the fields move up: click
            # where the field is once the page has settled.
            ui.wait("the name to be accepted",
                    lambda: ui.find(assistant(), role="label", contains="cannot contain '/'") is None)
            x, y, w, h = ui.wait("the page to settle", lambda: self.settled(iso))
            xdotool("mousemove", str(x + w // 2), str(y + h // 2))
            xdotool("click", "1")
            ui.wait("the ISO field to have the focus",
                    lambda: iso.get_state_set().contains(Atspi.StateType.FOCUSED))
            xdotool("type", "--delay", "20", self.iso)
            ui.wait("the ISO's path in its field", lambda: ui.text(iso) == self.iso)
            xdotool("key", "Return")
        else:
            ui.press_button(assistant, "Next")
        # The OS: searched in the presets, or typed when there are none.
        entry = ui.wait("the OS search or OS id entry",
                        lambda: ui.find(assistant(), role="text", name="Search operating systems", showing=True)
                        or ui.find(assistant(), role="text", name="Operating system ID", showing=True))
        if entry.get_name() == "Search operating systems":
            ui.set_text(entry, "Debian 12")
            ui.wait("Debian 12 to be the only choice",
                    lambda: [a.get_name() for a in ui.find_all(assistant(), role="list item", showing=True)]
                    == ["Debian 12"], 5)
        else:
            ui.set_text(entry, "debian12")
        ui.press_button(assistant, "Next")
        ui.set_value(ui.wait_labelled(assistant, "Memory (MiB)"), 1536)
        ui.set_value(ui.wait_labelled(assistant, "Processors"), 3)
        ui.press_button(assistant, "Next")
        ui.set_value(ui.wait_labelled(assistant, "Size (GiB)"), 8)
        ui.press_button(assistant, "Next")
        ui.wait_find(assistant, "the summary", role="label", contains="1536 MiB", showing=True)
        ui.press_button(assistant, "Apply")
        ui.wait("the assistant to close", lambda: assistant() is None)
        ui.wait("the new VM in the list",
                lambda: ui.find(self.main_window(), role="list item", name=VM_NAME)
                or ui.find(self.main_window(), role="label", name=VM_NAME))
        path, kf = self.definition()
        checks = {("machine", "name"): VM_NAME, ("machine", "memory"): "1536", ("machine", "cpus"): "3",
                  ("machine", "os"): "debian12"}
        for (group, key), want in checks.items():
            got = kf.get_string(group, key)
            if got != want:
                raise UiError(f"{path}: [{group}] {key} is '{got}', not '{want}'")
        if self.iso and kf.get_string("cdrom", "file") != self.iso:
            raise UiError(f"{path}: the CD-ROM is '{kf.get_string('cdrom', 'file')}', not '{self.iso}'")
        disk = os.path.join(os.path.dirname(path), kf.get_string("disk0", "file"))
        if os.path.getsize(disk) != 8 * GIB:
            raise UiError(f"the disk {disk} has {os.path.getsize(disk)} bytes, not 8 GiB")
        log(f"created {path}: memory 1536, 3 CPUs, debian12, 8 GiB disk")

    def change_settings(self):
        ui = self.ui
        ui.press_button(self.main_window, "Settings")
        dialog = lambda: ui.window(f"Settings of “{VM_NAME}”", roles=("dialog", "frame"))  # noqa: E731
        ui.wait("the settings dialog", dialog)
        ui.set_value(ui.wait_labelled(dialog, "Memory (MiB)"), 1024)
        ui.press_button(dialog, "Save")
        ui.wait("the settings dialog to close", lambda: dialog() is None)
        path, kf = self.definition()
        if kf.get_string("machine", "memory") != "1024":
            raise UiError(f"{path}: the memory was not saved")
        log("settings saved: memory 1024")

    def start_vm(self):
        ui = self.ui
        ui.press_button(self.main_window, "Start")
        ui.wait("the VM window", self.vm_window, 30)
        ui.wait("the VM to be running", lambda: ui.find(self.vm_window(), role="label", name="Running"), 30)
        self.screen = ui.wait_find(self.vm_window, "the screen", role="drawing area", name="Screen")
        # Let the first frame arrive and the window settle.
        time.sleep(1.0 * self.args.timeout_scale)

    def shot(self):
        x, y, w, h = self.ui.extents(self.screen)
        return screen_check.Shot(x, y, w, h)

    def check_pattern(self, want_aspect):
        def found():
            try:
                return screen_check.find_pattern(self.shot())
            except AssertionError as e:
                self.last_pattern_error = str(e)
                return None
        self.last_pattern_error = ""
        try:
            boxes, whole = self.ui.wait("the test pattern on the screen", found, 10)
        except UiError as e:
            raise UiError(f"{e}: {self.last_pattern_error}")
        got = screen_check.aspect(whole)
        if abs(got - want_aspect) > 0.03 * want_aspect:
            raise UiError(f"the screen is drawn {whole}, aspect {got:.3f}, not {want_aspect:.3f}")
        x, y, w, h = self.ui.extents(self.screen)
        # Scaled to the window: it fills the width or the height.
        if abs((whole[2] - whole[0]) - w) > 3 and abs((whole[3] - whole[1]) - h) > 3:
            raise UiError(f"the screen {whole} does not fill the {w}x{h} widget")
        return whole

    def capture_label(self, contains):
        return self.ui.find(self.vm_window(), role="label", contains=contains)

    def check_input(self, codes):
        ui = self.ui
        x, y, w, h = ui.extents(self.screen)
        xdotool("mousemove", str(x + w // 2), str(y + h // 2))
        xdotool("click", "1")
        ui.wait("the keyboard to be captured", lambda: self.capture_label("Press Right Ctrl to release"), 10)
        before = len(self.record.keys())
        xdotool("key", "a", "Return", "alt+Tab")
        want = [(codes["KEY_A"], True), (codes["KEY_A"], False), (codes["KEY_ENTER"], True),
                (codes["KEY_ENTER"], False), (codes["KEY_LEFTALT"], True), (codes["KEY_TAB"], True)]
        # xdotool lets go of a combination's keys in an order of its own.
        released = {(codes["KEY_TAB"], False), (codes["KEY_LEFTALT"], False)}
        ui.wait("the keys at the VM", lambda: len(self.record.keys()) >= before + len(want) + 2, 10)
        got = self.record.keys()[before:]
        if got[:len(want)] != want or set(got[len(want):]) != released or len(got) != len(want) + 2:
            raise UiError(f"the VM got keys {got}, not {want} and then {released}")
        log(f"keys reached the VM: {got}")

        # Relative motion: 40 pixels right, in guest pixels.
        scale = w / 640.0 if w / 640.0 < h / 480.0 else h / 480.0
        before = len(self.record.mouse())
        xdotool("mousemove_relative", "--", "40", "0")
        expect = 40 / scale
        ui.wait("the motion at the VM", lambda: sum(m[0] for m in self.record.mouse()[before:]) >= expect - 2, 10)
        moves = self.record.mouse()[before:]
        dx, dy = sum(m[0] for m in moves), sum(m[1] for m in moves)
        if abs(dx - expect) > 2 or dy != 0:
            raise UiError(f"the VM's pointer moved {dx},{dy}, not {expect:.1f},0")
        log(f"pointer motion reached the VM: {dx},{dy} in {len(moves)} events")

    # ---- the absolute pointer (the guest's tablet) ----

    def grab_status(self, capability):
        """Try to grab the pointer or the keyboard from this process (and let
        go at once): ALREADY_GRABBED while hostel holds that device."""
        Gdk.init([])
        display = Gdk.Display.get_default()
        if getattr(self, "grab_window", None) is None:
            # A grab needs a mapped window: a pixel of our own, off the screen.
            attr = Gdk.WindowAttr()
            attr.window_type = Gdk.WindowType.TEMP
            attr.wclass = Gdk.WindowWindowClass.INPUT_OUTPUT
            attr.x, attr.y, attr.width, attr.height = -10, -10, 1, 1
            self.grab_window = Gdk.Window.new(None, attr, Gdk.WindowAttributesType.X | Gdk.WindowAttributesType.Y)
            self.grab_window.show()
            display.sync()
        seat = display.get_default_seat()
        st = seat.grab(self.grab_window, capability, False, None, None, None, None)
        if st == Gdk.GrabStatus.SUCCESS:
            seat.ungrab()
        display.sync()
        return st

    def check_grabs(self, pointer, keyboard):
        """Whether hostel holds the pointer and the keyboard."""
        for what, cap, want in (("the pointer", Gdk.SeatCapabilities.POINTER, pointer),
                                ("the keyboard", Gdk.SeatCapabilities.KEYBOARD, keyboard)):
            st = self.grab_status(cap)
            if st not in (Gdk.GrabStatus.SUCCESS, Gdk.GrabStatus.ALREADY_GRABBED):
                raise UiError(f"could not try to grab {what}: {st.value_nick}")
            if (st == Gdk.GrabStatus.ALREADY_GRABBED) != want:
                raise UiError(f"hostel {'does not hold' if want else 'holds'} {what} (a grab here: {st.value_nick})")

    def wait_pointer(self, before, what, want, slack=1):
        """A PointerEvent recorded after the first `before` ones, at (x, y)
        within slack pixels, with dz and buttons as in want; it is the
        last one so far. Returns it."""
        def ok(p):
            return abs(p[0] - want[0]) <= slack and abs(p[1] - want[1]) <= slack and p[2:] == tuple(want[2:])
        try:
            self.ui.wait(what, lambda: any(ok(p) for p in self.record.pointer()[before:]), 10)
        except UiError as e:
            raise UiError(f"{e}: the VM got {self.record.pointer()[before:]}, not {want}")
        # Let stragglers in: the one wanted must stay the last.
        time.sleep(0.2 * self.args.timeout_scale)
        got = self.record.pointer()[before:]
        if not ok(got[-1]):
            raise UiError(f"{what}: the VM got {got}, the last not {want}")
        return got[-1]

    def no_pointer(self, before, what):
        time.sleep(0.5 * self.args.timeout_scale)
        got = self.record.pointer()[before:]
        if got:
            raise UiError(f"{what}, yet the VM got {got}")

    def wait_cursor(self, visible, where):
        """The host's cursor shown or hidden (skipped without libXfixes)."""
        if screen_check.cursor_visible() is None:
            return
        self.ui.wait(f"the host's cursor to be {'shown' if visible else 'hidden'} {where}",
                     lambda: screen_check.cursor_visible() == visible, 5)

    def check_absolute(self, codes):
        """The VM switches to its tablet (key t, while captured): the capture
        ends; the pointer over the screen goes to the VM as the framebuffer
        pixel under it, clamped to the screen's edges, with its buttons and
        wheel, and is never grabbed; a click captures the keyboard alone.
        Back to relative (t again) at the end, captured as before."""
        ui = self.ui
        whole = self.check_pattern(640 / 480)
        # The pattern's colours stop a pixel short where scaling blends the
        # screen's edge into the black around it: the drawn screen is all
        # that is not black (no pattern pixel is).
        drawn = self.shot().bbox_not((0, 0, 0))
        if drawn is None or any(abs(a - b) > 2 for a, b in zip(drawn, whole)):
            raise UiError(f"the screen is drawn at {drawn}, but its pattern at {whole}")
        sx, sy, sw, sh = ui.extents(self.screen)
        wx, wy, ww, wh = ui.extents(self.vm_window())
        left, top = sx + drawn[0], sy + drawn[1]
        fx, fy = (drawn[2] - drawn[0]) / 640, (drawn[3] - drawn[1]) / 480
        log(f"the screen is drawn at {left},{top}, {drawn[2] - drawn[0]}x{drawn[3] - drawn[1]} in the widget "
            f"{sx},{sy} {sw}x{sh}; the window {wx},{wy} {ww}x{wh}")

        def at(px, py):
            """The root position over the middle of framebuffer pixel px, py."""
            return left + round((px + 0.5) * fx), top + round((py + 0.5) * fy)

        def move(x, y):
            xdotool("mousemove", str(x), str(y))

        before_keys = len(self.record.keys())
        xdotool("key", "t")
        ui.wait("the capture to end on the switch to the tablet",
                lambda: self.capture_label(UNCAPTURED_ABSOLUTE), 10)
        if (codes["KEY_T"], True) not in self.record.keys()[before_keys:]:
            raise UiError(f"the VM did not get t: {self.record.keys()[before_keys:]}")
        self.check_grabs(pointer=False, keyboard=False)
        log("the VM switched to its tablet: the capture ended")

        # Motion, not captured: the pixel under the pointer.
        got = []
        for px, py in ((40, 30), (320, 240), (601, 77), (13, 466), (639, 479), (0, 0)):
            before = len(self.record.pointer())
            move(*at(px, py))
            got.append(self.wait_pointer(before, f"the pointer at pixel {px},{py}", (px, py, 0, 0)))
        log(f"pointer positions reached the VM as screen pixels: {[p[:2] for p in got]}")
        self.wait_cursor(False, "over the screen")

        # Beside the screen, in the widget's black border: the nearest edge.
        mid_x, mid_y = at(320, 240)
        border = [(sx + 1, mid_y, (0, 240)) if drawn[0] >= 2 else None,
                  (sx + sw - 2, mid_y, (639, 240)) if sw - drawn[2] >= 2 else None,
                  (mid_x, sy + 1, (320, 0)) if drawn[1] >= 2 else None,
                  (mid_x, sy + sh - 2, (320, 479)) if sh - drawn[3] >= 2 else None]
        for x, y, (px, py) in [b for b in border if b]:
            before = len(self.record.pointer())
            move(x, y)
            self.wait_pointer(before, f"the pointer beside the screen at {x},{y}", (px, py, 0, 0))
            log(f"beside the screen ({x},{y}): the edge pixel {px},{py}")

        # Off the window the VM hears nothing: the mouse is not grabbed.
        outside = (wx + ww + 20, wy + wh // 2) if wx + ww + 20 < 1280 else (wx + ww // 2, wy + wh + 20)
        before = len(self.record.pointer())
        move(*outside)
        self.no_pointer(before, f"the pointer is outside the window at {outside}")
        self.wait_cursor(True, "outside the window")

        # A click: the press and release where the pointer is, and the
        # keyboard (only) captured.
        px, py = 500, 120
        before = len(self.record.pointer())
        move(*at(px, py))
        self.wait_pointer(before, f"the pointer at pixel {px},{py}", (px, py, 0, 0))
        before = len(self.record.pointer())
        xdotool("click", "1")
        self.wait_pointer(before, "the click's release", (px, py, 0, 0))
        got = self.record.pointer()[before:]
        if len(got) != 2 or got[0][2:] != (0, 1) or got[1][2:] != (0, 0) or got[0][:2] != got[1][:2]:
            raise UiError(f"a click at pixel {px},{py} gave the VM {got}")
        ui.wait("the keyboard alone to be captured",
                lambda: self.capture_label("Press Right Ctrl to release the keyboard."), 10)
        if self.capture_label("keyboard and mouse"):
            raise UiError("the label speaks of the mouse with the tablet")
        self.check_grabs(pointer=False, keyboard=True)
        self.expect_key_a(codes, "")
        log(f"a click at {got[0][:2]}: press and release at the VM, the keyboard alone captured")

        # Captured, the pointer still leaves the window freely, and comes back.
        before = len(self.record.pointer())
        move(*outside)
        loc = subprocess.run(["xdotool", "getmouselocation"], capture_output=True, text=True, check=True).stdout
        if f"x:{outside[0]} y:{outside[1]} " not in loc + " ":
            raise UiError(f"the pointer did not go to {outside}: {loc.strip()}")
        self.no_pointer(before, "the pointer left the window while the keyboard is captured")
        before = len(self.record.pointer())
        move(*at(200, 300))
        self.wait_pointer(before, "the pointer back at pixel 200,300", (200, 300, 0, 0))
        self.wait_cursor(False, "over the screen while the keyboard is captured")

        # The wheel, up and down, at the pointer.
        for button, dz in (("4", 1), ("5", -1)):
            before = len(self.record.pointer())
            xdotool("click", button)
            self.wait_pointer(before, f"the wheel ({dz})", (200, 300, dz, 0))
        # A drag out of the screen: clamped to its edge, the button held.
        below = sy + sh + 15 < 1024
        drag = (at(200, 300)[0], sy + sh + 15) if below else (sx + sw + 15, at(200, 300)[1])
        edge = (200, 479) if below else (639, 300)
        xdotool("mousedown", "1")
        before = len(self.record.pointer())
        move(*drag)
        self.wait_pointer(before, f"the drag out of the screen to {drag}", edge + (0, 1))
        before = len(self.record.pointer())
        xdotool("mouseup", "1")
        self.wait_pointer(before, "the drag's release", edge + (0, 0))
        log(f"the wheel, and a drag off the screen (to the edge pixel {edge}) reached the VM")

        xdotool("key", "Control_R")
        ui.wait("the keyboard to be released",
                lambda: self.capture_label(UNCAPTURED_ABSOLUTE), 10)
        self.check_grabs(pointer=False, keyboard=False)
        log("Right Ctrl released the keyboard")

        self.check_absolute_held_on_pause(at)
        self.check_absolute_focus_loss(at, codes)
        # Back to relative mouse motion: t while captured, then a click
        # captures both again.
        move(*at(320, 240))
        xdotool("click", "1")
        ui.wait("the keyboard to be captured", lambda: self.capture_label("Press Right Ctrl to release the keyboard."),
                10)
        xdotool("key", "t")
        ui.wait("the capture to end on the switch back",
                lambda: self.capture_label("Click the screen to capture the keyboard and mouse."), 10)
        before, before_mouse = len(self.record.pointer()), len(self.record.mouse())
        move(*at(100, 100))
        self.no_pointer(before, "the VM went back to relative motion")
        if self.record.mouse()[before_mouse:]:
            raise UiError(f"motion went to the VM without a capture: {self.record.mouse()[before_mouse:]}")
        self.wait_cursor(True, "over the screen with relative motion, not captured")
        xdotool("click", "1")
        ui.wait("the keyboard and mouse to be captured",
                lambda: self.capture_label("Press Right Ctrl to release the keyboard and mouse."), 10)
        self.check_grabs(pointer=True, keyboard=True)
        if self.record.pointer_refused():
            raise UiError(f"PointerEvent went to a VM without the tablet: {self.record.pointer_refused()}")
        log("back to relative motion: a click captures the keyboard and mouse")

    def start_other_app(self, screen, vm):
        """OTHER_APP's window in the screen's bottom right corner, clear of
        the VM window vm (x, y, width, height). Returns the process, its
        output file and its X window."""
        ow, oh = 180, 80
        ox, oy = screen[0] - ow - 20, screen[1] - oh - 40
        if ox < vm[0] + vm[2] + 10 and oy < vm[1] + vm[3] + 10:
            raise UiError(f"no room for another window beside the VM window at {vm} on the {screen} screen")
        out = os.path.join(self.args.work, "other-app.out")
        env = dict(os.environ, NO_AT_BRIDGE="1")
        proc = subprocess.Popen([sys.executable, "-c", OTHER_APP, OTHER_TITLE, str(ox), str(oy), str(ow), str(oh)],
                                stdout=open(out, "w"), stderr=open(os.path.join(self.args.work, "other-app.log"), "w"),
                                env=env)
        # It stays to the end (run): under Xvfb, once a second GTK client
        # has gone, XFixesGetCursorImage fails over the root window.
        self.other_app = proc
        wid = self.ui.wait("the other application's window", lambda: proc.poll() is None and x_window(OTHER_TITLE),
                           10)
        return out, wid

    def check_absolute_focus_loss(self, at, codes):
        """With the tablet the pointer is free while the keyboard is
        captured: a click on another application's window, which the window
        manager (openbox, focusing the window clicked) makes the active one,
        ends the capture; the keys typed then go to that window and the VM
        gets none. A click on the screen captures again. Skipped without
        openbox. Leaves the VM running, nothing captured."""
        ui = self.ui
        if not shutil.which("openbox"):
            log("the capture's end on a click elsewhere NOT checked: no window manager (apt-get install openbox)")
            return
        vm_wid = self.vm_x_window()
        screen_at = ui.extents(self.screen)
        other_out, other_wid = self.start_other_app(x_screen_size(), x_geometry(vm_wid))
        wm = None
        try:
            wm = self.start_window_manager(click_to_focus=True)
            ui.wait("openbox to manage the other window", lambda: self.wm_manages(other_wid), 10)
            if ui.extents(self.screen) != screen_at:
                raise UiError(f"the VM's screen moved from {screen_at} to {ui.extents(self.screen)} under openbox")

            xdotool("mousemove", *map(str, at(320, 240)))
            xdotool("click", "1")
            ui.wait("the keyboard to be captured", lambda: self.capture_label(CAPTURED_ABSOLUTE), 10)
            self.check_grabs(pointer=False, keyboard=True)

            # A click on the other window: openbox gives it the focus.
            x, y, w, h = x_geometry(other_wid)
            xdotool("mousemove", str(x + w // 2), str(y + h // 2))
            xdotool("click", "1")
            ui.wait("openbox to make the other window the active one", lambda: self.x_active_window() == int(other_wid),
                    10)
            ui.wait("the capture to end on the click on the other window",
                    lambda: self.capture_label(UNCAPTURED_ABSOLUTE), 10)
            self.check_grabs(pointer=False, keyboard=False)
            before = len(self.record.keys())
            xdotool("type", "--delay", "50", "xyz")

            def typed():
                with open(other_out) as f:
                    lines = f.read().splitlines()
                return lines and lines[-1] == "x y z"
            try:
                ui.wait("the keys at the other window", typed, 10)
            except UiError as e:
                with open(other_out) as f:
                    got = f.read().splitlines()
                raise UiError(f"{e}: it got {got}; the VM got {self.record.keys()[before:]}")
            time.sleep(0.5 * self.args.timeout_scale)
            if self.record.keys()[before:]:
                raise UiError(f"keys typed into the other window reached the VM: {self.record.keys()[before:]}")
            log("a click on another window ended the keyboard capture; the keys typed went there, none to the VM")

            # Back: a click on the screen captures the keyboard again.
            xdotool("mousemove", *map(str, at(320, 240)))
            xdotool("click", "1")
            ui.wait("the keyboard to be captured again", lambda: self.capture_label(CAPTURED_ABSOLUTE), 10)
            ui.wait("openbox to make the VM window the active one", lambda: self.x_active_window() == int(vm_wid), 10)
            # The capture stays once the VM window is the active one.
            time.sleep(0.5 * self.args.timeout_scale)
            self.check_grabs(pointer=False, keyboard=True)
            self.expect_key_a(codes, "captured again, ")
            xdotool("key", "Control_R")
            ui.wait("the keyboard to be released", lambda: self.capture_label(UNCAPTURED_ABSOLUTE), 10)
            log("a click on the screen captured the keyboard again, and keys reached the VM")
        finally:
            if wm:
                self.stop_window_manager(wm)

    def expect_key_a(self, codes, context):
        """Type 'a': exactly its press and release must reach the VM."""
        before = len(self.record.keys())
        xdotool("key", "a")
        want = [(codes["KEY_A"], True), (codes["KEY_A"], False)]
        self.ui.wait("the key at the VM", lambda: len(self.record.keys()) >= before + 2, 10)
        if self.record.keys()[before:] != want:
            raise UiError(f"{context}the VM got keys {self.record.keys()[before:]}, not {want}")

    def check_absolute_held_on_pause(self, at):
        """With the tablet and nothing captured, a right button held over
        the screen is the guest's (a right click captures nothing). A
        pause lets go of it in the guest at once, though it is still held
        on the host; its release while paused reaches nothing, and after
        the resume the pointer moves with no button held. Leaves the VM
        running, nothing captured, the pointer over the screen."""
        ui = self.ui
        px, py = 420, 160
        # Into the screen from below it (the status line, after the drag):
        # entering the screen alone must place the guest's pointer.
        before = len(self.record.pointer())
        xdotool("mousemove", *map(str, at(px, py)))
        self.wait_pointer(before, f"the pointer at pixel {px},{py}", (px, py, 0, 0))
        before = len(self.record.pointer())
        xdotool("mousedown", "3")
        try:
            self.wait_pointer(before, "the right button held", (px, py, 0, 2))
            if not self.capture_label(UNCAPTURED_ABSOLUTE):
                raise UiError("a right click captured the keyboard")

            before, before_lines = len(self.record.pointer()), len(self.record.lines())
            ui.press_button(self.main_window, "Pause")
            ui.wait("the VM to be paused", lambda: self.row_state("Paused"), 10)
            ui.wait("the VM window to say Paused", lambda: ui.find(self.vm_window(), role="label", name="Paused"), 10)
            self.wait_pointer(before, "the held right button let go of in the guest on the pause", (px, py, 0, 0))
            lines = self.record.lines()[before_lines:]
            if "method Pause" not in lines or not any(
                    line == f"pointer {px} {py} 0 0" for line in lines[lines.index("method Pause"):]):
                raise UiError(f"the release did not follow the pause: the VM got {lines}")
        finally:
            before = len(self.record.pointer())
            xdotool("mouseup", "3")
        self.no_pointer(before, "the right button went up while the VM is paused")

        ui.press_button(self.main_window, "Resume")
        ui.wait("the VM to run again", lambda: self.row_state("Running"), 10)
        ui.wait("the VM window to say Running", lambda: ui.find(self.vm_window(), role="label", name="Running"), 10)
        for qx, qy in ((380, 200), (330, 250)):
            before = len(self.record.pointer())
            xdotool("mousemove", *map(str, at(qx, qy)))
            self.wait_pointer(before, f"the pointer at pixel {qx},{qy} with no button held after the resume",
                              (qx, qy, 0, 0))
        if not self.capture_label(UNCAPTURED_ABSOLUTE):
            raise UiError("the pause and resume changed the capture")
        log("a right button held over the screen was let go of in the guest on a pause; "
            "after the resume the pointer moved with no button held")

    def check_damage_and_mode(self):
        whole = self.check_pattern(640 / 480)
        xdotool("key", "y")
        cx, cy = (whole[0] + whole[2]) // 2, (whole[1] + whole[3]) // 2
        self.ui.wait("the yellow square", lambda: self.shot().pixel(cx, cy) == screen_check.YELLOW, 10)
        log("a damaged rectangle was redrawn")
        xdotool("key", "r")
        self.ui.wait("the new mode", lambda: self._aspect_is(800 / 450), 10)
        log("the mode change (DisplayChanged) was shown")

    def _aspect_is(self, want):
        try:
            _, whole = screen_check.find_pattern(self.shot())
        except AssertionError:
            return False
        return abs(screen_check.aspect(whole) - want) < 0.03 * want

    def check_release(self, codes):
        ui = self.ui
        xdotool("key", "Control_R")
        ui.wait("the keyboard to be released", lambda: self.capture_label("Click the screen to capture"), 10)
        before = len(self.record.keys())
        xdotool("key", "a")
        time.sleep(1.0 * self.args.timeout_scale)
        after = self.record.keys()
        if len(after) != before:
            raise UiError(f"keys reached the VM after the release: {after[before:]}")
        if any(code == codes["KEY_RIGHTCTRL"] for code, _ in after):
            raise UiError("the host key reached the VM")
        log("the host key released the keyboard and was not passed on")

    def check_not_responding(self):
        ui = self.ui
        pid = self.record.pids()[-1]
        os.kill(pid, signal.SIGSTOP)
        try:
            ui.wait("'Not responding' in the VM window",
                    lambda: ui.find(self.vm_window(), role="label", name="Not responding"), 20)
            ui.wait("'Not responding' in the list", lambda: self.row_state("Not responding"), 20)
            # The GUI still answers: open and close the main menu.
            t0 = time.monotonic()
            ui.find(self.main_window(), role="toggle button", name="Main menu")
            if time.monotonic() - t0 > 2 * self.args.timeout_scale:
                raise UiError("the GUI took too long to answer while the VM hung")
        finally:
            os.kill(pid, signal.SIGCONT)
        ui.wait("the VM to be running again", lambda: ui.find(self.vm_window(), role="label", name="Running"), 20)
        log("a hung VM showed as Not responding, the GUI kept answering")

    def stop_vm(self):
        ui = self.ui
        if self.args.stop == "shutdown":
            self.menu_item(self.vm_window, "Power", "Shut down")
        else:
            self.menu_item(self.vm_window, "Power", "Force power off")
            confirm = ui.wait("the power off confirmation", lambda: self.alert("unsaved work in it is lost"))
            ui.press_button(confirm, "Force power off")
        ui.wait("the VM window to close", lambda: self.vm_window() is None, 30)
        ui.wait("the VM to be stopped in the list", lambda: self.row_state("Stopped"), 20)
        method = "Shutdown" if self.args.stop == "shutdown" else "PowerOff"
        if self.record and method not in self.record.methods():
            raise UiError(f"the VM never got {method}")
        log(f"stopped from the VM window ({method})")

    def menu_item(self, window_fn, menu, item):
        """Open a header bar menu and choose an item."""
        ui = self.ui
        ui.press(ui.wait_find(window_fn, f"the {menu} menu button", role="toggle button", name=menu))
        ui.press(ui.wait_find(window_fn, f"the item '{item}'", role="push button", name=item, showing=True))

    def check_pause(self):
        ui = self.ui
        ui.press_button(self.main_window, "Pause")
        ui.wait("the VM to be paused", lambda: self.row_state("Paused"), 10)
        ui.press_button(self.main_window, "Resume")
        ui.wait("the VM to run again", lambda: self.row_state("Running"), 10)
        if self.record and self.record.methods()[-2:] != ["Pause", "Resume"]:
            raise UiError(f"the VM got {self.record.methods()}, not Pause and Resume")
        log("paused and resumed from the main window")

    def check_reset(self):
        ui = self.ui
        self.menu_item(self.vm_window, "Power", "Reset")
        confirm = ui.wait("the reset confirmation", lambda: self.alert("unsaved work in it is lost"))
        ui.press_button(confirm, "Reset")
        ui.wait("the VM to get Reset", lambda: "Reset" in self.record.methods(), 10)
        # hostel-vm drops its clients on a reset; the window reconnects.
        time.sleep(1.0 * self.args.timeout_scale)
        if self.vm_window() is None:
            raise UiError("the VM window closed on a reset")
        ui.wait("the VM to be running after the reset",
                lambda: ui.find(self.vm_window(), role="label", name="Running"), 10)
        self.check_pattern(800 / 450)
        log("reset: the window reconnected and shows the screen")

    # ---- the CD-ROM: "Insert CD image…" and its file chooser ----

    ISO_CHOOSER = "Choose an installation image"

    def iso_chooser(self):
        return self.ui.window(self.ISO_CHOOSER, roles=("file chooser", "dialog", "frame"))

    def open_iso_chooser(self):
        self.menu_item(self.vm_window, "Main menu", "Insert CD image…")
        chooser = self.ui.wait("the CD image file chooser", self.iso_chooser)
        # Keys go to the chooser: X's focus on it, the pointer over it.
        wid = self.ui.wait("the file chooser's X window", lambda: x_window(self.ISO_CHOOSER))
        x, y, w, h = self.ui.wait("the file chooser to be laid out",
                                  lambda: self.settled(chooser) if self.ui.extents(chooser)[2] > 1 else None)
        xdotool("mousemove", str(x + w // 2), str(y + 10))
        xdotool("windowfocus", "--sync", wid)
        self.ui.wait("the file chooser to be active",
                     lambda: self.iso_chooser().get_state_set().contains(Atspi.StateType.ACTIVE), 5)
        return chooser

    def chooser_files(self):
        """The names in the chooser's file list."""
        chooser = self.iso_chooser()
        return {c.get_name() for c in self.ui.find_all(chooser, role="table cell", showing=True) if c.get_name()}

    def check_insert_cd(self):
        """Insert CD image…: a path typed into the chooser's location entry
        (Ctrl+L) and Return send ChangeCdrom with it and save it in the
        definition; the chooser opens again in that folder; Cancel sends
        nothing."""
        ui = self.ui
        before = len(self.record.calls("ChangeCdrom"))
        self.open_iso_chooser()
        # Ctrl+L held until the location entry has the focus, as a hand
        # holds it: GTK gives a key release that comes before the new entry
        # is realized to it all the same, with a critical warning.
        xdotool("keydown", "ctrl+l")
        try:
            entry = ui.wait("the chooser's location entry",
                            lambda: ui.find(self.iso_chooser(), role="text", showing=True, focused=True), 5)
        finally:
            xdotool("keyup", "l", "ctrl")
        xdotool("type", "--delay", "20", self.cd)
        ui.wait("the CD's path in the location entry", lambda: ui.text(entry) == self.cd, 5)
        # A pause before Return, as a person makes: GTK's file name completion
        # runs 100 ms after the last key, and a Return before it is lost.
        time.sleep(0.5 * self.args.timeout_scale)
        if ui.text(entry) != self.cd:
            raise UiError(f"the location entry changed to '{ui.text(entry)}' (completion?), not '{self.cd}'")
        xdotool("key", "Return")
        ui.wait("the file chooser to close", lambda: self.iso_chooser() is None)
        ui.wait("the VM to get ChangeCdrom", lambda: len(self.record.calls("ChangeCdrom")) > before, 10)
        got = self.record.calls("ChangeCdrom")[before:]
        if got != [self.cd]:
            raise UiError(f"the VM got ChangeCdrom {got}, not ['{self.cd}']")
        path, kf = self.definition()
        if kf.get_string("cdrom", "file") != self.cd:
            raise UiError(f"{path}: the CD-ROM is '{kf.get_string('cdrom', 'file')}', not '{self.cd}'")
        log(f"inserted '{self.cd}' through the file chooser: ChangeCdrom and the definition have it")

        # Again: it opens in the CD's folder. Cancel sends nothing.
        self.open_iso_chooser()
        want = {os.path.basename(self.cd), os.path.basename(self.cd_other)}
        try:
            ui.wait("the chooser to open in the CD's folder", lambda: want <= self.chooser_files(), 5)
        except UiError as e:
            raise UiError(f"{e}: it lists {sorted(self.chooser_files())}")
        ui.press_button(self.iso_chooser, "Cancel")
        ui.wait("the file chooser to close", lambda: self.iso_chooser() is None)
        time.sleep(1.0 * self.args.timeout_scale)
        if len(self.record.calls("ChangeCdrom")) != before + 1:
            raise UiError(f"Cancel sent ChangeCdrom {self.record.calls('ChangeCdrom')[before + 1:]}")
        path, kf = self.definition()
        if kf.get_string("cdrom", "file") != self.cd:
            raise UiError(f"{path}: after Cancel the CD-ROM is '{kf.get_string('cdrom', 'file')}'")
        log("the chooser opened again in the CD's folder; Cancel sent nothing")

    def check_eject(self):
        ui = self.ui
        self.menu_item(self.vm_window, "Main menu", "Eject CD")
        ui.wait("the VM to get EjectCdrom", lambda: "EjectCdrom" in self.record.methods(), 10)
        path, kf = self.definition()
        try:
            cdrom = kf.get_string("cdrom", "file")
        except GLib.Error:
            cdrom = ""
        if cdrom:
            raise UiError(f"{path}: the ejected CD is still in the definition")
        log("ejected the CD, and the definition says so")

    def check_screenshot(self):
        ui = self.ui
        target = os.path.join(self.args.work, "shot.png")
        self.menu_item(self.vm_window, "Main menu", "Take screenshot…")
        chooser = lambda: ui.window("Save screenshot", roles=("file chooser", "dialog", "frame"))  # noqa: E731
        ui.wait("the screenshot file chooser", chooser)
        # GTK's own file chooser labels its name entry "Name:".
        ui.set_text(ui.wait("the file name entry", lambda: ui.labelled(chooser(), "Name:")
                            or ui.labelled(chooser(), "Name")), target)
        ui.press_button(chooser, "Save")
        ui.wait("the screenshot file", lambda: os.path.exists(target), 10)
        gi.require_version("GdkPixbuf", "2.0")
        from gi.repository import GdkPixbuf
        pb = GdkPixbuf.Pixbuf.new_from_file(target)
        if (pb.get_width(), pb.get_height()) != (800, 450):
            raise UiError(f"the screenshot is {pb.get_width()}x{pb.get_height()}, not 800x450")
        log("screenshot saved through the VM")

    def check_preview(self):
        ui = self.ui
        subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Hostel$", "windowraise", "%@"],
                       check=False)
        preview = ui.wait_find(self.main_window, "the screen preview", role="drawing area", name="Screen preview")

        def shows():
            x, y, w, h = ui.extents(preview)
            try:
                return screen_check.find_pattern(screen_check.Shot(x, y, w, h))
            except AssertionError:
                return None
        ui.wait("the VM's screen in the main window's preview", shows, 10)
        subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{VM_NAME}$", "windowraise", "%@"],
                       check=False)
        log("the main window previews the running VM's screen")

    # ---- full screen ----

    def start_window_manager(self, click_to_focus=False):
        """Openbox on the test's display, with no key or mouse bindings of its
        own: full screen is the window manager's to grant (EWMH
        _NET_WM_STATE_FULLSCREEN), and Xvfb has none. With click_to_focus,
        a left press on a window focuses and raises it (then reaches the
        window), as desktops do. None without openbox."""
        if not shutil.which("openbox"):
            return None
        rc = os.path.join(self.args.work, "openbox-rc.xml")
        mouse = ('<context name="Client"><mousebind button="Left" action="Press">'
                 '<action name="Focus"/><action name="Raise"/></mousebind></context>') if click_to_focus else ""
        with open(rc, "w") as f:
            f.write('<?xml version="1.0"?>\n<openbox_config xmlns="http://openbox.org/3.4/rc">\n'
                    f'<keyboard></keyboard><mouse>{mouse}</mouse></openbox_config>\n')
        wid = x_window(VM_NAME)
        # A frame set by an openbox before this one would pass for this one's.
        subprocess.run(["xprop", "-id", wid, "-remove", "_NET_FRAME_EXTENTS"], check=True)
        wm = subprocess.Popen(["openbox", "--sm-disable", "--config-file", rc],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.args.work, "openbox.log"), "w"))

        def managed():
            if wm.poll() is not None:
                raise UiError(f"openbox exited with status {wm.returncode}")
            return self.wm_manages(wid)
        try:
            self.ui.wait("openbox to manage the VM window", managed, 10)
        except UiError:
            self.stop_window_manager(wm)
            raise
        return wm

    @staticmethod
    def wm_manages(wid):
        """The window manager has taken the window (its frame is set)."""
        out = subprocess.run(["xprop", "-id", wid, "_NET_FRAME_EXTENTS"], capture_output=True, text=True).stdout
        return "=" in out

    @staticmethod
    def x_active_window():
        """The window manager's _NET_ACTIVE_WINDOW, or None."""
        out = subprocess.run(["xdotool", "getactivewindow"], capture_output=True, text=True).stdout.strip()
        return int(out) if out.isdigit() else None

    def stop_window_manager(self, wm):
        wm.terminate()
        try:
            wm.wait(10)
        except subprocess.TimeoutExpired:
            wm.kill()
            wm.wait()

    def vm_x_window(self):
        return self.ui.wait("the VM window's X window", lambda: x_window(VM_NAME), 5)

    def menu_showing(self):
        return self.ui.find(self.vm_window(), role="toggle button", name="Main menu", showing=True) is not None

    def wait_geometry(self, wid, want, what):
        try:
            self.ui.wait(what, lambda: x_geometry(wid) == want, 10)
        except UiError as e:
            raise UiError(f"{e}: the window is at {x_geometry(wid)}, not {want}")

    def wait_full_screen(self, wid, screen):
        self.wait_geometry(wid, (0, 0) + screen, f"the VM window to cover the {screen[0]}x{screen[1]} screen")
        # Its screen drawn to the whole width (16:9 on a 5:4 screen).
        x, y, w, h = self.ui.wait("the screen widget to grow",
                                  lambda: self.settled(self.screen) if self.ui.extents(self.screen)[2] == screen[0]
                                  else None, 10)
        whole = self.check_pattern(800 / 450)
        if abs((whole[2] - whole[0]) - screen[0]) > 3:
            raise UiError(f"in full screen the VM's screen is drawn {whole}, not {screen[0]} pixels wide")
        return whole

    def check_full_screen(self, codes):
        """Full screen from the menu: the window covers the X screen, the
        VM's screen is drawn scaled to it, and F11 gives the window its size
        back; F11 goes in again; while the keyboard is captured F11 is the
        guest's, and after the host key it leaves full screen."""
        ui = self.ui
        wm = self.start_window_manager()
        if wm is None:
            log("full screen NOT checked: no window manager to grant it (apt-get install openbox)")
            return
        try:
            wid = self.vm_x_window()
            screen = x_screen_size()
            xdotool("windowactivate", "--sync", wid)
            ui.wait("the VM window to be active", lambda: self.vm_window().get_state_set().contains(
                Atspi.StateType.ACTIVE), 5)
            ui.wait("the keyboard not to be captured", lambda: self.capture_label("Click the screen to capture"), 5)
            normal = x_geometry(wid)
            if normal[2:] == screen:
                raise UiError(f"the VM window already covers the screen: {normal}")

            self.menu_item(self.vm_window, "Main menu", "Full screen")
            whole = self.wait_full_screen(wid, screen)
            log(f"full screen from the menu: the window covers the screen {screen}, the VM's screen drawn at {whole}")
            # The header bar (and so its menu) is hidden: the window says
            # how to leave.
            ui.wait("the way out of full screen in the status line",
                    lambda: self.capture_label("Press F11 to leave full screen."), 5)
            log(f"the status line says: '{ui.text(self.capture_label('Press F11'))}'"
                + ("" if self.menu_showing() else " (the header bar is hidden)"))

            xdotool("key", "F11")
            self.wait_geometry(wid, normal, "F11 to give the VM window its size back")
            ui.wait("the header bar's menu to come back", self.menu_showing, 5)
            ui.wait("the full screen hint to go", lambda: self.capture_label("full screen") is None, 5)
            self.check_pattern(800 / 450)
            log(f"F11 left full screen: the window is back at {normal}")

            xdotool("key", "F11")
            whole = self.wait_full_screen(wid, screen)
            cx, cy = (whole[0] + whole[2]) // 2, (whole[1] + whole[3]) // 2
            xdotool("mousemove", str(cx), str(cy))
            xdotool("click", "1")
            ui.wait("the keyboard to be captured", lambda: self.capture_label("Press Right Ctrl to release"), 10)
            if self.capture_label("F11"):
                raise UiError("captured, the status line still offers F11 (the guest gets it)")
            before = len(self.record.keys())
            xdotool("key", "F11")
            want = [(codes["KEY_F11"], True), (codes["KEY_F11"], False)]
            ui.wait("F11 at the VM", lambda: len(self.record.keys()) >= before + 2, 10)
            if self.record.keys()[before:] != want:
                raise UiError(f"captured, F11 gave the VM {self.record.keys()[before:]}, not {want}")
            time.sleep(0.5 * self.args.timeout_scale)
            if x_geometry(wid) != (0, 0) + screen:
                raise UiError(f"F11 for the guest changed the window to {x_geometry(wid)}")
            xdotool("key", "Control_R")
            ui.wait("the keyboard to be released, F11 offered again",
                    lambda: self.capture_label("Press F11 to leave full screen."), 10)
            xdotool("key", "F11")
            self.wait_geometry(wid, normal, "F11 after the release to leave full screen")
            log("F11 went in again; captured it went to the VM; after the host key it left full screen")
        finally:
            self.stop_window_manager(wm)

    def check_command_line(self):
        """hostel --vm NAME in a second process: the running instance opens
        (and starts) the VM; an unknown name fails with a sentence."""
        ui = self.ui
        bad = subprocess.run([self.args.hostel, "--vm", "No such VM"], capture_output=True, text=True,
                             timeout=30 * self.args.timeout_scale)
        if bad.returncode != 1 or "No such VM" not in bad.stderr:
            raise UiError(f"hostel --vm with an unknown name: status {bad.returncode}, '{bad.stderr.strip()}'")
        self.close_alert("cannot be opened")
        ok = subprocess.run([self.args.hostel, "--vm", VM_NAME], capture_output=True, text=True,
                            timeout=60 * self.args.timeout_scale)
        if ok.returncode != 0:
            raise UiError(f"hostel --vm '{VM_NAME}' failed ({ok.returncode}): {ok.stderr.strip()}")
        ui.wait("the VM window", self.vm_window, 30)
        ui.wait("the VM to be running", lambda: ui.find(self.vm_window(), role="label", name="Running"), 30)
        self.screen = ui.wait_find(self.vm_window, "the screen", role="drawing area", name="Screen")
        log("hostel --vm opened and started the VM in the running instance")

    def check_start_failure(self):
        with open(self.args.fail_file, "w") as f:
            f.write("The disk image is not readable.\n")
        try:
            self.ui.press_button(self.main_window, "Start")
            texts = self.close_alert("could not start")
            if not any("The disk image is not readable." in t for t in texts):
                raise UiError(f"the start error does not say why: {texts}")
        finally:
            os.unlink(self.args.fail_file)
        self.ui.wait("the VM to be stopped in the list", lambda: self.row_state("Stopped"), 20)
        log("a VM that failed to start was reported with its reason")

    def check_crash(self):
        self.check_command_line()
        os.kill(self.record.pids()[-1], signal.SIGKILL)
        texts = self.close_alert("stopped")
        if not any("ended without saying why" in t for t in texts):
            raise UiError(f"the crash is not explained: {texts}")
        self.ui.wait("the VM window to close", lambda: self.vm_window() is None, 10)
        self.ui.wait("the VM to be stopped in the list", lambda: self.row_state("Stopped"), 20)
        log("a VM that died was reported")

    def delete_vm(self):
        ui = self.ui
        ui.press_button(self.main_window, "Delete")
        confirm = ui.wait("the confirmation", lambda: self.alert("cannot be undone"))
        ui.press_button(confirm, "Delete")
        ui.wait("the VM to leave the list", lambda: ui.find(self.main_window(), role="label", name=VM_NAME) is None)
        if glob.glob(os.path.join(self.args.data_home, "hostel", "machines", "*")):
            raise UiError("the VM's directory is still there")
        log("deleted")

    def run(self):
        codes = evdev_codes()
        self.start_hostel()
        try:
            self.create_vm()
            self.change_settings()
            self.start_vm()
            if self.record:
                self.check_pattern(640 / 480)
                log("the VM's screen shows its test pattern")
                self.check_input(codes)
                self.check_absolute(codes)
                self.check_damage_and_mode()
                self.check_release(codes)
                self.check_not_responding()
            self.check_pause()
            if self.record:
                self.check_reset()
                self.check_insert_cd()
                self.check_eject()
                self.check_screenshot()
                self.check_preview()
                self.check_full_screen(codes)
            else:
                shot = self.shot()
                if shot.bbox((0, 0, 0), tolerance=20)[1] == shot.width * shot.height:
                    raise UiError("the VM's screen stayed black")
            self.stop_vm()
            if self.record:
                self.check_start_failure()
                self.check_crash()
            self.delete_vm()
        except UiError:
            lines = []
            dump(self.ui.app(), lines)
            print("gui-test: the application's windows:\n" + "\n".join(lines), file=sys.stderr)
            raise
        finally:
            if self.other_app:
                self.other_app.terminate()
                self.other_app.wait(10)
            self.hostel.terminate()
            try:
                self.hostel.wait(10)
            except subprocess.TimeoutExpired:
                self.hostel.kill()
            with open(self.hostel_log) as f:
                output = f.read()
            if output:
                print(f"gui-test: hostel said:\n{output}", file=sys.stderr)
        # GLib's warnings and criticals are bugs, even when nothing broke.
        bad = [line for line in output.splitlines() if "-WARNING **" in line or "-CRITICAL **" in line]
        if bad:
            raise UiError("hostel printed warnings:\n" + "\n".join(bad))
        return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hostel", required=True)
    p.add_argument("--data-home", required=True)
    p.add_argument("--work", required=True, help="a directory for the test's files")
    p.add_argument("--fake-record", help="the fake VM's record file; without it the fake-only checks are skipped")
    p.add_argument("--fail-file", help="FAKE_VM_FAIL_FILE")
    p.add_argument("--timeout-scale", type=float, default=1.0)
    p.add_argument("--stop", choices=("shutdown", "power-off"), default="shutdown",
                   help="how the VM window stops the VM (a guest without ACPI support needs power-off)")
    args = p.parse_args()
    try:
        return Test(args).run()
    except UiError as e:
        print(f"gui-test: FAILED: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
