#!/usr/bin/env python3
"""Check that i18n.merge_file put every translation of po/ into the built
desktop entry and AppStream metainfo, and nothing else.

Usage: check-merged-translations.py PO_DIR DESKTOP_IN DESKTOP METAINFO_IN METAINFO

For each language in PO_DIR/LINGUAS the catalog is compiled with msgfmt and
read with Python's gettext module. Then
- desktop entry: for each translatable key (Name, GenericName, Comment,
  Keywords) of DESKTOP_IN, DESKTOP has Key[lang] equal to the translation when
  the catalog translates the value, and no Key[lang] when it does not;
- metainfo: each element of METAINFO without xml:lang whose text the catalog
  translates has a sibling of the same tag with xml:lang=lang and the
  translated text; every xml:lang=lang element is such a translation.

Exit 0 pass, 1 fail, 77 skip (msgfmt missing).
"""
import gettext
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

DESKTOP_KEYS = ("Name", "GenericName", "Comment", "Keywords")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
errors = []


def linguas(po_dir):
    langs = []
    with open(os.path.join(po_dir, "LINGUAS"), encoding="utf-8") as f:
        for line in f:
            langs += line.split("#", 1)[0].split()
    return langs


def catalog(po_dir, lang, tmp):
    mo = os.path.join(tmp, lang + ".mo")
    subprocess.run(["msgfmt", "-o", mo, os.path.join(po_dir, lang + ".po")], check=True)
    with open(mo, "rb") as f:
        return gettext.GNUTranslations(f)


def desktop_entry(path):
    """Keys of the [Desktop Entry] group, in the file's own spelling (Key or Key[lang])."""
    keys = {}
    group = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("[") and line.endswith("]"):
                group = line[1:-1]
            elif group == "Desktop Entry" and "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                keys[k.strip()] = v.strip()
    return keys


def check_desktop(lang, cat, src_path, built_path):
    src = desktop_entry(src_path)
    built = desktop_entry(built_path)
    checked = 0
    for key in DESKTOP_KEYS:
        if key not in src:
            continue
        msgid = src[key]
        if built.get(key) != msgid:
            errors.append("%s: %s=%r, source has %r" % (built_path, key, built.get(key), msgid))
        want = cat.gettext(msgid)
        have = built.get("%s[%s]" % (key, lang))
        if want != msgid:
            checked += 1
            if have != want:
                errors.append("%s: %s[%s]=%r, catalog says %r" % (built_path, key, lang, have, want))
        elif have not in (None, msgid):
            errors.append("%s: %s[%s]=%r but the catalog does not translate %r"
                          % (built_path, key, lang, have, msgid))
    return checked


def text_of(el):
    return " ".join("".join(el.itertext()).split())


def check_metainfo(lang, cat, built_path):
    root = ET.parse(built_path).getroot()
    checked = 0
    for parent in root.iter():
        children = list(parent)
        for el in children:
            if el.get(XML_LANG) is not None or len(el) > 0:
                continue
            msgid = text_of(el)
            if not msgid or el.get("translate") == "no":
                continue
            want = cat.gettext(msgid)
            siblings = [c for c in children if c.tag == el.tag and c.get(XML_LANG) == lang]
            if want != msgid:
                checked += 1
                if want not in [text_of(s) for s in siblings]:
                    errors.append("%s: <%s> %r has no xml:lang=%s translation %r"
                                  % (built_path, el.tag, msgid, lang, want))
        for el in children:
            if el.get(XML_LANG) == lang:
                text = text_of(el)
                originals = [text_of(c) for c in children
                             if c.tag == el.tag and c.get(XML_LANG) is None]
                if not any(cat.gettext(o) == text for o in originals):
                    errors.append("%s: <%s xml:lang=%s> %r translates none of its siblings"
                                  % (built_path, el.tag, lang, text))
    return checked


def main():
    if len(sys.argv) != 6:
        print(__doc__)
        return 1
    po_dir, desktop_in, desktop, _metainfo_in, metainfo = sys.argv[1:]
    if shutil.which("msgfmt") is None:
        print("SKIP: msgfmt not found (Debian package gettext)")
        return 77
    tmp = tempfile.mkdtemp()
    try:
        for lang in linguas(po_dir):
            cat = catalog(po_dir, lang, tmp)
            nd = check_desktop(lang, cat, desktop_in, desktop)
            nm = check_metainfo(lang, cat, metainfo)
            print("%s: %d translated desktop keys, %d translated metainfo elements checked"
                  % (lang, nd, nm))
    finally:
        shutil.rmtree(tmp)
    for e in errors:
        print("FAIL: " + e)
    if not errors:
        print("PASS")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
