# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope ps / where / pstree` against targets with known tasks.

The ground truth is the target's own asyncio.all_tasks(), each task's
get_stack() frame, and the await edges it built (tests/targets/tasks.py).
"""
import json
import os
import subprocess
import time

import lib
from lib import Problems, Target

TASKS_PY = os.path.join(lib.TARGETS_DIR, "tasks.py")


def tasks_target(interp, *args, **kw):
    return Target([interp.path, TASKS_PY] + list(args), name="tasks.py@%s" % interp.name, **kw)


def run_json(*args, timeout=60):
    r = lib.run_loopscope(list(args) + ["--json"], timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("loopscope %s exited %s: %s" % (args[0], r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


def check_ps(p, doc, info, what):
    """ps --json must list exactly the target's tasks, each as it sees it."""
    want = {t["id"]: t for t in info["tasks"]}
    got = {t["id"]: t for t in doc["tasks"]}
    names = {i: t["name"] for i, t in want.items()}
    p.check(set(got) == set(want), "%s: tasks differ: missing %s, extra %s" % (
        what, sorted(names.get(i, i) for i in set(want) - set(got)),
        sorted(got[i]["name"] for i in set(got) - set(want))))
    p.check(doc["partial"] == 0, "%s: partial %s" % (what, doc["partial"]))
    p.check([l["tid"] for l in doc["loops"]] == [info["loop_tid"]],
            "%s: loops %s, want one on tid %s" % (what, doc["loops"], info["loop_tid"]))
    for i in sorted(set(got) & set(want)):
        g, w = got[i], want[i]
        label = "%s: task %s" % (what, w["name"])
        p.check(g["name"] == w["name"], "%s: name %r" % (label, g["name"]))
        p.check(g["coro"] == w["coro"], "%s: coro %r, want %r" % (label, g["coro"], w["coro"]))
        p.check(g["state"] == "pending", "%s: state %r" % (label, g["state"]))
        p.check(g["loop_tid"] == info["loop_tid"], "%s: loop_tid %s" % (label, g["loop_tid"]))
        own = g["stack"][-1] if g["stack"] else None
        p.check(own == w["frame"], "%s: own frame %s, want %s" % (label, own, w["frame"]))
    return got


def check_edges(p, got, info, what):
    """awaited_by must be exactly the edges the target built."""
    by_name = {t["name"]: t for t in got.values()}
    for t in got.values():
        want = sorted(info["edges"].get(t["name"], []))
        have = sorted(got[a]["name"] if a in got else a for a in t["awaited_by"])
        p.check(have == want, "%s: %s awaited_by %s, want %s" % (what, t["name"], have, want))
    for parent in ("gather-parent", "tg-parent", "waitfor-parent", "timeout-user", "chain-a"):
        if parent in by_name and by_name[parent]["awaiting"] is None:
            p.add("%s: %s awaits nothing" % (what, parent))


def check_awaiting(p, got, what):
    by_name = {t["name"]: t for t in got.values()}
    expect = {"worker-0": "Event.wait", "queue-getter": "Queue.get",
              "sem-waiter-0": "Semaphore.acquire", "gather-parent": "gather of 2",
              "chain-c": "sleep 3600s", "tg-parent": "TaskGroup of 3"}
    for name, desc in expect.items():
        if name in by_name:
            p.check(by_name[name]["awaiting"] == desc, "%s: %s awaiting %r, want %r" % (
                what, name, by_name[name]["awaiting"], desc))
    b = by_name.get("chain-b")
    c = by_name.get("chain-c")
    if b and c:
        p.check(b["awaiting"] == "Task %s chain-c" % c["id"], "%s: chain-b awaiting %r" % (
            what, b["awaiting"]))


@lib.timeout(60)
@lib.each_python()
def test_ps_matches_all_tasks(interp):
    with tasks_target(interp) as t:
        doc = run_json("ps", t.pid)
        p = Problems("ps on %s" % interp.name)
        p.check(doc["python"] == t.info["python"], "python %r" % doc["python"])
        got = check_ps(p, doc, t.info, interp.name)
        check_edges(p, got, t.info, interp.name)
        check_awaiting(p, got, interp.name)
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python(lib.UVLOOP_PYTHONS)
def test_ps_uvloop(interp):
    if not interp.has_uvloop:
        raise lib.Skip("no uvloop for %s" % interp.path)
    with tasks_target(interp, "--uvloop") as t:
        doc = run_json("ps", t.pid)
        p = Problems("ps with uvloop")
        p.check(t.info["loop_type"].startswith("uvloop"), "the target runs %s" % t.info["loop_type"])
        p.check([l["type"] for l in doc["loops"]] == ["uvloop"], "loops %s" % doc["loops"])
        got = check_ps(p, doc, t.info, "uvloop")
        check_edges(p, got, t.info, "uvloop")
        p.raise_if_any()


