#!/bin/bash
# A throwaway RabbitMQ node with the management plugin for the tests
# (convention: test/integration/services.py).
#   rabbitmq.sh start DIR   start a private epmd and one node with all state
#                           under DIR, AMQP and management on free 127.0.0.1
#                           ports; create an administrator with a random
#                           password; write DIR/env once the management API
#                           answers (PID, PIDS, HOST, AMQP_PORT, MGMT_PORT,
#                           URL, USER, PASSWORD, NODE; PIDS is
#                           comma-separated).
#   rabbitmq.sh stop DIR    stop the node and epmd by PID, wait until gone.
# The Debian wrappers in /usr/sbin switch to the rabbitmq user, whose HOME has
# another Erlang cookie; the scripts in /usr/lib/rabbitmq/bin run as the
# caller with HOME=DIR, so the cookie lives under DIR too.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: rabbitmq.sh start|stop DIR" >&2
	exit 2
fi
RMQ_BIN=${RMQ_BIN:-/usr/lib/rabbitmq/bin}

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# Wait until a pid has exited (a zombie counts as gone); KILL after ~20 s.
wait_gone() {
	local pid=$1 n=0
	while [ -d "/proc/$pid" ] &&
	    [ "$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ]; do
		n=$((n + 1))
		if [ "$n" -eq 400 ]; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.05
	done
}

# Kill the pids recorded so far (node VM first, then wrapper, then epmd).
stop_pids() {
	local p
	for p in "$@"; do
		[ -n "$p" ] || continue
		kill -KILL "$p" 2>/dev/null || true
		wait_gone "$p"
	done
}

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	amqp=$(free_port)
	mgmt=$(free_port)
	dist=$(free_port)
	epmd_port=$(free_port)
	node="shieldtest-$amqp@localhost"
	password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	export ERL_EPMD_PORT=$epmd_port ERL_EPMD_ADDRESS=127.0.0.1
	# A private epmd: otherwise erl starts a shared one on 4369 that
	# outlives the test.
	epmd -port "$epmd_port" -address 127.0.0.1 </dev/null \
	    >"$dir/epmd.log" 2>&1 &
	epmd_pid=$!
	echo '[rabbitmq_management].' >"$dir/enabled_plugins"
	cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$amqp
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt
log.console = false
log.file.level = info
CONF
	: >"$dir/rabbitmq-env.conf"
	# RABBITMQ_DIST_PORT defaults to the AMQP port + 20000, which can
	# be over 65535 for a random port: set it.
	env HOME="$dir" RABBITMQ_NODENAME="$node" \
	    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$amqp" \
	    RABBITMQ_DIST_PORT="$dist" \
	    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
	    RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
	    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
	    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
	    RABBITMQ_PID_FILE="$dir/pid" \
	    "$RMQ_BIN/rabbitmq-server" </dev/null >"$dir/stdout.log" 2>&1 &
	pid=$!
	# The partial env lets `stop` clean up even if we fail below.
	printf 'PID=%s\nPIDS=%s\n' "$pid" "$pid,$epmd_pid" >"$dir/env"
	api="http://127.0.0.1:$mgmt/api"
	ready=0
	for _ in $(seq 1 1200); do
		if curl -sf -u guest:guest "$api/overview" >/dev/null 2>&1; then
			ready=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$ready" -ne 1 ]; then
		echo "rabbitmq.sh: the node did not start; output:" >&2
		tail -30 "$dir/stdout.log" >&2 || true
		stop_pids "$(pgrep -P "$pid" -x beam.smp || true)" "$pid" \
		    "$epmd_pid"
		exit 1
	fi
	curl -sf -u guest:guest -X PUT -H 'content-type: application/json' \
	    "$api/users/admin" \
	    -d "{\"password\":\"$password\",\"tags\":\"administrator\"}"
	curl -sf -u guest:guest -X PUT -H 'content-type: application/json' \
	    "$api/permissions/%2F/admin" \
	    -d '{"configure":".*","write":".*","read":".*"}'
	beam=$(pgrep -P "$pid" -x beam.smp || true)
	umask 077
	cat >"$dir/env" <<ENV
PID=$pid
PIDS=${beam:+$beam,}$pid,$epmd_pid
HOST=127.0.0.1
AMQP_PORT=$amqp
MGMT_PORT=$mgmt
URL=http://127.0.0.1:$mgmt
USER=admin
PASSWORD=$password
NODE=$node
EPMD_PORT=$epmd_port
ENV
	;;
stop)
	[ -f "$dir/env" ] || exit 0
	pids=$(sed -n 's/^PIDS=//p' "$dir/env" | tr ',' ' ')
	pid=$(sed -n 's/^PID=//p' "$dir/env")
	beam=
	if [ -n "$pid" ]; then
		beam=$(pgrep -P "$pid" -x beam.smp || true)
	fi
	# A throwaway node: killing the VM is instant, a graceful stop
	# with the management plugin takes ~6 s.  The wrapper then exits.
	# shellcheck disable=SC2086
	stop_pids $beam $pids
	;;
*)
	echo "usage: rabbitmq.sh start|stop DIR" >&2
	exit 2
	;;
esac
