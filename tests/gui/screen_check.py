"""Screenshots of the X screen (through GDK) and finding the fake VM's
test pattern in them: four quadrants red, green / blue, white, and a
yellow square in the middle (tests/gui/fake_screen.h)."""

import ctypes
import ctypes.util

import gi

gi.require_version("Gdk", "3.0")
from gi.repository import Gdk  # noqa: E402

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
YELLOW = (255, 255, 0)


class Shot:
    """An RGB picture of a screen area."""

    def __init__(self, x, y, width, height):
        Gdk.init([])
        root = Gdk.get_default_root_window()
        pb = Gdk.pixbuf_get_from_window(root, x, y, width, height)
        if pb is None:
            raise AssertionError(f"could not grab the screen at {x},{y} {width}x{height}")
        self.x, self.y = x, y
        self.width, self.height = pb.get_width(), pb.get_height()
        self.stride = pb.get_rowstride()
        self.channels = pb.get_n_channels()
        self.data = pb.get_pixels()

    def pixel(self, x, y):
        o = y * self.stride + x * self.channels
        return tuple(self.data[o:o + 3])

    def bbox(self, colour, tolerance=6):
        """The bounding box (x0, y0, x1, y1; exclusive ends) of the pixels
        of this colour, and how many there are; (None, 0) when none."""
        x0 = y0 = 10 ** 9
        x1 = y1 = -1
        count = 0
        r, g, b = colour
        for y in range(self.height):
            row = y * self.stride
            for x in range(self.width):
                o = row + x * self.channels
                if abs(self.data[o] - r) <= tolerance and abs(self.data[o + 1] - g) <= tolerance \
                        and abs(self.data[o + 2] - b) <= tolerance:
                    count += 1
                    x0, y0 = min(x0, x), min(y0, y)
                    x1, y1 = max(x1, x + 1), max(y1, y + 1)
        return ((x0, y0, x1, y1) if count else None), count

    def bbox_not(self, colour):
        """The bounding box (exclusive ends) of the pixels that are not
        exactly this colour; None when there are none."""
        x0 = y0 = 10 ** 9
        x1 = y1 = -1
        want = bytes(colour)
        for y in range(self.height):
            row = y * self.stride
            for x in range(self.width):
                o = row + x * self.channels
                if self.data[o:o + 3] != want:
                    x0, y0 = min(x0, x), min(y0, y)
                    x1, y1 = max(x1, x + 1), max(y1, y + 1)
        return (x0, y0, x1, y1) if x1 >= 0 else None


def find_pattern(shot):
    """The screen pattern's quadrants: a dict colour name -> bbox, and the
    bbox of the whole. Raises AssertionError saying what is wrong."""
    boxes = {}
    for name, colour in (("red", RED), ("green", GREEN), ("blue", BLUE), ("white", WHITE)):
        box, count = shot.bbox(colour)
        if box is None or count < 100:
            raise AssertionError(f"no {name} quadrant on the screen ({count} pixels)")
        boxes[name] = box
    r, g, b, w = boxes["red"], boxes["green"], boxes["blue"], boxes["white"]
    slack = 3
    if not (r[2] <= g[0] + slack and b[2] <= w[0] + slack and r[3] <= b[1] + slack and g[3] <= w[1] + slack):
        raise AssertionError(f"the quadrants are not where they belong: {boxes}")
    whole = (min(r[0], b[0]), min(r[1], g[1]), max(g[2], w[2]), max(b[3], w[3]))
    return boxes, whole


def aspect(box):
    return (box[2] - box[0]) / (box[3] - box[1])


class _XFixesCursorImage(ctypes.Structure):
    # XFixesCursorImage from <X11/extensions/Xfixes.h> (XFixes 2 and later).
    _fields_ = [("x", ctypes.c_short), ("y", ctypes.c_short), ("width", ctypes.c_ushort),
                ("height", ctypes.c_ushort), ("xhot", ctypes.c_ushort), ("yhot", ctypes.c_ushort),
                ("cursor_serial", ctypes.c_ulong), ("pixels", ctypes.POINTER(ctypes.c_ulong)),
                ("atom", ctypes.c_ulong), ("name", ctypes.c_char_p)]


def cursor_visible():
    """Whether the X server's current cursor has a pixel that is not fully
    transparent (XFixesGetCursorImage); None when libXfixes is missing."""
    x11_name, xfixes_name = ctypes.util.find_library("X11"), ctypes.util.find_library("Xfixes")
    if not x11_name or not xfixes_name:
        return None
    x11, xfixes = ctypes.CDLL(x11_name), ctypes.CDLL(xfixes_name)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x11.XFree.argtypes = [ctypes.c_void_p]
    xfixes.XFixesGetCursorImage.restype = ctypes.POINTER(_XFixesCursorImage)
    xfixes.XFixesGetCursorImage.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(None)
    if not dpy:
        raise AssertionError("cannot open the X display")
    try:
        img = xfixes.XFixesGetCursorImage(dpy)
        if not img:
            raise AssertionError("XFixesGetCursorImage failed")
        c = img.contents
        # ARGB, one pixel in each unsigned long.
        visible = any(c.pixels[i] & 0xff000000 for i in range(c.width * c.height))
        x11.XFree(img)
        return visible
    finally:
        x11.XCloseDisplay(dpy)
