# SPDX-License-Identifier: GPL-2.0-only
"""`loopscope tui` in tmux against real targets and a real agent: what the
screen shows is checked against what the targets built and logged
themselves (task names, stall lines, lost-work lines)."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import lib
from agentlib import Agent, Client
from lib import Problems, Target
from tuilib import Tui, debian, require_tui, started

TASKS_PY = os.path.join(lib.TARGETS_DIR, "tasks.py")
LOSTWORK_PY = os.path.join(lib.TARGETS_DIR, "lostwork.py")


def tasks_target(*args):
    return Target([debian().path, TASKS_PY] + list(args), name="tasks.py")


def source_line(path, line):
    with open(path) as f:
        return f.read().splitlines()[line - 1].strip()


@lib.timeout(60)
def test_tui_tasks_names():
    """Every task name the target made is on the screen (a tall pane), with
    the header's PID and Python version."""
    require_tui()
    with tasks_target() as t, started(t) as a, Tui(["--socket", a.socket], 120, 50) as ui:
        names = sorted(k["name"] for k in t.info["tasks"])
        ui.wait_for(lambda s: all(n in s for n in names), 20, "all of %s" % names)
        p = Problems("tui header")
        p.check("PID %d" % t.pid in ui.last, "no PID %d in the header" % t.pid)
        p.check(t.info["python"] in ui.last, "no Python %s in the header" % t.info["python"])
        p.check("asyncio" in ui.last, "no loop type in the header")
        p.raise_if_any()


@lib.timeout(60)
def test_tui_stall_banner():
    """A 3 s stall: the red banner with its culprit line while it lasts, then
    the Stalls view lists it with that line, and no banner."""
    require_tui()
    with Target.python(debian(), "--kinds", "sleep", "--stall-ms", "3000") as t, started(t) as a, \
            Tui(["--socket", a.socket]) as ui:
        ui.wait_for("Tasks ", 20)
        line = t.info["markers"]["sleep"]
        t.go()
        banner = "LOOP STALLED"
        scr = ui.wait_for(banner, 10)
        p = Problems("stall banner")
        p.check("stalls.py:%d" % line in scr, "the banner has no stalls.py:%d:\n%s" % (line, scr))
        p.check("clock_nanosleep" in scr or "pselect6" in scr, "the banner names no syscall")
        t.wait_event("stall", 15)
        ui.keys("2")
        scr = ui.wait_for(lambda s: banner not in s and "stalls.py:%d" % line in s, 10,
                          "the stall listed and no banner")
        p.check(re.search(r"\b3\.0 s\b", scr), "the stall's duration (3.0 s) is not listed:\n%s" % scr)
        p.raise_if_any()


@lib.timeout(60)
def test_tui_task_detail_source():
    """Enter on a task: its coroutine chain with the source line it waits on
    (read by the agent's `source`), marked."""
    require_tui()
    with tasks_target() as t, started(t) as a, Tui(["--socket", a.socket]) as ui:
        ui.wait_for("chain-a", 20)
        ui.open_filtered("worker-0", lambda s: "worker-1" not in s and "worker-0" in s, "only worker-0")
        frame = [k for k in t.info["tasks"] if k["name"] == "worker-0"][0]["frame"]
        text = source_line(frame["file"], frame["line"])
        scr = ui.wait_for(text, 10)
        p = Problems("task detail")
        p.check("Task worker-0" in scr, "no title")
        p.check("%s (%s:%d)" % (frame["func"], frame["file"], frame["line"]) in scr,
                "no frame %s" % frame)
        p.check(re.search(r"▶\s+%d\s" % frame["line"], scr), "line %d not marked" % frame["line"])
        p.raise_if_any()


@lib.timeout(60)
def test_tui_filter():
    """`/` filters the tasks as it is typed."""
    require_tui()
    with tasks_target() as t, started(t) as a, Tui(["--socket", a.socket]) as ui:
        ui.wait_for("chain-a", 20)
        ui.keys("/")
        ui.type("chain")
        scr = ui.wait_for(lambda s: "worker-0" not in s and "Task-1" not in s, 5, "the filter applied")
        p = Problems("filter")
        for n in ("chain-a", "chain-b", "chain-c"):
            p.check(n in scr, "%s filtered out" % n)
        p.check("/chain" in scr, "the filter is not shown")
        ui.keys("Escape")
        ui.wait_for("Task-1", 5)
        p.raise_if_any()


