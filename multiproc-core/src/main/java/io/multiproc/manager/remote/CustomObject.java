package io.multiproc.manager.remote;

import io.multiproc.codec.HandleSource;

import java.io.ObjectStreamException;
import java.io.Serializable;

/**
 * What every proxy of a custom type implements besides its exposed interface, so that it travels
 * like other shared objects: a proxy class implementing this declares {@code writeReplace()}, which
 * the codec and JDK serialization both call; the {@link CustomHandle} it returns re-creates the proxy
 * in the receiving process. Public only because proxy classes need public interfaces.
 */
public interface CustomObject extends HandleSource, Serializable {
    /** The proxy's handle (called by serialization; not for users). */
    Object writeReplace() throws ObjectStreamException;
}
