#!/usr/bin/env bash
# Set up recto, then run the main job end to end on the samples with the
# embedded local store (no credentials): upload -> ocr -> sync_ocr, then
# toc -> segment -> export (a searchable PDF too) -> search.
# Data goes to ./data (the store to ./data/store).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
cd "$here"
recto=target/release/recto

echo "== upload samples/ to the local store (data/store)"
$recto upload --from samples
echo "== ocr (text layer where good, Tesseract elsewhere)"
$recto ocr --citekeys recto2026,linn1985 --lang eng
job=$($recto jobs latest)
echo "== sync the OCR results to the store"
$recto sync-ocr --job-id "$job"
echo "== status of $job"
$recto jobs status "$job"
echo "== jobs that touched linn1985"
$recto jobs citekey linn1985
echo "== the library, per citekey"
$recto status
echo "== first lines of linn1985's text (data/analytics/ocr/linn1985/current/)"
$recto text linn1985 --pages 1 | head -c 400; echo
echo "== tables of contents, then units and clean Markdown (docs/toc.md, docs/segmentation.md)"
$recto toc --citekeys recto2026,linn1985
$recto segment --citekeys recto2026,linn1985
echo "== a searchable PDF, hOCR and ALTO for archives (docs/export.md)"
$recto export --format pdf,hocr,alto,md --citekeys recto2026,linn1985
echo "   open data/analytics/export/linn1985/current/linn1985.pdf: its scanned page now has selectable text"
echo "== full-text search (docs/search.md)"
$recto index
$recto search sequencer --limit 3
echo "== browse it all: $recto serve   (then http://127.0.0.1:8080/)"
