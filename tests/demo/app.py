# SPDX-License-Identifier: GPL-2.0-only
"""loopscope demo service: a small aiohttp shop API that blocks its event loop.

Most routes behave (they await), but three handlers do what real services do
by accident, and each blocks the whole event loop while it runs:

  GET /users/{id}   profiles are cached for a few seconds; on a cache miss the
                    handler calls a *synchronous* "legacy DB" client
                    (time.sleep stands in for its network round trip)
  GET /report       builds a sales report in the handler: a big json.dumps and
                    a SHA-256 over it, pure CPU in the loop thread
  GET /export       compresses a CSV export with `subprocess.run(["gzip"])`,
                    which waits for the child in the loop thread

Listens on 127.0.0.1 only, on a free port, and prints "READY <port>" on
stdout once it accepts connections. Run with Debian's /usr/bin/python3.11
(python3-aiohttp). tests/demo/client.py keeps it busy; tests/demo/run-demo.sh
runs both and attaches loopscope.
"""
import argparse
import asyncio
import hashlib
import json
import random
import signal
import subprocess
import sys
import time

from aiohttp import web

USER_CACHE_TTL = (4.0, 8.0) # seconds a profile stays cached (min, max)
REPORT_ROWS = 18000        # size of the report built in /report (~0.2 s of CPU)
EXPORT_ROWS = 140000       # rows of the CSV compressed in /export (~3 MB)


class LegacyDB:
    """A synchronous database client, the kind an async app inherits."""

    def __init__(self):
        self.rnd = random.Random(7)

    def fetch_user(self, user_id):
        # a blocking socket round trip to an old database server
        time.sleep(self.rnd.uniform(0.12, 0.28))
        return {"id": user_id, "name": "user%d" % user_id,
                "plan": ("free", "pro", "team")[user_id % 3]}


legacy_db = LegacyDB()
user_cache = {}            # id -> (expires_at, profile)


async def index(request):
    return web.json_response({"service": "loopscope demo shop",
                              "routes": ["/health", "/items", "/users/{id}",
                                         "/report", "/export"]})


async def health(request):
    return web.json_response({"ok": True})


async def items(request):
    await asyncio.sleep(0.005)                     # an async DB query: fine
    return web.json_response([{"sku": "A%03d" % i, "stock": i * 3 % 17} for i in range(20)])


def load_profile(user_id):
    now = time.monotonic()
    hit = user_cache.get(user_id)
    if hit and hit[0] > now:
        return hit[1]
    profile = legacy_db.fetch_user(user_id)        # blocks the event loop
    user_cache[user_id] = (now + legacy_db.rnd.uniform(*USER_CACHE_TTL), profile)
    return profile


async def user(request):
    return web.json_response(load_profile(int(request.match_info["id"])))


def build_report():
    rows = [{"order": i, "customer": "c%05d" % (i * 7919 % 10007),
             "items": [i % 13, i % 7, i % 5], "total": round(i * 1.37 % 997, 2),
             "tags": ["retail", "eu" if i % 2 else "us"]} for i in range(REPORT_ROWS)]
    doc = json.dumps({"rows": rows}, sort_keys=True, indent=2)
    digest = hashlib.sha256()
    for _ in range(20):                            # "sign" it, many times over
        digest.update(doc.encode())
    return {"rows": len(rows), "bytes": len(doc), "sha256": digest.hexdigest()}


async def report(request):
    return web.json_response(build_report())       # CPU-bound, in the loop


def make_export():
    rnd = random.Random(1)
    names = ("alice", "bob", "carol", "dave", "erin")
    return "".join("%d,%s,%d,%.2f\n" % (i, rnd.choice(names), rnd.randrange(100),
                                        rnd.random() * 1000)
                   for i in range(EXPORT_ROWS)).encode()


EXPORT_CSV = make_export()


def compress_export():
    done = subprocess.run(["gzip", "-6", "-c"], input=EXPORT_CSV,
                          capture_output=True, check=True)   # waits in the loop
    return done.stdout


async def export(request):
    data = compress_export()
    return web.Response(body=data, content_type="application/gzip")


async def main(port):
    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/items", items)
    app.router.add_get("/users/{id:\\d+}", user)
    app.router.add_get("/report", report)
    app.router.add_get("/export", export)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("READY", runner.addresses[0][1], flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free)")
    asyncio.run(main(ap.parse_args().port))
    sys.exit(0)
