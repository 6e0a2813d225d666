#!/bin/bash
# Browser tests of the web UI: Chromium (Debian's /usr/bin/chromium) driven
# by playwright-core against the real shieldd.  Node modules come from
# test/ui/package-lock.json (npm ci, once); the test itself is
# test/ui/ui.test.mjs, which starts and stops its own daemon.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SHIELD_SRC=${SHIELD_SRC:-$(cd "$here/../.." && pwd)}
SHIELD_BUILD=${SHIELD_BUILD:-$SHIELD_SRC/build}
SHIELD_PLUGINS=${SHIELD_PLUGINS:-$SHIELD_BUILD/plugins/bin}
export SHIELD_SRC SHIELD_BUILD SHIELD_PLUGINS
ui=$SHIELD_SRC/test/ui

for tool in node npm; do
	if ! command -v "$tool" >/dev/null; then
		echo "test_ui: $tool is not installed (contrib/deps.sh test installs it)" >&2
		exit 1
	fi
done
if [ ! -x /usr/bin/chromium ]; then
	echo "test_ui: /usr/bin/chromium is missing (contrib/deps.sh test installs it)" >&2
	exit 1
fi
if [ ! -x "$SHIELD_BUILD/core/shieldd" ] || [ ! -x "$SHIELD_PLUGINS/fs" ]; then
	echo "test_ui: build shieldd and the fs plugin first ($SHIELD_BUILD)" >&2
	exit 1
fi

# Install the pinned playwright-core when it is missing or older than the
# lock file; npm ci never downloads a browser (playwright-core has none).
stamp=$ui/node_modules/.package-lock.json
if [ ! -f "$ui/node_modules/playwright-core/package.json" ] ||
   [ "$ui/package-lock.json" -nt "$stamp" ]; then
	npm ci --no-audit --no-fund --loglevel=error --prefix "$ui" >/dev/null
fi

cd "$ui"
exec node ui.test.mjs
