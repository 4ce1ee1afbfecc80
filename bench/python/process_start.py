"""CPython reference for the Java "process-start" scenario.

Measures the latency of starting and joining one multiprocessing.Process
with an empty target, sequentially, N times per start method (obtained via
multiprocessing.get_context(method)): --fork, --spawn, --forkserver give the
repetition counts; 0 skips that method and omits its keys.

Each sample is time.monotonic_ns() around Process(...) + start() + join().
For forkserver, one extra start+join is done first so the fork server is
already running for the timed samples; its time (which includes launching
the server) is reported as forkserver_first_s.

Prints key=value lines: fork_mean_s, fork_min_s, spawn_mean_s, spawn_min_s,
forkserver_mean_s, forkserver_min_s, forkserver_first_s.

With the default start method (what a user's program gets; fork on Linux up
to 3.13), the same programs as the Java side's rows:
--bursts 2,4,20 starts K processes at once, then joins them all (first start
to last join), the first burst in this interpreter: burst_K_s.
--back-to-back N does N start+joins in a row: back_to_back_mean_s,
back_to_back_max_s. default_method names the start method used.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402


def empty_target():
    pass


def start_join(ctx):
    t0 = time.monotonic_ns()
    p = ctx.Process(target=empty_target)
    p.start()
    p.join()
    dt = (time.monotonic_ns() - t0) / _common.NS_PER_S
    if p.exitcode != 0:
        raise RuntimeError("%s child exited with %r"
                           % (ctx.get_start_method(), p.exitcode))
    return dt


def burst(ctx, k):
    t0 = time.monotonic_ns()
    procs = [ctx.Process(target=empty_target) for _ in range(k)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    dt = (time.monotonic_ns() - t0) / _common.NS_PER_S
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    if bad:
        raise RuntimeError("burst children exited with %r" % bad)
    return dt


def main():
    # parse_args takes int options only; --bursts is a list, so it is split off first.
    bursts = []
    if "--bursts" in sys.argv:
        i = sys.argv.index("--bursts")
        bursts = [int(k) for k in sys.argv[i + 1].split(",") if k]
        del sys.argv[i:i + 2]
    args = _common.parse_args(
        "Process start+join latency per start method.",
        [("fork", 20, "fork repetitions (0 = skip)"),
         ("spawn", 10, "spawn repetitions (0 = skip)"),
         ("forkserver", 10, "forkserver repetitions (0 = skip)"),
         ("back-to-back", 0, "start+joins in a row with the default start method (0 = skip)")])

    default = multiprocessing.get_context()
    if bursts or args.back_to_back:
        _common.emit("default_method", default.get_start_method())
    for k in bursts:
        _common.emit("burst_%d_s" % k, burst(default, k))
    if args.back_to_back:
        samples = [start_join(default) for _ in range(args.back_to_back)]
        _common.emit("back_to_back_mean_s", sum(samples) / len(samples))
        _common.emit("back_to_back_max_s", max(samples))

    for method in ("fork", "spawn", "forkserver"):
        count = getattr(args, method)
        if count == 0:
            continue
        ctx = multiprocessing.get_context(method)
        first = start_join(ctx) if method == "forkserver" else None
        samples = [start_join(ctx) for _ in range(count)]
        _common.emit(method + "_mean_s", sum(samples) / len(samples))
        _common.emit(method + "_min_s", min(samples))
        if first is not None:
            _common.emit(method + "_first_s", first)


if __name__ == "__main__":
    main()
