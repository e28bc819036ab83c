# SPDX-License-Identifier: GPL-2.0-only
"""The per-version tables loopscope reads CPython with
(agent/cpython/layout_3_X.c and aio_layout_3_X.c) are generated, not
typed: regenerating them from each installed pyenv CPython (or the
Debian testing root's, for 3.14 and 3.15) of
agent/cpython/versions.def (tools/gen-layouts.sh into a temporary
directory) gives the committed files byte for byte. A Python this machine
does not have is a skipped case."""
import difflib
import os
import subprocess
import tempfile

import lib

GEN_LAYOUTS = os.path.join(lib.ROOT, "tools", "gen-layouts.sh")
TABLES_DIR = os.path.join(lib.ROOT, "agent", "cpython")


def regenerate(prefix, out_dir):
    res = subprocess.run([GEN_LAYOUTS, out_dir, prefix], capture_output=True, text=True,
                         timeout=100, env=dict(os.environ, PYTHON="/usr/bin/python3"))
    if res.returncode:
        raise AssertionError("%s %s %s exited %d:\n%s%s" % (
            GEN_LAYOUTS, out_dir, prefix, res.returncode, res.stdout, res.stderr))


def compare(problems, committed, generated):
    if not os.path.exists(committed):
        problems.add("%s is not committed" % os.path.relpath(committed, lib.ROOT))
        return
    with open(committed) as f:
        want = f.readlines()
    with open(generated) as f:
        got = f.readlines()
    diff = list(difflib.unified_diff(want, got, "committed/" + os.path.basename(committed),
                                     "regenerated/" + os.path.basename(generated)))
    problems.check(not diff, "%s differs from its regeneration:\n%s" % (
        os.path.relpath(committed, lib.ROOT), "".join(diff)))


@lib.timeout(120)
@lib.each_python(lib.PYENV_VERSIONS)
def test_layout_tables_regenerate(interp):
    major, minor = interp.version
    if interp.root:   # a Debian root: headers from libpython3.X-dev, DWARF from -dbg
        prefix = "%s:%d.%d" % (interp.root, major, minor)
    else:
        prefix = os.path.dirname(os.path.dirname(interp.path))   # .../versions/3.X.Y
    problems = lib.Problems("Python %s's tables (%s)" % (interp.name, prefix))
    with tempfile.TemporaryDirectory() as tmp:
        regenerate(prefix, tmp)
        for table in ("layout_%d_%d.c", "aio_layout_%d_%d.c"):
            name = table % (major, minor)
            compare(problems, os.path.join(TABLES_DIR, name), os.path.join(tmp, name))
    problems.raise_if_any()
