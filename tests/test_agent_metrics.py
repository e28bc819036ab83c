# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope agent --metrics`: the Prometheus exposition over a real HTTP
socket (its format, hostile requests), and a real Prometheus server that
scrapes it and answers a query with the number of stalls the target made."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import lib
from agentlib import Agent, free_port
from lib import Problems, Target

METRICS = ("loopscope_target_up", "loopscope_stalls_total", "loopscope_stall_duration_seconds",
           "loopscope_loop_busy_ratio", "loopscope_loop_lag_seconds", "loopscope_tasks",
           "loopscope_never_awaited_total", "loopscope_unretrieved_exceptions_total",
           "loopscope_destroyed_pending_total", "loopscope_threads", "loopscope_lints_total")
PROMETHEUS = "/usr/bin/prometheus"


def http_raw(port, data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def status(resp):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", resp)
    return int(m.group(1)) if m else None


def samples(text):
    """{(name, frozenset(labels)): value}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)\{(.*)\} (\S+)$', line)
        assert m, "bad sample line %r" % line
        labels = frozenset(re.findall(r'([a-z]+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


@lib.timeout(60)
def test_agent_metrics_http():
    """Every metric with HELP and TYPE, labelled pid and comm, counts that
    match the target's; 400/404/405/431/501 for bad requests; a client that
    sends nothing does not hold the others."""
    port = free_port()
    with Target.python(lib.python("debian-3.11"), "--kinds", "sleep,cpu", "--repeat", "2") as t, \
            Agent([t.pid], ["--metrics", str(port)]) as a:
        a.wait_listening()
        t.go()
        t.wait_event("all_done", 30)
        time.sleep(1.2)
        p = Problems("metrics")
        silent = socket.create_connection(("127.0.0.1", port))
        t0 = time.monotonic()
        resp = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5)
        p.check(time.monotonic() - t0 < 1, "answer took %.2f s with an idle client open" % (time.monotonic() - t0))
        p.check(resp.headers["Content-Type"].startswith("text/plain; version=0.0.4"), "type %s" % resp.headers["Content-Type"])
        text = resp.read().decode()
        for name in METRICS:
            kind = "histogram" if name.endswith("_seconds") else "counter" if name.endswith("_total") else "gauge"
            p.check("# HELP %s " % name in text and "# TYPE %s %s\n" % (name, kind) in text, "%s: no HELP/TYPE %s" % (name, kind))
        s = samples(text)
        who = {("pid", str(t.pid)), ("comm", "python3.11")}
        p.check(all(who <= set(k[1]) for k in s), "a sample without pid/comm labels")
        made = len(t.stalls())
        p.check(s.get(("loopscope_stalls_total", frozenset(who))) == made,
                "stalls_total %s, the target made %d" % (s.get(("loopscope_stalls_total", frozenset(who))), made))
        p.check(s.get(("loopscope_stall_duration_seconds_count", frozenset(who))) == made, "histogram count")
        p.check(s.get(("loopscope_target_up", frozenset(who))) == 1, "target_up")
        p.check(s.get(("loopscope_tasks", frozenset(who | {("state", "pending")})), 0) >= 1, "no pending tasks")
        p.check(s.get(("loopscope_threads", frozenset(who)), 0) >= 1, "threads")
        inf = s.get(("loopscope_loop_lag_seconds_bucket", frozenset(who | {("le", "+Inf")})), 0)
        p.check(inf > made and inf == s.get(("loopscope_loop_lag_seconds_count", frozenset(who))), "lag histogram +Inf %s" % inf)
        cases = ((b"GET /metrics HTTP/1.1\r\n\r\n", 400), (b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n", 404),
                 (b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405), (b"\x00\x01\x02\r\n\r\n", 400),
                 (b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 431),
                 (b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
                 (b"HEAD /metrics HTTP/1.0\r\n\r\n", 200))
        for raw, want in cases:
            got = http_raw(port, raw)
            p.check(status(got) == want, "%r: %r" % (raw[:40], got[:60]))
        head = http_raw(port, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        p.check(head.endswith(b"\r\n\r\n"), "HEAD has a body")
        silent.close()
        p.check(a.proc.poll() is None, "the agent died")
        p.raise_if_any()


def query(port, q):
    url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(q))
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["data"]["result"]


@lib.timeout(90)
def test_agent_prometheus():
    """A real Prometheus (Debian's package) scrapes the agent every second;
    loopscope_stalls_total through its query API is the target's count."""
    if not os.access(PROMETHEUS, os.X_OK):
        raise lib.Skip("%s is not installed (Debian's prometheus package: make deps)" % PROMETHEUS)
    mport, pport = free_port(), free_port()
    tmp = tempfile.mkdtemp(prefix="ls-prom-")
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                "  - job_name: loopscope\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % mport)
    prom = None
    try:
        with Target.python(lib.python("debian-3.11"), "--kinds", "sleep,cpu", "--repeat", "2") as t, \
                Agent([t.pid], ["--metrics", "127.0.0.1:%d" % mport]) as a:
            a.wait_listening()
            prom = subprocess.Popen([PROMETHEUS, "--config.file", os.path.join(tmp, "prometheus.yml"),
                                     "--storage.tsdb.path", os.path.join(tmp, "data"),
                                     "--web.listen-address", "127.0.0.1:%d" % pport],
                                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
            t.go()
            t.wait_event("all_done", 30)
            made = len(t.stalls())
            got = []

            def scraped():
                try:
                    got[:] = query(pport, 'loopscope_stalls_total{pid="%d"}' % t.pid)
                except OSError:
                    return False
                return got and float(got[0]["value"][1]) == made
            ok = lib.wait_until(scraped, 30, interval=0.5)
            if not ok:
                with open(os.path.join(tmp, "log")) as f:
                    lib.log("prometheus log:", lib.trim(f.read()))
                raise AssertionError("Prometheus says %s, the target made %d stalls" % (got, made))
            m = got[0]["metric"]
            if m.get("comm") != "python3.11" or m.get("job") != "loopscope":
                raise AssertionError("labels %s" % m)
            lib.log("Prometheus: loopscope_stalls_total = %s (target: %d)" % (got[0]["value"][1], made))
    finally:
        if prom:
            prom.terminate()
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
        shutil.rmtree(tmp, ignore_errors=True)
