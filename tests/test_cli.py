# SPDX-License-Identifier: GPL-2.0-only
"""loopscope's command line: bad input, exit codes, lifecycle, cleanup."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time

import lib
from lib import BpfLeakCheck, Loopscope, Param, Problems, Target, run_loopscope

NOBODY = (65534, 65534)


def one_line(p, res, *must_contain):
    """stderr is exactly one line, containing each of must_contain."""
    lines = res.stderr_lines()
    if p.check(len(lines) == 1, "stderr should be exactly one line, got %d: %r" % (len(lines), res.stderr)):
        for word in must_contain:
            p.check(re.search(word, lines[0], re.I),
                    "stderr %r does not mention %r" % (lines[0], word))


def dead_pid():
    """A PID that was just used by a process that is now gone (and reaped)."""
    for _ in range(20):
        proc = subprocess.Popen(["true"])
        proc.wait()
        try:
            os.kill(proc.pid, 0)
        except ProcessLookupError:
            return proc.pid
    raise AssertionError("could not find a free PID")


def debian_or_any_python():
    for i in lib.pythons():
        if i.name == "debian-3.11" and not i.missing:
            return i
    for i in lib.pythons():
        if not i.missing:
            return i
    raise lib.Skip("no target Python on this machine")


@lib.timeout(20)
def test_help():
    p = Problems("--help")
    top = run_loopscope(["--help"], timeout=10)
    p.check(top.returncode == 0, "loopscope --help exited %s" % top.returncode)
    p.check("stalls" in top.stdout, "loopscope --help does not list the stalls command: %r" % top.stdout)
    sub = run_loopscope(["stalls", "--help"], timeout=10)
    p.check(sub.returncode == 0, "loopscope stalls --help exited %s" % sub.returncode)
    for opt in ("--threshold", "--duration", "--json", "PID"):
        p.check(opt in sub.stdout, "loopscope stalls --help does not mention %s" % opt)
    p.check(not sub.stderr.strip(), "loopscope stalls --help wrote to stderr: %r" % sub.stderr)
    none = run_loopscope([], timeout=10)
    p.check(none.returncode == 2, "loopscope with no arguments exited %s, not 2" % none.returncode)
    p.check("stalls" in none.stderr, "loopscope with no arguments printed no usage on stderr")
    p.raise_if_any()


@lib.timeout(20)
def test_nonexistent_pid():
    pid = dead_pid()
    p = Problems("no such process %d" % pid)
    for extra in ([], ["--json"]):
        res = run_loopscope(["stalls", pid] + extra, timeout=10)
        p.check(res.returncode == 1, "exit %s, not 1 (%s)" % (res.returncode, extra))
        one_line(p, res, r"\b%d\b" % pid)
        p.check(not res.stdout.strip(), "printed on stdout: %r" % res.stdout)
    p.raise_if_any()


@lib.timeout(60)
def test_usage_errors_exit_2():
    """Each bad command line exits 2 at once, says what is wrong on stderr,
    and prints nothing on stdout. A valid PID (ours) is used where the PID is
    not the point, with --duration so that a wrong acceptance cannot hang."""
    me = str(os.getpid())
    cases = [
        (["stalls", "abc"], "abc"),
        (["stalls", "12x"], "12x"),
        (["stalls", "0"], "0"),
        (["stalls", "-5"], "5"),
        (["stalls", "99999999999999999999"], "9999"),
        (["stalls"], "PID"),
        (["stalls", "--json"], "PID"),
        (["stalls", me, "--bogus", "-d", "1"], "bogus"),
        (["stalls", me, "--threshold", "abc", "-d", "1"], "abc"),
        (["stalls", me, "--threshold", "-5", "-d", "1"], "threshold|-5"),
        (["stalls", me, "--duration", "soon"], "soon"),
        (["stalls", me, me, "-d", "1"], me),
        (["frobnicate", me], "frobnicate"),
        (["--bogus"], "bogus"),
    ]
    p = Problems("usage errors")
    for args, word in cases:
        res = run_loopscope(args, timeout=10)
        what = "loopscope %s" % " ".join(args)
        p.check(res.returncode == 2, "%s: exit %s, not 2 (stderr %r)" % (what, res.returncode, res.stderr[:200]))
        p.check(res.stderr.strip(), "%s: nothing on stderr" % what)
        p.check(re.search(word, res.stderr), "%s: stderr does not mention %r: %r" % (what, word, res.stderr[:200]))
        p.check(not res.stdout.strip(), "%s: printed on stdout: %r" % (what, res.stdout[:200]))
        p.check(res.elapsed < 5, "%s: took %.1f s to refuse" % (what, res.elapsed))
    p.raise_if_any()


def _is_kernel_thread(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    flags = int(stat[stat.rfind(")") + 2:].split()[6])
    return bool(flags & 0x00200000)  # PF_KTHREAD


@lib.timeout(20)
def test_kernel_thread_pid():
    if not _is_kernel_thread(2):
        raise lib.Skip("PID 2 is not a kernel thread here (a PID namespace?)")
    res = run_loopscope(["stalls", "2", "--json"], timeout=10)
    p = Problems("PID 2 (kthreadd)")
    p.check(res.returncode == 1, "exit %s, not 1" % res.returncode)
    one_line(p, res, r"\b2\b", "kernel")
    p.check(not res.stdout.strip(), "printed on stdout: %r" % res.stdout)
    p.raise_if_any()


@lib.timeout(60)
def test_thread_id_is_taken_as_its_process():
    """A thread id given as PID: loopscope says whose thread it is and
    attaches to that process, never reading the thread as a process."""
    interp = debian_or_any_python()
    p = Problems("a thread id as PID")
    with Target([interp.path, os.path.join(lib.TARGETS_DIR, "hostile.py")], name="threads") as t:
        tids = [int(x) for x in os.listdir("/proc/%d/task" % t.pid) if int(x) != t.pid]
        tid = tids[0]
        for cmd in (["ps", tid, "--json"], ["dump", tid, "--json"], ["where", tid, "Task-1", "--json"]):
            r = run_loopscope(cmd)
            p.check(r.returncode == 0, "%s exit %s: %r" % (cmd[0], r.returncode, r.stderr))
            p.check(r.stderr_lines() == ["loopscope: %d is a thread of PID %d: attaching to PID %d"
                                         % (tid, t.pid, t.pid)], "%s stderr %r" % (cmd[0], r.stderr))
            if r.returncode == 0 and cmd[0] != "where":
                p.check(json.loads(r.stdout)["pid"] == t.pid, "%s reports pid %s" % (
                    cmd[0], json.loads(r.stdout)["pid"]))
        r = run_loopscope(["stalls", tid, "--json", "--duration", "1"], timeout=20)
        summ = [json.loads(l) for l in r.stdout.splitlines() if '"summary"' in l]
        p.check(r.returncode == 0 and summ and summ[0]["pid"] == t.pid and summ[0]["loops"] == 1,
                "stalls of a tid: exit %s, summary %s" % (r.returncode, summ))
    p.raise_if_any()


@lib.timeout(120)
def test_target_killed_while_attaching():
    """kill -9 at random moments of the attach: exit 0, or one line saying
    the process is gone, never a wrong diagnosis ("kernel thread")."""
    interp = debian_or_any_python()
    p = Problems("targets killed during attach")
    rng = random.Random(7)
    outcomes = {}
    for i in range(30):
        # says so once its loop runs, so that the kill lands in the attach
        target = subprocess.Popen([interp.path, "-c", "import asyncio\n"
                                   "async def main():\n print('up', flush=True)\n"
                                   " await asyncio.sleep(60)\nasyncio.run(main())"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            target.stdout.readline()
            ls = subprocess.Popen([lib.loopscope_bin(), "ps" if i % 2 else "dump", str(target.pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0, 0.006))
            target.kill()
            _, err = ls.communicate(timeout=20)
        finally:
            target.kill()
            target.wait()
        lines = err.splitlines()
        outcomes[ls.returncode] = outcomes.get(ls.returncode, 0) + 1
        if ls.returncode == 0:
            continue
        if not p.check(ls.returncode == 1 and len(lines) == 1, "exit %s, stderr %r" % (
                ls.returncode, err)):
            continue
        p.check(re.search(r"exited|no such process", lines[0]) and "kernel" not in lines[0],
                "wrong diagnosis: %r" % lines[0])
    lib.log("outcomes:", outcomes)
    p.raise_if_any()


def _binary_for_nobody(tmp):
    """loopscope's binary, runnable by nobody (copied if the tree is not)."""
    path = lib.loopscope_bin()
    r = subprocess.run([path, "--help"], capture_output=True, preexec_fn=lib.preexec_as(*NOBODY))
    if r.returncode == 0:
        return path
    os.chmod(tmp, 0o755)
    copy = os.path.join(tmp, "loopscope")
    shutil.copy(path, copy)
    os.chmod(copy, 0o755)
    return copy


