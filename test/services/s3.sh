#!/usr/bin/env bash
# A throwaway S3 server for the tests: a one-node Ceph cluster (one monitor,
# one OSD keeping its objects in memory, no manager) with a RADOS Gateway in
# front, everything under DIR and bound to 127.0.0.1 on free ports.  RGW is
# used rather than a lax S3 imitation because it checks SigV4 signatures,
# enforces the 5 MiB minimum part size and implements aborting and listing
# multipart uploads, like AWS.
#
#   s3.sh start DIR          start, create a user and a bucket, write DIR/env:
#                            PID PIDS MON_PID OSD_PID RGW_PID S3_HOST S3_PORT
#                            S3_ACCESS_KEY S3_SECRET_KEY S3_BUCKET S3_REGION
#                            S3_VHOST (a host name for virtual-host requests)
#   s3.sh stop DIR           stop every daemon it started, by PID, and wait
#   s3.sh gateway-start DIR  start the gateway again after it was killed (the
#                            cluster keeps running) and rewrite DIR/env
#
# Needs the Debian packages ceph-mon, ceph-osd and radosgw, plus curl and
# python3.  Works as root or any user; uses no systemd and no /var/lib/ceph.
# Environment: S3_READY_TIMEOUT (seconds per wait, default 60), S3_MEM_BYTES
# (the OSD's memory cap, default 4 GiB: a full memstore makes writes hang).
set -euo pipefail

prog=s3.sh
die() { echo "$prog: $*" >&2; exit 1; }

# A free TCP port on 127.0.0.1, as the kernel hands it out.
free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True while PID runs; a zombie (exited, not yet reaped by PID 1) counts as
# gone, which is why this does not use kill -0.
alive() {
	local st
	st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) ||
	    return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# True when PID is one of this cluster's daemons: it was given our ceph.conf.
ours() {
	[ -r "/proc/$1/cmdline" ] &&
	    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$D/ceph.conf"
}

# Poll a command every 0.2 s until it succeeds or the deadline passes.
wait_for() {
	local what=$1 deadline
	shift
	deadline=$(($(date +%s) + ${S3_READY_TIMEOUT:-60}))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] ||
		    die "timed out waiting for $what (logs in $D/log)"
		sleep 0.2
	done
}

# SIGTERM a daemon, SIGKILL it after 3 s, and wait until it is gone.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] && alive "$pid" && ours "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 30); do alive "$pid" || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	for i in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
	echo "$prog: pid $pid did not exit" >&2
}

# Stop the daemons in reverse start order: radosgw waits forever for a
# cluster that is already gone and then ignores SIGTERM.
stop_all() {
	local name
	for name in rgw osd mon; do
		[ -f "$D/run/$name.pid" ] && stop_pid "$(cat "$D/run/$name.pid")"
	done
	return 0
}

# Run a daemon in the foreground (-f) in the background, so its PID is $!.
# setsid keeps terminal signals of the caller away from it.
spawn() {
	local name=$1
	shift
	setsid "$@" -f </dev/null >>"$D/log/$name.out" 2>&1 &
	echo $! >"$D/run/$name.pid"
}

# A signed request with the test user's keys.  curl 7.88 does not send
# x-amz-content-sha256 itself, and RGW needs it for SigV4.
s3curl() {
	curl -sf -o /dev/null --max-time 10 --aws-sigv4 "aws:amz:$REGION:s3" \
	    --user "$ACCESS:$SECRET" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	    "$@"
}

# Start radosgw on RGW_PORT and wait until a signed request works.
start_gateway() {
	spawn rgw radosgw -c "$D/ceph.conf" -n client.rgw.a
	wait_for "radosgw on port $RGW_PORT" \
	    curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$RGW_PORT/"
}

# Write DIR/env for the test harness.
write_env() {
	local mon osd rgw
	mon=$(cat "$D/run/mon.pid")
	osd=$(cat "$D/run/osd.pid")
	rgw=$(cat "$D/run/rgw.pid")
	cat >"$D/env.tmp" <<EOF
PID=$rgw
PIDS="$rgw $osd $mon"
MON_PID=$mon
OSD_PID=$osd
RGW_PID=$rgw
S3_HOST=127.0.0.1
S3_VHOST=localhost
S3_PORT=$RGW_PORT
S3_ACCESS_KEY=$ACCESS
S3_SECRET_KEY=$SECRET
S3_BUCKET=$BUCKET
S3_REGION=$REGION
EOF
	chmod 600 "$D/env.tmp"
	mv "$D/env.tmp" "$D/env"
}

# On a failed start, stop whatever did start; keep the logs for a post mortem.
start_failed() {
	local rc=$?
	[ "$rc" -eq 0 ] && return 0
	stop_all
	echo "$prog: start failed; logs in $D/log" >&2
}

