# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope stalls PID --json` against targets that stall on purpose.

Every assertion compares what loopscope reports with what the target
measured itself (tests/targets/stalls.py, stalls.js print one JSON record per
stall: thread id, wall-clock start, duration, file and line).
"""
import re
import signal
import time

import lib
from lib import Loopscope, Param, Problems, Target

THRESHOLD_MS = 100.0
STALL_MS = 200.0
GAP_MS = 300.0
REPEAT = 2
KINDS = ("sleep", "cpu", "recv", "subprocess", "lock", "fifo")
DURATION_TOLERANCE = 0.20     # duration_ms within ±20% of the target's own measurement
TS_TOLERANCE_S = 0.05         # ts within 50 ms of the target's wall-clock start
CPU_SHARE_MIN = 0.80
CPU_TOLERANCE = 0.20          # on_cpu_ms at least the thread's own CPU time - 20%...
CPU_SLACK_MS = 5.0            # ...- 5 ms, for stalls that hardly use the CPU


def expected_syscalls(kind, interp_version):
    """The syscalls that may be the longest of a stall of this kind (a set),
    or None for CPU-bound kinds."""
    if kind == "sleep":
        # Python 3.10's time.sleep is pselect6(0, NULL, NULL, NULL, timeout)
        return {"pselect6"} if interp_version < (3, 11) else {"clock_nanosleep"}
    return {
        "recv": {"recvfrom"},
        "subprocess": {"wait4"},           # Popen.wait -> os.waitpid -> wait4
        "lock": {"futex"},
        "fifo": {"read"},
        "node-subprocess": {"epoll_pwait", "epoll_wait"},  # spawnSync runs a private uv loop
    }.get(kind)


def schedule_seconds(n_stalls, stall_ms=STALL_MS, gap_ms=GAP_MS):
    return n_stalls * (stall_ms + gap_ms) / 1000.0 + gap_ms / 1000.0


def main_syscall(stall):
    if not stall["syscalls"]:
        return None
    return max(stall["syscalls"], key=lambda s: s["ms"])


def fmt_stall(s):
    sc = ", ".join("%s %d× %.1f ms" % (c["name"], c["count"], c["ms"]) for c in s["syscalls"][:4])
    return "#%s tid %s ts %.3f %.1f ms (on-CPU %.1f) [%s]" % (
        s["id"], s["tid"], s["ts"], s["duration_ms"], s["on_cpu_ms"], sc)


def fmt_rec(r):
    return "%s stall (tid %s, start %.3f, %.1f ms, %s:%s)" % (
        r["kind"], r["tid"], r["start"], r["duration_ms"], r["file"].rsplit("/", 1)[-1], r["line"])


def overlap_s(stall, rec):
    a0, a1 = stall["ts"], stall["ts"] + stall["duration_ms"] / 1000.0
    b0, b1 = rec["start"], rec["start"] + rec["duration_ms"] / 1000.0
    return min(a1, b1) - max(a0, b0)


def match_stalls(records, stalls):
    """Pairs each target record with the finished stall on the same thread
    that overlaps it most. Returns (pairs, unmatched records, unmatched stalls)."""
    free = list(stalls)
    pairs, missed = [], []
    for rec in sorted(records, key=lambda r: r["start"]):
        cands = [s for s in free if s["tid"] == rec["tid"] and overlap_s(s, rec) > 0]
        if not cands:
            missed.append(rec)
            continue
        best = max(cands, key=lambda s: overlap_s(s, rec))
        free.remove(best)
        pairs.append((rec, best))
    return pairs, missed, free


def check_stall_event_shape(p, s):
    """The per-stall fields of the JSON contract, for one event."""
    for key, typ in (("id", int), ("pid", int), ("tid", int), ("ts", float),
                     ("duration_ms", (int, float)), ("on_cpu_ms", (int, float)),
                     ("off_cpu_ms", (int, float)), ("ongoing", bool), ("syscalls", list),
                     ("stack", list)):
        if not isinstance(s.get(key), typ):
            p.add("stall event field %r is %r, not %s: %s" % (key, s.get(key), typ, s))
            return False
    p.check(0 <= s["duration_ms"] < 3600e3,
            "absurd duration_ms %r (unsigned underflow?) in %s" % (s["duration_ms"], s))
    if "task" not in s:
        p.add("stall event has no \"task\" field: %s" % s)
    for c in s["syscalls"]:
        if not (isinstance(c.get("name"), str) and isinstance(c.get("count"), int)
                and isinstance(c.get("ms"), (int, float))):
            p.add("malformed syscalls entry %r in %s" % (c, fmt_stall(s)))
    if not s["ongoing"]:
        names = [c["name"] for c in s["syscalls"]]
        p.check(len(names) == len(set(names)), "a syscall listed twice in %s: %s" % (fmt_stall(s), names))
    ms = [c["ms"] for c in s["syscalls"]]
    p.check(ms == sorted(ms, reverse=True),
            "syscalls not sorted longest first in %s: %s" % (fmt_stall(s), ms))
    p.check(abs(s["on_cpu_ms"] + s["off_cpu_ms"] - s["duration_ms"]) <= 1.0,
            "on_cpu_ms + off_cpu_ms != duration_ms in %s (off %.1f)" % (fmt_stall(s), s["off_cpu_ms"]))
    p.check(0 <= s["on_cpu_ms"] <= s["duration_ms"] + 0.01,
            "on_cpu_ms out of range in %s" % fmt_stall(s))
    return True


def check_pair(p, rec, s, expect):
    """One target-measured stall against the stall loopscope reported."""
    what = fmt_rec(rec)
    d_t, d_l = rec["duration_ms"], s["duration_ms"]
    p.check(abs(d_l - d_t) <= DURATION_TOLERANCE * d_t,
            "%s: loopscope says %.1f ms, not within ±20%% of %.1f ms: %s" % (what, d_l, d_t, fmt_stall(s)))
    p.check(abs(s["ts"] - rec["start"]) <= TS_TOLERANCE_S,
            "%s: ts %.3f is %.0f ms from the target's start %.3f" % (
                what, s["ts"], (s["ts"] - rec["start"]) * 1000, rec["start"]))
    p.check(s["tid"] == rec["tid"], "%s: reported on tid %s" % (what, s["tid"]))
    p.check(not s.get("thread_exited"), "%s: marked thread_exited: %s" % (what, s))
    check_cpu(p, what, rec, s)
    check_culprit(p, what, rec, s)
    if expect is None:  # CPU-bound
        share = s["on_cpu_ms"] / s["duration_ms"] if s["duration_ms"] else 0
        # the target's own CPU share: below 100% when the machine is busy
        # and the scheduler ran something else on this CPU in between
        own = min(1.0, rec["cpu_ms"] / d_t) if rec.get("cpu_ms") is not None else 1.0
        want = CPU_SHARE_MIN if own >= 0.9 else CPU_SHARE_MIN * own
        p.check(share > want, "%s: on-CPU share %.0f%% (want > %.0f%%; the target got %.0f%% of a CPU): %s" % (
            what, share * 100, want * 100, own * 100, fmt_stall(s)))
    else:
        main = main_syscall(s)
        p.check(main is not None and main["name"] in expect,
                "%s: main syscall %s, expected %s: %s" % (
                    what, main and main["name"], "/".join(sorted(expect)), fmt_stall(s)))
        # blocked, not burning CPU
        share = s["on_cpu_ms"] / s["duration_ms"] if s["duration_ms"] else 1
        p.check(share < 0.5, "%s: on-CPU share %.0f%% for a blocking call: %s" % (
            what, share * 100, fmt_stall(s)))


def check_culprit(p, what, rec, s):
    """The stall's stack names the blocking call: its innermost frame in the
    target's file is the line the target marked, in the right function, and
    the asyncio task that was running is named."""
    if not rec.get("file", "").endswith(".py"):
        return  # Node.js: no Python stack
    mine = [f for f in s["stack"] if f["file"] == rec["file"]]
    top = mine[0] if mine else None
    p.check(top is not None and top["line"] == rec["line"] and top["func"] == rec["func"],
            "%s: culprit %s, want %s at line %s; stack: %s" % (
                what, top, rec["func"], rec["line"],
                [(f["func"], f["file"].rsplit("/", 1)[-1], f["line"]) for f in s["stack"][:6]]))
    task = s.get("task")
    p.check(isinstance(task, dict) and task.get("id", "").startswith("0x") and task.get("coro"),
            "%s: no running task named: %r" % (what, task))


def check_cpu(p, what, rec, s):
    """on_cpu_ms against the thread CPU time the target measured itself
    (time.thread_time() around the stall, a little wider than the blocking
    call; loopscope's span is the whole loop iteration, wider still).

    Both read the kernel's account of the thread's CPU time (loopscope takes
    sum_exec_runtime at the thread's context switches), so they agree but
    for what happens around the blocking call: a lower bound, and an upper
    one that leaves the rest of the iteration some CPU time."""
    if rec.get("cpu_scope") != "thread" or rec.get("cpu_ms") is None:
        return
    own = rec["cpu_ms"]
    p.check(s["on_cpu_ms"] >= own * (1 - CPU_TOLERANCE) - CPU_SLACK_MS,
            "%s: on_cpu_ms %.1f, but the thread used %.1f ms of CPU itself: %s" % (
                what, s["on_cpu_ms"], own, fmt_stall(s)))
    # wider than the lower one: loopscope extrapolates a run in progress by
    # wall time, which on a VM includes time stolen by the host
    extra = max(CPU_SLACK_MS, CPU_TOLERANCE * s["duration_ms"])
    p.check(s["on_cpu_ms"] <= own + extra,
            "%s: on_cpu_ms %.1f, but the thread used only %.1f ms of CPU itself: %s" % (
                what, s["on_cpu_ms"], own, fmt_stall(s)))


def check_ongoing_consistent(p, ls, finished):
    """Every "ongoing" event is followed by the final event of the same stall."""
    by_id = {s["id"]: s for s in finished}
    ids = [s["id"] for s in finished]
    p.check(len(ids) == len(set(ids)), "duplicate ids among finished stalls: %s" % ids)
    for t, o in ls.ongoing_stalls():
        check_stall_event_shape(p, o)
        fin = by_id.get(o["id"])
        if not p.check(fin is not None, "ongoing stall #%s never finished: %s" % (o["id"], fmt_stall(o))):
            continue
        p.check(fin["tid"] == o["tid"] and abs(fin["ts"] - o["ts"]) < 1e-6,
                "ongoing #%s and its final event differ in tid/ts: %s vs %s" % (
                    o["id"], fmt_stall(o), fmt_stall(fin)))
        p.check(THRESHOLD_MS <= o["duration_ms"] <= fin["duration_ms"],
                "ongoing #%s duration %.1f ms not in [threshold, final %.1f]" % (
                    o["id"], o["duration_ms"], fin["duration_ms"]))


def check_summary(p, ls, target, finished, nloops, elapsed_s, target_exited=False):
    summ = ls.summary()
    p.check(summ.get("pid") == target.pid, "summary pid %s != %s" % (summ.get("pid"), target.pid))
    p.check(summ.get("stalls") == len(finished),
            "summary stalls %s != %d finished stall events" % (summ.get("stalls"), len(finished)))
    worst = max((s["duration_ms"] for s in finished), default=0.0)
    p.check(isinstance(summ.get("worst_ms"), (int, float)) and abs(summ["worst_ms"] - worst) < 0.01,
            "summary worst_ms %s != longest stall %.3f" % (summ.get("worst_ms"), worst))
    p50, p99 = summ.get("busy_p50_ms"), summ.get("busy_p99_ms")
    if p.check(isinstance(p50, (int, float)) and isinstance(p99, (int, float)),
               "busy_p50_ms/busy_p99_ms missing: %s" % summ):
        # most iterations of these targets are short; stalls are a few percent
        p.check(0 < p50 < THRESHOLD_MS / 4, "busy_p50_ms %.3f not in (0, %.0f)" % (p50, THRESHOLD_MS / 4))
        # a span under the threshold is no stall; one over it is, and none is
        # longer than the worst: no percentile lies past them (a bucket's edge)
        p.check(p50 <= p99 <= max(worst, THRESHOLD_MS) + 0.001,
                "busy_p99_ms %.3f not in [p50 %.3f, max(worst %.1f, threshold)]" % (p99, p50, worst))
    u = summ.get("utilisation")
    if p.check(isinstance(u, (int, float)) and 0 < u <= 1, "utilisation %r not in (0, 1]" % u):
        # the loops were busy at least for the length of the stalls
        stalled_s = sum(s["duration_ms"] for s in finished) / 1000.0
        floor = 0.9 * stalled_s / (max(summ.get("duration_s", elapsed_s), 0.1) * nloops)
        p.check(u >= floor, "utilisation %.3f below %.3f, the stalls' share of the time watched" % (u, floor))
    p.check(summ.get("dropped") == 0, "dropped %r events" % summ.get("dropped"))
    p.check(summ.get("target_exited") is target_exited,
            "target_exited %r, expected %r" % (summ.get("target_exited"), target_exited))
    d = summ.get("duration_s")
    p.check(isinstance(d, (int, float)) and abs(d - elapsed_s) < 1.0,
            "duration_s %r, but loopscope ran %.1f s" % (d, elapsed_s))
    p.check(summ.get("loops") == nloops, "summary loops %s, the target runs %d loop thread(s)" % (
        summ.get("loops"), nloops))
    return summ


def run_session(target, kinds_expect, nloops, n_records, max_s, threshold=THRESHOLD_MS):
    """Attaches loopscope to a started target, lets it run its schedule, stops
    loopscope with SIGINT once the target is done, and checks everything."""
    with Loopscope.stalls(target.pid, threshold=threshold, duration=max_s + 30) as ls:
        ls.wait_attached()
        target.go()
        t0 = time.monotonic()
        target.wait_event("all_done", timeout=max_s + 20)
        lib.log("target done after %.1f s" % (time.monotonic() - t0))
        time.sleep(0.2)
        ls.signal(signal.SIGINT)
        rc = ls.wait(10)
        elapsed = ls.ended - ls.started

    p = Problems("%d stall(s) the target measured vs loopscope's report" % n_records)
    p.check(rc == 0, "loopscope exited %s after SIGINT" % rc)
    records = target.stalls()
    if len(records) != n_records:
        raise AssertionError("the target reported %d stalls, not %d" % (len(records), n_records))
    finished = ls.finished_stalls()
    for s in finished:
        check_stall_event_shape(p, s)
        p.check(s["pid"] == target.pid, "stall pid %s != %s" % (s["pid"], target.pid))
    pairs, missed, extra = match_stalls(records, finished)
    for rec in missed:
        other = [s for s in finished if overlap_s(s, rec) > 0]
        p.add("not detected: %s%s" % (fmt_rec(rec), "; overlapping stall(s) on another thread: " +
                                       "; ".join(map(fmt_stall, other)) if other else ""))
    for s in extra:
        p.add("stall reported where the target did not stall: %s" % fmt_stall(s))
    for rec, s in pairs:
        check_pair(p, rec, s, kinds_expect(rec["kind"]))
    check_ongoing_consistent(p, ls, finished)
    check_summary(p, ls, target, finished, nloops, elapsed)
    p.raise_if_any()
    lib.log("%d stalls matched, all within tolerance" % len(pairs))
    return ls, pairs


@lib.timeout(20)
def test_target_marker_lines():
    """The targets report, for each stall, the line of the blocking call (found
    from its marker comment): check those lines hold the calls, so that stack
    assertions can rely on them."""
    want_py = {"sleep": "time.sleep(", "cpu": "while time.monotonic()", "recv": ".recv(",
               "subprocess": "subprocess.run(", "lock": ".acquire()", "fifo": "os.read(",
               "hang": "while time.monotonic()", "exit": "time.sleep(",
               "syscalls": "os.getppid()"}
    want_js = {"cpu": "while (mono()", "subprocess": "execSync("}
    p = Problems("marker lines")
    for path, want in ((lib.STALLS_PY, want_py), (lib.STALLS_JS, want_js)):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        tagged = {}
        for i, text in enumerate(lines, 1):
            m = re.search(r"(#|//)\s*STALL:([a-z_]+)\s*$", text)
            if m and not text.lstrip().startswith(m.group(1)):
                p.check(m.group(2) not in tagged, "%s: marker %s twice" % (path, m.group(2)))
                tagged[m.group(2)] = i
        p.check(set(tagged) == set(want), "%s: markers %s, expected %s" % (path, sorted(tagged), sorted(want)))
        for kind, needle in want.items():
            if kind in tagged:
                p.check(needle in lines[tagged[kind] - 1],
                        "%s:%d (marker %s) does not hold %r" % (path, tagged[kind], kind, needle))
        if path == lib.STALLS_PY:
            with Target.python(lib.python("debian-3.11"), "--mode", "plain") as t:
                p.check(t.info["markers"] == tagged, "stalls.py reports markers %s, the file has %s" % (
                    t.info["markers"], tagged))
    p.raise_if_any()


@lib.timeout(60)
@lib.each_python()
def test_stall_kinds(interp):
    """Every kind of blocking call on one interpreter, default asyncio loop:
    each once (the stacks, task and syscalls are read per version), and
    twice on Debian's python3.11 (a loop's second stall of a kind reuses
    what its first left: that is no version's business)."""
    repeat = REPEAT if interp.name == "debian-3.11" else 1
    n = len(KINDS) * repeat
    with Target.python(interp, "--kinds", ",".join(KINDS), "--repeat", repeat,
                       "--stall-ms", STALL_MS, "--gap-ms", GAP_MS) as target:
        run_session(target, lambda k: expected_syscalls(k, interp.version), 1, n,
                    schedule_seconds(n))


@lib.timeout(60)
@lib.each_python(lib.UVLOOP_PYTHONS)
def test_stall_kinds_uvloop(interp):
    """The same stalls with uvloop's loop (libuv), on Debian's python3.11
    and the testing root's 3.14."""
    if not interp.has_uvloop:
        raise lib.Skip("uvloop is not installed for %s (apt-get install python3-uvloop)" % interp.path)
    n = len(KINDS) * REPEAT
    with Target.python(interp, "--uvloop", "--kinds", ",".join(KINDS), "--repeat", REPEAT,
                       "--stall-ms", STALL_MS, "--gap-ms", GAP_MS) as target:
        run_session(target, lambda k: expected_syscalls(k, interp.version), 1, n,
                    schedule_seconds(n))


@lib.timeout(60)
def test_stalls_in_two_loop_threads():
    """Two threads, each running its own asyncio loop and stalling on its own
    (partly overlapping): each stall is reported on the thread that stalled.
    The kinds are rotated between the threads so that no two CPU-bound stalls
    overlap (they would share the GIL and be half off-CPU, truly)."""
    interp = lib.python("debian-3.11")
    kinds = ("sleep", "recv", "lock", "fifo", "subprocess", "cpu")
    n = len(kinds) * 2
    with Target.python(interp, "--threads", 2, "--kinds", ",".join(kinds), "--repeat", 1,
                       "--stall-ms", STALL_MS, "--gap-ms", GAP_MS, "--stagger-ms", 120, "--rotate") as target:
        tids = target.info["loop_tids"]
        assert len(set(tids)) == 2 and target.pid not in tids, \
            "the target did not start two loop threads: %s" % target.info
        ls, pairs = run_session(target, lambda k: expected_syscalls(k, interp.version), 2, n,
                                schedule_seconds(len(kinds)) + 0.5)
        per_tid = {t: sum(1 for rec, _ in pairs if rec["tid"] == t) for t in tids}
        assert all(v == len(kinds) for v in per_tid.values()), per_tid
        # the stalls of the two threads did overlap in time at least once,
        # so that this test tells per-thread tracking from a global one
        a = [rec for rec, _ in pairs if rec["tid"] == tids[0]]
        b = [rec for rec, _ in pairs if rec["tid"] == tids[1]]
        assert any(min(x["start"] + x["duration_ms"] / 1e3, y["start"] + y["duration_ms"] / 1e3)
                   > max(x["start"], y["start"]) for x in a for y in b), \
            "the two threads' stalls never overlapped: the test proves nothing"


# Debian's python3.11 with its default loop, and uvloop on every Python that
# has it ("uvloop": Debian's python3.11, as before 3.14 had it).
LOOP_CASES = [Param("asyncio", "debian-3.11", False)] + [
    Param("uvloop" if n == "debian-3.11" else "uvloop-" + n, n, True) for n in lib.UVLOOP_PYTHONS]


@lib.timeout(45)
@lib.params(LOOP_CASES)
def test_hang_reported_while_ongoing(name, use_uvloop):
    """A coroutine spinning for 1.5 s: loopscope reports it once it passes the
    threshold, while it is still hung, then again when it ends, same id."""
    interp = lib.python(name)
    if use_uvloop and not interp.has_uvloop:
        raise lib.Skip("uvloop is not installed for %s" % interp.path)
    hang_ms = 1500.0
    args = ["--mode", "hang", "--hang-ms", hang_ms, "--gap-ms", GAP_MS]
    with Target.python(interp, *(args + (["--uvloop"] if use_uvloop else []))) as target:
        with Loopscope.stalls(target.pid, threshold=THRESHOLD_MS, duration=30) as ls:
            ls.wait_attached()
            target.go()
            rec = target.wait_event("stall", timeout=15)[0]
            target.wait_event("all_done", timeout=10)
            time.sleep(0.2)
            ls.signal(signal.SIGINT)
            assert ls.wait(10) == 0, "loopscope exited %s after SIGINT" % ls.returncode

    p = Problems("hang of %.0f ms" % rec["duration_ms"])
    finished = ls.finished_stalls()
    pairs, missed, extra = match_stalls([rec], finished)
    if missed:
        raise AssertionError("the hang was not reported as a finished stall: %s" % fmt_rec(rec))
    for s in extra:
        p.add("stall reported where the target did not stall: %s" % fmt_stall(s))
    _, final = pairs[0]
    check_stall_event_shape(p, final)
    check_pair(p, rec, final, None)
    hang_end = rec["start"] + rec["duration_ms"] / 1000.0
    ongoing = [(t, o) for t, o in ls.ongoing_stalls() if o["id"] == final["id"]]
    p.check(len(ongoing) >= 1, "no \"ongoing\": true event with the hang's id #%s; ongoing events: %s"
            % (final["id"], [o for _, o in ls.ongoing_stalls()]))
    final_at = [t for t, o in ls.events() if o is final or (o["event"] == "stall" and not o["ongoing"]
                                                           and o["id"] == final["id"])][0]
    for i, (t, o) in enumerate(ongoing):
        check_stall_event_shape(p, o)
        p.check(o["tid"] == final["tid"] and abs(o["ts"] - final["ts"]) < 1e-6,
                "ongoing event differs from the final one in tid/ts: %s vs %s" % (fmt_stall(o), fmt_stall(final)))
        p.check(t < hang_end, "ongoing event arrived %.0f ms after the hang ended" % ((t - hang_end) * 1000))
        p.check(t < final_at, "ongoing event arrived after the final one")
        if i == 0:
            p.check(t - rec["start"] <= THRESHOLD_MS / 1000.0 + 0.3,
                    "ongoing event arrived %.0f ms into the hang, threshold %.0f ms" % (
                        (t - rec["start"]) * 1000, THRESHOLD_MS))
        else:  # repeated while it lasts, at most once a second, growing
            prev_t, prev = ongoing[i - 1]
            p.check(o["duration_ms"] - prev["duration_ms"] >= 950,
                    "ongoing events %.1f then %.1f ms: repeated more than once a second" % (
                        prev["duration_ms"], o["duration_ms"]))
        p.check(THRESHOLD_MS <= o["duration_ms"] < final["duration_ms"],
                "ongoing duration %.1f ms not in [threshold, final %.1f)" % (o["duration_ms"], final["duration_ms"]))
        p.check(0 < o["on_cpu_ms"] <= final["on_cpu_ms"] + 0.5 and o["off_cpu_ms"] <= final["off_cpu_ms"] + 0.5,
                "ongoing event's on/off-CPU %.1f/%.1f ms exceed the final %.1f/%.1f" % (
                    o["on_cpu_ms"], o["off_cpu_ms"], final["on_cpu_ms"], final["off_cpu_ms"]))
    summ = ls.summary()
    p.check(summ["stalls"] == 1, "summary stalls %s, expected 1 (the hang)" % summ["stalls"])
    p.check(abs(summ["worst_ms"] - final["duration_ms"]) < 0.01,
            "summary worst_ms %s != the hang's %s" % (summ["worst_ms"], final["duration_ms"]))
    p.raise_if_any()


def machine_stalls(stalls, target, p):
    """The stalls the target measured too, as lags of its own (its "late"
    records: the machine ran something else, a real stall of the loop);
    each must be mostly off the CPU, as such a stall is. Those are logged
    and returned; any other one is no stall of this healthy target."""
    lates = target.events("late")

    def late_during(s):
        return any(min(s["ts"] + s["duration_ms"] / 1e3, l["start"] + l["duration_ms"] / 1e3) -
                   max(s["ts"], l["start"]) > 0 for l in lates)
    excused = [s for s in stalls if late_during(s)]
    for s in excused:
        lib.log("a stall the target lagged through too (the machine's): %s" % fmt_stall(s))
        p.check(s["on_cpu_ms"] < 0.5 * s["duration_ms"],
                "a stall the target lagged through was on the CPU: %s" % fmt_stall(s))
    return excused


@lib.timeout(45)
@lib.params(LOOP_CASES)
def test_healthy_busy_target_has_no_stalls(name, use_uvloop):
    """300 busy tasks (short sleeps, small work): zero stalls at 50 ms over 5 s."""
    interp = lib.python(name)
    if use_uvloop and not interp.has_uvloop:
        raise lib.Skip("uvloop is not installed for %s" % interp.path)
    args = ["--mode", "healthy", "--tasks", 300] + (["--uvloop"] if use_uvloop else [])
    with Target.python(interp, *args) as target:
        with Loopscope.stalls(target.pid, threshold=50, duration=5) as ls:
            ls.wait_attached()
            target.go()
            rc = ls.wait(20)
        lags = target.events("lag")
    p = Problems("healthy target, threshold 50 ms, 5 s")
    p.check(rc == 0, "loopscope exited %s" % rc)
    stalls = [o for _, o in ls.events() if o["event"] == "stall"]
    excused = machine_stalls(ls.finished_stalls(), target, p)
    wrong = [s for s in stalls if not any(s["id"] == e["id"] for e in excused)]
    own_lag = max((l["max_lag_ms"] for l in lags), default=None)
    p.check(not wrong, "%d stall event(s) on a healthy loop (the target's own worst lag: %s ms): %s" % (
        len(wrong), own_lag, "; ".join(fmt_stall(s) for s in wrong[:5])))
    summ = ls.summary()
    worst = max((s["duration_ms"] for s in excused), default=0)
    p.check(summ["stalls"] == len(excused) and abs(summ["worst_ms"] - worst) < 0.01,
            "summary says stalls %s, worst %s ms" % (summ["stalls"], summ["worst_ms"]))
    p.check(abs(summ["duration_s"] - 5) < 0.5, "duration_s %s for --duration 5" % summ["duration_s"])
    p.check(summ.get("loops", 1) == 1, "loops %s" % summ.get("loops"))
    # it did watch a busy loop: thousands of short iterations
    steps = max((l["steps"] for l in lags), default=0)
    p.check(steps > 1000, "the target's tasks ran only %d steps" % steps)
    if "iterations" in summ:
        p.check(summ["iterations"] > 250, "only %s loop iterations seen in 5 s" % summ["iterations"])
    p.check(0 < summ["busy_p50_ms"] <= summ["busy_p99_ms"] < 50,
            "busy p50 %s / p99 %s ms" % (summ["busy_p50_ms"], summ["busy_p99_ms"]))
    p.check(0 < summ["utilisation"] < 0.9, "utilisation %s for a loop that mostly waits" % summ["utilisation"])
    p.check(summ["dropped"] == 0 and summ["target_exited"] is False, "summary %s" % summ)
    p.raise_if_any()


@lib.timeout(30)
@lib.params([Param("light", ()), Param("precise", ("--precise",))])
def test_spinning_loop_has_no_phantom_stalls(extra):
    """A loop that never blocks but iterates as fast as it can (tasks that
    only `await asyncio.sleep(0)`: 100k+ iterations a second): no stall, and
    in particular no "ongoing" stall for an iteration that has just begun.
    By default (light) such a loop is cut into iterations by its heartbeat,
    read about a thousand times a second; --precise traces every poll."""
    interp = lib.python("debian-3.11")
    precise = "--precise" in extra
    with Target.python(interp, "--mode", "healthy", "--tasks", 10, "--spin-tasks", 3) as target:
        with Loopscope.stalls(target.pid, threshold=50, duration=3, extra=extra) as ls:
            ls.wait_attached()
            target.go()
            rc = ls.wait(15)
        lags = target.events("lag")
    p = Problems("spinning loop, threshold 50 ms, 3 s, %s" % ("precise" if precise else "light"))
    p.check(rc == 0, "loopscope exited %s" % rc)
    stalls = [o for _, o in ls.events() if o["event"] == "stall"]
    absurd = [s for s in stalls if not 0 <= s["duration_ms"] < 3600e3]
    own_lag = max((l["max_lag_ms"] for l in lags), default=None)
    p.check(not absurd, "%d stall event(s) with an impossible duration (an iteration that began "
            "after loopscope read the clock?): %s" % (len(absurd), "; ".join(fmt_stall(s) for s in absurd[:3])))
    excused = machine_stalls([s for s in ls.finished_stalls() if s not in absurd], target, p)
    real = [s for s in stalls if s not in absurd and not any(s["id"] == e["id"] for e in excused)]
    p.check(not real, "%d stall event(s) on a loop that never blocks (its own worst lag: %s ms): %s" % (
        len(real), own_lag, "; ".join(fmt_stall(s) for s in real[:3])))
    summ = ls.summary()
    p.check(summ["stalls"] == len(excused), "summary stalls %s" % summ["stalls"])
    p.check(summ["mode"] == ("precise" if precise else "light"), "mode %r" % summ["mode"])
    if precise:
        p.check(summ["iterations"] > 30000, "only %s iterations: the loop did not spin" % summ["iterations"])
        p.check(0 < summ["busy_p50_ms"] < 1, "busy_p50_ms %s for a loop of tiny iterations" % summ["busy_p50_ms"])
    else:
        p.check(summ["iterations"] > 300, "only %s heartbeat cuts in 3 s" % summ["iterations"])
        p.check(0 < summ["busy_p50_ms"] < 20, "busy_p50_ms %s between heartbeat cuts" % summ["busy_p50_ms"])
    p.raise_if_any()


@lib.timeout(45)
def test_syscalls_counted_during_a_stall():
    """A CPU-bound stall that makes a syscall per step (os.getppid). Syscall
    entries are traced only while a loop runs long (from half the threshold
    on), so a stall's count holds most of the calls the target made, and
    never more."""
    interp = lib.python("debian-3.11")
    with Target.python(interp, "--kinds", "syscalls", "--repeat", REPEAT,
                       "--stall-ms", STALL_MS, "--gap-ms", GAP_MS) as target:
        ls, pairs = run_session(target, lambda k: None, 1, REPEAT, schedule_seconds(REPEAT))
    p = Problems("getppid counts of %d stalls" % len(pairs))
    # from half the threshold, plus the time to attach the tracepoint
    # (measured here: 0.2 to 31 ms; 50 ms allowed)
    traced_share = (STALL_MS - THRESHOLD_MS / 2 - 50.0) / STALL_MS
    for rec, s in pairs:
        got = sum(c["count"] for c in s["syscalls"] if c["name"] == "getppid")
        low = rec["calls"] * traced_share * (1 - DURATION_TOLERANCE)
        p.check(low <= got <= rec["calls"] + 2,
                "%s: getppid counted %d times, the target made %d calls (want %d..%d): %s" % (
                    fmt_rec(rec), got, rec["calls"], low, rec["calls"] + 2, fmt_stall(s)))
    p.check(ls.summary()["mode"] == "light", "mode %r" % ls.summary()["mode"])
    p.raise_if_any()


@lib.timeout(60)
def test_loop_replaced_in_the_same_thread():
    """asyncio.run twice in one thread, the second loop on another epoll fd
    (an fd opened in between takes the first one's number): the stalls of
    both loops are detected, none is merged with the time between them. No
    background tasks: the new loop polls only a few times before it stalls,
    too few for the kernel side to relearn its fd alone."""
    interp = lib.python("debian-3.11")
    kinds = ("sleep", "cpu")
    with Target.python(interp, "--kinds", ",".join(kinds), "--sequential-loops", 2,
                       "--bg-tasks", 0,
                       "--stall-ms", STALL_MS, "--gap-ms", GAP_MS) as target:
        run_session(target, lambda k: expected_syscalls(k, interp.version), 1, 2 * len(kinds),
                    2 * schedule_seconds(len(kinds)))


@lib.timeout(45)
@lib.params([Param("light", ()), Param("precise", ("--precise",))])
def test_closed_loop_is_not_a_stall(extra):
    """A thread whose loop was closed (asyncio.run returned) and that then
    blocks with no loop at all (time.sleep) is not stalled: its one real
    stall is reported, the time after the loop is not, neither as an ongoing
    stall nor in the summary."""
    interp = lib.python("debian-3.11")
    with Target.python(interp, "--kinds", "sleep", "--exit-when-done",
                       "--after-loop-ms", 1500) as target:
        with Loopscope.stalls(target.pid, threshold=THRESHOLD_MS, duration=40, extra=extra) as ls:
            ls.wait_attached()
            target.go()
            target.wait_event("after_loop_done", timeout=20)
            ls.signal(signal.SIGINT)
            rc = ls.wait(10)
    p = Problems("one sleep stall, then 1.5 s without a loop (%s)" % ("precise" if extra else "light"))
    p.check(rc == 0, "loopscope exited %s after SIGINT" % rc)
    records = target.stalls()
    p.check(len(records) == 1, "the target reported %d stalls, not 1" % len(records))
    finished = ls.finished_stalls()
    pairs, missed, spurious = match_stalls(records, finished)
    for rec in missed:
        p.add("not detected: %s" % fmt_rec(rec))
    for rec, s in pairs:
        check_pair(p, rec, s, expected_syscalls("sleep", interp.version))
    for s in spurious:
        p.add("stall reported where the target did not stall: %s" % fmt_stall(s))
    for _, s in ls.ongoing_stalls():
        p.check(any(overlap_s(s, rec) > 0 for rec in records),
                "ongoing stall for the time after the loop closed: %s" % fmt_stall(s))
    summ = ls.summary()
    p.check(summ["stalls"] == len(records), "summary counts %s stalls, not %d (the closed loop's "
            "thread counted as stalled?)" % (summ["stalls"], len(records)))
    p.raise_if_any()


TEXT_LINE = re.compile(
    r"^(\d\d):(\d\d):(\d\d)\.(\d{3})\s+STALL\s+([\d.]+) ms(?: and counting)?\s+tid (\d+) \(([^)]*)\)"
    r"\s+on-CPU ([\d.]+) ms\s+off-CPU ([\d.]+) ms\s*(.*?)\s*\[#(\d+)\]$")


@lib.timeout(30)
def test_text_output():
    """Without --json: one readable line per stall (clock time, duration,
    thread, on/off-CPU, main syscall first), then the summary."""
    interp = lib.python("debian-3.11")
    with Target.python(interp, "--kinds", "sleep,cpu,fifo", "--repeat", 1,
                       "--stall-ms", STALL_MS, "--gap-ms", GAP_MS) as target:
        with Loopscope.stalls(target.pid, threshold=THRESHOLD_MS, duration=30, json_out=False) as ls:
            ls.wait_attached()
            target.go()
            target.wait_event("all_done", timeout=15)
            time.sleep(0.2)
            ls.signal(signal.SIGINT)
            rc = ls.wait(10)
    p = Problems("text output")
    p.check(rc == 0, "exit %s" % rc)
    lines = [l for _, l in ls.lines]
    parsed = [(l, TEXT_LINE.match(l)) for l in lines if "STALL" in l]
    for l, m in parsed:
        p.check(m is not None, "stall line not in the expected format: %r" % l)
    parsed = [m for _, m in parsed if m]
    for rec in target.stalls():
        lt = time.localtime(rec["start"])
        mine = [m for m in parsed if int(m.group(6)) == rec["tid"] and abs(
            (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) + int(m.group(4)) / 1000.0)
            - (lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + rec["start"] % 1)) < TS_TOLERANCE_S]
        what = fmt_rec(rec)
        if not p.check(len(mine) == 1, "%s: %d text lines at its time, want 1" % (what, len(mine))):
            continue
        m = mine[0]
        dur, on, off, rest = float(m.group(5)), float(m.group(8)), float(m.group(9)), m.group(10)
        p.check(abs(dur - rec["duration_ms"]) <= DURATION_TOLERANCE * rec["duration_ms"],
                "%s: text says %.1f ms" % (what, dur))
        p.check(abs(on + off - dur) <= 0.2, "%s: on %.1f + off %.1f != %.1f" % (what, on, off, dur))
        want = expected_syscalls(rec["kind"], interp.version)
        if want is None:
            own = min(1.0, rec["cpu_ms"] / rec["duration_ms"])
            p.check(on / dur > (CPU_SHARE_MIN if own >= 0.9 else CPU_SHARE_MIN * own),
                    "%s: on-CPU %.1f of %.1f ms" % (what, on, dur))
        else:
            first = rest.split(" ", 1)[0]
            p.check(first in want, "%s: first syscall on the line is %r, want %s: %r" % (
                what, first, "/".join(sorted(want)), rest))
    out = ls.stdout
    p.check(re.search(r"stalls: %d\b" % len(target.stalls()), out), "summary does not say 'stalls: %d'" % len(target.stalls()))
    p.check("events dropped: 0" in out, "summary does not say 'events dropped: 0'")
    p.raise_if_any()


@lib.timeout(45)
def test_node_stalls():
    """Node.js (libuv): a busy loop and execSync('sleep 0.2')."""
    lib.node_bin()
    n = 2 * REPEAT
    with Target.node("--kinds", "cpu,subprocess", "--repeat", REPEAT,
                     "--stall-ms", STALL_MS, "--gap-ms", GAP_MS) as target:
        # node has helper threads that may wait in epoll too: count loops >= 1
        run_session_node(target, n)


def run_session_node(target, n):
    kinds = {"cpu": None, "subprocess": expected_syscalls("node-subprocess", None)}
    with Loopscope.stalls(target.pid, threshold=THRESHOLD_MS, duration=60) as ls:
        ls.wait_attached()
        target.go()
        target.wait_event("all_done", timeout=schedule_seconds(n) + 20)
        time.sleep(0.2)
        ls.signal(signal.SIGINT)
        rc = ls.wait(10)
        elapsed = ls.ended - ls.started
    p = Problems("node: %d stalls the target measured vs loopscope's report" % n)
    p.check(rc == 0, "loopscope exited %s after SIGINT" % rc)
    records = target.stalls()
    assert len(records) == n, "the target reported %d stalls, not %d" % (len(records), n)
    finished = ls.finished_stalls()
    for s in finished:
        check_stall_event_shape(p, s)
    pairs, missed, extra = match_stalls(records, finished)
    for rec in missed:
        p.add("not detected: %s" % fmt_rec(rec))
    for s in extra:
        p.add("stall reported where the target did not stall: %s" % fmt_stall(s))
    for rec, s in pairs:
        check_pair(p, rec, s, kinds[rec["kind"]])
    check_ongoing_consistent(p, ls, finished)
    summ = ls.summary()
    p.check(summ["stalls"] == len(finished), "summary stalls %s != %d" % (summ["stalls"], len(finished)))
    p.check(summ["dropped"] == 0 and summ["target_exited"] is False, "summary %s" % summ)
    p.check(abs(summ["duration_s"] - elapsed) < 1.0, "duration_s %s, ran %.1f s" % (summ["duration_s"], elapsed))
    p.raise_if_any()
