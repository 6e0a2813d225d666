#!/bin/sh
# `make valgrind`: the unit tests and the daemon's API and task tests under
# valgrind's memcheck, on a build without sanitizers.  Any memory error or
# definite leak fails.  (The child and pipeline tests fork and exec on
# purpose and time real processes; they run under the sanitizers instead.)
set -eu
build=${1:-build-vg}
top=$(cd "$(dirname "$0")/.." && pwd)
vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
failed=0
passed=0
for t in "$build"/test/test_catalog "$build"/test/test_timespec \
    "$build"/test/test_scheduler "$build"/test/test_http \
    "$build"/test/test_task_kinds "$build"/test/test_tasklog \
    "$build"/test/test_conf "$build"/test/test_linesplit \
    "$build"/test/test_redact "$build"/test/test_utf8 \
    "$build"/test/test_log "$build"/test/test_throttle \
    "$build"/test/test_relay; do
	[ -x "$t" ] || continue
	if $vg "$t" >"$t.valgrind.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $(basename "$t") under valgrind"
	else
		failed=$((failed + 1))
		echo "FAIL $(basename "$t") under valgrind:"
		tail -30 "$t.valgrind.log"
	fi
done
for t in test_api test_tasks; do
	if SHIELD_VALGRIND=1 SHIELD_BUILD="$top/$build" SHIELD_SRC="$top" \
	    SHIELD_PLUGINS="$top/$build/plugins/bin" \
	    python3 "$top/test/integration/$t.py" >"$build/$t.valgrind.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $t with shieldd under valgrind"
	else
		failed=$((failed + 1))
		echo "FAIL $t with shieldd under valgrind:"
		tail -40 "$build/$t.valgrind.log"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
