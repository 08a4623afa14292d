#!/usr/bin/env bash
# Runs the whole kms-audit test suite: unit tests, CLI tests and end-to-end scans against the
# local AWS emulator (installed into .venv on first use) and SARIF validation with Microsoft's
# SARIF Multitool (installed into .tools on first use). Extra arguments go to `cargo test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup-emulator.sh
scripts/setup-test-python.sh
# Microsoft's SARIF Multitool, for the GitHub code scanning tests (tests/e2e/sarif_github.rs).
# Without npm (outside CI) those tests say why they are skipped; under CI=true they fail.
if ! scripts/setup-sarif-multitool.sh >/dev/null && [ "${CI:-}" = true ]; then
  exit 1
fi
cargo test --all-targets --locked "$@"
