#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""loopscope overhead benchmark: what does `loopscope stalls PID` cost a server?

An aiohttp hello-world server (Debian's python3.11 + python3-aiohttp) is
loaded with wrk in short rounds. Each round measures three modes, in an order
rotated from round to round:

  unattached  the server alone
  attached    the SAME server process with `loopscope stalls PID` attached
              (default threshold, output to /dev/null); loopscope is attached
              before the round's load starts and detached after it ends
  debug       a second server process started with PYTHONASYNCIODEBUG=1,
              asyncio's own debug mode, the usual alternative

Requests/s are reported per mode (median, IQR, min-max), and the ratios
attached/unattached and debug/unattached are computed per round (each round's
modes ran seconds apart) and summarised with median and min-max, so the noise
is visible next to the result. Target: attached >= 0.99 of unattached.

Everything listens and connects on 127.0.0.1 only. Every process this script
starts is stopped on exit, on Ctrl-C and on SIGTERM/SIGHUP (and gets SIGTERM
from the kernel should this script be killed outright).

Usage: bench/overhead --method wrk [--rounds N] [--duration S] [--quick] [--json FILE] ...
See bench/README.md.
"""
import argparse
import ctypes
import itertools
import json
import os
import platform
import random
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

from bpfstats import bpf_stats, loopscope_bpf_ns  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = 0.99
MODES = ("unattached", "attached", "debug")
LETTER = {"unattached": "U", "attached": "A", "debug": "D"}

children = []          # every Popen we started, stopped by cleanup()


class Interrupted(Exception):
    pass


# --------------------------------------------------------------------------
# processes

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _child_setup():
    # own session: the terminal's Ctrl-C reaches only this script, which then
    # stops the children in order; and SIGTERM if this script dies.
    os.setsid()
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def spawn(argv, cpu=None, env=None, **kw):
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + list(argv)
    p = subprocess.Popen(argv, env=env, preexec_fn=_child_setup, **kw)
    children.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=5.0):
    """Stop one child we started (by its own pid/process group); return rc."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    for f in (p.stdout, p.stderr):
        if f:
            f.close()
    if p in children:
        children.remove(p)
    return p.returncode


def cleanup():
    for p in list(children):
        stop(p, signal.SIGTERM, 3.0)


def on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def read_line(f, timeout):
    """One line from a pipe, or None after timeout seconds."""
    r, _, _ = select.select([f], [], [], timeout)
    if not r:
        return None
    return f.readline().decode(errors="replace")


# --------------------------------------------------------------------------
# what else the machine is doing (other sessions, other tracers)

CLK_TCK = os.sysconf("SC_CLK_TCK")
TRACE_TYPES = {"tracing", "raw_tracepoint", "raw_tracepoint_writable", "tracepoint",
               "perf_event", "kprobe"}


def proc_cpu_s(pid):
    """utime+stime of a live process (all its threads), in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def sched_ns(pid):
    """(ns run on a CPU, ns waited runnable for a CPU) summed over a process's
    threads, from /proc/PID/task/*/schedstat."""
    run = wait = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0, 0
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                v = f.read().split()
            run += int(v[0])
            wait += int(v[1])
        except (OSError, IndexError, ValueError):
            pass
    return run, wait


def cpu_snapshot(live_pids):
    """Machine busy and steal seconds, and the CPU seconds of our processes."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK   # user nice system irq softirq
    steal = (v[7] if len(v) > 7 else 0) / CLK_TCK
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)     # reaped children: wrk
    ours = ru.ru_utime + ru.ru_stime + sum(proc_cpu_s(p) for p in live_pids)
    return time.monotonic(), busy, steal, ours


def cpu_delta(a, b):
    wall = b[0] - a[0]
    other = max(0.0, (b[1] - a[1]) - (b[3] - a[3]))
    return {"other_cpu": other / wall, "steal": (b[2] - a[2]) / wall,
            "busy_cpu": (b[1] - a[1]) / wall, "our_cpu": (b[3] - a[3]) / wall}


def tracing_progs():
    """BPF programs loaded that can run on syscalls or scheduling (any owner)."""
    try:
        out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True,
                             text=True, timeout=10).stdout
        return sum(1 for p in json.loads(out) if p.get("type") in TRACE_TYPES)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def wait_quiet(max_wait, live_pids):
    """Wait (up to max_wait s) until nothing else loads the CPUs and no other
    tracing BPF program is loaded. Returns (seconds waited, quiet or not)."""
    t0 = time.monotonic()
    while True:
        a = cpu_snapshot(live_pids)
        time.sleep(0.5)
        other = cpu_delta(a, cpu_snapshot(live_pids))["other_cpu"]
        quiet = other < 0.05 and not tracing_progs()
        waited = time.monotonic() - t0
        if quiet or waited >= max_wait:
            return waited, quiet


# --------------------------------------------------------------------------
# the pieces of a round

def start_server(python, cpu, debug):
    env = dict(os.environ)
    env.pop("PYTHONASYNCIODEBUG", None)
    if debug:
        env["PYTHONASYNCIODEBUG"] = "1"
    p = spawn([python, os.path.join(HERE, "hello_server.py")], cpu=cpu, env=env,
              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = read_line(p.stdout, deadline - time.monotonic())
        if line is None or line == "":
            break
        m = re.match(r"READY (\d+) (debug|nodebug)", line)
        if m:
            if (m.group(2) == "debug") != debug:
                sys.exit("bench: the server's asyncio debug mode is not what was asked")
            return p, int(m.group(1))
    sys.exit("bench: the aiohttp server did not start (is python3-aiohttp installed "
             "for %s?)" % python)


def run_wrk(args, port, seconds, cpu, live_pids, server_pid):
    """One wrk run: req/s, errors, the server's CPU time per request, and what
    else used the CPUs meanwhile."""
    argv = ["wrk", "-t%d" % args.threads, "-c%d" % args.connections,
            "-d%ds" % seconds, "--timeout", "5s", "http://127.0.0.1:%d/" % port]
    before = cpu_snapshot(live_pids)
    s0 = sched_ns(server_pid)
    p = spawn(argv, cpu=cpu, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read().decode(errors="replace")
    p.wait()
    s1 = sched_ns(server_pid)
    after = cpu_snapshot(live_pids)
    stop(p)
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    n = re.search(r"(\d+) requests in ([0-9.]+)(m?s)", out)
    if p.returncode != 0 or not m or not n:
        sys.exit("bench: wrk failed (rc %s):\n%s" % (p.returncode, out))
    errors = 0
    m2 = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m2:
        errors += sum(int(x) for x in m2.groups())
    m3 = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m3:
        errors += int(m3.group(1))
    res = {"rps": float(m.group(1)), "requests": int(n.group(1)), "errors": errors}
    res.update(cpu_delta(before, after))
    wall = after[0] - before[0]
    res["server_cpu_per_req_us"] = (s1[0] - s0[0]) / 1e3 / max(1, res["requests"])
    res["server_cpu_ns"] = s1[0] - s0[0]
    res["server_cpu"] = (s1[0] - s0[0]) / 1e9 / wall
    res["server_wait"] = (s1[1] - s0[1]) / 1e9 / wall
    return res


def attach(args, pid, cpu):
    """Start `loopscope stalls PID`; return it once it says it is watching."""
    p = spawn([args.loopscope, "stalls", str(pid)] + args.ls_args.split(), cpu=cpu,
              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    said = []
    while time.monotonic() < deadline:
        line = read_line(p.stderr, deadline - time.monotonic())
        if line is None:
            break
        if line == "":                     # loopscope exited
            p.wait()
            stop(p)
            sys.exit("bench: loopscope could not attach (rc %s):\n%s"
                     % (p.returncode, "".join(said)))
        said.append(line)
        if line.startswith("Watching PID"):
            return p
    stop(p, signal.SIGINT)
    sys.exit("bench: loopscope did not report being attached within 20 s:\n%s" % "".join(said))


def detach(p):
    rc = stop(p, signal.SIGINT, 10.0)
    return rc


# --------------------------------------------------------------------------
# statistics and report

def quartiles(xs):
    if len(xs) < 2:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def fmt_rps(x):
    return "%.0f" % x


def context_lines(args, pin):
    ncpu = os.cpu_count()
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    pyver = subprocess.run([args.python, "-c",
                            "import sys, aiohttp; print(sys.version.split()[0], aiohttp.__version__)"],
                           capture_output=True, text=True)
    if pyver.returncode != 0:
        sys.exit("bench: %s cannot import aiohttp (apt-get install python3-aiohttp):\n%s"
                 % (args.python, pyver.stderr))
    py, aio = pyver.stdout.split()
    wrkv = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    wrkv = wrkv.split(" [")[0]
    lsv = subprocess.run([args.loopscope, "-V"], capture_output=True, text=True).stdout.strip()
    git = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip() or "?"
    lines = [
        "machine : nproc %d (%s), kernel %s, load avg %s" % (ncpu, model, platform.release(), load),
        "server  : %s (Python %s), aiohttp %s, hello-world GET /, no access log, 127.0.0.1"
        % (args.python, py, aio),
        "load    : %s -t%d -c%d, %d s rounds, %d s warm-up per mode"
        % (wrkv, args.threads, args.connections, args.duration, args.warmup),
        "tool    : %s (%s, tree %s): `loopscope stalls PID%s`, default threshold, output to /dev/null"
        % (os.path.relpath(args.loopscope), lsv, git, (" " + args.ls_args) if args.ls_args else ""),
    ]
    if pin:
        lines.append("pinning : servers on CPU %d; wrk and loopscope on CPU %d (taskset)"
                     % (pin[0], pin[1]))
    else:
        lines.append("pinning : none (%s)" % ("--no-pin" if args.no_pin else "fewer than 2 CPUs"))
    return lines


def disturbed(r):
    """A round in which some measurement saw other load or another tracer."""
    ds = [r[m + "_detail"] for m in MODES]
    return any(d["other_cpu"] > 0.10 or d["server_wait"] > 0.05 or not d["quiet_before"]
               or (d["foreign_bpf"] or 0) for d in ds)


def median_ci(xs, level=0.95, resamples=4000):
    """Bootstrap confidence interval of the median (seeded: same data, same
    interval)."""
    if len(xs) < 3:
        return min(xs), max(xs)
    rnd = random.Random(0)
    meds = sorted(statistics.median(rnd.choices(xs, k=len(xs))) for _ in range(resamples))
    lo = meds[int((1 - level) / 2 * resamples)]
    hi = meds[int((1 + level) / 2 * resamples) - 1]
    return lo, hi


def verdict(xs):
    lo, hi = median_ci(xs)
    if lo >= TARGET:
        return "MET", lo, hi
    if hi < TARGET:
        return "NOT MET", lo, hi
    return "INCONCLUSIVE", lo, hi


def ratios(rows, mode):
    """Per-round ratios of mode to unattached: by requests/s, and by the
    server's CPU time per request (unattached us/req / mode us/req)."""
    rps = [r[mode] / r["unattached"] for r in rows]
    cpu = [r["unattached_detail"]["server_cpu_per_req_us"] / r[mode + "_detail"]["server_cpu_per_req_us"]
           for r in rows]
    return rps, cpu


def spread_line(name, xs, fmt):
    med = statistics.median(xs)
    q1, q3 = quartiles(xs)
    return "  %-13s %9s   %-26s %s-%s" % (
        name, fmt(med), "%s-%s (%.1f%%)" % (fmt(q1), fmt(q3), 100.0 * (q3 - q1) / med),
        fmt(min(xs)), fmt(max(xs)))


def report(rows, args):
    n = len(rows)
    details = [r[m + "_detail"] for r in rows for m in MODES]
    print()
    print("per mode over %d rounds     median   IQR (q1-q3, width)         min-max" % n)
    print("requests/s")
    for mode in MODES:
        print(spread_line(mode, [r[mode] for r in rows], fmt_rps))
    print("server CPU time per request, us")
    for mode in MODES:
        print(spread_line(mode, [r[mode + "_detail"]["server_cpu_per_req_us"] for r in rows],
                          lambda x: "%.1f" % x))

    ra, ca = ratios(rows, "attached")
    rd, cd = ratios(rows, "debug")
    print()
    print("ratios to unattached, per round      median   min-max       IQR")
    for name, xs in (("attached, by requests/s", ra), ("attached, by CPU per request", ca),
                     ("debug, by requests/s", rd), ("debug, by CPU per request", cd)):
        q1, q3 = quartiles(xs)
        print("  %-33s %7.3f   %.3f-%.3f   %.3f-%.3f" % (name, statistics.median(xs),
                                                         min(xs), max(xs), q1, q3))
    med_a, med_c = statistics.median(ra), statistics.median(ca)
    print()
    print("target  : attached >= %.2f of unattached (requests/s)" % TARGET)
    v, lo, hi = verdict(ra)
    print("result  : %s: median attached/unattached %.3f, 95%% CI of the median %.3f-%.3f"
          % (v, med_a, lo, hi))
    print("          (%d of %d rounds >= %.2f; per-round range %.3f-%.3f)"
          % (sum(1 for x in ra if x >= TARGET), n, TARGET, min(ra), max(ra)))
    if v == "INCONCLUSIVE":
        print("          inconclusive: the interval straddles %.2f; add rounds or use a quieter "
              "machine" % TARGET)
    vc, clo, chi = verdict(ca)
    print("          by the server's CPU time per request: %.3f, CI %.3f-%.3f (%s); it does not"
          % (med_c, clo, chi, vc.lower()))
    print("          move when other processes take the server's CPU, requests/s does")
    u = [r["unattached"] for r in rows]
    q1, q3 = quartiles(u)
    med_u = statistics.median(u)
    print("noise   : unattached rounds alone spread %.1f%% (IQR) / %.1f%% (min-max) around "
          "their median;" % (100.0 * (q3 - q1) / med_u, 100.0 * (max(u) - min(u)) / med_u))
    print("          a difference smaller than that is not resolved by %d rounds%s"
          % (n, " (a --quick run is a smoke test, not a measurement)" if args.quick else ""))
    print("debug   : asyncio debug mode runs at %.2f of unattached (%.1fx slower)"
          % (statistics.median(rd), 1.0 / statistics.median(rd)))
    share = [r["attached_detail"]["bpf_share"] for r in rows if "bpf_share" in r["attached_detail"]]
    if share:
        print("bpf     : loopscope's BPF programs ran for %.2f%% (median; max %.2f%%) of the server's"
              % (100 * statistics.median(share), 100 * max(share)))
        print("          CPU time, counted by the kernel (bpf_stats): a noise-free upper bound on their")
        print("          direct cost (it includes their runs on the load generator's CPU)")
    lscpu = [r["attached_detail"]["loopscope_cpu"] for r in rows]
    print("loopscope: its own process used %.1f%% of a CPU (median) while attached under load"
          % (100 * statistics.median(lscpu)))

    other = [d["other_cpu"] for d in details]
    steal = [d["steal"] for d in details]
    wait = [d["server_wait"] for d in details]
    print("machine : during the measurements, processes other than the servers, wrk and loopscope")
    print("          used median %.0f%%, max %.0f%% of a CPU; the server waited for its CPU "
          "median %.1f%%, max %.1f%%"
          % (100 * statistics.median(other), 100 * max(other),
             100 * statistics.median(wait), 100 * max(wait)))
    print("          of the time; steal time median %.1f%%, max %.1f%%"
          % (100 * statistics.median(steal), 100 * max(steal)))
    foreign = [d["foreign_bpf"] for d in details if d.get("foreign_bpf") is not None]
    if foreign and max(foreign):
        print("warning : other BPF tracing programs were loaded during %d of %d unattached/debug "
              "measurements (up to %d):" % (sum(1 for x in foreign if x), len(foreign), max(foreign)))
        print("          another tracer shares the machine; its programs run on every syscall, "
              "in every mode")
    unquiet = sum(1 for d in details if not d["quiet_before"])
    if unquiet:
        print("warning : %d of %d measurements started on a busy machine (--quiet-wait %g s ran out)"
              % (unquiet, len(details), args.quiet_wait))
    busy = sum(1 for d in details if d["other_cpu"] > 0.10 or d["server_wait"] > 0.05)
    if busy:
        print("warning : %d of %d measurements had other load (> 10%% of a CPU, or the server "
              "waiting > 5%%)" % (busy, len(details)))
    clean = [r for r in rows if not disturbed(r)]
    if len(clean) < n:
        if clean:
            cr, cc = ratios(clean, "attached")
            print("          undisturbed rounds only (%d of %d): attached/unattached median %.3f "
                  "(%.3f-%.3f), by CPU per request %.3f (%.3f-%.3f)"
                  % (len(clean), n, statistics.median(cr), min(cr), max(cr),
                     statistics.median(cc), min(cc), max(cc)))
        else:
            print("          no round was undisturbed: run it again on a quiet machine")
    errs = sum(d["errors"] for d in details)
    if errs:
        print("warning : wrk reported %d socket errors / non-2xx responses in total" % errs)
    bad = [r for r in rows if r["attached_detail"]["loopscope_rc"] != 0]
    if bad:
        print("warning : loopscope did not exit 0 on detach in %d rounds" % len(bad))
    return {"target": TARGET, "verdict": v, "ci95": [lo, hi],
            "attached_ratio_rps": {"median": med_a, "min": min(ra), "max": max(ra)},
            "attached_ratio_cpu_per_request": {"median": med_c, "min": min(ca), "max": max(ca)},
            "debug_ratio_rps": {"median": statistics.median(rd), "min": min(rd), "max": max(rd)},
            "debug_ratio_cpu_per_request": {"median": statistics.median(cd), "min": min(cd),
                                            "max": max(cd)},
            "bpf_share": {"median": statistics.median(share), "max": max(share)} if share else None,
            "rounds": n, "undisturbed_rounds": len(clean)}


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(
        description="Overhead of `loopscope stalls PID` on an aiohttp server under wrk, "
                    "alternating unattached / attached / PYTHONASYNCIODEBUG=1 rounds.")
    ap.add_argument("--rounds", type=int, default=12,
                    help="rounds; each measures all three modes (default 12, about 3 min)")
    ap.add_argument("--duration", type=int, default=3, help="seconds of load per mode per round (3)")
    ap.add_argument("--warmup", type=int, default=2, help="warm-up seconds per mode before round 1 (2)")
    ap.add_argument("--quick", action="store_true",
                    help="30 s smoke run: 2 rounds of 3 s, 1 s warm-up")
    ap.add_argument("--connections", type=int, default=32, help="wrk -c (32)")
    ap.add_argument("--threads", type=int, default=1, help="wrk -t (1)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    ap.add_argument("--quiet-wait", type=float, default=3, metavar="S",
                    help="before each measurement wait up to S s for the machine to be quiet: "
                         "no other CPU load, no other tracing BPF program (3; 0 to not wait)")
    ap.add_argument("--python", default="/usr/bin/python3.11", help="server interpreter")
    ap.add_argument("--loopscope", default=os.path.join(ROOT, "build", "loopscope"))
    ap.add_argument("--ls-args", default="", metavar="ARGS",
                    help="extra options for `loopscope stalls`, e.g. --ls-args=--precise")
    ap.add_argument("--json", metavar="FILE", help="also write every round and the summary as JSON")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup = 2, 3, 1
    if args.rounds < 1 or args.duration < 1 or args.warmup < 0:
        ap.error("--rounds and --duration must be >= 1, --warmup >= 0")

    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit("bench: %s not found (apt-get install %s)"
                     % (tool, "wrk" if tool == "wrk" else "util-linux"))
    if not os.access(args.loopscope, os.X_OK):
        sys.exit("bench: %s not built (run make)" % args.loopscope)
    if os.geteuid() != 0:
        print("bench: not root; loopscope needs root or CAP_BPF+CAP_PERFMON", file=sys.stderr)

    cpus = sorted(os.sched_getaffinity(0))
    pin = None if args.no_pin or len(cpus) < 2 else (cpus[0], cpus[1])
    srv_cpu, load_cpu = pin if pin else (None, None)

    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)

    print("loopscope overhead benchmark")
    for line in context_lines(args, pin):
        print(line)
    per_round = args.duration * 3 + 4.5      # load + quiet checks + attach/detach
    est = args.rounds * per_round + 3 * args.warmup + 5
    print("modes   : unattached = server alone; attached = same server process with loopscope")
    print("          attached just before the load, detached after; debug = second server")
    print("          process started with PYTHONASYNCIODEBUG=1")
    print("plan    : %d rounds x 3 modes, order rotated every round; about %d s on a quiet machine"
          % (args.rounds, est))
    print("          (each measurement waits up to %g s for no other CPU load and no other "
          "tracing BPF program)" % args.quiet_wait)
    sys.stdout.flush()

    rows = []
    rc = 0
    stats_before = bpf_stats(True)
    try:
        plain, plain_port = start_server(args.python, srv_cpu, debug=False)
        debug, debug_port = start_server(args.python, srv_cpu, debug=True)
        port = {"unattached": plain_port, "attached": plain_port, "debug": debug_port}

        def measure(mode, seconds):
            ls = None
            waited, quiet = wait_quiet(args.quiet_wait, [plain.pid, debug.pid])
            if mode == "attached":
                ls = attach(args, plain.pid, load_cpu)
                time.sleep(0.3)
            res = {"foreign_bpf": None if ls else tracing_progs(),
                   "quiet_before": quiet, "waited_s": waited}
            live = [plain.pid, debug.pid] + ([ls.pid] if ls else [])
            try:
                ls_cpu0 = proc_cpu_s(ls.pid) if ls else 0.0
                bpf0 = loopscope_bpf_ns() if ls else None
                t0 = time.monotonic()
                res.update(run_wrk(args, port[mode], seconds, load_cpu, live,
                                   debug.pid if mode == "debug" else plain.pid))
                if ls:
                    res["loopscope_cpu"] = (proc_cpu_s(ls.pid) - ls_cpu0) / (time.monotonic() - t0)
                    bpf1 = loopscope_bpf_ns()
                    if bpf0 is not None and bpf1 is not None and res["server_cpu_ns"] > 0:
                        res["bpf_share"] = (bpf1 - bpf0) / res["server_cpu_ns"]
            finally:
                res["loopscope_rc"] = detach(ls) if ls else None
            for srv in (plain, debug):
                if srv.poll() is not None:
                    sys.exit("bench: a server exited (rc %s)" % srv.returncode)
            return res

        if args.warmup:
            print("warm-up : %s" % ", ".join("%s %s req/s" % (m, fmt_rps(measure(m, args.warmup)["rps"]))
                                              for m in MODES))
        print()
        print("                 requests/s                      ratio to unattached       others' CPU use")
        print("round  order   %10s %10s %10s   %9s %9s %9s   %s"
              % ("unattached", "attached", "debug", "attached", "(CPU/req)", "debug",
                 "U/A/D, * = disturbed"))
        perms = list(itertools.permutations(MODES))
        for i in range(args.rounds):
            order = perms[i % len(perms)]
            row = {"round": i + 1, "order": "".join(LETTER[m] for m in order)}
            for mode in order:
                row[mode + "_detail"] = res = measure(mode, args.duration)
                row[mode] = res["rps"]
            rows.append(row)
            (ra,), (ca,) = ratios([row], "attached")
            print("%5d  %-5s   %10s %10s %10s   %9.3f %9.3f %9.3f   %s"
                  % (i + 1, " ".join(row["order"]), fmt_rps(row["unattached"]),
                     fmt_rps(row["attached"]), fmt_rps(row["debug"]),
                     ra, ca, row["debug"] / row["unattached"],
                     "/".join("%.0f%%" % (100 * row[m + "_detail"]["other_cpu"]) for m in MODES)
                     + (" *" if disturbed(row) else "")))
            sys.stdout.flush()
        summary = report(rows, args)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"rounds": rows, "summary": summary,
                           "context": context_lines(args, pin)}, f, indent=1)
    except Interrupted as e:
        print("\nbench: interrupted (%s); stopping everything" % e, file=sys.stderr)
        if rows:
            report(rows, args)
        rc = 130
    finally:
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        cleanup()
        if stats_before is not None:
            bpf_stats(stats_before == "1")
    return rc


if __name__ == "__main__":
    sys.exit(main())
