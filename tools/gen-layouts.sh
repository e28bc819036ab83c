#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Regenerates the per-version tables into OUTDIR from CPythons installed
# under pyenv: layout_3_X.c from the version's headers (layout_gen.c) and
# aio_layout_3_X.c from the DWARF of its _asyncio, interpreter and select
# (gen_aio_layout.py). `make layouts` writes into agent/cpython;
# tests/test_layout.py writes into a temporary directory and compares.
#   usage: tools/gen-layouts.sh OUTDIR [PREFIX ...]
# Without a PREFIX: the newest pyenv build of every version that
# agent/cpython/versions.def lists.
set -e
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [PREFIX ...]" >&2; exit 2; }
out=$1
shift
root="${PYENV_ROOT:-$HOME/.pyenv}"
if [ $# -eq 0 ]; then
	for v in $(sed -n 's/^PY_VERSION(\([0-9]*\), *\([0-9]*\)).*/\1.\2/p' \
			"$here/../agent/cpython/versions.def"); do
		prefix=$(ls -d "$root/versions/$v".* 2>/dev/null | grep -E "/$v\.[0-9]+\$" | sort -V | tail -1)
		if [ -n "$prefix" ]; then
			set -- "$@" "$prefix"
		else
			echo "gen-layouts: no pyenv build of Python $v: its tables are kept" >&2
		fi
	done
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for prefix in "$@"; do
	inc=$(ls -d "$prefix"/include/python3.* | head -1)
	minor=$(basename "$inc" | sed 's/python3\.//')
	cc -DPy_BUILD_CORE -I"$inc" -I"$inc/internal" "$here/layout_gen.c" -o "$tmp/gen"
	"$tmp/gen" > "$out/layout_3_$minor.c"
	"${PYTHON:-python3}" "$here/gen_aio_layout.py" "$minor" \
		"$prefix"/lib/python3."$minor"/lib-dynload/_asyncio*.so \
		"$prefix/lib/libpython3.$minor.so.1.0" \
		"$prefix"/lib/python3."$minor"/lib-dynload/select*.so > "$out/aio_layout_3_$minor.c"
	echo "$out/layout_3_$minor.c, $out/aio_layout_3_$minor.c from $prefix"
done
