#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""loopscope's test runner (stdlib only): `make test` runs it.

    /usr/bin/python3 tests/run.py [-k SUBSTRING]... [-v] [--list] [-x]

Runs every `test_*` function of every tests/test_*.py, one at a time (the
BPF tests are timing-sensitive), each in a forked child process in its own
process group, with a timeout. A test may be parametrized (lib.params,
lib.each_python) and may skip itself by raising lib.Skip(reason). One line
per test, then exactly one line `N passed, N failed, N skipped`; exits 1 if
anything failed.

Every process a test starts is killed when it ends, passes or not: its
process group is killed, and the runner is a child subreaper, so processes
that left the group are re-parented to it and killed too.
"""
import argparse
import ctypes
import importlib.util
import json
import os
import select
import signal
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # keep the tree clean
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS_DIR)

import lib  # noqa: E402

DEFAULT_TIMEOUT = 60.0
GRACE = 10.0          # after the soft timeout (SIGALRM), before SIGKILL
PR_SET_CHILD_SUBREAPER = 36


class Case:
    def __init__(self, name, fn, args=(), skip=None):
        self.name = name
        self.fn = fn
        self.args = args
        self.skip = skip
        self.timeout = getattr(fn, "timeout", DEFAULT_TIMEOUT)


def discover(pattern_list):
    cases = []
    for fname in sorted(os.listdir(TESTS_DIR)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        modname = fname[:-3]
        spec = importlib.util.spec_from_file_location(modname, os.path.join(TESTS_DIR, fname))
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:
            err = traceback.format_exc(limit=-3)

            def import_failed(err=err):
                raise AssertionError("cannot import %s\n%s" % (fname, err))
            cases.append(Case("%s::<import>" % modname, import_failed))
            continue
        fns = [(n, f) for n, f in vars(mod).items()
               if n.startswith("test_") and callable(f) and getattr(f, "__module__", "") == modname]
        fns.sort(key=lambda nf: nf[1].__code__.co_firstlineno)  # file order
        for name, fn in fns:
            base = "%s::%s" % (modname, name)
            for p in getattr(fn, "params", None) or [None]:
                if p is None:
                    cases.append(Case(base, fn))
                else:
                    cases.append(Case("%s[%s]" % (base, p.id), fn, p.args, p.skip))
    if pattern_list:
        cases = [c for c in cases if any(k in c.name for k in pattern_list)]
    return cases


def set_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(d))
    return kids


def kill_leftovers(pgid):
    """Kills the test's process group, then every process re-parented to us."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for _ in range(50):
        kids = children_of(os.getpid())
        if not kids:
            break
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for k in kids:
            try:
                os.waitpid(k, 0)
            except ChildProcessError:
                pass


class SoftTimeout(Exception):
    pass


