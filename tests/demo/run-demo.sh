#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# loopscope demo (`make demo`): starts a small aiohttp service that blocks its
# event loop now and then (tests/demo/app.py), a client that keeps it busy
# (tests/demo/client.py), and attaches loopscope to the service, so the stalls
# show up live. Ctrl-C stops it; DEMO_DURATION=S stops it after S seconds.
# Everything it started is stopped on exit, whichever way it ends.

# The loopscope command the demo runs against the service's PID: the live
# TUI (`top`) on a terminal, the `stalls` report when there is none.
if [ -t 0 ] && [ -t 1 ]; then DEMO_COMMAND="top"; else DEMO_COMMAND="stalls"; fi

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
LOOPSCOPE=${LOOPSCOPE:-$root/build/loopscope}
PYTHON=${DEMO_PYTHON:-/usr/bin/python3.11}
DURATION=${DEMO_DURATION:-}

die() { echo "run-demo: $*" >&2; exit 1; }

[ -x "$LOOPSCOPE" ] || die "$LOOPSCOPE is not built: run make first"
[ -x "$PYTHON" ] || die "$PYTHON not found (apt-get install python3.11, or make deps)"
"$PYTHON" -c 'import aiohttp' 2>/dev/null ||
	die "$PYTHON cannot import aiohttp (apt-get install python3-aiohttp, or make deps)"
if [ -n "$DURATION" ] && ! [[ "$DURATION" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
	die "DEMO_DURATION must be a number of seconds, not '$DURATION'"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/loopscope-demo.XXXXXX") || die "cannot create a temp dir"
app_pid='' client_pid='' ls_pid='' signalled=0

# Stops one process group we started (the app and the client each run in
# their own session, so gzip children of the app go with it).
stop_group() {
	local pid=$1 _
	[ -n "$pid" ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	trap - EXIT INT TERM
	if [ -n "$ls_pid" ] && kill -0 "$ls_pid" 2>/dev/null; then
		kill -TERM "$ls_pid" 2>/dev/null
		wait "$ls_pid" 2>/dev/null
	fi
	stop_group "$client_pid"
	stop_group "$app_pid"
	rm -rf "$work"
}
trap cleanup EXIT

# Ctrl-C or SIGTERM: before loopscope runs, just leave (cleanup runs on
# EXIT); while it runs, pass the signal on and let it print its summary.
on_signal() {
	if [ -n "$ls_pid" ]; then
		signalled=1
		kill "-$1" "$ls_pid" 2>/dev/null
	else
		if [ "$1" = INT ]; then exit 130; else exit 143; fi
	fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

setsid "$PYTHON" "$here/app.py" >"$work/app.out" 2>"$work/app.err" </dev/null &
app_pid=$!
port=
for _ in $(seq 150); do
	port=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$work/app.out")
	[ -n "$port" ] && break
	kill -0 "$app_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	cat "$work/app.err" >&2
	die "the demo service did not start"
fi

setsid "$PYTHON" "$here/client.py" --port "$port" >"$work/client.log" 2>&1 </dev/null &
client_pid=$!

rel=${LOOPSCOPE#"$root"/}
if [ -n "$DURATION" ]; then how="for $DURATION s"; else how="Ctrl-C to stop"; fi
cat <<EOF
loopscope demo
  service: PID $app_pid, http://127.0.0.1:$port (tests/demo/app.py, aiohttp on $PYTHON)
  load:    tests/demo/client.py, a few clients on 127.0.0.1
  The service blocks its event loop now and then: /users/{id} calls a synchronous
  "legacy DB" client on a cache miss, /report builds a big JSON document in the
  handler, /export runs gzip through subprocess.run. Each stall is one of those:
  when, for how long the loop was blocked, on-CPU vs off-CPU time, the system
  calls it was blocked in, and the Python line that held the loop.
  running: $rel $DEMO_COMMAND $app_pid   ($how)
EOF
if [ "$DEMO_COMMAND" = top ]; then
	echo "  In the view: 1-5 switch views (2: stalls), Enter opens one, ? help, q quits."
	sleep 2
fi

# stdin stays the terminal's (a background job would get /dev/null), so an
# interactive command can read keys.
if [ -n "$DURATION" ]; then
	timeout --foreground --preserve-status -s INT "$DURATION" \
		"$LOOPSCOPE" $DEMO_COMMAND "$app_pid" <&0 &
else
	"$LOOPSCOPE" $DEMO_COMMAND "$app_pid" <&0 &
fi
ls_pid=$!
while :; do
	signalled=0
	wait "$ls_pid"
	status=$?
	[ "$signalled" = 1 ] || break   # a trap cut the wait short: wait again
done
ls_pid=

if ! kill -0 "$app_pid" 2>/dev/null; then
	echo "run-demo: the demo service exited on its own:" >&2
	tail -n 20 "$work/app.err" >&2
	exit 1
fi
exit "$status"