@lib.timeout(120)
@lib.each_python(["3.13", "debian-3.11"])
def test_ps_ten_thousand_tasks(interp):
    with tasks_target(interp, "--many", "10000", ready_timeout=60) as t:
        doc = run_json("ps", t.pid)
        p = Problems("ps of 10,000 tasks on %s" % interp.name)
        got = check_ps(p, doc, t.info, interp.name)
        p.check(len(got) == len(t.info["tasks"]) > 10000, "%d tasks, want %d" % (
            len(got), len(t.info["tasks"])))
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python()
def test_ps_after_tasks_were_freed(interp):
    """Freed tasks leave deleted (dummy) entries in the task WeakSet's hash
    table: they are not tasks, and reading them is no partial read."""
    with tasks_target(interp, "--removed", "300") as t:
        doc = run_json("ps", t.pid)
        p = Problems("ps after 300 tasks were freed, on %s" % interp.name)
        got = check_ps(p, doc, t.info, interp.name)
        p.check(not any(g["name"].startswith("removed-") for g in got.values()),
                "freed tasks listed")
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python(["3.10", "3.12", "debian-3.11"])
def test_ps_sort_and_filter(interp):
    with tasks_target(interp) as t:
        r = lib.run_loopscope(["ps", t.pid, "--filter", "sem-", "--sort", "name"])
        rows = [l.split()[1] for l in r.stdout.splitlines()[2:] if l.strip()]
        p = Problems("ps --filter/--sort on %s" % interp.name)
        p.check(r.returncode == 0, "exit %s" % r.returncode)
        p.check(rows == ["sem-holder", "sem-waiter-0", "sem-waiter-1", "sem-waiter-2"],
                "rows %s" % rows)
        r = lib.run_loopscope(["ps", t.pid, "--sort", "bogus"])
        p.check(r.returncode == 2, "a bad sort key exits %s, want 2" % r.returncode)
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python()
def test_where(interp):
    with tasks_target(interp, "--dup") as t:
        p = Problems("where on %s" % interp.name)
        ids = {x["name"]: x["id"] for x in t.info["tasks"]}
        doc = run_json("where", t.pid, "chain-c")
        p.check(doc["task"]["id"] == ids["chain-c"], "where chain-c gave %s" % doc["task"]["name"])
        p.check([x["name"] for x in doc["awaiter_chain"]] == ["chain-b", "chain-a"],
                "awaiter chain %s" % [x["name"] for x in doc["awaiter_chain"]])
        funcs = [f["func"] for f in doc["task"]["stack"]]
        p.check(funcs == ["sleep", "sleeper"], "coroutine chain %s, want sleep <- sleeper" % funcs)
        by_id = run_json("where", t.pid, ids["gather-child-1"])
        p.check(by_id["task"]["name"] == "gather-child-1", "where by id gave %s" % by_id["task"]["name"])
        r = lib.run_loopscope(["where", t.pid, "dup"])
        dups = sorted(x["id"] for x in t.info["tasks"] if x["name"] == "dup")
        p.check(r.returncode == 1 and len(r.stderr_lines()) == 1 and
                all(d in r.stderr for d in dups), "ambiguous name: exit %s, %r" % (
                    r.returncode, r.stderr))
        r = lib.run_loopscope(["where", t.pid, "no-such-task"])
        p.check(r.returncode == 1 and len(r.stderr_lines()) == 1 and "no-such-task" in r.stderr,
                "unknown task: exit %s, %r" % (r.returncode, r.stderr))
        r = lib.run_loopscope(["where", t.pid, "chain-b"])
        p.check(r.returncode == 0 and "chain-a" in r.stdout and "sleeper" not in r.stdout,
                "text where chain-b: %r" % r.stdout[:300])
        p.raise_if_any()


def tree_edges(nodes, parent=None, out=None):
    out = [] if out is None else out
    for n in nodes:
        if parent:
            out.append((n["name"], parent))
        tree_edges(n["children"], n["name"], out)
    return out


@lib.timeout(60)
@lib.each_python()
def test_pstree(interp):
    with tasks_target(interp, "--cycle") as t:
        doc = run_json("pstree", t.pid)
        p = Problems("pstree on %s" % interp.name)
        edges = sorted(tree_edges(doc["tasks"]))
        want = sorted((c, par) for c, ps in t.info["edges"].items() for par in ps)
        want += [("cycle-b", "cycle-a"), ("cycle-a", "cycle-b")]
        p.check(sorted(set(edges)) == sorted(set(want)),
                "tree edges differ:\n      extra %s\n      missing %s" % (
                    sorted(set(edges) - set(want)), sorted(set(want) - set(edges))))
        flat = []

        def walk(nodes):
            for n in nodes:
                flat.append(n)
                walk(n["children"])
        walk(doc["tasks"])
        cycles = [n["name"] for n in flat if n.get("cycle")]
        p.check(cycles in (["cycle-a"], ["cycle-b"]), "cycle markers on %s" % cycles)
        seen = {n["id"] for n in flat}
        p.check(seen == {x["id"] for x in t.info["tasks"]}, "pstree does not show every task once")
        roots = {n["name"] for n in doc["tasks"]}
        p.check({"gather-parent", "chain-a", "waitfor-parent"} <= roots,
                "roots %s" % sorted(roots))
        text = lib.run_loopscope(["pstree", t.pid])
        p.check(text.returncode == 0 and "await cycle" in text.stdout,
                "text pstree: exit %s, no cycle marker" % text.returncode)
        p.raise_if_any()


@lib.timeout(30)
def test_tasks_bad_targets():
    p = Problems("ps on processes without a loop")
    interp = [i for i in lib.pythons() if not i.missing][0]
    proc = subprocess.Popen([interp.path, "-c", "import asyncio, time; time.sleep(60)"])
    try:
        time.sleep(0.5)
        for cmd in (["ps"], ["pstree"], ["where", "--", "x"]):
            argv = [cmd[0], proc.pid] + cmd[1:]
            r = lib.run_loopscope(argv)
            p.check(r.returncode == 1 and r.stderr_lines() == [
                "loopscope: no asyncio event loop found in PID %d" % proc.pid],
                "%s: exit %s, stderr %r" % (cmd[0], r.returncode, r.stderr))
    finally:
        proc.kill()
        proc.wait()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        r = lib.run_loopscope(["ps", sleeper.pid])
        p.check(r.returncode == 1 and "not a Python process" in r.stderr,
                "non-Python: exit %s %r" % (r.returncode, r.stderr))
    finally:
        sleeper.kill()
        sleeper.wait()
    p.raise_if_any()
