#!/usr/bin/env bash
# Spec import benchmark: generates a synthetic `terraform show -json` of KEYS KMS keys
# (scripts/bench_spec_import.py: ~5 KB per key, modules, for_each, aliases, key policies) and
# times the release `kms-audit spec validate FILE` (what `--spec FILE` loads before a scan) and
# `kms-audit spec import terraform FILE` under GNU time: wall time and peak RSS. No AWS.
#
#   scripts/bench-spec-import.sh                  # 10,000 keys, 3 runs each
#   KEYS=20000 RUNS=1 scripts/bench-spec-import.sh
#
# Results are appended to target/bench/spec-import.jsonl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

KEYS="${KEYS:-10000}"
RUNS="${RUNS:-3}"

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  echo "bench: cargo build --release (kms-audit)" >&2
  cargo build --release --quiet --bin kms-audit
fi
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/release/kms-audit"
out_dir="$target_dir/bench"
work="$out_dir/spec-import-$KEYS"
mkdir -p "$work"
trap 'rm -f "$work"/*.time "$work"/out.*' EXIT

python3 scripts/bench_spec_import.py "$KEYS" "$work/show.json"
bytes="$(stat -c %s "$work/show.json")"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit+dirty"; fi
echo "bench: $((bytes / 1000000)) MB show.json ($KEYS keys), commit $commit; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); target ≤ 2 s and ≤ 200 MB each" >&2

measure() {
  local name="$1"; shift
  local run
  for run in $(seq 1 "$RUNS"); do
    local load
    load="$(cut -d' ' -f1 /proc/loadavg)"
    /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" > "$work/out.$name" 2> "$work/out.$name.err" || {
      echo "bench: $name failed:" >&2; tail -5 "$work/out.$name.err" >&2; exit 1; }
    read -r wall rss_kb < "$work/$name.time"
    echo "bench: $name run $run: ${wall} s, $((rss_kb / 1024)) MB peak RSS (load $load)" >&2
    printf '{"bench":"spec-import","commit":"%s","command":"%s","keys":%s,"bytes":%s,"run":%s,"wall_s":%s,"peak_rss_mb":%s,"load":%s}\n' \
      "$commit" "$name" "$KEYS" "$bytes" "$run" "$wall" "$((rss_kb / 1024))" "$load" >> "$out_dir/spec-import.jsonl"
  done
}

measure validate "$bin" spec validate "$work/show.json"
grep -q "^ok: $KEYS declared keys in 1 file$" "$work/out.validate" || {
  echo "bench: expected $KEYS declared keys:" >&2; tail -2 "$work/out.validate" >&2; exit 1; }
measure import "$bin" spec import terraform "$work/show.json"
