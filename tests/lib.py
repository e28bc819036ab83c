# SPDX-License-Identifier: GPL-2.0-only
"""Shared helpers for loopscope's tests (stdlib only, Debian's python3.11).

- Skip, timeout(), params(), each_python(): what tests/run.py understands.
- loopscope_bin(), pythons(), python(), node_bin(): what this machine has
  (the target Pythons and the testing root: roots.py).
- Target: a target program, started and always killed.
- Loopscope / run_loopscope(): loopscope runs, their NDJSON parsed.
- describe_on_failure(): things whose state a failing test should show.
- BpfLeakCheck: BPF left in the kernel (the objects themselves: bpfobjs.py).
"""
import json
import os
import shutil
import subprocess
import threading
import time

# the target Pythons (pyenv builds, the testing root, Debian's python3.11)
from roots import (DEBIAN_PYTHON, PYENV_VERSIONS, ROOT_WRAPPERS, TARGET_ROOT,  # noqa: F401
                   UVLOOP_PYTHONS, Interp, _find_pyenv, pyenv_root, pythons, supported_versions)
# the BPF objects loopscope holds and leaves in the kernel
from bpfobjs import bpf_ids_held, bpf_link_fds, bpf_objects, have_bpftool  # noqa: F401

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS_DIR)
TARGETS_DIR = os.path.join(TESTS_DIR, "targets")
STALLS_PY = os.path.join(TARGETS_DIR, "stalls.py")
STALLS_JS = os.path.join(TARGETS_DIR, "stalls.js")


# --- what tests/run.py understands -----------------------------------------

class Skip(Exception):
    """Raise Skip("reason") in a test to report it as skipped."""


class Param:
    """One case of a parametrized test: its id, its arguments, and a reason
    to skip it without running it (e.g. an interpreter that is absent)."""

    def __init__(self, id, *args, skip=None):
        self.id = id
        self.args = args
        self.skip = skip


def timeout(seconds):
    """Decorator: the test fails if it runs longer than `seconds`."""
    def deco(fn):
        fn.timeout = seconds
        return fn
    return deco


def params(cases):
    """Decorator: run the test once per Param in `cases`."""
    def deco(fn):
        fn.params = list(cases)
        return fn
    return deco


def each_python(names=None):
    """Decorator: run the test once per target Python (an Interp argument);
    a Python this machine does not have is a skipped case."""
    interps = [i for i in pythons() if names is None or i.name in names]
    return params(Param(i.name, i, skip=i.missing) for i in interps)


_artifacts = []


def describe_on_failure(obj):
    """Registers obj (with a describe() -> str method): a failing test shows it."""
    _artifacts.append(obj)
    return obj


def failure_details():
    return [a.describe() for a in _artifacts]


def log(*args):
    """Test log: shown live with -v, and on failure."""
    print("[%s]" % time.strftime("%H:%M:%S"), *args, flush=True)


def trim(text, max_lines=30, max_line_len=400):
    """The head and tail of text, for failure messages."""
    lines = [l if len(l) <= max_line_len else l[:max_line_len] + "..."
             for l in (text or "").splitlines()]
    if len(lines) > max_lines:
        keep = max_lines // 2
        lines = lines[:keep] + ["... (%d lines cut) ..." % (len(lines) - 2 * keep)] + lines[-keep:]
    return "\n".join(lines)


class Problems:
    """Collects every mismatch of a test, to report them all at once."""

    def __init__(self, what):
        self.what = what
        self.items = []

    def add(self, msg):
        self.items.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.add(msg)
        return cond

    def raise_if_any(self):
        if self.items:
            raise AssertionError("%s: %d problem(s)\n  - %s" % (
                self.what, len(self.items), "\n  - ".join(self.items)))


# --- what this machine has -------------------------------------------------

def loopscope_bin():
    """build/loopscope, or the binary $LOOPSCOPE_BIN names (to test another build)."""
    path = os.environ.get("LOOPSCOPE_BIN") or os.path.join(ROOT, "build", "loopscope")
    if not os.access(path, os.X_OK):
        raise AssertionError("%s is missing: run `make` first" % path)
    return path


