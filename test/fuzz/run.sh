#!/bin/sh
# Run one libFuzzer target as a test: usage run.sh FUZZER SEED_DIR.
#
# First every input of the seed corpus is run once: inputs that crashed a
# parser before are kept there, so this is the regression run.  Then the
# target fuzzes a scratch copy of the corpus for FUZZ_SECONDS (default 20),
# so the source tree is never written.  A crash, leak, timeout or runaway
# allocation fails the test and leaves the input in the current directory
# as NAME-crash-*, NAME-leak-*, NAME-timeout-* or NAME-oom-*.  What the code
# under test prints is discarded (sanitizer reports are not); FUZZ_ARGS adds
# libFuzzer options, e.g. -close_fd_mask=0 to see it.
set -eu

bin=$1
seeds=$2
secs=${FUZZ_SECONDS:-20}
name=$(basename "$bin")

if [ ! -x "$bin" ]; then
	echo "run.sh: $bin is not built (configure a tree with" \
	    "-DSHIELD_FUZZ=ON and CC=clang, build target fuzzers)" >&2
	exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/shield-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# What a fuzzer leaves in its TMPDIR goes with the scratch directory.
mkdir "$work/tmp"
export TMPDIR="$work/tmp"
# A parser may allocate in proportion to its input, never by what the input
# claims: one allocation over 256 MB is a finding.
opts="-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -close_fd_mask=3"

echo "== $name: the seed corpus, each input once"
# shellcheck disable=SC2086
"$bin" $opts ${FUZZ_ARGS:-} "$seeds"/*

echo "== $name: fuzzing for $secs s"
mkdir "$work/corpus"
cp "$seeds"/* "$work/corpus/"
# shellcheck disable=SC2086
"$bin" $opts ${FUZZ_ARGS:-} -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$PWD/$name-" "$work/corpus"
