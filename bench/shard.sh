#!/usr/bin/env bash
# Sharded OCR against plain `recto ocr`, side by side on the same pages
# (the corpus's scanned files, 300 dpi, same languages), each run a new job:
#   plain   recto ocr -j 1                  one process, one worker
#   1 shard recto ocr --shards 1, then --shard 0/1 -j 1 (plan + shard + merge)
#   plain   recto ocr -j 2
#   2 shards recto ocr --shards 2, then --shard 0/2 and 1/2 at once, -j 1 each
# The overhead of sharding is "1 shard" against "plain -j 1" (and 2 shards
# against plain -j 2); the throughput of concurrent shards is 2 shards
# against 1 shard. Repeated REPEAT times (default 2), the best time kept.
#
#   bench/shard.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
REPEAT=${REPEAT:-2}
if [[ ! -d $corpus/gt ]]; then
  echo "bench/shard.sh: skipped: the corpus ($corpus) is absent"
  exit 0
fi
work=$(mktemp -d /tmp/recto-bench-shard.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1
cargo build --release --quiet --bin recto --manifest-path "$here/Cargo.toml"
recto=$here/target/release/recto
export RECTO_DATA_DIR=$work/data

mkdir -p "$work/pdfs"
keys=()
for gt in "$corpus"/gt/*.txt; do
  f=$(basename "$gt" .txt)
  cp "$corpus/$f.pdf" "$work/pdfs/$f.pdf"
  keys+=("$f")
done
"$recto" upload --quiet --from "$work/pdfs"
list=$(IFS=,; echo "${keys[*]}")
pages=0
for f in "${keys[@]}"; do pages=$((pages + $(pdfinfo "$work/pdfs/$f.pdf" | awk '/^Pages:/ {print $2}'))); done
ocr=(--citekeys "$list" --lang eng --dpi 300)

now() { date +%s.%N; }
best() { # the smallest of the arguments
  printf '%s\n' "$@" | sort -g | head -1
}

plain() { # workers
  local t0; t0=$(now)
  "$recto" ocr --quiet "${ocr[@]}" -j "$1"
  echo "$(now) - $t0" | bc
}

sharded() { # shards
  local n=$1 t0 job pids=()
  t0=$(now)
  job=$("$recto" ocr --quiet "${ocr[@]}" --shards "$n")
  for ((i = 0; i < n; i++)); do
    "$recto" ocr --quiet --job-id "$job" --shard "$i/$n" -j 1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  echo "$(now) - $t0" | bc
  status=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" \
    "$RECTO_DATA_DIR/analytics/ocr/job_metadata/$job.json")
  [[ $status == completed ]] || { echo "sharded job $job: $status" >&2; exit 1; }
}

declare -A t
for run in plain1 shard1 plain2 shard2; do
  times=()
  for ((r = 0; r < REPEAT; r++)); do
    case $run in
      plain1) times+=("$(plain 1)") ;;
      plain2) times+=("$(plain 2)") ;;
      shard1) times+=("$(sharded 1)") ;;
      shard2) times+=("$(sharded 2)") ;;
    esac
  done
  t[$run]=$(best "${times[@]}")
done

printf '\n%s scanned pages (%s files), 300 dpi, %s cores, best of %s\n\n' "$pages" "${#keys[@]}" "$(getconf _NPROCESSORS_ONLN)" "$REPEAT"
echo "| run | seconds | pages/s | vs plain -j 1 |"
echo "|---|---:|---:|---:|"
for row in "recto ocr -j 1:${t[plain1]}" "1 shard (plan, shard, merge):${t[shard1]}" \
           "recto ocr -j 2:${t[plain2]}" "2 shards at once, -j 1 each:${t[shard2]}"; do
  name=${row%%:*}; s=${row##*:}
  printf '| %s | %.1f | %.2f | %.2fx |\n' "$name" "$s" "$(echo "$pages / $s" | bc -l)" "$(echo "$s / ${t[plain1]}" | bc -l)"
done
echo
printf 'sharding overhead: 1 shard / plain -j 1 = %.3f; 2 shards / plain -j 2 = %.3f\n' \
  "$(echo "${t[shard1]} / ${t[plain1]}" | bc -l)" "$(echo "${t[shard2]} / ${t[plain2]}" | bc -l)"
printf 'throughput of 2 concurrent shards against 1: %.2fx\n' "$(echo "${t[shard1]} / ${t[shard2]}" | bc -l)"