@lib.timeout(40)
def test_unprivileged_user():
    """Without root (as nobody): one clear line and exit 1, whether the target
    is root's process or nobody's own."""
    interp = debian_or_any_python()
    tmp = tempfile.mkdtemp(prefix="loopscope-test-")
    try:
        exe = _binary_for_nobody(tmp)
        p = Problems("loopscope as uid 65534")
        with Target.python(interp, "--mode", "healthy", "--tasks", "5", name="root's target") as root_t, \
                Target.python(interp, "--mode", "healthy", "--tasks", "5", user=NOBODY,
                              name="nobody's target") as own_t:
            for t in (root_t, own_t):
                res = run_loopscope(["stalls", t.pid, "--json", "--duration", "3"], timeout=15,
                                    user=NOBODY, binary=exe)
                what = t.name
                p.check(res.returncode == 1, "%s: exit %s, not 1" % (what, res.returncode))
                one_line(p, res, r"root|CAP_BPF|permission|privilege")
                p.check(not res.stdout.strip(), "%s: printed on stdout: %r" % (what, res.stdout[:300]))
                p.check(res.elapsed < 2.5, "%s: took %.1f s to fail" % (what, res.elapsed))
        p.raise_if_any()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _as_nobody_with(caps, argv):
    """setpriv argv: argv run as nobody with these capabilities (ambient)."""
    spec = ",".join("+" + c for c in caps)
    return ["setpriv", "--reuid=%d" % NOBODY[0], "--regid=%d" % NOBODY[1], "--clear-groups",
            "--inh-caps=" + spec, "--ambient-caps=" + spec] + argv


