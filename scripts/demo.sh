#!/usr/bin/env bash
# The kms-audit demo: starts the local AWS emulator, seeds an example AWS Organization
# (management + 3 member accounts, 2 regions, a mix of well-kept and neglected keys), and runs a
# real organization-wide scan of it. Nothing leaves this machine.
#   scripts/demo.sh                  # table report, and an HTML report (path printed at the end)
#   scripts/demo.sh --format json    # extra arguments go to `kms-audit scan`
#   DEMO_HTML=/tmp/kms.html scripts/demo.sh   # where the HTML report goes
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup-emulator.sh

echo "demo: building kms-audit" >&2
cargo build --quiet --bin kms-audit --example demo
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

log="$(mktemp -t kms-audit-emulator.XXXXXX)"
.venv/bin/python scripts/emulator_launcher.py --host 127.0.0.1 --port 0 >"$log" 2>&1 &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true; rm -f "$log"' EXIT
endpoint=""
for _ in $(seq 1 300); do
  endpoint="$(sed -n 's/^kms-audit emulator listening on //p' "$log")"
  [ -n "$endpoint" ] && break
  kill -0 "$emulator" 2>/dev/null || { cat "$log" >&2; echo "demo: the emulator did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "demo: the emulator did not start in 30 s" >&2; exit 1; }
echo "demo: local AWS emulator at $endpoint" >&2

# Test credentials for the emulator only; the management account is the caller's.
export AWS_ACCESS_KEY_ID=AKIAKMSAUDITDEMO0001 AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
"$target_dir/debug/examples/demo" "$endpoint"

html="${DEMO_HTML:-$target_dir/demo/kms-audit-report.html}"
mkdir -p "$(dirname "$html")"
echo "demo: kms-audit scan --org --regions us-east-1,eu-west-1 --endpoint-url $endpoint -o html=$html" >&2
set +e
"$target_dir/debug/kms-audit" scan --org --regions us-east-1,eu-west-1 --endpoint-url "$endpoint" \
  --format table -o "html=$html" "$@"
code=$?
set -e
[ -f "$html" ] && echo "demo: HTML report: file://$html (self-contained; open it in a browser)" >&2
case $code in
  0) meaning="clean" ;;
  1) meaning="findings at or above --fail-on (high)" ;;
  2) meaning="invalid input" ;;
  3) meaning="incomplete scan (coverage gaps)" ;;
  *) meaning="unexpected" ;;
esac
echo "demo: kms-audit exited with $code ($meaning)" >&2
[ "$code" -le 1 ] || exit "$code"
