#!/usr/bin/env bash
# Set up recto and run the main job end to end on a sample, with the local
# store (no credentials). Leaves its data in ./data.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
cd "$here"
recto=target/release/recto
export RECTO_DATA_DIR=${RECTO_DATA_DIR:-$here/data}

src=$($recto jobs new-id)
$recto step save source "$src" --metadata - <<JSON
{"status": "completed", "bucket": "local", "endpoint_url": null,
 "citekeys": {"total": 1, "uploaded": 1, "skipped": 0, "list": ["sample2026"]},
 "checksums": {"sample2026": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}
JSON
job=$($recto jobs new-id)
echo '{"status": "completed", "source_job_id": "'"$src"'", "citekeys": {"total": 1, "successful": 1, "failed": 0, "list": ["sample2026"]}}' \
  | $recto step save ocr "$job" --metadata - >/dev/null
echo '{"status": "completed", "source_job_id": "'"$src"'", "files_uploaded": 0}' \
  | $recto step save sync_ocr "$job" --metadata - >/dev/null

$recto jobs status "$job"
$recto jobs citekey sample2026
