package io.multiproc.shm;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;
import io.multiproc.codec.CodecException;
import io.multiproc.codec.SegmentSource;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A ShareableList travels through the codec as the shared object it is, like a raw SharedMemory: as its
 * name, refused by a codec that carries no shared objects (a remote manager's connection, decision 184),
 * and unmapped again when the value around it fails to decode.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListTravelTest {

    private static byte[] encode(Codec codec, Object value) {
        BufferSink out = new BufferSink(16);
        codec.encode(value, out);
        return out.toByteArray();
    }

    @Test
    void aCodecThatCarriesNoSharedObjectsRefusesAShareableListAsItRefusesASharedMemory() throws Exception {
        Codec wire = BuiltinCodec.builder().sharedObjects(false).build();
        try (ShareableList sl = ShareableList.create(null, List.of(1L, "a"))) {
            try {
                assertThatThrownBy(() -> encode(wire, sl.shm())).isInstanceOf(CodecException.class)
                        .hasMessageContaining("shared object");
                assertThatThrownBy(() -> encode(wire, sl)).as("the list itself")
                        .isInstanceOf(CodecException.class).hasMessageContaining("shared object");
                // inside a JDK-serialized part the allow-list refuses it, as it refuses a SharedMemory there
                assertThatThrownBy(() -> encode(wire, List.of(new AtomicReference<>(sl.shm())))).isInstanceOf(CodecException.class);
                assertThatThrownBy(() -> encode(wire, List.of(new AtomicReference<>(sl)))).as("inside a JDK-serialized part")
                        .isInstanceOf(CodecException.class);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void aDecodedShareableListAttachesToTheSameSegment() throws Exception {
        Codec codec = Codec.defaultCodec();
        try (ShareableList sl = ShareableList.create(null, List.of(1L, "a"))) {
            try {
                Object back = codec.decode(SegmentSource.of(encode(codec, List.of("list", sl))));
                try (ShareableList copy = (ShareableList) ((List<?>) back).get(1)) {
                    assertThat(copy).isNotSameAs(sl);
                    copy.set(0, 42L);
                    assertThat(sl.get(0)).isEqualTo(42L);
                }
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void aFailedDecodeUnmapsAShareableListAttachedOnTheWay() throws Exception {
        Codec codec = Codec.defaultCodec();
        String name;
        try (ShareableList sl = ShareableList.create(null, List.of(1L, "a"))) {
            name = sl.name();
            byte[] plain = encode(codec, List.of(sl, "tail"));
            byte[] inside = encode(codec, List.of(new AtomicReference<>(sl), "tail"));
            for (byte[] bytes : List.of(plain, inside)) {
                byte[] cut = Arrays.copyOf(bytes, bytes.length - 2);
                assertThatThrownBy(() -> codec.decode(SegmentSource.of(cut))).isInstanceOf(CodecException.class);
            }
            sl.unlink();
        }
        assertThat(Files.readAllLines(Path.of("/proc/self/maps")))
                .as("mappings of %s after two failed decodes and its creator's close", name)
                .filteredOn(line -> line.contains("/dev/shm/" + name)).isEmpty();
    }
}
