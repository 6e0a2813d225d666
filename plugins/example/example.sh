#!/bin/sh
#
# example: a complete SHIELD plugin written as a POSIX shell script, to show
# third-party authors that a plugin is just a program that follows the
# calling protocol (see plugins/PROTOCOL.md).  It is both a target and a
# store, and keeps everything in one directory named by the endpoint:
#
#   {"dir": "/path/to/dir"}
#
# As a target it backs up that directory with tar and restores it (into a
# new directory beside it, swapped in only when tar succeeded).  As a store
# it keeps each blob as a file under the directory, at a key of the form
# YYYY/MM/DD/YYYYmmddTHHMMSSZ-<random hex>.
#
# Limitation: to stay free of jq and python, the endpoint is read with sed.
# It must be a flat JSON object whose values are strings without escaped
# characters (no \" or \\ inside values).  A real plugin should use a JSON
# parser.
#
# Needs only what a fresh Debian 12 has: sh, tar, cat, mkdir, mv, rm, sed,
# date, od, sync.

set -u
umask 077

die() {
	echo "example: $*" >&2
	exit 1
}

# ep_get KEY: print the string value of KEY in the endpoint, if any.
ep_get() {
	printf '%s' "$ENDPOINT" | tr '\n' ' ' |
	    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"
}

# need_dir: set DIR from the endpoint, or fail.
need_dir() {
	DIR=$(ep_get dir)
	[ -n "$DIR" ] || die "dir is required"
	case $DIR in
	/*) ;;
	*) die "dir must be an absolute path" ;;
	esac
}

# need_key: refuse keys that would leave DIR.
need_key() {
	[ -n "$KEY" ] || die "$ACTION needs --key"
	case /$KEY/ in
	*/../*|*/./*|*//*) die "key $KEY is not a valid key" ;;
	esac
	case $KEY in
	/*) die "key $KEY is absolute" ;;
	esac
}

ACTION=${1:-}
[ $# -gt 0 ] && shift
ENDPOINT=
KEY=
while [ $# -gt 0 ]; do
	case $1 in
	--endpoint) [ $# -ge 2 ] || die "--endpoint needs a value"
		ENDPOINT=$2; shift 2 ;;
	--key) [ $# -ge 2 ] || die "--key needs a value"
		KEY=$2; shift 2 ;;
	*) die "unexpected argument $1" ;;
	esac
done

case $ACTION in
info)
	cat <<'JSON'
{
  "name": "Example Shell Plugin",
  "author": "SHIELD",
  "version": "1.0.0",
  "help": "Backs up, restores and stores into the directory named by dir.",
  "features": {"target": "yes", "store": "yes", "validate": "yes"},
  "fields": [
    {"name": "dir", "type": "path", "required": true, "label": "Directory",
     "help": "Absolute path of the directory to back up or store into."}
  ]
}
JSON
	exit 0
	;;
validate|backup|restore|store|retrieve|purge)
	[ -n "$ENDPOINT" ] || die "$ACTION needs --endpoint JSON"
	;;
*)
	echo "usage: example info|validate|backup|restore|store|retrieve|purge" \
	    "--endpoint JSON [--key KEY]" >&2
	exit 2
	;;
esac

case $ACTION in
validate)
	need_dir
	[ -d "$DIR" ] || die "dir $DIR does not exist or is not a directory"
	[ -w "$DIR" ] || die "dir $DIR is not writable"
	;;
backup)
	need_dir
	[ -d "$DIR" ] || die "dir $DIR is not a directory"
	exec tar -C "$DIR" -cf - .
	;;
restore)
	need_dir
	parent=$(dirname -- "$DIR")
	[ -d "$parent" ] || die "the parent of $DIR does not exist"
	tmp=$(mktemp -d "$parent/.example-restore.XXXXXX") ||
	    die "cannot create a directory beside $DIR"
	trap 'rm -rf -- "$tmp" "$tmp.old"' EXIT
	trap 'exit 1' HUP INT TERM
	# GNU tar refuses absolute names and ".." unless told otherwise.
	tar -C "$tmp" -xpf - || die "tar could not extract the archive"
	cat >/dev/null
	if [ -e "$DIR" ]; then
		mv -- "$DIR" "$tmp.old" || die "cannot move $DIR aside"
	fi
	if ! mv -- "$tmp" "$DIR"; then
		[ -e "$tmp.old" ] && mv -- "$tmp.old" "$DIR"
		die "cannot move the restored tree into $DIR"
	fi
	;;
store)
	need_dir
	day=$(date -u +%Y/%m/%d)
	KEY=$day/$(date -u +%Y%m%dT%H%M%SZ)-$(od -An -N16 -tx1 /dev/urandom |
	    tr -d ' \n')
	mkdir -p -- "$DIR/$day" || die "cannot create $DIR/$day"
	part=$DIR/$KEY.part
	trap 'rm -f -- "$part"' EXIT
	trap 'exit 1' HUP INT TERM
	cat >"$part" || die "cannot write $part"
	sync -- "$part" || die "cannot sync $part"
	mv -- "$part" "$DIR/$KEY" || die "cannot rename $part"
	sync -- "$DIR/$day" 2>/dev/null
	printf '{"key": "%s"}\n' "$KEY"
	;;
retrieve)
	need_dir
	need_key
	[ -f "$DIR/$KEY" ] || die "no blob at key $KEY"
	exec cat -- "$DIR/$KEY"
	;;
purge)
	need_dir
	need_key
	rm -f -- "$DIR/$KEY" || die "cannot remove key $KEY"
	;;
esac
exit 0
