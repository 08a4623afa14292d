#!/usr/bin/env bash
# Installs the pinned Python validators the tests use (scripts/test-requirements.txt) into .venv,
# after scripts/setup-emulator.sh created it. Idempotent: does nothing when the pinned set is there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/test-requirements.txt"
stamp="$venv/.kms-audit-test-requirements"

if [ ! -x "$venv/bin/python" ]; then
  "$root/scripts/setup-emulator.sh"
fi
if [ -f "$stamp" ] && cmp -s "$stamp" "$requirements"; then
  exit 0
fi
echo "setup-test-python: installing the pinned validators into $venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -m pip check >&2
cp "$requirements" "$stamp"
echo "setup-test-python: ready ($("$venv/bin/python" -c 'from importlib.metadata import version; print("py-ocsf-models", version("py-ocsf-models"))'))" >&2
