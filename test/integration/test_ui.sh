#!/bin/bash
# Browser tests of the web UI: Chromium (Debian's /usr/bin/chromium) driven
# by playwright-core against the real shieldd.  Node modules come from
# test/ui/package-lock.json (npm ci into the build dir, once); the test is
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

# Install the pinned playwright-core under the build dir (so build dirs never
# share or race on one node_modules) when it is missing or older than the
# lock file; npm ci never downloads a browser (playwright-core has none).
mods=$SHIELD_BUILD/ui-node
if [ ! -f "$mods/node_modules/playwright-core/package.json" ] ||
   ! cmp -s "$ui/package-lock.json" "$mods/package-lock.json"; then
	mkdir -p "$mods"
	cp "$ui/package.json" "$ui/package-lock.json" "$mods/"
	npm ci --no-audit --no-fund --loglevel=error --prefix "$mods" >/dev/null
fi
export SHIELD_UI_MODULES=$mods/node_modules

cd "$ui"
exec node ui.test.mjs
