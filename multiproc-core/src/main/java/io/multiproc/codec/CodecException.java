package io.multiproc.codec;

/**
 * A value could not be encoded (the message names its class), or bytes could not be decoded.
 * An {@link IllegalArgumentException}, as {@link java.util.concurrent.BlockingQueue#put} documents for
 * an element that cannot be added.
 */
public class CodecException extends IllegalArgumentException {
    public CodecException(String message) {
        super(message);
    }

    public CodecException(String message, Throwable cause) {
        super(message, cause);
    }
}
