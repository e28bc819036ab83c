# SPDX-License-Identifier: GPL-2.0-only
"""A target with known Python stacks on several threads, for `loopscope dump`.

Threads park at known depths (recursion, methods, nested functions) in
Event.wait; a reporter thread then takes the ground truth with
sys._current_frames() while every other thread is parked, prints it as
READY {...}, and parks too. Options:
  --deep N      one more thread parked under N recursive frames
  --gil         one more thread holding the GIL in a long C call (sum(range))
  --asyncio     the main thread runs an asyncio loop whose running task
                blocks (time.sleep) so `dump` shows it as the running task
  --uvloop      the same with uvloop
"""
import argparse
import asyncio
import json
import sys
import threading
import time
import traceback

parked = threading.Event()      # never set: threads wait on it for ever
arrived = threading.Semaphore(0)
reported = threading.Event()    # set once the ground truth is printed


def func_name(frame):
    code = frame.f_code
    return getattr(code, "co_qualname", code.co_name)


def stack_of(frame):
    """Innermost first, as loopscope prints stacks."""
    out = []
    while frame is not None:
        out.append({"func": func_name(frame), "file": frame.f_code.co_filename,
                    "line": frame.f_lineno})
        frame = frame.f_back
    return out


def park():
    arrived.release()
    parked.wait()


def recurse(n):
    if n == 0:
        park()
    else:
        recurse(n - 1)


class Worker:
    def run(self, depth):
        def inner():
            recurse(depth)
        inner()


def deep_thread(n):
    sys.setrecursionlimit(n + 1000)
    recurse(n)


def gil_hog():
    reported.wait()
    while True:
        sum(range(10 ** 8))  # C calls: nobody else wants the GIL, it keeps it


def start(target, name, *args):
    t = threading.Thread(target=target, args=args, name=name, daemon=True)
    t.start()
    return t


def report(expected_threads, extra):
    """Waits until every parked thread is parked, then reports their stacks."""
    for _ in range(expected_threads):
        arrived.acquire()
    time.sleep(0.2)  # the last one to arrive is inside Event.wait by now
    frames = sys._current_frames()
    me = threading.get_ident()
    threads = []
    for t in threading.enumerate():
        if t.ident == me or t.ident not in frames or t.name in extra.get("skip", ()):
            continue
        threads.append({"tid": t.native_id, "name": t.name, "stack": stack_of(frames[t.ident])})
    info = dict(extra, pid=None, python=sys.version.split()[0], threads=threads,
                reporter_tid=threading.get_native_id())
    info.pop("skip", None)
    print("READY " + json.dumps(info), flush=True)
    reported.set()
    parked.wait()


async def blocking_task():
    arrived.release()
    while True:
        time.sleep(10)  # BLOCKING-LINE: the running task sits here


async def async_main():
    task = asyncio.create_task(blocking_task(), name="the-blocker")
    await task


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deep", type=int, default=0)
    ap.add_argument("--gil", action="store_true")
    ap.add_argument("--asyncio", action="store_true")
    ap.add_argument("--uvloop", action="store_true")
    args = ap.parse_args()
    if args.deep:
        threading.stack_size(512 * 1024 * 1024)
    count = 0
    for i, depth in enumerate((1, 5, 12)):
        start(Worker().run, "worker-%d" % i, depth)
        count += 1
    start(recurse, "plain-recursion", 3)
    count += 1
    if args.deep:
        start(deep_thread, "deep", args.deep)
        count += 1
    skip = []
    if args.gil:
        start(gil_hog, "gil-hog")
        skip.append("gil-hog")  # it starts its C calls after the report
    extra = {"skip": skip, "deep": args.deep, "gil": args.gil}
    if args.asyncio or args.uvloop:
        count += 1
        line = [i for i, l in enumerate(open(__file__), 1) if "BLOCKING-LINE" in l][0]
        extra.update(blocking_line=line, main_tid=threading.get_native_id())
        skip.append("MainThread")
        start(report, "reporter", count, extra)
        if args.uvloop:
            import uvloop
            uvloop.install()
        asyncio.run(async_main())
    else:
        start(report, "reporter", count + 1, extra)
        recurse(2)  # the main thread parks too


if __name__ == "__main__":
    main()
