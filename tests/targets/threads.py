# SPDX-License-Identifier: GPL-2.0-only
"""A target with many threads, or with threads starting and ending all the
time, around one asyncio loop, for the thread walks of every command.

    threads.py --idle N          N threads parked on an Event, and a task
                                 named "spinner" that holds the loop
                                 (running, never awaiting) after "go"
    threads.py --churn           a thread that starts and ends short
                                 threads as fast as it can; the loop ticks

READY {"main_tid": N, "loop_tid": N, "threads": N}
"""
import argparse
import asyncio
import json
import threading
import time


def spin():
    n = 0
    while True:
        n += 1  # SPIN


async def spinner(go):
    await go.wait()
    spin()


def churn():
    while True:
        t = threading.Thread(target=int)
        t.start()
        t.join()


async def ticker():
    while True:
        await asyncio.sleep(0.001)


async def main(args):
    park = threading.Event()
    for i in range(args.idle):
        threading.Thread(target=park.wait, name="idle-%d" % i, daemon=True).start()
    if args.churn:
        threading.Thread(target=churn, name="churn", daemon=True).start()
    go = asyncio.Event()
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(ticker(), name="ticker")]
    if args.idle:
        tasks.append(loop.create_task(spinner(go), name="spinner"))
    print("READY " + json.dumps({"main_tid": threading.get_native_id(),
                                 "loop_tid": threading.get_native_id(),
                                 "threads": threading.active_count()}), flush=True)
    await loop.run_in_executor(None, input)
    go.set()
    await asyncio.gather(*tasks)


ap = argparse.ArgumentParser()
ap.add_argument("--idle", type=int, default=0)
ap.add_argument("--churn", action="store_true")
asyncio.run(main(ap.parse_args()))
