# SPDX-License-Identifier: GPL-2.0-only
"""A target that does what the agent's lints look for, each at a marked
line (the marker comment ends it; READY gives their numbers).

After READY and "go":
  --stalls K   K blocking time.sleep(--stall-ms) calls at one line (BLOCK),
               --gap-ms apart, printing {"event":"stall","duration_ms":F}
               for each and {"event":"stalls_done"} after the last
  --many N     N pending tasks of `crowd`, each waiting on an Event (CROWD)
  --grow       one more `grower` task every 0.2 s, forever
  --awaits     tasks that wait forever: `bare` with no timeout (BARE),
               `under_timeout` in async with asyncio.timeout() (3.11+),
               `under_wait_for` in asyncio.wait_for, `sleeper` in
               asyncio.sleep: only `bare` is a long-await
"""
import argparse
import asyncio
import json
import sys
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def markers():
    out = {}
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            for m in ("BLOCK", "CROWD", "BARE", "GUARDED"):
                if line.rstrip().endswith("# " + m):
                    out[m.lower() + "_line"] = n
    return out


async def crowd(ev):
    await ev.wait()  # CROWD


async def grower(ev):
    await ev.wait()


async def bare(ev):
    await ev.wait()  # BARE


async def under_timeout(ev):
    async with asyncio.timeout(3600):
        await ev.wait()  # GUARDED


async def under_wait_for(ev):
    await asyncio.wait_for(ev.wait(), 3600)


async def sleeper():
    await asyncio.sleep(3600)


async def stalls(args):
    for _ in range(args.stalls):
        await asyncio.sleep(args.gap_ms / 1000)
        t0 = time.monotonic()
        time.sleep(args.stall_ms / 1000)  # BLOCK
        emit({"event": "stall", "duration_ms": (time.monotonic() - t0) * 1e3})
    emit({"event": "stalls_done"})


async def grow(ev):
    while True:
        asyncio.create_task(grower(ev))
        await asyncio.sleep(0.2)


async def main(args):
    loop = asyncio.get_running_loop()
    sys.stdout.write("READY " + json.dumps(dict(markers(), file=__file__)) + "\n")
    sys.stdout.flush()
    await loop.run_in_executor(None, sys.stdin.readline)
    ev = asyncio.Event()
    keep = [asyncio.create_task(crowd(ev), name="crowd-%d" % i) for i in range(args.many)]
    if args.awaits:
        keep.append(asyncio.create_task(bare(ev), name="bare"))
        if sys.version_info >= (3, 11):
            keep.append(asyncio.create_task(under_timeout(ev), name="under_timeout"))
        keep.append(asyncio.create_task(under_wait_for(ev), name="under_wait_for"))
        keep.append(asyncio.create_task(sleeper(), name="sleeper"))
    if args.grow:
        keep.append(asyncio.create_task(grow(ev), name="grow"))
    if args.stalls:
        await stalls(args)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--stalls", type=int, default=0)
    ap.add_argument("--stall-ms", type=float, default=200)
    ap.add_argument("--gap-ms", type=float, default=300)
    ap.add_argument("--many", type=int, default=0)
    ap.add_argument("--grow", action="store_true")
    ap.add_argument("--awaits", action="store_true")
    asyncio.run(main(ap.parse_args()))
