package io.multiproc.queue;

import io.multiproc.internal.SegmentHeader;

/**
 * Layout of a {@link Pipe} segment: two end lines and one or two channels, each a single-producer
 * single-consumer ring of {@link RecordLayout} records. Static only.
 *
 * <pre>
 *  0               64              128             256             384                               384 + 512 * channels
 *  +---------------+---------------+---------------+---------------+------------------- ... ---------+-------- ... --------+
 *  | SegmentHeader | config        | left end      | right end     | channel 0 | channel 1 (duplex) | ring 0 | ring 1       |
 *  | magic MPPIPE01| +0 capacity   | +0 owner token| +0 owner token| 512 bytes each, see below       | capacity bytes each  |
 *  | kind: duplex  | +4 channels   | +8 closed     | +8 closed     |                                 |                      |
 *  | or one-way    | +8 idle code  |               |               |                                 |                      |
 *  +---------------+---------------+---------------+---------------+------------------- ... ---------+-------- ... --------+
 *
 *  channel c (received by end c: channel 0 by the left end, channel 1 by the right end):
 *  +0               +128             +256                 +384
 *  +----------------+----------------+--------------------+--------------------+
 *  | tail word,     | head word,     | data: seq,sleepers | space: seq,sleepers|
 *  | +8 full pos.   | +8 full pos.   | receiver sleeps    | sender sleeps      |
 *  | sender writes  | receiver writes|                    |                    |
 *  +----------------+----------------+--------------------+--------------------+
 * </pre>
 * A one-way pipe has only channel 0: the left end receives, the right end sends (Python's
 * {@code Pipe(duplex=False)}). A duplex pipe's left end sends on channel 1, the right end on channel 0.
 * <ul>
 *   <li>config: written once by the creator before the name is shared.</li>
 *   <li>owner token: the {@code ProcessIdentity} token of the process that uses the end now; written
 *       (volatile) by whoever creates or receives the end, read by the peer to see whether that
 *       process died. closed: 0, or 1 once the owner closed its end (volatile write, never reset).</li>
 *   <li>tail and head words: as in {@link RecordLayout}; each written by one process only, the sender
 *       and the receiver of that channel.</li>
 * </ul>
 */
final class PipeLayout {
    static final long MAGIC = 0x3130_4550_4950_504DL; // "MPPIPE01" read little-endian
    /** 2: each tail and head word has its 64-bit full position 8 bytes after it ({@link RecordLayout}). */
    static final int VERSION = 2;
    static final int KIND_DUPLEX = 1;
    static final int KIND_ONE_WAY = 2;
    static final int LEFT = 0;
    static final int RIGHT = 1;

    static final long CAPACITY = 64;
    static final long CHANNELS = 68;
    static final long IDLE = 72;

    static final long END = 128;
    static final long END_SIZE = 128;
    /** Offsets inside an end line. */
    static final long OWNER = 0;
    static final long CLOSED = 8;

    static final long CHANNELS_START = 384;
    static final long CHANNEL_SIZE = 512;
    /** Offsets inside a channel. */
    static final long TAIL = 0;
    static final long HEAD = 128;
    static final long DATA_SEQ = 256;
    static final long DATA_SLEEPERS = 260;
    static final long SPACE_SEQ = 384;
    static final long SPACE_SLEEPERS = 388;

    /** Default ring bytes per direction. */
    static final int DEFAULT_CAPACITY = 1 << 20;

    static {
        assert CAPACITY >= SegmentHeader.SIZE;
    }

    private PipeLayout() {
    }

    static long end(int end) {
        return END + end * END_SIZE;
    }

    static long channel(int channel) {
        return CHANNELS_START + channel * CHANNEL_SIZE;
    }

    static long ring(int channels, int channel, int capacity) {
        return channel(channels) + (long) channel * capacity;
    }

    static long segmentSize(int channels, int capacity) {
        return ring(channels, channels, capacity);
    }

    /** The channel end {@code end} receives on, or -1 if it only sends. */
    static int receiveChannel(int channels, int end) {
        return channels == 2 || end == LEFT ? end : -1;
    }

    /** The channel end {@code end} sends on, or -1 if it only receives. */
    static int sendChannel(int channels, int end) {
        return channels == 2 ? 1 - end : end == RIGHT ? 0 : -1;
    }
}
