# SPDX-License-Identifier: GPL-2.0-only
"""The BPF objects of loopscope runs: the links and programs a process holds
(its fds), those loaded in the kernel (bpftool)."""
import json
import os
import shutil
import subprocess
import time


def bpf_link_fds(pid):
    """How many BPF links process pid holds (None if it is gone)."""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:bpf_link":
                    n += 1
            except OSError:
                pass
    except OSError:
        return None
    return n


def bpf_objects(prefix="ls_"):
    """loopscope's BPF programs and links loaded in the kernel now:
    ({prog id: name}, {link id: prog id}) for programs named prefix*."""
    def show(kind):
        # bpftool fails now and then when an object goes away while it lists
        # them (other loopscope runs come and go): try again
        for attempt in range(5):
            r = subprocess.run(["bpftool", "--json", kind, "show"], capture_output=True,
                               text=True, timeout=20)
            if r.returncode == 0:
                return json.loads(r.stdout or "[]")
            time.sleep(0.1)
        raise AssertionError("bpftool %s show failed (exit %s): %s %s" % (
            kind, r.returncode, r.stdout.strip()[:300], r.stderr.strip()[:300]))

    progs = {p["id"]: p.get("name", "") for p in show("prog")
             if p.get("name", "").startswith(prefix)}
    links = {l["id"]: l.get("prog_id") for l in show("link") if l.get("prog_id") in progs}
    return progs, links


def bpf_ids_held(pid):
    """(prog ids, link ids) of the BPF fds process pid holds now."""
    progs, links = set(), set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return progs, links
    for fd in fds:
        try:
            kind = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if kind == "anon_inode:bpf-prog" and "prog_id" in info:
            progs.add(int(info["prog_id"]))
        elif kind == "anon_inode:bpf_link" and "link_id" in info:
            links.add(int(info["link_id"]))
    return progs, links


def have_bpftool():
    return shutil.which("bpftool") is not None
