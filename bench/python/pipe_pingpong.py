"""CPython reference for the Java "pipe-pingpong" scenario.

Two children bounce a message over one duplex multiprocessing.Pipe
--round-trips times: child 0 sends and waits for the answer, child 1
answers each message.  Run twice: with send()/recv() of a small int
(pickled, as most code does) and with send_bytes()/recv_bytes() of 8 bytes.

Prints key=value lines: round_trips; total_s, work_s, round_trip_us for
send/recv; bytes_total_s, bytes_work_s, bytes_round_trip_us for
send_bytes/recv_bytes.  total/work are defined in _common.py.
"""

import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/python/ free of __pycache__

import _common  # noqa: E402


def pingpong_child(idx, gate, conns, round_trips, raw):
    conn = conns[idx]
    payload = b"\0" * 8
    gate.ready_and_wait()
    if idx == 0:
        for i in range(round_trips):
            if raw:
                conn.send_bytes(payload)
                conn.recv_bytes()
            else:
                conn.send(i)
                conn.recv()
    else:
        for _ in range(round_trips):
            if raw:
                conn.send_bytes(conn.recv_bytes())
            else:
                conn.send(conn.recv())
    gate.done(idx)


def pong(conn, round_trips):
    for _ in range(round_trips):
        conn.send(conn.recv())


def ping(conn, round_trips, answered):
    for i in range(round_trips):
        conn.send(i)
        if conn.recv() == i:
            answered.value += 1


def first_run(round_trips):
    """The program as a user writes it: a ponger and a pinger child over one Pipe, join."""
    t0 = time.monotonic_ns()
    left, right = multiprocessing.Pipe(duplex=True)
    answered = multiprocessing.RawValue("q", 0)
    _common.start_join([(pong, (right, round_trips)), (ping, (left, round_trips, answered))])
    t1 = time.monotonic_ns()
    _common.emit_first_run(t0, t1, answered.value == round_trips)


def main():
    args = _common.parse_args(
        "Two processes bounce a message over a Pipe.",
        [("round-trips", 20000, "number of round trips"),
         ("first-run", 0, "1: only the first-run program (no ready/go gate)")])
    if args.first_run:
        first_run(args.round_trips)
        return
    trips = args.round_trips
    for raw, prefix in ((False, ""), (True, "bytes_")):
        conns = multiprocessing.Pipe(duplex=True)
        total_s, work_s = _common.run_children(2, pingpong_child,
                                               (conns, trips, raw))
        _common.emit(prefix + "total_s", total_s)
        _common.emit(prefix + "work_s", work_s)
        _common.emit(prefix + "round_trip_us", work_s / trips * 1e6)
    _common.emit("round_trips", trips)


if __name__ == "__main__":
    main()
