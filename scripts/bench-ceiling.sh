#!/usr/bin/env bash
# Scanner-ceiling benchmark: the release kms-audit scans a synthetic AWS Organization served by
# a fast local stub of KMS, STS, Organizations and IAM's GetAccountAuthorizationDetails
# (examples/bench_stub.rs) with a configurable
# latency per request and AWS-like KMS quotas per account×region. Everything stays on 127.0.0.1.
#
#   scripts/bench-ceiling.sh                 # the suite: --version, no-latency throughput, 30 ms + quotas
#   scripts/bench-ceiling.sh run [options] [-- kms-audit scan flags]
#       --latency-ms MS (0)  --quota-scale F (1; 0 = no quotas)  --accounts N (200)
#       --regions N (17)  --keys N (30)  --quota OPERATION=RPS (repeatable)  --label TEXT
#   scripts/bench-ceiling.sh version         # `kms-audit --version` start-up time only
#
# Each run prints one line and appends a JSON record to target/bench/ceiling.jsonl: wall time,
# requests/s, keys/s, CPU seconds and peak RSS of kms-audit (GNU time), throttled responses, the
# stub's CPU, the load average, and whether any key was lost (summary.keys == the synthetic total,
# no coverage gaps, no unknown fields, every target scanned, every expected request sent, one IAM
# read per account unless --no-iam).
# Runs are bounded: the stub stops itself after --max-seconds, the scan is killed after SCAN_TIMEOUT.
# BENCH_KEEP_SCAN=FILE keeps the run's JSON report there (to count findings, or feed `report`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

SCAN_TIMEOUT="${SCAN_TIMEOUT:-900}"
STUB_THREADS="${STUB_THREADS:-1}"

build() {
  if [ -z "${BENCH_NO_BUILD:-}" ]; then
    echo "bench: cargo build --release (kms-audit, bench_stub)" >&2
    cargo build --release --quiet --bin kms-audit --example bench_stub
  fi
  target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  bin="$target_dir/release/kms-audit"
  stub="$target_dir/release/examples/bench_stub"
  out_dir="$target_dir/bench"
  mkdir -p "$out_dir"
}

version_time() {
  python3 - "$bin" "$out_dir/ceiling.jsonl" <<'EOF'
import json, statistics, subprocess, sys, time
binary, results = sys.argv[1], sys.argv[2]
samples = []
for _ in range(30):
    t = time.perf_counter()
    subprocess.run([binary, "--version"], check=True, stdout=subprocess.DEVNULL)
    samples.append((time.perf_counter() - t) * 1000)
samples.sort()
record = {"bench": "version", "median_ms": round(statistics.median(samples), 2),
          "max_ms": round(samples[-1], 2), "runs": len(samples)}
print(f"kms-audit --version: median {record['median_ms']} ms, max {record['max_ms']} ms over 30 runs (target < 20 ms)")
with open(results, "a") as f:
    f.write(json.dumps(record) + "\n")
EOF
}

