# SPDX-License-Identifier: GPL-2.0-only
"""Thread walks under stress (tests/targets/threads.py): over a thousand
threads, and threads starting and ending thousands of times a second. The
loop is always found, MainThread is always listed, no thread is invented,
and a running task's stack is read whatever the thread count."""
import json
import os
import time

import lib
from lib import Loopscope, Problems, Target

THREADS_PY = os.path.join(lib.TARGETS_DIR, "threads.py")


def threads_target(interp, *args):
    return Target([interp.path, THREADS_PY] + list(args), name="threads.py@%s" % interp.name,
                  ready_timeout=60)


def run_json(p, args, what):
    r = lib.run_loopscope([str(a) for a in args] + ["--json"], timeout=30)
    if not p.check(r.returncode == 0, "%s: exit %s: %s" % (what, r.returncode, r.stderr.strip())):
        return None
    return json.loads(r.stdout)


def check_dump(p, doc, t, what):
    tids = [th["tid"] for th in doc["threads"]]
    p.check(any(th["name"] == "MainThread" and th["tid"] == t.info["main_tid"]
                for th in doc["threads"]), "%s: no MainThread (tid %s) in %s" % (
                    what, t.info["main_tid"], tids[:20]))
    p.check(all(tid > 0 for tid in tids), "%s: a thread without a tid: %s" % (what, tids[:20]))
    p.check(len(set(tids)) == len(tids), "%s: a thread listed twice" % what)


@lib.timeout(120)
@lib.each_python(["3.10", "3.13", "debian-3.11"])
def test_over_a_thousand_threads(interp):
    with threads_target(interp, "--idle", "1100") as t:
        p = Problems("1,100 threads on %s" % interp.name)
        t.go()
        time.sleep(0.3)  # the spinner now holds the loop
        doc = run_json(p, ["dump", t.pid], "dump")
        if doc:
            check_dump(p, doc, t, "dump")
            p.check(len(doc["threads"]) >= 1100, "dump lists %d threads" % len(doc["threads"]))
        doc = run_json(p, ["ps", t.pid], "ps")
        if doc:
            p.check([l["tid"] for l in doc["loops"]] == [t.info["loop_tid"]], "loops %s" % doc["loops"])
            spin = [x for x in doc["tasks"] if x["name"] == "spinner"]
            p.check(spin and spin[0]["state"] == "running" and spin[0]["stack"] and
                    spin[0]["stack"][0]["func"] == "spin",
                    "the running task's stack: %s" % (spin[0] if spin else None))
        with Loopscope.stalls(t.pid, threshold=100, duration=20) as ls:
            ls.wait_attached()
            ok = lib.wait_until(lambda: any(o["event"] == "stall" for _, o in ls.events()), 10)
            ls.kill()
        stalls = [o for _, o in ls.events() if o["event"] == "stall"]
        p.check(ok and stalls and stalls[0]["stack"] and stalls[0]["stack"][0]["func"] == "spin",
                "the hung loop's stall has no stack at spin(): %s" % (stalls[:1],))
        p.raise_if_any()


@lib.timeout(150)
@lib.each_python(["3.12", "debian-3.11"])
def test_thread_churn(interp):
    """50 runs of each command while threads start and end: 0 wrong answers."""
    with threads_target(interp, "--churn") as t:
        p = Problems("thread churn on %s" % interp.name)
        for i in range(50):
            doc = run_json(p, ["ps", t.pid], "ps run %d" % i)
            if doc:
                p.check([l["tid"] for l in doc["loops"]] == [t.info["loop_tid"]],
                        "ps run %d: loops %s" % (i, doc["loops"]))
            doc = run_json(p, ["dump", t.pid], "dump run %d" % i)
            if doc:
                check_dump(p, doc, t, "dump run %d" % i)
            doc = run_json(p, ["pstree", t.pid], "pstree run %d" % i)
            run_json(p, ["where", t.pid, "ticker"], "where run %d" % i)
            if len(p.items) > 10:
                break
        p.raise_if_any()
