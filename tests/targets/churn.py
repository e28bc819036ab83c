# SPDX-License-Identifier: GPL-2.0-only
"""A target whose tasks and stalls keep changing, for the TUI's live
view: --tasks N idle tasks named idle-N (each two coroutines deep, on an
Event), a new task named gen-K every 0.25 s that lives 1 s (so every
snapshot has names the one before had not), and with --stall-ms a
time.sleep of that long on the loop every 1.2 s. Prints READY
{"idle":N} once the idle tasks exist, then runs until killed."""
import argparse
import asyncio
import itertools
import json
import sys
import time


async def wait_on(ev):
    await ev.wait()


async def idle(ev):
    await wait_on(ev)


async def short_lived():
    await asyncio.sleep(1)


async def churn():
    for k in itertools.count():
        asyncio.create_task(short_lived(), name="gen-%d" % k)
        await asyncio.sleep(0.25)


async def stalls(ms):
    while True:
        await asyncio.sleep(1.2)
        time.sleep(ms / 1000)


async def main(args):
    ev = asyncio.Event()
    keep = [asyncio.create_task(idle(ev), name="idle-%d" % i) for i in range(args.tasks)]
    keep.append(asyncio.create_task(churn(), name="churn"))
    if args.stall_ms:
        keep.append(asyncio.create_task(stalls(args.stall_ms), name="staller"))
    await asyncio.sleep(0)
    sys.stdout.write("READY " + json.dumps({"idle": args.tasks}) + "\n")
    sys.stdout.flush()
    await ev.wait()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=0)
    ap.add_argument("--stall-ms", type=float, default=0)
    asyncio.run(main(ap.parse_args()))
