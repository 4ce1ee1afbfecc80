package io.multiproc.queue;

import io.multiproc.wait.WaitWord;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.multiproc.queue.PipeLayout.DATA_SEQ;
import static io.multiproc.queue.PipeLayout.DATA_SLEEPERS;
import static io.multiproc.queue.PipeLayout.HEAD;
import static io.multiproc.queue.PipeLayout.SPACE_SEQ;
import static io.multiproc.queue.PipeLayout.SPACE_SLEEPERS;
import static io.multiproc.queue.PipeLayout.TAIL;

/**
 * One direction of a pipe: a single-producer single-consumer {@link RecordRing} and its two wait words.
 * No locks: the sending end's one process writes the tail, the receiving end's the head ({@link
 * Connection} serializes its own threads). The sender publishes with a release store of the tail, a
 * full fence, and then wakes a registered receiver; the receiver frees with a release store of the
 * head, a fence, and wakes a sender (the fences pair with the waiters' registration: no lost wake-up).
 */
final class PipeChannel {
    final RecordRing ring;
    final WaitWord data;
    final WaitWord space;
    final int maxInline;

    PipeChannel(MemorySegment seg, int channels, int channel, int capacity) {
        long base = PipeLayout.channel(channel);
        this.ring = new RecordRing(seg, PipeLayout.ring(channels, channel, capacity), capacity, Integer.MAX_VALUE,
                base + TAIL, base + HEAD);
        this.data = new WaitWord(seg, base + DATA_SEQ, base + DATA_SLEEPERS);
        this.space = new WaitWord(seg, base + SPACE_SEQ, base + SPACE_SLEEPERS);
        this.maxInline = RecordLayout.maxInlinePayload(capacity);
    }

    /** Appends one record and wakes the receiver; false if the ring is full. */
    boolean trySend(int kind, byte[] src, int length) {
        if (!ring.tryAppend(kind, src, length)) {
            return false;
        }
        VarHandle.fullFence(); // NOTE: keeps the tail's release store before the sleeper check
        data.wakeAll(); // a receiver may wait in recv and another thread in poll
        return true;
    }

    /** Takes the next message into {@code s}'s input; false if there is none. */
    boolean tryReceive(Scratch s) {
        for (;;) {
            long at = ring.first();
            if (at == RecordRing.EMPTY) {
                return false;
            }
            int length = Spills.readItem(ring, (int) at, s, 0, true);
            ring.consume((int) at);
            VarHandle.fullFence(); // NOTE: keeps the head's release store before the sleeper check
            space.wake(1);
            if (length >= 0) {
                return true;
            }
        }
    }

    boolean hasMessage() {
        return ring.hasItems();
    }
}
