# SPDX-License-Identifier: GPL-2.0-only
"""`stalls` and `watch` follow a target that execs (the same PID runs a new
program: itself again, or another Python): a target_exec event, then the
new program's stalls with their lines and its lost work, as the target
measured them (tests/targets/reexec.py)."""
import os
import signal
import time

import lib
from lib import Loopscope, Param, Problems, Target

REEXEC_PY = os.path.join(lib.TARGETS_DIR, "reexec.py")


def pyenv_pair(first, then):
    """The case of a pyenv `first` that execs pyenv `then`."""
    interps = {i.name: i for i in lib.pythons()}
    a, b = interps[first], interps[then]
    missing = a.missing or b.missing or (None if not (a.root or b.root) else "not a pyenv pair")
    return Param("%s-to-%s" % (first, then), a, b, skip=missing)


def wait_for(ls, event, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [e for _, e in ls.events() if e["event"] == event]
        if got or ls.proc.poll() is not None:
            return got
        time.sleep(0.05)
    return []


def run_through_exec(interp, nxt, command):
    """Runs `command` on a reexec.py target across its exec: (target, loopscope, events)."""
    argv = [interp.path, REEXEC_PY] + (["--next", nxt.exe or nxt.path] if nxt else [])
    with Target(argv, name="reexec@%s" % interp.name, ready_timeout=30) as t:
        with Loopscope([command, t.pid, "--json", "--threshold", 100, "--duration", 40]) as ls:
            ls.wait_attached()
            t.go()
            t.wait_event("exec_ready", 15)
            wait_for(ls, "target_exec", 10)
            t.go()
            t.wait_event("all_done", 20)
            time.sleep(0.3)
            ls.signal(signal.SIGINT)
            rc = ls.wait(10)
    return t, ls, rc


def check_exec_event(p, t, ls, rc):
    p.check(rc == 0, "loopscope exit %s" % rc)
    execs = [e for _, e in ls.events() if e["event"] == "target_exec"]
    new = t.events("exec_ready")[0]
    if p.check(len(execs) == 1, "%d target_exec events, want 1" % len(execs)):
        e = execs[0]
        p.check(e["pid"] == t.pid and e["python"] == new["python"] and e["execs"] == 1,
                "target_exec %s, want pid %s python %s" % (e, t.pid, new["python"]))
        p.check(os.path.basename(e["exe"]) == os.path.basename(new["executable"]),
                "target_exec exe %r, the target runs %r" % (e["exe"], new["executable"]))


def check_stalls(p, t, ls):
    """Each stall before and after the exec, on its thread with its line; no other."""
    stalls = ls.finished_stalls()
    recs = t.stalls()
    p.check(sorted(r["phase"] for r in recs) == [1, 2], "target stalls %s" % recs)
    for rec in recs:
        over = [s for s in stalls if s["tid"] == rec["tid"] and
                s["ts"] < rec["start"] + rec["duration_ms"] / 1000 and
                s["ts"] + s["duration_ms"] / 1000 > rec["start"]]
        if not p.check(over, "phase %d: no stall reported for %s" % (rec["phase"], rec)):
            continue
        s = max(over, key=lambda x: x["duration_ms"])
        stalls.remove(s)
        top = s["stack"][0] if s["stack"] else {}
        p.check(top.get("file") == rec["file"] and top.get("line") == rec["line"],
                "phase %d: stall's top frame %s, want line %d" % (rec["phase"], top, rec["line"]))
        p.check(abs(s["duration_ms"] - rec["duration_ms"]) < 0.2 * rec["duration_ms"],
                "phase %d: %.1f ms reported, %.1f ms measured" % (
                    rec["phase"], s["duration_ms"], rec["duration_ms"]))
    p.check(not stalls, "stalls where the target did not stall: %s" % [
        (s["ts"], s["duration_ms"], s["stack"][:1]) for s in stalls])


def follow_stalls(interp, nxt):
    t, ls, rc = run_through_exec(interp, nxt, "stalls")
    p = Problems("stalls across the exec of %s" % t.name)
    check_exec_event(p, t, ls, rc)
    check_stalls(p, t, ls)
    p.raise_if_any()


@lib.timeout(60)
@lib.each_python()
def test_stalls_follow_a_target_that_reexecs_itself(interp):
    follow_stalls(interp, None)


@lib.timeout(60)
@lib.params([pyenv_pair("3.11", "3.13"), pyenv_pair("3.13", "3.10")])
def test_stalls_follow_an_exec_to_another_python(interp, nxt):
    follow_stalls(interp, nxt)


@lib.timeout(60)
@lib.params([Param("3.12-itself", "3.12", None), pyenv_pair("3.10", "3.12")])
def test_watch_follows_an_exec(first, nxt):
    interp = first if isinstance(first, lib.Interp) else lib.python(first)
    t, ls, rc = run_through_exec(interp, nxt, "watch")
    p = Problems("watch across the exec of %s" % t.name)
    check_exec_event(p, t, ls, rc)
    check_stalls(p, t, ls)
    events = [e for _, e in ls.events()]
    for want in t.events("lost"):
        got = [e for e in events if e["event"] == want["kind"] and
               any(f["file"] == REEXEC_PY and f["line"] == want["line"]
                   for f in e.get("stack") or e.get("traceback") or [])]
        p.check(got, "no %s event at line %d after the exec" % (want["kind"], want["line"]))
    p.raise_if_any()


@lib.timeout(60)
@lib.params([pyenv_pair("3.11", "3.13")])
def test_agent_follows_an_exec(interp, nxt):
    """The agent publishes target_exec, then the new program's stall and lost
    work, and says the new Python in hello; ps reads the new program. The
    new program stalls as soon as it is told to go after target_exec: its
    loop must be known by then, though it started after its interpreter."""
    from agentlib import Agent
    argv = [interp.path, REEXEC_PY, "--next", nxt.path, "--pause-ms", 0]
    with Target(argv, name="reexec@%s" % interp.name, ready_timeout=30) as t, Agent([t.pid]) as a:
        a.wait_listening()
        c = a.client()
        c.result("subscribe", pids=[t.pid])
        t.go()
        t.wait_event("exec_ready", 15)
        ev = c.wait_event(lambda e: e["event"] == "target_exec", 10)
        t.go()
        t.wait_event("all_done", 20)
        rec = [r for r in t.stalls() if r["phase"] == 2][0]
        stall = c.wait_event(lambda e: e["event"] == "stall" and not e["ongoing"] and
                             e["ts"] > rec["start"] - 0.05, 5)
        lost = c.wait_event(lambda e: e["event"] == "unretrieved_exception", 5)
        hello = c.result("hello")
        ps = c.request("ps", pid=t.pid)
        p = Problems("agent across the exec of %s" % t.name)
        new = t.events("exec_ready")[0]
        p.check(ev and ev["pid"] == t.pid and ev["python"] == new["python"], "target_exec %s" % ev)
        top = stall["stack"][0] if stall and stall["stack"] else {}
        p.check(top.get("line") == rec["line"], "phase 2 stall %s, want line %d" % (top, rec["line"]))
        p.check(lost and any(f["line"] == t.info["lines"]["RAISE"] for f in lost["traceback"]),
                "no unretrieved exception after the exec: %s" % lost)
        pythons = [x.get("python") for x in hello.get("targets", [])]
        p.check(pythons == [new["python"]], "hello says Python %s, want %s" % (pythons, new["python"]))
        p.check("result" in ps or ps.get("error", {}).get("code") == "no_snapshot",
                "ps after the exec: %s" % ps)
        p.raise_if_any()
