# SPDX-License-Identifier: GPL-2.0-only
"""An asyncio program that stalls its own event loop on purpose.

Run by the tests with every target interpreter (CPython 3.10 to 3.13, stdlib
only; uvloop only when asked for). Protocol on stdout, one line each:

    READY {"pid": N, "loop_tids": [...], "markers": {...}, ...}
    {"event": "stall", "kind": K, "tid": N, "start": F, "duration_ms": F,
     "cpu_ms": F, "file": S, "line": N, "func": S, "loop": N, "seq": N}
    {"event": "done", "loop": N, "tid": N}
    {"event": "all_done"}

After READY the program waits for a line "go" on stdin (so the tracer can
attach first), then each loop runs its schedule: a healthy gap (normal async
activity), a stall, a gap, a stall... For every stall it prints what it
measured itself: the thread's native id, the wall-clock start (time.time()
just before the blocking call), the duration (time.monotonic() around the
blocking call), the thread's CPU time during it (time.thread_time(), which
also counts the little setup around it) and the file and line of the
blocking call. Line numbers come from the marker comments at the end of
those lines, never from constants.

After its schedule every loop keeps running its healthy background tasks
until the process is killed (or, with --exit-when-done, the process exits).

Modes:
  stalls   the schedule above (--kinds, --repeat, --stall-ms, --gap-ms)
  hang     one coroutine spins in a `while` loop for --hang-ms
  healthy  --tasks busy tasks (and --spin-tasks tasks that only yield), never
           stalling; prints its own worst loop lag every second, and each
           lag over 20 ms (the machine did not run it) as a "late" record
  exit     a stall during which another thread ends the process (os._exit)
  plain    no event loop at all: a time.sleep loop
--no-loop-ms M first spends M ms without any event loop (time.sleep steps)
before starting the loops (a process whose loop appears late).
--after-loop-ms M (with --exit-when-done, one loop): once the loop is closed,
the thread blocks M ms in time.sleep with no loop at all (not a stall), prints
{"event": "after_loop_done"}, then idles until killed.
"""
import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

KINDS = ("sleep", "cpu", "recv", "subprocess", "lock", "fifo", "syscalls")

_print_lock = threading.Lock()
GO = threading.Event()


def emit(obj):
    line = json.dumps(obj)
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def find_markers():
    """{name: line} for every code line ending in a STALL marker comment."""
    markers = {}
    rx = re.compile(r"^\s*[^#\s].*#\s*STALL:([a-z_]+)\s*$")
    with open(os.path.abspath(__file__), encoding="utf-8") as f:
        for lineno, text in enumerate(f, 1):
            m = rx.match(text)
            if m:
                if m.group(1) in markers:
                    raise SystemExit("duplicate marker %s" % m.group(1))
                markers[m.group(1)] = lineno
    return markers


MARKERS = find_markers()
FILE = os.path.abspath(__file__)


# --- the blocking calls: each returns (wall start, seconds blocked) ---------
# Each blocking call is alone on the line that carries its marker, so a
# stack sample taken during the stall names exactly that line.

def stall_sleep(ctx, ms):
    wall, t0 = time.time(), time.monotonic()
    time.sleep(ms / 1000.0)  # STALL:sleep
    return wall, time.monotonic() - t0


def stall_cpu(ctx, ms):
    n = 0
    wall, t0 = time.time(), time.monotonic()
    end = t0 + ms / 1000.0
    while time.monotonic() < end: n += 1  # STALL:cpu
    return wall, time.monotonic() - t0


def stall_recv(ctx, ms):
    a, b = ctx.sockpair
    timer = threading.Timer(ms / 1000.0, b.send, args=(b"x",))
    timer.daemon = True
    timer.start()
    wall, t0 = time.time(), time.monotonic()
    data = a.recv(1)  # STALL:recv
    took = time.monotonic() - t0
    assert data == b"x", data
    return wall, took


def stall_subprocess(ctx, ms):
    wall, t0 = time.time(), time.monotonic()
    subprocess.run([ctx.sleep_bin, "%.3f" % (ms / 1000.0)], check=True)  # STALL:subprocess
    return wall, time.monotonic() - t0


def stall_lock(ctx, ms):
    # ctx.lock is held by a helper thread (taken in prepare_lock)
    wall, t0 = time.time(), time.monotonic()
    ctx.lock.acquire()  # STALL:lock
    took = time.monotonic() - t0
    ctx.lock.release()
    return wall, took


