#!/usr/bin/env bash
# Installs Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool, pinned) into
# .tools/sarif-multitool, for the tests that validate kms-audit's SARIF with GitHub's ingestion
# rules (`validate --rule-kind "Ghas;Sarif"`). Idempotent: does nothing when the pinned version is
# already there. Prints the path of the native binary, which the tests call directly (the npm
# wrapper runs it through a shell, which splits the `;` of "Ghas;Sarif").
#
#   scripts/setup-sarif-multitool.sh          # then: KMS_AUDIT_SARIF_MULTITOOL=<printed path>
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="5.7.0"
prefix="$root/.tools/sarif-multitool"
stamp="$prefix/.version"

case "$(uname -s)" in
  Linux) platform=linux ;;
  Darwin) platform=darwin ;;
  *) echo "setup-sarif-multitool: unsupported OS $(uname -s)" >&2; exit 1 ;;
esac
binary="$prefix/node_modules/@microsoft/sarif-multitool-$platform/Sarif.Multitool"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] && [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup-sarif-multitool: npm not found; install Node.js (npm) first" >&2
  exit 1
fi

echo "setup-sarif-multitool: installing @microsoft/sarif-multitool@$version into $prefix" >&2
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error \
  "@microsoft/sarif-multitool@$version" "@microsoft/sarif-multitool-$platform@$version" >&2
# The package's postinstall only makes the binary executable; npm may not run it.
chmod u+x "$binary"
"$binary" --version >&2
echo "$version" >"$stamp"
echo "$binary"
