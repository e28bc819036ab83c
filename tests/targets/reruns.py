# SPDX-License-Identifier: GPL-2.0-only
"""asyncio.run() again and again in one thread, with blocking work between
the runs (no loop then: not a stall), and one real stall in each run.

    READY {"pid": N}
    {"event": "stall", "tid": N, "start": F, "duration_ms": F}   (in a run)
    {"event": "gap", "tid": N, "start": F, "duration_ms": F}     (between runs)
    {"event": "all_done"}

Waits for "go" on stdin first. --rounds N, --stall-ms, --gap-ms (the time
blocked between runs: alternately time.sleep and a CPU loop).
"""
import argparse
import asyncio
import json
import sys
import threading
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def record(event, wall, t0):
    emit({"event": event, "tid": threading.get_native_id(), "start": wall,
          "duration_ms": (time.monotonic() - t0) * 1000.0})


async def one_run(stall_ms):
    async def ticker():
        while True:
            await asyncio.sleep(0.005)
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    wall, t0 = time.time(), time.monotonic()
    time.sleep(stall_ms / 1000.0)           # a real stall: the loop runs
    record("stall", wall, t0)
    await asyncio.sleep(0.05)
    tick.cancel()


def between_runs(i, gap_ms):
    wall, t0 = time.time(), time.monotonic()
    if i % 2:
        time.sleep(gap_ms / 1000.0)
    else:
        end = t0 + gap_ms / 1000.0
        while time.monotonic() < end:
            pass
    record("gap", wall, t0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--stall-ms", type=float, default=150.0)
    p.add_argument("--gap-ms", type=float, default=250.0)
    args = p.parse_args()
    emit_ready = "READY " + json.dumps({"pid": threading.get_native_id()})
    sys.stdout.write(emit_ready + "\n")
    sys.stdout.flush()
    sys.stdin.readline()
    for i in range(args.rounds):
        asyncio.run(one_run(args.stall_ms))
        between_runs(i, args.gap_ms)
    emit({"event": "all_done"})
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
