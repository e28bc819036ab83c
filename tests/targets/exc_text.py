# SPDX-License-Identifier: GPL-2.0-only
"""Tasks that die of exceptions nobody retrieves, each with a str() of its
own kind, for `loopscope watch`: OSError's errno/strerror/filename forms
(a real FileNotFoundError, a rename's two names, a refused connection),
KeyError's repr, several args as a tuple, no args, and a custom __str__.

After READY it waits for "go" on stdin, then for each task prints
{"event": "expect", "task", "exception"} with the exception's text as
Python itself renders it ("Type: str(exc)"), or "custom" true when its
__str__ cannot be run from outside, then drops the task; "done" ends.
Warnings and logging are silenced, so only loopscope can see them.
--py-task: asyncio's pure-Python _PyTask and _PyFuture make the tasks.
"""
import asyncio
import gc
import json
import logging
import os
import socket
import sys
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)


class CustomError(Exception):
    def __str__(self):
        return "rendered by a __str__ of its own"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def open_missing():
    open("/nonexistent-dir/x.txt")


async def rename_missing():
    os.rename("/nonexistent-a", "/nonexistent-b")


REFUSED_PORT = free_port()  # nothing listens there: one port, so both runs say the same


async def connect_refused():
    await asyncio.open_connection("127.0.0.1", REFUSED_PORT)


# one function each: watch shows one JSON event a second per raise site
async def two_args():
    raise ValueError("a", "b")


async def key():
    raise KeyError("user-42")


async def key_quote():
    raise KeyError("it's")


async def one_arg():
    raise ValueError("plain message")


async def no_args():
    raise RuntimeError()


async def mixed():
    raise RuntimeError(42, 1.5, None)


async def oserror_two():
    raise OSError(13, "Permission denied")


async def custom():
    raise CustomError("its arg")


CASES = [
    ("file-not-found", open_missing, False),
    ("rename", rename_missing, False),
    ("refused", connect_refused, False),
    ("two-args", two_args, False),
    ("key", key, False),
    ("key-quote", key_quote, False),
    ("one-arg", one_arg, False),
    ("no-args", no_args, False),
    ("mixed", mixed, False),
    ("oserror-two", oserror_two, False),
    ("custom", custom, True),
]


def text_of(exc):
    s = str(exc)
    return "%s: %s" % (type(exc).__name__, s) if s else type(exc).__name__


async def run_cases():
    for name, fn, custom in CASES:
        task = asyncio.get_running_loop().create_task(fn(), name=name)
        await asyncio.sleep(0.02)
        if not custom:
            try:
                await fn()
            except BaseException as e:  # a second run, rendered here: the
                text = text_of(e)       # task's own stays unretrieved
            print(json.dumps({"event": "expect", "task": name, "exception": text}), flush=True)
        else:
            print(json.dumps({"event": "expect", "task": name, "custom": True,
                              "type": "CustomError", "arg": "its arg"}), flush=True)
        del task
        gc.collect()
        await asyncio.sleep(0.02)


def main():
    if "--py-task" in sys.argv:  # what a program without _asyncio runs
        asyncio.tasks.Task = asyncio.tasks._PyTask
        asyncio.futures.Future = asyncio.futures._PyFuture
    print("READY " + json.dumps({"python": sys.version.split()[0]}), flush=True)
    sys.stdin.readline()
    asyncio.run(run_cases())
    print(json.dumps({"event": "done"}), flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
