# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the TUI's tests: `loopscope tui` in a pane of a private tmux
server (Debian's tmux: send-keys, capture-pane, resize-window), and the
checks that decide whether they can run."""
import os
import shlex
import shutil
import subprocess
import time

import lib
from agentlib import Agent


def require_tui():
    """Skips (with the reason) unless the binary has both `agent` and `tui`
    and tmux is installed."""
    if not shutil.which("tmux"):
        raise lib.Skip("tmux is not installed (apt-get install tmux)")
    out = subprocess.run([lib.loopscope_bin(), "--help"], capture_output=True, text=True).stdout
    for cmd in ("agent", "tui"):
        if not any(l.split()[:1] == [cmd] for l in out.splitlines()):
            raise lib.Skip("`loopscope %s` is not in %s yet (the %s branch is not merged)" %
                           (cmd, lib.loopscope_bin(), cmd))


def debian():
    return lib.python("debian-3.11")


class started:
    """`with started(target) as agent`: the agent on target, listening."""

    def __init__(self, target, *agent_args):
        self.agent = Agent([target.pid], extra=agent_args)

    def __enter__(self):
        self.agent.__enter__()
        return self.agent.wait_listening()

    def __exit__(self, *exc):
        self.agent.__exit__(*exc)


class Tui:
    """`loopscope tui ARGS` alone in a tmux pane of its own tmux server.
    After the TUI exits the pane keeps the shell's last words
    (`TUI-EXIT=<status>`), so that what the terminal was left in is seen."""

    def __init__(self, args, width=80, height=24, env=None, lang="C.UTF-8", command="tui", prefix=()):
        """prefix: a command the TUI runs under (e.g. setpriv as another user)."""
        self.server = "loopscope-test-%d-%d" % (os.getpid(), id(self) % 10000)
        self.command = command
        self.args = list(prefix) + [lib.loopscope_bin(), command] + [str(a) for a in args]
        self.width, self.height = width, height
        self.env = dict(env or {})
        self.env.setdefault("LANG", lang)
        self.env.setdefault("TERM", "tmux-256color")
        self.last = ""
        lib.describe_on_failure(self)

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.server, "-f", "/dev/null"] + list(args),
                           capture_output=True, text=True, timeout=10)
        if check and r.returncode:
            raise AssertionError("tmux %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def __enter__(self):
        envs = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in self.env.items())
        # no core file from the crash test
        cmd = "ulimit -c 0; env %s %s; echo TUI-EXIT=$?; sleep 600" % (envs, " ".join(map(shlex.quote, self.args)))
        lib.log("tui:", cmd)
        self.tmux("new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height), cmd)
        self.tmux("set-option", "-g", "status", "off")
        return self

    def __exit__(self, *exc):
        self.tmux("kill-server", check=False)

    def screen(self, escapes=False):
        args = ["capture-pane", "-p", "-t", "t"] + (["-e"] if escapes else [])
        self.last = self.tmux(*args)
        return self.last

    def wait_for(self, pred, timeout=15, what=None):
        """Until pred(screen text) is true (a string: is on the screen)."""
        test = (lambda s: pred in s) if isinstance(pred, str) else pred
        got = lib.wait_until(lambda: test(self.screen()), timeout, interval=0.1)
        if not got:
            raise AssertionError("the screen never showed %s within %ss:\n%s" %
                                 (what or repr(pred), timeout, self.last))
        return self.last

    def keys(self, *keys, literal=False):
        self.tmux("send-keys", "-t", "t", *(["-l"] if literal else []), *keys)
        time.sleep(0.15)

    def type(self, text):
        self.keys(text, literal=True)

    def open_filtered(self, text, shown, what):
        """`/` text Enter, until shown(screen) holds, then Enter on the row
        left selected: the details of what the filter kept."""
        self.keys("/")
        self.type(text)
        self.keys("Enter")
        self.wait_for(shown, 5, what)
        self.keys("Enter")

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))
        time.sleep(0.3)

    def pane(self, fmt):
        return self.tmux("display-message", "-p", "-t", "t", fmt).strip()

    def tui_pid(self):
        """The TUI process (the pane's shell's child)."""
        shell = int(self.pane("#{pane_pid}"))
        kids = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True).stdout.split()
        for k in kids:
            try:
                with open("/proc/%s/cmdline" % k, "rb") as f:
                    if self.command.encode() in f.read():
                        return int(k)
            except OSError:
                pass
        return None

    def describe(self):
        return "tmux pane of `%s` (%dx%d), last screen:\n%s" % (
            " ".join(self.args), self.width, self.height, lib.trim(self.last, 60))
