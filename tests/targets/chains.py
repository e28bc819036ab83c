# SPDX-License-Identifier: GPL-2.0-only
"""Tasks whose coroutine chains are hard to follow, for `ps`/`where`/`pstree`,
and a task that stalls its loop under a deep stack, for `stalls`.

    chains.py [--depth N] [--stall-depth N]

Tasks built (each parked for ever):
  deep-chain     N nested coroutines (--depth, default 300) down to asyncio.sleep
  agen-consumer  `async for` over an async generator that awaits asyncio.sleep
  acm-user       `async with` of an @asynccontextmanager whose generator
                 awaits Queue.get before its yield (so: inside __aenter__)
  agen-in-agen   `async for` over an async generator that itself runs an
                 `async for` over another, which awaits Event.wait
  connection-handler-for-client-17, -18: long names alike but at their end,
                 running WebSocketCommonProtocol-like methods alike but at theirs
READY {"python", "loop_tid", "tasks": {name: {"id", "chain"}}}: each chain,
innermost first, walked by the target itself through cr_await / ag_await
(and, from an asend awaitable, the async generator it runs, known here).

--stall-depth N: after "go" on stdin, a task named deep-stall recurses N
frames deep and blocks the loop there (time.sleep) three times, printing
{"event": "stall", "start", "duration_ms"} for each, then {"event": "done"}.
"""
import argparse
import asyncio
import contextlib
import inspect
import json
import sys
import threading
import time

AGENS = {}   # task name -> the async generators its asend awaitables run, in order


def func_name(code):
    return getattr(code, "co_qualname", code.co_name)


def chain_of(coro, agens):
    """The frames from coro down to the real wait, innermost first."""
    out, agens, obj = [], list(agens), coro
    for _ in range(100000):
        if type(obj).__name__ == "async_generator_asend":
            obj = agens.pop(0)
        if inspect.iscoroutine(obj):
            frame, nxt = obj.cr_frame, obj.cr_await
        elif inspect.isasyncgen(obj):
            frame, nxt = obj.ag_frame, obj.ag_await
        elif inspect.isgenerator(obj):
            frame, nxt = obj.gi_frame, obj.gi_yieldfrom
        else:
            break
        if frame is None:
            break
        out.append({"func": func_name(frame.f_code), "file": frame.f_code.co_filename,
                    "line": frame.f_lineno})
        obj = nxt
    return out[::-1]


async def deep(n):
    if n == 0:
        await asyncio.sleep(3600)
    else:
        await deep(n - 1)


async def ticks():
    while True:
        await asyncio.sleep(3600)
        yield 1


async def consume():
    async for _ in ticks_gen("agen-consumer", ticks()):
        pass


def ticks_gen(task_name, gen):
    AGENS.setdefault(task_name, []).append(gen)
    return gen


@contextlib.asynccontextmanager
async def resource(q):
    await q.get()
    yield q


async def use_resource():
    cm = resource(asyncio.Queue())
    AGENS["acm-user"] = [cm.gen]
    async with cm:
        pass


async def inner_gen(ev):
    await ev.wait()
    yield 1


async def outer_gen(ev):
    async for x in ticks_gen("agen-in-agen", inner_gen(ev)):
        yield x


async def nested_consume(ev):
    gen = outer_gen(ev)
    AGENS["agen-in-agen"] = [gen]  # outer_gen appends the generator it runs
    async for _ in gen:
        pass


class WebSocketCommonProtocolLike:
    async def transfer_data_from_client(self, ev):
        await ev.wait()

    async def transfer_data_to_client(self, ev):
        await ev.wait()


def recurse(n, ms):
    if n == 0:
        start = time.time()
        time.sleep(ms / 1000)  # STALL:deep
        return start
    return recurse(n - 1, ms)


async def deep_stall(n):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # "go"
    for _ in range(3):
        t0 = time.monotonic()
        start = recurse(n, 300)
        emit({"event": "stall", "start": start, "duration_ms": (time.monotonic() - t0) * 1000})
        await asyncio.sleep(0.3)
    emit({"event": "done"})


def emit(obj):
    print(json.dumps(obj), flush=True)


async def main(args):
    sys.setrecursionlimit(max(10000, args.stall_depth + 1000))
    loop = asyncio.get_running_loop()
    tasks = {"deep-chain": loop.create_task(deep(args.depth), name="deep-chain"),
             "agen-consumer": loop.create_task(consume(), name="agen-consumer"),
             "acm-user": loop.create_task(use_resource(), name="acm-user"),
             "agen-in-agen": loop.create_task(nested_consume(asyncio.Event()),
                                              name="agen-in-agen")}
    proto, ev = WebSocketCommonProtocolLike(), asyncio.Event()
    tasks["connection-handler-for-client-17"] = loop.create_task(
        proto.transfer_data_from_client(ev), name="connection-handler-for-client-17")
    tasks["connection-handler-for-client-18"] = loop.create_task(
        proto.transfer_data_to_client(ev), name="connection-handler-for-client-18")
    await asyncio.sleep(0.2)
    info = {"python": sys.version.split()[0], "loop_tid": threading.get_native_id(),
            "tasks": {n: {"id": "0x%x" % id(t), "chain": chain_of(t.get_coro(), AGENS.get(n, []))}
                      for n, t in tasks.items()}}
    emit_ready(info)
    if args.stall_depth:
        await loop.create_task(deep_stall(args.stall_depth), name="deep-stall")
    await asyncio.Event().wait()


def emit_ready(info):
    print("READY " + json.dumps(info), flush=True)


def run():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=300)
    ap.add_argument("--stall-depth", type=int, default=0)
    asyncio.run(main(ap.parse_args()))


if __name__ == "__main__":
    run()
