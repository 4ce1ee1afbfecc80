"""CPython reference for the Java "redis-lock-pairs" scenario.

Lock/unlock pairs on a Manager().Lock() proxy (each call is a round trip to the manager's server):
--pairs pairs in one process, then 2 child processes doing --pairs each at once on the same lock.

Prints key=value lines: one_pair_us (one process, per pair), two_pair_us (2 processes: work time over all
pairs of both), total_s.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import _common  # noqa: E402


def pairs(lock, n):
    for _ in range(n):
        lock.acquire()
        lock.release()


def contending_child(idx, gate, lock, n):
    gate.ready_and_wait()
    pairs(lock, n)
    gate.done(idx)


def main():
    args = _common.parse_args("Lock/unlock pairs on a Manager().Lock().", [("pairs", 5000, "pairs per process")])
    t0 = time.monotonic_ns()
    with multiprocessing.Manager() as m:
        lock = m.Lock()
        pairs(lock, 200)  # the proxy's connection, as the Java side warms up
        t1 = time.monotonic_ns()
        pairs(lock, args.pairs)
        one = (time.monotonic_ns() - t1) / args.pairs / 1e3
        _, work = _common.run_children(2, contending_child, (lock, args.pairs))
    _common.emit("one_pair_us", one)
    _common.emit("two_pair_us", work / (2 * args.pairs) * 1e6)
    _common.emit("total_s", (time.monotonic_ns() - t0) / _common.NS_PER_S)


if __name__ == "__main__":
    main()