@lib.params([lib.Param("utf8", "C.UTF-8", "└─"), lib.Param("ascii", "C", "`-")])
@lib.timeout(60)
def test_tui_tree(lang, glyph):
    """`t`: the await tree, children under their awaiters (UTF-8 box lines,
    or ASCII in a C locale); `-` folds a node."""
    require_tui()
    with tasks_target() as t, started(t) as a, Tui(["--socket", a.socket], 100, 40, lang=lang) as ui:
        ui.wait_for("chain-a", 20)
        ui.keys("t")
        scr = ui.wait_for(glyph + "chain-b", 5)
        p = Problems("tree")
        p.check(re.search(r"^\s*%schain-c" % re.escape(glyph), scr, re.M), "chain-c not under chain-b")
        p.check(glyph + "gather-child-0" in scr or glyph + "gather-child-1" in scr, "gather children")
        p.raise_if_any()


@lib.timeout(90)
def test_tui_warnings():
    """Warnings lists a never-awaited coroutine at the line the target
    named, with its count."""
    require_tui()
    with Target([debian().path, LOSTWORK_PY], name="lostwork.py") as t, started(t) as a, \
            Tui(["--socket", a.socket], 100, 30) as ui:
        ui.wait_for("Tasks ", 20)
        ui.keys("3")
        t.go()
        t.wait_event("done", 30)
        exp = [r for r in t.events("expect") if r["kind"] == "never_awaited"][0]
        site = re.compile(r"never awaited\s+\d+\s+%s\s+lostwork.py:%d\b" % (re.escape(exp["coro"]), exp["line"]))
        scr = ui.wait_for(lambda s: site.search(s), 10, site.pattern)
        p = Problems("warnings")
        p.check("exception lost" in scr, "no lost exception")
        p.raise_if_any()


@lib.timeout(90)
def test_tui_warning_says_where_it_was_created():
    """A lost exception's details say where its coroutine is defined and,
    the target tracking coroutine origins, the create_task line."""
    require_tui()
    with Target([debian().path, LOSTWORK_PY, "--origin"], name="lostwork.py") as t, started(t) as a, \
            Tui(["--socket", a.socket], 120, 40) as ui:
        ui.wait_for("Tasks ", 20)
        ui.keys("3")
        t.go()
        t.wait_event("done", 30)
        exp = [r for r in t.events("expect") if r.get("task") == "fire-and-forget"][0]
        ui.wait_for("fire-and-forget", 10)
        ui.open_filtered("fire-and-forget", lambda s: "forgotten" not in s and "exception lost" in s,
                         "only the lost exception")
        defined = "coroutine defined at %s:%d" % (LOSTWORK_PY, exp["defined"])
        scr = ui.wait_for(lambda s: defined in s and "Created at:" in s, 10, defined)
        after = scr.split("Created at:", 1)[1]
        p = Problems("warning details")
        p.check(re.search(r"lostwork\.py:%d\b" % exp["created"], after.split("Traceback")[0]),
                "no lostwork.py:%d under Created at:\n%s" % (exp["created"], scr))
        p.raise_if_any()


@lib.timeout(90)
def test_tui_lint_unbounded():
    """5000 pending tasks of one coroutine: an unbounded-concurrency lint
    with its advice in Warnings."""
    require_tui()
    with tasks_target("--many", "5000") as t, started(t) as a:
        if "lints" not in a.client().result("hello")["methods"]:
            raise lib.Skip("this agent serves no lints yet (no `lints` in hello's methods)")
        with Tui(["--socket", a.socket], 120, 30) as ui:
            ui.wait_for("5026", 20)
            ui.keys("3")
            ui.wait_for("unbounded-concurrency", 30)


@lib.timeout(60)
def test_tui_resize():
    """80x24 -> 60x20 -> too small -> 80x24: the header, the view and the
    key bar follow, 'too small' is said, nothing is left over."""
    require_tui()
    with tasks_target() as t, started(t) as a, Tui(["--socket", a.socket]) as ui:
        ui.wait_for("chain-a", 20)
        p = Problems("resize")
        for w, h in ((60, 20), (40, 10), (80, 24)):
            ui.resize(w, h)
            if w < 50:
                ui.wait_for("too small", 5)
                continue
            scr = ui.wait_for(lambda s: "PID %d" % t.pid in s and "Enter" in s.splitlines()[-1], 5,
                              "header and key bar at %dx%d" % (w, h))
            lines = scr.splitlines()
            p.check(len(lines) <= h and all(len(l) <= w for l in lines), "wider than %d" % w)
            p.check("too small" not in scr, "'too small' left over at %dx%d" % (w, h))
        p.raise_if_any()