def python(name):
    """The Interp called name; Skip if this machine does not have it."""
    for i in pythons():
        if i.name == name:
            if i.missing:
                raise Skip(i.missing)
            return i
    raise KeyError(name)


def node_bin():
    for p in ("/usr/bin/node", shutil.which("node") or ""):
        if p and os.access(p, os.X_OK):
            return p
    raise Skip("no Node.js (/usr/bin/node) on this machine")


# --- processes -------------------------------------------------------------

def _kill(proc):
    """SIGKILL proc (a Popen) if it still runs, and reap it."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _reader(stream, on_line):
    try:
        for line in iter(stream.readline, ""):
            on_line(line.rstrip("\n"))
    except (OSError, ValueError):
        pass


def preexec_as(uid, gid):
    def fn():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return fn


class Target:
    """A target program that prints `READY {json}` once it is set up, waits
    for "go" on stdin, then prints JSON records (one per line). Use as a
    context manager: the process is always killed at the end."""

    def __init__(self, argv, name=None, ready_timeout=20.0, user=None, env=None):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[1] if len(self.argv) > 1 else self.argv[0])
        self.ready_timeout = ready_timeout
        self.user = user              # (uid, gid) to run as, or None
        self.env = env
        self.proc = None
        self.info = None              # the READY json
        self.records = []             # (received at, record)
        self.other = []               # stdout lines that are not JSON
        self.stderr = []
        self._cond = threading.Condition()
        self._ready = threading.Event()
        describe_on_failure(self)

    @classmethod
    def python(cls, interp, *args, **kw):
        kw.setdefault("name", "stalls.py@%s" % interp.name)
        return cls([interp.path, "-X", "faulthandler", STALLS_PY] + list(args), **kw)

    @classmethod
    def node(cls, *args, **kw):
        kw.setdefault("name", "stalls.js")
        return cls([node_bin(), STALLS_JS] + list(args), **kw)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()

    def _on_stdout(self, line):
        now = time.time()
        if line.startswith("READY"):
            try:
                self.info = json.loads(line[5:].strip() or "{}")
            except ValueError:
                self.info = {}
            self._ready.set()
            return
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        with self._cond:
            if isinstance(rec, dict):
                self.records.append((now, rec))
            else:
                self.other.append(line)
            self._cond.notify_all()

    def start(self):
        env = dict(os.environ if self.env is None else self.env)
        for k in ("PYTHONASYNCIODEBUG", "PYTHONDEVMODE", "PYTHONSTARTUP", "NODE_OPTIONS"):
            env.pop(k, None)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        log("target:", " ".join(self.argv))
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, env=env, cwd=TESTS_DIR,
            preexec_fn=preexec_as(*self.user) if self.user else None)
        for stream, fn in ((self.proc.stdout, self._on_stdout), (self.proc.stderr, self.stderr.append)):
            threading.Thread(target=_reader, args=(stream, fn), daemon=True).start()
        deadline = time.monotonic() + self.ready_timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None:
                time.sleep(0.1)  # let the readers catch up with its last words
                raise AssertionError("target %s exited with %s before READY" %
                                     (self.name, self.proc.returncode))
            if time.monotonic() > deadline:
                raise AssertionError("target %s printed no READY within %.0f s" %
                                     (self.name, self.ready_timeout))
        return self

    @property
    def pid(self):
        return self.proc.pid

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def wait_event(self, event, timeout, count=1):
        """Waits for `count` records with this "event"; returns them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for _, r in self.records if r.get("event") == event]
                if len(got) >= count:
                    return got
                if self.proc.poll() is not None:
                    raise AssertionError("target %s exited (%s) while waiting for %r" %
                                         (self.name, self.proc.returncode, event))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("target %s: no %r record within %.0f s" %
                                         (self.name, event, timeout))
                self._cond.wait(min(left, 0.1))

    def events(self, event):
        with self._cond:
            return [r for _, r in self.records if r.get("event") == event]

    def stalls(self):
        return self.events("stall")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is not None:
            _kill(self.proc)
            for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    s.close()
                except (OSError, ValueError):
                    pass

    def describe(self):
        out = ["target %s (pid %s, exit %s): %s" % (
            self.name, self.proc.pid if self.proc else "-",
            self.proc.returncode if self.proc else "-", " ".join(self.argv))]
        recs = [json.dumps(r) for _, r in self.records]
        if recs:
            out.append("  records:\n" + _indent(trim("\n".join(recs), 24)))
        if self.other:
            out.append("  other stdout:\n" + _indent(trim("\n".join(self.other), 10)))
        if self.stderr:
            out.append("  stderr:\n" + _indent(trim("\n".join(self.stderr), 16)))
        return "\n".join(out)


