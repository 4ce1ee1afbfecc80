"""CPython reference for the Java "manager-list-append" scenario (seed 000).

--procs children each append --appends ints to one multiprocessing.Manager().list(); the parent then
reads the list and checks its length and sum.  Also the baseline people use instead: each child builds
a local list and sends it once through a multiprocessing.Queue.

With --first-run 1, only seed 000 as a user writes it, run once: first_run_s (Manager start to its
shutdown, the list read before) and verified.

Prints key=value lines: manager_total_s (Manager start, children start, appends, joins, final read),
manager_work_s (appends only, go-flag pattern of _common.py), queue_total_s, queue_work_s, appends_per_s,
ok (1 if every count and sum was right).
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import _common  # noqa: E402


def append_child(idx, gate, ls, appends):
    base = idx * appends
    gate.ready_and_wait()
    for i in range(appends):
        ls.append(base + i)
    gate.done(idx)


def queue_child(idx, gate, q, appends):
    base = idx * appends
    gate.ready_and_wait()
    local = []
    for i in range(appends):
        local.append(base + i)
    q.put(local)
    gate.done(idx)


def plain_append(base, ls, appends):
    for i in range(appends):
        ls.append(base + i)


def first_run(procs, appends):
    """Seed 000 as a user writes it: Manager, start the children, join them, read the list, shut down."""
    n = procs * appends
    t0 = time.monotonic_ns()
    with multiprocessing.Manager() as m:
        ls = m.list()
        _common.start_join([(plain_append, (c * appends, ls, appends)) for c in range(procs)])
        values = list(ls)
    t1 = time.monotonic_ns()
    _common.emit_first_run(t0, t1, len(values) == n and sum(values) == n * (n - 1) // 2)


def main():
    args = _common.parse_args("Children append to one Manager().list().",
                              [("procs", 4, "child processes"), ("appends", 10000, "appends per child"),
                               ("first-run", 0, "1: only the first-run program (no ready/go gate)")])
    if args.first_run:
        first_run(args.procs, args.appends)
        return
    n = args.procs * args.appends
    expected = n * (n - 1) // 2
    t0 = time.monotonic_ns()
    with multiprocessing.Manager() as m:
        ls = m.list()
        _, work_s = _common.run_children(args.procs, append_child, (ls, args.appends))
        values = list(ls)
    manager_total_s = (time.monotonic_ns() - t0) / _common.NS_PER_S
    ok = len(values) == n and sum(values) == expected

    t0 = time.monotonic_ns()
    q = multiprocessing.Queue()
    results = []
    ctx = multiprocessing.get_context()
    gate = _common.Gate(ctx, args.procs)
    procs = [ctx.Process(target=queue_child, args=(i, gate, q, args.appends)) for i in range(args.procs)]
    for p in procs:
        p.start()
    for _ in range(args.procs):
        gate.ready.acquire()
    go = time.monotonic_ns()
    gate.go.set()
    for _ in range(args.procs):
        results.extend(q.get())
    got = time.monotonic_ns()
    for p in procs:
        p.join()
    _common.check_exits(procs)
    queue_total_s = (time.monotonic_ns() - t0) / _common.NS_PER_S
    queue_work_s = (got - go) / _common.NS_PER_S
    ok = ok and len(results) == n and sum(results) == expected

    _common.emit("manager_total_s", manager_total_s)
    _common.emit("manager_work_s", work_s)
    _common.emit("queue_total_s", queue_total_s)
    _common.emit("queue_work_s", queue_work_s)
    _common.emit("appends_per_s", n / work_s)
    _common.emit("ok", ok)


if __name__ == "__main__":
    main()
