"""CPython reference for the Java "manager-many" scenario.

One child process builds a Manager().dict() of --lists entries, each a list of 10 ints (stored by
value: CPython's natural form; a manager.list() per entry would be a proxy each), another child sums
every int.

Prints key=value lines: build_s, sum_s, total_s, sum_ok.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import _common  # noqa: E402


def build(d, n, out):
    t0 = time.monotonic_ns()
    for k in range(n):
        d[k] = list(range(10))
    out[0] = (time.monotonic_ns() - t0) / _common.NS_PER_S


def add_up(d, n, out):
    t0 = time.monotonic_ns()
    s = 0
    for v in d.values():
        s += sum(v)
    out[1] = (time.monotonic_ns() - t0) / _common.NS_PER_S
    out[2] = s


def main():
    args = _common.parse_args("A dict of many small lists.", [("lists", 100000, "entries")])
    out = multiprocessing.RawArray("d", 3)
    t0 = time.monotonic_ns()
    with multiprocessing.Manager() as m:
        d = m.dict()
        for target in (build, add_up):
            p = multiprocessing.Process(target=target, args=(d, args.lists, out))
            p.start()
            p.join()
            _common.check_exits([p])
    _common.emit("build_s", out[0])
    _common.emit("sum_s", out[1])
    _common.emit("total_s", (time.monotonic_ns() - t0) / _common.NS_PER_S)
    _common.emit("sum_ok", out[2] == 45 * args.lists)


if __name__ == "__main__":
    main()
