#!/bin/bash
# A throwaway Redis for the tests (convention: test/integration/services.py).
#   redis.sh start DIR   start redis-server with its state under DIR on a free
#                        127.0.0.1 port, with a password; write DIR/env with
#                        PID, HOST, PORT and PASSWORD once it answers.
#   redis.sh stop DIR    stop it by PID and wait until it is gone.
# The config lives in a file so the password is not on the command line.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: redis.sh start|stop DIR" >&2
	exit 2
fi

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# Wait until a pid has exited; a zombie (state Z) counts as gone, because a
# server re-parented to an init that does not reap would otherwise hang us.
wait_gone() {
	local pid=$1 n=0
	while [ -d "/proc/$pid" ] &&
	    [ "$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ]; do
		n=$((n + 1))
		if [ "$n" -eq 200 ]; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.05
	done
}

case $cmd in
start)
	mkdir -p "$dir/data"
	dir=$(cd "$dir" && pwd)
	port=$(free_port)
	password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	umask 077
	cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
dir $dir/data
dbfilename dump.rdb
save ""
appendonly no
daemonize no
logfile $dir/redis.log
pidfile $dir/redis.pid
requirepass $password
repl-diskless-sync-delay 0
enable-debug-command local
CONF
	redis-server "$dir/redis.conf" </dev/null >>"$dir/redis.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 200); do
		if [ "$(REDISCLI_AUTH=$password redis-cli -h 127.0.0.1 -p "$port" \
		    ping 2>/dev/null)" = PONG ]; then
			printf 'PID=%s\nHOST=127.0.0.1\nPORT=%s\nPASSWORD=%s\n' \
			    "$pid" "$port" "$password" >"$dir/env"
			exit 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	echo "redis.sh: redis-server did not start; log:" >&2
	tail -20 "$dir/redis.log" >&2 || true
	kill -KILL "$pid" 2>/dev/null || true
	exit 1
	;;
stop)
	[ -f "$dir/env" ] || exit 0
	pid=$(sed -n 's/^PID=//p' "$dir/env")
	if [ -n "$pid" ]; then
		# save "" means SIGTERM does not write a dump on the way out.
		kill -TERM "$pid" 2>/dev/null || true
		wait_gone "$pid"
	fi
	;;
*)
	echo "usage: redis.sh start|stop DIR" >&2
	exit 2
	;;
esac
