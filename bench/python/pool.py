"""CPython reference for the Java "pool-*" scenarios (multiprocessing.Pool).

--scenario map-tiny:      Pool(2).map(square, range(--items)) with the default chunk size, on
                          --trials fresh pools. total_s: the first pool's creation + map +
                          close/join (the program as written); work_s: the median of the maps alone
                          (work_min_s, work_max_s: their range). With --first-run 1, only the
                          program as written, once: first_run_s (Pool(2) to join) and verified.
--scenario apply-latency: one tiny Pool.apply round trip on an idle Pool(2), --round-trips times
                          from the first call (first_median_us), then --round-trips times after
                          calling for --warm-up-s seconds more (median_us, p99_us, calls_before).
--scenario map-cpu:       count primes below --limit by trial division, split in 64 chunks,
                          Pool(2).map with chunksize 1; total_s (with Pool creation), work_s.
--scenario worker-death:  Pool(1) runs a busy task; its worker gets SIGKILL; waits --wait-s for
                          the result: CPython never delivers one (gh-66587), so hung=1.

Prints key=value lines.
"""

import argparse
import multiprocessing
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402


def square(x):
    return x * x


def nothing(x):
    return x


def count_primes(bounds):
    lo, hi = bounds
    n = 0
    for k in range(max(lo, 2), hi):
        d = 2
        prime = True
        while d * d <= k:
            if k % d == 0:
                prime = False
                break
            d += 1
        if prime:
            n += 1
    return n


def busy(_):
    while True:
        pass


def worker_pid(_):
    return os.getpid()


def map_tiny(items, trials):
    total = None
    works = []
    for _ in range(trials):
        t0 = time.monotonic_ns()
        pool = multiprocessing.Pool(2)
        t1 = time.monotonic_ns()
        out = pool.map(square, range(items))
        t2 = time.monotonic_ns()
        pool.close()
        pool.join()
        t3 = time.monotonic_ns()
        assert out[-1] == (items - 1) ** 2
        if total is None:
            total = (t3 - t0) / 1e9
        works.append((t2 - t1) / 1e9)
    _common.emit("total_s", total)
    _common.emit("work_s", statistics.median(works))
    _common.emit("work_min_s", min(works))
    _common.emit("work_max_s", max(works))


def map_tiny_first_run(items):
    """The program as a user writes it, run once: Pool(2), map, close, join."""
    t0 = time.monotonic_ns()
    pool = multiprocessing.Pool(2)
    out = pool.map(square, range(items))
    pool.close()
    pool.join()
    t1 = time.monotonic_ns()
    _common.emit_first_run(t0, t1, len(out) == items and all(out[i] == i * i for i in range(items)))


def apply_latency(trips, warm_up_s):
    with multiprocessing.Pool(2) as pool:
        pool.apply(nothing, (0,))  # the workers are up, as the Java side's awaitReady
        first = []
        for i in range(trips):
            t0 = time.perf_counter_ns()
            pool.apply(nothing, (i,))
            first.append(time.perf_counter_ns() - t0)
        calls = trips
        end = time.monotonic() + warm_up_s
        while time.monotonic() < end:
            pool.apply(nothing, (calls,))
            calls += 1
        times = []
        for i in range(trips):
            t0 = time.perf_counter_ns()
            pool.apply(nothing, (i,))
            times.append(time.perf_counter_ns() - t0)
    first.sort()
    times.sort()
    _common.emit("first_median_us", statistics.median(first) / 1e3)
    _common.emit("median_us", statistics.median(times) / 1e3)
    _common.emit("p99_us", times[int(len(times) * 0.99)] / 1e3)
    _common.emit("calls_before", calls)


def map_cpu(limit):
    chunks = 64
    bounds = [(limit * i // chunks, limit * (i + 1) // chunks) for i in range(chunks)]
    t0 = time.monotonic_ns()
    pool = multiprocessing.Pool(2)
    t1 = time.monotonic_ns()
    total = sum(pool.map(count_primes, bounds, 1))
    t2 = time.monotonic_ns()
    pool.close()
    pool.join()
    t3 = time.monotonic_ns()
    _common.emit("primes", total)
    _common.emit("total_s", (t3 - t0) / 1e9)
    _common.emit("work_s", (t2 - t1) / 1e9)


def worker_death(wait_s):
    pool = multiprocessing.Pool(1)
    pid = pool.apply(worker_pid, (0,))
    result = pool.apply_async(busy, (0,))
    time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    try:
        result.get(timeout=wait_s)
        hung = 0
    except multiprocessing.TimeoutError:
        hung = 1
    except Exception:  # noqa: BLE001 - any failure is "did not hang"
        hung = 0
    pool.terminate()
    pool.join()
    _common.emit("hung", hung)
    _common.emit("waited_s", float(wait_s))


def main():
    parser = argparse.ArgumentParser(description="multiprocessing.Pool scenarios.")
    parser.add_argument("--scenario", required=True,
                        choices=["map-tiny", "apply-latency", "map-cpu", "worker-death"])
    parser.add_argument("--items", type=int, default=1000000)
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--warm-up-s", type=float, default=0.05)
    parser.add_argument("--limit", type=int, default=200000)
    parser.add_argument("--wait-s", type=int, default=2)
    parser.add_argument("--first-run", type=int, default=0, help="1: only the first-run program (map-tiny)")
    args = parser.parse_args()
    if args.scenario == "map-tiny" and args.first_run:
        map_tiny_first_run(args.items)
    elif args.scenario == "map-tiny":
        map_tiny(args.items, args.trials)
    elif args.scenario == "apply-latency":
        apply_latency(args.round_trips, args.warm_up_s)
    elif args.scenario == "map-cpu":
        map_cpu(args.limit)
    else:
        worker_death(args.wait_s)


if __name__ == "__main__":
    main()
