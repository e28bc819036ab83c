# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope agent --children MASTER` on gunicorn (Debian's package) with
aiohttp workers: every worker watched, a worker that replaces a killed one
found within a second, the agent's end when the master is gone."""
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
