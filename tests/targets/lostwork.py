# SPDX-License-Identifier: GPL-2.0-only
"""A target that commits asyncio's silent bugs on purpose, for `loopscope watch`.

After READY it waits for "go" on stdin, then for each bug prints what
loopscope should report ({"event": "expect", "kind": ..., "coro": ...,
"func": ..., "line": ...}) and commits it; "done" closes the run. Warnings
and logging are silenced, so only loopscope can see the bugs.

    lostwork.py [--repeat N [--pace-ms MS]] [--healthy N] [--sites N] [--spew S] [--uvloop] [--origin]

--repeat N: the first bug (a never-awaited coroutine at one line) N times,
each followed by a few garbage collections (~0.2 s), or with --pace-ms by
a sleep of MS ms only.

--origin: coroutine origin tracking on (sys.set_coroutine_origin_tracking_depth,
as asyncio's debug mode does), so loopscope can say where each was created.

--sites N: instead of the bugs, N never-awaited coroutines created at N
distinct lines (generated code), then {"event": "sites", "n": N}.
--spew S: for S seconds, thousands of never-awaited coroutines a second at
two lines (SPEW-A, SPEW-B), then {"event": "spewed", "a": N, "b": N}.
"""
import argparse
import asyncio
import gc
import json
import logging
import sys
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
QUALNAMES = sys.version_info >= (3, 11)


def line_of(marker):
    with open(__file__) as f:
        return [i for i, l in enumerate(f, 1) if l.rstrip().endswith("# " + marker)][0]


def expect(kind, coro, func, marker, defined=None, created=None, **extra):
    """defined: the coroutine function (its `async def` line); created: the
    marker of the line that creates the coroutine object."""
    rec = dict(event="expect", kind=kind, coro=coro, func=func, file=__file__,
               line=line_of(marker), **extra)
    if defined:
        rec["defined"] = defined.__code__.co_firstlineno
    if created:
        rec["created"] = line_of(created)
    print(json.dumps(rec), flush=True)


async def forgotten():
    pass


async def boom(msg):
    raise ValueError(msg)  # RAISE


async def never_resolved():
    await asyncio.get_running_loop().create_future()  # PARKED


async def parked_at_exit():
    await asyncio.get_running_loop().create_future()  # PARKED-AT-EXIT


async def boom_in_callback_task(msg):
    raise ValueError(msg)  # RAISE-CB


class Service:
    async def save(self):
        pass

    async def handle(self):
        self.save()  # NEVER-METHOD


def sync_callback():
    forgotten()  # NEVER-CALLBACK


def spawn_from_callback():
    asyncio.get_running_loop().create_task(
        boom_in_callback_task("raised in a task made by a callback"), name="callback-task")


async def settle():
    for _ in range(3):
        await asyncio.sleep(0.05)
        gc.collect()


async def bugs(repeat, pace_ms=None):
    for i in range(repeat):
        expect("never_awaited", "forgotten", "bugs", "NEVER-CORO", defined=forgotten,
               created="NEVER-CORO")
        forgotten()  # NEVER-CORO
        if pace_ms is None or i == repeat - 1:
            await settle()
        else:  # the coroutine was freed at once: no cycle for the collector
            await asyncio.sleep(pace_ms / 1000)
    expect("never_awaited", "Service.save", "Service.handle" if QUALNAMES else "handle",
           "NEVER-METHOD", defined=Service.save, created="NEVER-METHOD")
    await Service().handle()
    await settle()
    expect("never_awaited", "forgotten", "sync_callback", "NEVER-CALLBACK", defined=forgotten,
           created="NEVER-CALLBACK")
    asyncio.get_running_loop().call_soon(sync_callback)
    await settle()
    expect("unretrieved_exception", "boom", "boom", "RAISE", task="fire-and-forget",
           exception="ValueError: raised in a fire-and-forget task", defined=boom,
           created="CREATE-FF")
    asyncio.create_task(boom("raised in a fire-and-forget task"), name="fire-and-forget")  # CREATE-FF
    await settle()
    expect("unretrieved_exception", "boom_in_callback_task", "boom_in_callback_task", "RAISE-CB",
           task="callback-task",
           exception="ValueError: raised in a task made by a callback",
           defined=boom_in_callback_task)
    asyncio.get_running_loop().call_soon(spawn_from_callback)
    await settle()
    expect("destroyed_pending", "never_resolved", "never_resolved", "PARKED", task="dropped",
           defined=never_resolved, created="CREATE-DROPPED")
    asyncio.create_task(never_resolved(), name="dropped")  # CREATE-DROPPED
    await settle()


async def healthy(n):
    """Plenty of coroutines and tasks, all awaited, all results retrieved."""
    async def work(i):
        return i

    total = 0
    for i in range(n):
        total += await work(i)
    tasks = [asyncio.create_task(work(i)) for i in range(n // 10)]
    total += sum(await asyncio.gather(*tasks))
    return total


def shutdown_with_pending_task():
    """A loop closed while a task is still pending: destroyed at collection."""
    loop = asyncio.new_event_loop()
    expect("destroyed_pending", "parked_at_exit", "parked_at_exit", "PARKED-AT-EXIT",
           task="at-shutdown", defined=parked_at_exit)
    loop.create_task(parked_at_exit(), name="at-shutdown")
    loop.run_until_complete(asyncio.sleep(0.05))
    loop.close()
    gc.collect()


async def many_sites(n):
    """n never-awaited coroutines, each made on a line of its own, in
    batches of 100 (a burst of thousands would overflow the ring buffer)."""
    src = "async def c():\n    pass\n"
    for b in range(0, n, 100):
        src += "\ndef make_%d():\n" % b + "    c()\n" * min(100, n - b)
    ns = {}
    exec(compile(src, "<sites>", "exec"), ns)
    for b in range(0, n, 100):
        ns["make_%d" % b]()
        await asyncio.sleep(0.01)
    for _ in range(10):
        gc.collect()
        await asyncio.sleep(0.05)
    print(json.dumps({"event": "sites", "n": n}), flush=True)


async def spew(seconds):
    """Never-awaited coroutines as fast as a busy service could make them,
    in batches small enough for the ring buffer."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    made = {"a": 0, "b": 0}
    while loop.time() < end:
        for _ in range(25):
            forgotten()  # SPEW-A
            made["a"] += 1
        for _ in range(25):
            forgotten()  # SPEW-B
            made["b"] += 1
        await asyncio.sleep(0.005)
    gc.collect()
    await asyncio.sleep(0.2)
    print(json.dumps(dict(made, event="spewed", line_a=line_of("SPEW-A"), line_b=line_of("SPEW-B"))),
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--pace-ms", type=float, default=None)
    ap.add_argument("--healthy", type=int, default=0)
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--sites", type=int, default=0)
    ap.add_argument("--origin", action="store_true")
    ap.add_argument("--spew", type=float, default=0)
    args = ap.parse_args()
    if args.origin:
        sys.set_coroutine_origin_tracking_depth(8)
    if args.uvloop:
        import uvloop
        uvloop.install()
    print("READY " + json.dumps({"python": sys.version.split()[0]}), flush=True)
    sys.stdin.readline()
    if args.spew:
        asyncio.run(spew(args.spew))
    elif args.sites:
        asyncio.run(many_sites(args.sites))
    elif args.healthy:
        asyncio.run(healthy(args.healthy))
    else:
        asyncio.run(bugs(args.repeat, args.pace_ms))
        shutdown_with_pending_task()
    print(json.dumps({"event": "done"}), flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
