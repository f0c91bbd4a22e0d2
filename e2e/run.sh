#!/usr/bin/env bash
# Browser tests of the web console (e2e/*.test.mjs): installs the pinned npm
# dependencies (playwright-core only; it never downloads a browser), builds
# keygate once, and runs the tests with node's test runner in Debian's
# headless chromium. Where /usr/bin/chromium is missing the tests are skipped
# with a clear message, unless KEYGATE_REQUIRE_BROWSER=1 makes that a failure
# (CI installs chromium and sets it).
set -euo pipefail
cd "$(dirname "$0")"

CHROMIUM="${KEYGATE_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
	if [ "${KEYGATE_REQUIRE_BROWSER:-}" = "1" ]; then
		echo "browser tests FAILED: chromium not installed at $CHROMIUM and KEYGATE_REQUIRE_BROWSER=1" >&2
		echo "install it with: apt-get update && apt-get install -y chromium" >&2
		exit 1
	fi
	echo "browser tests skipped: chromium not installed (apt-get install -y chromium to run them)"
	exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	if [ "${KEYGATE_REQUIRE_BROWSER:-}" = "1" ]; then
		echo "browser tests FAILED: node and npm are needed" >&2
		exit 1
	fi
	echo "browser tests skipped: node or npm not installed"
	exit 0
fi

npm ci --no-audit --no-fund --loglevel=error

# The console is committed built (internal/ui/dist); check that it is the
# build of web/ as it stands, so a source change without a rebuild fails here.
npm --prefix ../web ci --no-audit --no-fund --loglevel=error
fresh="$(mktemp -d)"
(cd ../web && npx tsc --noEmit && npx vite build --logLevel error --outDir "$fresh" --emptyOutDir)
if ! diff -r "$fresh" ../internal/ui/dist >/dev/null; then
	echo "internal/ui/dist is not the build of web/: run 'go generate ./internal/ui' and commit the result" >&2
	diff -r "$fresh" ../internal/ui/dist | head -n 20 >&2 || true
	rm -rf "$fresh"
	exit 1
fi
rm -rf "$fresh"

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
(cd .. && go build -o "$bin/keygate" ./cmd/keygate)
export KEYGATE_BIN="$bin/keygate"

node --test --test-concurrency=1 .
