#!/usr/bin/env bash
# Page-label accuracy on scans with known labels (issue 25, point 4):
# accuracy over pages with a ground-truth label, and every wrong label
# with its confidence (none may be above 0.9). Needs ../shared/corpus.
# Usage: bench/labels/run.sh [recto binary]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/target/release/recto}
corpus=$here/../shared/corpus
[ -d "$corpus" ] || { echo "skipped: no corpus at $corpus"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/bench/labels/score.py" "$bin" "$corpus" "$work"
