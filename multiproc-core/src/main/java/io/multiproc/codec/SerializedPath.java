package io.multiproc.codec;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * A default file system {@link Path} inside a JDK serialization stream (a serializable lambda's captured
 * argument, an application's Serializable class holding one): the JDK refuses the path itself, which is
 * not Serializable, so {@link JavaSerialization} writes this stand-in, and reading it back gives the path.
 * The built-in codec's own format writes a path natively ({@link WireFormat}, tag 0x2B).
 *
 * <pre>{@code
 * Path out = Path.of("/tmp/out.txt");
 * ChildProcess.start(() -> Files.writeString(out, "done"));   // the lambda's stream holds SerializedPath
 * }</pre>
 *
 * @param path the path's string form
 */
record SerializedPath(String path) implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    @Serial
    private Object readResolve() throws ObjectStreamException {
        try {
            return Path.of(path);
        } catch (java.nio.file.InvalidPathException e) {
            java.io.InvalidObjectException bad = new java.io.InvalidObjectException("path=" + path + " is not a path here");
            bad.initCause(e);
            throw bad;
        }
    }
}
