# SPDX-License-Identifier: GPL-2.0-only
"""Loop threads that collide in loopscope's slot table.

The stall tracer keeps a loop thread in one of 4 slots from tid % 256
(LS_PROBES, LS_MAX_LOOPS in bpf/stall.h): of five loop threads whose tids
are equal mod 256, one finds no slot and is not tracked.

Starts threads one at a time, each exiting at once, until --threads of them
had tids equal mod 256 (the first one's residue); those stay, each waiting
in an epoll of its own and waking every 20 ms (the only epoll waits of the
process). Prints READY {"pid": N, "tids": [...]} and idles until stdin closes.
With --after-go it prints READY {"pid": N} first and starts the threads
once it reads "go" on stdin, then prints {"event": "threads", "tids": [...]}.
"""
import argparse
import json
import os
import queue
import select
import sys
import threading

SLOTS = 256


def waiter(residue, decided):
    """Stays (waiting in epoll) if its tid has the residue (any, for the first)."""
    tid = threading.get_native_id()
    keep = residue is None or tid % SLOTS == residue
    decided.put((tid, keep))
    if not keep:
        return
    ep = select.epoll()
    while True:
        ep.poll(0.02)


def colliding_threads(n):
    decided = queue.Queue()
    tids = []
    for _ in range(200 * SLOTS):
        if len(tids) == n:
            break
        t = threading.Thread(target=waiter, args=(tids[0] % SLOTS if tids else None, decided),
                             daemon=True)
        t.start()
        tid, keep = decided.get()
        if keep:
            tids.append(tid)
        else:
            t.join()
    if len(tids) < n:
        sys.exit("found only %d threads with equal tids mod %d" % (len(tids), SLOTS))
    return tids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=5)
    ap.add_argument("--after-go", action="store_true")
    args = ap.parse_args()
    if not args.after_go:
        tids = colliding_threads(args.threads)
        print("READY " + json.dumps({"pid": os.getpid(), "tids": tids}), flush=True)
    else:
        print("READY " + json.dumps({"pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        if args.after_go and line.strip() == "go":
            tids = colliding_threads(args.threads)
            print(json.dumps({"event": "threads", "tids": tids}), flush=True)


if __name__ == "__main__":
    main()