@lib.timeout(40)
def test_watch_names_the_missing_capability():
    """As a non-root user with CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE (all
    `stalls` needs), `watch` fails at once naming CAP_SYS_ADMIN, the one its
    uprobes need, never "asyncio is not imported"; with CAP_SYS_ADMIN and
    CAP_SYS_PTRACE (the set --help documents) it attaches every detector."""
    if not shutil.which("setpriv"):
        raise lib.Skip("no setpriv (util-linux)")
    interp = debian_or_any_python()
    tmp = tempfile.mkdtemp(prefix="loopscope-test-")
    try:
        exe = _binary_for_nobody(tmp)
        p = Problems("watch as uid 65534 with capabilities")
        with Target.python(interp, "--mode", "healthy", "--tasks", "5") as t:
            cmd = [exe, "watch", str(t.pid), "--json", "--duration", "1"]
            r = subprocess.run(_as_nobody_with(("bpf", "perfmon", "sys_ptrace"), cmd),
                               capture_output=True, text=True, timeout=20)
            p.check(r.returncode == 1, "exit %s without CAP_SYS_ADMIN" % r.returncode)
            p.check("CAP_SYS_ADMIN" in r.stderr and "not imported" not in r.stderr,
                    "stderr %r" % r.stderr)
            r = subprocess.run(_as_nobody_with(("sys_admin", "sys_ptrace"), cmd),
                               capture_output=True, text=True, timeout=20)
            first = lib.parse_ndjson(r.stdout)[:1]
            p.check(r.returncode == 0 and first and first[0]["detectors"]["tasks"] is True,
                    "with the documented set: exit %s, %s, stderr %r" % (r.returncode, first, r.stderr))
        help_text = subprocess.run([lib.loopscope_bin(), "watch", "--help"], capture_output=True,
                                   text=True).stdout
        p.check("CAP_SYS_ADMIN" in help_text, "watch --help does not name CAP_SYS_ADMIN")
        p.raise_if_any()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@lib.timeout(40)
