"""CPython reference for the Java "lock-handoff" scenario.

Two children pass one multiprocessing.Lock back and forth --handoffs times:
a shared turn counter (a RawValue, changed only under the lock) says whose
turn it is.  Each child waits (spinning, without the lock) until it is its
turn, then does `with lock: turn += 1`.  With --inside 1 the turn is checked
only under the lock instead: `with lock: if turn % 2 == me: turn += 1`, so
every failed check is one more lock acquisition (the Java side's second
row).  A round trip is two hand-offs.

Prints key=value lines: handoffs, total_s, work_s, round_trip_us
(work_s / (handoffs / 2) in microseconds), turns (final counter, must equal
handoffs).  total/work are defined in _common.py.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402


def handoff_child(idx, gate, lock, turn, handoffs, inside):
    gate.ready_and_wait()
    handoff(idx, lock, turn, handoffs, inside)
    gate.done(idx)


def handoff(idx, lock, turn, handoffs, inside=False):
    while True:
        if not inside:
            while True:
                seen = turn.value
                if seen >= handoffs or seen % 2 == idx:
                    break
        with lock:
            t = turn.value
            if t >= handoffs:
                break
            if t % 2 == idx:
                turn.value = t + 1


def first_run(handoffs):
    """The program as a user writes it: two children pass the lock, join."""
    t0 = time.monotonic_ns()
    lock = multiprocessing.Lock()
    turn = multiprocessing.RawValue("q", 0)
    _common.start_join([(handoff, (0, lock, turn, handoffs)), (handoff, (1, lock, turn, handoffs))])
    t1 = time.monotonic_ns()
    _common.emit_first_run(t0, t1, turn.value == handoffs)


def main():
    args = _common.parse_args(
        "Two processes passing a Lock back and forth.",
        [("handoffs", 100000, "number of hand-offs (a round trip is two)"),
         ("inside", 0, "1: check the turn only under the lock"),
         ("first-run", 0, "1: only the first-run program (no ready/go gate)")])
    if args.first_run:
        first_run(args.handoffs)
        return
    lock = multiprocessing.Lock()
    turn = multiprocessing.RawValue("q", 0)
    total_s, work_s = _common.run_children(2, handoff_child,
                                           (lock, turn, args.handoffs,
                                            bool(args.inside)))
    if turn.value != args.handoffs:
        _common.warn("turn %d != handoffs %d" % (turn.value, args.handoffs))
    _common.emit("handoffs", args.handoffs)
    _common.emit("total_s", total_s)
    _common.emit("work_s", work_s)
    _common.emit("round_trip_us", work_s / (args.handoffs / 2) * 1e6)
    _common.emit("turns", turn.value)


if __name__ == "__main__":
    main()
