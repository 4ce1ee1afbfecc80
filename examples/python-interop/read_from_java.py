"""Direction 1: Java created the data, Python maps the same names and reads them without copying.

Usage: python3 read_from_java.py ARRAY_NAME DATA_OFFSET LENGTH LIST_NAME
(PythonInterop.java runs it.)  Reads the SharedDoubleArray through numpy (or memoryview when
numpy is missing), doubles it in place, reads the ShareableList and writes back into it.
"""

import sys
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory, ShareableList


def attach(shm):
    # Python 3.11's resource tracker unlinks, at this process's exit, every segment it opened,
    # even one it only attached to: this script does not own these, Java does.
    resource_tracker.unregister(shm._name, "shared_memory")
    return shm


def main():
    array_name, offset, length, list_name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

    shm = attach(SharedMemory(name=array_name))
    try:
        import numpy as np
    except ImportError:
        np = None
        print("numpy is not installed: skipping the numpy part (reading through memoryview.cast('d'), also zero-copy)")
    if np is not None:
        a = np.ndarray((length,), dtype=np.float64, buffer=shm.buf, offset=offset)  # no copy
        print("python numpy sum=%.1f a[10]=%.1f" % (a.sum(), a[10]))
        a *= 2  # in place: Java sees it
        del a
    else:
        a = shm.buf[offset:offset + 8 * length].cast("d")
        print("python memoryview sum=%.1f a[10]=%.1f" % (sum(a), a[10]))
        for i in range(length):
            a[i] *= 2
        a.release()
    shm.close()

    sl = ShareableList(name=list_name)
    attach(sl.shm)
    print("python list=%r" % (list(sl),))
    sl[0] = sl[0] + 1       # an int
    sl[1] = "from python"   # a str that fits its slot
    sl[2] = 2.75            # a float
    sl.shm.close()


if __name__ == "__main__":
    main()
