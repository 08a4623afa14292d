#!/usr/bin/env bash
# Large-inventory benchmark: generates a synthetic saved scan of KEYS keys
# (examples/bench_inventory.rs: 200 accounts × 17 regions, realistic policies, tags, grants and
# neglect) with a config (required tags) and a spec of DECLARED declared keys, then times the
# release `kms-audit report SCAN.json` — checks run again, suppressions none — for every format,
# and once more with drift (--spec), under GNU time: wall time and peak RSS. No AWS, no network.
# When Chromium is installed (scripts/setup-chromium.sh), the HTML report is then opened in
# headless Chromium (--dump-dom, until the page's script has drawn it): target <= 5 s.
# Then `kms-audit publish securityhub` of the JSON report's findings to a local stub
# (examples/bench_stub.rs answers STS and BatchImportFindings and checks the account rule): the
# rendering, batching and sending side of publishing, without Security Hub's own latency.
#
#   scripts/bench-inventory.sh                    # 100,000 keys, 10,000 declared, 3 runs each
#   KEYS=20000 RUNS=1 scripts/bench-inventory.sh
#   BENCH_PROFILE=dev scripts/bench-inventory.sh  # the dev build (no release build needed)
#
# Results are appended to target/bench/inventory.jsonl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

KEYS="${KEYS:-100000}"
DECLARED="${DECLARED:-10000}"
RUNS="${RUNS:-3}"

export PROFILE="${BENCH_PROFILE:-release}"
profile_dir="$PROFILE"
[ "$PROFILE" = dev ] && profile_dir=debug
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  echo "bench: cargo build --profile $PROFILE (kms-audit, bench_inventory, bench_stub)" >&2
  cargo build --profile "$PROFILE" --quiet --bin kms-audit --example bench_inventory --example bench_stub
fi
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/$profile_dir/kms-audit"
out_dir="$target_dir/bench"
work="$out_dir/inventory-$KEYS"
mkdir -p "$work"
trap 'rm -rf "$work"/out.* "$work"/*.time "$work"/dom.html "$work"/blank.html' EXIT

"$target_dir/$profile_dir/examples/bench_inventory" --out "$work" --keys "$KEYS" --declared "$DECLARED"
echo "bench: $(du -h "$work/scan.json" | cut -f1) scan.json, $(du -h "$work/spec.yaml" | cut -f1) spec.yaml; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

measure() {
  local name="$1"; shift
  measure_command "$name" report "$work/scan.json" --config "$work/config.yaml" --fail-on none "$@"
}

# measure_command NAME ARGS...: RUNS runs of `kms-audit ARGS...`, stdout to $work/out.NAME.
measure_command() {
  local name="$1"; shift
  local run
  for run in $(seq 1 "$RUNS"); do
    local load
    load="$(cut -d' ' -f1 /proc/loadavg)"
    set +e
    timeout 300 /usr/bin/time -v -o "$work/$name.$run.time" "$bin" "$@" \
      >"$work/out.$name" 2>"$work/err.$name"
    local code=$?
    set -e
    if [ "$code" -ne 0 ]; then
      echo "bench: $name exited $code:" >&2
      tail -5 "$work/err.$name" >&2
    fi
    python3 - "$work/$name.$run.time" "$name" "$run" "$code" "$load" "$(stat -c %s "$work/out.$name")" \
      "$out_dir/inventory.jsonl" "$KEYS" <<'EOF'
import json, os, re, sys
path, name, run, code, load, size, results, keys = sys.argv[1:]
text = open(path).read()
def field(label):
    return re.search(re.escape(label) + r":\s*(.+)", text).group(1).strip()
wall = 0.0
for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
    wall = wall * 60 + float(part)
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss = int(field("Maximum resident set size (kbytes)")) / 1024
record = {"bench": "inventory", "keys": int(keys), "case": name, "profile": os.environ.get("PROFILE", "release"), "run": int(run), "exit_code": int(code),
          "wall_s": wall, "cpu_s": round(cpu, 2), "peak_rss_mb": round(rss, 1),
          "output_mb": round(int(size) / 1e6, 1), "load": float(load)}
with open(results, "a") as f:
    f.write(json.dumps(record) + "\n")
ok = "ok" if wall <= 3 and rss <= 300 else "OVER TARGET"
print(f"  {name:<12} run {run}: {wall:5.2f} s wall, {cpu:5.2f} s CPU, peak RSS {rss:6.1f} MB, output {record['output_mb']} MB, exit {code}, load {load}  [{ok}]")
EOF
  done
}

echo "kms-audit report over $KEYS keys (targets: <= 3 s, <= 300 MB peak):"
# SARIF as GitHub takes it: one file per account (a single file of 77,000 results is refused).
# stdout is CSV, the cheapest format; the split's own cost is the sarif-split row minus the csv row.
for format in table json csv ocsf asff html compliance; do
  measure "$format" --format "$format"
