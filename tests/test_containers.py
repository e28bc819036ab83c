# SPDX-License-Identifier: GPL-2.0-only
"""Targets in containers, attached by their host PID: one in its own PID
namespace (unshare --pid --fork --mount-proc, then chroot into the Debian
testing root), one in its own mount namespace running a script that exists
only inside the root. Thread ids are ours (mapped through NSpid), file
names are the ones the target sees."""
import json
import os
import shutil
import subprocess
import time

import lib
from lib import Problems

APP_DIR = "/srv/loopscope-app"     # inside the root only


def child_of(pid, timeout=10):
    """The process unshare --fork started (the target), by its PID here."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("unshare (pid %d) started no target" % pid)


def wait_ready(proc, timeout=20):
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline and not line.startswith("READY"):
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise AssertionError("target exited (%s): %s" % (proc.returncode, proc.stderr.read()))
    return json.loads(line[5:])


def start(argv):
    lib.log("target:", " ".join(argv))
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd="/",
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def stop(proc):
    proc.kill()
    proc.wait(5)


def json_of(args):
    r = lib.run_loopscope(args + ["--json"])
    if r.returncode:
        raise AssertionError("loopscope %s exited %s: %s" % (args, r.returncode, r.stderr))
    return json.loads(r.stdout)


@lib.timeout(60)
def test_pid_namespace_target():
    interp = lib.python("3.14")
    p = Problems("target in its own PID namespace")
    proc = start(["unshare", "--pid", "--fork", "--mount-proc", "chroot", interp.root,
                  interp.exe, os.path.join(lib.TARGETS_DIR, "tasks.py")])
    try:
        info = wait_ready(proc)
        pid = child_of(proc.pid)
        with open("/proc/%d/status" % pid) as f:
            nspid = [l.split()[1:] for l in f if l.startswith("NSpid:")][0]
        p.check(nspid[-1] == "1" and info["loop_tid"] == 1,
                "the target is not PID 1 of its namespace: NSpid %s, loop tid %s" % (
                    nspid, info["loop_tid"]))
        dump = json_of(["dump", str(pid)])
        tids = [t["tid"] for t in dump["threads"]]
        p.check(tids == [pid], "dump: threads %s, want [%d] (host tids)" % (tids, pid))
        p.check(dump["threads"] and dump["threads"][0]["stack"], "dump: no stack")
        ps = json_of(["ps", str(pid)])
        p.check([l["tid"] for l in ps["loops"]] == [pid], "ps: loops %s" % ps["loops"])
        p.check(len(ps["tasks"]) == len(info["tasks"]), "ps: %d tasks, target has %d" % (
            len(ps["tasks"]), len(info["tasks"])))
        p.check(all(t["loop_tid"] == pid for t in ps["tasks"]), "ps: a task's loop_tid is not %d" % pid)
    finally:
        stop(proc)
    p.raise_if_any()


@lib.timeout(60)
def test_mount_namespace_target_sees_its_own_paths():
    interp = lib.python("3.15")
    app = interp.root + APP_DIR
    os.makedirs(app, exist_ok=True)
    shutil.copy(os.path.join(lib.TARGETS_DIR, "tasks.py"), app)
    p = Problems("target in its own mount namespace")
    proc = start(["unshare", "--mount", "chroot", interp.root, interp.exe,
                  APP_DIR + "/tasks.py"])
    try:
        wait_ready(proc)
        dump = json_of(["dump", str(proc.pid)])
        files = [f["file"] for t in dump["threads"] for f in t["stack"]]
        p.check(APP_DIR + "/tasks.py" in files, "dump: no frame in %s/tasks.py: %s" % (APP_DIR, files))
        p.check(all(not f.startswith(interp.root) for f in files), "dump: host paths %s" % files)
        r = lib.run_loopscope(["dump", str(proc.pid)])
        p.check("(%s)" % interp.exe in r.stdout.splitlines()[0],
                "dump names %r, not %s" % (r.stdout.splitlines()[0], interp.exe))
        ps = json_of(["ps", str(proc.pid)])
        p.check(ps["tasks"] and all(f["file"].startswith(("/usr/lib/", APP_DIR))
                                    for t in ps["tasks"] for f in t["stack"]),
                "ps: stacks not in the target's paths")
    finally:
        stop(proc)
    p.raise_if_any()
