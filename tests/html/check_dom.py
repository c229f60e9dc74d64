#!/usr/bin/env python3
"""Checks the DOM headless Chromium made of an sfootprint --html page
against the job's summary, and its screenshot. One TAP line per check.
usage: check_dom.py DOM SUMMARY.json PNG KIND"""
import json
import struct
import sys
import zlib
from html.parser import HTMLParser

dom_path, summary_path, png_path, kind = sys.argv[1:5]
dom = open(dom_path, encoding="utf-8").read()
summary = json.load(open(summary_path))
failed = False


def check(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + kind + ": " + what)
    failed = failed or not cond


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], ""

    def all(self):
        yield self
        for c in self.children:
            yield from c.all()

    def content(self):
        return self.text + "".join(c.content() for c in self.children)


VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text += data


t = Tree()
t.feed(dom)
nodes = list(t.root.all())
by_id = {n.attrs.get("id"): n for n in nodes if n.attrs.get("id")}


def fig3(x):
    return "-" if x is None else "%.3f" % (0.0 if x == 0 else x)


def cell(table, key):
    tab = by_id.get(table)
    if tab is None:
        return None
    for n in tab.all():
        if n.tag == "tr" and n.attrs.get("data-key") == key:
            for c in n.all():
                if "num" in c.attrs.get("class", "").split():
                    return c.content().strip()
    return None


# Every figure present, titled, its axes labelled with units.
sites = summary["sites"]
want = {"fig-energy": ["Energy (Wh)"],
        "fig-compare": ["Emissions (gCO2e)"],
        "fig-whatif": ["Start time (UTC, hour)", "Site",
                       "Footprint (gCO2e)"]}
for i in range(len(sites)):
    want["fig-hourly-%d" % i] = ["Hour (UTC)",
                                 "Job's emissions (gCO2e per hour)",
                                 "Grid intensity (gCO2e/kWh)"]
figures = [n for n in nodes if n.tag == "svg"]
check(sorted(n.attrs.get("id") for n in figures) == sorted(want),
      "figures %s" % " ".join(sorted(want)))
for fid, labels in sorted(want.items()):
    svg = by_id.get(fid)
    if svg is None:
        check(False, fid + " present")
        continue
    titles = [c.content().strip() for c in svg.children if c.tag == "title"]
    check(len(titles) == 1 and titles[0], fid + " has a title: %r" %
          (titles[0] if titles else None))
    got = [n.content().strip() for n in svg.all()
           if "axis-label" in n.attrs.get("class", "").split()]
    check(got == labels, fid + " axis labels with units %r" % got)
for i, s in enumerate(sites):
    svg = by_id.get("fig-hourly-%d" % i)
    title = svg.children[0].content() if svg is not None else ""
    check(("Site %s:" % s["name"]) in title,
          "hourly figure %d is site %s's" % (i, s["name"]))
    bars = [n for n in svg.all() if n.tag == "rect" and
            n.attrs.get("class") == "hour"] if svg is not None else []
    line = [n for n in svg.all() if n.tag == "polyline"] \
        if svg is not None else []
    check(bars and line, "site %s: %d hour bars over its intensity curve"
          % (s["name"], len(bars)))

# Nothing outside the page.
check("<script" not in dom and "http" not in dom, "no script, no http")
refs = [(n.tag, k, v) for n in nodes for k, v in n.attrs.items()
        if k in ("src", "href", "xlink:href") and v and
        not v.startswith(("data:", "#"))]
check(not refs, "no external reference %r" % refs)

# The numbers are the summary's (three decimals, as the text report); the
# IT energy by part where the summary has its energy_parts, else whole.
carbon, energy = summary["carbon"], summary["energy"]
parts = summary.get("energy_parts")
check(("does not split the IT energy" in dom) == (parts is None),
      "the IT energy is %s" % ("split by part" if parts else
                               "whole, and the page says so"))
for table, key, value in [
        ("table-compare", "footprint_g", carbon["footprint"]),
        ("table-compare", "reference_g", carbon["reference"]),
        ("table-compare", "avoided_g", carbon["avoided_heat_reuse"]),
        ("table-compare", "net_g", carbon["net"]),
        ("table-energy", "facility_wh", energy["facility_Wh"])] + ([
        ("table-energy", "package_wh", parts["cpu_Wh"]),
        ("table-energy", "dram_wh", parts["dram_Wh"]),
        ("table-energy", "gpu_wh", parts["gpu_Wh"]),
        ("table-energy", "rest_wh", energy["it_Wh"] - parts["cpu_Wh"] -
         parts["dram_Wh"] - parts["gpu_Wh"])] if parts else [
        ("table-energy", "it_wh", energy["it_Wh"])]):
    got = cell(table, key)
    check(got == fig3(value), "%s %s = %s (summary %r)" %
          (table, key, got, value))
values = {n.attrs.get("data-key"): n.content().strip() for n in nodes
          if n.tag == "text" and n.attrs.get("class") == "value"}
check(values.get("footprint_g") == fig3(carbon["footprint"]) + " gCO2e" and
      values.get("facility_wh") == fig3(energy["facility_Wh"]) + " Wh",
      "bars print value and unit: %r, %r" %
      (values.get("footprint_g"), values.get("facility_wh")))
for i, s in enumerate(sites):
    got = cell("table-hourly-%d" % i, "site_operational_g")
    check(got == fig3(s["operational_g"]), "site %s operational %s "
          "(summary %r)" % (s["name"], got, s["operational_g"]))
    tab = by_id.get("table-hourly-%d" % i)
    hours = [float(c.content()) for r in tab.all() if r.tag == "tr" and
             r.attrs.get("class") == "hour" for c in r.all()
             if "num" in c.attrs.get("class", "").split()] if tab else []
    check(hours and abs(sum(hours) - s["operational_g"]) <=
          0.0005 * len(hours) + 1e-9, "site %s: %d hours sum to %.3f g" %
          (s["name"], len(hours), sum(hours)))
cells = [n for n in nodes if n.tag == "rect" and
         n.attrs.get("class") == "cell"]
check(len(cells) >= 2 * len(summary["sites"]),
      "what-if heat map: %d cells" % len(cells))
check(len([n for n in nodes if n.attrs.get("class") == "actual"]) == 1,
      "what-if marks the actual start")
user = by_id["job"] if "job" in by_id else None
urow = [r for r in user.all() if r.attrs.get("data-key") == "user"] \
    if user else []
got = urow[0].children[1].content() if urow else None
check(got == summary["job"]["user"], "user name shown as written: %r" % got)
check(not any(n.tag == "b" for n in nodes), "a name is never markup")

# The screenshot: a PNG of the window, tall enough for the whole page (the
# what-if heat map last), not a blank page.
png = open(png_path, "rb").read()
ok = png[:8] == b"\x89PNG\r\n\x1a\n"
width, height = struct.unpack(">II", png[16:24]) if ok else (0, 0)
raw, pos = b"", 8
while ok and pos < len(png):
    n, typ = struct.unpack(">I4s", png[pos:pos + 8])
    if typ == b"IDAT":
        raw += png[pos + 8:pos + 8 + n]
    pos += 12 + n
pixels = zlib.decompress(raw) if raw else b""
check(ok and (width, height) == (1000, 3200) and len(set(pixels)) > 64,
      "screenshot %s: %dx%d, %d distinct byte values" %
      (png_path, width, height, len(set(pixels))))
sys.exit(1 if failed else 0)
