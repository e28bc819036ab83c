# SPDX-License-Identifier: GPL-2.0-only
"""The target Pythons of this machine, for lib.each_python() and
lib.python(): pyenv builds of the versions agent/cpython/versions.def lists,
the Debian testing root of `make roots` (tools/make-root.sh) for 3.14 and
3.15, whose interpreters run through chroot wrappers that keep the PID (so
their cases are container cases too), and Debian's python3.11.
"""
import glob
import os
import re
import shutil
import subprocess

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS_DIR)

VERSIONS_DEF = os.path.join(ROOT, "agent", "cpython", "versions.def")


def supported_versions():
    """("3.10", "3.11", ...): the PY_VERSION(major, minor) lines of
    agent/cpython/versions.def, the list loopscope itself is built from."""
    with open(VERSIONS_DEF) as f:
        return tuple("%s.%s" % v for v in
                     re.findall(r"^PY_VERSION\((\d+),\s*(\d+)\)", f.read(), re.M))


PYENV_VERSIONS = supported_versions()
DEBIAN_PYTHON = "/usr/bin/python3.11"
# The Debian testing root of `make roots` (tools/make-root.sh): the 3.14 and
# 3.15 targets run in it through chroot, so their cases are container cases.
TARGET_ROOT = os.environ.get("LOOPSCOPE_ROOT") or "/var/cache/loopscope/forky"
ROOT_WRAPPERS = os.path.join(ROOT, "build", "roots")
# The Pythons with uvloop: Debian's python3-uvloop on bookworm's 3.11 and in
# the testing root (forky's has no 3.15 build).
UVLOOP_PYTHONS = ("debian-3.11", "3.14")


def _version_key(path):
    return [int(x) if x.isdigit() else -1 for x in re.split(r"[.]", os.path.basename(path))]


class Interp:
    """A target Python: name ("3.12", "debian-3.11"), path (None if absent).
    One that runs in a root (root: its directory) has a path that is a
    wrapper chrooting into it, and exe, the interpreter as the target sees
    it (as the host sees it: host_exe)."""

    def __init__(self, name, path, version, missing=None, has_uvloop=False, root=None, exe=None):
        self.name = name
        self.path = path
        self.version = version        # (major, minor)
        self.missing = missing        # why it is absent, None if present
        self.has_uvloop = has_uvloop
        self.root = root
        self.exe = exe or path

    @property
    def host_exe(self):
        return self.root + self.exe if self.root else self.path

    def __repr__(self):
        return "Interp(%s, %s)" % (self.name, self.path)


def pyenv_root():
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def _find_pyenv(ver):
    base = os.path.join(pyenv_root(), "versions")
    dirs = [d for d in glob.glob(os.path.join(base, ver + ".*"))
            if re.fullmatch(re.escape(ver) + r"\.\d+", os.path.basename(d))]
    for d in sorted(dirs, key=_version_key, reverse=True):
        exe = os.path.join(d, "bin", "python" + ver)
        if os.access(exe, os.X_OK):
            return exe
    return None


_pythons = None


def _root_missing(exe):
    """Why the root's interpreter exe cannot run targets, None if it can."""
    if os.access(TARGET_ROOT + exe, os.X_OK):
        return None
    try:
        with open(TARGET_ROOT + ".failed") as f:
            why = f.read().strip()
    except OSError:
        why = "it is not built (make roots)"
    return "no %s in the Debian testing root %s: %s" % (exe, TARGET_ROOT, why)


def _prepare_root():
    """Mounts the root's /proc and copies the tests into it at the same
    path, so targets run from the paths the tests name."""
    proc = os.path.join(TARGET_ROOT, "proc")
    if not os.path.ismount(proc):
        subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)
    shutil.copytree(TESTS_DIR, TARGET_ROOT + TESTS_DIR, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))


def _root_python(ver):
    """The root's python3.X behind a wrapper that chroots into the root and
    execs it in the same directory: the same PID all the way."""
    exe = "/usr/bin/python" + ver
    missing = _root_missing(exe)
    version = tuple(int(x) for x in ver.split("."))
    if missing:
        return Interp(ver, None, version, missing=missing)
    _prepare_root()
    os.makedirs(ROOT_WRAPPERS, exist_ok=True)
    wrapper = os.path.join(ROOT_WRAPPERS, "python" + ver)
    with open(wrapper + ".tmp", "w") as f:
        f.write('#!/bin/sh\nexec chroot %s /bin/sh -c \'cd "$0" && exec %s "$@"\' "$PWD" "$@"\n'
                % (TARGET_ROOT, exe))
    os.chmod(wrapper + ".tmp", 0o755)
    os.rename(wrapper + ".tmp", wrapper)
    uv = subprocess.run([wrapper, "-c", "import uvloop"], capture_output=True).returncode == 0
    return Interp(ver, wrapper, version, has_uvloop=uv, root=TARGET_ROOT, exe=exe)


def pythons():
    """pyenv builds of PYENV_VERSIONS (else the Debian testing root's, for
    3.14 and 3.15) and Debian's python3.11, present or not."""
    global _pythons
    if _pythons is None:
        found = []
        for ver in PYENV_VERSIONS:
            exe = _find_pyenv(ver)
            if not exe and ver in ("3.14", "3.15"):
                found.append(_root_python(ver))
                continue
            found.append(Interp(ver, exe, tuple(int(x) for x in ver.split(".")),
                                missing=None if exe else "no pyenv build of Python %s under %s"
                                % (ver, os.path.join(pyenv_root(), "versions"))))
        ok = os.access(DEBIAN_PYTHON, os.X_OK)
        uv = ok and subprocess.run([DEBIAN_PYTHON, "-c", "import uvloop"],
                                   capture_output=True).returncode == 0
        found.append(Interp("debian-3.11", DEBIAN_PYTHON if ok else None, (3, 11),
                            missing=None if ok else "%s is not installed" % DEBIAN_PYTHON,
                            has_uvloop=uv))
        _pythons = found
    return _pythons
