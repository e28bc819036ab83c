#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Regenerates the per-version tables into OUTDIR: layout_3_X.c from the
# version's headers (layout_gen.c) and aio_layout_3_X.c from the DWARF of
# its _asyncio, interpreter and select (gen_aio_layout.py). `make layouts`
# writes into agent/cpython; tests/test_layout.py writes into a temporary
# directory and compares.
#   usage: tools/gen-layouts.sh OUTDIR [SOURCE ...]
# A SOURCE is a pyenv prefix (.../versions/3.X.Y: shared libpython with
# symbols) or ROOT:3.X, a Debian root with python3.X, libpython3.X-dev
# (headers) and python3.X-dbg (DWARF by build id), as `make roots` builds.
# Without a SOURCE: the newest pyenv build of every version that
# agent/cpython/versions.def lists, else the Debian root of `make roots`.
set -e
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [SOURCE ...]" >&2; exit 2; }
out=$1
shift
root="${PYENV_ROOT:-$HOME/.pyenv}"
deb_root="${LOOPSCOPE_ROOT:-/var/cache/loopscope/forky}"
if [ $# -eq 0 ]; then
	for v in $(sed -n 's/^PY_VERSION(\([0-9]*\), *\([0-9]*\)).*/\1.\2/p' \
			"$here/../agent/cpython/versions.def"); do
		prefix=$(ls -d "$root/versions/$v".* 2>/dev/null | grep -E "/$v\.[0-9]+\$" | sort -V | tail -1)
		if [ -n "$prefix" ]; then
			set -- "$@" "$prefix"
		elif [ -x "$deb_root/usr/bin/python$v" ]; then
			set -- "$@" "$deb_root:$v"
		else
			echo "gen-layouts: no pyenv build nor Debian root of Python $v: its tables are kept" >&2
		fi
	done
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The DWARF of a stripped Debian file: its .debug by build id, in the root.
debug_of() {
	id=$(readelf -n "$2" 2>/dev/null | awk '/Build ID/ { print $3 }')
	dbg="$1/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug"
	if [ -n "$id" ] && [ -f "$dbg" ]; then echo "$dbg"; else echo "$2"; fi
}

# A module of a Debian build: its release-build .so, else the executable
# that has it built in (3.15's _asyncio, select).
deb_module() {
	so=$(ls "$1"/usr/lib/python3."$2"/lib-dynload/"$3".cpython-3"$2"-*.so 2>/dev/null | head -1)
	debug_of "$1" "${so:-$1/usr/bin/python3.$2}"
}

for src in "$@"; do
	case "$src" in
	*:3.*)
		r=${src%:*} minor=${src##*:3.}
		inc="$r/usr/include/python3.$minor"
		# pyconfig.h is under the root's multiarch include dir; the C
		# library's headers stay the host's (-idirafter)
		cflags="-idirafter $r/usr/include"
		set -- "$(deb_module "$r" "$minor" _asyncio)" \
			"$(debug_of "$r" "$r/usr/bin/python3.$minor")" "$(deb_module "$r" "$minor" select)"
		;;
	*)
		inc=$(ls -d "$src"/include/python3.* | head -1)
		minor=$(basename "$inc" | sed 's/python3\.//')
		cflags=
		set -- "$src"/lib/python3."$minor"/lib-dynload/_asyncio*.so \
			"$src/lib/libpython3.$minor.so.1.0" "$src"/lib/python3."$minor"/lib-dynload/select*.so
		;;
	esac
	cc -DPy_BUILD_CORE -I"$inc" -I"$inc/internal" $cflags "$here/layout_gen.c" -o "$tmp/gen"
	"$tmp/gen" > "$out/layout_3_$minor.c"
	"${PYTHON:-python3}" "$here/gen_aio_layout.py" "$minor" "$@" > "$out/aio_layout_3_$minor.c"
	echo "$out/layout_3_$minor.c, $out/aio_layout_3_$minor.c from $src"
done