def stall_fifo(ctx, ms):
    timer = threading.Timer(ms / 1000.0, os.write, args=(ctx.fifo_w, b"x"))
    timer.daemon = True
    timer.start()
    wall, t0 = time.time(), time.monotonic()
    data = os.read(ctx.fifo_r, 1)  # STALL:fifo
    took = time.monotonic() - t0
    assert data == b"x", data
    return wall, took


def stall_hang(ctx, ms):
    wall, t0 = time.time(), time.monotonic()
    end = t0 + ms / 1000.0
    while time.monotonic() < end: pass  # STALL:hang
    return wall, time.monotonic() - t0


def stall_exit(ctx, ms):
    """Blocks for ms, but a helper thread ends the process in the middle."""
    state = {}

    def killer():
        time.sleep(ctx.args.exit_after_ms / 1000.0)
        emit({"event": "exit", "kind": "exit", "tid": state["tid"], "start": state["wall"],
              "duration_ms": (time.monotonic() - state["t0"]) * 1000.0,
              "exit_at": time.time(), "file": FILE, "line": MARKERS["exit"]})
        os._exit(0)

    state["tid"] = threading.get_native_id()
    state["wall"], state["t0"] = time.time(), time.monotonic()
    threading.Thread(target=killer, daemon=True).start()
    time.sleep(ms / 1000.0)  # STALL:exit
    return state["wall"], time.monotonic() - state["t0"]


def stall_syscalls(ctx, ms):
    """CPU-bound, but a syscall per step: counts them in ctx.calls."""
    wall, t0 = time.time(), time.monotonic()
    end = t0 + ms / 1000.0
    while time.monotonic() < end: os.getppid(); ctx.calls += 1  # STALL:syscalls
    return wall, time.monotonic() - t0


STALLS = {
    "sleep": stall_sleep, "cpu": stall_cpu, "recv": stall_recv,
    "subprocess": stall_subprocess, "lock": stall_lock, "fifo": stall_fifo,
    "hang": stall_hang, "exit": stall_exit, "syscalls": stall_syscalls,
}


class LoopCtx:
    """Per-loop resources, made before the schedule starts."""

    def __init__(self, args, index):
        self.args = args
        self.index = index
        self.tid = threading.get_native_id()
        self.sockpair = socket.socketpair()
        self.sleep_bin = shutil.which("sleep") or "/bin/sleep"
        self.lock = threading.Lock()
        tmpdir = tempfile.mkdtemp(prefix="loopscope-fifo-")
        path = os.path.join(tmpdir, "fifo")
        os.mkfifo(path)
        # O_RDWR never blocks on open; reads block until the writer writes
        self.fifo_r = os.open(path, os.O_RDWR)
        self.fifo_w = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        # the open fds are all we need: nothing is left behind when killed
        os.unlink(path)
        os.rmdir(tmpdir)
        self.max_lag_ms = 0.0
        self.steps = 0
        self.stay = True        # after its schedule, keep the loop running

    def close(self):
        for s in self.sockpair:
            s.close()
        os.close(self.fifo_r)
        os.close(self.fifo_w)


def thread_sleeps(tid):
    """Whether thread tid waits in the kernel, but not on a futex (the GIL):
    past held.set(), it can only be so in its time.sleep, GIL released."""
    try:
        with open("/proc/self/task/%d/wchan" % tid) as f:
            wchan = f.read().strip()
    except OSError:
        return False
    return wchan not in ("", "0") and "futex" not in wchan


async def prepare_lock(ctx, ms):
    """Makes a helper thread hold ctx.lock for ms, without blocking the loop.
    Returns once the helper sleeps: until then it may hold the GIL, and the
    loop would wait for the GIL (not the lock) at the start of its stall."""
    held = threading.Event()
    tid = []

    def holder():
        with ctx.lock:
            tid.append(threading.get_native_id())
            held.set()
            time.sleep(ms / 1000.0)

    threading.Thread(target=holder, daemon=True).start()
    while not (held.is_set() and thread_sleeps(tid[0])):
        await asyncio.sleep(0.001)


async def background(ctx, lo_ms, hi_ms):
    """Normal async activity: short sleeps and a little work."""
    rnd = random.Random(ctx.index * 7919 + id(asyncio.current_task()))
    while True:
        await asyncio.sleep(rnd.uniform(lo_ms, hi_ms) / 1000.0)
        payload = {"n": sum(i * i for i in range(100)), "s": "x" * 32}
        json.loads(json.dumps(payload))
        ctx.steps += 1


async def spinner(ctx):
    """A task that only yields: the loop iterates as fast as it can."""
    while True:
        await asyncio.sleep(0)
        ctx.steps += 1


