# SPDX-License-Identifier: GPL-2.0-only
"""Unretrieved exceptions are reported with the text Python's str() gives
them (tests/targets/exc_text.py renders each one itself): OSError's
errno/strerror/filename forms, KeyError's repr, several args as a tuple;
a custom __str__, which cannot run from outside, is said to be one."""
import os

import lib
import test_watch
from lib import Problems, Target

EXC_TEXT_PY = os.path.join(lib.TARGETS_DIR, "exc_text.py")


@lib.timeout(60)
@lib.each_python()
def test_unretrieved_exception_text_is_str_of_it(interp):
    with Target([interp.path, EXC_TEXT_PY], name="exc_text.py@%s" % interp.name) as t:
        ls, rc = test_watch.run_watch(t)
        p = Problems("exception text on %s" % interp.name)
        p.check(rc == 0, "watch exit %s" % rc)
        got = {e.get("task"): e for _, e in ls.events() if e["event"] == "unretrieved_exception"}
        for exp in t.events("expect"):
            ev = got.get(exp["task"])
            if not p.check(ev, "no unretrieved_exception for task %s; got %s" % (
                    exp["task"], sorted(got))):
                continue
            if exp.get("custom"):
                text = ev["exception"]
                p.check(text.startswith("%s: " % exp["type"]) and exp["arg"] in text and
                        "cannot run from outside" in text,
                        "task %s: %r does not show its args and say its __str__ was not run" % (
                            exp["task"], text))
            else:
                p.check(ev["exception"] == exp["exception"], "task %s: exception %r, want %r" % (
                    exp["task"], ev["exception"], exp["exception"]))
        p.raise_if_any()


@lib.timeout(60)
@lib.each_python(["3.12", "3.14", "3.15", "debian-3.11"])
def test_watch_says_pure_python_tasks_are_not_seen(interp):
    with Target([interp.path, EXC_TEXT_PY, "--py-task"], name="exc_text.py@%s" % interp.name) as t:
        ls, rc = test_watch.run_watch(t)
        p = Problems("_PyTask on %s" % interp.name)
        p.check(rc == 0, "watch exit %s" % rc)
        lost = [e for _, e in ls.events() if e["event"] == "unretrieved_exception"]
        said = [l for l in ls.stderr if "_PyTask" in l and "not" in l]
        p.check(lost or said, "no event and no word that _PyTask's lost work is not seen: %s" %
                ls.stderr)
        p.raise_if_any()
