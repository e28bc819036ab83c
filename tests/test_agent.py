# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope agent`: real targets, a real agent, real Unix sockets. What
the agent serves is checked against what the targets measured and logged
themselves; hostile clients must leave it unharmed."""
import os
import signal
import socket
import threading
import time

import lib
from agentlib import Agent, Client
from lib import Problems, Target

SHORTLIVED_PY = os.path.join(lib.TARGETS_DIR, "shortlived.py")
LOSTWORK_PY = os.path.join(lib.TARGETS_DIR, "lostwork.py")
# what the agent's task_done says of each way shortlived.py's tasks end
ENDED_AS = {"done": "finished", "cancelled": "cancelled", "raised": "raised ValueError", "dropped": "unknown"}


def debian():
    return lib.python("debian-3.11")


def stall_target(interp, *args):
    return Target.python(interp, "--kinds", "sleep,cpu", "--repeat", "2", *args)


@lib.timeout(60)
def test_agent_clients():
    """Three clients at once: hello, ps, dump, stats, stalls and history
    agree with the target (its pid, python, loop thread, the stalls it made)."""
    interp = debian()
    with stall_target(interp) as t, Agent([t.pid]) as a:
        a.wait_listening()
        clients = [a.client() for _ in range(3)]
        t.go()
        t.wait_event("all_done", 30)
        time.sleep(1.2)  # a snapshot, and the last stall delivered
        p = Problems("agent answers")
        made = t.stalls()
        for c in clients:
            hello = c.result("hello")
            p.check(hello["protocol"] == 1, "protocol %s" % hello["protocol"])
            tg = hello["targets"]
            p.check(len(tg) == 1 and tg[0]["pid"] == t.pid, "hello targets %s" % tg)
            p.check(tg and tg[0]["python"] == "3.11.2" and tg[0]["loop"] == "asyncio", "hello %s" % tg)
            ps = c.result("ps")
            p.check(ps["pid"] == t.pid and ps["tasks"], "ps: %s" % str(ps)[:300])
            p.check(any(l["tid"] == t.pid for l in ps["loops"]), "ps loops %s" % ps["loops"])
            dump = c.result("dump")
            p.check(any(th["tid"] == t.pid for th in dump["threads"]), "dump threads %s" %
                    [th["tid"] for th in dump["threads"]])
            stats = c.result("stats")["targets"][0]
            p.check(stats["stalls"]["stalls"] == len(made), "stats: %d stalls, target made %d" %
                    (stats["stalls"]["stalls"], len(made)))
            hist = c.result("history", kinds=["stall"])["events"]
            p.check(len(hist) == len(made), "history: %d stalls, target made %d" % (len(hist), len(made)))
            for s, ev in zip(sorted(made, key=lambda s: s["start"]), hist):
                p.check(abs(ev["duration_ms"] - s["duration_ms"]) < 20,
                        "stall %s: %.1f ms, target measured %.1f" % (s["kind"], ev["duration_ms"], s["duration_ms"]))
                p.check(any(f["line"] == s["line"] for f in ev["stack"]),
                        "stall %s: no frame at line %d" % (s["kind"], s["line"]))
            tree = c.result("pstree")
            p.check(tree["tasks"], "pstree empty")
            who = c.request("where", task=ps["tasks"][0]["id"])
            p.check(who.get("result", {}).get("task", {}).get("id") == ps["tasks"][0]["id"], "where %s" % who)
            p.check(c.result("stalls")["targets"][0]["summary"]["stalls"] == len(made), "stalls request")
        p.raise_if_any()


@lib.timeout(60)
def test_agent_subscribe_ongoing():
    """A subscriber gets a 2 s stall's ongoing event before the stall ends,
    then the final one with the same id."""
    with Target.python(debian(), "--kinds", "sleep", "--stall-ms", "2000") as t, Agent([t.pid]) as a:
        a.wait_listening()
        c = a.client()
        c.result("subscribe", kinds=["stall"], pids=[t.pid])
        t.go()
        ongoing = c.wait_event(lambda e: e["event"] == "stall" and e["ongoing"], 15)
        seen_at = time.time()
        final = c.wait_event(lambda e: e["event"] == "stall" and not e["ongoing"], 15)
        t.wait_event("stall", 10)
        s = t.stalls()[0]
        p = Problems("subscribe")
        p.check(ongoing is not None, "no ongoing event")
        p.check(final is not None, "no final event")
        if ongoing and final:
            end = s["start"] + s["duration_ms"] / 1000
            p.check(seen_at < end - 0.5, "ongoing event came %.2f s before the stall ended" % (end - seen_at))
            p.check(ongoing["id"] == final["id"], "ids %s %s" % (ongoing["id"], final["id"]))
            p.check(abs(final["duration_ms"] - s["duration_ms"]) < 20, "final %.1f vs %.1f" %
                    (final["duration_ms"], s["duration_ms"]))
        p.raise_if_any()


def wait_task_history(c, names, timeout=10):
    """The task_done history by task name, once it holds every one of names
    (a snapshot saw each done or gone), or as it is after timeout."""
    def history():
        return {e["name"]: e for e in c.result("history", kinds=["task_done"])["events"]}
    return lib.wait_until(lambda: (lambda h: h if names <= set(h) else None)(history()),
                          timeout, 0.2) or history()


@lib.timeout(120)
@lib.each_python()
def test_agent_task_history(interp):
    """Tasks that finished are in the history with their names, last
    location and how they ended, against what the target logged as each
    ended: a task kept referenced is seen done by the next snapshot
    (finished, cancelled, raised ValueError); one let go at once is
    "unknown"."""
    with Target([interp.path, SHORTLIVED_PY, "--tasks", "20", "--dropped", "3"]) as t, Agent([t.pid]) as a:
        a.wait_listening()
        c = a.client()
        t.go()
        t.wait_event("all_done", 30)
        finished = [r for _, r in t.records if r.get("event") == "task_finished"]
        by_name = wait_task_history(c, {r["name"] for r in finished})
        p = Problems("task history")
        line = t.info["sleep_line"]
        for r in finished:
            e = by_name.get(r["name"])
            if not p.check(e is not None, "%s (%s) not in history" % (r["name"], r["how"])):
                continue
            loc = e["location"] or {}
            # in asyncio.sleep, or in job itself when the snapshot read it running
            p.check(loc.get("func") in ("sleep", "job"), "%s: last location %s (asyncio.sleep)" % (r["name"], loc))
            p.check(any(f["line"] in (line, line + 2) and f["file"].endswith("shortlived.py")
                        for f in e.get("stack", [])),
                    "%s: stack %s has no frame at shortlived.py:%d" % (r["name"], e.get("stack"), line))
            p.check(e["coro"].endswith("job"), "%s: coro %s" % (r["name"], e["coro"]))
            p.check(e["first_seen"] <= e["last_seen"] <= e["ts"], "%s: times %s" % (r["name"], e))
            want = ENDED_AS[r["how"]] if interp.version[1] < 14 or r["how"] == "dropped" else "unknown"
            p.check(e["ended"] == want, "%s (%s): ended %r, want %r" % (r["name"], r["how"], e["ended"], want))
        p.check(sum(r["how"] == "dropped" for r in finished) == 3, "the target's dropped tasks: %s" % finished)
        p.raise_if_any()


@lib.timeout(60)
def test_agent_hostile_clients():
    """Garbage, a 10 MB line, a client that never reads, one that vanishes
    mid-answer: each gets an error or is cut off; the others are served."""
    with Target.python(debian(), "--mode", "healthy", "--tasks", "2000") as t, Agent([t.pid]) as a:
        a.wait_listening()
        t.go()
        time.sleep(1.5)
        p = Problems("hostile clients")
        c = a.client()
        for raw, code in ((b"garbage\n", "parse_error"), (b"[1,2]\n", "bad_request"),
                          (b'{"method":7}\n', "bad_request"), (b'{"id":"x","method":"nope"}\n', "unknown_method"),
                          (b'{"method":"ps","pid":"1"}\n', "bad_request"),
                          (b'{"method":"ps","pid":1}\n', "no_target"),
                          (b'{"method":"where"}\n', "bad_request"),
                          (b'{"method":"subscribe","kinds":["x"]}\n', "bad_request"),
                          (b'{"method":"source","file":"/etc/shadow"}\n', "not_found"),
                          (b'{"method":"hello"}\xff\n', "parse_error")):
            c.send_raw(raw)
            ans = c.read_answer()
            p.check(ans.get("error", {}).get("code") == code, "%r: %s" % (raw, ans))
        c.send_raw(b'{"method":"hello","pad":"' + b"x" * (10 << 20) + b'"}\n')
        ans = c.read_answer(timeout=20)
        p.check(ans.get("error", {}).get("code") == "line_too_long", "10 MB line: %s" % str(ans)[:200])
        p.check("result" in c.request("hello"), "no hello after the long line")
        # never reads: asks for big answers and events, reads nothing
        lazy = a.client()
        lazy.send_raw(b'{"method":"subscribe"}\n' + b'{"method":"ps"}\n' * 3000)
        # vanishes mid-answer
        for _ in range(20):
            v = a.client()
            v.send_raw(b'{"method":"ps"}\n{"method":"dump"}\n')
            v.close()
        worst = 0
        for _ in range(20):
            t0 = time.monotonic()
            p.check("result" in c.request("stats"), "no stats answer")
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.05)
        lib.log("worst stats answer while others misbehave: %.1f ms" % (worst * 1e3))
        p.check(worst < 0.25, "stats took %.0f ms" % (worst * 1e3))
        p.check(a.proc.poll() is None, "the agent died")
        lazy.close()
        p.raise_if_any()


def _agent_progs(agent_pid):
    return lib.wait_until(lambda: lib.bpf_ids_held(agent_pid)[0], 15)


@lib.timeout(60)
def test_agent_sigterm():
    """SIGTERM: subscribers get agent_exit, the socket goes, exit 0, no
    program of the agent is left in the kernel."""
    with Target.python(debian(), "--mode", "healthy") as t, Agent([t.pid]) as a:
        a.wait_listening()
        progs = _agent_progs(a.pid)
        c = a.client()
        c.result("subscribe")
        a.signal(signal.SIGTERM)
        ev = c.wait_event(lambda e: e["event"] == "agent_exit", 10)
        rc = a.wait(10)
        p = Problems("sigterm")
        p.check(ev is not None and ev.get("reason") == "SIGTERM", "agent_exit: %s" % ev)
        p.check(rc == 0, "exit status %s" % rc)
        p.check(not os.path.exists(a.socket), "socket left behind")
        # the kernel frees a program shortly after its last reference
        lib.wait_until(lambda: not (set(lib.bpf_objects()[0]) & progs), 5)
        left = set(lib.bpf_objects()[0]) & progs
        p.check(progs and not left, "programs left: %s of %s" % (left, progs))
        p.raise_if_any()


@lib.timeout(60)
def test_agent_sigkill_leaves_no_bpf():
    with Target.python(debian(), "--mode", "healthy") as t, Agent([t.pid]) as a:
        a.wait_listening()
        progs = _agent_progs(a.pid)
        a.proc.kill()
        a.proc.wait(10)
        left = lib.wait_until(lambda: not (set(lib.bpf_objects()[0]) & progs), 10)
        if not progs or not left:
            raise AssertionError("after SIGKILL: programs %s still loaded" %
                                 (set(lib.bpf_objects()[0]) & progs))


@lib.timeout(60)
def test_agent_target_exit():
    """Of two targets, one exits: target_exit, the agent goes on; the second
    exits: the agent ends, exit 0."""
    interp = debian()
    with Target.python(interp, "--mode", "healthy") as t1, \
            Target.python(interp, "--mode", "healthy") as t2, Agent([t1.pid, t2.pid]) as a:
        a.wait_listening()
        c = a.client()
        c.result("subscribe", kinds=["target_exit", "agent_exit"])
        t1.kill()
        ev = c.wait_event(lambda e: e["event"] == "target_exit" and e["pid"] == t1.pid, 10)
        p = Problems("target exit")
        p.check(ev is not None, "no target_exit for %d" % t1.pid)
        hello = c.result("hello")
        p.check([x["pid"] for x in hello["targets"]] == [t2.pid], "targets now %s" % hello["targets"])
        t2.kill()
        p.check(c.wait_event(lambda e: e["event"] == "agent_exit", 10) is not None, "no agent_exit")
        p.check(a.wait(10) == 0, "exit status %s" % a.proc.returncode)
        p.raise_if_any()


def _spew_line(ev):
    """The line of lostwork.py's spew() an event's stack names, or None."""
    return next((f["line"] for f in ev.get("stack", []) if f["func"] == "spew"), None)


@lib.timeout(60)
def test_agent_lost_work_per_site():
    """Thousands of never-awaited coroutines a second at two lines: per site
    a subscriber gets the first event, then at most one a second with
    "repeat": N; the events' counts add up to all the agent saw (stats), and
    the history keeps the same events."""
    interp = debian()
    argv = [interp.path, LOSTWORK_PY, "--spew", "3"]
    with Target(argv, name="lostwork.py --spew") as t, Agent([t.pid]) as a:
        a.wait_listening()
        c = a.client()
        c.result("subscribe", kinds=["never_awaited"])
        t0 = time.monotonic()
        t.go()
        made = t.wait_event("spewed", 30)[0]
        c.wait_event(lambda e: False, 2.5)  # the last held counts are due within a second
        elapsed = time.monotonic() - t0
        p = Problems("lost work per site")
        seen = c.result("stats")["targets"][0]["lost"]["never_awaited"]
        events = [e for _, e in c.events]
        lib.log("made %d + %d, the agent saw %d, sent %d lines over %.1f s" %
                (made["a"], made["b"], seen, len(events), elapsed))
        p.check(seen > 1000, "the agent saw %d never-awaited coroutines, made %d" %
                (seen, made["a"] + made["b"]))
        counted = 0
        for key in ("line_a", "line_b"):
            evs = [e for e in events if _spew_line(e) == made[key]]
            p.check(evs and "repeat" not in evs[0], "line %d: first event %s" % (made[key], evs[:1]))
            p.check(len(evs) <= 2 + elapsed, "line %d: %d events in %.1f s" % (made[key], len(evs), elapsed))
            p.check(all(e.get("repeat", 0) >= 1 for e in evs[1:]), "line %d: a later event without repeat" % made[key])
            counted += sum(e.get("repeat", 1) for e in evs)
        p.check(counted == seen, "the events count %d, stats %d" % (counted, seen))
        hist = c.result("history", kinds=["never_awaited"])["events"]
        p.check(sum(e.get("repeat", 1) for e in hist) == seen and len(hist) == len(events),
                "history: %d events counting %d" % (len(hist), sum(e.get("repeat", 1) for e in hist)))
        p.raise_if_any()


def test_agent_usage():
    r = lib.run_loopscope(["agent", "--help"])
    p = Problems("agent usage")
    p.check(r.returncode == 0 and "USAGE: loopscope agent PID" in r.stdout, "--help: %s" % r.stdout[:200])
    for bad in ([], ["1", "--retain", "soon"], ["1", "--threshold", "-4"], ["notapid"]):
        r = lib.run_loopscope(["agent"] + bad)
        p.check(r.returncode == 2, "agent %s: exit %s" % (bad, r.returncode))
    p.raise_if_any()
