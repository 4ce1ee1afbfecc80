"""Direction 2: Python creates the data, Java attaches by name, reads it without copying and writes back.

Usage: python3 create_for_java.py LENGTH
(PythonInterop.java runs it.)  Creates a SharedMemory holding LENGTH float64s (through numpy when it
is installed) and a ShareableList, prints their names, waits for Java to write "done" on stdin,
then checks what Java wrote and removes both segments.
"""

import sys
from multiprocessing.shared_memory import SharedMemory, ShareableList


def main():
    length = int(sys.argv[1])
    shm = SharedMemory(create=True, size=8 * length)
    sl = ShareableList([0, "from python", 1.5, None, b"\x01\x02"])
    try:
        import numpy as np
    except ImportError:
        np = None
        print("numpy is not installed: skipping the numpy part (writing through memoryview.cast('d'))")
    if np is not None:
        a = np.ndarray((length,), dtype=np.float64, buffer=shm.buf)
        a[:] = np.arange(length, dtype=np.float64)
    else:
        a = shm.buf.cast("d")
        for i in range(length):
            a[i] = float(i)
    print("array=%s" % shm.name)
    print("list=%s" % sl.shm.name, flush=True)

    line = sys.stdin.readline().strip()  # Java is reading and writing now
    if line != "done":
        raise SystemExit("expected 'done' from Java, got %r" % line)
    print("python sees a[10]=%.1f a[-1]=%.1f" % (a[10], a[length - 1]))
    print("python sees list=%r" % (list(sl),))
    if np is not None:
        del a
    else:
        a.release()
    shm.close()
    shm.unlink()
    sl.shm.close()
    sl.shm.unlink()


if __name__ == "__main__":
    main()