def test_target_exits_while_attached():
    """The target ends (os._exit from another thread) in the middle of a
    1.5 s stall: the stall is reported cut short at the exit, then a summary
    with target_exited: true, exit 0, at once."""
    interp = debian_or_any_python()
    leak = BpfLeakCheck()
    with Target.python(interp, "--mode", "exit", "--stall-ms", 1500, "--exit-after-ms", 400,
                       "--gap-ms", 300) as target:
        with Loopscope.stalls(target.pid, threshold=100, duration=30) as ls:
            ls.wait_attached()
            leak.snapshot(ls)
            target.go()
            rec = target.wait_event("exit", timeout=15)[0]
            rc = ls.wait(10)
            ended_wall = time.time() - (time.monotonic() - ls.ended)
    p = Problems("target exits mid-stall")
    p.check(rc == 0, "loopscope exited %s, not 0" % rc)
    p.check(ended_wall - rec["exit_at"] < 2.0,
            "loopscope ended %.1f s after the target exited" % (ended_wall - rec["exit_at"]))
    summ = ls.summary()
    p.check(summ["target_exited"] is True, "summary target_exited %r" % summ["target_exited"])
    p.check(summ["dropped"] == 0, "dropped %s" % summ["dropped"])
    finished = ls.finished_stalls()
    cut = [s for s in finished if s["tid"] == rec["tid"] and abs(s["ts"] - rec["start"]) < 0.05]
    if p.check(len(cut) == 1, "expected one finished stall on tid %s starting at %.3f, got %s" % (
            rec["tid"], rec["start"], finished)):
        s = cut[0]
        want = rec["duration_ms"]  # measured by the target up to its exit
        p.check(abs(s["duration_ms"] - want) <= 0.2 * want,
                "the stall cut short lasted %.1f ms until the exit; loopscope says %.1f ms" % (
                    want, s["duration_ms"]))
        p.check(s["duration_ms"] < 1500 * 0.8, "reported as if the sleep had completed: %s" % s)
        main = max(s["syscalls"], key=lambda c: c["ms"]) if s["syscalls"] else None
        want_sc = "pselect6" if interp.version < (3, 11) else "clock_nanosleep"
        p.check(main and main["name"] == want_sc, "main syscall %s, not %s: %s" % (
            main and main["name"], want_sc, s["syscalls"]))
    p.check(summ["stalls"] == len(finished) == 1,
            "summary stalls %s, finished stall events %d, expected 1" % (summ["stalls"], len(finished)))
    leak.check(p, "after the target exited")
    p.raise_if_any()


@lib.timeout(30)
@lib.params([Param("SIGINT-json", signal.SIGINT, True), Param("SIGTERM-json", signal.SIGTERM, True),
             Param("SIGINT-text", signal.SIGINT, False)])
