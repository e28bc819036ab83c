# SPDX-License-Identifier: GPL-2.0-only
"""aiohttp hello-world server for bench/overhead.

Listens on 127.0.0.1 only, on a port the kernel picks, and prints
"READY <port>" on stdout once it accepts connections. No access log, so the
measured work is aiohttp's request handling and nothing else. Set
PYTHONASYNCIODEBUG=1 in its environment to run it in asyncio's debug mode.
"""
import asyncio
import signal
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, world")


async def main():
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("READY", port, "debug" if loop.get_debug() else "nodebug", flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
