# SPDX-License-Identifier: GPL-2.0-only
"""The agent's memory on a target that names every task anew (a server
naming each request's task): task names must not be kept after the tasks
are gone, and what ps and history say must stay right meanwhile."""
import os
import re
import time

import lib
from agentlib import Agent
from lib import Problems, Target

NAMES_PY = os.path.join(lib.TARGETS_DIR, "unique_names.py")
PAD = 100  # names are read up to 127 bytes
# 200,000 tasks over ~20 s, ~10,000 alive at a time, so that each snapshot
# sees thousands of names it never saw before. Measured here: 51-55 MiB at
# most (the snapshots' passing peaks: 100 ms of reading ~10,000 tasks;
# task_done events, capped apart by --history-max).
RSS_MAX_KB = 80 * 1024
HISTORY_MB = 2


def stats(c):
    return c.result("stats")


@lib.timeout(120)
def test_agent_unique_task_names_bounded():
    with Target([lib.python("debian-3.11").path, NAMES_PY, "--pad", str(PAD)]) as t, \
            Agent([t.pid], ["--history-max", str(HISTORY_MB)]) as a:
        a.wait_listening()
        c = a.client()
        t.go()
        rss, names, alive = [], [], []
        while not t.events("done"):
            s = stats(c)
            rss.append(s["agent"]["rss_kb"])
            names.append(s["targets"][0]["names_held"])
            alive.append(s["targets"][0]["tasks"]["total"])
            if t.proc.poll() is not None or len(rss) > 60:
                break
            time.sleep(1)
        done = t.wait_event("done", 30)[0]
        lib.log("agent RSS kB, once a second:", rss)
        lib.log("names held:", names, "tasks:", alive)
        first = stats(c)["targets"][0]["snapshots"]
        lib.wait_until(lambda: stats(c)["targets"][0]["snapshots"] >= first + 2, 30)
        s = stats(c)
        ps = c.result("ps")
        hist = c.result("history", kinds=["task_done"])["events"]
        p = Problems("unique task names")
        p.check(done["made"] == 200000, "the target made %s tasks" % done["made"])
        p.check(max(rss) < RSS_MAX_KB, "agent RSS over the run %s kB: over %d kB" % (rss, RSS_MAX_KB))
        # the names of the last two snapshots, no more (kept forever,
        # they passed 40,000 here)
        p.check(max(names) <= 2 * max(alive) + 100, "names held %s, tasks %s" % (names, alive))
        target = s["targets"][0]
        p.check(target["ended_tasks"] > 20000, "only %d tasks seen ending" % target["ended_tasks"])
        names = {task["name"] for task in ps["tasks"]} - {"Task-1"}  # main
        p.check(names == set(done["last"]), "ps names %s, want %s" %
                (sorted(names)[:3], sorted(done["last"])[:3]))
        req = re.compile(r"^req-\d+-x{%d}$" % PAD)
        bad = [e["name"][:60] for e in hist if not req.match(e["name"])]
        p.check(hist and not bad, "%d task_done events, names not req-N-x*%d: %s" % (len(hist), PAD, bad[:3]))
        p.check(all(e["first_seen"] <= e["last_seen"] <= e["ts"] and
                    e["snapshot_interval_s"] >= 1 for e in hist), "task_done times %s" % hist[:1])
        p.raise_if_any()