def test_signal_ends_with_summary(sig, json_out):
    """Ctrl-C / SIGTERM: the summary is printed, exit 0, BPF detached."""
    interp = debian_or_any_python()
    leak = BpfLeakCheck()
    with Target.python(interp, "--mode", "healthy", "--tasks", 20) as target:
        with Loopscope.stalls(target.pid, threshold=100, json_out=json_out) as ls:
            ls.wait_attached()
            leak.snapshot(ls)
            target.go()
            time.sleep(1.0)
            sent = time.monotonic()
            ls.signal(sig)
            rc = ls.wait(5)
            took = ls.ended - sent
            ran = sent - ls.started
        p = Problems("%s to loopscope" % signal.Signals(sig).name)
        p.check(rc == 0, "exit %s, not 0" % rc)
        p.check(took < 1.0, "took %.2f s to stop after the signal" % took)
        p.check(target.alive(), "the target died with loopscope")
    if json_out:
        summ = ls.summary()
        p.check(summ["pid"] == target.pid, "summary pid %s" % summ["pid"])
        p.check(abs(summ["duration_s"] - ran) < 0.5, "duration_s %s, but it ran %.1f s" % (summ["duration_s"], ran))
        p.check(summ["target_exited"] is False, "target_exited %r" % summ["target_exited"])
        p.check(summ["stalls"] == 0 and summ["dropped"] == 0, "summary %s" % summ)
    else:
        out = ls.stdout
        p.check(re.search(r"PID %d: [\d.]+ s watched" % target.pid, out), "no summary header in %r" % out)
        p.check(re.search(r"stalls: 0\b", out), "no 'stalls: 0' in the summary: %r" % out)
        p.check(re.search(r"events dropped: 0", out), "no 'events dropped: 0' in the summary: %r" % out)
        p.check(any("Watching PID %d" % target.pid in l for l in ls.stderr),
                "no 'Watching PID' line on stderr: %r" % ls.stderr)
    leak.check(p, "after %s" % signal.Signals(sig).name)
    p.raise_if_any()


@lib.timeout(40)
def test_sigint_during_a_stall():
    """SIGINT while a stall is under way: the summary counts it once, with
    its length so far as the worst."""
    interp = debian_or_any_python()
    with Target.python(interp, "--mode", "hang", "--hang-ms", 5000, "--gap-ms", 300) as target:
        with Loopscope.stalls(target.pid, threshold=100) as ls:
            ls.wait_attached()
            target.go()
            if not lib.wait_until(lambda: any(o["event"] == "stall" for _, o in ls.events()), 5):
                raise AssertionError("no ongoing stall reported within 5 s of a 5 s hang")
            time.sleep(0.4)
            ls.signal(signal.SIGINT)
            rc = ls.wait(5)
    p = Problems("SIGINT during a stall")
    p.check(rc == 0, "exit %s" % rc)
    stalls = [o for _, o in ls.events() if o["event"] == "stall"]
    ids = {s["id"] for s in stalls}
    summ = ls.summary()
    p.check(len(ids) == 1, "stall ids reported: %s" % ids)
    p.check(summ["stalls"] == 1, "summary stalls %s for one stall under way" % summ["stalls"])
    first = stalls[0]["duration_ms"]
    p.check(first + 300 <= summ["worst_ms"] <= 5000,
            "summary worst_ms %s: the stall had lasted over %.0f ms (first ongoing event) + 400 ms" % (
                summ["worst_ms"], first))
    # the stall in progress is reported once more as watching ends, with
    # the length the summary counts (issue 10 item 16)
    last = stalls[-1]
    p.check(last["ongoing"] and last.get("unfinished") is True and
            abs(last["duration_ms"] - summ["worst_ms"]) < 0.01,
            "last stall event %s, summary worst_ms %s" % (last, summ["worst_ms"]))
    p.check(summ.get("unfinished") == 1, "summary unfinished %r" % summ.get("unfinished"))
    p.raise_if_any()


