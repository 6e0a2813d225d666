#!/bin/bash
# The manual pages in docs/man: each renders without a single groff warning,
# and each names every long option its program's --help lists (for shield,
# the help of every command too), so the pages and --help cannot drift apart.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SHIELD_SRC=${SHIELD_SRC:-$(cd "$here/../.." && pwd)}
SHIELD_BUILD=${SHIELD_BUILD:-$SHIELD_SRC/build}
man=$SHIELD_SRC/docs/man

if ! command -v groff >/dev/null; then
	echo "test_man: groff is not installed (contrib/deps.sh test installs it)" >&2
	exit 1
fi

fail=0
pages="shieldd.8 shield.1 shield-archive.1 shield-agent.8 shield-plugin.7"
for page in $pages; do
	if [ ! -f "$man/$page" ]; then
		echo "test_man: $page is missing" >&2
		fail=1
		continue
	fi
	# -ww: every warning, mdoc's own included; -z: only the diagnostics.
	warn=$(groff -mandoc -ww -z "$man/$page" 2>&1)
	if [ -n "$warn" ]; then
		echo "test_man: $page renders with warnings:" >&2
		echo "$warn" >&2
		fail=1
	fi
done

# The long options of a help text, one a line.
longopts() {
	grep -o -- '--[a-z][a-z-]*' | sort -u
}

# check PAGE: every option on stdin appears in PAGE as rendered.
check() {
	local page=$1 text opt
	text=$(LC_ALL=C groff -mandoc -Tascii -P-cbou "$man/$page" 2>/dev/null)
	while read -r opt; do
		if ! grep -q -- "$opt\\b" <<<"$text"; then
			echo "test_man: $page does not mention $opt" >&2
			fail=1
		fi
	done
}

"$SHIELD_BUILD/core/shieldd" --help | longopts | check shieldd.8
"$SHIELD_BUILD/core/agent/shield-agent" --help | longopts | check shield-agent.8
"$SHIELD_BUILD/archive/shield-archive" --help | longopts | check shield-archive.1

cli=$SHIELD_BUILD/api/cli/shield
# Each command of 'shield --help' ("list retention policies [--used ..."):
# its words up to the first argument, whose own help lists its options.
cmds=$("$cli" --help | sed -n '/^Commands:/,/^$/p' |
    sed -n 's/^  \([a-z][a-z ]*[a-z]\).*/\1/p' |
    sed 's/ [A-Z].*//')
[ -n "$cmds" ] || { echo "test_man: no commands in shield --help" >&2; exit 1; }
{
	"$cli" --help
	while read -r cmd; do
		# shellcheck disable=SC2086
		"$cli" help $cmd
	done <<<"$cmds"
} | longopts | check shield.1
text=$(LC_ALL=C groff -mandoc -Tascii -P-cbou "$man/shield.1" 2>/dev/null)
while read -r cmd; do
	if ! grep -q -- "$cmd" <<<"$text"; then
		echo "test_man: shield.1 does not describe '$cmd'" >&2
		fail=1
	fi
done <<<"$cmds"

# `cmake --install` puts every page where man(1) finds it under the prefix.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cmake --install "$SHIELD_BUILD" --prefix "$root" >/dev/null
for page in $pages; do
	name=${page%.*}
	got=$(MANPATH=$root/share/man man -w "${page##*.}" "$name" 2>/dev/null ||
	    true)
	if [ "$got" != "$root/share/man/man${page##*.}/$page" ]; then
		echo "test_man: $page is not installed under share/man" >&2
		fail=1
	fi
done

[ "$fail" -eq 0 ] && echo "test_man: ok"
exit "$fail"
