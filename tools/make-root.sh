#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Builds (or reuses) the Debian testing ("forky") root that the 3.14/3.15
# tests run their targets in: `tools/make-root.sh [DIR]`, default
# /var/cache/loopscope/forky. It is kept outside the clone so a second
# `make test` reuses it; it is rebuilt when a package is missing or it is
# over a week old. Prints nothing when the root is fresh; on failure the
# reason goes to DIR.failed, which the tests show when they skip.
set -u
DIR=${1:-/var/cache/loopscope/forky}
PKGS="python3.14 python3.15 python3.14-dbg python3.15-dbg libpython3.14-dev libpython3.15-dev python3-aiohttp python3-uvloop"
STAMP=$DIR/.loopscope-root

fail() { mkdir -p "$(dirname "$DIR")"; echo "$*" > "$DIR.failed"; echo "make roots: $*" >&2; exit 1; }

fresh() {
	[ -f "$STAMP" ] || return 1
	# A week: forky moves, and a stale root would test old patch releases.
	[ -z "$(find "$STAMP" -mtime +7)" ] || return 1
	for p in $PKGS; do
		chroot "$DIR" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || return 1
	done
}

# The machine's own Debian mirror (one-line or deb822 sources), never a
# hard-coded host: the first URI that serves a non-security suite.
mirror() {
	{
		cat /etc/apt/sources.list 2>/dev/null | awk '$1=="deb" && $0 !~ /security/ { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }'
		cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
			/^URIs:/ { u=$2 } /^Suites:/ { s=$2 }
			/^$/ { if (u!="" && u !~ /security/ && s !~ /security/) { print u; exit } u=""; s="" }
			END { if (u!="" && u !~ /security/ && s !~ /security/) print u }'
		cat /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1=="deb" && $0 ~ /debian/ && $0 !~ /security/ { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }'
	} | head -n 1
}

fresh && exit 0
command -v debootstrap >/dev/null || fail "debootstrap is not installed (make deps)"
[ "$(id -u)" = 0 ] || fail "building the root needs root"
MIRROR=$(mirror)
[ -n "$MIRROR" ] || fail "no Debian mirror found in /etc/apt/sources.list{,.d}"
SCRIPT=/usr/share/debootstrap/scripts/sid   # bookworm's debootstrap has no forky script
umount "$DIR/proc" 2>/dev/null
rm -rf "$DIR.new" "$DIR.failed"
mkdir -p "$DIR.new"
echo "make roots: debootstrap forky from $MIRROR into $DIR (about a minute)" >&2
if ! debootstrap --variant=minbase --include="$(echo $PKGS | tr ' ' ,)" \
		forky "$DIR.new" "$MIRROR" "$SCRIPT" > "$DIR.log" 2>&1; then
	tail -n 3 "$DIR.log" >&2
	rm -rf "$DIR.new"
	fail "debootstrap of forky from $MIRROR failed (see $DIR.log)"
fi
umount "$DIR/proc" 2>/dev/null
rm -rf "$DIR"
mv "$DIR.new" "$DIR"
date > "$STAMP"
fresh || fail "the root lacks one of: $PKGS"
