# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope agent --record FILE`: every event and snapshot as stamped
NDJSON (the TUI's replay format), against what the target did; rotation
keeps the files bounded in size and number, oldest in the highest suffix."""
import json
import os
import signal
import tempfile
import time

import lib
from agentlib import Agent
from lib import Problems, Target


def records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@lib.timeout(60)
def test_agent_record():
    with Target.python(lib.python("debian-3.11"), "--kinds", "sleep,cpu", "--repeat", "2") as t:
        path = os.path.join(tempfile.mkdtemp(prefix="ls-rec-"), "rec.ndjson")
        with Agent([t.pid], ["--record", path]) as a:
            a.wait_listening()
            t.go()
            t.wait_event("all_done", 30)
            time.sleep(1.5)
            a.signal(signal.SIGTERM)
            a.wait(10)
        recs = records(path)
        os.unlink(path)
        p = Problems("record")
        p.check(recs and recs[0]["event"] == "target_attached", "first %s" % (recs[:1],))
        p.check(recs and recs[-1]["event"] == "agent_exit", "last %s" % (recs[-1:],))
        ts = [r["rec_ts"] for r in recs]
        p.check(ts == sorted(ts) and abs(ts[-1] - time.time()) < 30, "rec_ts not in order or off")
        made = t.stalls()
        final = [r for r in recs if r["event"] == "stall" and not r["ongoing"]]
        p.check(len(final) == len(made), "%d stalls recorded, the target made %d" % (len(final), len(made)))
        for s, r in zip(sorted(made, key=lambda s: s["start"]), final):
            p.check(abs(r["duration_ms"] - s["duration_ms"]) < 20, "stall %.1f vs %.1f" % (r["duration_ms"], s["duration_ms"]))
        snaps = [r for r in recs if r["event"] == "snapshot"]
        p.check(len(snaps) >= 3 and all(r["pid"] == t.pid and r["ps"]["tasks"] for r in snaps),
                "%d snapshots" % len(snaps))
        p.raise_if_any()


@lib.timeout(60)
def test_agent_record_rotation():
    """2,000 tasks a snapshot at --record-max 1 --record-keep 2: FILE, FILE.1,
    FILE.2, none past it, each at most 1 MiB, newest in FILE."""
    with Target.python(lib.python("debian-3.11"), "--mode", "healthy", "--tasks", "2000") as t:
        path = "/tmp/ls-rec-rot-%d.ndjson" % t.pid
        with Agent([t.pid], ["--record", path, "--record-max", "1", "--record-keep", "2"]) as a:
            a.wait_listening()
            t.go()
            lib.wait_until(lambda: os.path.exists(path + ".2"), 30)
            time.sleep(3)
            a.signal(signal.SIGTERM)
            a.wait(10)
        names = [path, path + ".1", path + ".2"]
        p = Problems("rotation")
        p.check(all(os.path.exists(n) for n in names), "files: %s" % [os.path.exists(n) for n in names])
        p.check(not os.path.exists(path + ".3"), "%s.3 exists" % path)
        firsts = []
        for n in names:
            if os.path.exists(n):
                size = os.path.getsize(n)
                p.check(size <= 1 << 20, "%s: %d bytes" % (n, size))
                recs = records(n)
                p.check(recs, "%s empty" % n)
                firsts.append(recs[0]["rec_ts"] if recs else 0)
        p.check(firsts == sorted(firsts, reverse=True), "newest not first: %s" % firsts)
        for n in names:
            if os.path.exists(n):
                os.unlink(n)
        p.raise_if_any()