done
measure "sarif-split" --format csv -o "sarif=$work/out.sarif-split.d/"
python3 - "$work/out.sarif-split.d/index.json" <<'EOF'
import json, os, sys
m = json.load(open(sys.argv[1]))
files = m["files"]
print(f"  sarif-split: {len(files)} files, {sum(f['results'] for f in files)} results, "
      f"largest {max(f['results'] for f in files)} results / {max(f['bytes'] for f in files) / 1e6:.2f} MB, "
      f"{len(m['skipped'])} accounts skipped, {m['suppressed_left_out']} suppressed left out")
EOF
measure "json+spec" --format json --spec "$work/spec.yaml"
measure "all+spec" --format json --spec "$work/spec.yaml" -o "table=$work/out.all.table" \
  -o "csv=$work/out.all.csv" -o "sarif=$work/out.all.sarif.d/" -o "ocsf=$work/out.all.ocsf" \
  -o "asff=$work/out.all.asff"
echo "HTML report: $(stat -c %s "$work/out.html" | awk '{printf "%.1f MB", $1/1e6}') (target <= 60 MB)"
chromium="${KMS_AUDIT_CHROMIUM:-$(command -v chromium || true)}"
if [ -n "$chromium" ]; then
  open_page() {
    local profile start end
    profile="$(mktemp -d)"
    start=$(date +%s.%N)
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --disable-dev-shm-usage --user-data-dir="$profile" --dump-dom "file://$1" >"$work/dom.html" 2>/dev/null
    end=$(date +%s.%N)
    rm -rf "$profile"
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$start" "$end"
  }
  printf '<!DOCTYPE html><p>blank</p>' >"$work/blank.html"
  for run in $(seq 1 "$RUNS"); do
    blank="$(open_page "$work/blank.html")"
    took="$(open_page "$work/out.html")"
    drawn=no; grep -q 'data-ready="1"' "$work/dom.html" && drawn=yes
    rows="$(grep -o '<tr class="finding' "$work/dom.html" | wc -l)"
    python3 - "$took" "$blank" "$drawn" "$rows" "$out_dir/inventory.jsonl" "$KEYS" "$run" <<'EOF'
import json, sys
took, blank, drawn, rows, results, keys, run = sys.argv[1:]
record = {"bench": "inventory", "keys": int(keys), "case": "html-open", "run": int(run),
          "wall_s": float(took), "browser_start_s": float(blank), "drawn": drawn == "yes",
          "rows_drawn": int(rows)}
with open(results, "a") as f:
    f.write(json.dumps(record) + "\n")
ok = "ok" if float(took) <= 5 and drawn == "yes" else "OVER TARGET"
print(f"  chromium opens the HTML report, run {run}: {float(took):5.2f} s (a blank page: {float(blank):.2f} s), drawn: {drawn}, {rows} rows  [{ok}]")
EOF
  done
else
  echo "bench: chromium not installed (scripts/setup-chromium.sh): page-open time not measured" >&2
fi
findings="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["findings"]), dict(r["summary"]["findings"]))' "$work/out.json+spec")"
echo "findings with --spec: $findings"

# publish securityhub of the JSON report's findings (the `json` case's output) to the stub.
if [ -z "${BENCH_NO_PUBLISH:-}" ]; then
  accounts="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len({f["account"] for f in r["findings"]}))' "$work/out.json")"
  "$target_dir/$profile_dir/examples/bench_stub" --accounts "$accounts" --regions 17 --keys 1 \
    --threads 1 >"$work/stub.out" 2>"$work/stub.err" &
  stub_pid=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$work/stub.out" 2>/dev/null && break; sleep 0.1; done
  stub="$(grep -o 'http://[0-9.:]*' "$work/stub.out" | head -1)"
  echo "kms-audit publish securityhub of $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$work/out.json") findings in $accounts accounts to the stub at $stub (targets: <= 3 s, <= 300 MB peak):"
  export AWS_ACCESS_KEY_ID=AKIABENCH AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
  measure_command publish publish securityhub "$work/out.json" --endpoint-url "$stub" \
    --quota-share 300 --format json
  python3 - "$work/out.publish" "$stub" <<'EOF'
import json, sys, urllib.request
summary = json.load(open(sys.argv[1]))
stats = json.load(urllib.request.urlopen(sys.argv[2] + "/__bench/stats"))["securityhub"]
print(f"  publish: {summary['totals']}, stub: {stats}")
assert summary["totals"]["failed"] == 0 and stats["findings_refused"] == 0, "the account rule was broken"
EOF
  kill "$stub_pid" 2>/dev/null || true
fi
