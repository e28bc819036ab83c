# SPDX-License-Identifier: GPL-2.0-only
"""What bench/dump, bench/ps and bench/watch share: starting and always
stopping processes, medians with their spread, the machine's context."""
import atexit
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOOPSCOPE = os.path.join(ROOT, "build", "loopscope")
DEBIAN_PYTHON = "/usr/bin/python3.11"
_children = []


def _stop_all():
    for p in _children:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))


def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    _children.append(p)
    return p


def start_target(argv, ready="READY", timeout=120):
    """Starts a target and waits for its READY line; returns (proc, rest of the line)."""
    p = spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            sys.exit("bench: target %s exited before %s" % (argv, ready))
        if line.startswith(ready):
            return p, line[len(ready):].strip()
    sys.exit("bench: target %s not ready in %d s" % (argv, timeout))


def need_loopscope():
    if not os.access(LOOPSCOPE, os.X_OK):
        sys.exit("bench: %s is missing: run `make` first" % LOOPSCOPE)


def timed(argv, runs):
    """Wall time of `runs` runs of a command (stdout discarded), in seconds."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        out.append(time.perf_counter() - t0)
        if r.returncode != 0:
            sys.exit("bench: %s failed: %s" % (" ".join(map(str, argv)), r.stderr.strip()))
    return out


def spread(values, unit="", scale=1.0, digits=3):
    """'median (min-max, n=N)'."""
    v = [x * scale for x in values]
    fmt = "%%.%df" % digits
    return (fmt + "%s (" + fmt + "-" + fmt + "%s, n=%d)") % (
        statistics.median(v), unit, min(v), max(v), unit, len(v))


def header(title):
    print("== %s ==" % title)
    print("machine: %d CPUs, kernel %s, %s" % (os.cpu_count(), platform.release(),
                                               time.strftime("%Y-%m-%d %H:%M")))
