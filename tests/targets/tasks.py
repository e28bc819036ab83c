# SPDX-License-Identifier: GPL-2.0-only
"""A target with a known set of asyncio tasks, for `loopscope ps/where/pstree`.

It builds idle workers on an Event, a gather tree, a TaskGroup and an
asyncio.timeout (3.11+), wait_for, shield, a direct `await task`, a chain of
three tasks, a semaphore with a queue of waiters, a Queue getter, and tasks
that finished or were cancelled (which must not be listed). Then a reporter
task prints the ground truth as `READY {...}`: asyncio.all_tasks() with each
task's id, name, coroutine and its own frame from get_stack(), and the
await edges it built (child name -> parent names).

    tasks.py [--uvloop] [--many N] [--cycle] [--dup] [--removed N]

--removed N: N more tasks that finish and are freed before READY, so that
the task WeakSet's table holds deleted (dummy) entries among live ones.
"""
import argparse
import asyncio
import gc
import json
import sys
import threading

EDGES = {}       # child task name -> [names of the tasks that await it]


def here(marker):
    with open(__file__) as f:
        return [i for i, l in enumerate(f, 1) if marker in l and "here(" not in l][0]


async def idle(ev):
    await ev.wait()


async def leaf(ev):
    await ev.wait()


async def sleeper():
    await asyncio.sleep(3600)


async def gather_parent(children):
    await asyncio.gather(*children)


async def taskgroup_parent(ev, names):
    async with asyncio.TaskGroup() as tg:
        for n in names:
            tg.create_task(leaf(ev), name=n)


async def timeout_user(inner):
    async with asyncio.timeout(3600):
        await inner


async def waitfor_parent(inner):
    await asyncio.wait_for(inner, 3600)


async def shield_parent(inner):
    await asyncio.shield(inner)


async def awaiter(t):
    await t


async def sem_holder(sem, ev):
    async with sem:
        await ev.wait()


async def sem_waiter(sem):
    async with sem:
        pass


async def queue_getter(q):
    await q.get()


async def quick():
    return 1


async def cycle_a():
    await CYCLE["b"]


async def cycle_b():
    await CYCLE["a"]


CYCLE = {}


def edge(child, parent):
    EDGES.setdefault(child, []).append(parent)


def task(coro, name):
    return asyncio.get_running_loop().create_task(coro, name=name)


async def build(args):
    ev = asyncio.Event()
    keep = []
    for i in range(3):
        keep.append(task(idle(ev), "worker-%d" % i))
    kids = [task(leaf(ev), "gather-child-%d" % i) for i in range(2)]
    keep.append(task(gather_parent(kids), "gather-parent"))
    for k in kids:
        edge(k.get_name(), "gather-parent")
    if sys.version_info >= (3, 11):
        names = ["tg-child-%d" % i for i in range(3)]
        keep.append(task(taskgroup_parent(ev, names), "tg-parent"))
        for n in names:
            edge(n, "tg-parent")
        inner = task(leaf(ev), "timeout-inner")
        keep.append(task(timeout_user(inner), "timeout-user"))
        edge("timeout-inner", "timeout-user")
    inner = task(leaf(ev), "waitfor-child")
    keep.append(task(waitfor_parent(inner), "waitfor-parent"))
    edge("waitfor-child", "waitfor-parent")
    inner = task(leaf(ev), "shield-child")
    keep.append(task(shield_parent(inner), "shield-parent"))
    edge("shield-child", "shield-parent")
    c = task(sleeper(), "chain-c")
    b = task(awaiter(c), "chain-b")
    keep.append(task(awaiter(b), "chain-a"))
    edge("chain-c", "chain-b")
    edge("chain-b", "chain-a")
    sem = asyncio.Semaphore(1)
    keep.append(task(sem_holder(sem, ev), "sem-holder"))
    await asyncio.sleep(0.05)
    keep += [task(sem_waiter(sem), "sem-waiter-%d" % i) for i in range(3)]
    keep.append(task(queue_getter(asyncio.Queue()), "queue-getter"))
    done = task(quick(), "done-task")
    cancelled = task(sleeper(), "cancelled-task")
    await asyncio.sleep(0.05)
    cancelled.cancel()
    if args.dup:
        keep += [task(idle(ev), "dup"), task(idle(ev), "dup")]
    if args.cycle:
        CYCLE["a"] = task(cycle_a(), "cycle-a")
        CYCLE["b"] = task(cycle_b(), "cycle-b")
    for i in range(args.many):
        keep.append(task(idle(ev), "many-%d" % i))
    if args.removed:
        gone = [task(quick(), "removed-%d" % i) for i in range(args.removed)]
        await asyncio.gather(*gone)
        del gone
        gc.collect()
    await asyncio.sleep(0.2)
    assert done.done() and cancelled.done()
    return keep + [done, cancelled]


def own_frame(t):
    stack = t.get_stack()
    if not stack:
        return None
    f = stack[-1]
    return {"func": getattr(f.f_code, "co_qualname", f.f_code.co_name),
            "file": f.f_code.co_filename, "line": f.f_lineno}


async def reporter(main_task):
    await asyncio.sleep(0.1)
    me = asyncio.current_task()
    tasks = []
    for t in asyncio.all_tasks():
        rec = {"id": "0x%x" % id(t), "name": t.get_name(),
               "coro": t.get_coro().__qualname__}
        if t is me:
            rec["frame"] = {"func": "reporter", "file": __file__, "line": here("REPORTER-PARK")}
        elif t is main_task:
            rec["frame"] = {"func": "main", "file": __file__, "line": here("MAIN-PARK")}
        else:
            rec["frame"] = own_frame(t)
        tasks.append(rec)
    info = {"python": sys.version.split()[0], "loop_tid": threading.get_native_id(),
            "loop_type": type(asyncio.get_running_loop()).__module__, "tasks": tasks,
            "edges": EDGES}
    print("READY " + json.dumps(info), flush=True)
    await asyncio.Event().wait()  # REPORTER-PARK


async def main(args):
    keep = await build(args)
    rep = task(reporter(asyncio.current_task()), "reporter")
    await asyncio.Event().wait()  # MAIN-PARK
    return keep, rep


def run():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--many", type=int, default=0)
    ap.add_argument("--cycle", action="store_true")
    ap.add_argument("--dup", action="store_true")
    ap.add_argument("--removed", type=int, default=0)
    args = ap.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()
    asyncio.run(main(args))


if __name__ == "__main__":
    run()
