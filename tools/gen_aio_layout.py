#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Prints agent/cpython/aio_layout_3_X.c: the layout of _asyncio's FutureObj,
TaskObj, future iterator, running-loop holder and module state and its future states
(Modules/_asynciomodule.c), of collections.deque (whose left end, moving at
every popleft, is an asyncio loop's heartbeat), of an async generator's
asend awaitable (what `async for` awaits: it leads to the generator) and of
select.epoll (whose fd is the loop's), none of them in any installed
header, read from DWARF with gdb (`ptype /o`, `print`).

    gen_aio_layout.py MINOR ASYNCIO_SO_OR_DEBUG INTERPRETER_OR_DEBUG SELECT_SO_OR_DEBUG

tools/gen-layouts.sh runs it for every installed pyenv CPython (`make
layouts`), and tests/test_layout.py compares its output with the committed
tables.
"""
import re
import subprocess
import sys

FIELD_RE = re.compile(r"/\*\s+(\d+)(?::\s*(\d+))?\s*\|\s*\d+\s*\*/\s+(.*?)\s*;")
OPEN_RE = re.compile(r"/\*\s+(\d+)\s*\|\s*\d+\s*\*/\s+(?:struct|union)\b.*\{\s*$")
CLOSE_RE = re.compile(r"^[\s/*]*\}\s*(\w+)\s*;")
VALUE_RE = re.compile(r"^\$\d+ = (-?\d+)$")
SEPARATOR = "--- gen_aio_layout ---"
BITFIELDS = ("fut_log_tb", "task_log_destroy_pending")   # bits of a word in 3.13


def gdb(path, commands):
    """The output of each command, all run by one gdb on path's DWARF (an
    unknown name is an error message there, not a failure)."""
    args = ["gdb", "-batch", "-nx"]
    for c in commands:
        args += ["-ex", c, "-ex", "echo %s\\n" % SEPARATOR]
    out = subprocess.run(args + [path], capture_output=True, text=True, check=True).stdout
    return out.split(SEPARATOR + "\n")[:len(commands)]


def parse_struct(out):
    """({field: (offset, bit or -1)}, total size); ({}, None) when absent."""
    fields, total, opened = {}, None, []
    for line in out.splitlines():
        # a member that is a struct (3.14's task_node): its offset is on
        # the line that opens it, its name on the one that closes it
        o, c = OPEN_RE.search(line), CLOSE_RE.search(line)
        if o:
            opened.append(int(o.group(1)))
        elif c and opened:
            fields[c.group(1)] = (opened.pop(), -1)
        m = FIELD_RE.search(line)
        if m:
            name = re.split(r"[\s*]+", m.group(3).split(":")[0].strip())[-1]
            fields[name] = (int(m.group(1)), int(m.group(2)) if m.group(2) else -1)
        t = re.search(r"total size \(bytes\):\s+(\d+)", line)
        if t:
            total = int(t.group(1))
    return (fields, total) if fields and total is not None else ({}, None)


def read_dwarf(path, structs, optional=(), values=()):
    """The structs (those in optional may be absent) and enum values of path."""
    names = list(structs) + list(optional)
    outs = gdb(path, ["ptype /o " + s for s in names] + ["print (int)" + v for v in values])
    found = {s: parse_struct(o) for s, o in zip(names, outs)}
    for s in structs:
        if found[s][1] is None:
            sys.exit(f"gen_aio_layout: no {s} in {path}")
    for v, o in zip(values, outs[len(names):]):
        m = VALUE_RE.match(o.strip())
        if not m:
            sys.exit(f"gen_aio_layout: no {v} in {path}")
        found[v] = int(m.group(1))
    return found


def emit(minor, path, interp_path, select_path):
    interp = read_dwarf(interp_path, ["dequeobject", "PyAsyncGenASend"])
    deque, asend = interp["dequeobject"][0], interp["PyAsyncGenASend"][0]
    aio = read_dwarf(path, ["FutureObj", "TaskObj", "futureiterobject"],
                     ["PyRunningLoopHolder", "asyncio_state"],
                     ["STATE_PENDING", "STATE_CANCELLED", "STATE_FINISHED"])
    epoll = read_dwarf(select_path, ["pyEpoll_Object"])["pyEpoll_Object"][0]
    (fut, fut_size), (task, task_size) = aio["FutureObj"], aio["TaskObj"]
    rows = []

    def offsets(struct, fields):
        """(table field, struct member) pairs; a bitfield member adds its bit."""
        for name, key in fields:
            off, bit = struct.get(key, (-1, -1))
            rows.append((name, off))
            if name in BITFIELDS:
                rows.append((name + "_bit", bit))

    offsets(fut, [(n, n) for n in ("fut_loop", "fut_callback0", "fut_callbacks", "fut_exception",
                                   "fut_exception_tb", "fut_result", "fut_source_tb", "fut_state",
                                   "fut_log_tb")] + [("fut_dict", "dict")])
    rows.append(("fut_size", fut_size))
    offsets(task, [(n, n) for n in ("task_fut_waiter", "task_coro", "task_name", "task_context",
                                    "task_log_destroy_pending", "task_node")])
    rows.append(("task_size", task_size))
    # 3.14+: tasks of other classes than _asyncio.Task, in the module state
    offsets(aio["asyncio_state"][0], [("state_non_asyncio_tasks", "non_asyncio_tasks"),
                                      ("state_non_asyncio_eager_tasks", "non_asyncio_eager_tasks")])
    offsets(deque, [("deque_leftblock", "leftblock"), ("deque_leftindex", "leftindex")])
    rows += [("fut_pending", aio["STATE_PENDING"]), ("fut_cancelled", aio["STATE_CANCELLED"]),
             ("fut_finished", aio["STATE_FINISHED"])]
    offsets(aio["futureiterobject"][0], [("futureiter_future", "future")])
    offsets(aio["PyRunningLoopHolder"][0], [("holder_loop", "rl_loop")])
    offsets(epoll, [("epoll_fd", "epfd")])
    offsets(asend, [("asend_gen", "ags_gen")])
    lines = ["/* SPDX-License-Identifier: GPL-2.0-only */",
             f"/* Generated by tools/gen_aio_layout.py from the DWARF of CPython 3.{minor}'s",
             " * _asyncio: do not edit; run `make layouts`. */",
             '#include "aio_layout.h"', "",
             f"const struct cpy_aio_layout cpy_aio_layout_3_{minor} = {{"]
    lines += [f"\t.{name} = {value}," for name, value in rows]
    lines.append("};")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.stdout.write(emit(*sys.argv[1:]))


if __name__ == "__main__":
    main()