def sgr_colours(text):
    """Colour SGR parameters (30-49, 90-107, 38;5;N) in captured escapes."""
    found = []
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        for n in params.split(";"):
            if n.isdigit() and (30 <= int(n) <= 48 or 90 <= int(n) <= 107) and n not in ("39",):
                found.append(n)
    return found


@lib.timeout(60)
def test_tui_no_color():
    """NO_COLOR: no colour at all (reverse and bold only); without it, colour."""
    require_tui()
    with tasks_target() as t, started(t) as a:
        with Tui(["--socket", a.socket]) as ui:
            ui.wait_for("chain-a", 20)
            coloured = sgr_colours(ui.screen(escapes=True))
        with Tui(["--socket", a.socket], env={"NO_COLOR": "1"}) as ui:
            ui.wait_for("chain-a", 20)
            mono = sgr_colours(ui.screen(escapes=True))
            rev = any("7" in p.split(";") for p in re.findall(r"\x1b\[([0-9;]*)m", ui.last))
        p = Problems("NO_COLOR")
        p.check(coloured, "no colour without NO_COLOR")
        p.check(not mono, "colours with NO_COLOR: %s" % mono[:10])
        p.check(rev, "no reverse video for the selection with NO_COLOR")
        p.raise_if_any()


@lib.params([lib.Param("q", "q", 0), lib.Param("sigterm", signal.SIGTERM, 0),
             lib.Param("crash", signal.SIGSEGV, 128 + signal.SIGSEGV)])
@lib.timeout(60)
def test_tui_restores_terminal(how, status):
    """`q`, SIGTERM, or a crash (SIGSEGV): the TUI leaves the alternate
    screen and shows the cursor again; q and SIGTERM exit 0."""
    require_tui()
    with tasks_target() as t, started(t) as a, Tui(["--socket", a.socket]) as ui:
        ui.wait_for("chain-a", 20)
        p = Problems("terminal restored")
        p.check(ui.pane("#{alternate_on}") == "1", "the TUI is not on the alternate screen")
        if how == "q":
            ui.keys("q")
        else:
            os.kill(ui.tui_pid(), how)
        ui.wait_for("TUI-EXIT=", 10)
        p.check("TUI-EXIT=%d" % status in ui.last, "exit status: %s" % ui.last.strip()[-20:])
        p.check(ui.pane("#{alternate_on}") == "0", "still on the alternate screen")
        p.check(ui.pane("#{cursor_flag}") == "1", "the cursor stays hidden")
        p.check("chain-a" not in ui.last, "the TUI's screen was left behind")
        p.raise_if_any()


@lib.timeout(60)
def test_tui_reconnects():
    """The agent goes (SIGTERM) while shown: the header says so and the
    tasks stay; a new agent on the same socket: the TUI is back on it."""
    require_tui()
    with tasks_target() as t:
        first = Agent([t.pid])
        with first:
            first.wait_listening()
            with Tui(["--socket", first.socket]) as ui:
                ui.wait_for("chain-a", 20)
                first.signal(signal.SIGTERM)
                first.wait(10)
                scr = ui.wait_for("agent gone", 10)
                p = Problems("reconnect")
                p.check("chain-a" in scr, "the last tasks are gone from the screen")
                with Agent([t.pid], socket_path=first.socket) as second:
                    second.wait_listening()
                    ui.wait_for(lambda s: "connected to" in s and "agent gone" not in s, 10, "reconnected")
                p.raise_if_any()


@lib.timeout(60)
def test_tui_target_exits():
    """The target exits while shown: the header says so, the last tasks stay,
    and the agent's going (no target left) is said too."""
    require_tui()
    with tasks_target() as t, started(t) as a, Tui(["--socket", a.socket]) as ui:
        ui.wait_for("chain-a", 20)
        t.kill()
        scr = ui.wait_for("TARGET GONE", 10)
        p = Problems("target exit")
        p.check("chain-a" in scr, "the last tasks are gone from the screen")
        ui.wait_for("agent gone", 10)
        p.raise_if_any()


def test_tui_no_agent():
    """No agent at --socket: a clear message and exit 1, before any screen."""
    require_tui()
    r = lib.run_loopscope(["tui", "--socket", "/nonexistent/agent.sock"], 10)
    p = Problems("no agent")
    p.check(r.returncode == 1, "exit %s" % r.returncode)
    p.check("cannot connect to /nonexistent/agent.sock" in r.stderr, "stderr: %s" % r.stderr)
    p.check("\x1b[" not in r.stdout, "the terminal was touched")
    p.raise_if_any()


