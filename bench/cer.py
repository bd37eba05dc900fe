#!/usr/bin/env python3
"""Character error rate of OCR text against the corpus ground truth.

usage: cer.py GT.txt HYP.txt  -> prints the mean per-page CER (0..1)
       cer.py --f1 GT.txt HYP.txt  -> prints the word F1 (0..1)

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


def word_f1(gt: str, hyp: str) -> float:
    """F1 of the multisets of words (normalised as for the CER): independent
    of reading order, which differs between engines on multi-column pages."""
    from collections import Counter

    g, h = Counter(norm(gt).split()), Counter(norm(hyp).split())
    both = sum((g & h).values())
    if not both:
        return 0.0
    p, r = both / sum(h.values()), both / sum(g.values())
    return 2 * p * r / (p + r)


if __name__ == "__main__":
    args = sys.argv[1:]
    f1 = args[0] == "--f1"
    if f1:
        args = args[1:]
    gt = open(args[0], encoding="utf-8").read()
    hyp = open(args[1], encoding="utf-8").read()
    print(f"{word_f1(gt, hyp):.4f}" if f1 else f"{cer(gt, hyp):.4f}")