@lib.timeout(30)
@lib.params([Param("json", True), Param("text", False)])
def test_process_without_event_loop(json_out):
    """A plain Python process (time.sleep loop, no epoll): loopscope says so
    on stderr and keeps watching until --duration, then exits 0."""
    interp = debian_or_any_python()
    leak = BpfLeakCheck()
    with Target.python(interp, "--mode", "plain") as target:
        with Loopscope.stalls(target.pid, duration=2.5, json_out=json_out) as ls:
            ls.wait_attached()
            leak.snapshot(ls)
            rc = ls.wait(10)
        ran = ls.ended - ls.started
    p = Problems("process without an event loop")
    p.check(rc == 0, "exit %s" % rc)
    p.check(2.4 <= ran < 4.0, "ran %.2f s with --duration 2.5" % ran)
    p.check(any(re.search(r"no event.loop", l, re.I) for l in ls.stderr),
            "stderr does not say that no event-loop thread was seen: %r" % ls.stderr)
    p.check(sum(1 for l in ls.stderr if re.search(r"no event.loop", l, re.I)) == 1,
            "the no-event-loop note is repeated: %r" % ls.stderr)
    if json_out:
        summ = ls.summary()
        p.check(summ["stalls"] == 0 and summ["target_exited"] is False, "summary %s" % summ)
        p.check(summ.get("loops") == 0, "summary loops %s" % summ.get("loops"))
        p.check(len(ls.events()) == 1, "events besides the summary: %s" % ls.stdout)
    else:
        p.check("stalls: 0" in ls.stdout, "no summary with 'stalls: 0': %r" % ls.stdout)
    leak.check(p, "after --duration")
    p.raise_if_any()


@lib.timeout(40)
def test_event_loop_appears_later():
    """No loop for 1.5 s after attaching, then asyncio starts and stalls:
    loopscope notes the missing loop, keeps watching, and reports the stall."""
    interp = debian_or_any_python()
    with Target.python(interp, "--no-loop-ms", 1800, "--kinds", "sleep", "--repeat", 1,
                       "--stall-ms", 200, "--gap-ms", 300) as target:
        with Loopscope.stalls(target.pid, threshold=100, duration=30) as ls:
            ls.wait_attached()
            target.go()
            target.wait_event("all_done", timeout=15)
            time.sleep(0.2)
            ls.signal(signal.SIGINT)
            rc = ls.wait(5)
    p = Problems("event loop appearing late")
    p.check(rc == 0, "exit %s" % rc)
    p.check(any(re.search(r"no event.loop", l, re.I) for l in ls.stderr),
            "stderr does not note the missing loop: %r" % ls.stderr)
    rec = target.stalls()[0]
    got = [s for s in ls.finished_stalls() if s["tid"] == rec["tid"] and abs(s["ts"] - rec["start"]) < 0.05]
    if p.check(len(got) == 1, "the late loop's stall %s was not reported once: %s" % (rec, ls.finished_stalls())):
        p.check(abs(got[0]["duration_ms"] - rec["duration_ms"]) <= 0.2 * rec["duration_ms"],
                "duration %.1f ms, the target measured %.1f" % (got[0]["duration_ms"], rec["duration_ms"]))
    summ = ls.summary()
    p.check(summ["stalls"] == 1, "summary stalls %s" % summ["stalls"])
    p.check(summ.get("loops") == 1, "summary loops %s" % summ.get("loops"))
    p.raise_if_any()


@lib.timeout(40)
def test_no_bpf_left_behind():
    """After each way loopscope can end -- --duration, SIGINT, SIGTERM,
    target exit, an error before attaching -- no ls_* BPF program or link
    stays in the kernel."""
    if not lib.have_bpftool():
        raise lib.Skip("bpftool is not installed")
    interp = debian_or_any_python()
    p = Problems("BPF objects after loopscope exits")
    with Target.python(interp, "--mode", "healthy", "--tasks", 10) as target:
        for how in ("duration", "SIGINT", "SIGTERM", "SIGKILL"):
            leak = BpfLeakCheck()
            with Loopscope.stalls(target.pid, duration=1.5 if how == "duration" else None) as ls:
                ls.wait_attached()
                leak.snapshot(ls)
                if how != "duration":
                    ls.signal(getattr(signal, how))
                rc = ls.wait(10)
            p.check(rc == (-9 if how == "SIGKILL" else 0), "%s: exit %s" % (how, rc))
            leak.check(p, how)
    # an error before anything is loaded: nothing may appear either
    leak = BpfLeakCheck()
    res = run_loopscope(["stalls", str(dead_pid())], timeout=10)
    p.check(res.returncode == 1, "no such PID: exit %s" % res.returncode)
    leak.check(p, "after 'no such process'")
    p.raise_if_any()
