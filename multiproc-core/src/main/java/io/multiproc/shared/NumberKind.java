package io.multiproc.shared;

import java.lang.foreign.ValueLayout;

/** The element types of shared values and arrays; {@link Typecode} maps Python typecodes onto them. */
enum NumberKind {
    INT(1, ValueLayout.JAVA_INT),
    LONG(2, ValueLayout.JAVA_LONG),
    DOUBLE(3, ValueLayout.JAVA_DOUBLE);

    /** The code stored in the segment header's kind field; never reuse one. */
    final int code;
    final ValueLayout layout;

    NumberKind(int code, ValueLayout layout) {
        this.code = code;
        this.layout = layout;
    }

    long bytes() {
        return layout.byteSize();
    }
}
