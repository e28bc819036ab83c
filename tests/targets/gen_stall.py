# SPDX-License-Identifier: GPL-2.0-only
"""An asyncio loop stalled by CPU-bound generator-heavy code at known lines.

READY {"loop_tid": N, "lines": {"chain": N, "json": N}, "depth": N} then,
after "go" on stdin, a few ~0.4 s stalls of each kind asked for (--kinds
chain,json), each printed as {"event": "stall", "kind": S, "start": F,
"duration_ms": F} once it ends; {"event": "all_done"} at the end.

- chain: a `yield from` chain DEPTH generators deep that yields at every
  step of its arithmetic, so the frame chain relinks every few hundred ns;
- json: json.dumps(doc, indent=2) of a deeply nested document with the
  pure-Python encoder (its _iterencode* generators; indent makes it that
  one before 3.13, the C encoder is switched off for 3.13+).
"""
import asyncio
import json
import sys
import threading
import time

DEPTH = 6
STALL_S = 0.4


def line_of(marker):
    with open(__file__) as f:
        return [i for i, l in enumerate(f, 1) if l.rstrip().endswith("# " + marker)][0]


def leaf(n):
    x = 0
    for i in range(n):
        x += i * i % 7
        yield x


def link(n, depth):
    if depth == 0:
        yield from leaf(n)
    else:
        yield from link(n, depth - 1)


def crunch(n):
    return sum(link(n, DEPTH))  # CHAIN


def nested_doc(levels):
    doc = {"leaf": list(range(20)), "name": "x" * 10}
    for i in range(levels):
        doc = {"level": i, "items": [doc, {"k": i}], "more": [doc]}
    return doc


def render(doc):
    # 3.13+ has the C encoder with indent too: the pure-Python one is the
    # generator-heavy case (as indent makes it before 3.13)
    json.encoder.c_make_encoder = None
    return json.dumps(doc, indent=2)  # JSON


def calibrate(fn, arg):
    """How big an argument makes fn take about STALL_S."""
    t0 = time.perf_counter()
    fn(arg)
    return max(1, int(arg * STALL_S / (time.perf_counter() - t0)))


def json_size():
    """The nesting depth of a document whose rendering takes about STALL_S
    (each level doubles the work)."""
    levels = 4
    while True:
        t0 = time.perf_counter()
        render(nested_doc(levels))
        if time.perf_counter() - t0 > STALL_S / 2 or levels > 30:
            return nested_doc(levels + 1)
        levels += 1


async def stalls(kinds, repeat, n, doc):
    for _ in range(repeat):
        for kind in kinds:
            await asyncio.sleep(0.2)
            wall, t0 = time.time(), time.monotonic()
            if kind == "chain":
                crunch(n)
            else:
                render(doc)
            print(json.dumps({"event": "stall", "kind": kind, "start": wall,
                              "duration_ms": (time.monotonic() - t0) * 1000}), flush=True)
    await asyncio.sleep(0.2)
    print(json.dumps({"event": "all_done"}), flush=True)


async def main():
    kinds = sys.argv[sys.argv.index("--kinds") + 1].split(",") if "--kinds" in sys.argv else ["chain"]
    n = calibrate(crunch, 20000) if "chain" in kinds else 0
    doc = json_size() if "json" in kinds else None
    print("READY " + json.dumps({"loop_tid": threading.get_native_id(), "depth": DEPTH,
                                 "lines": {"chain": line_of("CHAIN"), "json": line_of("JSON")}}),
          flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    await asyncio.create_task(stalls(kinds, 3, n, doc))


if __name__ == "__main__":
    asyncio.run(main())
