#!/bin/sh
# shield-agent-keys.sh: make the keys for a quick shield-agent setup with
# openssl: a private CA, a server certificate for an agent and a client
# certificate for the SHIELD core, all signed by that CA.  Run it again with
# another -n to add an agent: an existing CA in DIR is reused.
#
#   shield-agent-keys.sh [-n NAME] [-c CORE] [-d DAYS] DIR [HOST|IP ...]
#
# DIR gets ca.crt, ca.key (keep it offline), NAME.crt/NAME.key for the agent
# (default NAME "agent"; its certificate is valid for the HOSTs and IPs
# given, plus localhost, 127.0.0.1 and this machine's name) and
# CORE.crt/CORE.key for the core (default CORE "core").  Keys are mode 0600.
# Copy ca.crt and NAME.crt/NAME.key to the agent host, ca.crt and
# CORE.crt/CORE.key to the core, and point the agent plugin's agent_ca,
# client_cert and client_key at them.
set -eu

name=agent
core=core
days=825
usage() {
	echo "usage: shield-agent-keys.sh [-n NAME] [-c CORE] [-d DAYS] DIR" \
	    "[HOST|IP ...]" >&2
	exit 2
}
while getopts n:c:d:h opt; do
	case $opt in
	n) name=$OPTARG ;;
	c) core=$OPTARG ;;
	d) days=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
dir=$1
shift
case $name$core in
*/*|*..*) echo "shield-agent-keys.sh: NAME and CORE are file names" >&2
	exit 2 ;;
esac
command -v openssl >/dev/null 2>&1 ||
	{ echo "shield-agent-keys.sh: openssl is not installed" >&2; exit 1; }

mkdir -p "$dir"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Subject alternative names: what the core may call the agent.
san="DNS:localhost,IP:127.0.0.1"
host=$(hostname 2>/dev/null || true)
[ -n "$host" ] && san="$san,DNS:$host"
for h in "$@"; do
	case $h in
	*[!0-9.]*) case $h in
		*:*) san="$san,IP:$h" ;;	# IPv6
		*) san="$san,DNS:$h" ;;
		esac ;;
	*) san="$san,IP:$h" ;;
	esac
done

newkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
	chmod 600 "$1"
}

if [ ! -f "$dir/ca.key" ]; then
	newkey "$dir/ca.key"
	openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
	    -subj "/CN=SHIELD agent CA" \
	    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -out "$dir/ca.crt"
	echo "created the CA: $dir/ca.crt (keep $dir/ca.key offline)"
fi

# sign NAME CN EXTFILE: a key and a certificate signed by the CA.
sign() {
	newkey "$dir/$1.key"
	openssl req -new -key "$dir/$1.key" -subj "/CN=$2" \
	    -out "$tmp/$1.csr"
	openssl x509 -req -in "$tmp/$1.csr" -CA "$dir/ca.crt" \
	    -CAkey "$dir/ca.key" -CAcreateserial -CAserial "$tmp/serial" \
	    -days "$days" -sha256 -extfile "$3" -out "$dir/$1.crt" 2>/dev/null
	chmod 644 "$dir/$1.crt"
}

cat >"$tmp/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
cat >"$tmp/client.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EXT
sign "$name" "shield-agent $name" "$tmp/server.ext"
echo "created the agent certificate: $dir/$name.crt ($san)"
if [ ! -f "$dir/$core.key" ]; then
	sign "$core" "shield-core $core" "$tmp/client.ext"
	echo "created the core's client certificate: $dir/$core.crt"
fi
chmod 644 "$dir/ca.crt"
printf 'core fingerprint (authorized-client): %s\n' "$(openssl x509 \
    -in "$dir/$core.crt" -noout -fingerprint -sha256 | sed 's/.*=//')"
