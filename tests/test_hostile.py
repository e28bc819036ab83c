# SPDX-License-Identifier: GPL-2.0-only
"""Strings a target controls (task and thread names, exception messages)
built to break the tools that print them (tests/targets/hostile.py): JSON
output must stay valid UTF-8 and parse, with the hostile values in it
(lone surrogates as backslashreplace text); text output must contain no
control character but newlines, and no forged line."""
import json
import os
import re
import signal
import subprocess
import time

import lib
from lib import Loopscope, Problems, Target

HOSTILE_PY = os.path.join(lib.TARGETS_DIR, "hostile.py")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]")


def hostile_target(interp):
    return Target([interp.path, HOSTILE_PY], name="hostile.py@%s" % interp.name)


def as_printed(s):
    """What loopscope's JSON must hold for a Python str: itself, with what
    UTF-8 cannot carry (lone surrogates) as backslashreplace text."""
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


def run_bytes(args, timeout=30):
    r = subprocess.run([lib.loopscope_bin()] + [str(a) for a in args], capture_output=True,
                       timeout=timeout, env=dict(os.environ, NO_COLOR="1"))
    return r.returncode, r.stdout, r.stderr


def utf8(p, data, what):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        p.add("%s: output is not valid UTF-8: %s" % (what, e))
        return data.decode("utf-8", "replace")


def check_text(p, text, what):
    for i, line in enumerate(text.splitlines()):
        if CONTROL.search(line):
            p.add("%s: line %d carries a control character: %r" % (what, i, line))
    if re.search(r"^FAKE 0xdead", text, re.M):
        p.add("%s: a task name forged a line of its own" % what)


def check_json_commands(p, pid, info):
    rc, out, _ = run_bytes(["ps", pid, "--json"])
    doc = json.loads(utf8(p, out, "ps --json")) if rc == 0 else {"tasks": []}
    p.check(rc == 0, "ps --json exit %s" % rc)
    names = {t["name"] for t in doc["tasks"]}
    for n in info["names"]:
        p.check(as_printed(n) in names, "ps --json lacks the task named %r: %s" % (n, names))
    for cmd in (["pstree", pid, "--json"], ["dump", pid, "--json"], ["where", pid, info["tasks"][0],
                                                                     "--json"]):
        rc, out, _ = run_bytes(cmd)
        p.check(rc == 0, "%s exit %s" % (cmd[0], rc))
        doc = json.loads(utf8(p, out, cmd[0]))
        if cmd[0] == "dump":
            threads = {t["name"]: t for t in doc["threads"]}
            t = threads.get(info["thread"])
            if p.check(t is not None, "dump --json lacks thread %r: %s" % (info["thread"], list(threads))):
                want = info["os_name"].encode("latin-1").decode("utf-8", "backslashreplace")
                p.check(t["os_name"] == want, "os_name %r, want %r" % (t["os_name"], want))
        if cmd[0] == "where":
            p.check(doc["task"]["name"] == as_printed(info["names"][0]), "where name %r" % doc["task"]["name"])


def check_text_commands(p, pid, info):
    for cmd in (["ps", pid], ["pstree", pid], ["dump", pid], ["where", pid, info["tasks"][0]]):
        rc, out, err = run_bytes(cmd)
        p.check(rc == 0, "%s exit %s: %r" % (cmd[0], rc, err))
        text = utf8(p, out, cmd[0])
        check_text(p, text, cmd[0])
        check_text(p, utf8(p, err, cmd[0] + " stderr"), cmd[0] + " stderr")
    rc, out, _ = run_bytes(["ps", pid])
    rows = [l for l in utf8(p, out, "ps").splitlines()[2:] if l.strip()]
    p.check(len(rows) == len(info["names"]) + 1, "ps prints %d rows for %d tasks: %s" % (
        len(rows), len(info["names"]) + 1, rows))


@lib.timeout(60)
@lib.each_python(["3.10", "3.12", "3.13", "debian-3.11"])
def test_hostile_strings_in_one_shot_commands(interp):
    with hostile_target(interp) as t:
        p = Problems("hostile strings on %s" % interp.name)
        check_json_commands(p, t.pid, t.info)
        check_text_commands(p, t.pid, t.info)
        p.raise_if_any()


def wait_links_stable(pid, settle=0.5, timeout=20):
    """Until loopscope holds BPF links and their number has not changed for
    `settle` seconds: every detector is in place (under load, the first
    link comes well before the last)."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        n = lib.bpf_link_fds(pid)
        if n != last:
            last, since = n, time.monotonic()
        elif n and time.monotonic() - since >= settle:
            return
        time.sleep(0.02)
    raise AssertionError("loopscope did not attach within %d s" % timeout)


def watch_run(t, json_out):
    args = ["watch", t.pid] + (["--json"] if json_out else [])
    proc = subprocess.Popen([lib.loopscope_bin()] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, NO_COLOR="1"))
    try:
        wait_links_stable(proc.pid)
        t.go()
        t.wait_event("done", 20)
        lib.wait_until(lambda: False, 0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    return proc.returncode, out, err


@lib.timeout(90)
@lib.each_python(["3.12", "debian-3.11"])
def test_hostile_strings_in_stalls_and_watch(interp):
    p = Problems("hostile strings under watch on %s" % interp.name)
    with hostile_target(interp) as t:
        rc, out, _ = watch_run(t, json_out=True)
        p.check(rc == 0, "watch --json exit %s" % rc)
        events = [json.loads(l) for l in utf8(p, out, "watch --json").splitlines() if l.strip()]
        stalls = [e for e in events if e["event"] == "stall" and not e["ongoing"]]
        forged = as_printed(t.info["names"][0])
        p.check(any(s.get("task") and s["task"]["name"] == forged for s in stalls),
                "no stall under the task %r: %s" % (forged, [s.get("task") for s in stalls]))
        exc = [e for e in events if e["event"] == "unretrieved_exception"]
        want = "ValueError: " + as_printed(t.info["message"])
        p.check(any(e["exception"] == want and e["task"] == as_printed(t.info["names"][1])
                    for e in exc), "no unretrieved exception %r: %s" % (want, exc))
    with hostile_target(interp) as t:
        rc, out, err = watch_run(t, json_out=False)
        p.check(rc == 0, "watch exit %s" % rc)
        text = utf8(p, out, "watch")
        check_text(p, text, "watch")
        p.check("STALL" in text and "EXCEPTION NEVER RETRIEVED" in text,
                "watch text lacks the stall or the exception: %r" % text[:2000])
    p.raise_if_any()
