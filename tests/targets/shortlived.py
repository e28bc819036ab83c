# SPDX-License-Identifier: GPL-2.0-only
"""Tasks that live a few seconds and end, for the agent's history of
terminated tasks. After READY and "go": starts --tasks tasks named job-N,
each awaiting asyncio.sleep for 1.5 to 3 s in `job` (the line marked
SLEEP), some of them then raising or being cancelled, all kept referenced
until the target exits (so the agent's next snapshot sees them done), and
--dropped tasks named drop-N that finish the same way but are let go at
once (freed before any snapshot sees them done); prints
{"event":"task_finished","name":S,"how":"done"|"raised"|"cancelled"|"dropped"}
as each ends, {"event":"all_done"} after the last, then idles until killed.
Optionally stalls the loop once (--stall-ms, with time.sleep) first."""
import argparse
import asyncio
import json
import sys
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def job(i):
    await asyncio.sleep(1.5 + (i % 4) * 0.5)  # SLEEP
    if i % 5 == 3:
        raise ValueError("job %d failed" % i)


async def main(args):
    loop = asyncio.get_running_loop()
    emit_ready()
    await loop.run_in_executor(None, sys.stdin.readline)
    if args.stall_ms:
        t0 = time.monotonic()
        time.sleep(args.stall_ms / 1000)
        emit({"event": "stall", "duration_ms": (time.monotonic() - t0) * 1e3})
    tasks = [asyncio.create_task(job(i), name="job-%d" % i) for i in range(args.tasks)]
    for i in range(args.dropped):
        # i * 20: never a raising index, the shortest sleep; no reference kept
        asyncio.create_task(job(i * 20), name="drop-%d" % i).add_done_callback(
            lambda t: emit({"event": "task_finished", "name": t.get_name(), "how": "dropped"}))
    for i, t in enumerate(tasks):
        if i % 7 == 6:
            loop.call_later(1.2, t.cancel)
    for t in tasks:
        try:
            await t
            how = "done"
        except asyncio.CancelledError:
            how = "cancelled"
        except ValueError:
            how = "raised"
        emit({"event": "task_finished", "name": t.get_name(), "how": how})
    await asyncio.sleep(0.1)  # the dropped ones, which end first, have said so
    emit({"event": "all_done"})
    await asyncio.Event().wait()


def emit_ready():
    with open(__file__) as f:
        line = next(n for n, l in enumerate(f, 1) if l.rstrip().endswith("# SLEEP"))
    sys.stdout.write("READY " + json.dumps({"sleep_line": line, "file": __file__}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--dropped", type=int, default=0)
    ap.add_argument("--stall-ms", type=float, default=0)
    asyncio.run(main(ap.parse_args()))
