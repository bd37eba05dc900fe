#!/usr/bin/env python3
"""Held-out check of recto's pre-processing on scans nobody tuned on.

Born-digital corpus pages give the ground truth (their own text, by
pdftotext); each page is rendered to a grayscale 300 dpi image with
pdftoppm and degraded with Pillow: skewed (0.5, 1.5, 3 degrees), blurred,
low-contrast, and at 150 dpi. Each condition becomes an image-only PDF,
read by `recto ocr` as by default (deskew, binarisation chosen per page),
without deskew, and with Otsu on every page; the table gives the mean CER
and word F1 (bench/cer.py's scoring) per condition.

usage: bench/synth.py  (needs pdftoppm, pdftotext, Pillow, rapidfuzz and a
built target/release/recto; the corpus at ../shared/corpus or CORPUS)
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageFilter

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "bench"))
from cer import cer, word_f1  # noqa: E402

CORPUS = Path(os.environ.get("CORPUS", HERE.parent / "shared" / "corpus"))
RECTO = HERE / "target" / "release" / "recto"
PAGES = [
    ("born_fr_manual_droit-fr_35p", 2, "fra"),
    ("born_fr_manual_droit-fr_35p", 5, "fra"),
    ("born_de_lecture_notes_geotopo_117p", 10, "deu"),
    ("born_de_lecture_notes_geotopo_117p", 20, "deu"),
    ("born_en_multicolumn_3p", 2, "eng"),
]


def conditions(img):
    w, h = img.size
    yield "clean", img, 300
    for deg in (0.5, 1.5, 3.0):
        yield f"skew {deg}", img.rotate(-deg, resample=Image.BILINEAR, fillcolor=255), 300
    yield "blur", img.filter(ImageFilter.GaussianBlur(1.4)), 300
    yield "low contrast", img.point(lambda v: 110 + v * 0.45), 300
    yield "faint ink", img.point(lambda v: 125 + v * 0.5), 300
    yield "150 dpi", img.resize((w // 2, h // 2), Image.LANCZOS), 150


def main():
    work = Path(tempfile.mkdtemp(prefix="recto-synth-"))
    env = dict(os.environ, RECTO_DATA_DIR=str(work / "data"), OMP_THREAD_LIMIT="1")
    rows = {}
    for name, page, lang in PAGES:
        src = CORPUS / f"{name}.pdf"
        gt = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(src), "-"],
                            capture_output=True, text=True, check=True).stdout
        png = work / f"{name}-{page}"
        subprocess.run(["pdftoppm", "-gray", "-r", "300", "-f", str(page), "-l", str(page),
                        "-singlefile", "-png", str(src), str(png)], check=True)
        img = Image.open(f"{png}.png").convert("L")
        for cond, im, dpi in conditions(img):
            key = f"{name[:12]}-{page}-{cond.replace(' ', '').replace('.', '')}".replace("_", "")
            d = work / "in" / key
            d.mkdir(parents=True)
            im.save(d / f"{key}.pdf", resolution=dpi)
            subprocess.run([RECTO, "upload", "-q", "--from", str(d)], env=env, check=True)
            for mode, extra in (("deskew", []), ("no deskew", ["--no-deskew"]),
                                ("otsu", ["--thresholding", "otsu"])):
                out = subprocess.run([RECTO, "ocr", "--citekeys", key, "--lang", lang, "--json", *extra],
                                     env=env, capture_output=True, text=True, check=True)
                job = json.loads(out.stdout)["job_id"]
                hyp = (work / "data" / "analytics" / "ocr" / key / job / "fulltext.txt").read_text()
                rows.setdefault((cond, mode), []).append((cer(gt, hyp), word_f1(gt, hyp)))
    print(f"{len(PAGES)} born-digital pages, each degraded; mean over pages\n")
    print("| condition | CER | CER without deskew | CER with Otsu only | word F1 | word F1 without deskew |")
    print("|---|---:|---:|---:|---:|---:|")
    conds = []
    for cond, _ in rows:
        if cond not in conds:
            conds.append(cond)
    mean = lambda xs: sum(xs) / len(xs)
    for cond in conds:
        a, b, o = rows[(cond, "deskew")], rows[(cond, "no deskew")], rows[(cond, "otsu")]
        print(f"| {cond} | {mean([x[0] for x in a]):.4f} | {mean([x[0] for x in b]):.4f} "
              f"| {mean([x[0] for x in o]):.4f} "
              f"| {mean([x[1] for x in a]):.4f} | {mean([x[1] for x in b]):.4f} |")


if __name__ == "__main__":
    main()
