# SPDX-License-Identifier: GPL-2.0-only
"""A container root whose files vanish under a running target: a private
overlay on the Debian testing root, a 3.14 target chrooted into it, then
its interpreter or _asyncio module deleted from the root. As root,
loopscope still opens them through /proc/PID/map_files (ps lists every
task, watch reports every bug); without CAP_SYS_ADMIN, which map_files
takes, a command says in one line which file it cannot open, never "not
a Python process" or "no asyncio loop"."""
import contextlib
import json
import os
import shutil
import subprocess
import tempfile

import lib
import test_cli
import test_watch
from lib import Problems, Target

ASYNCIO_SO = "/usr/lib/python3.14/lib-dynload/_asyncio.cpython-314-x86_64-linux-gnu.so"


class Overlay:
    """A writable copy of root (overlayfs, nothing copied), its /proc mounted."""

    def __init__(self, root):
        self.root = root
        self.tmp = tempfile.mkdtemp(prefix="loopscope-overlay-")
        self.merged = os.path.join(self.tmp, "merged")

    def __enter__(self):
        for d in ("upper", "work", "merged"):
            os.mkdir(os.path.join(self.tmp, d))
        r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s"
                            % (self.root, os.path.join(self.tmp, "upper"), os.path.join(self.tmp, "work")),
                            self.merged], capture_output=True, text=True)
        if r.returncode:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise lib.Skip("no overlayfs here: %s" % r.stderr.strip())
        subprocess.run(["mount", "-t", "proc", "proc", self.merged + "/proc"], check=True)
        return self

    def __exit__(self, *exc):
        for m in (self.merged + "/proc", self.merged):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def target(self, interp, script, *args):
        """script (a path under tests/) run by interp.exe chrooted into the
        overlay, with the same PID, as lib's root wrappers do."""
        return Target(["chroot", self.merged, "/bin/sh", "-c", 'cd "$0" && exec %s "$@"' % interp.exe,
                       lib.TESTS_DIR, script] + list(args), name="%s@overlay" % os.path.basename(script))

    def delete(self, path):
        os.unlink(self.merged + path)


def as_ptracer(exe, args):
    """loopscope as nobody with CAP_SYS_PTRACE only (all dump and ps need,
    not what /proc/PID/map_files takes)."""
    r = subprocess.run(test_cli._as_nobody_with(("sys_ptrace",), [exe] + args),
                       capture_output=True, text=True, timeout=20)
    return lib.Result(r.returncode, r.stdout, r.stderr, 0)


def check_names_file(p, res, what, path):
    p.check(res.returncode == 1, "%s: exit %s, want 1" % (what, res.returncode))
    test_cli.one_line(p, res, "cannot open " + path.replace(".", r"\."), "map_files")


@contextlib.contextmanager
def overlay_target(interp, script):
    """(overlay, target of script in it, a loopscope binary nobody can run)."""
    tmp = tempfile.mkdtemp(prefix="loopscope-test-")
    try:
        exe = test_cli._binary_for_nobody(tmp)
        with Overlay(interp.root) as ov, ov.target(interp, script) as t:
            yield ov, t, exe
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@lib.timeout(60)
def test_vanished_asyncio_module():
    interp = lib.python("3.14")
    with overlay_target(interp, os.path.join(lib.TARGETS_DIR, "tasks.py")) as (ov, t, exe):
        ov.delete(ASYNCIO_SO)
        p = Problems("3.14 target whose _asyncio module was deleted")
        r = lib.run_loopscope(["ps", t.pid, "--json"])
        ids = sorted(x["id"] for x in json.loads(r.stdout)["tasks"]) if not r.returncode else []
        p.check(ids == sorted(x["id"] for x in t.info["tasks"]),
                "ps as root (through map_files): exit %s, tasks %s" % (r.returncode, ids))
        check_names_file(p, as_ptracer(exe, ["ps", str(t.pid)]), "ps without CAP_SYS_ADMIN",
                         ASYNCIO_SO)
        p.raise_if_any()


@lib.timeout(60)
def test_vanished_interpreter():
    interp = lib.python("3.14")
    with overlay_target(interp, test_watch.LOSTWORK_PY) as (ov, t, exe):
        ov.delete(interp.exe)
        ov.delete(ASYNCIO_SO)
        p = Problems("3.14 target whose interpreter was deleted")
        for cmd in ("dump", "ps"):
            check_names_file(p, as_ptracer(exe, [cmd, str(t.pid)]),
                             "%s without CAP_SYS_ADMIN" % cmd, interp.exe)
        # as root the probes go in through map_files, and fire
        ls, rc = test_watch.run_watch(t)
        events = [e for _, e in ls.events()]
        p.check(rc == 0, "watch exit %s" % rc)
        test_watch.check_attached(p, events, interp, ())
        test_watch.check_events(p, events, t.events("expect"), "watch", ())
        p.raise_if_any()
