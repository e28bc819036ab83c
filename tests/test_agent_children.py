# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope agent --children MASTER` on gunicorn (Debian's package) with
aiohttp workers: every worker watched, a worker that replaces a killed one
found within a second, the agent's end when the master is gone."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import lib
from agentlib import Agent, free_port
from lib import Problems

GUNICORN = "/usr/bin/gunicorn"


def workers(master):
    """The master's child processes, from /proc."""
    kids = []
    task_dir = "/proc/%d/task" % master
    for tid in os.listdir(task_dir):
        try:
            with open("%s/%s/children" % (task_dir, tid)) as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return sorted(kids)


def watched(client):
    return sorted(t["pid"] for t in client.result("hello")["targets"])


@lib.timeout(90)
def test_agent_children_gunicorn():
    if not os.access(GUNICORN, os.X_OK):
        raise lib.Skip("%s is not installed (Debian's gunicorn package: make deps)" % GUNICORN)
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    master = subprocess.Popen([GUNICORN, "--chdir", lib.TARGETS_DIR, "gunicorn_app:app", "-w", "2",
                               "-k", "aiohttp.GunicornWebWorker", "-b", "127.0.0.1:%d" % port,
                               "--graceful-timeout", "2"],
                              stdout=subprocess.DEVNULL, stderr=log)
    try:
        if not lib.wait_until(lambda: len(workers(master.pid)) == 2, 20):
            raise AssertionError("gunicorn started %s workers" % workers(master.pid))
        lib.wait_until(lambda: _get(port), 20)
        with Agent([], ["--children", str(master.pid)]) as a:
            a.wait_listening()
            c = a.client()
            c.result("subscribe", kinds=["target_attached", "target_exit", "agent_exit"])
            p = Problems("children")
            first = workers(master.pid)
            p.check(lib.wait_until(lambda: watched(c) == first, 10), "watched %s, workers %s" % (watched(c), first))
            os.kill(first[0], signal.SIGKILL)
            # the master forks a replacement: the agent must find it within a second
            lib.wait_until(lambda: len(workers(master.pid)) == 2 and first[0] not in workers(master.pid), 20)
            seen = time.monotonic()
            now = workers(master.pid)
            new = [w for w in now if w not in first]
            found = lib.wait_until(lambda: watched(c) == now, 5, interval=0.05)
            took = time.monotonic() - seen
            lib.log("replacement worker %s watched %.2f s after it appeared" % (new, took))
            p.check(found and took < 1.0, "replacement %s: watched %s after %.2f s" % (new, watched(c), took))
            ev = c.wait_event(lambda e: e["event"] == "target_exit" and e["pid"] == first[0], 5)
            p.check(ev is not None, "no target_exit for the killed worker")
            ps = {}

            def snapshot():
                ps.update(c.request("ps", pid=new[0]).get("result") or {})
                return ps.get("loops")
            p.check(new and lib.wait_until(snapshot, 5, interval=0.2), "the new worker's ps: %s" % str(ps)[:200])
            master.send_signal(signal.SIGTERM)
            master.wait(20)
            ev = c.wait_event(lambda e: e["event"] == "agent_exit", 15)
            p.check(ev is not None, "no agent_exit once the master and its workers are gone")
            p.check(a.wait(10) == 0, "agent exit status %s" % a.proc.returncode)
            if p.items:
                log.seek(0)
                lib.log("gunicorn:", lib.trim(log.read()))
            p.raise_if_any()
    finally:
        if master.poll() is None:
            master.kill()
            master.wait(10)


def _get(port):
    try:
        return urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2).read() == b"hello"
    except OSError:
        return False


FORKING_MASTER = os.path.join(lib.TARGETS_DIR, "forking_master.py")


def ask_in_order(c, p, rounds):
    """Pipelined stats and hello requests: the answers, which must come in
    the order asked."""
    ids = []
    for i in range(rounds):
        rid = "q%d" % c.next_id
        c.next_id += 1
        ids.append(rid)
        c.send_raw((json.dumps({"id": rid, "method": "stats" if i % 2 == 0 else "hello"}) + "\n").encode())
    answers = [c.read_answer(timeout=20) for _ in ids]
    got = [x.get("id") for x in answers]
    p.check(got == ids, "answers out of order: asked %s, got %s" % (ids, got))
    return [x.get("result") or {} for x in answers]


def _attach_events(c, pid):
    return [e for _, e in c.events if e.get("pid") == pid and e["event"] in ("target_attached", "target_exit")]


@lib.timeout(120)
def test_agent_children_attach_off_the_loop():
    """A master that replaces its workers again and again, one of them
    killed -9 while the agent attaches it: a subscribed client's stats and
    hello answers keep coming, in the order asked, while attaches are under
    way (stats lists them in "attaching"); every worker alive is attached
    once, every one gone (killed, or replaced before its attach ended) is
    reported gone once."""
    interp = lib.python("debian-3.11")
    argv = [interp.path, FORKING_MASTER, "--workers", "2", "--replace", "6", "--every", "1.0"]
    with lib.Target(argv, name="forking_master.py") as m, Agent([], ["--children", str(m.pid)]) as a:
        a.wait_listening()
        c = a.client()
        c.result("subscribe", kinds=["target_attached", "target_exit"])
        p = Problems("attach off the loop")
        m.go()
        seen_attaching, victim, killed_while = set(), None, False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pids = [r["pid"] for r in m.events("worker")]
            for res in ask_in_order(c, p, 6):
                if isinstance(res.get("agent"), dict):
                    seen_attaching.update(res["agent"].get("attaching", []))
                p.check("targets" in res, "an answer without targets: %s" % str(res)[:200])
            if victim is None and len(pids) >= 4 and pids[3] in seen_attaching:
                victim = pids[3]
                killed_while = True
                os.kill(victim, signal.SIGKILL)
            done = m.events("done")
            if done and all(_attach_events(c, w) for w in pids):
                break
            time.sleep(0.02)
        c.wait_event(lambda e: False, 1.0)  # the last exits' events
        pids = [r["pid"] for r in m.events("worker")]
        p.check(m.events("done"), "the master did not finish its replacements")
        p.check(seen_attaching, "no stats answer ever saw an attach under way: attaching blocks the loop")
        p.check(killed_while, "worker %s was never seen being attached" % (pids[3:4],))
        alive = sorted(workers(m.pid))
        attached = 0
        for w in pids:
            evs = [(e["event"], e.get("reason")) for e in _attach_events(c, w)]
            attached += evs[:1] == [("target_attached", None)]
            if w == victim or w not in alive:
                # gone: killed by us, or replaced by the master, maybe before its attach ended
                ok = evs in ([("target_exit", "exited while it was being attached")],
                             [("target_attached", None), ("target_exit", "exited")])
                p.check(ok, "worker %d, gone: events %s" % (w, evs))
            else:
                p.check(evs == [("target_attached", None)], "worker %d, alive: events %s" % (w, evs))
        lib.log("killed worker %s: %s; %d of %d workers attached" % (
            victim, [(e["event"], e.get("reason")) for e in _attach_events(c, victim)], attached, len(pids)))
        p.check(attached >= len(pids) // 2, "only %d of %d workers were attached" % (attached, len(pids)))
        p.check(lib.wait_until(lambda: watched(c) == alive, 10), "watched %s, workers %s" % (watched(c), alive))
        p.check(a.proc.poll() is None, "the agent died")
        p.raise_if_any()
