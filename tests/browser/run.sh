#!/usr/bin/env bash
# Browser tests of the web page (issue 5): real kithd processes driven by
# headless Chromium (Debian's chromium package) through playwright-core, with
# axe-core on every page. Runs every *.test.mjs here with node's test runner.
#
# Needs: node 20+ and npm, /usr/bin/chromium (or KITH_CHROMIUM), KITHD (the
# kithd binary; ctest sets it). Installs the pinned npm packages
# (package-lock.json) with `npm ci` when node_modules is missing or stale.
# Screenshots go to KITH_BROWSER_ARTIFACTS (default build/browser-artifacts).
# Arguments are passed to `node --test` (e.g. a single file: js.test.mjs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
: "${KITH_SOURCE_DIR:=$(cd ../.. && pwd)}"
export KITH_SOURCE_DIR
: "${KITHD:?set KITHD to the kithd binary}"

command -v node >/dev/null || { echo "browser: node is missing (apt-get install nodejs npm)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "browser: node $(node --version) is too old; playwright-core needs node 20 or newer" >&2
    exit 1
fi
chromium=${KITH_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "browser: $chromium is missing (apt-get install chromium)" >&2; exit 1; }

# node_modules is made from the lock file; again when the lock file changed.
stamp=node_modules/.kith-lock
if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error >&2
    cp package-lock.json "$stamp"
fi

export KITH_BROWSER_ARTIFACTS=${KITH_BROWSER_ARTIFACTS:-$KITH_SOURCE_DIR/build/browser-artifacts}
mkdir -p "$KITH_BROWSER_ARTIFACTS"
if [ $# -eq 0 ]; then
    set -- ./*.test.mjs
fi
exec node --test --test-concurrency=2 --test-reporter=spec "$@"
