"""CPython reference for the Java "shareable-double" scenario.

Measures doubling in place every int of a
multiprocessing.shared_memory.ShareableList(range(--items)), split into
contiguous halves (shares) over --processes children (default start method,
fork on Linux), each doing `sl[i] = sl[i] * 2` for its share: the seed
experiment of the ShareableList issue (CPython 3.8 took 67.9 s for 99,999
items, because its reader walked the offsets on every access; 3.11 keeps
them in a Python list).

Each child attaches by name (ShareableList(name=...)) and reads one item per
512 (one 4 KiB page of data and of formats) before signalling ready, as the
Java side does; after the go flag it doubles its share.  The parent then
checks every item.

Prints key=value lines: total_s, work_s, items, items_per_s (items / work_s),
verified (1 or 0).  total/work are defined in _common.py.

Resource tracker: children leave it alone (see shm_square.py); the parent
closes and unlinks.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402

from multiprocessing.shared_memory import ShareableList  # noqa: E402

PAGE_ITEMS = 512  # 8-byte slots (and format entries) per 4 KiB page


def share_bounds(n, processes, idx):
    return n * idx // processes, n * (idx + 1) // processes


def double_child(idx, gate, name, n, processes):
    sl = ShareableList(name=name)
    try:
        lo, hi = share_bounds(n, processes, idx)
        for i in range(lo, hi, PAGE_ITEMS):
            sl[i]
        gate.ready_and_wait()
        for i in range(lo, hi):
            sl[i] = sl[i] * 2
        gate.done(idx)
    finally:
        sl.shm.close()


def double_part(sl, lo, hi):
    for i in range(lo, hi):
        sl[i] = sl[i] * 2


def first_run(n):
    """The program as a user writes it: the list, two children double a half each, join."""
    t0 = time.monotonic_ns()
    sl = ShareableList(range(n))
    half = n // 2
    _common.start_join([(double_part, (sl, 0, half)), (double_part, (sl, half, n))])
    t1 = time.monotonic_ns()
    verified = all(sl[i] == 2 * i for i in range(n))
    sl.shm.close()
    sl.shm.unlink()
    _common.emit_first_run(t0, t1, verified)


def main():
    args = _common.parse_args(
        "Doubling every int of a ShareableList in place.",
        [("items", 99999, "number of ints in the list"),
         ("processes", 2, "number of child processes"),
         ("first-run", 0, "1: only the first-run program (no ready/go gate)")])
    n, processes = args.items, args.processes
    if args.first_run:
        first_run(n)
        return
    if n < 1 or processes < 1:
        raise SystemExit("--items and --processes must be >= 1")

    sl = ShareableList(range(n))
    try:
        total_s, work_s = _common.run_children(
            processes, double_child, (sl.shm.name, n, processes))
        bad = next((i for i in range(n) if sl[i] != 2 * i), None)
        if bad is not None:
            _common.warn("item %d is %r, expected %d" % (bad, sl[bad], 2 * bad))
    finally:
        sl.shm.close()
        sl.shm.unlink()

    _common.emit("total_s", total_s)
    _common.emit("work_s", work_s)
    _common.emit("items", n)
    _common.emit("items_per_s", n / work_s)
    _common.emit("verified", 1 if bad is None else 0)


if __name__ == "__main__":
    main()
