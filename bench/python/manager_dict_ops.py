"""CPython reference for the Java "manager-dict-ops" scenario.

Set and get on a 100-key Manager().dict(): --ops sets then --ops gets in one process, then 2 child
processes doing the same at once (contending on the manager's server).

Prints key=value lines: set_us, get_us (one process, per op), contended_set_us, contended_get_us
(per op of one process while the other runs), total_s.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import _common  # noqa: E402

KEYS = ["k%d" % i for i in range(100)]


def ops(d, n):
    t0 = time.monotonic_ns()
    for i in range(n):
        d[KEYS[i % 100]] = i
    t1 = time.monotonic_ns()
    for i in range(n):
        d[KEYS[i % 100]]
    t2 = time.monotonic_ns()
    return (t1 - t0) / n / 1e3, (t2 - t1) / n / 1e3


def contending_child(idx, gate, d, n, out):
    gate.ready_and_wait()
    s, g = ops(d, n)
    out[2 * idx] = s
    out[2 * idx + 1] = g
    gate.done(idx)


def main():
    args = _common.parse_args("Set/get on a 100-key Manager().dict().", [("ops", 20000, "sets (and gets) per process")])
    t0 = time.monotonic_ns()
    with multiprocessing.Manager() as m:
        d = m.dict()
        for k in KEYS:
            d[k] = 0
        set_us, get_us = ops(d, args.ops)
        out = multiprocessing.RawArray("d", 4)
        _common.run_children(2, contending_child, (d, args.ops, out))
    _common.emit("set_us", set_us)
    _common.emit("get_us", get_us)
    _common.emit("contended_set_us", (out[0] + out[2]) / 2)
    _common.emit("contended_get_us", (out[1] + out[3]) / 2)
    _common.emit("total_s", (time.monotonic_ns() - t0) / _common.NS_PER_S)


if __name__ == "__main__":
    main()
