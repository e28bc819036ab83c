# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope watch PID --json` against a target that commits asyncio's silent
bugs on purpose (tests/targets/lostwork.py) with warnings and logging off.
Each bug the target commits is announced first ("expect" records): loopscope
must report each one, with the right coroutine, task, exception text and
line; a healthy target must produce no event at all.
"""
import os
import re
import signal
import subprocess

import lib
from lib import Loopscope, Problems, Target

LOSTWORK_PY = os.path.join(lib.TARGETS_DIR, "lostwork.py")


def lostwork_target(interp, *args):
    return Target([interp.path, LOSTWORK_PY] + list(args), name="lostwork.py@%s" % interp.name)


def build_id(path):
    """The GNU build id of an ELF file, from `readelf -n` (binutils)."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def debian_dbg_missing(interp):
    """Debian's python3.11 needs python3.11-dbg (the debug file of this very
    build) for never-awaited detection."""
    if interp.name != "debian-3.11":
        return False
    bid = build_id(os.path.realpath(interp.path))
    return not bid or not os.path.exists("/usr/lib/debug/.build-id/%s/%s.debug" % (bid[:2], bid[2:]))


def run_watch(t, timeout=30):
    """Attaches watch, lets the target commit its bugs, stops watch."""
    ls = Loopscope(["watch", t.pid, "--json"])
    with ls:
        if not lib.wait_until(lambda: any('"attached"' in l for _, l in ls.lines), 20):
            raise AssertionError("watch printed no attached event: %s" % ls.stderr)
        t.go()
        t.wait_event("done", timeout)
        lib.wait_until(lambda: False, 0.5)  # the last events reach the ring buffer
        ls.signal(signal.SIGINT)
        rc = ls.wait(15)
    return ls, rc


def matches(ev, exp):
    if ev["event"] != exp["kind"] or ev["coro"] != exp["coro"]:
        return False
    if "task" in exp and ev.get("task") != exp["task"]:
        return False
    return True


def top_user_frame(ev):
    frames = ev.get("stack") or ev.get("traceback") or []
    for f in frames:
        if f["file"] == LOSTWORK_PY:
            return f
    return None


def check_attached(p, events, interp, skip):
    first = events[0] if events else {}
    p.check(first.get("event") == "attached", "first event %s, want attached" % first)
    det = first.get("detectors", {})
    p.check(det.get("tasks") is True and det.get("stalls") is True and
            det.get("never_awaited") is ("never_awaited" not in skip),
            "detectors %s" % det)
    # with debug info, the finalizer probes sit in the reporting branches: a
    # healthy task's finalization must not trap at all (on 3.14+ the Task's
    # branch keeps the task in a stack slot of its frame, DW_OP_fbreg)
    p.check(det.get("task_probes") == ("at_entries" if skip else "in_branches"),
            "task probes %r" % det.get("task_probes"))


def check_origin(p, ev, exp, what, origin):
    """Where the coroutine is defined, always; where it was created, exactly
    when the target tracks coroutine origins."""
    want = exp.get("defined")
    got = ev.get("defined") or {}
    p.check(want is None or (got.get("file") == LOSTWORK_PY and got.get("line") == want),
            "%s: %s of %s: defined %s, want line %s" % (what, exp["kind"], exp["coro"], got, want))
    created = ev.get("created")
    if not origin:
        p.check(created is None, "%s: %s: created %s without origin tracking" % (
            what, exp["kind"], created))
        return
    if "created" in exp:
        first = created[0] if created else {}
        p.check(first.get("file") == LOSTWORK_PY and first.get("line") == exp["created"],
                "%s: %s of %s: created at %s, want line %s" % (
                    what, exp["kind"], exp["coro"], first, exp["created"]))


def check_events(p, events, expected, what, skip_kinds=(), origin=False):
    lost = [e for e in events if e["event"] in (
        "never_awaited", "unretrieved_exception", "destroyed_pending")]
    for e in lost:
        p.check(isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int) and
                isinstance(e.get("ts"), float), "%s: event without pid/tid/ts: %s" % (what, e))
    used = set()
    for exp in expected:
        if exp["kind"] in skip_kinds:
            continue
        cand = [i for i, e in enumerate(lost) if i not in used and matches(e, exp)]
        if not p.check(cand, "%s: no %s event for %s (task %s) at line %s; got %s" % (
                what, exp["kind"], exp["coro"], exp.get("task"), exp["line"],
                [(e["event"], e["coro"], e.get("task")) for e in lost])):
            continue
        used.add(cand[0])
        ev = lost[cand[0]]
        if "exception" in exp:
            p.check(ev["exception"] == exp["exception"], "%s: exception %r, want %r" % (
                what, ev["exception"], exp["exception"]))
        check_origin(p, ev, exp, what, origin)
        frame = top_user_frame(ev)
        if exp["kind"] == "destroyed_pending" and what.startswith("3.10") and not frame:
            continue  # 3.10 frees a coroutine's frame when the collector closes it first
        p.check(frame is not None and frame["line"] == exp["line"] and frame["func"] == exp["func"],
                "%s: %s of %s: innermost frame in the target %s, want %s line %s" % (
                    what, exp["kind"], exp["coro"], frame, exp["func"], exp["line"]))
    extra = [(e["event"], e["coro"]) for i, e in enumerate(lost) if i not in used and
             e["event"] not in skip_kinds]
    p.check(not extra, "%s: unexpected events %s" % (what, extra))