LATE_MS = 20.0   # a lag the lag monitor reports on its own (a "late" record)


async def lag_monitor(ctx, period_ms=10):
    """Measures the loop's own lag: how late a short sleep wakes up. A lag
    over LATE_MS (the machine did not run the loop meanwhile) is told with
    its wall-clock span: {"event": "late", "start": T, "duration_ms": F}."""
    while True:
        wall, t0 = time.time(), time.monotonic()
        await asyncio.sleep(period_ms / 1000.0)
        took = (time.monotonic() - t0) * 1000.0
        lag = took - period_ms
        if lag > ctx.max_lag_ms:
            ctx.max_lag_ms = lag
        if lag > LATE_MS:
            emit({"event": "late", "loop": ctx.index, "tid": ctx.tid, "start": wall,
                  "duration_ms": took})


async def wait_go():
    while not GO.is_set():
        await asyncio.sleep(0.01)


async def run_stall(ctx, kind, ms, seq):
    if kind == "lock":
        await prepare_lock(ctx, ms)
    ctx.calls = 0
    cpu0 = time.thread_time()
    wall, took = STALLS[kind](ctx, ms)
    cpu = time.thread_time() - cpu0
    emit({"event": "stall", "kind": kind, "tid": ctx.tid, "start": wall,
          "duration_ms": took * 1000.0, "cpu_ms": cpu * 1000.0, "cpu_scope": "thread",
          "calls": ctx.calls,
          "file": FILE, "line": MARKERS[kind],
          "func": STALLS[kind].__name__, "loop": ctx.index, "seq": seq})


async def loop_main(ctx):
    args = ctx.args
    n_bg = args.tasks if args.mode == "healthy" else args.bg_tasks
    lo, hi = (5.0, 50.0) if args.mode == "healthy" else (2.0, 20.0)
    bg = [asyncio.ensure_future(background(ctx, lo, hi)) for _ in range(n_bg)]
    if args.mode == "healthy":
        bg.append(asyncio.ensure_future(lag_monitor(ctx)))
        bg += [asyncio.ensure_future(spinner(ctx)) for _ in range(args.spin_tasks)]
    await asyncio.sleep(0)
    ctx.on_ready()
    await wait_go()
    if args.mode == "healthy":
        while True:
            await asyncio.sleep(1.0)
            emit({"event": "lag", "loop": ctx.index, "tid": ctx.tid,
                  "max_lag_ms": round(ctx.max_lag_ms, 3), "steps": ctx.steps})
    # loops in threads start their schedules staggered, so that their stalls
    # overlap partly rather than completely
    await asyncio.sleep(ctx.index * args.stagger_ms / 1000.0)
    if args.mode == "stalls":
        kinds = list(args.kinds)
        if args.rotate:  # loop i starts at kind i: threads differ at any moment
            r = ctx.index % len(kinds)
            kinds = kinds[r:] + kinds[:r]
        schedule = [k for _ in range(args.repeat) for k in kinds]
    elif args.mode == "hang":
        schedule = ["hang"]
    elif args.mode == "exit":
        schedule = ["exit"]
    else:
        raise SystemExit("unknown mode %s" % args.mode)
    ms = args.hang_ms if args.mode == "hang" else args.stall_ms
    for seq, kind in enumerate(schedule):
        await asyncio.sleep(args.gap_ms / 1000.0)
        await run_stall(ctx, kind, ms, seq)
    await asyncio.sleep(args.gap_ms / 1000.0)
    emit({"event": "done", "loop": ctx.index, "tid": ctx.tid})
    ctx.on_done()
    while ctx.stay and not args.exit_when_done:
        await asyncio.sleep(3600)
    for t in bg:
        t.cancel()


def new_loop(use_uvloop):
    if use_uvloop:
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run_loop(ctx):
    """Runs one loop in the calling thread until its schedule ends."""
    loop = new_loop(ctx.args.uvloop)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(loop_main(ctx))
    finally:
        loop.close()
        ctx.close()


