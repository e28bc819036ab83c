# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope dump PID` against targets whose stacks are known.

The ground truth is the target's own sys._current_frames(), taken while
every thread is parked (tests/targets/stacks.py): every frame's function,
file and line must match, on every supported Python.
"""
import json
import os
import random
import subprocess
import time

import lib
from lib import Problems, Target

STACKS_PY = os.path.join(lib.TARGETS_DIR, "stacks.py")


def stacks_target(interp, *args):
    return Target([interp.path, STACKS_PY] + list(args), name="stacks.py@%s" % interp.name)


def dump_json(pid):
    r = lib.run_loopscope(["dump", pid, "--json"], timeout=30)
    if r.returncode != 0:
        raise AssertionError("loopscope dump exited %s: %s" % (r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


def fmt(frames, limit=8):
    return " <- ".join("%s (%s:%s)" % (f["func"], os.path.basename(f["file"]), f["line"])
                       for f in frames[:limit]) + (" ..." if len(frames) > limit else "")


def compare_thread(p, want, got):
    name = "thread %s (%s)" % (want["tid"], want["name"])
    p.check(got["name"] == want["name"], "%s: name %r, want %r" % (name, got["name"], want["name"]))
    if not p.check(len(got["stack"]) == len(want["stack"]),
                   "%s: %d frames, want %d\n      got:  %s\n      want: %s" % (
                       name, len(got["stack"]), len(want["stack"]), fmt(got["stack"]),
                       fmt(want["stack"]))):
        return
    for i, (g, w) in enumerate(zip(got["stack"], want["stack"])):
        if (g["func"], g["file"], g["line"]) != (w["func"], w["file"], w["line"]):
            p.add("%s: frame %d is %s (%s:%s), want %s (%s:%s)" % (
                name, i, g["func"], g["file"], g["line"], w["func"], w["file"], w["line"]))
            break


@lib.timeout(60)
@lib.each_python()
def test_dump_matches_current_frames(interp):
    with stacks_target(interp) as t:
        doc = dump_json(t.pid)
        p = Problems("dump of %s" % interp.name)
        p.check(doc["pid"] == t.pid, "pid %s, want %s" % (doc["pid"], t.pid))
        p.check(doc["python"] == t.info["python"], "python %r, want %r" % (
            doc["python"], t.info["python"]))
        by_tid = {th["tid"]: th for th in doc["threads"]}
        for want in t.info["threads"]:
            got = by_tid.get(want["tid"])
            if p.check(got is not None, "thread %s (%s) missing from dump" % (
                    want["tid"], want["name"])):
                compare_thread(p, want, got)
        p.check(t.info["reporter_tid"] in by_tid, "the reporter thread is missing")
        p.check(not any(th["gil"] for th in doc["threads"]),
                "a thread holds the GIL while all are parked: %s" % [
                    th["tid"] for th in doc["threads"] if th["gil"]])
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python()
def test_dump_names_the_gil_holder(interp):
    with stacks_target(interp, "--gil") as t:
        hog = [th for th in dump_json(t.pid)["threads"] if th["name"] == "gil-hog"]
        deadline = time.monotonic() + 10
        holders = []
        while time.monotonic() < deadline:
            doc = dump_json(t.pid)
            holders = [th for th in doc["threads"] if th["gil"]]
            if holders and holders[0]["name"] == "gil-hog":
                break
            time.sleep(0.2)
        p = Problems("GIL holder on %s" % interp.name)
        p.check(len(hog) == 1, "no gil-hog thread in dump")
        p.check([h["name"] for h in holders] == ["gil-hog"],
                "GIL holders %s, want exactly gil-hog" % [(h["tid"], h["name"]) for h in holders])
        if holders:
            top = holders[0]["stack"][0] if holders[0]["stack"] else {}
            p.check(top.get("func") == "gil_hog" and top.get("file") == STACKS_PY,
                    "the GIL holder's top frame is %s, want gil_hog in stacks.py" % top)
        p.raise_if_any()


@lib.timeout(90)
@lib.each_python()
def test_dump_deep_recursion_is_truncated(interp):
    depth = 10000
    with stacks_target(interp, "--deep", str(depth)) as t:
        doc = dump_json(t.pid)
        want = [th for th in t.info["threads"] if th["name"] == "deep"][0]
        got = [th for th in doc["threads"] if th["name"] == "deep"]
        p = Problems("deep stack on %s" % interp.name)
        if p.check(len(got) == 1, "thread 'deep' missing"):
            got = got[0]
            p.check(len(want["stack"]) > depth, "the target's own stack is only %d deep" %
                    len(want["stack"]))
            p.check(got.get("truncated") is True, "a %d-frame stack is not marked truncated" %
                    len(want["stack"]))
            n = len(got["stack"])
            p.check(0 < n < len(want["stack"]), "%d frames of %d" % (n, len(want["stack"])))
            p.check(got["stack"] == want["stack"][:n],
                    "the first %d frames differ from the target's:\n      got:  %s\n      want: %s"
                    % (n, fmt(got["stack"]), fmt(want["stack"])))
        text = lib.run_loopscope(["dump", t.pid], timeout=30)
        p.check(text.returncode == 0 and "truncated" in text.stdout,
                "text dump of a deep stack has no truncation marker (exit %s)" % text.returncode)
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python()
def test_dump_shows_running_task(interp):
    with stacks_target(interp, "--asyncio") as t:
        check_running_task(t, interp.name)


@lib.timeout(60)
@lib.each_python(lib.UVLOOP_PYTHONS)
def test_dump_shows_running_task_uvloop(interp):
    if not interp.has_uvloop:
        raise lib.Skip("no uvloop for %s" % interp.path)
    with stacks_target(interp, "--uvloop") as t:
        check_running_task(t, "%s + uvloop" % interp.name)


def check_running_task(t, what):
    doc = dump_json(t.pid)
    main = [th for th in doc["threads"] if th["tid"] == t.info["main_tid"]]
    p = Problems("running task on %s" % what)
    if p.check(len(main) == 1, "main thread %s missing" % t.info["main_tid"]):
        task = main[0]["task"]
        p.check(task is not None and task["name"] == "the-blocker" and
                task["coro"] == "blocking_task" and task["id"].startswith("0x"),
                "running task %s, want the-blocker (blocking_task)" % task)
        top = main[0]["stack"][0] if main[0]["stack"] else {}
        p.check(top.get("line") == t.info["blocking_line"] and top.get("func") == "blocking_task",
                "top frame %s, want blocking_task at line %s" % (top, t.info["blocking_line"]))
    p.raise_if_any()


@lib.timeout(60)
def test_dump_bad_targets():
    p = Problems("dump of things that are not (supported) Pythons")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        r = lib.run_loopscope(["dump", sleeper.pid])
        p.check(r.returncode == 1 and r.stderr_lines() == [
            "loopscope: PID %d is not a Python process" % sleeper.pid],
            "non-Python PID: exit %s, stderr %r" % (r.returncode, r.stderr))
    finally:
        sleeper.kill()
        sleeper.wait()
    r = lib.run_loopscope(["dump", "4194303"])
    p.check(r.returncode == 1 and len(r.stderr_lines()) == 1 and "no such process" in r.stderr,
            "missing PID: exit %s, stderr %r" % (r.returncode, r.stderr))
    p.raise_if_any()


@lib.timeout(30)
@lib.params(lib.Param(v, v) for v in ("3.6", "3.7", "3.8", "3.9"))
def test_dump_unsupported_python(ver):
    """An older Python, asyncio imported (its _asyncio.cpython-3Xm-...so is
    mapped too), is refused with its own version number."""
    old = lib._find_pyenv(ver)
    if not old:
        raise lib.Skip("no pyenv build of Python %s to refuse" % ver)
    p = Problems("dump of Python %s" % ver)
    proc = subprocess.Popen([old, "-c", "import asyncio, time; time.sleep(60)"])
    try:
        time.sleep(0.5)
        r = lib.run_loopscope(["dump", proc.pid])
        p.check(r.returncode == 1 and r.stderr_lines() == [
            "loopscope: PID %d runs Python %s, which is not supported (supported: %s)" % (
                proc.pid, ver, ", ".join(lib.supported_versions()))],
            "Python %s: exit %s, stderr %r" % (ver, r.returncode, r.stderr))
    finally:
        proc.kill()
        proc.wait()
    p.raise_if_any()


EXITER = r"""
import sys, threading, time
def spin(n):
    if n: return spin(n - 1)
    while True: time.sleep(0.0001)
