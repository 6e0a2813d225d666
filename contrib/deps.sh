#!/bin/sh
# Install what SHIELD needs on Debian 12, idempotently and quietly when all is
# present.  `deps.sh build` installs the toolchain and libraries; `deps.sh test`
# adds the real servers and tools the test suite drives.
set -eu

mode=${1:-build}

BUILD_PKGS="cmake make gcc pkg-config libevent-dev libsqlite3-dev libcjson-dev
uuid-dev libcmocka-dev libsodium-dev libzstd-dev libcurl4-openssl-dev libssl-dev
libarchive-dev
python3 curl ca-certificates tar"
# Client tools used by the data-system plugins at run time.
RUN_PKGS="postgresql-client mariadb-client redis-tools"
TEST_PKGS="postgresql mariadb-server redis-server rabbitmq-server
ceph-mon ceph-osd radosgw chromium valgrind wrk iproute2 procps openssl"
# test_man.sh renders the manual pages with groff and finds them with man.
TEST_PKGS="$TEST_PKGS groff-base man-db"
# The fuzzers: clang and its libFuzzer (libclang_rt.fuzzer-x86_64.a).
TEST_PKGS="$TEST_PKGS clang libclang-rt-14-dev"

case $mode in
build) want="$BUILD_PKGS $RUN_PKGS" ;;
test) want="$BUILD_PKGS $RUN_PKGS $TEST_PKGS" ;;
*) echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# Node.js (for the browser tests' playwright-core) may come from elsewhere with
# its own npm; only ask Debian for it when there is no npm at all.
if [ "$mode" = test ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
    $missing >/dev/null
