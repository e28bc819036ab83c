# SPDX-License-Identifier: GPL-2.0-only
"""The agent's lints (blocking-call, unbounded-concurrency, long-await)
against what tests/targets/lints.py did on purpose at its marked lines:
each found with the target's own numbers, and nothing where a timeout or a
sleep bounds the wait."""
import os
import time

import lib
from agentlib import Agent
from lib import Problems, Target

LINTS_PY = os.path.join(lib.TARGETS_DIR, "lints.py")
MANY = 1200


def by_kind(lints, kind):
    return [x for x in lints if x["lint"] == kind]


@lib.timeout(90)
@lib.each_python()
def test_agent_lints(interp):
    """Three time.sleep stalls at one line: one blocking-call with the
    target's count and total time; 1,200 pending `crowd` tasks: an
    unbounded-concurrency; tasks waiting with no timeout: a long-await at
    their line, and none for those under asyncio.timeout, wait_for or in
    asyncio.sleep. As events, in the lints answer, in the history."""
    with Target([interp.path, LINTS_PY, "--stalls", "3", "--many", str(MANY), "--awaits"]) as t, \
            Agent([t.pid], ["--lint-await", "2s"]) as a:
        a.wait_listening()
        c = a.client()
        c.result("subscribe", kinds=["lint"])
        t.go()
        t.wait_event("stalls_done", 30)
        # the long-awaits come in the first snapshot past --lint-await, with
        # any wrong one (the guarded waits started with them): 4 lint events
        c.wait_events(lambda e: e["event"] == "lint", 4, 15)
        made = [r for _, r in t.records if r.get("event") == "stall"]
        ans = c.result("lints")["targets"][0]
        lints = ans["lints"]
        p = Problems("lints")
        info = t.info
        block = by_kind(lints, "blocking-call")
        if p.check(len(block) == 1, "blocking-call lints: %s" % block):
            b = block[0]
            p.check(b["site"]["line"] == info["block_line"] and b["site"]["file"] == info["file"],
                    "site %s, the target blocked at line %d" % (b["site"], info["block_line"]))
            p.check(b["count"] == len(made) == 3, "count %d, the target stalled %d times" % (b["count"], len(made)))
            total = sum(r["duration_ms"] for r in made)
            p.check(abs(b["total_ms"] - total) < 30, "total %.1f ms, the target measured %.1f" % (b["total_ms"], total))
            p.check("asyncio.sleep" in b["advice"], "advice: %s" % b["advice"])
        conc = by_kind(lints, "unbounded-concurrency")
        p.check([(x["coro"].split(".")[-1], x["pending"]) for x in conc] == [("crowd", MANY)],
                "unbounded-concurrency: %s" % [(x["coro"], x["pending"]) for x in conc])
        p.check(all("Semaphore" in x["advice"] for x in conc), "advice %s" % conc)
        waits = {x["site"]["line"]: x for x in by_kind(lints, "long-await")}
        p.check(set(waits) == {info["bare_line"], info["crowd_line"]},
                "long-await at lines %s, expected %s (bare) and %s (crowd); the guarded one is %s" %
                (sorted(waits), info["bare_line"], info["crowd_line"], info["guarded_line"]))
        if info["crowd_line"] in waits:
            p.check(waits[info["crowd_line"]]["tasks"] == MANY, "crowd: %d tasks" % waits[info["crowd_line"]]["tasks"])
        if info["bare_line"] in waits:
            w = waits[info["bare_line"]]
            p.check(w["examples"] and w["examples"][0].endswith(" bare"), "examples %s" % w["examples"])
            p.check(w["longest_s"] >= 2 and "asyncio.timeout" in w["advice"], "long-await %s" % w)
        names = {x["lint"] for _, x in c.events}
        p.check(names == {"blocking-call", "unbounded-concurrency", "long-await"}, "events: %s" % names)
        p.check(ans["raised"] == {"blocking-call": 1, "unbounded-concurrency": 1, "long-await": 2},
                "raised %s" % ans["raised"])
        hist = c.result("history", kinds=["lint"])["events"]
        p.check(len(hist) == 4, "history: %d lint events" % len(hist))
        p.raise_if_any()


@lib.timeout(60)
def test_agent_lint_rising():
    """A coroutine whose pending tasks grow in every snapshot is an
    unbounded-concurrency after 10 of them, though far under 1,000."""
    with Target([lib.python("debian-3.11").path, LINTS_PY, "--grow"]) as t, Agent([t.pid]) as a:
        a.wait_listening()
        c = a.client()
        c.result("subscribe", kinds=["lint"])
        t0 = time.monotonic()
        t.go()
        ev = c.wait_event(lambda e: e["lint"] == "unbounded-concurrency", 25)
        p = Problems("rising")
        if p.check(ev is not None, "no unbounded-concurrency event"):
            p.check(ev["coro"].endswith("grower") and ev["rising_snapshots"] >= 10,
                    "event %s" % ev)
            p.check(ev["pending"] < 1000 and time.monotonic() - t0 >= 9, "pending %d after %.1f s" %
                    (ev["pending"], time.monotonic() - t0))
        p.raise_if_any()
