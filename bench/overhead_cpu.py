# SPDX-License-Identifier: GPL-2.0-only
"""bench/overhead's default method: the server's CPU time per request at a
fixed offered load, attached vs unattached, in paired short rounds.

Why this method: under wrk the server runs saturated, and requests/s then
measure how fast wrk and the server share two noisy vCPUs (unattached
rounds alone spread 15-19% here). At a fixed rate below saturation
(bench/rate_client.c, on the other CPU) the server does the same work in
every round, and what an attached tool costs it shows up as CPU time: the
sum of its threads' sum_exec_runtime (/proc/PID/task/*/schedstat, ns), which
includes the BPF programs that run in its context and any time lost to
contention (mmap_lock, caches), divided by the requests it answered.

Each component is measured against unattached rounds of the same server
process, in pairs run back to back in random order; the statistic is the
median of the per-pair ratios with a bootstrap 95% interval. A/A pairs
(unattached vs unattached) show the method's own bias and resolution.

Components, each a mode of one loopscope process on the other CPU:
  bpf-only   `stalls --no-stacks`, then SIGSTOPped: the kernel programs
             attached, no user-space process reading anything
  no-stacks  `stalls --no-stacks`: + the user-space monitor
  stalls     `stalls` (default): + stack sampling (only while a loop runs
             long, so never on a healthy server) and the heartbeat
  precise    `stalls --precise`: + the sys_enter tracepoint on every syscall
  watch      `watch`: stalls + the lost-work uprobes
"""
import atexit
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time

from bpfstats import bpf_stats, loopscope_bpf_ns

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COMPONENTS = {
    "A/A": None,
    "bpf-only": ["stalls", "--no-stacks"],
    "no-stacks": ["stalls", "--no-stacks"],
    "stalls": ["stalls"],
    "precise": ["stalls", "--precise"],
    "watch": ["watch"],
}
GOAL = 0.01


