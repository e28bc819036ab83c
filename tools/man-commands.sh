#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Prints a help2man include file with a COMMANDS section: every subcommand's
# own --help, so `man loopscope` documents all of them (make install).
set -eu
bin=$1
echo '[COMMANDS]'
"$bin" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' |
while read -r cmd; do
	echo '.SS "loopscope '"$cmd"'"'
	echo '.nf'
	"$bin" "$cmd" --help | sed 's/\\/\\\\/g; s/^\./\\\&./'
	echo '.fi'
done
