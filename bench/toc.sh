#!/usr/bin/env bash
# TOC benchmark on the structure corpus (../shared/corpus/structure and the
# corpus PDFs that keep their outline): recto toc against PyMuPDF's
# get_toc() (the PDF outline only) on the same files, scored by
# bench/toc_score.py (titles F1, links F1, level accuracy, label accuracy),
# plus the step's cost against the OCR step's.
#
#   bench/toc.sh            (N = number of cores)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
s=$corpus/structure
N=${N:-$(nproc)}
work=$(mktemp -d /tmp/recto-bench-toc.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1 RECTO_DATA_DIR=$work/data

python3 -c 'import rapidfuzz' 2>/dev/null || pip install -q rapidfuzz
python3 -c 'import pymupdf' 2>/dev/null || pip install -q pymupdf
cargo build --release --quiet --bin recto --manifest-path "$here/Cargo.toml"
recto=$here/target/release/recto
now() { date +%s.%N; }

# file (citekey) : ground truth
cases=(
  "born_de_lecture_notes_geotopo_117p:$s/gt/born_de_lecture_notes_geotopo_117p.toc.json:outline"
  "born_fr_manual_droit-fr_35p:$s/gt/born_fr_manual_droit-fr_35p.toc.json:outline"
  "mixed_images_graph_text_6p:outline=$corpus/mixed_images_graph_text_6p.pdf:outline"
  "born_de_lecture_notes_geotopo_117p_nooutline:$s/gt/born_de_lecture_notes_geotopo_117p.toc.json:born-digital"
  "born_fr_manual_droit-fr_35p_nooutline:$s/gt/born_fr_manual_droit-fr_35p.toc.json:born-digital"
  "synth_book_fr:$s/gt/synth_book_fr.structure.json:born-digital"
  "born_de_lecture_notes_geotopo_117p_scan:$s/gt/born_de_lecture_notes_geotopo_117p.toc.json:scan"
  "synth_book_fr_scan:$s/gt/synth_book_fr.structure.json:scan"
)
mkdir -p "$work/pdfs"
for c in "${cases[@]}"; do
  f=${c%%:*}
  if [[ -f $s/$f.pdf ]]; then cp "$s/$f.pdf" "$work/pdfs/"; else cp "$corpus/$f.pdf" "$work/pdfs/"; fi
done
"$recto" upload --quiet --from "$work/pdfs"

t0=$(now)
"$recto" ocr --quiet --all --lang deu+fra -j "$N"
t_ocr=$(echo "$(now) - $t0" | bc)
scan_pages=0
for f in born_de_lecture_notes_geotopo_117p_scan synth_book_fr_scan; do
  scan_pages=$((scan_pages + $(pdfinfo "$work/pdfs/$f.pdf" | awk '/^Pages:/ {print $2}')))
done
pages=0
for c in "${cases[@]}"; do pages=$((pages + $(pdfinfo "$work/pdfs/${c%%:*}.pdf" | awk '/^Pages:/ {print $2}'))); done

t0=$(now)
"$recto" toc --quiet --all
t_toc=$(echo "$(now) - $t0" | bc)

printf '\n%s pages in %s files; OCR step %.1f s (%s scanned pages); TOC step %.2f s (%.0f pages/s, %.2f%% of the OCR time)\n\n' \
  "$pages" "${#cases[@]}" "$t_ocr" "$scan_pages" "$t_toc" "$(echo "$pages / $t_toc" | bc -l)" "$(echo "100 * $t_toc / $t_ocr" | bc -l)"

echo "| file | kind | tool | entries (gt) | titles F1 | links F1 | level acc. | label acc. |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
  IFS=: read -r f gt kind <<<"$c"
  gt=${gt/#outline=/outline:}
  toc=$(ls "$work"/data/analytics/toc/"$f"/current/toc.json)
  for tool in recto pymupdf; do
    if [[ $tool == recto ]]; then
      j=$(python3 "$here/bench/toc_score.py" "$gt" "$toc")
    else
      j=$(python3 "$here/bench/toc_score.py" "$gt" --pymupdf "$work/pdfs/$f.pdf" 2>/dev/null)
    fi
    python3 - "$f" "$kind" "$tool" "$j" <<'PY'
import json, sys
f, kind, tool, j = sys.argv[1:]
d = json.loads(j)
fmt = lambda v: "-" if v is None else f"{v:.3f}"
print(f"| {f} | {kind} | {tool} | {d['pred_entries']} ({d['gt_entries']}) | {fmt(d['titles_f1'])} | {fmt(d['links_f1'])} | {fmt(d['level_accuracy'])} | {fmt(d['label_accuracy'])} |")
PY
  done
done
