#!/usr/bin/env python3
"""Check a searchable PDF recto wrote against the OCR result it came from.

  bench/pdf_check.py SOURCE.pdf EXPORTED.pdf OCR_RESULT_DIR [--askew]

--askew: the copy was written with --no-deskew-pages (pages recto levelled
are shown as scanned, the words on the slanted lines); by default they are
shown level, the words where recto read them.


Prints, per page recto OCRed: the CER of `pdftotext` of that page against
recto's page text (whitespace-insensitive), the share of words whose
`pdftotext -bbox` box matches recto's (along the text both ends within
2 pt; across it, covering the word and within its line, 2 pt either way:
the layer's font is sized per block, so a word's box is its line's
height), and overall: qpdf --check, sizes. Exit 1 when a
check fails (CER > 0.01, boxes < 98%, qpdf errors, size over bound).
"""
import json, math, os, re, subprocess, sys, glob
from html import unescape

def levenshtein(a, b):
    try:
        from rapidfuzz.distance import Levenshtein
        return Levenshtein.distance(a, b)
    except ImportError:  # the tests call this without extra packages
        row = list(range(len(b) + 1))
        for i, ca in enumerate(a):
            prev, row[0] = row[0], i + 1
            for j, cb in enumerate(b):
                cur = row[j + 1]
                row[j + 1] = min(prev + (ca != cb), row[j] + 1, cur + 1)
                prev = cur
        return row[len(b)]

def cer(a, b):
    a = "".join(a.split()); b = "".join(b.split())
    return levenshtein(a, b) / max(1, len(b))

def rotations(pdf):
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "100000", pdf], capture_output=True, text=True).stdout
    return {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"Page\s+(\d+) rot:\s+(\d+)", out)}

def page_map(page, shown_upright=False, askew=False):
    """OCR pixels -> poppler page points (origin top left of the page as shown)."""
    w, h = page["width_px"], page["height_px"]
    s = 72.0 / page["dpi"]
    sk = page.get("skew") or {}
    th = math.radians(sk["degrees"]) if sk.get("applied") and askew else 0.0
    sn, cs = math.sin(th), math.cos(th)
    cx, cy = w / 2, h / 2
    rot = 0 if shown_upright else page.get("rotation", 0) % 360
    def f(x, y):
        x, y = cx + (x - cx) * cs - (y - cy) * sn, cy + (x - cx) * sn + (y - cy) * cs
        if rot == 90: x, y = y, w - x
        elif rot == 180: x, y = w - x, h - y
        elif rot == 270: x, y = h - y, x
        return x * s, y * s
    return f

def main():
    src, out, rdir = sys.argv[1:4]
    askew = "--askew" in sys.argv[4:]
    ok = True
    q = subprocess.run(["qpdf", "--check", out], capture_output=True, text=True)
    print(f"qpdf --check: exit {q.returncode}")
    ok &= q.returncode in (0, 3)
    ssize, osize = os.path.getsize(src), os.path.getsize(out)
    bound = ssize * 1.05 + 100_000
    print(f"size: source {ssize} B, searchable {osize} B (+{osize - ssize} B), bound {bound:.0f}")
    ok &= osize <= bound
    pages = sorted(glob.glob(os.path.join(rdir, "page_*.json")))
    src_rot, out_rot = rotations(src), rotations(out)
    tot_w = good_w = 0
    worst = 0.0
    for pj in pages:
        p = json.load(open(pj))
        if p["source"] != "ocr":
            continue
        n = p["page"]
        t = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout" if False else "-raw", out, "-"],
                           capture_output=True, text=True).stdout
        c = cer(t, p["text"])
        worst = max(worst, c)
        bb = subprocess.run(["pdftotext", "-bbox", "-f", str(n), "-l", str(n), out, "-"],
                            capture_output=True, text=True).stdout
        boxes = [(float(a), float(b), float(c_), float(d), unescape(wd)) for a, b, c_, d, wd in
                 re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', bb)]
        # recto shows the pages it turned upright unless --no-rotate-pages.
        upright = p.get("rotation", 0) % 360 != 0 and (src_rot.get(n, 0) + p["rotation"]) % 360 == out_rot.get(n, 0)
        f = page_map(p, upright, askew)
        used = [False] * len(boxes)
        pw = pg = 0
        for b in p["blocks"]:
            for l in b["lines"]:
                for w in l["words"]:
                    if not w["text"].strip():
                        continue
                    pw += 1
                    x0, y0, x1, y1 = w["bbox"]
                    ly0, ly1 = l["bbox"][1], l["bbox"][3]
                    # Along the text: Poppler's word runs from its first
                    # glyph's origin to its last glyph's end (at the
                    # baseline, here the word's bottom); across it, the
                    # font's box at the first glyph, which must cover the
                    # word and stay within its line (2 pt either way).
                    L, R = f(x0, y1), f(x1, y1)
                    ax = 0 if abs(R[0] - L[0]) >= abs(R[1] - L[1]) else 1
                    along = (min(L[ax], R[ax]), max(L[ax], R[ax]))
                    def span(a, b):
                        p, q = f(x0, a)[1 - ax], f(x0, b)[1 - ax]
                        return (min(p, q), max(p, q))
                    word_span, line_span = span(y0, y1), span(ly0, ly1)
                    # The nearest unused Poppler word of the same text.
                    best, bi = None, None
                    for i, (a, b_, c_, d, txt) in enumerate(boxes):
                        if used[i] or txt != w["text"].strip():
                            continue
                        got = ((a, c_), (b_, d))
                        g0, g1 = got[1 - ax]
                        err = max(abs(got[ax][0] - along[0]), abs(got[ax][1] - along[1]),
                                  g0 - word_span[0], word_span[1] - g1,
                                  line_span[0] - g0, g1 - line_span[1], 0)
                        if best is None or err < best:
                            best, bi = err, i
                    if best is not None and best <= 2:
                        used[bi] = True
                        pg += 1
                    elif os.environ.get("VERBOSE"):
                        print(f"  unmatched {w['text']!r} err {best}")
        tot_w += pw; good_w += pg
        print(f"page {n}: rotation {p.get('rotation')} skew {(p.get('skew') or {}).get('degrees')} CER {c:.4f} boxes {pg}/{pw}")
    share = good_w / max(1, tot_w)
    print(f"worst page CER {worst:.4f}; boxes within 2 pt {good_w}/{tot_w} = {share:.4f}")
    ok &= worst <= 0.01 and share >= 0.98
    sys.exit(0 if ok else 1)

main()
