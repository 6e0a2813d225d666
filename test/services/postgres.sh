#!/bin/bash
# A throwaway PostgreSQL server for the tests, all its state under DIR.
#   postgres.sh start DIR   initdb + start on 127.0.0.1:<free port>, password
#                           auth for TCP; writes DIR/env (PID HOST PORT USER
#                           PASSWORD BINDIR) once it accepts connections.
#   postgres.sh stop DIR    fast shutdown by PID, wait until it is gone.
# initdb refuses to run as root, so as root the server runs as the `postgres`
# system user and DIR is handed to it.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: postgres.sh start|stop DIR" >&2
	exit 2
}

# The newest installed server's binaries (Debian keeps them off PATH).
bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ -z "$d" ]; then
		d=$(dirname "$(command -v pg_ctl || command -v initdb)")
	fi
	echo "$d"
}

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# Wait until a pid has exited.  The postmaster daemonizes, so PID 1 is its
# parent and may be slow to reap it: a zombie counts as gone.
wait_gone() {
	while [ -d "/proc/$1" ] &&
	    [ "$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null)" != Z ]; do
		sleep 0.05
	done
}

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	BIN=$(bindir)
	[ -x "$BIN/initdb" ] || { echo "postgres.sh: no initdb found" >&2; exit 1; }
	as=()
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		chmod 700 "$dir"
		as=(runuser -u postgres --)
	fi
	cd /tmp		# the server user must be able to read its cwd
	password=$(python3 -c 'import secrets;print("pw-" + secrets.token_hex(8))')
	pwfile="$dir/pwfile"
	( umask 077; printf '%s\n' "$password" >"$pwfile" )
	[ "${#as[@]}" -eq 0 ] || chown postgres: "$pwfile"
	"${as[@]}" "$BIN/initdb" -D "$dir/data" -U postgres -E UTF8 \
	    --locale=C.UTF-8 --no-sync --auth-local=trust \
	    --auth-host=scram-sha-256 --pwfile="$pwfile" \
	    >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	rm -f "$pwfile"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		if "${as[@]}" "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		    -w -t 60 -o "-p $port -k $dir -c listen_addresses=127.0.0.1 \
		    -c fsync=off -c full_page_writes=off" start \
		    </dev/null >/dev/null 2>&1; then
			break
		fi
		port=
	done
	[ -n "$port" ] || { cat "$dir/server.log" >&2; exit 1; }
	pid=$(head -1 "$dir/data/postmaster.pid")
	PGPASSWORD=$password "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 20
	cat >"$dir/env" <<ENV
PID=$pid
HOST=127.0.0.1
PORT=$port
USER=postgres
PASSWORD=$password
BINDIR=$BIN
ENV
	;;
stop)
	[ -f "$dir/env" ] || exit 0
	pid=$(sed -n 's/^PID=//p' "$dir/env")
	[ -n "$pid" ] || exit 0
	kill -INT "$pid" 2>/dev/null || exit 0	# SIGINT: fast shutdown
	wait_gone "$pid"
	;;
*)
	echo "usage: postgres.sh start|stop DIR" >&2
	exit 2
	;;
esac
