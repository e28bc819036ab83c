# SPDX-License-Identifier: GPL-2.0-only
"""A Python process with OS threads that have no Python state (as a C
library's pool or uvloop's resolver threads would), for `loopscope dump`:
--native N threads made by pthread_create on libc's sleep() (no Python
code runs in them, so no thread state), plus one threading.Thread.
READY {"native": N, "python_tids": [...]} once all exist."""
import argparse
import ctypes
import json
import sys
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--native", type=int, default=4)
args = ap.parse_args()
libc = ctypes.CDLL(None)
libc.pthread_create.argtypes = [ctypes.POINTER(ctypes.c_ulong), ctypes.c_void_p, ctypes.c_void_p,
                                ctypes.c_void_p]
sleep = ctypes.cast(libc.sleep, ctypes.c_void_p)
for _ in range(args.native):
    tid = ctypes.c_ulong()
    if libc.pthread_create(ctypes.byref(tid), None, sleep, ctypes.c_void_p(3600)):
        sys.exit("pthread_create failed")
parked = threading.Event()
worker = threading.Thread(target=parked.wait, name="python-worker", daemon=True)
worker.start()
print("READY " + json.dumps({"native": args.native,
                             "python_tids": [threading.get_native_id(), worker.native_id]}),
      flush=True)
parked.wait()