for i in range(8):
    threading.Thread(target=spin, args=(200,), daemon=True).start()
time.sleep(float(sys.argv[1]))
"""


@lib.timeout(120)
def test_dump_target_exiting_mid_read():
    """Targets that exit at random moments while being dumped: every run
    ends with exit 0 or a one-line error and exit 1, never a crash."""
    interp = [i for i in lib.pythons() if not i.missing][0]
    p = Problems("dump of exiting targets")
    rng = random.Random(4)
    outcomes = {}
    for _ in range(40):
        proc = subprocess.Popen([interp.path, "-c", EXITER, "%.3f" % rng.uniform(0.05, 0.4)])
        try:
            time.sleep(0.03)
            while proc.poll() is None:
                r = lib.run_loopscope(["dump", proc.pid, "--json"], timeout=20)
                outcomes[r.returncode] = outcomes.get(r.returncode, 0) + 1
                if r.returncode == 0:
                    json.loads(r.stdout)
                elif not (r.returncode == 1 and len(r.stderr_lines()) == 1):
                    p.add("exit %s, stderr %r" % (r.returncode, r.stderr[-300:]))
        finally:
            proc.kill()
            proc.wait()
    lib.log("outcomes:", outcomes)
    p.check(outcomes.get(0, 0) > 0, "no dump succeeded at all: %s" % outcomes)
    p.raise_if_any()
