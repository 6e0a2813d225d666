#!/bin/sh
# run.sh BUILD_DIR [NAME ...] - run SHIELD's benchmarks (`make bench`).
#
# Runs test/bench/bench_NAME.py for each NAME (default: api scheduler fs s3
# postgres agent) against the binaries in BUILD_DIR, prints their markdown
# tables and writes them, with the date, the machine and the command, to
# BUILD_DIR/bench-results.md.  Progress goes to stderr.  A benchmark that
# fails is reported in the results and the others still run; the exit status
# is then 1.  The benchmarks make their ~1 GiB data set once and keep it
# under /tmp (see make-dataset.py); everything else they start is stopped
# and removed.  Tuning knobs (environment) are listed in each script's
# header; a full run takes about 15 minutes on 2 cores.
set -u

build=${1:-build}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" 2>/dev/null && pwd) || {
	echo "run.sh: no build directory ${1:-build}" >&2
	exit 2
}
[ -x "$build/core/shieldd" ] || {
	echo "run.sh: $build/core/shieldd is not built" >&2
	exit 2
}
names=${*:-api scheduler fs s3 postgres agent}
out=$build/bench-results.md
tmp=$(mktemp /tmp/shield-bench-results.XXXXXX)
trap 'rm -f "$tmp"' EXIT INT TERM

{
	echo "# SHIELD benchmark results"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- command: \`sh test/bench/run.sh $build${*:+ $*}\`"
	echo "- commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "- build: $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null)"
} >"$tmp"
cat "$tmp"

status=0
for name in $names; do
	script=$here/bench_$name.py
	if [ ! -f "$script" ]; then
		echo "run.sh: no benchmark $name" >&2
		status=1
		continue
	fi
	echo "run.sh: bench_$name ..." >&2
	start=$(date +%s)
	part=$(mktemp /tmp/shield-bench-part.XXXXXX)
	if python3 "$script" "$build" >"$part"; then
		rc=0
	else
		rc=$?
		status=1
	fi
	{
		echo
		echo "## $name"
		cat "$part"
		[ "$rc" -eq 0 ] || echo "bench_$name FAILED (exit $rc)"
		echo
		echo "_bench_$name took $(($(date +%s) - start)) s._"
	} | tee -a "$tmp"
	rm -f "$part"
done
cp "$tmp" "$out"
echo "run.sh: results in $out" >&2
exit $status
