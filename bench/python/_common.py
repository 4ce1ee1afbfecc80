"""Shared helpers for the CPython reference benchmarks in bench/python/.

Kept deliberately small and import-light (standard library only) because
spawn/forkserver children re-import the main script, and with it this module.

Timing conventions (shared with the Java harness):

* total -- from just before the child Process objects are created until all
  children have been joined.
* first_run -- the program a user writes, run once (--first-run 1): from
  its first call (creating the shared object) to the last join, with no
  ready/go gate; the Java side runs the same program in a fresh JVM.
* work  -- children are started, each signals "ready" and blocks on a go
  Event; the parent records t0 = time.monotonic_ns() immediately before
  setting go; each child writes time.monotonic_ns() into a shared int64 array
  when its work is finished; work = max(end) - t0.  monotonic_ns() is
  CLOCK_MONOTONIC on Linux, so values are comparable across processes.
"""

import argparse
import multiprocessing
import sys
import time

NS_PER_S = 1e9


def parse_args(description, spec):
    """spec: list of (name, default, help) for non-negative int options."""
    parser = argparse.ArgumentParser(description=description)
    for name, default, help_text in spec:
        parser.add_argument("--" + name, type=_non_negative_int,
                            default=default, help=help_text)
    return parser.parse_args()


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0: %r" % text)
    return value


def emit(key, value):
    """Print one key=value line; floats as fixed-point seconds (ns precision)."""
    if isinstance(value, float):
        text = "%.9f" % value
    elif isinstance(value, bool):
        text = "1" if value else "0"
    else:
        text = str(value)
    sys.stdout.write("%s=%s\n" % (key, text))
    sys.stdout.flush()


def warn(message):
    sys.stderr.write("warning: %s\n" % message)
    sys.stderr.flush()


class Gate:
    """Ready/go/end-time bookkeeping shared between parent and children.

    Picklable while a Process is being started, so it also works with the
    spawn and forkserver start methods.
    """

    def __init__(self, ctx, nprocs):
        self.ready = ctx.Semaphore(0)
        self.go = ctx.Event()
        self.ends = ctx.RawArray("q", nprocs)  # int64 end times (ns)

    # --- child side -------------------------------------------------------
    def ready_and_wait(self):
        self.ready.release()
        self.go.wait()

    def done(self, idx):
        self.ends[idx] = time.monotonic_ns()


def start_join(targets):
    """The first-run programs' ending: start a Process per (target, args) in order, then join them all
    in order, as a user's program does.  Raises RuntimeError if a child failed."""
    procs = [multiprocessing.Process(target=t, args=a) for t, a in targets]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    check_exits(procs)


def check_exits(procs):
    """Raises RuntimeError if a joined child failed: its numbers would time work it did not do."""
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    if bad:
        raise RuntimeError("child process failed, exit codes %r" % bad)


def emit_first_run(started_ns, ended_ns, verified):
    """Prints first_run_s (from the program's first call to its last join) and verified."""
    emit("first_run_s", (ended_ns - started_ns) / NS_PER_S)
    emit("verified", bool(verified))


def _child_main(target, idx, gate, args):
    target(idx, gate, *args)


def run_children(nprocs, target, args=(), ctx=None, ready_timeout=120.0):
    """Run `nprocs` children of target(idx, gate, *args) with the go-flag pattern.

    The target must do its setup, call gate.ready_and_wait(), do the measured
    work, then call gate.done(idx).  Returns (total_s, work_s).  Raises
    RuntimeError if a child fails (after making sure every child is joined).
    """
    if ctx is None:
        ctx = multiprocessing.get_context()  # platform default: fork on Linux
    gate = Gate(ctx, nprocs)
    procs = []
    t_start = time.monotonic_ns()
    try:
        for idx in range(nprocs):
            p = ctx.Process(target=_child_main, args=(target, idx, gate, args))
            p.start()
            procs.append(p)
        deadline = time.monotonic() + ready_timeout
        for _ in range(nprocs):
            while not gate.ready.acquire(timeout=0.2):
                dead = [p for p in procs if p.exitcode is not None]
                if dead:
                    raise RuntimeError("child exited before signalling ready "
                                       "(exitcode %s)" % dead[0].exitcode)
                if time.monotonic() > deadline:
                    raise RuntimeError("children did not become ready in time")
        t0 = time.monotonic_ns()
        gate.go.set()
        for p in procs:
            p.join()
        t_end = time.monotonic_ns()
    finally:
        # Only reached with live children on an error path: never leave any.
        for p in procs:
            if p.exitcode is None:
                p.terminate()
        for p in procs:
            p.join()
    check_exits(procs)
    ends = list(gate.ends)
    if min(ends) == 0:
        raise RuntimeError("a child did not record its end time")
    return (t_end - t_start) / NS_PER_S, (max(ends) - t0) / NS_PER_S
