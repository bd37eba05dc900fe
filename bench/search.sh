#!/usr/bin/env bash
# Search benchmark (figures in docs/benchmarks.md):
#  1. the engine on a 100,000-page index of replicated corpus pages, side by
#     side with SQLite FTS5 (crates/recto-search/benches/search.rs);
#  2. `recto index` end to end (page JSON read from disk, TOC labels) on
#     every corpus PDF, OCRed here first.
#
#   bench/search.sh            (PAGES=100000)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
work=$(mktemp -d /tmp/recto-bench-search.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1 CORPUS=$corpus

cargo bench --quiet --manifest-path "$here/Cargo.toml" -p recto-search --bench search 2>/dev/null

cargo build --release --quiet --bin recto --manifest-path "$here/Cargo.toml"
recto=$here/target/release/recto
export RECTO_DATA_DIR=$work/data
mkdir -p "$work/pdfs"
for f in "$corpus"/*.pdf; do
  case $(basename "$f") in broken_*|encrypted_*) continue ;; esac
  cp "$f" "$work/pdfs/"
done
"$recto" upload --quiet --from "$work/pdfs"
"$recto" ocr --quiet --all --lang eng+deu+fra || true
"$recto" toc --quiet --all 2>/dev/null || true
for run in 1 2 3; do
  "$recto" index --rebuild --json > "$work/index.json"
  python3 -c "import json,sys; d=json.load(open('$work/index.json')); print(f\"recto index --rebuild: {d['pages']} pages of {len(d['indexed'])} citekeys in {d['seconds']:.3f} s, {d['pages']/d['seconds']:.0f} pages/s\")"
done
