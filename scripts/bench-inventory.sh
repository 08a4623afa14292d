#!/usr/bin/env bash
# Large-inventory benchmark: generates a synthetic saved scan of KEYS keys
# (examples/bench_inventory.rs: 200 accounts × 17 regions, realistic policies, tags, grants and
# neglect) with a config (required tags) and a spec of DECLARED declared keys, then times the
# release `kms-audit report SCAN.json` — checks run again, suppressions none — for every format,
# and once more with drift (--spec), under GNU time: wall time and peak RSS. No AWS, no network.
#
#   scripts/bench-inventory.sh                    # 100,000 keys, 10,000 declared, 3 runs each
#   KEYS=20000 RUNS=1 scripts/bench-inventory.sh
#
# Results are appended to target/bench/inventory.jsonl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

KEYS="${KEYS:-100000}"
DECLARED="${DECLARED:-10000}"
RUNS="${RUNS:-3}"

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  echo "bench: cargo build --release (kms-audit, bench_inventory)" >&2
  cargo build --release --quiet --bin kms-audit --example bench_inventory
fi
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/release/kms-audit"
out_dir="$target_dir/bench"
work="$out_dir/inventory-$KEYS"
mkdir -p "$work"
trap 'rm -rf "$work"/out.* "$work"/*.time' EXIT

"$target_dir/release/examples/bench_inventory" --out "$work" --keys "$KEYS" --declared "$DECLARED"
echo "bench: $(du -h "$work/scan.json" | cut -f1) scan.json, $(du -h "$work/spec.yaml" | cut -f1) spec.yaml; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

measure() {
  local name="$1"; shift
  local run
  for run in $(seq 1 "$RUNS"); do
    local load
    load="$(cut -d' ' -f1 /proc/loadavg)"
    set +e
    timeout 300 /usr/bin/time -v -o "$work/$name.$run.time" "$bin" report "$work/scan.json" \
      --config "$work/config.yaml" --fail-on none "$@" >"$work/out.$name" 2>"$work/err.$name"
    local code=$?
    set -e
    if [ "$code" -ne 0 ]; then
      echo "bench: $name exited $code:" >&2
      tail -5 "$work/err.$name" >&2
    fi
    python3 - "$work/$name.$run.time" "$name" "$run" "$code" "$load" "$(stat -c %s "$work/out.$name")" \
      "$out_dir/inventory.jsonl" "$KEYS" <<'EOF'
import json, re, sys
path, name, run, code, load, size, results, keys = sys.argv[1:]
text = open(path).read()
def field(label):
    return re.search(re.escape(label) + r":\s*(.+)", text).group(1).strip()
wall = 0.0
for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
    wall = wall * 60 + float(part)
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss = int(field("Maximum resident set size (kbytes)")) / 1024
record = {"bench": "inventory", "keys": int(keys), "case": name, "run": int(run), "exit_code": int(code),
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
# stdout is CSV, the cheapest format; the split's own cost is this row minus the csv row.
for format in table json csv ocsf asff; do
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
findings="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["findings"]), dict(r["summary"]["findings"]))' "$work/out.json+spec")"
echo "findings with --spec: $findings"
