# SPDX-License-Identifier: GPL-2.0-only
"""A target whose strings are built to break tools that print them: task
names with terminal escape sequences and newlines (one forges a `ps` row),
a lone surrogate (not encodable as UTF-8), a thread whose OS name is not
UTF-8, an exception message with escapes. Prints `READY {...}` with the
names as Python sees them; on "go" it stalls its loop for 300 ms in a task
with a hostile name and lets a task with a hostile exception be dropped,
printing {"event": "done"} after.

    hostile.py
"""
import asyncio
import ctypes
import gc
import json
import logging
import sys
import threading
import time
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

FORGED = "x\x1b]0;owned\x07\x1b[2J\nFAKE 0xdead Task-9 pending"
NAMES = [FORGED, "stall-\udc80", "bell\a\r\tend", "caf\u00e9 \u2603", "back\\slash"]
THREAD_NAME = "worker\x1b[31m\n"
OS_NAME = b"os\xff\x1b[2J"          # what /proc/PID/task/TID/comm will hold
MESSAGE = "bad\x1b]0;pwn\x07\nline \udcff"


def set_os_name(name):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0)  # PR_SET_NAME


def thread_main(ready):
    set_os_name(OS_NAME)
    ready.set()
    while True:
        time.sleep(3600)


async def idle(ev):
    await ev.wait()


async def stall_here():
    time.sleep(0.3)  # HOSTILE-STALL


async def raise_hostile():
    raise ValueError(MESSAGE)


def read_go():
    return sys.stdin.readline()


async def main():
    started = threading.Event()
    threading.Thread(target=thread_main, args=(started,), name=THREAD_NAME, daemon=True).start()
    started.wait()
    ev = asyncio.Event()
    tasks = [asyncio.get_running_loop().create_task(idle(ev), name=n) for n in NAMES]
    await asyncio.sleep(0.05)
    print("READY " + json.dumps({"names": NAMES, "thread": THREAD_NAME,
                                 "os_name": OS_NAME.decode("latin-1"), "message": MESSAGE,
                                 "tasks": ["0x%x" % id(t) for t in tasks]}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, read_go)
    await asyncio.sleep(0.3)
    await asyncio.get_running_loop().create_task(stall_here(), name=FORGED)
    t = asyncio.get_running_loop().create_task(raise_hostile(), name=NAMES[1])
    await asyncio.sleep(0.05)
    del t
    gc.collect()
    await asyncio.sleep(0.5)
    print(json.dumps({"event": "done"}), flush=True)
    await ev.wait()


asyncio.run(main())
