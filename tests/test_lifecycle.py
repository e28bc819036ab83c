# SPDX-License-Identifier: GPL-2.0-only
"""What `stalls` and `watch` do when the world around them changes: the
reader of their output goes away, the target dies while they attach and its
PID is taken by another process, the target exits while watched.
"""
import os
import signal
import subprocess
import time

import lib
from lib import Loopscope, Problems, Target

COMMANDS = [lib.Param("stalls", ["stalls"]), lib.Param("watch", ["watch"])]


def popen_loopscope(args):
    argv = [lib.loopscope_bin()] + [str(a) for a in args]
    lib.log("run:", " ".join(argv))
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, NO_COLOR="1"))


def wait_fd(pid, kind, timeout):
    """Waits until process pid holds an fd of this kind (e.g. anon_inode:bpf-prog)."""
    def held():
        try:
            return any(os.readlink("/proc/%d/fd/%s" % (pid, fd)) == kind
                       for fd in os.listdir("/proc/%d/fd" % pid))
        except OSError:
            return False
    return lib.wait_until(held, timeout, 0.002)


def exit_within(proc, seconds):
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


@lib.timeout(40)
@lib.params(COMMANDS)
def test_reader_gone_stops_the_command(cmd):
    """`loopscope stalls PID | head -1`: once the reader has its line and
    goes, loopscope stops (exit 0, nothing left in the kernel), like any
    filter; also when it has nothing to print at that moment."""
    interp = lib.python("debian-3.11")
    with Target.python(interp, "--kinds", "sleep", "--repeat", 20, "--gap-ms", 200) as target:
        leaks = lib.BpfLeakCheck()
        proc = popen_loopscope(cmd + [target.pid, "--json", "--duration", 30])
        try:
            if not wait_fd(proc.pid, "anon_inode:bpf_link", 15):
                raise AssertionError("loopscope attached no BPF link")
            target.go()
            first = proc.stdout.readline()   # watch's attached event, a stall
            t_first = time.monotonic()
            lib.log("first line: %r" % first[:120])
            progs, links = lib.bpf_ids_held(proc.pid)
            leaks.progs |= progs
            leaks.links |= links
            lib.wait_until(lambda: time.monotonic() - t_first > 0.3, 1)
            proc.stdout.close()        # head -1 has its line and exits
            t0 = time.monotonic()
            rc = exit_within(proc, 5)
            took = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode(errors="replace")
    p = Problems("%s with its reader gone" % cmd[0])
    p.check(first.startswith(b"{") and time.monotonic() - t_first < 25,
            "no first line before the reader went: %r" % first)
    p.check(rc == 0, "exit %s (%s after the reader went; stderr %r)" % (
        rc, "still running 5 s" if rc is None else "%.1f s" % took, err[-300:]))
    p.check("Broken pipe" not in err, "stderr complains of the pipe: %r" % err[-300:])
    leaks.check(p, cmd[0])
    p.raise_if_any()


def take_pid(pid, attempts=50):
    """Starts a process with this (free) PID, through ns_last_pid; None when
    others on the machine kept taking it first."""
    for _ in range(attempts):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        proc = subprocess.Popen(["sleep", "30"], stdin=subprocess.DEVNULL)
        if proc.pid == pid:
            return proc
        proc.kill()
        proc.wait()
    return None


@lib.timeout(40)
@lib.params(COMMANDS)
def test_pid_reused_during_attach(cmd):
    """The target dies while loopscope loads its BPF programs and another
    process takes its PID: loopscope says the target exited while it was
    attaching (exit 1), and never watches the newcomer in its place.
    loopscope is stopped (SIGSTOP) in the middle of its attach, so that the
    PID changes hands there, every time."""
    if not os.access("/proc/sys/kernel/ns_last_pid", os.W_OK):
        raise lib.Skip("cannot write /proc/sys/kernel/ns_last_pid")
    interp = lib.python("debian-3.11")
    target = Target.python(interp, "--mode", "healthy", "--tasks", 5).start()
    other = None
    proc = popen_loopscope(cmd + [target.pid, "--json", "--duration", 20])
    try:
        if not wait_fd(proc.pid, "anon_inode:bpf-prog", 15):
            raise AssertionError("loopscope loaded no BPF program: %s" % proc.stderr.read1())
        proc.send_signal(signal.SIGSTOP)
        pid = target.pid
        target.kill()                 # killed and reaped: its PID is free
        other = take_pid(pid)
        proc.send_signal(signal.SIGCONT)
        if other is None:
            raise lib.Skip("PID %d was taken by another process of the machine" % pid)
        rc = exit_within(proc, 10)
        out = proc.stdout.read().decode(errors="replace") if rc is not None else ""
        err = proc.stderr.read().decode(errors="replace") if rc is not None else ""
    finally:
        for pr in (proc, other):
            if pr is not None and pr.poll() is None:
                pr.kill()
                pr.wait()
        target.kill()
    p = Problems("%s: PID %d reused while attaching" % (cmd[0], pid))
    p.check(rc == 1, "exit %s (still watching the newcomer 10 s later?); stdout %r" % (rc, out[-300:]))
    p.check("exited while loopscope was attaching" in err, "stderr %r" % err[-300:])
    p.check('"attached"' not in out and '"summary"' not in out, "it watched: %r" % out[-300:])
    p.raise_if_any()


