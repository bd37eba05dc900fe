#!/usr/bin/env python3
"""Score tables of contents against the structure corpus's ground truth.

usage: toc_score.py GT.json|outline:PDF PRED.json|--pymupdf PDF

GT is a `*.toc.json` ({entries: [{level, title, page}], page_labels}) or a
`*.structure.json` ({toc: [...], page_labels}); PRED is recto's toc.json, or,
with --pymupdf, PyMuPDF's get_toc() of PDF (the outline only).

Scoring follows ../shared/corpus/structure/README.md: titles compared after
NFKC, lowercasing, dropping punctuation and leader dots and collapsing
whitespace, by Levenshtein ratio, a match needs >= 0.8; each ground-truth
entry is matched to at most one predicted entry (greedy, best ratio first).
Prints one JSON line: titles_f1, links_f1, level_accuracy, label_accuracy.
"""
import json
import re
import sys
import unicodedata

from rapidfuzz.distance import Levenshtein


def norm(s):
    s = unicodedata.normalize("NFKC", s).lower()
    s = re.sub(r"[^\w\s]|_", " ", s)
    return " ".join(s.split())


def ratio(a, b):
    if not a and not b:
        return 1.0
    return Levenshtein.normalized_similarity(a, b)


def match(gt, pred):
    """Greedy one-to-one matching by title ratio >= 0.8."""
    pairs = []
    for i, g in enumerate(gt):
        for j, p in enumerate(pred):
            r = ratio(norm(g["title"]), norm(p["title"]))
            if r >= 0.8:
                pairs.append((r, i, j))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_g, used_p, out = set(), set(), []
    for r, i, j in pairs:
        if i in used_g or j in used_p:
            continue
        used_g.add(i)
        used_p.add(j)
        out.append((i, j))
    return out


def f1(n_match, n_gt, n_pred):
    if n_gt == 0 and n_pred == 0:
        return 1.0
    p = n_match / n_pred if n_pred else 0.0
    r = n_match / n_gt if n_gt else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def main():
    if sys.argv[1].startswith("outline:"):
        # A PDF whose outline is its ground truth (the corpus's outlined PDFs).
        import pymupdf

        doc = pymupdf.open(sys.argv[1][len("outline:"):])
        gt = {"entries": [{"level": l, "title": t, "page": p} for l, t, p in doc.get_toc()], "page_labels": None}
    else:
        gt = json.load(open(sys.argv[1]))
    gt_entries = gt.get("entries") or gt.get("toc") or []
    gt_labels = gt.get("page_labels")
    if sys.argv[2] == "--pymupdf":
        import pymupdf

        doc = pymupdf.open(sys.argv[3])
        pred_entries = [{"level": l, "title": t, "page": p if p > 0 else None} for l, t, p in doc.get_toc()]
        labels = None
        try:
            labels = [doc[i].get_label() or None for i in range(doc.page_count)]
            if not any(labels):
                labels = None
        except Exception:
            labels = None
        pred = {"entries": pred_entries, "page_labels": labels}
    else:
        pred = json.load(open(sys.argv[2]))
    pe = pred.get("entries", [])
    m = match(gt_entries, pe)
    linked = [(i, j) for i, j in m if gt_entries[i]["page"] == pe[j].get("page")]
    level_ok = sum(1 for i, j in linked if gt_entries[i]["level"] == pe[j].get("level"))
    out = {
        "gt_entries": len(gt_entries),
        "pred_entries": len(pe),
        "titles_f1": round(f1(len(m), len(gt_entries), len(pe)), 4),
        "links_f1": round(f1(len(linked), len(gt_entries), len(pe)), 4),
        "level_accuracy": round(level_ok / len(linked), 4) if linked else None,
    }
    if gt_labels:
        pl = pred.get("page_labels") or []
        counted = [(i, l) for i, l in enumerate(gt_labels) if l]
        ok = sum(1 for i, l in counted if i < len(pl) and pl[i] is not None and str(pl[i]).lower() == l.lower())
        out["label_accuracy"] = round(ok / len(counted), 4) if counted else None
    else:
        out["label_accuracy"] = None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
