# SPDX-License-Identifier: GPL-2.0-only
"""Whole stacks of on-CPU stalls in generator-heavy code: a `yield from`
chain that yields at every step, and json.dumps(indent=2) (the pure-Python
encoder's _iterencode* generators). Their frames relink faster than a
reader outside the process can walk them, so the stack is read in the
kernel, at a cpu-clock sample of the stopped thread; the stall must report
every generator frame, in order, under the marked line."""
import os
import signal

import lib
from lib import Loopscope, Problems, Target

GEN_STALL_PY = os.path.join(lib.TARGETS_DIR, "gen_stall.py")


def perf_event_fds(pid):
    """How many perf events process pid holds open."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[perf_event]"
        except OSError:
            pass
    return n


def overlapping(stalls, rec, tid):
    end = rec["start"] + rec["duration_ms"] / 1000
    return [s for s in stalls if s["tid"] == tid and s["ts"] < end and
            s["ts"] + s["duration_ms"] / 1000 > rec["start"]]


def short(stack):
    return ["%s:%s" % (f.get("func"), f.get("line")) for f in stack[:16]]


def marked_at(stack, func, line):
    """The index of the frame of func at line, -1 when there is none."""
    for i, f in enumerate(stack):
        if f.get("func", "").endswith(func) and f.get("line") == line:
            return i
    return -1


def check_chain(p, stack, info, what):
    """Generator frames of the chain, in order, then crunch at the marked
    line: leaf under all depth+1 link frames, or links alone. The chain
    yields at every step, so much of its time goes to passing values up
    and to relinking it (each level is entered again at every step): the
    hot path may end at a link."""
    at = marked_at(stack, "crunch", info["lines"]["chain"])
    if not p.check(at >= 0, "%s: no crunch at line %s in %s" % (
            what, info["lines"]["chain"], short(stack))):
        return
    links = ["link"] * (info["depth"] + 1)
    got = [f.get("func", "") for f in stack[:at]]
    p.check(got == ["leaf"] + links or (got and got == links[:len(got)]),
            "%s: generator frames above the marked line %s, want %s (or links alone)" % (
                what, got, ["leaf"] + links))


def check_json(p, stack, info, what):
    """The encoder's generators, then encode, dumps, render at the mark."""
    at = marked_at(stack, "render", info["lines"]["json"])
    if not p.check(at >= 0, "%s: no render at line %s in %s" % (
            what, info["lines"]["json"], short(stack))):
        return
    funcs = [f.get("func", "").rsplit(".", 1)[-1] for f in stack[:at]]
    gens = [f for f in funcs if f.startswith("_iterencode")]
    p.check(funcs[-2:] == ["encode", "dumps"],
            "%s: the frames under render are %s, want encode, dumps" % (what, funcs[-2:]))
    p.check(len(gens) >= 4 and funcs[:len(gens)] == gens,
            "%s: %d _iterencode frames innermost (want 4 or more): %s" % (what, len(gens), funcs))


CHECKS = {"chain": check_chain, "json": check_json}
MARKS = {"chain": "crunch", "json": "render"}


def check_report(p, kind, s, info, what):
    """The final report: the whole stack. One while the stall lasts (at
    100 ms, some 50 samples): the marked line at least, whole stacks all."""
    stack = s.get("stack") or []
    if not s["ongoing"]:
        CHECKS[kind](p, stack, info, what)
        return
    p.check(marked_at(stack, MARKS[kind], info["lines"][kind]) >= 0,
            "%s (ongoing): no %s at line %s in %s" % (what, MARKS[kind], info["lines"][kind],
                                                      short(stack)))


def run(interp, kinds):
    p = Problems("generator stall stacks on %s" % interp.name)
    with Target([interp.path, GEN_STALL_PY, "--kinds", ",".join(kinds)],
                name="gen_stall@%s" % interp.name, ready_timeout=30) as t:
        with Loopscope.stalls(t.pid, threshold=100, duration=60) as ls:
            ls.wait_attached()
            t.go()
            t.wait_event("all_done", 40)
            # the loop is healthy again: nothing samples it any more
            p.check(perf_event_fds(ls.pid) == 0, "loopscope holds %d perf events after the "
                    "stalls" % perf_event_fds(ls.pid))
            ls.signal(signal.SIGINT)
            p.check(ls.wait(10) == 0, "loopscope exit %s" % ls.returncode)
        stalls = [o for _, o in ls.events() if o["event"] == "stall"]
        recs = t.stalls()
        p.check(len(recs) == 3 * len(kinds), "the target made %d stalls" % len(recs))
        for rec in recs:
            what = "%s stall at %.3f" % (rec["kind"], rec["start"])
            over = overlapping(stalls, rec, t.info["loop_tid"])
            if not p.check(over, "%s: not reported" % what):
                continue
            for s in over:
                check_report(p, rec["kind"], s, t.info, what)
    p.raise_if_any()


@lib.timeout(90)
@lib.each_python()
def test_generator_chain_stall_stack_is_whole(interp):
    run(interp, ["chain"])


@lib.timeout(90)
@lib.each_python()
def test_json_dumps_stall_stack_is_whole(interp):
    run(interp, ["json"])


@lib.timeout(60)
def test_pid_namespace_target_stack_is_whole():
    """A target in its own PID namespace (tid 1 there): the kernel samples
    it by its host tid, which the thread list maps through NSpid."""
    from test_containers import child_of, start, stop, wait_ready
    interp = lib.python("3.14")
    p = Problems("generator stall stacks in a PID namespace")
    proc = start(["unshare", "--pid", "--fork", "--mount-proc", "chroot", interp.root,
                  interp.exe, GEN_STALL_PY, "--kinds", "chain"])
    try:
        info = wait_ready(proc)
        pid = child_of(proc.pid)
        p.check(info["loop_tid"] == 1, "the loop's tid in its namespace is %s, not 1" % info["loop_tid"])
        with Loopscope.stalls(pid, threshold=100, duration=60) as ls:
            ls.wait_attached()
            proc.stdin.write("go\n")
            proc.stdin.flush()
            done = next((l for l in iter(proc.stdout.readline, "") if "all_done" in l), None)
            p.check(done, "the target ended without all_done")
            ls.signal(signal.SIGINT)
            p.check(ls.wait(10) == 0, "loopscope exit %s" % ls.returncode)
        stalls = ls.finished_stalls()
        p.check(len(stalls) >= 3 and all(s["tid"] == pid for s in stalls),
                "stalls on tids %s, want 3 or more on %d" % ([s["tid"] for s in stalls], pid))
        for s in stalls:
            check_report(p, "chain", s, info, "stall at %.3f" % s["ts"])
    finally:
        stop(proc)
    p.raise_if_any()
