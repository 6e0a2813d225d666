#!/bin/sh
# `make run`: start shieldd from the build tree on a local SQLite catalog,
# with a local fs store, and on a fresh catalog set up a demo (an fs target
# of a sample directory, a store, a schedule, a retention policy and a job)
# so a first backup and restore take one command each.  Ctrl-C stops it.
#
# Environment: SHIELD_LISTEN (default 127.0.0.1:8080), SHIELD_RUN_DIR
# (default ./run), SHIELD_ADMIN_PASSWORD (default: generated on first start).
set -eu

build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
run=${SHIELD_RUN_DIR:-$top/run}
listen=${SHIELD_LISTEN:-127.0.0.1:8080}
url="http://$listen"
# The catalog, its master key, the admin password and the archives live
# here: private to this user whatever the umask (shieldd makes its own
# files 0600).
mkdir -p "$run"
chmod 700 "$run"
mkdir -p "$run/store" "$run/demo-data"
fresh=0
[ -f "$run/shield.db" ] || fresh=1

"$top/$build/core/shieldd" --listen "$listen" --db "$run/shield.db" \
    --plugins "$top/$build/plugins/bin" --web "$top/api/web" \
    2>>"$run/shieldd.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit 0' INT TERM

i=0
until curl -sf "$url/v1/ping" >/dev/null 2>&1; do
	if ! kill -0 $pid 2>/dev/null; then
		echo "shieldd did not start:" >&2
		tail -5 "$run/shieldd.log" >&2
		exit 1
	fi
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "shieldd did not answer" >&2; exit 1; }
	sleep 0.1
done

pwfile="$run/shield.db.admin-password"
if [ -n "${SHIELD_ADMIN_PASSWORD:-}" ]; then
	password=$SHIELD_ADMIN_PASSWORD
elif [ -f "$pwfile" ]; then
	password=$(cat "$pwfile")
else
	password="(the one you chose; the generated one was shown on first start)"
fi

# JSON value of KEY in the JSON on stdin.
field() {
	python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

if [ $fresh -eq 1 ] && [ -f "$pwfile" -o -n "${SHIELD_ADMIN_PASSWORD:-}" ]; then
	printf 'Welcome to SHIELD.\n' >"$run/demo-data/README.txt"
	date >"$run/demo-data/created-at.txt"
	mkdir -p "$run/demo-data/notes"
	printf 'some notes\n' >"$run/demo-data/notes/today.txt"
	token=$(curl -sf -X POST "$url/v1/auth/login" \
	    -d "{\"username\":\"admin\",\"password\":\"$password\"}" | field token)
	api() {
		curl -sf -X POST -H "Authorization: Bearer $token" \
		    "$url/v1/$1" -d "$2" | field uuid
	}
	t=$(api targets "{\"name\":\"demo-data\",\"summary\":\"the sample directory\",\"plugin\":\"fs\",\"endpoint\":{\"base_dir\":\"$run/demo-data\"}}")
	s=$(api stores "{\"name\":\"local\",\"summary\":\"archives on this machine\",\"plugin\":\"fs\",\"endpoint\":{\"base_dir\":\"$run/store\"}}")
	sc=$(api schedules '{"name":"nightly","summary":"every night at 4","when":"daily at 4am"}')
	r=$(api retention '{"name":"one week","summary":"keep 7 days","expires":604800}')
	api jobs "{\"name\":\"demo\",\"summary\":\"back up the sample directory\",\"target\":\"$t\",\"store\":\"$s\",\"schedule\":\"$sc\",\"retention\":\"$r\",\"paused\":false}" >/dev/null
	echo "Set up a demo job 'demo': $run/demo-data -> $run/store, daily at 4am."
fi

cat <<MSG

SHIELD is running at $url  (web UI and API; log: $run/shieldd.log)
Log in as:  admin / $password
Master key: $run/shield.db.key
  Copy it somewhere safe, off this machine: without it, encrypted archives
  cannot be restored.

Try it (shield CLI: $top/$build/api/cli/shield):
  export PATH=$top/$build/api/cli:\$PATH
  shield login --url $url --username admin
  shield run job demo --wait          # back up the demo directory now
  shield list archives
  shield restore archive <uuid> --wait
Or with curl:
  curl -s -X POST $url/v1/auth/login -d '{"username":"admin","password":"..."}'

Press Ctrl-C to stop.
MSG
wait $pid
