#!/usr/bin/env bash
# Segmentation benchmark on the structure corpus (../shared/corpus/structure):
# upload -> ocr (each book in its language) -> toc -> segment, then bench/seg_score.py per file (role F1
# per role, chapter boundary F1, unit text CER; on the scan also the OCR's
# own CER of the same pages), and the step's cost against the OCR step's.
#
#   bench/segment.sh            (N = number of cores)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
s=$corpus/structure
N=${N:-$(nproc)}
work=$(mktemp -d /tmp/recto-bench-seg.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1 RECTO_DATA_DIR=$work/data

python3 -c 'import rapidfuzz' 2>/dev/null || pip install -q rapidfuzz
cargo build --release --quiet --bin recto --manifest-path "$here/Cargo.toml"
recto=$here/target/release/recto
now() { date +%s.%N; }

files=(synth_book_fr synth_book_fr_scan born_de_lecture_notes_geotopo_117p_nooutline born_de_lecture_notes_geotopo_117p_scan born_fr_manual_droit-fr_35p_nooutline)
mkdir -p "$work/pdfs"
for f in "${files[@]}"; do cp "$s/$f.pdf" "$work/pdfs/"; done
for f in born_de_lecture_notes_geotopo_117p born_fr_manual_droit-fr_35p; do cp "$corpus/$f.pdf" "$work/pdfs/"; done
"$recto" upload --quiet --from "$work/pdfs"
# Each book in its own language, as a library's BibTeX langid gives it.
t0=$(now)
"$recto" ocr --quiet --citekeys synth_book_fr,synth_book_fr_scan,born_fr_manual_droit-fr_35p_nooutline,born_fr_manual_droit-fr_35p --lang fra -j "$N"
"$recto" ocr --quiet --citekeys born_de_lecture_notes_geotopo_117p_nooutline,born_de_lecture_notes_geotopo_117p_scan,born_de_lecture_notes_geotopo_117p --lang deu -j "$N"
t_ocr=$(echo "$(now) - $t0" | bc)
"$recto" toc --quiet --all
t0=$(now)
"$recto" segment --quiet --all
t_seg=$(echo "$(now) - $t0" | bc)
pages=$(ls "$work"/data/analytics/ocr/*/current/page_*.json | wc -l)
printf '\n%s pages; OCR step %.1f s; segmentation step %.2f s (%.2f%% of the OCR time, %.0f pages/s)\n\n' \
  "$pages" "$t_ocr" "$t_seg" "$(echo "100 * $t_seg / $t_ocr" | bc -l)" "$(echo "$pages / $t_seg" | bc -l)"

for f in synth_book_fr synth_book_fr_scan; do
  "$recto" text "$f" > "$work/$f.txt"
  echo "$f $(python3 "$here/bench/seg_score.py" "$s/gt/synth_book_fr.structure.json" "$work/data/analytics/segmentation/$f/current" "$work/$f.txt")"
done
for f in born_de_lecture_notes_geotopo_117p born_de_lecture_notes_geotopo_117p_nooutline born_de_lecture_notes_geotopo_117p_scan; do
  echo "$f $(python3 "$here/bench/seg_score.py" "$s/gt/born_de_lecture_notes_geotopo_117p.toc.json" "$work/data/analytics/segmentation/$f/current")"
done
for f in born_fr_manual_droit-fr_35p born_fr_manual_droit-fr_35p_nooutline; do
  echo "$f $(python3 "$here/bench/seg_score.py" "$s/gt/born_fr_manual_droit-fr_35p.toc.json" "$work/data/analytics/segmentation/$f/current")"
done