def _indent(text, prefix="    "):
    return "\n".join(prefix + l for l in text.splitlines())


# --- loopscope -------------------------------------------------------------

class Loopscope:
    """One `loopscope` run in the background; its stdout lines are kept with
    the time they arrived, parsed as NDJSON when json is on."""

    def __init__(self, args, user=None, name="loopscope"):
        self.argv = [loopscope_bin()] + [str(a) for a in args]
        self.user = user
        self.name = name
        self.proc = None
        self.lines = []        # (received at, text)
        self.stderr = []
        self.started = None
        self.ended = None
        self._threads = []
        describe_on_failure(self)

    @classmethod
    def stalls(cls, pid, threshold=None, duration=None, json_out=True, extra=(), **kw):
        args = ["stalls", str(pid)]
        if json_out:
            args.append("--json")
        if threshold is not None:
            args += ["--threshold", "%g" % threshold]
        if duration is not None:
            args += ["--duration", "%g" % duration]
        return cls(args + list(extra), **kw)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()

    def start(self):
        log("run:", " ".join(self.argv))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, env=dict(os.environ, NO_COLOR="1"),
            preexec_fn=preexec_as(*self.user) if self.user else None)
        self._threads = [
            threading.Thread(target=_reader, args=(self.proc.stdout,
                             lambda l: self.lines.append((time.time(), l))), daemon=True),
            threading.Thread(target=_reader, args=(self.proc.stderr, self.stderr.append),
                             daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def wait_attached(self, timeout=15.0, settle=0.25):
        """Waits until loopscope holds its BPF links and their number has
        not changed for `settle` seconds."""
        deadline = time.monotonic() + timeout
        last, since = None, None
        while time.monotonic() < deadline:
            n = bpf_link_fds(self.proc.pid)
            if self.proc.poll() is not None or n is None:
                self.wait(5)
                raise AssertionError("loopscope exited (%s) before attaching: %s" % (
                    self.proc.returncode, trim("\n".join(self.stderr), 5)))
            if n != last:
                last, since = n, time.monotonic()
            elif n and time.monotonic() - since >= settle:
                log("loopscope attached (%d BPF links) after %.2f s" %
                    (n, time.monotonic() - self.started))
                return n
            time.sleep(0.02)
        raise AssertionError("loopscope did not attach within %.0f s" % timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Waits for loopscope to exit; fails (and kills it) after timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("loopscope did not exit within %.1f s" % timeout)
        for t in self._threads:
            t.join(5)
        self.ended = self.ended or time.monotonic()
        return rc

    def kill(self):
        if self.proc is not None:
            _kill(self.proc)
            self.ended = self.ended or time.monotonic()

    @property
    def returncode(self):
        return self.proc.returncode

    @property
    def stdout(self):
        return "\n".join(l for _, l in self.lines)

    def events(self):
        """Every stdout line as JSON: [(received at, object)]; a line that is
        not a JSON object fails the test (NDJSON is a contract)."""
        out = []
        for t, line in self.lines:
            try:
                obj = json.loads(line)
            except ValueError:
                raise AssertionError("loopscope printed a line that is not JSON: %r" % line)
            if not isinstance(obj, dict) or "event" not in obj:
                raise AssertionError("loopscope printed a JSON line without \"event\": %r" % line)
            out.append((t, obj))
        return out

    def finished_stalls(self):
        return [o for _, o in self.events() if o["event"] == "stall" and not o["ongoing"]]

    def ongoing_stalls(self):
        return [(t, o) for t, o in self.events() if o["event"] == "stall" and o["ongoing"]]

    def summary(self):
        evs = [o for _, o in self.events() if o["event"] == "summary"]
        if len(evs) != 1:
            raise AssertionError("expected exactly one summary event, got %d" % len(evs))
        if self.events()[-1][1]["event"] != "summary":
            raise AssertionError("the summary is not the last event")
        return evs[0]

    def describe(self):
        rc = self.proc.returncode if self.proc else None
        out = ["%s (exit %s): %s" % (self.name, rc, " ".join(self.argv))]
        out.append("  stdout:\n" + (_indent(trim(self.stdout, 30)) or "    (empty)"))
        out.append("  stderr:\n" + (_indent(trim("\n".join(self.stderr), 12)) or "    (empty)"))
        return "\n".join(out)


class Result:
    def __init__(self, rc, stdout, stderr, elapsed):
        self.returncode = rc
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed

    def stderr_lines(self):
        return [l for l in self.stderr.splitlines() if l.strip()]

    def describe(self):
        return "exit %s after %.2f s\n  stdout:\n%s\n  stderr:\n%s" % (
            self.returncode, self.elapsed, _indent(trim(self.stdout, 20)) or "    (empty)",
            _indent(trim(self.stderr, 12)) or "    (empty)")


class _Ran:
    def __init__(self, argv, result):
        self.argv, self.result = argv, result

    def describe(self):
        return "ran: %s\n  %s" % (" ".join(self.argv), self.result.describe())


def run_loopscope(args, timeout=30.0, user=None, binary=None):
    """Runs loopscope to completion (killed after timeout), as user (uid, gid)
    if given, and from another binary if given."""
    argv = [binary or loopscope_bin()] + [str(a) for a in args]
    log("run%s:" % (" as uid %d" % user[0] if user else ""), " ".join(argv))
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, NO_COLOR="1"),
                            preexec_fn=preexec_as(*user) if user else None)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err = proc.communicate()
        res = Result(None, out, err, time.monotonic() - t0)
        describe_on_failure(_Ran(argv, res))
        raise AssertionError("%s did not exit within %.0f s" % (" ".join(argv), timeout))
    finally:
        _kill(proc)
    res = Result(proc.returncode, out, err, time.monotonic() - t0)
    describe_on_failure(_Ran(argv, res))
    return res


def parse_ndjson(text):
    out = []
    for line in text.splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                raise AssertionError("loopscope printed a line that is not JSON: %r" % line)
    return out


# --- BPF objects -----------------------------------------------------------

def other_loopscopes():
    """PIDs of loopscope processes not started by this test process."""
    mine = set()
    for a in _artifacts:
        proc = getattr(a, "proc", None)
        if proc is not None and isinstance(a, Loopscope):
            mine.add(proc.pid)
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) not in mine:
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().strip() == "loopscope":
                        out.append(int(d))
            except OSError:
                pass
    return out