class Bench:
    """The aiohttp server on one CPU, the load and loopscope on another;
    args: .loopscope, .client (rate_client), .rate, .python."""
    def __init__(self, args):
        self.loopscope = args.loopscope
        self.client = args.client
        self.rate = args.rate
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            sys.exit("bench: needs 2 CPUs (server and load apart)")
        self.srv_cpu, self.load_cpu = cpus[0], cpus[1]
        self.children = []
        atexit.register(self.stop_all)
        self.server, self.port = self.start_server(args.python)

    def spawn(self, argv, cpu=None, **kw):
        pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
        p = subprocess.Popen(argv, preexec_fn=pin, **kw)
        self.children.append(p)
        return p

    def start_server(self, python):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONASYNCIODEBUG"}
        p = self.spawn([python, os.path.join(HERE, "hello_server.py")], cpu=self.srv_cpu,
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        m = re.match(r"READY (\d+)", p.stdout.readline())
        if not m:
            sys.exit("bench: the aiohttp server did not start (python3-aiohttp for %s?)" % python)
        return p, int(m.group(1))

    def stop_all(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()


def server_ns(pid):
    """CPU time so far of every thread of pid, in ns (sum_exec_runtime)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def process_ns(pid):
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def bpf_links(pid):
    try:
        return sum(1 for fd in os.listdir("/proc/%d/fd" % pid)
                   if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:bpf_link")
    except OSError:
        return 0


class Attached:
    """One loopscope process in one mode, attached before a round starts
    (its BPF links in place and stable) and stopped after it."""

    def __init__(self, b, name, argv):
        self.name = name
        cmd = [b.loopscope] + argv[:1] + [str(b.server.pid)] + argv[1:]
        self.p = b.spawn(cmd, cpu=b.load_cpu, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        deadline, last, since = time.monotonic() + 20, -1, time.monotonic()
        while time.monotonic() < deadline:
            n = bpf_links(self.p.pid)
            if self.p.poll() is not None:
                sys.exit("bench: loopscope %s exited (%s) before attaching" % (argv, self.p.returncode))
            if n != last:
                last, since = n, time.monotonic()
            elif n and time.monotonic() - since > 0.3:
                break
            time.sleep(0.02)
        else:
            sys.exit("bench: loopscope %s did not attach in 20 s" % argv)
        if name == "bpf-only":
            os.kill(self.p.pid, signal.SIGSTOP)
        self.ns0 = process_ns(self.p.pid)

    def own_ns(self):
        return process_ns(self.p.pid) - self.ns0

    def stop(self):
        if self.name == "bpf-only":
            os.kill(self.p.pid, signal.SIGCONT)
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def one_round(b, seconds, bpf=False):
    """Offered load for `seconds`: the server's ns per answered request
    (bpf: and the run time of loopscope's BPF programs per request)."""
    bpf0 = loopscope_bpf_ns() if bpf else None
    ns0 = server_ns(b.server.pid)
    r = subprocess.run([b.client, str(b.port), str(b.rate), "%g" % seconds, "16"],
                       capture_output=True, text=True, timeout=seconds + 30,
                       preexec_fn=lambda: os.sched_setaffinity(0, {b.load_cpu}))
    ns = server_ns(b.server.pid) - ns0
    res = json.loads(r.stdout)
    res["server_ns_per_req"] = ns / max(res["done"], 1)
    bpf1 = loopscope_bpf_ns() if bpf0 is not None else None
    if bpf1 is not None:
        res["bpf_ns_per_req"] = (bpf1 - bpf0) / max(res["done"], 1)
    return res


def pair(b, name, seconds):
    """One unattached round and one round of `name`, in random order."""
    order = ["base", name]
    random.shuffle(order)
    out = {}
    for which in order:
        ls = Attached(b, name, COMPONENTS[name]) if which != "base" and COMPONENTS[name] else None
        time.sleep(0.2)
        t0 = time.monotonic()
        res = one_round(b, seconds, bpf=ls is not None)
        if ls:
            res["loopscope_cpu"] = ls.own_ns() / 1e9 / (time.monotonic() - t0)
            ls.stop()
        out[which] = res
    return out


def median_ci(xs, level=0.95, resamples=4000):
    if len(xs) < 3:
        return min(xs), max(xs)
    rnd = random.Random(0)
    meds = sorted(statistics.median(rnd.choices(xs, k=len(xs))) for _ in range(resamples))
    return meds[int((1 - level) / 2 * resamples)], meds[int((1 + level) / 2 * resamples) - 1]


def summarise(name, pairs):
    ratios = [p[name]["server_ns_per_req"] / p["base"]["server_ns_per_req"] for p in pairs]
    lo, hi = median_ci(ratios)
    own = [p[name].get("loopscope_cpu", 0.0) for p in pairs]
    bpf = [p[name]["bpf_ns_per_req"] / p["base"]["server_ns_per_req"] for p in pairs
           if "bpf_ns_per_req" in p[name]]
    late = sum(p[k]["late"] + p[k]["errors"] for p in pairs for k in ("base", name))
    return {"component": name, "median": statistics.median(ratios), "ci": [lo, hi],
            "pairs": len(ratios), "loopscope_cpu": statistics.median(own),
            "bpf_share": statistics.median(bpf) if bpf else None,
            "base_us_per_req": statistics.median(p["base"]["server_ns_per_req"] for p in pairs) / 1e3,
            "late_or_errors": late}


def verdict(s):
    lo, hi = s["ci"]
    if hi <= 1 + GOAL:
        return "within 1%"
    if lo > 1 + GOAL:
        return "costs more than 1%"
    return "unresolved"


def print_table(rows):
    print("%-10s %8s  %-17s %6s  %10s  %8s  %s" % ("component", "ratio", "95% CI", "pairs",
                                                    "own CPU", "BPF", "verdict"))
    for s in rows:
        bpf = "-" if s.get("bpf_share") is None else "%.2f%%" % (100 * s["bpf_share"])
        print("%-10s %8.4f  [%.4f, %.4f] %6d  %9.2f%%  %8s  %s" % (
            s["component"], s["median"], s["ci"][0], s["ci"][1], s["pairs"],
            100 * s["loopscope_cpu"], bpf, "bias (want 1.0)" if s["component"] == "A/A" else verdict(s)))
    print("BPF: the run time of loopscope's BPF programs (the kernel's bpf_stats, every run on the\n"
          "machine, the load generator's included) per request, as a share of the server's CPU per\n"
          "request: an exact upper bound on what the programs cost the server, free of round noise.")


def run(b, components, pairs, seconds):
    """Every component's pairs, interleaved so that slow drifts of the
    machine spread over all of them; returns the summary rows."""
    results = {c: [] for c in components}
    plan = [c for _ in range(pairs) for c in components]
    stats_before = bpf_stats(True)
    try:
        for i, c in enumerate(plan):
            results[c].append(pair(b, c, seconds))
            print("  pair %d/%d %s" % (i + 1, len(plan), c), file=sys.stderr, flush=True)
    finally:
        if stats_before is not None:
            bpf_stats(stats_before == "1")
    return [summarise(c, results[c]) for c in components], results
