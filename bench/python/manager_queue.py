"""CPython reference for the Java "redis-queue" scenario.

Queue 1->1 through Manager().Queue(): one child process puts --items items, the parent gets them all.
Prints key=value lines: work_s (from go to the parent's last get), per_item_us, total_s, ok.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import _common  # noqa: E402


def producer(idx, gate, q, n):
    gate.ready_and_wait()
    for i in range(n):
        q.put(i)
    gate.done(idx)


def main():
    args = _common.parse_args("Queue 1->1 through Manager().Queue().", [("items", 10000, "items to pass")])
    t_start = time.monotonic_ns()
    with multiprocessing.Manager() as m:
        q = m.Queue()
        ctx = multiprocessing.get_context()
        gate = _common.Gate(ctx, 1)
        p = ctx.Process(target=producer, args=(0, gate, q, args.items))
        p.start()
        gate.ready.acquire()
        t0 = time.monotonic_ns()
        gate.go.set()
        total = 0
        for _ in range(args.items):
            total += q.get()
        t1 = time.monotonic_ns()
        p.join()
        _common.check_exits([p])
    work_s = (t1 - t0) / _common.NS_PER_S
    _common.emit("work_s", work_s)
    _common.emit("per_item_us", work_s * 1e6 / args.items)
    _common.emit("total_s", (time.monotonic_ns() - t_start) / _common.NS_PER_S)
    _common.emit("ok", total == args.items * (args.items - 1) // 2)


if __name__ == "__main__":
    main()
