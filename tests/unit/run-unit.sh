#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# `make check`: runs each unit-test binary given, prints its lines, then one
# total line. Exits 1 if any failed. No root needed.
passed=0 failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	if out=$("$bin" 2>&1); then status=ok; else status=fail; fi
	printf '%s\n' "$out" | sed "s/^/$name: /"
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^FAIL ')
	# A binary that crashed or exited non-zero without a FAIL line still fails.
	[ "$status" = fail ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p)) failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
