#!/usr/bin/env bash
# Upload benchmark: ~200 PDFs of mixed sizes to a local Garage S3 server,
# recto at concurrency 1 and 16 and the no-change rerun, side by side with
# `rclone copy` at the same concurrency (the reference).
#
#   bench/upload.sh            (N=200 files; set N to change)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-200}
work=$(mktemp -d /tmp/recto-bench-upload.XXXXXX)
trap '"$here/scripts/garage.sh" stop "$work/garage"; rm -rf "$work"' EXIT

command -v rclone >/dev/null || { apt-get install -y -qq rclone >/dev/null; }
cargo build --release --quiet --bin recto --manifest-path "$here/Cargo.toml"
recto=$here/target/release/recto

# Mixed sizes: mostly 100 KB - 2 MB articles, every 10th a 10-30 MB book.
python3 - "$work/pdfs" "$N" <<'PY'
import os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
random.seed(42)
for i in range(n):
    size = random.randint(10, 30) * 2**20 if i % 10 == 0 else random.randint(100, 2000) * 1024
    with open(f"{out}/key{i:03d}.pdf", "wb") as f:
        f.write(b"%PDF-1.4\n" + os.urandom(size))
PY
total_mb=$(du -sm "$work/pdfs" | cut -f1)

# shellcheck source=bench/common.sh
source "$here/bench/common.sh"
start_garage "$work/garage"
rconf=$work/garage/rclone.conf
row() { printf '| %s | %.2f s | %.1f MB/s | %.2f s | %.1f MB/s | %.2fx |\n' "$1" "$2" "$(echo "$total_mb / $2" | bc -l)" "$3" "$(echo "$total_mb / $3" | bc -l)" "$(echo "$3 / $2" | bc -l)"; }

echo "$N files, $total_mb MB, garage on 127.0.0.1"
echo
echo "| run | recto | recto rate | rclone copy | rclone rate | recto speed-up |"
echo "|---|---:|---:|---:|---:|---:|"
for c in 1 16; do
  r=$(t env RECTO_DATA_DIR="$work/data$c" "$recto" upload --quiet --from "$work/pdfs" --store "s3://$RECTO_TEST_S3_BUCKET/recto$c" --concurrency "$c")
  rr=$(t env -u AWS_CA_BUNDLE rclone --config "$rconf" copy "$work/pdfs" "g:$RECTO_TEST_S3_BUCKET/rclone$c" --transfers "$c" --checkers "$c")
  row "upload, concurrency $c" "$r" "$rr"
  r2=$(t env RECTO_DATA_DIR="$work/data$c" "$recto" upload --quiet --from "$work/pdfs" --store "s3://$RECTO_TEST_S3_BUCKET/recto$c" --concurrency "$c")
  rr2=$(t env -u AWS_CA_BUNDLE rclone --config "$rconf" copy "$work/pdfs" "g:$RECTO_TEST_S3_BUCKET/rclone$c" --transfers "$c" --checkers "$c")
  row "no-change rerun, concurrency $c" "$r2" "$rr2"
done
