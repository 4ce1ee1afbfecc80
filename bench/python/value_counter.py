"""CPython reference for the Java "value-counter" scenario.

Measures contended increments of a shared multiprocessing.Value('i', 0) by
--processes children (default start method, fork on Linux), each doing
--increments increments, in two variants:

* locked:   `with v.get_lock(): v.value += 1`  (no lost updates)
* unlocked: `v.value += 1`  (the read and the write each take the lock
            separately, so concurrent increments are lost)

Prints key=value lines: expected, locked_total_s, locked_work_s,
locked_count, unlocked_total_s, unlocked_work_s, unlocked_count,
unlocked_lost.  total/work are defined in _common.py.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402


def locked_child(idx, gate, v, increments):
    lock = v.get_lock()
    gate.ready_and_wait()
    for _ in range(increments):
        with lock:
            v.value += 1
    gate.done(idx)


def unlocked_child(idx, gate, v, increments):
    gate.ready_and_wait()
    for _ in range(increments):
        v.value += 1
    gate.done(idx)


def locked_loop(v, increments):
    for _ in range(increments):
        with v.get_lock():
            v.value += 1


def first_run(processes, increments):
    """The program as a user writes it: Value, start the children, join them."""
    t0 = time.monotonic_ns()
    v = multiprocessing.Value("i", 0)
    _common.start_join([(locked_loop, (v, increments))] * processes)
    t1 = time.monotonic_ns()
    _common.emit_first_run(t0, t1, v.value == processes * increments)


def run_variant(target, processes, increments):
    v = multiprocessing.Value("i", 0)
    total_s, work_s = _common.run_children(processes, target,
                                           (v, increments))
    return total_s, work_s, v.value


def main():
    args = _common.parse_args(
        "Shared Value counter, locked vs unlocked increments.",
        [("processes", 2, "number of child processes"),
         ("increments", 100000, "increments per child"),
         ("first-run", 0, "1: only the first-run program (no ready/go gate)")])
    if args.first_run:
        first_run(args.processes, args.increments)
        return
    expected = args.processes * args.increments
    if expected >= 2 ** 31:
        raise SystemExit("processes*increments overflows Value('i')")

    l_total, l_work, l_count = run_variant(locked_child, args.processes,
                                           args.increments)
    u_total, u_work, u_count = run_variant(unlocked_child, args.processes,
                                           args.increments)
    if l_count != expected:
        _common.warn("locked count %d != expected %d" % (l_count, expected))

    _common.emit("expected", expected)
    _common.emit("locked_total_s", l_total)
    _common.emit("locked_work_s", l_work)
    _common.emit("locked_count", l_count)
    _common.emit("unlocked_total_s", u_total)
    _common.emit("unlocked_work_s", u_work)
    _common.emit("unlocked_count", u_count)
    _common.emit("unlocked_lost", expected - u_count)


if __name__ == "__main__":
    main()
