package io.multiproc.shared;

import java.lang.foreign.ValueLayout;

/** The element types of shared values and arrays, with the Python typecodes that map to them. */
enum NumberKind {
    INT(1, ValueLayout.JAVA_INT, "i"),
    LONG(2, ValueLayout.JAVA_LONG, "l", "q"),
    DOUBLE(3, ValueLayout.JAVA_DOUBLE, "d");

    /** The code stored in the segment header's kind field; never reuse one. */
    final int code;
    final ValueLayout layout;
    final String[] typecodes;

    NumberKind(int code, ValueLayout layout, String... typecodes) {
        this.code = code;
        this.layout = layout;
        this.typecodes = typecodes;
    }

    long bytes() {
        return layout.byteSize();
    }

    /** Python's ctypes typecode: i (C int), l and q (64-bit on Linux), d (C double). */
    static NumberKind ofTypecode(String typecode) {
        for (NumberKind k : values()) {
            for (String t : k.typecodes) {
                if (t.equals(typecode)) {
                    return k;
                }
            }
        }
        throw new IllegalArgumentException("typecode='" + typecode + "' is not supported; use 'i' (int), 'l' or 'q' (long), 'd' (double)");
    }
}
