package io.multiproc.manager.remote;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The remote manager's framing, on in-memory streams. */
class WireTest {
    /** Supplies {@code bytes}, then end of stream; records the largest buffer a read was asked to fill. */
    private static final class Recording extends ByteArrayInputStream {
        int largestBuffer;

        Recording(byte[] bytes) {
            super(bytes);
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) {
            largestBuffer = Math.max(largestBuffer, b.length);
            return super.read(b, off, Math.min(len, 7_777)); // a socket hands over a few KB at a time
        }
    }

    @Test
    void aFrameHeaderAnnouncing64MbThenNothingDoesNotMakeTheReaderAllocate64Mb() {
        // an authenticated peer that sends only a length would otherwise pin 64 MB per connection
        byte[] frame = ByteBuffer.allocate(4 + 1000).putInt(Wire.MAX_FRAME).array();
        Recording in = new Recording(frame);
        assertThatThrownBy(() -> Wire.readFrame(new DataInputStream(in), Wire.MAX_FRAME)).isInstanceOf(EOFException.class);
        assertThat(in.largestBuffer).as("bytes of the buffer read into, after a header and 1000 bytes").isLessThan(1 << 20);
    }

    @Test
    void framesOfAnySizeArriveWholeEvenInSmallPieces() throws IOException {
        Random random = new Random(7);
        for (int size : new int[] {0, 1, 100, 65_535, 65_536, 65_537, 300_000, 5 << 20}) {
            byte[] body = new byte[size];
            random.nextBytes(body);
            byte[] frame = ByteBuffer.allocate(4 + size).putInt(size).put(body).array();
            InputStream trickle = new Recording(frame);
            assertThat(Wire.readFrame(new DataInputStream(trickle), Wire.MAX_FRAME)).as("size=%d", size).isEqualTo(body);
        }
    }

    @Test
    void aLengthOutsideTheLimitIsAProtocolError() {
        byte[] header = ByteBuffer.allocate(4).putInt(Wire.MAX_FRAME + 1).array();
        assertThatThrownBy(() -> Wire.readFrame(new DataInputStream(new ByteArrayInputStream(header)), Wire.MAX_FRAME))
                .isInstanceOf(Wire.ProtocolException.class).hasMessageContaining("frame length=" + (Wire.MAX_FRAME + 1));
    }
}
