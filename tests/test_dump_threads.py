# SPDX-License-Identifier: GPL-2.0-only
"""`dump` says how many OS threads have no Python state (tests/targets/
os_threads.py makes them with pthread_create), instead of leaving them out
silently."""
import json
import os

import lib
from lib import Problems, Target

OS_THREADS_PY = os.path.join(lib.TARGETS_DIR, "os_threads.py")


@lib.timeout(60)
@lib.each_python(["3.10", "3.13", "debian-3.11"])
def test_dump_counts_os_threads_without_python_state(interp):
    with Target([interp.path, OS_THREADS_PY, "--native", "4"],
                name="os_threads.py@%s" % interp.name) as t:
        p = Problems("OS threads without Python state on %s" % interp.name)
        r = lib.run_loopscope(["dump", t.pid, "--json"], timeout=30)
        p.check(r.returncode == 0, "dump --json exit %s" % r.returncode)
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        tids = sorted(x["tid"] for x in doc.get("threads", []))
        p.check(tids == sorted(t.info["python_tids"]), "Python threads %s, want %s" % (
            tids, sorted(t.info["python_tids"])))
        others = doc.get("other_threads", [])
        p.check(len(others) == t.info["native"] and not set(x["tid"] for x in others) & set(tids),
                "other_threads %s, want %d threads apart from the Python ones" % (
                    others, t.info["native"]))
        text = lib.run_loopscope(["dump", t.pid], timeout=30)
        p.check("4 more OS threads without Python state" in text.stdout,
                "text dump does not say '4 more OS threads without Python state'")
        p.raise_if_any()
