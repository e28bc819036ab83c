# SPDX-License-Identifier: GPL-2.0-only
"""An asyncio loop starved by another thread holding the GIL in long C calls.

READY {"hog_tid": N, "loop_tid": N, "line": N} then, after "go" on stdin, the
hog thread makes a few ~0.3 s C calls (sum over a range: the GIL is never
released inside), printing {"event": "hog", "start": F, "duration_ms": F}
for each; {"event": "all_done"} at the end. The loop meanwhile ticks.
"""
import asyncio
import json
import sys
import threading
import time

go = threading.Event()


def line_of(marker):
    with open(__file__) as f:
        return [i for i, l in enumerate(f, 1) if l.rstrip().endswith("# " + marker)][0]


def calibrate():
    """How many items make a ~0.3 s sum()."""
    n, t0 = 2_000_000, time.perf_counter()
    sum(range(n))
    return int(n * 0.3 / (time.perf_counter() - t0))


def hog(n, rounds):
    go.wait()
    for _ in range(rounds):
        time.sleep(0.3)
        wall, t0 = time.time(), time.monotonic()
        sum(range(n))  # HOG
        print(json.dumps({"event": "hog", "start": wall,
                          "duration_ms": (time.monotonic() - t0) * 1000}), flush=True)
    time.sleep(0.2)
    print(json.dumps({"event": "all_done"}), flush=True)


async def ticker():
    while True:
        await asyncio.sleep(0.005)


async def main():
    n = calibrate()
    t = threading.Thread(target=hog, args=(n, 3), name="hogger", daemon=True)
    t.start()
    while t.native_id is None:
        await asyncio.sleep(0.01)
    print("READY " + json.dumps({"hog_tid": t.native_id, "loop_tid": threading.get_native_id(),
                                 "line": line_of("HOG")}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    go.set()
    await ticker()


if __name__ == "__main__":
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    asyncio.run(main())
