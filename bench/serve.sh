#!/usr/bin/env bash
# Web app benchmark: the library page with 2,000 citekeys.
#  - server: time to render `/` (curl, 20 requests, median and max);
#  - browser: first contentful paint of `/` in headless Chromium (through
#    chromedriver's WebDriver API), side by side with the same HTML saved
#    to a file and opened from disk (the floor: parsing and painting only).
#
#   bench/serve.sh            (N=2000 citekeys)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-2000}
work=$(mktemp -d /tmp/recto-bench-serve.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release --quiet --bin recto --manifest-path "$here/Cargo.toml"
recto=$here/target/release/recto
export RECTO_DATA_DIR=$work/data

python3 - "$work/pdfs" "$N" <<'PY'
import os, sys
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
for i in range(n):
    text = f"Page of source number {i}: a born-digital page with enough words to keep its text layer."
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
            f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream"]
    b = b"%PDF-1.4\n"; offs = []
    for k, o in enumerate(objs):
        offs.append(len(b)); b += f"{k+1} 0 obj\n{o}\nendobj\n".encode()
    x = len(b)
    b += f"xref\n0 {len(objs)+1}\n0000000000 65535 f \n".encode() + b"".join(f"{o:010} 00000 n \n".encode() for o in offs)
    b += f"trailer\n<< /Size {len(objs)+1} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n".encode()
    open(os.path.join(out, f"key{i:05}.pdf"), "wb").write(b)
PY
"$recto" upload --quiet --from "$work/pdfs"
"$recto" ocr --quiet --all --lang eng --image-dpi 50
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$recto" serve --port "$port" > "$work/serve.log" 2>&1 & pids+=($!)
dport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chromedriver --port="$dport" > /dev/null 2>&1 & pids+=($!)
sleep 1
curl -s "http://127.0.0.1:$port/?all=1" > "$work/library.html"
echo "library page: $(grep -o '<tr>' "$work/library.html" | wc -l) rows, $(( $(stat -c %s "$work/library.html") / 1024 )) KB"
for i in $(seq 20); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/?all=1"; done | sort -n > "$work/times"
printf 'server render of /?all=1 (20 requests): median %.1f ms, max %.1f ms\n' \
  "$(awk 'NR==10' "$work/times" | awk '{print $1*1000}')" "$(tail -1 "$work/times" | awk '{print $1*1000}')"
# The static copy (every row in the file) needs its assets beside it.
mkdir -p "$work/static/assets"
curl -s "http://127.0.0.1:$port/assets/app.css" > "$work/static/assets/app.css"
curl -s "http://127.0.0.1:$port/assets/app.js" > "$work/static/assets/app.js"
sed 's#"/assets/#"assets/#g' "$work/library.html" > "$work/static/index.html"
python3 - "$dport" "http://127.0.0.1:$port/" "file://$work/static/index.html" <<'PY'
import json, sys, urllib.request
dport, live, static = sys.argv[1], sys.argv[2], sys.argv[3]
def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{dport}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["value"]
caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]}}}}
sid = call("POST", "/session", caps)["sessionId"]
script = {"script": "const done = arguments[arguments.length - 1];"
          "const n = performance.getEntriesByType('navigation')[0];"
          "const rows = () => new Promise(r => { const t = document.querySelector('#library tbody');"
          "  const w = () => (t.dataset.loaded === '1' ? r(performance.now()) : setTimeout(w, 5)); w(); });"
          "new PerformanceObserver((l, o) => { const e = l.getEntriesByName('first-contentful-paint')[0];"
          "  if (e) { o.disconnect(); rows().then(all => done([e.startTime, n.responseEnd, n.domContentLoadedEventEnd, all,"
          "   document.querySelectorAll('#library tbody tr').length])); } })"
          ".observe({type: 'paint', buffered: true});", "args": []}
res = {}
for name, url in (("recto serve", live), ("same HTML from a file", static)):
    runs = []
    for _ in range(5):
        call("POST", f"/session/{sid}/url", {"url": "about:blank"})
        call("POST", f"/session/{sid}/url", {"url": url})
        runs.append(call("POST", f"/session/{sid}/execute/async", script))
    runs.sort(key=lambda r: r[0])
    res[name] = runs[2]
call("DELETE", f"/session/{sid}")
print("\n| page | first contentful paint ms (median of 5) | response end ms | DOM ready ms | all rows in the table ms | rows | FCP vs file |")
print("|---|---:|---:|---:|---:|---:|---:|")
base = res["same HTML from a file"][0]
for name, (fcp, resp, dom, allrows, n) in res.items():
    print(f"| {name} | {fcp:.0f} | {resp:.0f} | {dom:.0f} | {allrows:.0f} | {n} | {fcp / base:.2f}x |")
PY
