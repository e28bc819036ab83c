# SPDX-License-Identifier: GPL-2.0-only
"""The _Py_DebugOffsets a 3.14 target publishes are untrusted input: a
target whose cookie, version, free-threaded flag or offsets were
overwritten (through /proc/PID/mem) is refused in one line naming why,
never misread."""
import re
import subprocess

import lib
from lib import Problems, Target

STALLS = ["--mode", "healthy", "--tasks", "3"]


def runtime_address(interp):
    """&_PyRuntime: Debian's python3.14 is not PIE, its symbol is the address."""
    out = subprocess.run(["readelf", "-sW", interp.host_exe], capture_output=True,
                         text=True).stdout
    m = re.search(r"^\s*\d+:\s+([0-9a-f]+)\s+\S+\s+OBJECT\s+GLOBAL\s+\S+\s+\S+\s+_PyRuntime$",
                  out, re.M)
    if not m:
        raise lib.Skip("no _PyRuntime symbol in %s" % interp.host_exe)
    return int(m.group(1), 16)


def poke(pid, addr, data):
    with open("/proc/%d/mem" % pid, "r+b", buffering=0) as f:
        f.seek(addr)
        f.write(data)


CASES = [
    ("cookie", 0, b"ydebugpy", r"_Py_DebugOffsets .* do not match"),
    ("version", 8, (0x03090000).to_bytes(8, "little"), r"_Py_DebugOffsets .* do not match"),
    ("free-threaded", 16, (1).to_bytes(8, "little"), r"free-threaded Python 3\.14"),
    # runtime_state.size, then an offset far past it
    ("offset past its struct", 24, (16).to_bytes(8, "little"), r"offset past its struct"),
]


@lib.timeout(60)
@lib.params(lib.Param(c[0], *c) for c in CASES)
def test_bad_debug_offsets_refused(what, off, data, message):
    interp = lib.python("3.14")
    p = Problems("_Py_DebugOffsets with a bad %s" % what)
    with Target.python(interp, *STALLS) as t:
        poke(t.pid, runtime_address(interp) + off, data)
        for cmd in ("dump", "ps"):
            r = lib.run_loopscope([cmd, t.pid])
            lines = r.stderr_lines()
            p.check(r.returncode == 1, "%s: exit %s, want 1" % (cmd, r.returncode))
            p.check(len(lines) == 1 and re.search(message, lines[0]),
                    "%s: stderr %r, want one line matching %r" % (cmd, lines, message))
            p.check(not r.stdout.strip(), "%s printed %r" % (cmd, r.stdout[:200]))
    p.raise_if_any()
