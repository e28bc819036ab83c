# SPDX-License-Identifier: GPL-2.0-only
"""Load client for the loopscope demo service (tests/demo/app.py).

Keeps the service busy the way a handful of users would: a few browsing
sessions hit the quick routes and the cached /users/{id} profiles, a
dashboard asks for /report every few seconds, and a nightly-job stand-in
downloads /export now and then. Talks to 127.0.0.1 only. Runs until SIGINT
or SIGTERM (or --duration), then prints how many requests it made.
"""
import argparse
import asyncio
import collections
import random
import signal
import sys

import aiohttp

stats = collections.Counter()


async def get(session, base, path):
    try:
        async with session.get(base + path) as resp:
            await resp.read()
            stats["ok" if resp.status == 200 else "http_%d" % resp.status] += 1
    except (aiohttp.ClientError, asyncio.TimeoutError):
        stats["errors"] += 1
        await asyncio.sleep(0.5)                 # service not up yet, or going away


async def browser(session, base, seed):
    rnd = random.Random(seed)
    paths = ["/", "/health", "/items", "/items", "/users/1", "/users/2", "/users/3"]
    while True:
        await get(session, base, rnd.choice(paths))
        await asyncio.sleep(rnd.uniform(0.02, 0.06))


async def every(session, base, path, period, first):
    await asyncio.sleep(first)
    while True:
        await get(session, base, path)
        await asyncio.sleep(period)


async def main(args):
    base = "http://127.0.0.1:%d" % args.port
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        tasks = [asyncio.create_task(browser(session, base, seed)) for seed in range(args.browsers)]
        tasks.append(asyncio.create_task(every(session, base, "/report", 3.0, 1.0)))
        tasks.append(asyncio.create_task(every(session, base, "/export", 4.5, 2.2)))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), args.duration)
        except asyncio.TimeoutError:
            pass
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print("client: %s" % ", ".join("%s %d" % kv for kv in sorted(stats.items())), flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True, help="the service's port on 127.0.0.1")
    ap.add_argument("--browsers", type=int, default=4, help="concurrent browsing sessions (4)")
    ap.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    asyncio.run(main(ap.parse_args()))
    sys.exit(0)
