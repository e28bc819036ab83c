# SPDX-License-Identifier: GPL-2.0-only
"""A stall that lasts: while it is under way `stalls` says so again and
again (text: a line from a second on, then one a second; JSON: the
`ongoing` event repeated at most once a second, same id, growing); when
watching ends in the middle of it (Ctrl-C), it is reported as unfinished
and the summary counts exactly what was printed.
"""
import re
import signal
import time

import lib
from lib import Loopscope, Problems, Target

THRESHOLD_MS = 100.0
HANG_MS = 3300.0
ONGOING_LINE = re.compile(r"STALL\s+([\d.]+) ms and counting\s.*\[#(\d+)\]")
FINAL_LINE = re.compile(r"STALL\s+([\d.]+) ms\s+tid .*\[#(\d+)\]")


def hang_target(hang_ms=HANG_MS):
    return Target.python(lib.python("debian-3.11"), "--mode", "hang", "--hang-ms", hang_ms,
                         "--gap-ms", 300)


def watch_whole_hang(json_out):
    """`stalls` over a whole hang, stopped with SIGINT once it has ended:
    (the run, the target's record of the hang, loopscope's exit status)."""
    with hang_target() as target:
        with Loopscope.stalls(target.pid, threshold=THRESHOLD_MS, duration=30, json_out=json_out) as ls:
            ls.wait_attached()
            target.go()
            rec = target.wait_event("stall", timeout=15)[0]
            time.sleep(0.3)
            ls.signal(signal.SIGINT)
            rc = ls.wait(10)
    return ls, rec, rc


@lib.timeout(40)
def test_text_shows_a_long_stall_while_it_lasts():
    """Text mode, a 3.3 s hang: an "and counting" line from its first second
    on, updated about once a second (same id, growing), before it ends."""
    ls, rec, rc = watch_whole_hang(False)
    p = Problems("text output of a %.0f ms hang" % rec["duration_ms"])
    p.check(rc == 0, "exit %s" % rc)
    end = rec["start"] + rec["duration_ms"] / 1000.0
    ongoing = [(t, ONGOING_LINE.search(l)) for t, l in ls.lines if ONGOING_LINE.search(l)]
    final = [FINAL_LINE.search(l) for _, l in ls.lines if FINAL_LINE.search(l)]
    p.check(len(final) == 1, "%d final stall lines" % len(final))
    p.check(len(ongoing) >= 3, "%d 'and counting' lines during a %.1f s hang" % (
        len(ongoing), rec["duration_ms"] / 1000))
    if ongoing:
        t0 = ongoing[0][0] - rec["start"]
        p.check(0.9 <= t0 <= 1.6, "first 'and counting' line %.2f s into the hang" % t0)
    for t, m in ongoing:
        p.check(t < end + 0.05, "an 'and counting' line %.0f ms after the hang ended" % ((t - end) * 1e3))
        p.check(final and m.group(2) == final[0].group(2), "ids differ: %s vs final %s" % (
            m.group(2), final and final[0].group(2)))
    durs = [float(m.group(1)) for _, m in ongoing]
    p.check(all(b - a >= 900 for a, b in zip(durs, durs[1:])), "durations %s" % durs)
    # the stack is printed once, with the first line; updates are one line each
    stack_lines = [l for _, l in ls.lines if "stall_hang" in l]
    p.check(len(stack_lines) == 2, "stack printed %d times (want: first ongoing, final)" % len(stack_lines))
    p.raise_if_any()


