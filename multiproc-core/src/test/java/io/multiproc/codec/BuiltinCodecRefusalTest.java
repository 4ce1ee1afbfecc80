package io.multiproc.codec;

import org.junit.jupiter.api.Test;

import java.io.Serializable;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static io.multiproc.codec.CodecTesting.decode;
import static io.multiproc.codec.CodecTesting.encode;
import static io.multiproc.codec.CodecTesting.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BuiltinCodecRefusalTest {
    private final Codec codec = Codec.defaultCodec();

    /** A path inside a zip file names nothing in another process: refused at the call, naming its class. */
    @Test
    void aPathOfAnotherFileSystemIsRefusedNamingItsClass() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("codec");
        java.nio.file.Path zip = dir.resolve("a.zip");
        try (java.nio.file.FileSystem fs = java.nio.file.FileSystems.newFileSystem(zip, Map.of("create", "true"))) {
            java.nio.file.Path inside = fs.getPath("/a.txt");
            assertThatThrownBy(() -> roundTrip(codec, inside)).isInstanceOf(CodecException.class)
                    .hasMessageContaining(inside.getClass().getName());
        } finally {
            java.nio.file.Files.deleteIfExists(zip);
            java.nio.file.Files.delete(dir);
        }
    }
    /** Only com.acme.* besides the JDK's value types and multiproc's own classes. */
    private final Codec strict = BuiltinCodec.builder().allowPackages("com.acme.").build();

    static final class NotSerializable {
    }

    static final class Holder implements Serializable {
        final Object inside;

        Holder(Object inside) {
            this.inside = inside;
        }
    }

    record Gadget(String command) {
    }

    enum Color { RED }

    record Positive(int n) {
        Positive {
            if (n <= 0) {
                throw new IllegalArgumentException("n=" + n + " must be > 0");
            }
        }
    }

    @Test
    void anUnencodableObjectFailsNamingItsClass() {
        assertThatThrownBy(() -> encode(codec, new NotSerializable()))
                .isInstanceOf(CodecException.class)
                .hasMessageContaining("class=" + NotSerializable.class.getName());
        assertThatThrownBy(() -> encode(codec, Thread.currentThread()))
                .isInstanceOf(CodecException.class).hasMessageContaining("class=java.lang.Thread");
    }

    @Test
    void anUnencodableObjectDeepInsideFailsNamingItsClass() {
        assertThatThrownBy(() -> encode(codec, List.of(1, Map.of("k", List.of(new NotSerializable())))))
                .isInstanceOf(CodecException.class).hasMessageContaining(NotSerializable.class.getName());
        Codec allowingHolder = BuiltinCodec.builder().allowClasses(Holder.class).build();
        assertThatThrownBy(() -> encode(allowingHolder, new Holder(new NotSerializable())))
                .isInstanceOf(CodecException.class)
                .hasMessageContaining("class=" + Holder.class.getName())
                .hasMessageContaining(NotSerializable.class.getName());
    }

    @Test
    void aFailedEncodeLeavesTheSinkAsItWas() {
        BufferSink sink = new BufferSink(16);
        codec.encode("first item", sink);
        byte[] before = sink.toByteArray();
        List<Object> bad = new ArrayList<>(List.of("a long string that gets written before the failure", 1, 2));
        bad.add(new NotSerializable());
        assertThatThrownBy(() -> codec.encode(bad, sink)).isInstanceOf(CodecException.class);
        assertThat(sink.toByteArray()).isEqualTo(before);
        assertThatThrownBy(() -> codec.encode(new Holder(new NotSerializable()), sink)).isInstanceOf(CodecException.class);
        assertThat(sink.toByteArray()).isEqualTo(before);
        codec.encode(2, sink);
        assertThat(sink.size()).isEqualTo(before.length + 2);
    }

    @Test
    void theStrictCodecRefusesOtherClassesWhenEncoding() {
        assertThatThrownBy(() -> encode(strict, new Gadget("rm -rf")))
                .isInstanceOf(CodecException.class)
                .hasMessageContaining("class=" + Gadget.class.getName() + " is not on the codec's allow-list");
        assertThatThrownBy(() -> encode(strict, List.of(new Holder(1))))
                .isInstanceOf(CodecException.class).hasMessageContaining("class=" + Holder.class.getName());
        assertThat(roundTrip(strict, List.of(1, "s", Map.of(2, 3.0)))).isEqualTo(List.of(1, "s", Map.of(2, 3.0)));
        assertThat(roundTrip(strict, java.time.LocalDate.of(2026, 1, 2))).isEqualTo(java.time.LocalDate.of(2026, 1, 2));
    }

    @Test
    void theFilterRefusesADisallowedClassWhenDecoding() {
        byte[] record = encode(codec, List.of(new Gadget("rm -rf")));
        assertThatThrownBy(() -> decode(strict, record))
                .isInstanceOf(CodecException.class).hasMessageContaining("class=" + Gadget.class.getName());
        byte[] enumBytes = encode(codec, Color.RED);
        assertThatThrownBy(() -> decode(strict, enumBytes))
                .isInstanceOf(CodecException.class).hasMessageContaining("class=" + Color.class.getName());
        byte[] serialized = encode(BuiltinCodec.taskCodec(), Map.of("x", new Holder("payload")));
        assertThatThrownBy(() -> decode(strict, serialized))
                .isInstanceOf(CodecException.class)
                .hasMessageContaining("class=" + Holder.class.getName() + " is not on the codec's allow-list");
        assertThatThrownBy(() -> decode(codec, serialized)).as("the default, a data channel's codec")
                .isInstanceOf(CodecException.class)
                .hasMessageContaining("class=" + Holder.class.getName() + " is not on the codec's allow-list for JDK serialization")
                .hasMessageContaining("allowClasses(BuiltinCodecRefusalTest.Holder.class)");
    }

    @Test
    void aLambdaIsRefusedUnlessItsCapturingClassIsAllowed() {
        Supplier<String> s = (Supplier<String> & Serializable) () -> "hi";
        assertThatThrownBy(() -> encode(codec, s)).as("data channels carry no code")
                .isInstanceOf(CodecException.class).hasMessageContaining("class=java.lang.invoke.SerializedLambda (a serializable lambda)");
        byte[] bytes = encode(BuiltinCodec.taskCodec(), s);
        assertThatThrownBy(() -> decode(codec, bytes))
                .isInstanceOf(CodecException.class).hasMessageContaining("SerializedLambda");
        Codec lambdasOnly = BuiltinCodec.builder().allowClasses(java.lang.invoke.SerializedLambda.class).build();
        assertThatThrownBy(() -> decode(lambdasOnly, bytes))
                .isInstanceOf(CodecException.class).hasMessageContaining(BuiltinCodecRefusalTest.class.getName());
        Codec allowing = BuiltinCodec.builder().allowPackages("com.acme.")
                .allowClasses(java.lang.invoke.SerializedLambda.class, BuiltinCodecRefusalTest.class).build();
        @SuppressWarnings("unchecked")
        Supplier<String> back = (Supplier<String>) decode(allowing, bytes);
        assertThat(back.get()).isEqualTo("hi");
    }

    @Test
    void jdkClassesOutsideTheValueTypesNeedToBeAllowed() {
        URI uri = URI.create("https://example.com/x");
        assertThatThrownBy(() -> encode(codec, uri))
                .isInstanceOf(CodecException.class).hasMessageContaining("class=java.net.URI");
        Codec withUri = BuiltinCodec.builder().allowClasses(URI.class).build();
        assertThat(roundTrip(withUri, uri)).isEqualTo(uri);
        assertThatThrownBy(() -> encode(withUri, new Holder(1))).as("only what is allowed travels by JDK serialization")
                .isInstanceOf(CodecException.class).hasMessageContaining("class=" + Holder.class.getName());
        assertThat(roundTrip(withUri, List.of(Color.RED, new Positive(3)))).as("records and enums need no allowing")
                .isEqualTo(List.of(Color.RED, new Positive(3)));
    }

    @Test
    void dynamicProxiesAreNeverWritten() {
        Object proxy = Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Runnable.class, Serializable.class},
                (InvocationHandlerThatIsSerializable) (p, m, a) -> null);
        assertThatThrownBy(() -> encode(codec, proxy)).isInstanceOf(CodecException.class)
                .hasMessageContaining("allow-list");
    }

    interface InvocationHandlerThatIsSerializable extends java.lang.reflect.InvocationHandler, Serializable {
    }

    @Test
    void aRecordsConstructorStillValidatesDecodedData() {
        byte[] bytes = encode(codec, new Positive(5));
        bytes[bytes.length - 1] = 0; // zigzag 0: n = 0
        assertThatThrownBy(() -> decode(codec, bytes)).isInstanceOf(CodecException.class)
                .hasMessageContaining("class=" + Positive.class.getName()).hasMessageContaining("n=0 must be > 0");
    }

    @Test
    void aRecordWhoseComponentCountDiffersFailsNamingIt() {
        byte[] bytes = encode(codec, new Positive(5));
        int nameLength = Positive.class.getName().length();
        assertThat(bytes[3 + nameLength]).isEqualTo((byte) 1); // tag, new class, name length, name, count
        bytes[3 + nameLength] = 2;
        assertThatThrownBy(() -> decode(codec, bytes)).isInstanceOf(CodecException.class)
                .hasMessageContaining("record=" + Positive.class.getName() + " has 1 components here, the input has 2");
    }

    @Test
    void builderRejectsBadSettingsAtOnce() {
        assertThatThrownBy(() -> BuiltinCodec.builder().allowPackages("com.acme")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prefix='com.acme'");
        assertThatThrownBy(() -> BuiltinCodec.builder().allowPackages("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BuiltinCodec.builder().maxDepth(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxDepth=0");
        assertThatThrownBy(() -> BuiltinCodec.builder().maxBytes(10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBytes=10");
    }
}
