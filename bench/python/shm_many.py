"""CPython reference for the Java "shm-many" scenario.

Creates --segments multiprocessing.shared_memory.SharedMemory blocks of 8 bytes, then closes and
unlinks each (the resource tracker registers and unregisters every one, as it does for any program).

Prints key=value lines: create_s, close_s (close + unlink of all).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

import _common  # noqa: E402

from multiprocessing import shared_memory  # noqa: E402


def main():
    args = _common.parse_args("Many small shared memory blocks.", [("segments", 2000, "blocks")])
    t0 = time.monotonic_ns()
    blocks = [shared_memory.SharedMemory(create=True, size=8) for _ in range(args.segments)]
    t1 = time.monotonic_ns()
    for b in blocks:
        b.close()
        b.unlink()
    t2 = time.monotonic_ns()
    _common.emit("create_s", (t1 - t0) / _common.NS_PER_S)
    _common.emit("close_s", (t2 - t1) / _common.NS_PER_S)


if __name__ == "__main__":
    main()
