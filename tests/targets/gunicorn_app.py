# SPDX-License-Identifier: GPL-2.0-only
"""An aiohttp hello-world for gunicorn's aiohttp worker, for `loopscope
agent --children` on a pre-forking master:

    gunicorn --chdir tests/targets gunicorn_app:app -k aiohttp.GunicornWebWorker -w 2
"""
from aiohttp import web


async def hello(request):
    return web.Response(text="hello")


app = web.Application()
app.router.add_get("/", hello)
