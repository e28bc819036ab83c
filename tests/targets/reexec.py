# SPDX-License-Identifier: GPL-2.0-only
"""An asyncio program that replaces itself with exec, keeping its PID.

    reexec.py [--next PYTHON] [--pause-ms MS]

READY {"pid": N, "python": S, "lines": {...}}, then after "go" on stdin: one
~250 ms time.sleep stall of the loop ({"event": "stall", "phase": 1, ...}),
then os.execv(PYTHON (default: this interpreter), [PYTHON, reexec.py,
"--phase", "2", "--pause-ms", MS]). The new program starts a loop and prints {"event":
"exec_ready", "python": S, "executable": S}, waits for a second "go", then MS ms
(default 300) later stalls its loop the same way ({"event": "stall", "phase": 2, ...}), calls a
coroutine it never awaits, lets a task fail with nobody retrieving its
exception ({"event": "lost", "kind": K, "line": N} for each), prints
{"event": "all_done"} and idles until killed. Stall records carry the
thread's id, wall-clock start, duration and the blocking line, as
stalls.py's do.
"""
import argparse
import asyncio
import gc
import json
import os
import sys
import threading
import time


def line_of(marker):
    with open(__file__) as f:
        return [i for i, l in enumerate(f, 1) if l.rstrip().endswith("# " + marker)][0]


LINES = {m: line_of(m) for m in ("STALL1", "STALL2", "NEVER", "RAISE")}


def emit(obj):
    print(json.dumps(obj), flush=True)


def wait_go():
    for line in sys.stdin:
        if line.strip() == "go":
            return
    os._exit(0)  # the test runner is gone


def record(phase, marker, start, t0):
    emit({"event": "stall", "phase": phase, "tid": threading.get_native_id(), "start": start,
          "duration_ms": (time.monotonic() - t0) * 1000, "file": __file__,
          "line": LINES[marker]})


def stall1():
    start, t0 = time.time(), time.monotonic()
    time.sleep(0.25)  # STALL1
    record(1, "STALL1", start, t0)


def stall2():
    start, t0 = time.time(), time.monotonic()
    time.sleep(0.25)  # STALL2
    record(2, "STALL2", start, t0)


async def forgotten():
    pass


async def failing():
    raise ValueError("lost after exec")  # RAISE


def lose_work():
    forgotten()  # NEVER
    gc.collect()
    emit({"event": "lost", "kind": "never_awaited", "line": LINES["NEVER"]})


async def ticker():
    while True:
        await asyncio.sleep(0.005)


async def phase1(nxt, pause_ms):
    tick = asyncio.ensure_future(ticker())
    print("READY " + json.dumps({"pid": os.getpid(), "python": sys.version.split()[0],
                                 "lines": LINES, "tid": threading.get_native_id()}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, wait_go)
    await asyncio.sleep(0.3)
    stall1()
    await asyncio.sleep(0.3)
    tick.cancel()
    sys.stdout.flush()
    os.execv(nxt, [nxt, __file__, "--phase", "2", "--pause-ms", str(pause_ms)])


async def phase2(pause_ms):
    tick = asyncio.ensure_future(ticker())
    emit({"event": "exec_ready", "python": sys.version.split()[0],
          "executable": sys.executable, "tid": threading.get_native_id()})
    await asyncio.get_running_loop().run_in_executor(None, wait_go)
    await asyncio.sleep(pause_ms / 1000)
    stall2()
    await asyncio.sleep(0.3)
    lose_work()
    task = asyncio.ensure_future(failing())
    await asyncio.sleep(0.1)
    del task
    gc.collect()
    emit({"event": "lost", "kind": "unretrieved_exception", "line": LINES["RAISE"]})
    await asyncio.sleep(0.5)
    emit({"event": "all_done"})
    await tick


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--next", default=sys.executable)
    p.add_argument("--phase", type=int, default=1)
    p.add_argument("--pause-ms", type=float, default=300)
    args = p.parse_args()
    asyncio.run(phase1(args.next, args.pause_ms) if args.phase == 1 else phase2(args.pause_ms))


if __name__ == "__main__":
    main()
