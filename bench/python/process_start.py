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


def main():
    args = _common.parse_args(
        "Process start+join latency per start method.",
        [("fork", 20, "fork repetitions (0 = skip)"),
         ("spawn", 10, "spawn repetitions (0 = skip)"),
         ("forkserver", 10, "forkserver repetitions (0 = skip)")])

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