def read_stdin():
    for line in sys.stdin:
        if line.strip() == "go":
            GO.set()
    # stdin closed: the test runner is gone, do not linger
    os._exit(0)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", default="stalls",
                   choices=["stalls", "hang", "healthy", "exit", "plain"])
    p.add_argument("--kinds", default=",".join(KINDS),
                   help="comma-separated stall kinds, from: " + ", ".join(KINDS))
    p.add_argument("--repeat", type=int, default=1, help="stalls of each kind per loop")
    p.add_argument("--stall-ms", type=float, default=200.0)
    p.add_argument("--gap-ms", type=float, default=300.0,
                   help="healthy activity before each stall")
    p.add_argument("--hang-ms", type=float, default=1500.0)
    p.add_argument("--exit-after-ms", type=float, default=300.0)
    p.add_argument("--threads", type=int, default=0,
                   help="run N independent loops in N threads (0: one loop, main thread)")
    p.add_argument("--stagger-ms", type=float, default=150.0)
    p.add_argument("--rotate", action="store_true",
                   help="loop i runs the kinds in an order rotated by i")
    p.add_argument("--uvloop", action="store_true")
    p.add_argument("--tasks", type=int, default=300, help="busy tasks in healthy mode")
    p.add_argument("--spin-tasks", type=int, default=0,
                   help="healthy mode: tasks that only `await asyncio.sleep(0)`")
    p.add_argument("--bg-tasks", type=int, default=10,
                   help="background tasks per loop in the other modes")
    p.add_argument("--no-loop-ms", type=float, default=0.0,
                   help="time without any event loop before the loops start")
    p.add_argument("--exit-when-done", action="store_true")
    p.add_argument("--sequential-loops", type=int, default=1,
                   help="one loop after the other in the main thread, each running the "
                        "schedule; an fd opened between them gives each its own epoll fd")
    p.add_argument("--after-loop-ms", type=float, default=0.0,
                   help="with --exit-when-done: time blocked without a loop after it closed")
    args = p.parse_args(argv)
    args.kinds = [k for k in args.kinds.split(",") if k]
    for k in args.kinds:
        if k not in KINDS:
            p.error("unknown kind %r" % k)
    return args


def main(argv):
    args = parse_args(argv)
    threading.Thread(target=read_stdin, daemon=True, name="stdin").start()
    base = {"pid": os.getpid(), "python": sys.version.split()[0],
            "executable": sys.executable, "markers": MARKERS, "file": FILE,
            "main_tid": threading.get_native_id(), "uvloop": args.uvloop}

    if args.mode == "plain" or args.no_loop_ms > 0:
        # no event loop (yet): only time.sleep, no epoll anywhere
        if args.mode == "plain":
            print("READY " + json.dumps(dict(base, loop_tids=[])), flush=True)
            while True:
                time.sleep(0.05)
        print("READY " + json.dumps(dict(base, loop_tids=None)), flush=True)
        GO.wait()
        t_end = time.monotonic() + args.no_loop_ms / 1000.0
        while time.monotonic() < t_end:
            time.sleep(0.02)
        emit({"event": "loop_start", "tid": threading.get_native_id(), "at": time.time()})

    if args.threads <= 0:
        # one loop (or several in sequence), in the main thread
        spacers = []
        for k in range(args.sequential_loops):
            last = k == args.sequential_loops - 1
            ctx = LoopCtx(args, 0)
            ctx.stay = last
            ctx.on_ready = (lambda: print("READY " + json.dumps(
                dict(base, loop_tids=[threading.get_native_id()])), flush=True)
                if not args.no_loop_ms else None) if k == 0 else (lambda: None)
            ctx.on_done = (lambda: emit({"event": "all_done"})) if last else (lambda: None)
            run_loop(ctx)
            spacers.append(os.open(os.devnull, os.O_RDONLY))  # the next loop's fd moves
        if args.after_loop_ms:
            emit({"event": "loop_closed", "tid": ctx.tid, "at": time.time()})
            time.sleep(args.after_loop_ms / 1000.0)  # no loop: not a stall
            emit({"event": "after_loop_done", "at": time.time()})
            while True:
                time.sleep(3600)
        return 0

    # N loops in N threads; the main thread only waits
    contexts = []
    lock = threading.Lock()
    ready = threading.Semaphore(0)
    done = threading.Semaphore(0)

    def thread_main(index):
        ctx = LoopCtx(args, index)
        ctx.on_ready = ready.release
        ctx.on_done = done.release
        with lock:
            contexts.append(ctx)
        run_loop(ctx)

    threads = [threading.Thread(target=thread_main, args=(i,), name="loop-%d" % i, daemon=True)
               for i in range(args.threads)]
    for t in threads:
        t.start()
    for _ in threads:
        if not ready.acquire(timeout=30):
            raise SystemExit("a loop thread did not start")
    if not args.no_loop_ms:
        tids = [c.tid for c in sorted(contexts, key=lambda c: c.index)]
        print("READY " + json.dumps(dict(base, loop_tids=tids)), flush=True)
    for _ in threads:
        done.acquire()
    emit({"event": "all_done"})
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
