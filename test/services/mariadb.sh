#!/bin/bash
# A throwaway MariaDB (or MySQL-compatible) server for the tests, all its
# state under DIR.
#   mariadb.sh start DIR   install a datadir, start on 127.0.0.1:<free port>,
#                          create the superuser `shield` with a random
#                          password; writes DIR/env (PID HOST PORT USER
#                          PASSWORD) once it answers.
#   mariadb.sh stop DIR    SIGTERM by PID, wait until it is gone.
# --no-defaults comes first everywhere so /etc/mysql is never read.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: mariadb.sh start|stop DIR" >&2
	exit 2
}

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# Wait until a pid has exited; once this script is gone the server's parent
# is PID 1, which may be slow to reap it, so a zombie counts as gone.
wait_gone() {
	while [ -d "/proc/$1" ] &&
	    [ "$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null)" != Z ]; do
		sleep 0.05
	done
}

pick() {
	local c
	for c in "$@"; do
		command -v "$c" 2>/dev/null && return 0
	done
	return 1
}

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	server=$(pick mariadbd mysqld || ls /usr/sbin/mariadbd 2>/dev/null) || {
		echo "mariadb.sh: no mariadbd found" >&2
		exit 1
	}
	installdb=$(pick mariadb-install-db mysql_install_db)
	client=$(pick mariadb mysql)
	admin=$(pick mariadb-admin mysqladmin)
	user=$(id -un)
	# mariadb-install-db uses temporary tables in TMPDIR: two servers set up
	# at once must not share it.
	mkdir -p "$dir/tmp"
	export TMPDIR="$dir/tmp"
	"$installdb" --no-defaults --user="$user" --datadir="$dir/data" \
	    --auth-root-authentication-method=normal --skip-test-db \
	    >"$dir/install.log" 2>&1 || {
		cat "$dir/install.log" >&2
		exit 1
	}
	password=$(python3 -c 'import secrets;print("pw-" + secrets.token_hex(8))')
	pid=
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		"$server" --no-defaults --user="$user" --datadir="$dir/data" \
		    --port="$port" --bind-address=127.0.0.1 \
		    --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
		    --log-error="$dir/server.log" --skip-name-resolve \
		    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
		    --innodb-flush-log-at-trx-commit=2 \
		    </dev/null >/dev/null 2>&1 &
		pid=$!
		ok=
		for _ in $(seq 1 300); do
			if "$admin" --no-defaults -h127.0.0.1 -P"$port" -uroot \
			    --connect-timeout=1 ping >/dev/null 2>&1; then
				ok=1
				break
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$ok" ] && break
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
	done
	[ -n "$pid" ] || { cat "$dir/server.log" >&2; exit 1; }
	"$client" --no-defaults -h127.0.0.1 -P"$port" -uroot <<SQL
CREATE USER 'shield'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'shield'@'%' WITH GRANT OPTION;
ALTER USER 'root'@'localhost' IDENTIFIED BY '$password';
FLUSH PRIVILEGES;
SQL
	cat >"$dir/env" <<ENV
PID=$pid
HOST=127.0.0.1
PORT=$port
USER=shield
PASSWORD=$password
ENV
	;;
stop)
	[ -f "$dir/env" ] || exit 0
	pid=$(sed -n 's/^PID=//p' "$dir/env")
	[ -n "$pid" ] || exit 0
	kill -TERM "$pid" 2>/dev/null || exit 0
	wait_gone "$pid"
	;;
*)
	echo "usage: mariadb.sh start|stop DIR" >&2
	exit 2
	;;
esac