class Recorder(threading.Thread):
    """What an agent's --record keeps, written by a client: the history,
    then every event as it comes, and a ps answer every second (as
    {"ts","method","pid","result"}), one JSON object a line."""

    def __init__(self, sock, pid, path):
        super().__init__(daemon=True)
        self.c, self.pid, self.path = Client(sock), pid, path
        self.stop = threading.Event()
        self.lines = 0

    def write(self, f, obj):
        f.write(json.dumps(obj) + "\n")
        f.flush()
        self.lines += 1

    def run(self):
        with open(self.path, "w") as f:
            for ev in self.c.result("history")["events"]:
                self.write(f, ev)
            self.c.result("subscribe")
            while not self.stop.is_set():
                ps = self.c.request("ps", pid=self.pid)
                if "result" in ps:
                    self.write(f, {"ts": time.time(), "method": "ps", "pid": self.pid, "result": ps["result"]})
                for _, ev in self.c.events:
                    self.write(f, ev)
                self.c.events.clear()
                self.c.wait_event(lambda e: False, 1.0)


def split_recording(path, d):
    """The recording as two rotated files, the later one first on the
    command line, its last line cut short (a crash while writing)."""
    with open(path) as f:
        lines = f.readlines()
    half = len(lines) // 2
    old, new = os.path.join(d, "rec.ndjson.1"), os.path.join(d, "rec.ndjson")
    with open(old, "w") as f:
        f.writelines(lines[:half])
    with open(new, "w") as f:
        f.writelines(lines[half:])
        f.write('{"event":"stall","id":999,"pid":1,"duration_ms":12')
    return [new, old], len(lines) - half + 1


@lib.timeout(90)
def test_tui_replay():
    """A recording replayed (two rotated files, given out of order, the last
    line truncated) shows the same stalls the target made, with their
    lines, and says where the replay stopped."""
    require_tui()
    d = tempfile.mkdtemp(prefix="ls-tui-")
    rec = os.path.join(d, "live.ndjson")
    with Target.python(debian(), "--kinds", "sleep,cpu", "--stall-ms", "400") as t, started(t) as a:
        r = Recorder(a.socket, t.pid, rec)
        r.start()
        time.sleep(1.5)
        t.go()
        t.wait_event("all_done", 30)
        time.sleep(2.5)
        r.stop.set()
        r.join(5)
        made = t.stalls()
    files, cut_line = split_recording(rec, d)
    with Tui(["--replay"] + files + ["--speed", "8"], 160, 30) as ui:
        ui.keys("2")
        p = Problems("replay")
        want = ["stalls.py:%d" % s["line"] for s in made]
        scr = ui.wait_for(lambda s: all(w in s for w in want), 30, "the stalls at %s" % want)
        shown = [float(v) for v in re.findall(r"\b(\d+) ms ", scr)]   # the agent's own measure
        for s in made:
            p.check(any(abs(v - s["duration_ms"]) <= 15 for v in shown),
                    "no duration near %.0f ms in %s" % (s["duration_ms"], shown))
        scr = ui.wait_for("(end)", 30)
        p.check("rec.ndjson: stopped at line %d: truncated" % cut_line in scr,
                "where the replay stopped is not said:\n%s" % scr)
        p.raise_if_any()