@lib.timeout(60)
@lib.each_python()
def test_watch_reports_lost_work(interp):
    with lostwork_target(interp) as t:
        ls, rc = run_watch(t)
        p = Problems("watch on %s" % interp.name)
        p.check(rc == 0, "exit %s" % rc)
        events = [e for _, e in ls.events()]
        expected = t.events("expect")
        skip = ()
        if debian_dbg_missing(interp):
            skip = ("never_awaited",)
            p.check(any("python3.11-dbg" in l for l in ls.stderr),
                    "no warning naming python3.11-dbg: %s" % ls.stderr)
        check_attached(p, events, interp, skip)
        check_events(p, events, expected, interp.name, skip)
        summary = ls.summary()
        for kind in ("never_awaited", "unretrieved_exception", "destroyed_pending"):
            if kind in skip:
                continue
            want = len([e for e in expected if e["kind"] == kind])
            p.check(summary[kind] == want, "summary %s %s, want %s" % (kind, summary[kind], want))
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python()
def test_watch_says_where_lost_work_was_created(interp):
    """With origin tracking on (asyncio's debug mode turns it on), each event
    says where its coroutine was created: the create_task caller of a task
    whose exception was never retrieved, the line that made a coroutine
    never awaited."""
    if debian_dbg_missing(interp):
        raise lib.Skip("needs python3.11-dbg")
    with lostwork_target(interp, "--origin") as t:
        ls, rc = run_watch(t)
        p = Problems("watch on %s with origin tracking" % interp.name)
        p.check(rc == 0, "exit %s" % rc)
        check_events(p, [e for _, e in ls.events()], t.events("expect"), interp.name, (), True)
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python(lib.UVLOOP_PYTHONS)
def test_watch_uvloop(interp):
    if not interp.has_uvloop:
        raise lib.Skip("no uvloop for %s" % interp.path)
    with lostwork_target(interp, "--uvloop") as t:
        ls, rc = run_watch(t)
        p = Problems("watch with uvloop on %s" % interp.name)
        p.check(rc == 0, "exit %s" % rc)
        skip = ("never_awaited",) if debian_dbg_missing(interp) else ()
        events = [e for _, e in ls.events()]
        check_attached(p, events, interp, skip)
        check_events(p, events, t.events("expect"), "uvloop on %s" % interp.name, skip)
        p.raise_if_any()


@lib.timeout(90)
@lib.each_python(["3.12", "debian-3.11"])
def test_watch_repeated_site_is_rate_limited(interp):
    repeat = 60
    if debian_dbg_missing(interp):
        raise lib.Skip("never-awaited needs python3.11-dbg")
    # 60 calls over 3 s: three rate-limit windows
    with lostwork_target(interp, "--repeat", str(repeat), "--pace-ms", "50") as t:
        ls, rc = run_watch(t, timeout=60)
        events = [e for _, e in ls.events()]
        site = [e for e in events if e["event"] == "never_awaited" and e["coro"] == "forgotten"
                and top_user_frame(e) and top_user_frame(e)["func"] == "bugs"]
        shown = len(site) + sum(e.get("suppressed", 0) for e in site)
        p = Problems("rate limit on %s" % interp.name)
        p.check(0 < len(site) < repeat / 3, "%d events for %d never-awaited calls at one site" % (
            len(site), repeat))
        p.check(shown <= repeat, "events + suppressed = %d > %d" % (shown, repeat))
        p.check(ls.summary()["never_awaited"] == repeat + 2,
                "summary never_awaited %s, want %s" % (ls.summary()["never_awaited"], repeat + 2))
        p.raise_if_any()


@lib.timeout(120)
@lib.each_python()
def test_watch_healthy_target_is_silent(interp):
    with lostwork_target(interp, "--healthy", "100000") as t:
        ls, rc = run_watch(t, timeout=90)
        events = [e for _, e in ls.events()]
        lost = [e for e in events if e["event"] in (
            "never_awaited", "unretrieved_exception", "destroyed_pending")]
        p = Problems("healthy target on %s" % interp.name)
        p.check(rc == 0, "exit %s" % rc)
        # silence counts only from detectors that were in place
        check_attached(p, events, interp, ("never_awaited",) if debian_dbg_missing(interp) else ())
        p.check(not lost, "%d events from a healthy target: %s" % (len(lost), lost[:3]))
        p.raise_if_any()


