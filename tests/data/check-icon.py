#!/usr/bin/env python3
"""Render an application icon with rsvg-convert and check the picture.

Usage: check-icon.py SIZE [--symbolic] ICON.svg

The icon is rendered at its own size, which must be SIZE x SIZE pixels, and
must cover part but not all of its square. A full-colour icon must use several
colours and render at other sizes too. A symbolic icon must be drawn with
filled shapes in one colour only, because GTK recolours symbolic icons by
replacing the fill colour (strokes, gradients, images and text are not
recoloured).

Exit 0 pass, 1 fail, 77 skip (rsvg-convert missing).
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    """Return (width, height, rows of RGBA bytes) of an 8-bit RGBA PNG (ISO 15948)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG file")
    pos = 8
    header = None
    idat = b""
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        elif ctype == b"IEND":
            break
    if header is None:
        fail(path + " has no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour != 6 or interlace != 0:
        fail("%s: expected 8-bit RGBA, not interlaced (depth %d, colour type %d, interlace %d)"
             % (path, depth, colour, interlace))
    raw = zlib.decompress(idat)
    stride = width * 4
    if len(raw) != height * (stride + 1):
        fail("%s: image data has %d bytes, expected %d" % (path, len(raw), height * (stride + 1)))
    rows = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 4] if i >= 4 else 0
            b = prev[i]
            c = prev[i - 4] if i >= 4 else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 0xFF
            elif ftype != 0:
                fail("%s: unknown PNG filter type %d" % (path, ftype))
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def render(svg, png, size=None):
    cmd = ["rsvg-convert", "-o", png]
    if size is not None:
        cmd += ["-w", str(size), "-h", str(size)]
    cmd.append(svg)
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 or res.stderr.strip():
        fail("%s: %s" % (" ".join(cmd), res.stderr.strip() or "exit %d" % res.returncode))
    return read_png(png)


def pixels(rows):
    for row in rows:
        for i in range(0, len(row), 4):
            yield row[i], row[i + 1], row[i + 2], row[i + 3]


def check_symbolic_source(svg):
    """Only filled shapes: no stroke, gradient, pattern, image or text."""
    ns = "{http://www.w3.org/2000/svg}"
    for el in ET.parse(svg).iter():
        tag = el.tag[len(ns):] if el.tag.startswith(ns) else el.tag
        if tag in ("linearGradient", "radialGradient", "pattern", "image", "text", "filter"):
            fail("%s: symbolic icon uses <%s>, which GTK cannot recolour" % (svg, tag))
        style = {}
        for decl in el.get("style", "").split(";"):
            if ":" in decl:
                k, v = decl.split(":", 1)
                style[k.strip()] = v.strip()
        stroke = el.get("stroke", style.get("stroke", "none"))
        if stroke != "none":
            fail("%s: <%s> has stroke=%s; symbolic icons use filled paths only" % (svg, tag, stroke))


def main():
    args = sys.argv[1:]
    symbolic = "--symbolic" in args
    args = [a for a in args if a != "--symbolic"]
    if len(args) != 2:
        print(__doc__)
        return 1
    size, svg = int(args[0]), args[1]
    if shutil.which("rsvg-convert") is None:
        print("SKIP: rsvg-convert not found (Debian package librsvg2-bin)")
        return 77

    tmp = tempfile.mkdtemp()
    try:
        png = os.path.join(tmp, "icon.png")
        width, height, rows = render(svg, png)
        if (width, height) != (size, size):
            fail("%s renders at %dx%d, expected %dx%d" % (svg, width, height, size, size))
        px = list(pixels(rows))
        covered = [p for p in px if p[3] >= 128]
        coverage = len(covered) / len(px)
        print("%s: %dx%d, %.0f%% covered" % (svg, width, height, coverage * 100))
        # Empty or nearly so, or a plain filled square: neither is an icon.
        if coverage < 0.15:
            fail("only %.1f%% of the icon is drawn" % (coverage * 100))
        if coverage > 0.95:
            fail("%.1f%% of the square is opaque; an icon leaves transparent margins"
                 % (coverage * 100))

        if symbolic:
            check_symbolic_source(svg)
            # Antialiased edges carry the same colour at lower alpha; very faint
            # pixels lose precision when PNG stores them unpremultiplied.
            colours = {p[:3] for p in px if p[3] >= 64}
            base = next(iter(colours))
            for c in colours:
                if max(abs(c[i] - base[i]) for i in range(3)) > 8:
                    fail("symbolic icon uses more than one colour: %s and %s" % (base, c))
        else:
            # Quantised to 4 bits per channel, a colour icon shows several colours.
            colours = {(p[0] >> 4, p[1] >> 4, p[2] >> 4) for p in covered}
            print("%d distinct colours" % len(colours))
            if len(colours) < 4:
                fail("a full-colour app icon should use more than %d colours" % len(colours))
            for other in (16, 32, 48, 64, 256):
                w, h, r = render(svg, os.path.join(tmp, "icon-%d.png" % other), other)
                drawn = sum(1 for p in pixels(r) if p[3] >= 128)
                if (w, h) != (other, other) or drawn == 0:
                    fail("%s at %dpx renders %dx%d with %d drawn pixels" % (svg, other, w, h, drawn))
    finally:
        shutil.rmtree(tmp)
    print("PASS: " + svg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
