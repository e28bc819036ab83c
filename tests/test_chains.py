# SPDX-License-Identifier: GPL-2.0-only
"""Coroutine chains that are hard to follow (tests/targets/chains.py): deeper
than loopscope keeps, through async generators and @asynccontextmanager,
and a stall under a deep stack. The ground truth is the target's own walk of
cr_await / ag_await."""
import os
import signal
import subprocess

import lib
import test_tasks
from lib import Loopscope, Problems, Target

CHAINS_PY = os.path.join(lib.TARGETS_DIR, "chains.py")
KEPT = 256   # frames loopscope keeps of a chain: the innermost
AWAITING = {"deep-chain": "sleep 3600s", "agen-consumer": "sleep 3600s",
            "acm-user": "Queue.get", "agen-in-agen": "Event.wait",
            "connection-handler-for-client-17": "Event.wait",
            "connection-handler-for-client-18": "Event.wait"}


def chains_target(interp, *args):
    return Target([interp.path, CHAINS_PY] + list(args), name="chains.py@%s" % interp.name)


def deep_stalls(interp, json_out):
    """loopscope stalls over the target's three stalls under 1,500 frames."""
    with chains_target(interp, "--stall-depth", "1500") as t:
        with Loopscope.stalls(t.pid, threshold=100, duration=30, json_out=json_out) as ls:
            ls.wait_attached()
            t.go()
            t.wait_event("done", 30)
            ls.signal(signal.SIGINT)
            return ls, ls.wait(10)


def fmt(stack):
    return " < ".join("%s:%s" % (f["func"], f["line"]) for f in stack[:6])


def check_task(p, got, name, want, interp):
    label = "%s on %s" % (name, interp.name)
    chain = want["chain"]
    deep = len(chain) > KEPT
    p.check(got["stack"] == chain[:KEPT], "%s: chain %s (%d frames), want %s (%d frames)" % (
        label, fmt(got["stack"]), len(got["stack"]), fmt(chain), min(len(chain), KEPT)))
    p.check(got.get("truncated") is deep, "%s: truncated %r for a %d-frame chain" % (
        label, got.get("truncated"), len(chain)))
    p.check(got["awaiting"] == AWAITING[name], "%s: awaiting %r, want %r" % (
        label, got["awaiting"], AWAITING[name]))


@lib.timeout(60)
@lib.each_python()
def test_chains_deep_and_through_async_generators(interp):
    with chains_target(interp) as t:
        doc = test_tasks.run_json("ps", t.pid)
        by_name = {x["name"]: x for x in doc["tasks"]}
        p = Problems("coroutine chains on %s" % interp.name)
        p.check(len(t.info["tasks"]["deep-chain"]["chain"]) > KEPT + 40,
                "the target's deep chain is only %d frames" % len(t.info["tasks"]["deep-chain"]["chain"]))
        for name, want in t.info["tasks"].items():
            if p.check(name in by_name, "ps lists no task %s" % name):
                check_task(p, by_name[name], name, want, interp)
        where = lib.run_loopscope(["where", t.pid, "deep-chain"], timeout=30)
        lines = where.stdout.splitlines()
        first = [l for l in lines if l.startswith("    ")][:1]
        p.check(first and first[0].strip().startswith("sleep ("),
                "where deep-chain: the innermost frame is %r, want sleep" % first)
        p.check(any("truncated" in l for l in lines), "where deep-chain says nothing of truncation")
        p.raise_if_any()


@lib.timeout(90)
@lib.each_python(["3.10", "3.13", "3.14", "3.15", "debian-3.11"])
def test_stall_under_deep_stack_names_its_task(interp):
    ls, rc = deep_stalls(interp, True)
    p = Problems("stall under 1,500 frames on %s" % interp.name)
    p.check(rc == 0, "loopscope exit %s" % rc)
    stalls = ls.finished_stalls()
    p.check(len(stalls) >= 3, "%d stalls, want the target's 3" % len(stalls))
    for s in stalls:
        task = s.get("task")
        p.check(task and task.get("name") == "deep-stall",
                "stall %s of %.1f ms: task %r, want deep-stall" % (s["id"], s["duration_ms"], task))
        top = s["stack"][0] if s["stack"] else {}
        p.check(top.get("func") == "recurse", "stall %s: top frame %s" % (s["id"], top))
    p.raise_if_any()


@lib.timeout(90)
@lib.each_python(["3.12"])
def test_stall_text_under_deep_stack(interp):
    ls, _ = deep_stalls(interp, False)
    out = ls.stdout
    p = Problems("stall text under 1,500 frames")
    p.check("task deep-stall" in out, "no 'task deep-stall' line")
    elided = [l.strip() for l in out.splitlines() if l.strip().startswith("...")]
    p.check(elided, "no line says frames were left out")
    p.check(not any("(stack truncated)" in l for l in elided),
            "a separate '(stack truncated)' line after the frame count: %s" % elided)
    p.check(all("not read" in l for l in elided),
            "a frame count not saying that more were not read: %s" % elided)
    p.raise_if_any()


def ps_rows(pid, columns):
    env = dict(os.environ, COLUMNS=str(columns), NO_COLOR="1")
    r = subprocess.run([lib.loopscope_bin(), "ps", str(pid)], capture_output=True, text=True,
                       env=env, timeout=30)
    if r.returncode != 0:
        raise AssertionError("ps exited %s: %s" % (r.returncode, r.stderr.strip()))
    return r.stdout.splitlines()


def user_location(chain):
    """file:line of the innermost frame in the target's own file."""
    own = [f for f in chain if f["file"] == CHAINS_PY]
    return "chains.py:%d" % own[0]["line"]


@lib.timeout(60)
@lib.each_python(["3.10", "3.12", "3.13", "3.14", "3.15", "debian-3.11"])
def test_ps_shows_user_code_and_fits_the_terminal(interp):
    with chains_target(interp) as t:
        p = Problems("ps columns on %s" % interp.name)
        tasks = t.info["tasks"]
        for columns in (100, 250):
            lines = ps_rows(t.pid, columns)
            wide = [l for l in lines[1:] if len(l) > columns]
            p.check(not wide, "COLUMNS=%d: %d lines wider: %r" % (columns, len(wide), wide[:2]))
            rows = {l.split()[0]: l for l in lines[2:] if l.strip()}
            for name, want in tasks.items():
                row = rows.get(want["id"], "")
                p.check(" %s " % user_location(want["chain"]) in row,
                        "COLUMNS=%d: %s's row does not show %s: %r" % (
                            columns, name, user_location(want["chain"]), row))
                p.check(" %s " % AWAITING[name] in row, "COLUMNS=%d: %s's row does not show "
                        "what it awaits (%s): %r" % (columns, name, AWAITING[name], row))
            alike = [rows.get(tasks[n]["id"], "").split()[1:4]
                     for n in ("connection-handler-for-client-17", "connection-handler-for-client-18")]
            p.check(alike[0][0] != alike[1][0] and alike[0][2] != alike[1][2],
                    "COLUMNS=%d: names or coroutines alike but at their end read the same: %s" % (
                        columns, alike))
            if columns == 250:
                p.check(alike[0][0] == "connection-handler-for-client-17",
                        "COLUMNS=250 still cuts a name: %s" % alike[0])
        p.raise_if_any()
