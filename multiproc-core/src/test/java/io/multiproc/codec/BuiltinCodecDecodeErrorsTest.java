package io.multiproc.codec;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;

import static io.multiproc.codec.CodecTesting.decode;
import static io.multiproc.codec.CodecTesting.encode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Input that makes the JVM throw an Error while decoding (a stack overflow, a class that cannot be
 * initialized or linked) fails as a {@link CodecException} like any other bad input: a queue that drains
 * several items fails that one item and keeps the others.
 */
class BuiltinCodecDecodeErrorsTest {
    private final Codec codec = Codec.defaultCodec();

    enum Side { BUY }

    /** Same name length as {@link Side}: its name replaces Side's in an encoding. */
    enum Bomb {
        BUY;
        static final int FUSE = explode();

        private static int explode() {
            throw new IllegalStateException("Bomb's initializer fails");
        }
    }

    record Hidden(int x) {
    }

    record Holder(Hidden hidden) {
    }

    /** A Path tag followed by no String, or by a string no path can be, fails that value with CodecException. */
    @Test
    void aMalformedPathFailsWithCodecException() {
        assertThatThrownBy(() -> decode(codec, new byte[] {(byte) WireFormat.PATH, (byte) WireFormat.INT, 2}))
                .isInstanceOf(CodecException.class).hasMessageContaining("not a String");
        byte[] nul = encode(codec, "a\0b");
        byte[] bytes = new byte[nul.length + 1];
        bytes[0] = (byte) WireFormat.PATH;
        System.arraycopy(nul, 0, bytes, 1, nul.length);
        assertThatThrownBy(() -> decode(codec, bytes)).isInstanceOf(CodecException.class).hasMessageContaining("not a path");
    }

    /** A primitive Optional of an unknown kind, or holding a value of another type, fails that value. */
    @Test
    void aMalformedPrimitiveOptionalFailsWithCodecException() {
        assertThatThrownBy(() -> decode(codec, new byte[] {(byte) WireFormat.OPTIONAL_PRIMITIVE, 9, (byte) WireFormat.NULL}))
                .isInstanceOf(CodecException.class).hasMessageContaining("kind=9");
        byte[] text = encode(codec, "x");
        byte[] bytes = new byte[text.length + 2];
        bytes[0] = (byte) WireFormat.OPTIONAL_PRIMITIVE;
        bytes[1] = 0;
        System.arraycopy(text, 0, bytes, 2, text.length);
        assertThatThrownBy(() -> decode(codec, bytes)).isInstanceOf(CodecException.class).hasMessageContaining("java.lang.String");
    }

    @Test
    void anInputWhoseHashingOverflowsTheStackFailsWithCodecException() {
        List<Object> list = new ArrayList<>();
        var entry = new AbstractMap.SimpleEntry<Object, Object>("k", list);
        list.add(entry); // a cycle: JDK serialization carries it, hashing it never ends
        byte[] bytes = encode(codec, List.of(entry));
        assertThat(bytes[0]).isEqualTo((byte) WireFormat.LIST);
        bytes[0] = (byte) WireFormat.SET; // a set hashes its elements while it is filled
        assertThatThrownBy(() -> decode(codec, bytes)).isInstanceOf(CodecException.class)
                .hasMessageContaining("StackOverflowError");
    }

    @Test
    void anEnumWhoseInitializerFailsFailsWithCodecException() {
        byte[] bytes = encode(codec, List.of(Side.BUY));
        replace(bytes, Side.class.getName(), Bomb.class.getName());
        for (int attempt = 0; attempt < 2; attempt++) { // ExceptionInInitializerError, then NoClassDefFoundError
            assertThatThrownBy(() -> decode(codec, bytes)).isInstanceOf(CodecException.class)
                    .hasMessageContaining(Bomb.class.getName());
        }
    }

    @Test
    void aRecordWhoseComponentClassIsMissingFailsNamingTheRecord() {
        byte[] bytes = encode(codec, new Holder(new Hidden(1)));
        Codec elsewhere = BuiltinCodec.builder().classLoader(new HidingLoader(Hidden.class.getName())).build();
        assertThatThrownBy(() -> decode(elsewhere, bytes)).isInstanceOf(CodecException.class)
                .hasMessageContaining("class=" + Holder.class.getName())
                .hasMessageContaining("NoClassDefFoundError");
    }

    private static void replace(byte[] bytes, String from, String to) {
        byte[] f = from.getBytes(StandardCharsets.UTF_8);
        byte[] t = to.getBytes(StandardCharsets.UTF_8);
        assertThat(t).hasSameSizeAs(f);
        for (int i = 0; i + f.length <= bytes.length; i++) {
            if (java.util.Arrays.equals(bytes, i, i + f.length, f, 0, f.length)) {
                System.arraycopy(t, 0, bytes, i, t.length);
                return;
            }
        }
        throw new AssertionError(from + " not in the encoding");
    }

    /**
     * Defines this package's test classes itself, as another deployment would, except one class it
     * cannot find: classes that refer to that one fail to link.
     */
    private static final class HidingLoader extends ClassLoader {
        private final String hidden;

        HidingLoader(String hidden) {
            super(ClassLoader.getPlatformClassLoader());
            this.hidden = hidden;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            if (name.equals(hidden) || !name.startsWith(BuiltinCodecDecodeErrorsTest.class.getName())) {
                throw new ClassNotFoundException(name);
            }
            try (InputStream in = BuiltinCodecDecodeErrorsTest.class.getClassLoader()
                    .getResourceAsStream(name.replace('.', '/') + ".class")) {
                if (in == null) {
                    throw new ClassNotFoundException(name);
                }
                byte[] b = in.readAllBytes();
                return defineClass(name, b, 0, b.length);
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
        }
    }
}