class FakeAgent(threading.Thread):
    """A hostile agent: answers hello and ps, then sends garbage, a 2 MB
    line, escape sequences in every string, wrong types, unknown fields."""

    PID = 4242

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)

    def answer(self, conn, req):
        evil = "\x1b[2J\x1b]0;pwned\x07evil\r\n\x00x"
        m, rid = req.get("method"), req.get("id")
        if m == "hello":
            res = {"protocol": 1, "pid": 1, "methods": ["hello", "ps"], "targets": [
                {"pid": self.PID, "comm": evil, "cmdline": evil * 50, "python": 3.11, "loop": ["x"]}]}
        elif m == "ps":
            tasks = [{"id": "0x1", "name": "loop-a", "state": "pending", "awaited_by": ["0x2"],
                      "stack": [{"func": evil, "file": evil, "line": "x"}]},
                     {"id": "0x2", "name": "loop-b", "state": 7, "awaited_by": ["0x1", 5, None]},
                     None, 5, "str", {"id": None, "name": {"x": 1}, "stack": "no", "awaited_by": "x"}]
            res = {"pid": self.PID, "tasks": tasks, "loops": 5}
        else:
            res = {"weird": True}
        conn.sendall((json.dumps({"id": rid, "result": res}) + "\n").encode())

    def garbage(self, conn):
        evil = "\x1b[2J\x1b]0;pwned\x07"
        for line in [b"not json", b"[" * 100000, b"{" + b"x" * (2 << 20), b'{"event":5}', b'{"id":1,"result":7}',
                     json.dumps({"event": "stall", "pid": self.PID, "id": 1, "ts": 1e300,
                                 "duration_ms": 1e308, "ongoing": True, "syscalls": "nope",
                                 "stack": [{"func": evil + "hog", "file": evil + "x.py", "line": -5}]}).encode(),
                     json.dumps({"event": "never_awaited", "pid": self.PID, "coro": evil, "stack": {}}).encode(),
                     json.dumps({"event": "lint", "pid": self.PID, "lint": evil, "site": "x"}).encode(),
                     json.dumps({"event": "task_done", "pid": self.PID, "location": 5, "name": None}).encode(),
                     json.dumps({"event": "stall", "pid": "x", "id": "y"}).encode()]:
            conn.sendall(line + b"\n")

    def run(self):
        conn, _ = self.srv.accept()
        buf, sent = b"", False
        while True:
            data = conn.recv(1 << 16)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.answer(conn, json.loads(line))
                if not sent:
                    self.garbage(conn)
                    sent = True


@lib.timeout(60)
def test_tui_hostile_agent():
    """Garbage, huge lines, wrong types and escape sequences from the agent:
    the TUI keeps running, shows what it could read, and no string moves
    the cursor, clears the screen or retitles the terminal."""
    require_tui()
    d = tempfile.mkdtemp(prefix="ls-tui-")
    fake = FakeAgent(os.path.join(d, "fake.sock"))
    fake.start()
    with Tui(["--socket", fake.path]) as ui:
        scr = ui.wait_for(lambda s: "loop-a" in s and "LOOP STALLED" in s, 15, "the task and the stall")
        p = Problems("hostile agent")
        p.check("hog" in scr, "the stall's frame is not shown")
        p.check(ui.pane("#{pane_title}") != "pwned", "the terminal was retitled")
        p.check(scr.splitlines()[0].startswith("loopscope PID %d" % FakeAgent.PID), "header:\n%s" % scr)
        for key in ("3", "5", "1", "t", "Enter", "Escape", "2", "Enter"):
            ui.keys(key)
        time.sleep(0.5)
        p.check(ui.tui_pid(), "the TUI died")
        p.raise_if_any()


@lib.timeout(60)
def test_tui_finds_socket():
    """No --socket: the only agent socket in the directory is used; with
    two, both are listed and the TUI exits 1 before drawing anything."""
    require_tui()
    d = tempfile.mkdtemp(prefix="ls-tui-run-")
    with tasks_target() as t, tasks_target() as t2:
        one = Agent([t.pid], socket_path=os.path.join(d, "agent-1.sock"))
        with one:
            one.wait_listening()
            with Tui([], env={"LOOPSCOPE_SOCKET_DIR": d}) as ui:
                ui.wait_for("PID %d" % t.pid, 20)
            two = Agent([t2.pid], socket_path=os.path.join(d, "agent-2.sock"))
            with two:
                two.wait_listening()
                r = subprocess.run([lib.loopscope_bin(), "tui"], capture_output=True, text=True, timeout=10,
                                   env=dict(os.environ, LOOPSCOPE_SOCKET_DIR=d), stdin=subprocess.DEVNULL)
                p = Problems("socket discovery")
                p.check(r.returncode == 1, "exit %s" % r.returncode)
                p.check(one.socket in r.stderr and two.socket in r.stderr and "--socket" in r.stderr,
                        "the sockets are not listed: %s" % r.stderr)
                p.raise_if_any()


@lib.timeout(60)
def test_tui_several_targets():
    """An agent on two targets: `0` lists both, `]` steps to the other one
    (its PID in the header), Enter in the list picks one."""
    require_tui()
    with tasks_target() as t, tasks_target() as t2:
        a = Agent([t.pid, t2.pid])
        with a, Tui(["--socket", a.wait_listening().socket], 120, 30) as ui:
            ui.wait_for("chain-a", 20)
            first = "PID %d" % t.pid if "PID %d" % t.pid in ui.last else "PID %d" % t2.pid
            other = "PID %d" % (t2.pid if first == "PID %d" % t.pid else t.pid)
            ui.keys("0")
            scr = ui.wait_for(lambda s: str(t.pid) in s and str(t2.pid) in s and "COMMAND" in s, 10,
                              "both targets listed")
            ui.keys("]")
            ui.wait_for(other, 5)
            ui.keys("Enter")
            scr = ui.wait_for(lambda s: other in s and "NAME" in s, 5, "the picked target's tasks")
            p = Problems("several targets")
            p.check("[2/2]" in scr or "[1/2]" in scr, "no target position in the header")
            p.raise_if_any()


