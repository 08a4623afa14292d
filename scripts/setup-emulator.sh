#!/usr/bin/env bash
# Creates .venv with the pinned local AWS emulator (moto in server mode) used by the tests,
# the demo and the benchmarks. Idempotent: does nothing when the pinned set is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/emulator-requirements.txt"
stamp="$venv/.kms-audit-requirements"

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup-emulator: $python not found; install Python 3.9+ (or set PYTHON)" >&2
  exit 1
fi

if [ -f "$stamp" ] && cmp -s "$stamp" "$requirements"; then
  exit 0
fi

echo "setup-emulator: creating $venv with the pinned moto server" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "setup-emulator: ready ($("$venv/bin/python" -c 'import moto; print("moto", moto.__version__)'))" >&2
