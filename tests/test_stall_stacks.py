# SPDX-License-Identifier: GPL-2.0-only
"""Stall stacks beyond the blocking line: a loop waiting for the GIL held by
another thread is reported with that thread and its stack ("wait": "gil");
one waiting on another lock is reported as that ("wait": "lock" and the
futex's address), never as a GIL wait."""
import os
import re
import signal

import lib
from lib import Loopscope, Problems, Target

GIL_HOG_PY = os.path.join(lib.TARGETS_DIR, "gil_hog.py")


def check_gil_stalls(p, t, ls, what):
    hogs = t.events("hog")
    stalls = ls.finished_stalls()
    p.check(len(hogs) == 3, "%s: the target made %d hog calls, not 3" % (what, len(hogs)))
    for h in hogs:
        over = [s for s in stalls if s["ts"] < h["start"] + h["duration_ms"] / 1000 and
                s["ts"] + s["duration_ms"] / 1000 > h["start"]]
        if not p.check(over, "%s: no stall while the hog held the GIL at %.3f" % (what, h["start"])):
            continue
        s = max(over, key=lambda x: x["duration_ms"])
        holder = s.get("gil_holder")
        p.check(s["tid"] == t.info["loop_tid"], "%s: stall on tid %s" % (what, s["tid"]))
        p.check(s.get("wait") == "gil" and "futex" not in s,
                "%s: a GIL wait reads as wait %r futex %r" % (what, s.get("wait"), s.get("futex")))
        if not p.check(isinstance(holder, dict) and holder.get("tid") == t.info["hog_tid"],
                       "%s: gil_holder %r, want tid %s" % (what, holder, t.info["hog_tid"])):
            continue
        top = holder["stack"][0] if holder["stack"] else {}
        p.check(top.get("func") == "hog" and top.get("line") == t.info["line"],
                "%s: GIL holder's top frame %s, want hog at line %s" % (what, top, t.info["line"]))
        futex = [c for c in s["syscalls"] if c["name"] == "futex"]
        p.check(futex and futex[0] == s["syscalls"][0],
                "%s: a GIL wait spends its time in futex: %s" % (what, s["syscalls"]))


def run(interp, *args):
    with Target([interp.path, GIL_HOG_PY] + list(args), name="gil_hog@%s" % interp.name,
                ready_timeout=30) as t:
        with Loopscope.stalls(t.pid, threshold=100, duration=30) as ls:
            ls.wait_attached()
            t.go()
            t.wait_event("all_done", 20)
            ls.signal(signal.SIGINT)
            rc = ls.wait(10)
        p = Problems("GIL holder on %s" % interp.name)
        p.check(rc == 0, "loopscope exit %s" % rc)
        check_gil_stalls(p, t, ls, interp.name)
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python()
def test_stall_names_gil_holder(interp):
    run(interp)


@lib.timeout(60)
@lib.each_python(lib.UVLOOP_PYTHONS)
def test_stall_names_gil_holder_uvloop(interp):
    if not interp.has_uvloop:
        raise lib.Skip("no uvloop for %s" % interp.path)
    run(interp, "--uvloop")


def check_lock_stalls(p, t, stalls, what):
    recs = t.stalls()
    p.check(len(recs) == 2, "%s: the target made %d lock stalls, not 2" % (what, len(recs)))
    for rec in recs:
        over = [s for s in stalls if s["tid"] == rec["tid"] and
                s["ts"] < rec["start"] + rec["duration_ms"] / 1000 and
                s["ts"] + s["duration_ms"] / 1000 > rec["start"]]
        if not p.check(over, "%s: no stall for the lock wait at %.3f" % (what, rec["start"])):
            continue
        s = max(over, key=lambda x: x["duration_ms"])
        p.check(s.get("wait") == "lock" and "gil_holder" not in s,
                "%s: a lock wait reads as wait %r gil_holder %r" % (
                    what, s.get("wait"), s.get("gil_holder")))
        p.check(isinstance(s.get("futex"), str) and int(s["futex"], 16) > 0,
                "%s: the lock's futex is %r" % (what, s.get("futex")))
        top = s["stack"][0] if s["stack"] else {}
        p.check(top.get("line") == rec["line"],
                "%s: the lock wait's top frame %s, want line %s" % (what, top, rec["line"]))


@lib.timeout(60)
@lib.each_python()
def test_stall_lock_wait_is_not_the_gil(interp):
    """The `lock` stall of stalls.py (a threading.Lock a helper thread holds):
    a futex wait that is not the GIL's, in JSON, and in text on Debian's
    python3.11 (the text says what the JSON does, on any version)."""
    p = Problems("lock wait on %s" % interp.name)
    for json_out in (True, False) if interp.name == "debian-3.11" else (True,):
        with Target.python(interp, "--kinds", "lock", "--repeat", 2, "--stall-ms", 250) as t:
            with Loopscope.stalls(t.pid, threshold=100, duration=30, json_out=json_out) as ls:
                ls.wait_attached()
                t.go()
                t.wait_event("all_done", 20)
                ls.signal(signal.SIGINT)
                p.check(ls.wait(10) == 0, "loopscope exit %s" % ls.returncode)
            if json_out:
                check_lock_stalls(p, t, ls.finished_stalls(), interp.name)
                continue
            said = re.findall(r"waiting on a lock \(futex 0x[0-9a-f]+\)", ls.stdout)
            p.check(len(said) >= 2 and "GIL" not in ls.stdout,
                    "text: %d lock-wait lines (want 2), GIL named: %s" % (len(said), "GIL" in ls.stdout))
    p.raise_if_any()
