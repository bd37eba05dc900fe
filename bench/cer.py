#!/usr/bin/env python3
"""Character error rate of OCR text against the corpus ground truth.

usage: cer.py GT.txt HYP.txt  -> prints the mean per-page CER (0..1)

Scoring follows ../shared/corpus/README.md: pages split on form feeds,
whitespace normalised, long s folded to s, vowel + U+0364 folded to the
umlaut, `~~~` (a handwritten word in the typescripts) dropped. CER =
edit distance / ground-truth length, per page, averaged over pages.
"""
import re
import sys
import unicodedata

from rapidfuzz.distance import Levenshtein

UMLAUT = {"a": "ä", "o": "ö", "u": "ü", "A": "Ä", "O": "Ö", "U": "Ü"}


def norm(s: str) -> str:
    s = unicodedata.normalize("NFC", s)
    s = s.replace("ſ", "s")
    s = re.sub("([aouAOU])\u0364", lambda m: UMLAUT[m.group(1)], s)
    s = s.replace("\u0364", "")
    s = s.replace("~~~", " ")
    return " ".join(s.split())


def cer(gt: str, hyp: str) -> float:
    gt_pages = gt.split("\f")
    hyp_pages = hyp.split("\f")
    hyp_pages += [""] * (len(gt_pages) - len(hyp_pages))
    scores = []
    for g, h in zip(gt_pages, hyp_pages):
        g, h = norm(g), norm(h)
        if not g:
            continue
        scores.append(Levenshtein.distance(g, h) / len(g))
    return sum(scores) / len(scores) if scores else 0.0


if __name__ == "__main__":
    gt = open(sys.argv[1], encoding="utf-8").read()
    hyp = open(sys.argv[2], encoding="utf-8").read()
    print(f"{cer(gt, hyp):.4f}")
