"""CPython reference for the Java "shm-square" scenario.

Measures in-place squaring of --doubles float64 values held in a
multiprocessing.shared_memory.SharedMemory block, split into contiguous
shares over --processes children (default start method, fork on Linux).

The parent creates the block and fills it with (i % 1000) as float64 (so
every square is exact); each child attaches by name and wraps it in a numpy
array and reads one double per page (so the mapping's page faults fall
before the timed phase, as on the Java side) before signalling ready; after the go flag it runs
np.square(x, out=x) over its share.  The parent then checks every element
against the exact expected value.

Prints key=value lines: total_s, work_s, bytes_moved (n*16: one read and one
write per double), gbps (bytes_moved / work_s / 1e9), verified (1 or 0).
total/work are defined in _common.py.

Resource-tracker note: the brief suggested children call
resource_tracker.unregister() after attaching.  That is wrong for
multiprocessing children on 3.11: fork, spawn and forkserver children all
share the parent's tracker process, whose registry is a set, so a child's
REGISTER is a no-op and a child's UNREGISTER removes the *parent's* entry;
the parent's unlink() then makes the tracker print a KeyError traceback.
Children therefore leave the tracker alone; the parent closes and unlinks.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402

import numpy as np  # noqa: E402
from multiprocessing import shared_memory  # noqa: E402

CHUNK = 1 << 20  # elements per fill/verify chunk (keeps temporaries small)


def share_bounds(n, processes, idx):
    return n * idx // processes, n * (idx + 1) // processes


def square_child(idx, gate, name, n, processes):
    shm = shared_memory.SharedMemory(name=name)
    try:
        a = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
        lo, hi = share_bounds(n, processes, idx)
        x = a[lo:hi]
        # Touch one double per 4 KiB page so that the page faults of this
        # fresh mapping happen before the go flag (the Java side does the same).
        float(x[::512].sum())
        gate.ready_and_wait()
        np.square(x, out=x)
        gate.done(idx)
        del x, a
    finally:
        shm.close()


def square_part(name, n, lo, hi):
    shm = shared_memory.SharedMemory(name=name)
    a = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
    np.square(a[lo:hi], out=a[lo:hi])
    del a
    shm.close()


def first_run(n):
    """The program as a user writes it: create, fill, two children square a half each, join."""
    t0 = time.monotonic_ns()
    shm = shared_memory.SharedMemory(create=True, size=n * 8)
    a = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
    np.remainder(np.arange(n, dtype=np.float64), 1000.0, out=a)
    half = n // 2
    _common.start_join([(square_part, (shm.name, n, 0, half)),
                        (square_part, (shm.name, n, half, n))])
    t1 = time.monotonic_ns()
    verified = verify(a)
    del a
    shm.close()
    shm.unlink()
    _common.emit_first_run(t0, t1, verified)


def fill(a):
    n = a.shape[0]
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        np.remainder(np.arange(lo, hi, dtype=np.float64), 1000.0,
                     out=a[lo:hi])


def verify(a):
    n = a.shape[0]
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        expect = np.remainder(np.arange(lo, hi, dtype=np.float64), 1000.0)
        np.square(expect, out=expect)
        if not np.array_equal(a[lo:hi], expect):
            bad = lo + int(np.flatnonzero(a[lo:hi] != expect)[0])
            _common.warn("mismatch at %d: got %r, expected %r"
                         % (bad, float(a[bad]), float((bad % 1000) ** 2)))
            return False
    return True


def main():
    args = _common.parse_args(
        "In-place squaring of a SharedMemory float64 array.",
        [("doubles", 20000000, "number of float64 elements"),
         ("processes", 2, "number of child processes"),
         ("first-run", 0, "1: only the first-run program (no ready/go gate)")])
    n, processes = args.doubles, args.processes
    if args.first_run:
        first_run(n)
        return
    if n < 1 or processes < 1:
        raise SystemExit("--doubles and --processes must be >= 1")

    shm = shared_memory.SharedMemory(create=True, size=n * 8)
    try:
        a = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)
        fill(a)
        total_s, work_s = _common.run_children(
            processes, square_child, (shm.name, n, processes))
        verified = verify(a)
        del a
    finally:
        shm.close()
        shm.unlink()

    bytes_moved = n * 16
    _common.emit("total_s", total_s)
    _common.emit("work_s", work_s)
    _common.emit("bytes_moved", bytes_moved)
    _common.emit("gbps", bytes_moved / work_s / 1e9)
    _common.emit("verified", 1 if verified else 0)


if __name__ == "__main__":
    main()