@lib.timeout(40)
def test_target_exit_is_said_as_such():
    """A target that exits while watched (text mode): loopscope says it
    exited, never that it has seen no loop yet, and its summary counts the
    loop the target had."""
    interp = lib.python("debian-3.11")
    with Target.python(interp, "--kinds", "sleep", "--exit-when-done") as target:
        with Loopscope.stalls(target.pid, threshold=100, duration=30, json_out=False) as ls:
            ls.wait_attached()
            target.go()
            rc = ls.wait(15)
    p = Problems("target exits while watched")
    err = "\n".join(ls.stderr)
    p.check(rc == 0, "exit %s" % rc)
    p.check("no event-loop thread seen" not in err, "says it saw no loop: %r" % err)
    p.check("PID %d exited" % target.pid in err, "does not say the target exited: %r" % err)
    p.check("target exited" in ls.stdout, "summary does not say the target exited")
    p.check("loop threads: 1" in ls.stdout, "summary loop count: %r" % ls.stdout[-300:])
    p.raise_if_any()


RERUNS_PY = os.path.join(lib.TARGETS_DIR, "reruns.py")


@lib.timeout(60)
@lib.params([lib.Param("light", ()), lib.Param("precise", ("--precise",))])
def test_no_loop_gaps_between_runs_are_not_stalls(extra):
    """asyncio.run() twelve times with blocking work between the runs (no
    loop exists then) and one real stall in each run: the real stalls are
    reported, the gaps never (neither as stalls nor as the worst)."""
    interp = lib.python("debian-3.11")
    with Target([interp.path, RERUNS_PY, "--rounds", 12], name="reruns.py") as target:
        with Loopscope.stalls(target.pid, threshold=100, duration=40, extra=extra) as ls:
            ls.wait_attached()
            target.go()
            target.wait_event("all_done", timeout=30)
            time.sleep(0.2)
            ls.signal(signal.SIGINT)
            rc = ls.wait(10)
    p = Problems("stalls between asyncio.run() calls (%s)" % ("precise" if extra else "light"))
    p.check(rc == 0, "exit %s" % rc)
    real, gaps = target.events("stall"), target.events("gap")
    finished = ls.finished_stalls()

    def overlaps(s, rec):
        return (min(s["ts"] + s["duration_ms"] / 1e3, rec["start"] + rec["duration_ms"] / 1e3)
                - max(s["ts"], rec["start"])) > 0.02

    for s in finished:
        p.check(any(overlaps(s, r) for r in real) and not any(overlaps(s, g) for g in gaps),
                "stall #%s (%.1f ms at %.3f) is a gap between runs" % (s["id"], s["duration_ms"], s["ts"]))
    missed = [r for r in real if not any(overlaps(s, r) for s in finished)]
    p.check(not missed, "%d of %d real stalls missed" % (len(missed), len(real)))
    summ = ls.summary()
    worst = max(r["duration_ms"] for r in real)
    p.check(summ["worst_ms"] <= worst * 1.2 + 20, "worst_ms %s, the longest real stall %.1f ms" % (
        summ["worst_ms"], worst))
    p.check(summ["busy_p99_ms"] <= max(summ["worst_ms"], 100) + 0.001,
            "busy_p99_ms %s past the worst stall %s: the gaps counted as iterations" % (
                summ["busy_p99_ms"], summ["worst_ms"]))
    p.raise_if_any()


@lib.timeout(30)
def test_not_an_asyncio_process_is_said_at_once():
    """`stalls` on a Python process that has not imported asyncio says so as
    soon as it is attached (not a second later, not only "no loop seen"),
    then keeps watching for a loop that may start, until --duration."""
    interp = lib.python("debian-3.11")
    code = "import time; print('READY {}', flush=True)\nwhile True: time.sleep(0.05)"
    with Target([interp.path, "-c", code], name="plain python") as target:
        with Loopscope.stalls(target.pid, duration=2.5, json_out=False) as ls:
            ls.wait_attached(settle=0.05)
            said = lib.wait_until(lambda: any("not an asyncio process" in l for l in ls.stderr), 0.5)
            rc = ls.wait(10)
        ran = ls.ended - ls.started
    p = Problems("stalls on a plain Python process")
    p.check(said, "not said within 0.5 s of attaching: %r" % ls.stderr)
    p.check(rc == 0 and 2.4 <= ran < 4.0, "exit %s after %.1f s (--duration 2.5)" % (rc, ran))
    p.check(sum("no event" in l for l in ls.stderr) == 1, "said %r" % ls.stderr)
    p.raise_if_any()
