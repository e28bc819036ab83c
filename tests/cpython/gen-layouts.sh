#!/bin/sh
# Regenerates agent/cpython/layout_3_X.c from the headers of each CPython
# installed under pyenv (the tables are data; see layout_gen.c).
#   usage: tests/cpython/gen-layouts.sh [PREFIX ...]
set -e
cd "$(dirname "$0")/../.."
root="${PYENV_ROOT:-$HOME/.pyenv}"
[ $# -gt 0 ] || set -- "$root"/versions/3.1[0-3].*
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for prefix in "$@"; do
	inc=$(ls -d "$prefix"/include/python3.* | head -1)
	minor=$(basename "$inc" | sed 's/python3\.//')
	cc -DPy_BUILD_CORE -I"$inc" -I"$inc/internal" tests/cpython/layout_gen.c -o "$tmp/gen"
	"$tmp/gen" > "agent/cpython/layout_3_$minor.c"
	echo "agent/cpython/layout_3_$minor.c from $prefix"
done
