package io.multiproc.codec;

/**
 * Marks the small record a shared object travels as: the result of the object's
 * {@code writeReplace()}, whose {@code readResolve()} attaches to the same shared memory in the
 * receiving process. The built-in codec writes such a record compactly (a well-known class index and
 * its components, no JDK serialization) and calls its {@code readResolve()} when it decodes it, exactly
 * where JDK serialization would; JDK serialization keeps working through the same two methods.
 *
 * <pre>{@code
 * // a sketch of how multiproc's own shared objects use it (MappedObject is internal):
 * public final class SharedThing extends MappedObject implements Serializable {
 *     Object writeReplace() { return new Handle(name()); }
 *
 *     record Handle(String name) implements Serializable, SharedHandle {
 *         Object readResolve() throws ObjectStreamException { return SharedThing.attach(name); }
 *     }
 * }
 * }</pre>
 *
 * <p>For multiproc's own shared objects (subclasses of {@code io.multiproc.internal.MappedObject});
 * the codec looks for {@code writeReplace()} only on those. A handle record's components must be types
 * the built-in codec writes.
 */
public interface SharedHandle {
}
