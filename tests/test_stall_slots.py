# SPDX-License-Identifier: GPL-2.0-only
"""Loop threads the stall tracer cannot track: its slot table keeps a thread
in one of LS_PROBES (4) slots from tid % 256, so a fifth loop thread whose
tid is equal to four others' mod 256 finds no slot. The summary counts it."""
import os
import signal
import time

import lib
from lib import Loopscope, Problems, Target

COLLIDING_PY = os.path.join(lib.TARGETS_DIR, "colliding_loops.py")
LS_PROBES = 4


def colliding_target(*args):
    return Target([lib.python("debian-3.11").path, COLLIDING_PY] + list(args),
                  name="colliding_loops.py")


@lib.timeout(40)
def test_untracked_loop_threads_seeded():
    """The five threads wait in epoll before loopscope attaches (seeded from
    /proc): one is untracked, in the JSON and the text summary."""
    p = Problems("untracked threads, seeded")
    with colliding_target("--threads", 5) as target:
        want = len(target.info["tids"]) - LS_PROBES
        with Loopscope.stalls(target.pid, threshold=100, duration=1.5) as ls:
            p.check(ls.wait(15) == 0, "loopscope exited with %s" % ls.returncode)
        summ = ls.summary()
        p.check(summ["untracked_threads"] == want,
                "untracked_threads %s, want %d" % (summ["untracked_threads"], want))
        p.check(summ["loops"] == LS_PROBES, "loops %s, want %d" % (summ["loops"], LS_PROBES))
        with Loopscope.stalls(target.pid, threshold=100, duration=1, json_out=False) as ls:
            p.check(ls.wait(15) == 0, "loopscope (text) exited with %s" % ls.returncode)
        p.check("untracked loop threads: %d " % want in ls.stdout,
                "no 'untracked loop threads: %d' line in the text summary" % want)
    p.raise_if_any()


@lib.timeout(40)
def test_untracked_loop_threads_claimed():
    """The five threads start after loopscope attached (the kernel side
    claims their slots at their first epoll wait): one is untracked."""
    with colliding_target("--threads", 5, "--after-go") as target:
        with Loopscope.stalls(target.pid, threshold=100, duration=30) as ls:
            ls.wait_attached()
            target.go()
            tids = target.wait_event("threads", timeout=20)[0]["tids"]
            time.sleep(0.5)  # each waits in epoll every 20 ms
            ls.signal(signal.SIGINT)
            assert ls.wait(10) == 0, "loopscope exited with %s" % ls.returncode
        summ = ls.summary()
        want = len(tids) - LS_PROBES
        assert summ["untracked_threads"] == want, \
            "untracked_threads %s, want %d" % (summ["untracked_threads"], want)
        assert summ["loops"] == LS_PROBES, "loops %s, want %d" % (summ["loops"], LS_PROBES)
