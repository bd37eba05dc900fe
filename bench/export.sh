#!/usr/bin/env bash
# Searchable-PDF benchmark, side by side in one run on the corpus's scanned
# PDFs with ground truth (same files, same language per file, 300 dpi,
# same number of workers):
#   recto ocr + recto export --format pdf   (end to end, from the upload)
#   ocrmypdf --deskew --rotate-pages --skip-text -j N   (its default output,
#     PDF/A with image optimisation, as people run it)
# then per file: output size (and OCRmyPDF's without --deskew, which keeps
# the page images as recto does), the CER of `pdftotext` of each output against
# the ground truth, and bench/pdf_check.py on recto's output (pdftotext vs
# recto's page text, word boxes within 2 pt, qpdf --check, size bound).
#
#   bench/export.sh            (N = number of cores)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
N=${N:-$(nproc)}
work=$(mktemp -d /tmp/recto-bench-export.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1

for tool in ocrmypdf pdftotext qpdf; do
  command -v $tool >/dev/null || apt-get install -y -qq ocrmypdf poppler-utils qpdf >/dev/null
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
pages=0
for f in "${files[@]}"; do pages=$((pages + $(pdfinfo "$work/pdfs/$f.pdf" | awk '/^Pages:/ {print $2}'))); done

t0=$(now)
"$recto" upload --quiet --from "$work/pdfs"
for lang in eng deu fra; do
  keys=$(for f in "${files[@]}"; do if [[ $(lang_of "$f") == "$lang" ]]; then echo -n "$f,"; fi; done)
  [[ -n $keys ]] && "$recto" ocr --quiet --citekeys "${keys%,}" --lang "$lang" --dpi 300 -j "$N"
done
t_ocr=$(echo "$(now) - $t0" | bc)
t1=$(now)
"$recto" export --quiet --format pdf --all
t_export=$(echo "$(now) - $t1" | bc)
t_recto=$(echo "$(now) - $t0" | bc)

t0=$(now)
for f in "${files[@]}"; do
  ocrmypdf -q --skip-text --rotate-pages --deskew -j "$N" -l "$(lang_of "$f")" \
    "$work/pdfs/$f.pdf" "$work/$f.ocrmypdf.pdf" 2>/dev/null || true
done
t_ocrmypdf=$(echo "$(now) - $t0" | bc)
# Size like for like: OCRmyPDF without --deskew keeps the page images (its
# deskew renders each page anew and re-encodes it, as recto never does).
for f in "${files[@]}"; do
  ocrmypdf -q --skip-text --rotate-pages -j "$N" -l "$(lang_of "$f")" \
    "$work/pdfs/$f.pdf" "$work/$f.ocrmypdf-kept.pdf" 2>/dev/null || true
done

printf '\n%s scanned pages (%s files), 300 dpi, %s workers\n\n' "$pages" "${#files[@]}" "$N"
echo "| run | seconds | pages/s | vs recto |"
echo "|---|---:|---:|---:|"
printf '| recto upload + ocr + export pdf | %.1f | %.2f | 1.00x |\n' "$t_recto" "$(echo "$pages / $t_recto" | bc -l)"
printf '| (of which export pdf) | %.2f | %.1f | |\n' "$t_export" "$(echo "$pages / $t_export" | bc -l)"
printf '| ocrmypdf --deskew --rotate-pages --skip-text | %.1f | %.2f | %.2fx |\n' "$t_ocrmypdf" "$(echo "$pages / $t_ocrmypdf" | bc -l)" "$(echo "$t_ocrmypdf / $t_recto" | bc -l)"

echo
echo "| file | pages | source KB | recto KB | ocrmypdf KB | ocrmypdf KB, images kept (no --deskew) | recto pdftotext CER | ocrmypdf pdftotext CER | recto pdftotext -raw CER | ocrmypdf pdftotext -raw CER | recto: pdftotext vs own text (worst page) | words within 2 pt |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for f in "${files[@]}"; do
  out=$(ls "$RECTO_DATA_DIR"/analytics/export/"$f"/2*/"$f".pdf | tail -1)
  res=$(ls -d "$RECTO_DATA_DIR"/analytics/ocr/"$f"/2* | tail -1)
  gt=$corpus/gt/$f.txt
  p=$(pdfinfo "$work/pdfs/$f.pdf" | awk '/^Pages:/ {print $2}')
  pdftotext "$out" "$work/$f.recto.txt"
  rc=$(python3 "$here/bench/cer.py" "$gt" "$work/$f.recto.txt")
  pdftotext -raw "$out" "$work/$f.recto.raw.txt"
  rr=$(python3 "$here/bench/cer.py" "$gt" "$work/$f.recto.raw.txt")
  if [[ -f $work/$f.ocrmypdf.pdf ]]; then
    pdftotext "$work/$f.ocrmypdf.pdf" "$work/$f.om.txt"
    oc=$(python3 "$here/bench/cer.py" "$gt" "$work/$f.om.txt")
    pdftotext -raw "$work/$f.ocrmypdf.pdf" "$work/$f.om.raw.txt"
    orr=$(python3 "$here/bench/cer.py" "$gt" "$work/$f.om.raw.txt")
    osz=$(( $(stat -c %s "$work/$f.ocrmypdf.pdf") / 1024 ))
  else oc=n/a; orr=n/a; osz=n/a; fi
  ksz=n/a
  [[ -f $work/$f.ocrmypdf-kept.pdf ]] && ksz=$(( $(stat -c %s "$work/$f.ocrmypdf-kept.pdf") / 1024 ))
  chk=$(python3 "$here/bench/pdf_check.py" "$work/pdfs/$f.pdf" "$out" "$res" | tail -1 || true)
  worst=$(echo "$chk" | sed -E 's/worst page CER ([0-9.]+).*/\1/')
  boxes=$(echo "$chk" | sed -E 's/.*= ([0-9.]+)$/\1/')
  echo "| $f | $p | $(( $(stat -c %s "$work/pdfs/$f.pdf") / 1024 )) | $(( $(stat -c %s "$out") / 1024 )) | $osz | $ksz | $rc | $oc | $rr | $orr | $worst | $boxes |"
done

# Text-layer documents: the export alone (every page keeps its own layer).
big=born_de_lecture_notes_geotopo_117p
mkdir -p "$work/p2"; cp "$corpus/$big.pdf" "$work/p2/geotopo.pdf"
"$recto" upload --quiet --from "$work/p2"
"$recto" ocr --quiet --citekeys geotopo --lang deu -j "$N"
t0=$(now)
"$recto" export --quiet --format pdf,txt,hocr,alto --citekeys geotopo
t=$(echo "$(now) - $t0" | bc)
printf '\ntext-layer export (117 pages, pdf+txt+hocr+alto): %.2f s, %.0f pages/s\n' "$t" "$(echo "117 / $t" | bc -l)"
