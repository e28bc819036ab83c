# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope tui` live, in tmux, against real targets and a real agent:
how terminated tasks ended (the Terminated view), keys while 50,000-task
answers keep arriving, and Space pausing the live view."""
import os
import re
import time

import lib
from lib import Problems, Target
from tuilib import Tui, debian, require_tui, started

SHORTLIVED_PY = os.path.join(lib.TARGETS_DIR, "shortlived.py")
CHURN_PY = os.path.join(lib.TARGETS_DIR, "churn.py")
# what the Terminated view says of each way shortlived.py's tasks end
ENDED_AS = {"done": "finished", "cancelled": "cancelled", "raised": "raised ValueError", "dropped": "unknown"}


def churn(*args):
    return Target([debian().path, CHURN_PY] + list(args), name="churn.py")


def gen_names(screen):
    return set(re.findall(r"\bgen-\d+\b", screen))


def stall_total(screen):
    m = re.search(r"Stalls .*\((\d+)\)", screen)
    return int(m.group(1)) if m else -1


@lib.timeout(90)
def test_tui_terminated_ended():
    """The Terminated view's ENDED column says how each task ended, as the
    target logged it: finished, cancelled, raised ValueError, and unknown
    for the tasks let go before a snapshot saw them done."""
    require_tui()
    with Target([debian().path, SHORTLIVED_PY, "--tasks", "12", "--dropped", "2"]) as t, started(t) as a, \
            Tui(["--socket", a.socket], 130, 40) as ui:
        ui.wait_for("Tasks ", 20)
        t.go()
        t.wait_event("all_done", 30)
        ui.keys("5")  # each task shows up once a snapshot saw it done or gone
        finished = [r for _, r in t.records if r.get("event") == "task_finished"]
        names = [r["name"] for r in finished]
        scr = ui.wait_for(lambda s: all(re.search(r"\b%s\b" % n, s) for n in names), 15, "every task in %s" % names)
        p = Problems("terminated view")
        p.check(len(finished) == 14, "the target logged %d tasks ending" % len(finished))
        for r in finished:
            row = next((l for l in scr.splitlines() if re.search(r"\b%s\b" % r["name"], l)), "")
            want = ENDED_AS[r["how"]]
            p.check(re.search(r"\s%s\s+%s\b" % (re.escape(want), r["name"]), row),
                    "%s (%s): row %r does not say %r" % (r["name"], r["how"], row, want))
        p.raise_if_any()


@lib.timeout(120)
def test_tui_keys_during_big_answers():
    """With 50,000 tasks (a ps answer of tens of MB every refresh), a view
    switch and a filter take effect, and the answers keep coming (new
    short-lived tasks show up under the filter)."""
    require_tui()
    with churn("--tasks", "50000") as t, started(t) as a, Tui(["--socket", a.socket], 120, 40) as ui:
        ui.wait_for(lambda s: "idle-" in s and "Tasks 50" in s, 40, "the 50,000 idle tasks")
        ui.keys("2")
        ui.wait_for("Stall durations", 10, "the Stalls view")
        ui.keys("1")
        ui.wait_for("idle-", 10, "the Tasks view again")
        ui.keys("/")
        ui.type("gen-")
        scr = ui.wait_for(lambda s: gen_names(s) and "idle-" not in s, 10, "only gen- tasks")
        first = gen_names(scr)
        ui.wait_for(lambda s: gen_names(s) - first and "idle-" not in s, 20,
                    "gen- tasks newer than %s (a later answer)" % sorted(first))
        ui.keys("Escape")
        ui.wait_for("idle-", 10, "the filter cleared")
        ui.keys("2")
        ui.wait_for("Stall durations", 10, "the Stalls view again")


@lib.timeout(90)
def test_tui_pause():
    """Space, pressed while a stall's banner is up: the screen says paused
    (not the banner, whose stall's end waits with the other events) and
    its tasks and stall count stay as they were while the target makes new
    tasks and stalls (the agent sees them); Space again: newer ones
    appear."""
    require_tui()
    with churn("--stall-ms", "1500") as t, started(t) as a, Tui(["--socket", a.socket], 120, 40) as ui:
        ui.wait_for(lambda s: gen_names(s) and stall_total(s) >= 1, 20, "gen- tasks and a stall")
        ui.wait_for("LOOP STALLED", 10, "the next stall's banner")
        ui.keys("Space")
        before = ui.wait_for("PAUSED", 5)
        names, stalls = gen_names(before), stall_total(before)
        c = a.client()
        agent_stalls = len(c.result("history", kinds=["stall"])["events"])
        time.sleep(3.5)  # the target makes new tasks and at least one stall meanwhile
        during = ui.screen()
        p = Problems("pause")
        p.check("PAUSED" in during, "no longer paused:\n%s" % during)
        p.check(gen_names(during) == names, "tasks changed while paused: %s, then %s" %
                (sorted(names), sorted(gen_names(during))))
        p.check(stall_total(during) == stalls, "stalls went from %d to %d while paused" % (stalls, stall_total(during)))
        live = {k["name"] for k in c.result("ps", pid=t.pid)["tasks"]}
        p.check(live - names, "the target made no new tasks: %s" % sorted(live))
        p.check(len(c.result("history", kinds=["stall"])["events"]) > agent_stalls, "the target made no new stall")
        ui.keys("Space")
        ui.wait_for(lambda s: "PAUSED" not in s and gen_names(s) - names and stall_total(s) > stalls, 15,
                    "new tasks and stalls after resuming")
        p.raise_if_any()
