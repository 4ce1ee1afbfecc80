"""CPython reference for the Java "queue-throughput" scenario.

One producer child puts --items small ints (0, 1, 2, ...) on a
multiprocessing.Queue; one consumer child gets them all and checks their
sum.  The work phase ends when the consumer has received the last item
(the producer's put() returns before its feeder thread has written the
item, so the consumer's end is the one that counts).

Prints key=value lines: items, total_s, work_s, msgs_per_s (items /
work_s), sum_ok (1 if the consumer's sum was right).  total/work are
defined in _common.py.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402


def queue_child(idx, gate, queue, items, sum_ok):
    gate.ready_and_wait()
    if idx == 0:
        for i in range(items):
            queue.put(i)
    else:
        total = 0
        for _ in range(items):
            total += queue.get()
        sum_ok.value = 1 if total == items * (items - 1) // 2 else 0
    gate.done(idx)


def produce(queue, items):
    for i in range(items):
        queue.put(i)


def consume(queue, items, total):
    s = 0
    for _ in range(items):
        s += queue.get()
    total.value = s


def first_run(items):
    """The program as a user writes it: a producer and a consumer child, join."""
    t0 = time.monotonic_ns()
    queue = multiprocessing.Queue()
    total = multiprocessing.RawValue("q", 0)
    _common.start_join([(produce, (queue, items)), (consume, (queue, items, total))])
    t1 = time.monotonic_ns()
    _common.emit_first_run(t0, t1, total.value == items * (items - 1) // 2)


def main():
    args = _common.parse_args(
        "One process sends small ints to another through multiprocessing.Queue.",
        [("items", 200000, "number of ints to send"),
         ("first-run", 0, "1: only the first-run program (no ready/go gate)")])
    if args.first_run:
        first_run(args.items)
        return
    queue = multiprocessing.Queue()
    sum_ok = multiprocessing.RawValue("i", 0)
    total_s, work_s = _common.run_children(2, queue_child,
                                           (queue, args.items, sum_ok))
    if not sum_ok.value:
        _common.warn("consumer's sum was wrong")
    _common.emit("items", args.items)
    _common.emit("total_s", total_s)
    _common.emit("work_s", work_s)
    _common.emit("msgs_per_s", args.items / work_s)
    _common.emit("sum_ok", bool(sum_ok.value))


if __name__ == "__main__":
    main()
