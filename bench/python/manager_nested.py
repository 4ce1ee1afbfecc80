"""CPython reference for the Java "manager-nested" scenario (seed 001's operations).

CPython stores a plain list or dict inside a managed container as a copy, so changing it in place is
lost; the documented workaround is to read the copy, change it, and assign it back.  Per round:
ls[1][0] += 1, d["inner"].append(i), d["counts"]["a"] += 1, ns.y.append(i) -- each written with the
reassign-the-copy workaround -- in one process.

Prints key=value lines: rounds, op_us (per nested change), lost_in_place (1 if the in-place form
ls[1][0] += 1 was lost, as documented), total_s.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import _common  # noqa: E402


def main():
    args = _common.parse_args("Nested changes through Manager containers.", [("rounds", 2000, "rounds of 4 changes")])
    t0 = time.monotonic_ns()
    with multiprocessing.Manager() as m:
        ls = m.list([0, [0, 0]])
        d = m.dict({"inner": [1], "counts": {"a": 1}})
        ns = m.Namespace()
        ns.y = [1, 2]
        ls[1][0] += 1  # the natural form: silently lost
        lost = ls[1][0] == 0
        w0 = time.monotonic_ns()
        for i in range(args.rounds):
            inner = ls[1]
            inner[0] += 1
            ls[1] = inner
            di = d["inner"]
            di.append(i)
            d["inner"] = di
            c = d["counts"]
            c["a"] += 1
            d["counts"] = c
            y = ns.y
            y.append(i)
            ns.y = y
        w1 = time.monotonic_ns()
    _common.emit("rounds", args.rounds)
    _common.emit("op_us", (w1 - w0) / (4 * args.rounds) / 1e3)
    _common.emit("lost_in_place", lost)
    _common.emit("total_s", (time.monotonic_ns() - t0) / _common.NS_PER_S)


if __name__ == "__main__":
    main()
