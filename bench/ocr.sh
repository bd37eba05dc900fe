#!/usr/bin/env bash
# OCR benchmark, side by side in one run on the corpus's scanned PDFs (same
# files, same language per file, 300 dpi, same number of workers):
#   recto ocr                       (text layer where good, Tesseract elsewhere, rotation detection)
#   ocrmypdf --skip-text --rotate-pages -j N --sidecar
#   the floor: bare `tesseract` on pages pre-rendered by pdftoppm, total time / N
# then character error rates against the ground truth, the text-layer
# throughput, and peak memory.
#
#   bench/ocr.sh            (N = number of cores)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
N=${N:-$(nproc)}
work=$(mktemp -d /tmp/recto-bench-ocr.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1

for tool in ocrmypdf pdftoppm tesseract; do
  command -v $tool >/dev/null || apt-get install -y -qq ocrmypdf poppler-utils >/dev/null
done
python3 -c 'import rapidfuzz' 2>/dev/null || pip install -q rapidfuzz
cargo build --release --quiet --bin recto --manifest-path "$here/Cargo.toml"
recto=$here/target/release/recto
export RECTO_DATA_DIR=$work/data

lang_of() { case $1 in *_de_*) echo deu ;; *_fr_*) echo fra ;; *) echo eng ;; esac; }
now() { date +%s.%N; }

mkdir -p "$work/pdfs"
files=()
for gt in "$corpus"/gt/*.txt; do
  f=$(basename "$gt" .txt)
  files+=("$f")
  cp "$corpus/$f.pdf" "$work/pdfs/$f.pdf"
done
"$recto" upload --quiet --from "$work/pdfs"
pages=0
for f in "${files[@]}"; do pages=$((pages + $(pdfinfo "$work/pdfs/$f.pdf" | awk '/^Pages:/ {print $2}'))); done

# recto: one ocr job per language, N workers.
t0=$(now)
for lang in eng deu fra; do
  keys=$(for f in "${files[@]}"; do if [[ $(lang_of "$f") == "$lang" ]]; then echo -n "$f,"; fi; done)
  [[ -n $keys ]] && "$recto" ocr --quiet --citekeys "${keys%,}" --lang "$lang" --dpi 300 -j "$N"
done
t_recto=$(echo "$(now) - $t0" | bc)

# ocrmypdf, file by file, N jobs each, as people run it on scans
# (--deskew), and without --deskew as earlier runs of this bench did.
t0=$(now)
for f in "${files[@]}"; do
  ocrmypdf -q --skip-text --rotate-pages --deskew -j "$N" -l "$(lang_of "$f")" --output-type pdf --optimize 0 \
    --sidecar "$work/$f.ocrmypdf.txt" "$work/pdfs/$f.pdf" "$work/$f.ocrmypdf.pdf" 2>/dev/null || true
done
t_ocrmypdf=$(echo "$(now) - $t0" | bc)
for f in "${files[@]}"; do
  ocrmypdf -q --skip-text --rotate-pages -j "$N" -l "$(lang_of "$f")" --output-type pdf --optimize 0 \
    --sidecar "$work/$f.nodeskew.txt" "$work/pdfs/$f.pdf" "$work/$f.nodeskew.pdf" 2>/dev/null || true
done

# The floor: tesseract alone on pre-rendered 300 dpi grayscale pages.
mkdir -p "$work/png"
for f in "${files[@]}"; do pdftoppm -gray -r 300 -png "$work/pdfs/$f.pdf" "$work/png/$f"; done
t0=$(now)
for png in "$work"/png/*.png; do
  f=$(basename "$png"); f=${f%-*}
  tesseract "$png" - -l "$(lang_of "$f")" >/dev/null 2>&1
done
t_floor=$(echo "($(now) - $t0) / $N" | bc -l)

printf '\n%s scanned pages (%s files), 300 dpi, %s workers\n\n' "$pages" "${#files[@]}" "$N"
echo "| run | seconds | pages/s | vs recto |"
echo "|---|---:|---:|---:|"
for row in "recto ocr:$t_recto" "ocrmypdf --deskew:$t_ocrmypdf" "floor (tesseract / $N):$t_floor"; do
  name=${row%%:*}; t=${row##*:}
  printf '| %s | %.1f | %.2f | %.2fx |\n' "$name" "$t" "$(echo "$pages / $t" | bc -l)" "$(echo "$t / $t_recto" | bc -l)"
done

echo
echo "| file | pages | recto CER | ocrmypdf --deskew CER | ocrmypdf CER | recto word F1 | ocrmypdf --deskew word F1 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
score() { [[ -f $3 ]] && python3 "$here/bench/cer.py" $1 "$2" "$3" || echo "n/a"; }
for f in "${files[@]}"; do
  rtext=$(ls "$RECTO_DATA_DIR"/analytics/ocr/"$f"/*/fulltext.txt | tail -1)
  gt=$corpus/gt/$f.txt
  p=$(pdfinfo "$work/pdfs/$f.pdf" | awk '/^Pages:/ {print $2}')
  echo "| $f | $p | $(score "" "$gt" "$rtext") | $(score "" "$gt" "$work/$f.ocrmypdf.txt") | $(score "" "$gt" "$work/$f.nodeskew.txt") | $(score --f1 "$gt" "$rtext") | $(score --f1 "$gt" "$work/$f.ocrmypdf.txt") |"
done

# Text-layer pages: the 117-page born-digital lecture notes.
big=born_de_lecture_notes_geotopo_117p
mkdir -p "$work/p2"; cp "$corpus/$big.pdf" "$work/p2/geotopo.pdf"
"$recto" upload --quiet --from "$work/p2"
echo
echo "| text-layer run (117 pages) | seconds | pages/s | pages/s per core | peak RSS |"
echo "|---|---:|---:|---:|---:|"
for j in 1 "$N"; do
  /usr/bin/time -f '%e %M' -o "$work/time" "$recto" ocr --quiet --citekeys geotopo --lang deu -j "$j"
  read -r secs kb <"$work/time"
  printf '| -j %s | %.2f | %.1f | %.1f | %d MB |\n' "$j" "$secs" "$(echo "117 / $secs" | bc -l)" "$(echo "117 / $secs / $j" | bc -l)" "$((kb / 1024))"
done
# Peak memory on the largest file by bytes (forced OCR on every page).
largest=$(ls -S "$corpus"/*.pdf | head -1)
mkdir -p "$work/p3"; cp "$largest" "$work/p3/largest.pdf"
"$recto" upload --quiet --from "$work/p3"
/usr/bin/time -f '%e %M' -o "$work/time" "$recto" ocr --quiet --citekeys largest --lang deu -j "$N" --mode force-ocr
read -r secs kb <"$work/time"
echo
echo "peak RSS, $(basename "$largest") (force-ocr, -j $N): $((kb / 1024)) MB in $secs s"