class BpfLeakCheck:
    """Records the BPF programs and links a running loopscope holds, then
    checks that none of them is left in the kernel once it has exited."""

    def __init__(self):
        self.before, _ = bpf_objects()
        self.progs, self.links = set(), set()

    def snapshot(self, ls):
        progs, links = bpf_ids_held(ls.pid)
        self.progs |= progs
        self.links |= links
        if not progs or not links:
            raise AssertionError("loopscope (pid %d) holds no BPF program/link while attached: "
                                 "progs %s links %s" % (ls.pid, progs, links))

    def check(self, p, what):
        """After loopscope exited: adds a problem to p for anything left."""
        def left():
            progs, links = bpf_objects(prefix="")
            return ({i: n for i, n in progs.items() if i in self.progs},
                    {i for i in links if i in self.links})
        # the kernel frees programs a moment after the last reference goes
        gone = wait_until(lambda: not any(left()), 2.0, 0.1)
        if not gone:
            progs, links = left()
            p.add("%s: BPF left behind after loopscope exited: programs %s, links %s" % (
                what, progs, sorted(links)))
        if not other_loopscopes():
            now, _ = bpf_objects()
            extra = {i: n for i, n in now.items() if i not in self.before}
            p.check(not extra, "%s: new ls_* BPF programs loaded after loopscope exited: %s" % (
                what, extra))


def wait_until(pred, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()