@lib.timeout(90)
def test_watch_summary_says_what_it_did_not_list():
    """Past the sites it tracks, the summary says how many events it did
    not list, never silently stops."""
    interp = lib.python("3.12")
    n = 4200
    with lostwork_target(interp, "--sites", str(n)) as t:
        ls = Loopscope(["watch", t.pid])
        with ls:
            lib.wait_until(lambda: lib.bpf_link_fds(ls.pid), 15)
            lib.wait_until(lambda: False, 0.5)
            t.go()
            t.wait_event("sites", 60)
            lib.wait_until(lambda: False, 0.5)
            ls.signal(signal.SIGINT)
            rc = ls.wait(20)
    p = Problems("watch summary past 4096 sites")
    p.check(rc == 0, "exit %s" % rc)
    listed = [l for l in ls.lines if re.match(r"\s+never_awaited\s+1 x  c at <sites>:\d+$", l[1])]
    more = [l for _, l in ls.lines if "more events at sites past the first 4096" in l]
    p.check(len(listed) == 4096, "%d sites listed in the summary, want 4096" % len(listed))
    p.check(len(more) == 1 and re.search(r"and %d more events" % (n - 4096), more[0]),
            "no line for the %d events not listed: %s" % (n - 4096, more))
    p.raise_if_any()


@lib.timeout(30)
def test_watch_bad_targets():
    import subprocess
    p = Problems("watch on bad targets")
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        r = lib.run_loopscope(["watch", sleeper.pid, "--duration", "1"])
        p.check(r.returncode == 1 and r.stderr_lines() == [
            "loopscope: PID %d is not a Python process" % sleeper.pid],
            "non-Python: exit %s, %r" % (r.returncode, r.stderr))
    finally:
        sleeper.kill()
        sleeper.wait()
    r = lib.run_loopscope(["watch", "4194303"])
    p.check(r.returncode == 1 and "no such process" in r.stderr, "missing PID: %r" % r.stderr)
    r = lib.run_loopscope(["watch"])
    p.check(r.returncode == 2, "no PID: exit %s" % r.returncode)
    p.raise_if_any()


@lib.timeout(45)
def test_watch_text_repeat_count_catches_up():
    """Text: a site that fired 20 times in 3 s, then stopped, has its full
    count said within 5 s of its first block (not when, if ever, it fires
    again), in the words of its block, not the JSON event name."""
    interp = lib.python("debian-3.11")
    repeat = 20
    with lostwork_target(interp, "--repeat", str(repeat)) as t:
        ls = Loopscope(["watch", t.pid])
        with ls:
            if not lib.wait_until(lambda: any("Watching PID" in l for l in ls.stderr), 20):
                raise AssertionError("watch did not start: %s" % ls.stderr)
            t.go()
            t.wait_event("done", 30)
            rx = re.compile(r"NEVER AWAITED again \(forgotten\) at .*: %d times so far" % repeat)
            said = lib.wait_until(lambda: any(rx.search(l) for _, l in ls.lines), 6, 0.1)
            ls.signal(signal.SIGINT)
            ls.wait(15)
    p = Problems("text repeat lines")
    p.check(said, "the count of %d was never said: %r" % (
        repeat, [l for _, l in ls.lines if "again" in l]))
    p.check(not any("never_awaited again" in l for _, l in ls.lines), "internal name in a repeat line")
    p.raise_if_any()


LATE_ASYNCIO = """
import gc, json, sys, time, warnings
warnings.simplefilter("ignore")
print("READY {}", flush=True)
sys.stdin.readline()
time.sleep(0.3)
import asyncio, logging
logging.disable(logging.CRITICAL)
print(json.dumps({"event": "imported"}), flush=True)
time.sleep(2.0)   # loopscope looks for asyncio once a second

async def boom():
    raise ValueError("late")

async def main():
    asyncio.create_task(boom(), name="late-task")
    for _ in range(3):
        await asyncio.sleep(0.05)
        gc.collect()

asyncio.run(main())
gc.collect()
print(json.dumps({"event": "done"}), flush=True)
while True:
    time.sleep(1)
"""


@lib.timeout(45)
def test_watch_says_when_task_checks_start():
    """A target that imports asyncio after watch attached: the attached
    event says "tasks": false, a "detectors" event says when they turn on
    (before the target's first bug), and that bug is reported."""
    interp = lib.python("debian-3.11")
    with Target([interp.path, "-c", LATE_ASYNCIO], name="late asyncio") as t:
        ls = Loopscope(["watch", t.pid, "--json"])
        with ls:
            if not lib.wait_until(lambda: any('"attached"' in l for _, l in ls.lines), 20):
                raise AssertionError("watch printed no attached event: %s" % ls.stderr)
            t.go()
            t.wait_event("done", 20)
            lib.wait_until(lambda: False, 0.5)
            ls.signal(signal.SIGINT)
            ls.wait(15)
    events = [e for _, e in ls.events()]
    p = Problems("asyncio imported after watch attached")
    p.check(events and events[0].get("detectors", {}).get("tasks") is False,
            "attached event %s" % (events[:1],))
    names = [e["event"] for e in events]
    on = [i for i, e in enumerate(events) if e["event"] == "detectors" and e["detectors"].get("tasks")]
    bug = [i for i, e in enumerate(events) if e["event"] == "unretrieved_exception"]
    p.check(len(on) == 1, "%d detectors events saying tasks are on: %s" % (len(on), names))
    p.check(bug, "the late task's exception is not reported: %s" % names)
    if on and bug:
        p.check(on[0] < bug[0], "tasks said on after the bug: %s" % names)
    p.raise_if_any()
