# SPDX-License-Identifier: GPL-2.0-only
"""The kernel's own count of the run time of loopscope's BPF programs
(bpf_stats), shared by bench/overhead's methods. Importing it has no side
effects."""
import json
import subprocess

BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"


def bpf_stats(enable):
    """Turns the kernel's per-program run time accounting on or off (it
    costs two clock reads per program run, paid in the attached mode only);
    returns the previous setting, None when it cannot be changed."""
    try:
        with open(BPF_STATS) as f:
            old = f.read().strip()
        with open(BPF_STATS, "w") as f:
            f.write("1" if enable else "0")
        return old
    except OSError:
        return None


def loopscope_bpf_ns():
    """Total run time so far of loopscope's BPF programs (named ls_*)."""
    try:
        out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True,
                             text=True, timeout=10).stdout
        return sum(p.get("run_time_ns", 0) for p in json.loads(out)
                   if p.get("name", "").startswith("ls_"))
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
