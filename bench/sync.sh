#!/usr/bin/env bash
# Sync benchmark: 2,000 files (~50 KB JSON pages, plus 1-3 MB images) from
# one OCR job folder to a local Garage server, recto sync-ocr vs rclone copy
# at the same concurrency, then the no-change rerun of each.
#
#   bench/sync.sh          (FILES=2000, C=16)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
FILES=${FILES:-2000}
C=${C:-16}
work=$(mktemp -d /tmp/recto-bench-sync.XXXXXX)
trap '"$here/scripts/garage.sh" stop "$work/garage"; rm -rf "$work"' EXIT
command -v rclone >/dev/null || apt-get install -y -qq rclone >/dev/null
cargo build --release --quiet --bin recto --manifest-path "$here/Cargo.toml"
recto=$here/target/release/recto
export RECTO_DATA_DIR=$work/data

# shellcheck source=bench/common.sh
source "$here/bench/common.sh"
start_garage "$work/garage"

# A real upload and OCR job, so the sync has a job to sync ...
mkdir -p "$work/pdfs"
python3 -c "
import sys
open(sys.argv[1],'wb').write(b'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n')
" "$work/pdfs/bench.pdf"
"$recto" upload --quiet --from "$work/pdfs" --store "s3://$RECTO_TEST_S3_BUCKET/recto" --endpoint-url "$RECTO_TEST_S3_ENDPOINT"
"$recto" ocr --quiet --citekeys bench --lang eng --mode text-layer-only || true
job=$("$recto" jobs latest)
dir=$RECTO_DATA_DIR/analytics/ocr/bench/$job
# ... whose folder then holds the benchmark's files: mostly ~50 KB page
# JSON, every 20th file a 1-3 MB image (incompressible, as JPEGs are).
rm -f "$dir"/page_*
python3 - "$dir" "$FILES" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
random.seed(7)
for i in range(1, n + 1):
    if i % 20 == 0:
        open(f"{d}/page_{i:04d}.jpg", "wb").write(os.urandom(random.randint(1, 3) * 2**20))
    else:
        open(f"{d}/page_{i:04d}.json", "w").write('{"text": "%s"}' % ("word " * random.randint(9000, 11000)))
PY
mb=$(du -sm "$dir" | cut -f1)
r1=$(t "$recto" sync-ocr --quiet --job-id "$job" --concurrency "$C")
o1=$(t env -u AWS_CA_BUNDLE rclone --config "$work/garage/rclone.conf" copy "$dir" "g:$RECTO_TEST_S3_BUCKET/rclone/$job" --transfers "$C" --checkers "$C")
r2=$(t "$recto" sync-ocr --quiet --job-id "$job" --concurrency "$C")
o2=$(t env -u AWS_CA_BUNDLE rclone --config "$work/garage/rclone.conf" copy "$dir" "g:$RECTO_TEST_S3_BUCKET/rclone/$job" --transfers "$C" --checkers "$C")
up=$(python3 -c "import json;print(json.load(open('$RECTO_DATA_DIR/analytics/sync_ocr/job_metadata/$job.json'))['files_skipped'])")
printf '\n%s files, %s MB, concurrency %s, garage on 127.0.0.1 (rerun skipped %s files)\n\n' "$FILES" "$mb" "$C" "$up"
echo "| run | recto sync-ocr | rclone copy | rclone / recto |"
echo "|---|---:|---:|---:|"
printf '| full sync | %.2f s | %.2f s | %.2fx |\n' "$r1" "$o1" "$(echo "$o1 / $r1" | bc -l)"
printf '| no-change rerun | %.2f s | %.2f s | %.2fx |\n' "$r2" "$o2" "$(echo "$o2 / $r2" | bc -l)"
