"""Score the TOC step's page labels against known labels; see run.sh."""
import json, os, subprocess, sys

bin_, corpus, work = sys.argv[1:4]
gt_dir = os.path.join(corpus, "structure", "gt")


def gt_json(name, key="page_labels"):
    with open(os.path.join(gt_dir, name)) as f:
        return json.load(f)[key]


def gt_text_labels(name, pages):
    """Decorated numbers alone on a line of a GT text, in page order."""
    import re
    found = []
    with open(os.path.join(corpus, "gt", name)) as f:
        for line in f:
            m = re.fullmatch(r"\s*[—\-(\[]\s*(\d+)\s*[—\-)\]]\s*", line)
            if m:
                found.append(m.group(1))
    return found + [None] * (pages - len(found))


CASES = [
    # (citekey, pdf, languages, ground truth)
    ("synthfr", "structure/synth_book_fr_scan.pdf", "fra", lambda: gt_json("synth_book_fr.structure.json")),
    ("geotopo", "structure/born_de_lecture_notes_geotopo_117p_scan.pdf", "deu", lambda: gt_json("born_de_lecture_notes_geotopo_117p.toc.json")),
    ("bebel", "scan_ccitt_de_antiqua_1879_bebel_4p.pdf", "deu", lambda: gt_text_labels("scan_ccitt_de_antiqua_1879_bebel_4p.txt", 4)),
    # Page 1 (481) prints no number; page 2 prints ( 484 ).
    ("kant", "scan_jpeg_de_fraktur_1784_kant_2p.pdf", "frk", lambda: [None, "484"]),
]

env = dict(os.environ, RECTO_DATA_DIR=os.path.join(work, "data"))
pdfs = os.path.join(work, "pdfs")
os.makedirs(pdfs, exist_ok=True)
for key, pdf, _, _ in CASES:
    os.symlink(os.path.join(corpus, pdf), os.path.join(pdfs, key + ".pdf"))


def run(*args):
    subprocess.run([bin_, *args], env=env, check=True, stdout=subprocess.DEVNULL)


run("upload", "--from", pdfs, "--quiet")
langs = []
for key, _, lang, _ in CASES:
    langs += ["--lang", f"{key}={lang}"]
run("ocr", "--pending", "--lang", "eng", *langs, "--quiet")
run("toc", "--pending", "--quiet")

total = right = 0
worst = []
for key, pdf, _, truth in CASES:
    with open(os.path.join(work, "data/analytics/toc", key, "current/toc.json")) as f:
        toc = json.load(f)
    want = truth()
    got, conf = toc["page_labels"], toc.get("page_label_confidence") or [None] * len(toc["page_labels"])
    n = r = 0
    for i, w in enumerate(want):
        if w is None:
            continue
        n += 1
        if got[i] == w:
            r += 1
        else:
            worst.append((conf[i] or 0.0, key, i + 1, w, got[i]))
    total += n
    right += r
    print(f"{key:8} {r}/{n} labels right ({r / max(n, 1):.3f})")
print(f"all      {right}/{total} ({right / max(total, 1):.3f})")
worst.sort(reverse=True)
for c, key, page, w, g in worst[:10]:
    print(f"  wrong: {key} page {page}: {g!r} for {w!r}, confidence {c:.2f}")
above = [w for w in worst if w[0] > 0.9]
print(f"wrong labels above 0.9 confidence: {len(above)}")
