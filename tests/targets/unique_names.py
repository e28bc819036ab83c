# SPDX-License-Identifier: GPL-2.0-only
"""Tasks named uniquely, by the hundred thousand, as a server that names
each request's task does: after READY and "go", --total tasks named
req-N-<pad> (a --pad long run of "x", so that names weigh), made in
batches of --batch every --every seconds, each living --life seconds in
asyncio.sleep. Then --last tasks named last-K-<pad> that wait on an Event
for good; prints {"event":"done","made":N,"last":[names]} and idles until
killed."""
import argparse
import asyncio
import json
import sys


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def request(life):
    await asyncio.sleep(life)


async def forever(ev):
    await ev.wait()


async def main(args):
    loop = asyncio.get_running_loop()
    pad = "x" * args.pad
    alive = set()
    emit_ready = {"pad": args.pad}
    sys.stdout.write("READY " + json.dumps(emit_ready) + "\n")
    sys.stdout.flush()
    await loop.run_in_executor(None, sys.stdin.readline)
    made = 0
    while made < args.total:
        for _ in range(min(args.batch, args.total - made)):
            t = asyncio.create_task(request(args.life), name="req-%d-%s" % (made, pad))
            alive.add(t)
            t.add_done_callback(alive.discard)
            made += 1
        await asyncio.sleep(args.every)
    while alive:
        await asyncio.sleep(0.1)
    ev = asyncio.Event()
    last = [asyncio.create_task(forever(ev), name="last-%d-%s" % (k, pad)) for k in range(args.last)]
    emit({"event": "done", "made": made, "last": [t.get_name() for t in last]})
    await ev.wait()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--total", type=int, default=200000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--every", type=float, default=0.05)
    ap.add_argument("--life", type=float, default=1.0)
    ap.add_argument("--pad", type=int, default=100)
    ap.add_argument("--last", type=int, default=20)
    asyncio.run(main(ap.parse_args()))
