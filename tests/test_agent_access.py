# SPDX-License-Identifier: GPL-2.0-only
"""The agent's access control and privileges: --allow opens the socket to
the users and groups named, every peer checked by its kernel credentials
(clients really run as other users, through setpriv); after setup the agent
keeps only the capabilities that attaching later targets needs."""
import grp
import json
import os
import pwd
import signal
import stat
import subprocess
import sys
import tempfile
import threading

import lib
from agentlib import Agent
from lib import Problems, Target
from tuilib import Tui, require_tui

# capability numbers (linux/capability.h)
CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF = 2, 19, 21, 38, 39
KEPT = sum(1 << c for c in (CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF))

# connects, sends argv[2] if given, prints every line it gets until the end
CLIENT_PY = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
if len(sys.argv) > 2:
    try:
        s.sendall(sys.argv[2].encode() + b"\n")
    except BrokenPipeError:
        pass
data = b""
try:
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
        if len(sys.argv) > 2 and data.endswith(b"\n") and b'"id":1' in data:
            break
except (ConnectionResetError, socket.timeout):
    pass
sys.stdout.write(data.decode())
"""


def as_user(name, groups=None):
    """setpriv argv prefix: run as user name (its own group), with exactly
    these supplementary groups (none when not given)."""
    pw = pwd.getpwnam(name)
    grp_arg = ["--groups=" + ",".join(str(grp.getgrnam(g).gr_gid) for g in groups)] if groups else ["--clear-groups"]
    return ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid] + grp_arg


def connect_as(prefix, path, request=None):
    """The lines a client run under prefix got from the agent at path."""
    argv = prefix + [sys.executable, "-c", CLIENT_PY, path] + ([json.dumps(request)] if request else [])
    r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    if r.returncode:
        raise AssertionError("client %s failed (%s): %s" % (prefix, r.returncode, r.stderr.strip()[-300:]))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def open_dir():
    """A socket directory others may enter (the test's temporary dirs are 0700)."""
    d = tempfile.mkdtemp(prefix="ls-access-")
    os.chmod(d, 0o755)
    return d


def refusals(agent, uid):
    return [l for l in list(agent.stderr) if "refused a client (uid %d," % uid in l]


@lib.timeout(60)
def test_agent_allow_users_and_groups():
    """--allow daemon --allow @adm: daemon, and nobody in group adm, get
    hello (without root's target); nobody without adm gets the forbidden line and the end, twice,
    logged once. The socket is 0666 with --allow, 0600 without."""
    with Target.python(lib.python("debian-3.11"), "--mode", "healthy") as t:
        d = open_dir()
        with Agent([t.pid], socket_path=os.path.join(d, "closed.sock")) as closed:
            closed.wait_listening()
            mode = stat.S_IMODE(os.stat(closed.socket).st_mode)
            lines = connect_as([], closed.socket, {"id": 1, "method": "hello"})
        p = Problems("--allow")
        p.check(mode == 0o600, "socket mode %o without --allow" % mode)
        p.check(lines and "result" in lines[0], "root, no --allow: %s" % lines)
        with Agent([t.pid], ["--allow", "daemon", "--allow", "@adm"],
                   socket_path=os.path.join(d, "open.sock")) as a:
            a.wait_listening()
            mode = stat.S_IMODE(os.stat(a.socket).st_mode)
            p.check(mode == 0o666, "socket mode %o with --allow" % mode)
            hello = {"id": 1, "method": "hello"}
            for who, prefix in (("daemon", as_user("daemon")), ("nobody in adm", as_user("nobody", ["adm"]))):
                lines = connect_as(prefix, a.socket, hello)
                # connected; the target is root's, so not theirs to see (the test below)
                ok = lines and lines[0].get("result", {}).get("targets") == []
                p.check(ok, "%s: %s" % (who, str(lines)[:300]))
            want = {"error": {"code": "forbidden", "message": "uid 65534 (nobody) is not allowed: "
                              "start the agent with --allow nobody"}}
            for request in (None, hello):  # one that only reads, one that asks first
                lines = connect_as(as_user("nobody"), a.socket, request)
                got = [{k: v for k, v in l.items() if k != "id"} for l in lines]
                p.check(got == [want], "nobody (asking %s): %s" % (request, lines))
            lib.wait_until(lambda: refusals(a, 65534), 5)
            p.check(len(refusals(a, 65534)) == 1, "refusals logged: %s" % refusals(a, 65534))
            p.check(a.proc.poll() is None, "the agent died")
        p.raise_if_any()


@lib.timeout(60)
def test_agent_allow_default_socket():
    """--allow with the default socket: /run/loopscope becomes searchable by
    others (still writable by root only), the socket 0666, and an allowed
    user connects through that path."""
    with Target.python(lib.python("debian-3.11"), "--mode", "healthy") as t, \
            lib.Loopscope(["agent", t.pid, "--allow", "daemon"], name="loopscope agent") as a:
        found = lib.wait_until(lambda: [l.strip() for _, l in a.lines if l.startswith("/run/loopscope/")], 20)
        if not found:
            raise AssertionError("the agent printed no socket path under /run/loopscope")
        path = found[0]
        p = Problems("default socket, --allow")
        dmode = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
        smode = stat.S_IMODE(os.stat(path).st_mode)
        p.check(dmode & 0o055 == 0o055 and not dmode & 0o022, "/run/loopscope mode %o" % dmode)
        p.check(smode == 0o666, "socket mode %o" % smode)
        lines = connect_as(as_user("daemon"), path, {"id": 1, "method": "hello"})
        p.check(lines and "result" in lines[0], "daemon through %s: %s" % (path, str(lines)[:200]))
        p.raise_if_any()


def test_agent_allow_usage():
    """An unknown user or group: one line naming it, exit 2."""
    p = Problems("--allow usage")
    for bad, what in (("no-such-user-ls", "no such user"), ("@no-such-group-ls", "no such group")):
        r = lib.run_loopscope(["agent", "1", "--allow", bad])
        err = r.stderr.strip().splitlines()
        p.check(r.returncode == 2, "--allow %s: exit %s" % (bad, r.returncode))
        p.check(len(err) == 1 and what in err[0] and bad in err[0], "--allow %s: %r" % (bad, r.stderr))
    r = lib.run_loopscope(["agent", "--help"])
    p.check("--allow=USER" in r.stdout and "--allow www-data" in r.stdout, "--help: no --allow")
    p.check("sees only the targets it owns" in r.stdout and "--metrics is not\ncovered by --allow" in r.stdout,
            "--help: what an allowed user sees, and --metrics")
    p.raise_if_any()


def caps_of(pid):
    """{tid: {"CapEff": int, ..., "NoNewPrivs": int}} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            fields = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        out[int(tid)] = {k: int(fields[k].strip(), 16 if k.startswith("Cap") else 10)
                         for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")}
    return out


@lib.timeout(90)
def test_agent_drops_privileges():
    """After setup every thread of the agent has only the kept capabilities
    (bounding set too, no_new_privs); a target started later under
    --children is still attached with its uprobes (CAP_SYS_ADMIN), its
    stalls and tasks served; on exit no program of the agent is left."""
    interp = lib.python("debian-3.11")
    flag = os.path.join(tempfile.mkdtemp(prefix="ls-privs-"), "start")
    script = "while [ ! -e %s ]; do sleep 0.05; done; %s -X faulthandler %s --kinds sleep --repeat 2" % (
        flag, interp.path, lib.STALLS_PY)
    master = Target(["sh", "-c", script], name="sh master of stalls.py")
    starter = threading.Thread(target=master.start, daemon=True)
    starter.start()
    p = Problems("privileges")
    try:
        lib.wait_until(lambda: master.proc is not None, 5)
        with Agent([], ["--children", str(master.pid)]) as a:
            a.wait_listening()
            c = a.client()
            c.result("subscribe", kinds=["target_attached", "stall"])
            for tid, caps in caps_of(a.pid).items():
                want = {"CapInh": 0, "CapPrm": KEPT, "CapEff": KEPT, "CapBnd": KEPT, "CapAmb": 0, "NoNewPrivs": 1}
                p.check(caps == want, "thread %d: %s, want %s" % (tid, {k: "%x" % v for k, v in caps.items()},
                                                                  {k: "%x" % v for k, v in want.items()}))
            open(flag, "w").close()
            starter.join(30)
            child = master.info and master.info["pid"]
            ev = c.wait_event(lambda e: e["event"] == "target_attached" and e["pid"] == child, 15)
            p.check(ev is not None, "the later target %s was not attached" % child)
            if ev:
                det = ev["target"]["detectors"]
                p.check(det.get("never_awaited") and det.get("stalls"), "its detectors: %s" % det)
                master.go()
                master.wait_event("all_done", 30)
                made = master.stalls()
                got = c.wait_event(lambda e: e["event"] == "stall" and e["pid"] == child and not e["ongoing"], 10)
                p.check(got is not None, "no stall event of the later target")
                stalls = c.result("stalls", pid=child)["targets"][0]["summary"]["stalls"]
                p.check(stalls == len(made), "stalls: %d served, the target made %d" % (stalls, len(made)))
                ps = c.request("ps", pid=child).get("result") or {}
                p.check(ps.get("tasks") and ps.get("pid") == child, "ps: %s" % str(ps)[:200])
            p.check(not caps_of(a.pid) or all(v["CapEff"] == KEPT for v in caps_of(a.pid).values()),
                    "capabilities after attaching: %s" % caps_of(a.pid))
            progs, links = lib.bpf_ids_held(a.pid)
            uprobes = {i for i, name in lib.bpf_objects(prefix="lost_")[0].items() if i in progs}
            p.check(uprobes, "the agent holds no lost-work (uprobe) program: %s" % progs)
            a.signal(signal.SIGTERM)
            p.check(a.wait(10) == 0, "exit status %s" % a.proc.returncode)

            def left():
                loaded, linked = lib.bpf_objects(prefix="")
                return (set(loaded) & progs) | (set(linked) & links)
            # the kernel frees a program shortly after its last reference
            lib.wait_until(lambda: not left(), 5)
            p.check(progs and not left(), "programs or links left: %s of %s, %s" % (left(), progs, links))
        p.raise_if_any()
    finally:
        if master.info:
            try:
                os.kill(master.info["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        master.kill()


@lib.timeout(60)
def test_tui_forbidden():
    """`loopscope tui --socket` as a user the agent does not allow: the
    agent's message in one line, exit 1, the terminal restored."""
    require_tui()
    with Target.python(lib.python("debian-3.11"), "--mode", "healthy") as t, \
            Agent([t.pid], ["--allow", "daemon"], socket_path=os.path.join(open_dir(), "a.sock")) as a:
        a.wait_listening()
        with Tui(["--socket", a.socket], width=200, prefix=as_user("nobody")) as ui:
            scr = ui.wait_for("TUI-EXIT=", 15)
            p = Problems("tui refused")
            msg = [l for l in scr.splitlines() if l.strip() and "TUI-EXIT" not in l]
            p.check("TUI-EXIT=1" in scr, "exit status: %s" % scr.strip()[-40:])
            p.check(len(msg) == 1 and "uid 65534 (nobody) is not allowed: start the agent with --allow nobody"
                    in msg[0], "what it said: %s" % msg)
            p.check(ui.pane("#{alternate_on}") == "0", "still on the alternate screen")
            p.check(ui.pane("#{cursor_flag}") == "1", "the cursor stays hidden")
            p.raise_if_any()


@lib.timeout(60)
def test_tui_root_only_agent():
    """As nobody, an agent without --allow: its socket (0600), or the 0700
    directory the TUI looks in, cannot be opened: one line saying why and
    what to do, exit 1, before any screen."""
    require_tui()
    with Target.python(lib.python("debian-3.11"), "--mode", "healthy") as t, \
            Agent([t.pid], socket_path=os.path.join(open_dir(), "a.sock")) as a:
        a.wait_listening()
        p = Problems("root-only agent")
        closed = tempfile.mkdtemp(prefix="ls-closed-")
        for args, env, what in ((["--socket", a.socket], {}, "cannot connect to %s: Permission denied" % a.socket),
                                ([], {"LOOPSCOPE_SOCKET_DIR": closed}, "cannot read %s: Permission denied" % closed)):
            r = subprocess.run(as_user("nobody") + [lib.loopscope_bin(), "tui"] + args, capture_output=True,
                               text=True, timeout=15, env=dict(os.environ, **env), stdin=subprocess.DEVNULL)
            err = r.stderr.strip().splitlines()
            p.check(r.returncode == 1, "tui %s: exit %s" % (args, r.returncode))
            p.check(len(err) == 1 and what in err[0] and "--allow USER" in err[0], "tui %s: %r" % (args, r.stderr))
            p.check("\x1b[" not in r.stdout, "tui %s: the terminal was touched" % args)
        os.rmdir(closed)
        p.raise_if_any()


# subscribes (argv[2]: the request), prints every line it gets until EOF
SUBSCRIBER_PY = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
f = s.makefile("rb")
for line in f:
    sys.stdout.write(line.decode())
    sys.stdout.flush()
"""


def final_stalls(events, pid=None):
    return [e for e in events if e.get("event") == "stall" and not e.get("ongoing") and pid in (None, e["pid"])]


def forbidden_of(agent, pid):
    return [l for l in list(agent.stderr) if "PID %d belongs to" % pid in l]


@lib.timeout(120)
def test_agent_allowed_user_sees_its_own_targets():
    """Two stalling targets, one run as daemon, one as root; the agent (root,
    --allow daemon): as daemon, hello, stats, stalls and history list only
    the daemon's target, ps of its own works, ps (twice, logged once),
    history and subscribe naming the root's target are forbidden; a
    subscriber as daemon gets the stalls of its target only (and the
    agent's exit), a root subscriber those of both."""
    interp = lib.python("debian-3.11")
    stall_args = ["--kinds", "sleep", "--repeat", "2"]
    mine = Target(as_user("daemon") + [interp.path, "-X", "faulthandler", lib.STALLS_PY] + stall_args,
                  name="stalls.py as daemon")
    with mine, Target.python(interp, *stall_args) as theirs, \
            Agent([theirs.pid, mine.pid], ["--allow", "daemon"],
                  socket_path=os.path.join(open_dir(), "a.sock")) as a:
        a.wait_listening()
        p = Problems("daemon sees its own")
        root = a.client()
        root.result("subscribe", kinds=["stall"])
        sub = subprocess.Popen(as_user("daemon") + [sys.executable, "-c", SUBSCRIBER_PY, a.socket,
                                                     json.dumps({"id": 1, "method": "subscribe"})],
                               stdout=subprocess.PIPE, text=True)
        first = json.loads(sub.stdout.readline() or "{}")
        p.check(first.get("result") == {"subscribed": True}, "daemon's subscribe: %s" % first)
        # both loops found before they stall: what is tested here is who
        # sees which stall, not how soon after attaching a loop is found
        lib.wait_until(lambda: all(x.get("loops", 0) >= 1 for x in root.result("stats")["targets"]), 10)
        for t in (mine, theirs):
            t.go()
        for t in (mine, theirs):
            t.wait_event("all_done", 30)
        def root_stalls(pid):
            return final_stalls([e for _, e in root.events], pid)
        for t in (mine, theirs):
            made = len(t.stalls())
            root.wait_event(lambda e: len(root_stalls(t.pid)) >= made, 10)
            p.check(len(root_stalls(t.pid)) == made, "root subscriber, PID %d: %d stalls, the target made %d" %
                    (t.pid, len(root_stalls(t.pid)), made))

        def ask(method, **params):
            lines = connect_as(as_user("daemon"), a.socket, dict(id=1, method=method, **params))
            return lines[0] if lines else {}

        hello = ask("hello").get("result", {})
        p.check([x["pid"] for x in hello.get("targets", [])] == [mine.pid], "hello: %s" % str(hello)[:300])
        p.check([x.get("uid") for x in hello.get("targets", [])] == [pwd.getpwnam("daemon").pw_uid],
                "hello: the target's owner %s" % [x.get("uid") for x in hello.get("targets", [])])
        p.check(sorted(x.get("uid") for x in root.result("hello")["targets"]) ==
                [0, pwd.getpwnam("daemon").pw_uid], "root's hello: owners")
        for method in ("stats", "stalls"):
            got = [x["pid"] for x in ask(method).get("result", {}).get("targets", [])]
            p.check(got == [mine.pid], "%s lists %s" % (method, got))
        events = ask("history", kinds=["stall"]).get("result", {}).get("events", [])
        p.check(events and {e["pid"] for e in events} == {mine.pid}, "history: pids %s" % {e["pid"] for e in events})
        own = ask("ps", pid=mine.pid).get("result", {})
        p.check(own.get("pid") == mine.pid and own.get("tasks"), "ps of its own: %s" % str(own)[:200])
        want = ("PID %d belongs to uid 0 (root): uid %d (daemon) sees only the targets it owns" %
                (theirs.pid, pwd.getpwnam("daemon").pw_uid))
        for method, params in (("ps", {"pid": theirs.pid}), ("ps", {"pid": theirs.pid}),
                               ("history", {"pids": [theirs.pid]}), ("subscribe", {"pids": [theirs.pid]}),
                               ("source", {"pid": theirs.pid, "file": lib.STALLS_PY, "line": 1})):
            err = ask(method, **params).get("error")
            p.check(err == {"code": "forbidden", "message": want}, "%s %s: %s" % (method, params, err))
        lib.wait_until(lambda: forbidden_of(a, theirs.pid), 5)
        p.check(len(forbidden_of(a, theirs.pid)) == 1, "logged: %s" % forbidden_of(a, theirs.pid))
        a.signal(signal.SIGTERM)
        p.check(a.wait(10) == 0, "agent exit status %s" % a.proc.returncode)
        out, _ = sub.communicate(timeout=10)
        got = [json.loads(l) for l in out.splitlines() if l.strip()]
        p.check({e["pid"] for e in final_stalls(got)} == {mine.pid} and
                len(final_stalls(got)) == len(mine.stalls()),
                "daemon subscriber: final stalls of %s, %d (its target made %d)" %
                ({e["pid"] for e in final_stalls(got)}, len(final_stalls(got)), len(mine.stalls())))
        p.check({e["pid"] for e in got if "pid" in e} <= {mine.pid, 0}, "daemon subscriber got events of %s" %
                {e["pid"] for e in got if "pid" in e})
        p.check(any(e.get("event") == "agent_exit" for e in got), "daemon subscriber: no agent_exit")
        p.raise_if_any()


@lib.timeout(60)
def test_agent_source_only_loaded_files():
    """source serves a file the target runs code of (stalls.py), not another
    .py file the agent could read (a root-only one the target never
    imported), whoever asks."""
    with Target.python(lib.python("debian-3.11"), "--mode", "healthy") as t, Agent([t.pid]) as a:
        a.wait_listening()
        c = a.client()
        lib.wait_until(lambda: "result" in c.request("ps"), 10)
        secret = os.path.join(tempfile.mkdtemp(prefix="ls-source-"), "secret.py")
        with open(secret, "w") as f:
            f.write("TOKEN = 'not for clients'\n")
        os.chmod(secret, 0o600)
        p = Problems("source")
        own = c.request("source", file=lib.STALLS_PY, line=1, context=0).get("result", {})
        with open(lib.STALLS_PY) as f:
            first = f.readline().rstrip("\n")
        p.check(own.get("lines") == [first], "stalls.py: %s" % str(own)[:200])
        err = c.request("source", file=secret, line=1).get("error", {})
        p.check(err.get("code") == "not_found" and "only its own files are served" in err.get("message", ""),
                "secret.py: %s" % err)
        p.raise_if_any()


# as daemon: a task runs code compiled under each file name given (any
# name: a process says what its frames' files are)
CLAIMS_PY = r"""
import asyncio, sys
async def main():
    held = []
    for path in sys.argv[1:]:
        ns = {"asyncio": asyncio}
        exec(compile("async def hold():\n    await asyncio.sleep(3600)\n", path, "exec"), ns)
        held.append(asyncio.ensure_future(ns["hold"]()))
    await asyncio.sleep(0)
    print("READY {}", flush=True)
    await asyncio.gather(*held)
asyncio.run(main())
"""


@lib.timeout(60)
def test_agent_source_as_the_peer_may_read():
    """A daemon's target whose frames name a root-only file and a readable
    one: as daemon, source serves the readable one and refuses the other
    (what daemon could not read itself); root is served both."""
    d = open_dir()
    files = {}
    for name, mode in (("secret.py", 0o600), ("shared.py", 0o644)):
        files[name] = os.path.join(d, name)
        with open(files[name], "w") as f:
            f.write("# %s\n" % name)
        os.chmod(files[name], mode)
    argv = as_user("daemon") + [lib.python("debian-3.11").path, "-c", CLAIMS_PY, files["secret.py"], files["shared.py"]]
    with Target(argv, name="claims.py as daemon") as t, \
            Agent([t.pid], ["--allow", "daemon"], socket_path=os.path.join(d, "a.sock")) as a:
        a.wait_listening()
        c = a.client()
        lib.wait_until(lambda: "result" in c.request("ps"), 10)
        p = Problems("source as the peer")

        def source(prefix, name):
            lines = connect_as(prefix, a.socket, {"id": 1, "method": "source", "file": files[name], "line": 1,
                                                  "context": 0})
            return lines[0] if lines else {}
        got = source(as_user("daemon"), "shared.py")
        p.check(got.get("result", {}).get("lines") == ["# shared.py"], "daemon, shared.py: %s" % got)
        got = source(as_user("daemon"), "secret.py")
        p.check(got.get("error") == {"code": "not_found", "message": "uid %d may not read %s" % (
            pwd.getpwnam("daemon").pw_uid, files["secret.py"])}, "daemon, secret.py: %s" % got)
        got = source([], "secret.py")
        p.check(got.get("result", {}).get("lines") == ["# secret.py"], "root, secret.py: %s" % got)
        p.raise_if_any()


# started as root, becomes daemon (setresuid) when told "go", as services do
DROPS_PY = r"""
import asyncio, os, sys
async def main():
    print("READY {}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    os.setresgid(1, 1, 1)
    os.setresuid(1, 1, 1)
    print('{"event": "now_daemon"}', flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


@lib.timeout(60)
def test_agent_owner_follows_setuid():
    """A target started as root that becomes daemon: daemon does not see it
    before, sees it (hello, ps) once it has changed its uid; the agent logs
    the new owner."""
    with Target([lib.python("debian-3.11").path, "-c", DROPS_PY], name="drops.py") as t, \
            Agent([t.pid], ["--allow", "daemon"], socket_path=os.path.join(open_dir(), "a.sock")) as a:
        a.wait_listening()
        p = Problems("owner after setuid")

        def daemon_sees():
            lines = connect_as(as_user("daemon"), a.socket, {"id": 1, "method": "hello"})
            return [x["pid"] for x in lines[0].get("result", {}).get("targets", [])] if lines else None
        p.check(daemon_sees() == [], "before: daemon sees %s" % daemon_sees())
        t.go()
        t.wait_event("now_daemon", 10)
        lib.wait_until(lambda: daemon_sees() == [t.pid], 5)
        p.check(daemon_sees() == [t.pid], "after: daemon sees %s" % daemon_sees())
        lines = connect_as(as_user("daemon"), a.socket, {"id": 1, "method": "ps", "pid": t.pid})
        p.check(lines and lines[0].get("result", {}).get("pid") == t.pid, "ps: %s" % str(lines)[:200])
        p.check(any("PID %d: now owned by uid 1 (was uid 0)" % t.pid in l for l in list(a.stderr)),
                "not logged: %s" % list(a.stderr)[-3:])
        p.raise_if_any()