@lib.timeout(60)
def test_tui_replay_pause_step():
    """Replay: Space stops its clock, n steps one record, f doubles the
    speed; live (Space) the display stops changing."""
    require_tui()
    d = tempfile.mkdtemp(prefix="ls-tui-")
    rec = os.path.join(d, "rec.ndjson")
    t0 = time.time()
    with open(rec, "w") as f:
        for i in range(30):
            f.write(json.dumps({"event": "stall", "pid": 77, "id": i + 1, "ts": t0 + i, "duration_ms": 100 + i,
                                "ongoing": False, "stack": [{"func": "f%d" % i, "file": "/x.py", "line": i + 1}]}) + "\n")
    with Tui(["--replay", rec], 120, 30) as ui:
        ui.keys("2")
        ui.wait_for("record 2/30", 10)
        ui.keys("Space")
        scr = ui.wait_for("paused", 5)
        at = re.search(r"record (\d+)/30", scr).group(1)
        time.sleep(1.5)
        p = Problems("replay pause")
        p.check("record %s/30" % at in ui.screen(), "the clock ran while paused")
        ui.keys("n")
        ui.wait_for("record %d/30" % (int(at) + 1), 5)
        ui.keys("Space", "f")
        ui.wait_for("REPLAY x2 playing", 5)
        p.raise_if_any()


@lib.timeout(90)
def test_top_runs_its_own_agent():
    """`loopscope top PID`: the view of the target from an agent of its
    own (a child on a private socket); q stops both, leaving no agent, no
    socket directory and no BPF program behind."""
    require_tui()
    with tasks_target() as t, Tui([t.pid], 100, 30, command="top") as ui:
        ui.wait_for("chain-a", 30)
        p = Problems("top")
        p.check("PID %d" % t.pid in ui.last, "no PID %d in the header" % t.pid)
        top = ui.tui_pid()
        kids = subprocess.run(["pgrep", "-P", str(top)], capture_output=True, text=True).stdout.split()
        agents = [int(k) for k in kids]
        p.check(len(agents) == 1, "top's children: %s, want its one agent" % agents)
        held = lib.bpf_ids_held(agents[0])[0] if agents else set()
        p.check(held, "top's agent holds no BPF program")
        sockdirs = [d for d in os.listdir("/tmp") if d.startswith("loopscope-top.")]
        ui.keys("q")
        ui.wait_for("TUI-EXIT=", 20)
        p.check("TUI-EXIT=0" in ui.last, "exit status: %s" % ui.last.strip()[-20:])
        for a in agents:
            p.check(not os.path.exists("/proc/%d" % a) or
                    open("/proc/%d/stat" % a).read().split(") ")[1][0] == "Z",
                    "the agent (pid %d) outlived top" % a)
        left = [d for d in sockdirs if os.path.exists(os.path.join("/tmp", d))]
        p.check(not left, "socket directories left: %s" % left)
        lib.wait_until(lambda: not (set(lib.bpf_objects()[0]) & held), 5)
        p.check(not (set(lib.bpf_objects()[0]) & held), "programs left: %s" % (
            set(lib.bpf_objects()[0]) & held))
        p.raise_if_any()


@lib.timeout(30)
def test_top_bad_input():
    """No such PID: one line from the agent it runs, exit 1, the terminal
    untouched; --socket is refused (that is `tui`'s)."""
    r = lib.run_loopscope(["top", "4194303"])
    p = Problems("top bad input")
    p.check(r.returncode == 1 and r.stderr_lines() == ["loopscope: no such process: 4194303"],
            "missing PID: exit %s, %r" % (r.returncode, r.stderr))
    p.check("\x1b" not in r.stdout and not r.stdout.strip(), "printed on stdout: %r" % r.stdout)
    r = lib.run_loopscope(["top", "1", "--socket", "/tmp/x"])
    p.check(r.returncode == 2 and "tui --socket" in r.stderr, "--socket: %s %r" % (
        r.returncode, r.stderr))
    p.raise_if_any()
