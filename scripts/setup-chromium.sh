#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the browser tests of the HTML report
# (tests/e2e/html_browser.rs) and the page-open benchmark. Idempotent: does nothing when a chromium
# is already on PATH (or KMS_AUDIT_CHROMIUM names one).
set -euo pipefail
if [ -n "${KMS_AUDIT_CHROMIUM:-}" ] && [ -x "$KMS_AUDIT_CHROMIUM" ]; then
  exit 0
fi
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-chromium: no apt-get here; install Chromium and set KMS_AUDIT_CHROMIUM to its path" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup-chromium: apt-get install chromium" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version >&2