def run_in_child(case, wfd, verbose, logfd):
    """In the forked child: runs the test, writes a JSON result to wfd."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if not verbose:
        os.dup2(logfd, 1)
        os.dup2(logfd, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)

    def on_alarm(signum, frame):
        raise SoftTimeout("timed out after %.0f s" % case.timeout)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, case.timeout)
    status, reason = "pass", ""
    try:
        case.fn(*case.args)
    except lib.Skip as e:
        status, reason = "skip", str(e) or "skipped"
    except SoftTimeout as e:
        status, reason = "fail", "%s\n%s" % (e, _where(e))
    except AssertionError as e:
        status, reason = "fail", str(e) or "assertion failed\n" + _where(e)
    except Exception as e:  # an error in the test itself
        status = "fail"
        reason = "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc(limit=-6))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if status == "fail":
        try:
            details = lib.failure_details()
        except Exception as e:  # never lose the result because of a detail
            details = ["(failure details unavailable: %s)" % e]
        if details:
            reason += "\n" + "\n".join(details)
    try:
        payload = json.dumps({"status": status, "reason": reason}).encode()
        while payload:
            n = os.write(wfd, payload)
            payload = payload[n:]
    finally:
        os._exit(0)


def _where(e):
    tb = traceback.extract_tb(e.__traceback__)
    frames = [f for f in tb if f.filename.startswith(TESTS_DIR) and
              not f.filename.endswith("run.py")]
    return "".join(traceback.format_list(frames[-4:])).rstrip()


def run_case(case, verbose):
    """Runs one case in a child; returns (status, reason, seconds)."""
    rfd, wfd = os.pipe()
    logf = tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            run_in_child(case, wfd, verbose, logf.fileno())
        finally:
            os._exit(3)
    os.close(wfd)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass  # the child did it first, or already exited
    data = b""
    hard_deadline = t0 + case.timeout + GRACE
    timed_out = False
    try:
        while True:
            left = hard_deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            r, _, _ = select.select([rfd], [], [], min(left, 1.0))
            if r:
                chunk = os.read(rfd, 65536)
                if not chunk:
                    break
                data += chunk
    finally:
        os.close(rfd)
        kill_leftovers(pid)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    elapsed = time.monotonic() - t0
    if timed_out:
        status, reason = "fail", "killed: no result within %.0f s (timeout %.0f s)" % (
            case.timeout + GRACE, case.timeout)
    else:
        try:
            res = json.loads(data.decode(errors="replace"))
            status, reason = res["status"], res["reason"]
        except ValueError:
            status, reason = "fail", "the test process died without a result"
    if status == "fail" and not verbose:
        logf.seek(0)
        log_text = logf.read().decode(errors="replace").strip()
        if log_text:
            reason += "\ntest log (tail):\n" + "\n".join(
                "    " + l for l in lib.trim(log_text, 16).splitlines())
    logf.close()
    return status, reason, elapsed


def main():
    ap = argparse.ArgumentParser(description="Run loopscope's tests.")
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTRING",
                    help="run only tests whose name contains SUBSTRING (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show each test's log (loopscope runs, targets) as it runs")
    ap.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    ap.add_argument("--list", action="store_true", help="list the selected tests and exit")
    args = ap.parse_args()

    cases = discover(args.k)
    if args.list:
        for c in cases:
            print(c.name + ("  (skip: %s)" % c.skip if c.skip else ""))
        return 0
    if not cases:
        print("no tests selected", file=sys.stderr)
        print("0 passed, 0 failed, 0 skipped")
        return 1
    if os.geteuid() != 0:
        print("note: not root: the BPF tests will fail", file=sys.stderr)
    set_subreaper()

    counts = {"pass": 0, "fail": 0, "skip": 0}
    t_all = time.monotonic()
    interrupted = False
    for case in cases:
        if case.skip:
            status, reason, elapsed = "skip", case.skip, 0.0
        else:
            if args.verbose:
                print("---- %s" % case.name, flush=True)
            try:
                status, reason, elapsed = run_case(case, args.verbose)
            except KeyboardInterrupt:
                interrupted = True
                status, reason, elapsed = "fail", "interrupted (Ctrl-C)", 0.0
        counts[status] += 1
        if status == "pass":
            print("PASS %s (%.1fs)" % (case.name, elapsed), flush=True)
        elif status == "skip":
            print("SKIP %s: %s" % (case.name, reason), flush=True)
        else:
            first, _, rest = reason.partition("\n")
            print("FAIL %s: %s" % (case.name, first), flush=True)
            if rest.strip():
                print("\n".join("    " + l for l in rest.rstrip().splitlines()), flush=True)
        if interrupted or (args.exitfirst and status == "fail"):
            break
    print("(%d tests in %.1f s)" % (sum(counts.values()), time.monotonic() - t_all))
    print("%d passed, %d failed, %d skipped" % (counts["pass"], counts["fail"], counts["skip"]),
          flush=True)
    return 1 if counts["fail"] or interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