do_start() {
	D=$1
	mkdir -p "$D"
	D=$(cd "$D" && pwd)
	case $D in *[[:space:]]*) die "DIR must not contain spaces" ;; esac
	[ -e "$D/ceph.conf" ] && die "$D already holds a cluster"
	mkdir -p "$D/log" "$D/run" "$D/mon" "$D/osd"
	trap start_failed EXIT

	local mon_port fsid osd_uuid osd_key conf=$D/ceph.conf
	local ceph="ceph -c $conf --connect-timeout 10"
	mon_port=$(free_port)
	RGW_PORT=$(free_port)
	fsid=$(uuidgen)
	ACCESS=$(od -An -tx1 -N10 /dev/urandom | tr -d ' \n' | tr a-f A-F)
	SECRET=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
	BUCKET=shield-test
	REGION=us-east-1

	# A single OSD holds every copy; the monitor commits map changes every
	# 50 ms instead of every second, which makes radosgw's first start
	# (it creates its pools one by one) take seconds instead of 15.
	cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
ms bind msgr1 = false
keyring = $D/keyring
log file = $D/log/\$name.log
log to stderr = false
admin socket = $D/run/\$name.asok
run dir = $D/run
crash dir = $D/run
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1

[mon]
mon data = $D/mon
paxos propose interval = 0.05

[osd]
osd data = $D/osd
osd objectstore = memstore
memstore device bytes = ${S3_MEM_BYTES:-4294967296}

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $D/rgw
rgw dns name = localhost
# Deleted data would otherwise stay in the OSD's memory for two hours.
rgw gc obj min wait = 5
rgw gc processor period = 5
EOF
	{
		ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. \
		    --cap mon 'allow *'
		ceph-authtool "$D/keyring" --gen-key -n client.admin \
		    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *'
		ceph-authtool "$D/keyring" --gen-key -n client.rgw.a \
		    --cap mon 'allow rw' --cap osd 'allow rwx'
	} >>"$D/log/keyring.out"

	monmaptool --create --fsid "$fsid" \
	    --addv a "[v2:127.0.0.1:$mon_port]" "$D/monmap" \
	    >>"$D/log/keyring.out"
	ceph-mon -c "$conf" -i a --mkfs --monmap "$D/monmap" \
	    --keyring "$D/keyring" >>"$D/log/mon-mkfs.out" 2>&1
	spawn mon ceph-mon -c "$conf" -i a
	wait_for "ceph-mon" $ceph mon stat

	osd_uuid=$(uuidgen)
	osd_key=$(ceph-authtool --gen-print-key)
	printf '{"cephx_secret": "%s"}\n' "$osd_key" >"$D/osd-secret.json"
	$ceph osd new "$osd_uuid" -i "$D/osd-secret.json" >/dev/null
	ceph-authtool "$D/keyring" -n osd.0 --add-key "$osd_key" \
	    >>"$D/log/keyring.out"
	ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" \
	    >>"$D/log/osd-mkfs.out" 2>&1
	spawn osd ceph-osd -c "$conf" -i 0
	wait_for "the OSD" sh -c "$ceph osd stat | grep -q '1 up'"

	start_gateway
	radosgw-admin -c "$conf" user create --uid=shield \
	    --display-name=shield --access-key="$ACCESS" \
	    --secret="$SECRET" >/dev/null 2>>"$D/log/radosgw-admin.out"
	wait_for "a signed request" s3curl "http://127.0.0.1:$RGW_PORT/"
	s3curl -X PUT "http://127.0.0.1:$RGW_PORT/$BUCKET" ||
	    die "cannot create bucket $BUCKET"
	write_env
	trap - EXIT
}

# Read back what start chose, from DIR/env.
load_env() {
	D=$(cd "$1" && pwd) || die "no such directory: $1"
	[ -f "$D/ceph.conf" ] && [ -f "$D/env" ] ||
	    die "$D was not set up by $prog"
	RGW_PORT=$(sed -n 's/^S3_PORT=//p' "$D/env")
	ACCESS=$(sed -n 's/^S3_ACCESS_KEY=//p' "$D/env")
	SECRET=$(sed -n 's/^S3_SECRET_KEY=//p' "$D/env")
	BUCKET=$(sed -n 's/^S3_BUCKET=//p' "$D/env")
	REGION=$(sed -n 's/^S3_REGION=//p' "$D/env")
}

do_gateway_start() {
	load_env "$1"
	alive "$(cat "$D/run/rgw.pid")" && die "the gateway is running"
	start_gateway
	wait_for "a signed request" s3curl "http://127.0.0.1:$RGW_PORT/"
	write_env
}

do_stop() {
	[ -d "$1" ] || return 0
	D=$(cd "$1" && pwd)
	[ -f "$D/ceph.conf" ] || die "$D was not set up by $prog"
	stop_all
}

case "${1:-}:$#" in
start:2) do_start "$2" ;;
stop:2) do_stop "$2" ;;
gateway-start:2) do_gateway_start "$2" ;;
*) die "usage: $prog start|stop|gateway-start DIR" ;;
esac