run() {
  local latency=0 quota_scale=1 accounts=200 regions=17 keys=30 label="" quotas=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --latency-ms) latency="$2"; shift 2 ;;
      --quota-scale) quota_scale="$2"; shift 2 ;;
      --accounts) accounts="$2"; shift 2 ;;
      --regions) regions="$2"; shift 2 ;;
      --keys) keys="$2"; shift 2 ;;
      --label) label="$2"; shift 2 ;;
      --quota) quotas+=(--quota "$2"); label="$label ${2}"; shift 2 ;;
      --) shift; break ;;
      *) echo "bench: unknown option $1" >&2; exit 2 ;;
    esac
  done
  local flags=("$@")
  local work
  work="$(mktemp -d -t kms-audit-bench.XXXXXX)"
  "$stub" --accounts "$accounts" --regions "$regions" --keys "$keys" --latency-ms "$latency" \
    --quota-scale "$quota_scale" ${quotas[@]+"${quotas[@]}"} --threads "$STUB_THREADS" \
    --max-seconds "$((SCAN_TIMEOUT + 120))" \
    >"$work/stub.out" 2>"$work/stub.err" &
  local stub_pid=$!
  local endpoint=""
  for _ in $(seq 1 100); do
    endpoint="$(sed -n 's/^bench stub listening on //p' "$work/stub.out")"
    [ -n "$endpoint" ] && break
    sleep 0.05
  done
  if [ -z "$endpoint" ]; then
    kill "$stub_pid" 2>/dev/null || true
    cat "$work/stub.err" >&2
    echo "bench: the stub did not start" >&2
    exit 1
  fi
  curl -sf "$endpoint/__bench/expected" >"$work/expected.json"
  local region_list
  region_list="$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["region_names"]))' "$work/expected.json")"
  local load_before
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  set +e
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
    AWS_ACCESS_KEY_ID=AKIABENCHCALLER00001 AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true \
    timeout "$SCAN_TIMEOUT" /usr/bin/time -v -o "$work/time.txt" \
    "$bin" scan --org --regions "$region_list" --endpoint-url "$endpoint" --format json \
    --fail-on none "${flags[@]}" >"$work/scan.json" 2>"$work/scan.err"
  local code=$?
  set -e
  local load_after
  load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
  curl -sf "$endpoint/__bench/stats" >"$work/stats.json" || echo '{}' >"$work/stats.json"
  local stub_cpu
  stub_cpu="$(awk '{print ($14 + $15) / 100}' "/proc/$stub_pid/stat" 2>/dev/null || echo 0)"
  kill "$stub_pid" 2>/dev/null || true
  wait "$stub_pid" 2>/dev/null || true
  python3 - "$work" "$out_dir/ceiling.jsonl" "$code" "$latency" "$quota_scale" "$stub_cpu" \
    "$load_before" "$load_after" "$label" "${flags[*]:-}" <<'EOF'
import json, re, sys
work, results, code, latency, quota_scale, stub_cpu, load_before, load_after, label, flags = sys.argv[1:]
expected = json.load(open(f"{work}/expected.json"))
stats = json.load(open(f"{work}/stats.json"))
timing = open(f"{work}/time.txt").read()
def field(name):
    m = re.search(re.escape(name) + r":\s*(.+)", timing)
    return m.group(1).strip() if m else None
def seconds(text):
    parts = [float(p) for p in text.split(":")]
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total
wall = seconds(field("Elapsed (wall clock) time (h:mm:ss or m:ss)"))
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss_mb = int(field("Maximum resident set size (kbytes)")) / 1024
try:
    report = json.load(open(f"{work}/scan.json"))
except Exception as err:
    report = None
    print(f"bench: the scan wrote no JSON report (exit {code}): {err}", file=sys.stderr)
    print(open(f"{work}/scan.err").read()[-3000:], file=sys.stderr)
record = {"bench": "ceiling", "label": label, "flags": flags, "latency_ms": float(latency),
          "quota_scale": float(quota_scale), "exit_code": int(code), "wall_s": round(wall, 2),
          "cpu_s": round(cpu, 2), "peak_rss_mb": round(rss_mb, 1),
          "stub_cpu_s": float(stub_cpu), "load_before": load_before, "load_after": load_after,
          "expected_keys": expected["keys"], "throttled": stats.get("kms_throttled_total"),
          "throttled_by_operation": {k: v for k, v in stats.get("kms_throttled", {}).items() if v},
          "stub_errors": stats.get("errors"), "stub_connections": stats.get("connections")}
