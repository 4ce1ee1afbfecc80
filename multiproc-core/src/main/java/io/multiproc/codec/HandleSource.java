package io.multiproc.codec;

/**
 * Marks a multiproc shared object that travels as the {@link SharedHandle} its {@code writeReplace()}
 * returns but cannot extend {@code io.multiproc.internal.MappedObject}, such as a manager's list proxy
 * (an {@code AbstractList}). The codec treats both alike: it looks for {@code writeReplace()} only on them.
 */
public interface HandleSource {
}
