# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the agent's tests: an agent run on a private socket and a
protocol client (docs/protocol.md), plain sockets, no library."""
import json
import os
import socket
import tempfile
import time

import lib


def free_port():
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Agent(lib.Loopscope):
    """`loopscope agent PIDS --socket TMP`; .socket once it listens."""

    def __init__(self, pids, extra=(), socket_path=None):
        self.dir = tempfile.mkdtemp(prefix="ls-agent-")
        self.socket = socket_path or os.path.join(self.dir, "agent.sock")
        super().__init__(["agent"] + [str(p) for p in pids] + ["--socket", self.socket] + list(extra),
                         name="loopscope agent")

    def wait_listening(self, timeout=20):
        if not lib.wait_until(lambda: any(l.strip() == self.socket for _, l in self.lines) or
                              self.proc.poll() is not None, timeout):
            raise AssertionError("the agent did not listen within %ds" % timeout)
        if self.proc.poll() is not None:
            raise AssertionError("the agent exited with %s" % self.proc.returncode)
        return self

    def client(self):
        return Client(self.socket)


class Client:
    """One connection: request() returns the answer with the same id;
    events that arrive meanwhile are kept in .events."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.next_id = 1

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_line(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("the agent closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def read_answer(self, rid=None, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            msg = self.read_line(max(0.01, deadline - time.monotonic()))
            if "event" in msg:
                self.events.append((time.time(), msg))
                continue
            if rid is None or msg.get("id") == rid:
                return msg

    def request(self, method, timeout=10, **params):
        rid = self.next_id
        self.next_id += 1
        self.send_raw((json.dumps(dict(params, id=rid, method=method)) + "\n").encode())
        return self.read_answer(rid, timeout)

    def result(self, method, **params):
        msg = self.request(method, **params)
        if "result" not in msg:
            raise AssertionError("%s answered %s" % (method, msg))
        return msg["result"]

    def wait_event(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for _, ev in self.events:
                if pred(ev):
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                msg = self.read_line(left)
            except (socket.timeout, TimeoutError):
                return None
            if "event" in msg:
                self.events.append((time.time(), msg))

    def wait_events(self, pred, count, timeout):
        """Waits until `count` events match pred; returns those that do
        (fewer after timeout)."""
        def matching():
            return [ev for _, ev in self.events if pred(ev)]
        self.wait_event(lambda ev: pred(ev) and len(matching()) >= count, timeout)
        return matching()
