"""CPython reference for the "manager-custom call" row of "manager-remote".

A custom class registered with a BaseManager subclass (served by its
manager process over the default Unix socket) and called --calls times
through its proxy.

Prints key=value lines: calls; total_s (manager start to shutdown); work_s
(the calls).
"""

import os
import sys
import time
from multiprocessing.managers import BaseManager

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402


class Counter:
    def __init__(self):
        self.n = 0

    def increment(self):
        self.n += 1
        return self.n


class CounterManager(BaseManager):
    pass


CounterManager.register("Counter", Counter)


def main():
    args = _common.parse_args("Calls of a custom type's method through a manager proxy.",
                              [("calls", 10000, "number of calls")])
    start = time.monotonic_ns()
    manager = CounterManager()
    manager.start()
    counter = manager.Counter()
    t0 = time.monotonic_ns()
    for _ in range(args.calls):
        counter.increment()
    t1 = time.monotonic_ns()
    assert counter.increment() == args.calls + 1
    manager.shutdown()
    end = time.monotonic_ns()
    _common.emit("calls", args.calls)
    _common.emit("total_s", (end - start) / _common.NS_PER_S)
    _common.emit("work_s", (t1 - t0) / _common.NS_PER_S)


if __name__ == "__main__":
    main()
