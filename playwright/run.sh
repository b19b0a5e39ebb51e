#!/usr/bin/env bash
# Browser tests: installs Debian's Chromium, playwright-core and axe-core (npm)
# when missing, builds vitalcore, and runs the tests against a live demo server.
# Screenshots go to a temporary folder; VITALCORE_DOCS=../docs bash playwright/run.sh
# refreshes the ones the README shows (docs/, docs/screenshots/).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
# playwright-core drives Chromium; axe-core checks accessibility (both pinned in package-lock.json).
[ -d node_modules/playwright-core ] && [ -d node_modules/axe-core ] || npm ci --silent --no-audit --no-fund
(cd .. && cargo build -q -p vitalcore)
VITALCORE_BIN=../target/debug/vitalcore node --test