@lib.timeout(40)
def test_json_repeats_ongoing_at_most_once_a_second():
    """JSON, a 3.3 s hang: `ongoing` at the threshold, then again about once
    a second while it lasts, same id, growing duration_ms, never more often."""
    ls, rec, rc = watch_whole_hang(True)
    p = Problems("JSON events of a %.0f ms hang" % rec["duration_ms"])
    p.check(rc == 0, "exit %s" % rc)
    ongoing = ls.ongoing_stalls()
    finished = ls.finished_stalls()
    p.check(len(finished) == 1, "%d finished stalls" % len(finished))
    p.check(len({o["id"] for _, o in ongoing} | {s["id"] for s in finished}) == 1,
            "ids %s" % [o["id"] for _, o in ongoing])
    p.check(len(ongoing) >= 3, "%d ongoing events in a %.1f s hang" % (len(ongoing), rec["duration_ms"] / 1e3))
    for (ta, a), (tb, b) in zip(ongoing, ongoing[1:]):
        p.check(b["duration_ms"] - a["duration_ms"] >= 950 and tb - ta >= 0.9,
                "ongoing %.1f ms then %.1f ms, %.2f s apart" % (a["duration_ms"], b["duration_ms"], tb - ta))
    p.raise_if_any()


def hang_then_sigint(json_out):
    """Attaches in the middle of a 6 s hang (so the hang is the only
    iteration seen), stops with SIGINT while it still lasts."""
    with hang_target(6000) as target:
        target.go()
        time.sleep(0.8)   # 0.3 s gap, then the hang
        with Loopscope.stalls(target.pid, threshold=THRESHOLD_MS, duration=30, json_out=json_out) as ls:
            ls.wait_attached()
            time.sleep(1.5)
            ls.signal(signal.SIGINT)
            rc = ls.wait(10)
        p = Problems("SIGINT during a hang (%s)" % ("json" if json_out else "text"))
        p.check(rc == 0, "exit %s" % rc)
        p.check(not target.stalls(), "the hang ended before SIGINT: the test proves nothing")
    return ls, p


@lib.timeout(40)
def test_sigint_during_a_hang_json():
    """The stall under way is the last stall event (ongoing, unfinished), the
    summary's worst is its length, its iteration is counted, and no
    percentile lies past it."""
    ls, p = hang_then_sigint(True)
    stalls = [o for _, o in ls.events() if o["event"] == "stall"]
    summ = ls.summary()
    last = stalls[-1] if stalls else {}
    p.check(last.get("ongoing") is True and last.get("unfinished") is True,
            "last stall event %s" % last)
    p.check(summ["stalls"] == 1 and summ.get("unfinished") == 1, "summary %s" % summ)
    p.check(abs(summ["worst_ms"] - last.get("duration_ms", -1)) < 0.01,
            "summary worst %s, last printed %s" % (summ["worst_ms"], last.get("duration_ms")))
    p.check(summ["iterations"] >= 1, "iterations %s" % summ["iterations"])
    p.check(0 < summ["busy_p50_ms"] <= summ["busy_p99_ms"] <= summ["worst_ms"] + 0.001,
            "p50 %s p99 %s worst %s" % (summ["busy_p50_ms"], summ["busy_p99_ms"], summ["worst_ms"]))
    p.raise_if_any()


@lib.timeout(40)
def test_sigint_during_a_hang_text():
    """Text: the stall under way is printed as such, and the summary counts
    it, with the length printed."""
    ls, p = hang_then_sigint(False)
    out = ls.stdout
    m = re.search(r"STALL\s+([\d.]+) ms and counting.*\(still under way when watching ended\)", out)
    p.check(m, "no line for the stall still under way: %r" % out[-600:])
    s = re.search(r"stalls: 1 \(1 still under way\)\s+worst: ([\d.]+) ms", out)
    p.check(s, "summary: %r" % out[-400:])
    if m and s:
        p.check(m.group(1) == s.group(1), "printed %s ms, summary worst %s ms" % (m.group(1), s.group(1)))
    it = re.search(r"loop iterations: (\d+).*busy p50: ([\d.]+) ms\s+p99: ([\d.]+) ms", out)
    p.check(it and int(it.group(1)) >= 1 and float(it.group(2)) > 0, "iterations/percentiles: %r" % out[-400:])
    p.raise_if_any()
