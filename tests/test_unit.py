# SPDX-License-Identifier: GPL-2.0-only
"""The C unit tests (tests/unit/test_*.c, built by `make test` and `make
check`): one case per source file, so the summary line counts them. Each
binary must exist (a source without its binary is a failure, not a skip)
and pass every check."""
import glob
import os
import subprocess

import lib

UNIT_DIR = os.path.join(lib.TESTS_DIR, "unit")


def unit_cases():
    for src in sorted(glob.glob(os.path.join(UNIT_DIR, "test_*.c"))):
        name = os.path.basename(src)[:-2]
        yield lib.Param(name, name)


@lib.timeout(60)
@lib.params(unit_cases())
def test_unit(name):
    binary = os.path.join(os.path.dirname(lib.loopscope_bin()), "unit", name)
    if not os.access(binary, os.X_OK):
        raise AssertionError("%s is missing: run `make check` first" % binary)
    res = subprocess.run([binary], capture_output=True, text=True, timeout=50)
    lines = res.stdout.splitlines()
    failed = [l for l in lines if l.startswith("FAIL") or l.startswith("    ")]
    ok = [l for l in lines if l.startswith("ok ")]
    assert res.returncode == 0 and not failed, \
        "%s exited %d:\n%s%s" % (name, res.returncode, res.stdout, res.stderr)
    assert ok, "%s ran no test:\n%s" % (name, res.stdout)
