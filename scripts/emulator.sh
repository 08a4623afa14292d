#!/usr/bin/env bash
# Runs the patched local AWS emulator in the foreground: scripts/emulator.sh [PORT] (default 4566).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup-emulator.sh"
exec "$root/.venv/bin/python" "$root/scripts/emulator_launcher.py" --host 127.0.0.1 --port "${1:-4566}"
