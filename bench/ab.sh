#!/usr/bin/env bash
# Two recto binaries side by side on the same work, alternating, each run a
# new job in its own data directory: upload, OCR (-j 2), toc, segment,
# export (txt, hocr, alto, pdf), a 2-shard toc job. For a refactor that
# must not change speed (the issue "The house"): BEFORE is the binary of
# the commit before it, AFTER this tree's. Prints the median seconds of
# each step per binary and the ratio after/before, and checks that both
# produced the same records (per-citekey results, the job ids aside).
#
#   bench/ab.sh BEFORE_BIN [AFTER_BIN]     REPEAT=3, FILES=corpus gt scans
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
before=$1
after=${2:-$here/target/release/recto}
REPEAT=${REPEAT:-3}
if [[ ! -d $corpus/gt ]]; then
  echo "bench/ab.sh: skipped: the corpus ($corpus) is absent"
  exit 0
fi
work=$(mktemp -d /tmp/recto-bench-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1
mkdir -p "$work/pdfs"
for gt in "$corpus"/gt/*.txt; do
  f=$(basename "$gt" .txt)
  cp "$corpus/$f.pdf" "$work/pdfs/$f.pdf"
done
now() { date +%s.%N; }
t() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo "$(now) - $t0" | bc; }

run() { # label bin round
  local label=$1 bin=$2 r=$3
  export RECTO_DATA_DIR=$work/$label-$r/data
  mkdir -p "$work/$label-$r"
  cd "$work/$label-$r"
  echo "$label upload $(t "$bin" upload --quiet --from "$work/pdfs")"
  echo "$label ocr $(t "$bin" ocr --quiet --all --lang eng -j 2)"
  echo "$label toc $(t "$bin" toc --quiet --all)"
  echo "$label segment $(t "$bin" segment --quiet --all)"
  echo "$label export $(t "$bin" export --quiet --all --format txt,hocr,alto,pdf)"
  local job
  job=$("$bin" toc --all --shards 2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
  local t0; t0=$(now)
  "$bin" toc --quiet --job-id "$job" --shard 0/2 &
  "$bin" toc --quiet --job-id "$job" --shard 1/2
  wait
  echo "$label toc-2-shards $(echo "$(now) - $t0" | bc)"
  # The records, job ids and times aside, for the comparison.
  for step in ocr toc segmentation export; do
    "$bin" step show "$step" latest 2>/dev/null |
      python3 -c 'import json,sys
m=json.load(sys.stdin)
def strip(v):
    if isinstance(v,dict): return {k:strip(x) for k,x in v.items() if k not in ("dir","source_job_id","ocr_job_id","job_id","started_at","timestamp","duration_seconds","pages_per_second","seconds","host","pid","pid_start_time","output_dir","markdown_from","bookmarks_from","timings","fulltext","sources","source_store")}
    if isinstance(v,list): return [strip(x) for x in v]
    return v
print(json.dumps(strip(m.get("per_citekey",{})),sort_keys=True))' >"$work/$label-$r/$step.json"
  done
  cd "$here"
}

for ((r = 0; r < REPEAT; r++)); do
  run before "$before" "$r"
  run after "$after" "$r"
done >"$work/times"

python3 - "$work/times" <<'PY'
import statistics, sys, collections
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, step, s = line.split()
    t[(label, step)].append(float(s))
steps = []
for (_, s) in t:
    if s not in steps:
        steps.append(s)
print("| step | before (s) | after (s) | after/before |")
print("|---|---:|---:|---:|")
for s in steps:
    b, a = statistics.median(t[("before", s)]), statistics.median(t[("after", s)])
    print(f"| {s} | {b:.2f} | {a:.2f} | {a / b:.3f} |")
PY
for step in ocr toc segmentation export; do
  if cmp -s "$work/before-0/$step.json" "$work/after-0/$step.json"; then
    echo "$step: the same per-citekey results"
  else
    echo "$step: per-citekey results DIFFER"
    diff <(python3 -m json.tool "$work/before-0/$step.json") <(python3 -m json.tool "$work/after-0/$step.json") | head -20
  fi
done