if report is not None:
    summary = report["summary"]
    calls = summary["api_calls"]
    total = sum(calls.values())
    kms_calls = {k: v for k, v in calls.items() if k.startswith(("kms:", "tag:"))}
    unknown = sum(1 for k in report["inventory"]["keys"] if k.get("unknown"))
    not_scanned = sum(1 for t in report["targets"] if t["status"] != "scanned")
    gaps_by_op = {}
    for gap in report["coverage_gaps"]:
        key = f'{gap["operation"]}:{gap.get("error_code")}'
        gaps_by_op[key] = gaps_by_op.get(key, 0) + 1
    # Every expected request must have been answered at least once (throttled ones are retried).
    answered = {("tag:" if op == "GetResources" else "kms:") + op: n - stats.get("kms_throttled", {}).get(op, 0)
                for op, n in stats.get("kms_requests", {}).items()}
    missing_calls = {op: n - answered.get(op, 0) for op, n in expected["kms_calls"].items()
                     if answered.get(op, 0) < n}
    # One IAM read per account, unless --no-iam.
    iam_reads = stats.get("iam", {}).get("GetAccountAuthorizationDetails", 0)
    iam_expected = 0 if "--no-iam" in flags.split() else expected["iam_calls"]["iam:GetAccountAuthorizationDetails"]
    if iam_reads != iam_expected:
        missing_calls["iam:GetAccountAuthorizationDetails"] = iam_expected - iam_reads
    record["iam_reads"] = iam_reads
    lost = expected["keys"] - summary["keys"]
    # Answered per-key requests by key kind, as the stub saw them, per key of that kind.
    per_kind = {}
    for kind, ops in stats.get("kms_answered_by_key_kind", {}).items():
        n = expected["keys_by_kind"].get(kind)
        if n:
            per_kind[kind] = round(sum(ops.values()) / n, 2)
    record["calls_per_key_by_kind"] = per_kind
    record.update({
        "keys": summary["keys"], "keys_lost": lost, "gaps": summary["gaps"],
        "gaps_by_operation": gaps_by_op, "keys_with_unknown_fields": unknown,
        "targets_not_scanned": not_scanned, "api_calls_total": total, "kms_calls": kms_calls,
        "duration_ms": summary["duration_ms"], "requests_per_s": round(total / wall),
        "keys_per_s": round(summary["keys"] / wall), "missing_expected_calls": missing_calls,
        # The collection phase alone (summary.duration_ms), before checks and rendering.
        "collect_requests_per_s": round(total / max(summary["duration_ms"], 1) * 1000),
        "findings": sum(summary["findings"].values()),
        "zero_keys_lost": lost == 0 and summary["gaps"] == 0 and unknown == 0
                          and not_scanned == 0 and not missing_calls,
    })
with open(results, "a") as f:
    f.write(json.dumps(record) + "\n")
if report is None:
    print(f"ceiling {label}: FAILED exit {code}, wall {wall:.1f} s, peak {rss_mb:.0f} MB")
    sys.exit(1)
print(f"ceiling {label or '-'} [latency {latency} ms, quotas x{quota_scale}, flags: {flags or 'defaults'}]\n"
      f"  {record['keys']}/{record['expected_keys']} keys in {wall:.1f} s wall "
      f"({record['keys_per_s']} keys/s, {record['requests_per_s']} requests/s, {total} requests; "
      f"collection {summary['duration_ms'] / 1000:.1f} s at {record['collect_requests_per_s']} requests/s), "
      f"kms-audit CPU {cpu:.1f} s, peak RSS {rss_mb:.0f} MB, stub CPU {float(stub_cpu):.1f} s, "
      f"{stats.get('connections')} connections\n"
      f"  throttled {record['throttled']} {record['throttled_by_operation']}, gaps {record['gaps']} "
      f"{gaps_by_op}, unknown fields on {unknown} keys, exit {code}, "
      f"zero keys lost: {'yes' if record['zero_keys_lost'] else 'NO'}; load {load_before} -> {load_after}\n"
      f"  calls per key by kind (answered): {per_kind}")
EOF
  if [ -n "${BENCH_KEEP_SCAN:-}" ]; then
    cp "$work/scan.json" "$BENCH_KEEP_SCAN"
  fi
  rm -rf "$work"
}

build
case "${1:-suite}" in
  version) version_time ;;
  run) shift; run "$@" ;;
  suite)
    echo "bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    version_time
    # The best flags measured on 2 cores (README "Benchmarks"): the defaults with no latency,
    # a wide global limit (per-target limit left at 8) when every request takes 30 ms.
    run --label throughput --latency-ms 0 --quota-scale 0
    run --label aws-30ms --latency-ms 30 --quota-scale 1
    ;;
  *) echo "usage: scripts/bench-ceiling.sh [suite | version | run [options] [-- scan flags]]" >&2; exit 2 ;;
esac
