package io.multiproc.codec;

/** Holds the default codec instance, created on first use. */
final class DefaultCodecHolder {
    static final Codec DEFAULT = BuiltinCodec.builder().build();

    private DefaultCodecHolder() {
    }
}
