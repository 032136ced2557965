#!/usr/bin/env bash
# Makes sure the web UI's browser test (server/ui_e2e_test.go, driving
# web/e2e/ui.mjs) has what it needs: Debian's Chromium (installed with
# apt-get when /usr/bin/chromium is missing), Node, and web/node_modules
# (npm ci from the committed package-lock.json when missing). `make test`
# runs it, then runs the tests with WEIR_REQUIRE_BROWSER=1, so a piece
# that could not be installed fails the browser test instead of skipping
# it. Safe to run again.
set -uo pipefail
cd "$(dirname "$0")/.."

note() { echo "test-browser: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_install() { # package...
	have apt-get || return 1
	note "installing $* with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1; }
}

[ -x /usr/bin/chromium ] || apt_install chromium || note "could not install chromium (the browser test will fail and say so)"
have node || apt_install nodejs npm || note "could not install node (the browser test will fail and say so)"
if [ ! -d web/node_modules/playwright-core ] && have npm; then
	note "npm ci in web/"
	(cd web && npm ci --no-audit --no-fund >/dev/null) || note "npm ci in web/ failed (the browser test will fail and say so)"
fi
exit 0
