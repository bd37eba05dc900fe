#!/usr/bin/env python3
"""Score a segmentation against the structure corpus's ground truth.

usage: seg_score.py GT.structure.json|GT.toc.json SEGMENT_DIR [OCR_TEXT]

SEGMENT_DIR holds recto's segments.json and unit_NNN.md. Scoring follows
../shared/corpus/structure/README.md:
- role F1 per role: each ground-truth line is matched to the most similar
  unmatched predicted line of the same page (normalised similarity >= 0.7);
  a match counts when the roles agree; precision over all predicted lines of
  that role, recall over the ground truth's;
- boundary F1 of chapter units (same first page);
- unit text CER: each chapter's Markdown with `#` marks, footnote
  references and definitions removed and whitespace collapsed, against the
  ground truth's clean text (edit distance / ground-truth length).
Prints one JSON line.
"""
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

from rapidfuzz.distance import Levenshtein


def norm(s):
    s = unicodedata.normalize("NFKC", s).lower()
    s = re.sub(r"[^\w\s]|_", " ", s)
    return " ".join(s.split())


def sim(a, b):
    if not a and not b:
        return 1.0
    return Levenshtein.normalized_similarity(a, b)


def clean_md(md):
    md = re.sub(r"(?m)^\[\^[^\]]+\]:.*$", "", md)
    md = re.sub(r"\[\^[^\]]+\]", "", md)
    md = re.sub(r"(?m)^#+\s*", "", md)
    return " ".join(md.split())


def boundaries_only(gt, seg):
    """A `*.toc.json` ground truth (a book with an outline): chapter units
    are its top-level entries."""
    top = min(e["level"] for e in gt["entries"])
    gt_b = {e["page"] for e in gt["entries"] if e["level"] == top}
    pr_b = {u["first_page"] for u in seg["units"] if u["kind"] not in ("front_matter", "back_matter")}
    hit = len(gt_b & pr_b)
    bp = hit / len(pr_b) if pr_b else 0.0
    br = hit / len(gt_b) if gt_b else 0.0
    return round(2 * bp * br / (bp + br), 4) if bp + br else 0.0


def ocr_cer(gt, text_file):
    """The OCR's own CER on the same pages (page text = its printed lines)."""
    pages = Path(text_file).read_text().split("\f")
    scores = []
    for i, lines in enumerate(gt["page_lines"]):
        g = " ".join(" ".join(l["text"] for l in lines).split())
        h = " ".join(pages[i].split()) if i < len(pages) else ""
        if g:
            scores.append(Levenshtein.distance(g, h) / len(g))
    return round(sum(scores) / len(scores), 4)


def main():
    gt = json.load(open(sys.argv[1]))
    d = Path(sys.argv[2])
    seg = json.load(open(d / "segments.json"))
    if "page_lines" not in gt:
        print(json.dumps({"boundary_f1": boundaries_only(gt, seg)}))
        return
    pred_pages = {p["page"]: p["lines"] for p in seg["pages"]}
    tp, n_gt, n_pred = Counter(), Counter(), Counter()
    for pno, lines in enumerate(gt["page_lines"], 1):
        pred = pred_pages.get(pno, [])
        for l in pred:
            n_pred[l["role"]] += 1
        used = set()
        pn = [norm(l["text"]) for l in pred]
        for g in lines:
            n_gt[g["role"]] += 1
            gn = norm(g["text"])
            best, bi = 0.0, None
            for i, p in enumerate(pn):
                if i in used:
                    continue
                s = sim(gn, p)
                if s > best:
                    best, bi = s, i
            if bi is not None and best >= 0.7:
                used.add(bi)
                if pred[bi]["role"] == g["role"]:
                    tp[g["role"]] += 1
    roles = {}
    for r in sorted(set(n_gt) | set(n_pred)):
        p = tp[r] / n_pred[r] if n_pred[r] else 0.0
        rc = tp[r] / n_gt[r] if n_gt[r] else 0.0
        roles[r] = round(2 * p * rc / (p + rc), 4) if p + rc else 0.0
    gt_b = {u["first_page"] for u in gt["units"] if u["kind"] == "chapter"}
    pr_b = {u["first_page"] for u in seg["units"] if u["kind"] not in ("front_matter", "back_matter")}
    hit = len(gt_b & pr_b)
    bp = hit / len(pr_b) if pr_b else 0.0
    br = hit / len(gt_b) if gt_b else 0.0
    boundary = round(2 * bp * br / (bp + br), 4) if bp + br else 0.0
    cers = {}
    for title, text in gt["unit_text"].items():
        best = None
        for u in seg["units"]:
            if u.get("title") and sim(norm(u["title"]), norm(title)) >= 0.8:
                best = u
                break
        g = " ".join(text.split())
        if best is None:
            cers[title] = 1.0
            continue
        h = clean_md((d / best["file"]).read_text())
        cers[title] = round(Levenshtein.distance(g, h) / max(1, len(g)), 4)
    out = {
        "roles_f1": roles,
        "boundary_f1": boundary,
        "unit_cer_mean": round(sum(cers.values()) / len(cers), 4) if cers else None,
        "unit_cer": cers,
    }
    if len(sys.argv) > 3:
        out["ocr_cer"] = ocr_cer(gt, sys.argv[3])
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
