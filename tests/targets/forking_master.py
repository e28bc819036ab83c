# SPDX-License-Identifier: GPL-2.0-only
"""A tiny pre-forking master (gunicorn's shape, stdlib only): it forks
--workers Python workers, each running an asyncio loop, then on "go"
replaces the oldest one every --every seconds, --replace times, and
prints a record per worker started ({"event":"worker","pid":N}) and
{"event":"done"}. A worker killed by someone else is reaped and not
replaced. Workers die with the master (PR_SET_PDEATHSIG)."""
import argparse
import asyncio
import ctypes
import json
import os
import signal
import sys
import time


def worker_main():
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(0)

    async def idle(i):
        while True:
            await asyncio.sleep(0.05 + i * 0.01)

    async def main():
        tasks = [asyncio.create_task(idle(i), name="idle-%d" % i) for i in range(5)]
        await asyncio.gather(*tasks)

    asyncio.run(main())


def fork_worker():
    pid = os.fork()
    if pid == 0:
        try:
            worker_main()
        finally:
            os._exit(0)
    print(json.dumps({"event": "worker", "pid": pid}), flush=True)
    return pid


def reap(workers):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        if pid in workers:
            workers.remove(pid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--replace", type=int, default=6)
    ap.add_argument("--every", type=float, default=0.8)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    workers = [fork_worker() for _ in range(args.workers)]
    print("READY {}", flush=True)
    sys.stdin.readline()
    try:
        for _ in range(args.replace):
            time.sleep(args.every)
            reap(workers)
            if workers:
                old = workers.pop(0)
                os.kill(old, signal.SIGTERM)
                os.waitpid(old, 0)
            workers.append(fork_worker())
        print(json.dumps({"event": "done"}), flush=True)
        while True:
            time.sleep(0.1)
            reap(workers)
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
