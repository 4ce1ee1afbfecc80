package io.multiproc.bench;

import io.multiproc.codec.ByteSink;
import io.multiproc.codec.ByteSource;
import io.multiproc.codec.Codec;
import io.multiproc.queue.Connection;
import io.multiproc.queue.Pipe;
import io.multiproc.queue.SharedQueue;
import io.multiproc.wait.IdleStrategy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * offer + poll of one small item on a shared-memory queue in one thread (the queue's own cost: two
 * lock acquisitions, two volatile position writes, two copies), beside the JDK's heap queues; and a
 * pipe message sent and received in one thread. Run: {@code bin/jmh QueueBench -prof gc}.
 *
 * <p>{@code intCodec} variants use a 4-byte codec for Integer, so they measure the queue; the
 * {@code defaultCodec} variant adds whatever {@code Codec.defaultCodec()} costs today.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class QueueBench {
    private static final Integer ITEM = 42;
    private static final byte[] MESSAGE = new byte[8];

    /** Integers as 4 little-endian bytes; Integer.valueOf keeps small values allocation-free. */
    public static final class IntCodec implements Codec, Serializable {
        @Override
        public void encode(Object value, ByteSink out) {
            out.writeInt((Integer) value);
        }

        @Override
        public Object decode(ByteSource in) {
            return in.readInt();
        }
    }

    private SharedQueue<Integer> intQueue;
    private SharedQueue<Integer> defaultQueue;
    private Pipe pipe;
    private Connection sender;
    private Connection receiver;
    private final ArrayBlockingQueue<Integer> heapQueue = new ArrayBlockingQueue<>(1024);

    @Setup
    public void setUp() {
        intQueue = SharedQueue.create(1024, 1 << 16, IdleStrategy.blocking(), new IntCodec());
        defaultQueue = SharedQueue.create(1024);
        pipe = Pipe.open(false);
        sender = pipe.right();
        receiver = pipe.left();
    }

    @TearDown
    public void tearDown() {
        intQueue.close();
        defaultQueue.close();
        pipe.close();
    }

    @Benchmark
    public Integer sharedQueueOfferPollIntCodec() {
        intQueue.offer(ITEM);
        return intQueue.poll();
    }

    @Benchmark
    public Integer sharedQueueOfferPollDefaultCodec() {
        defaultQueue.offer(ITEM);
        return defaultQueue.poll();
    }

    /** Items per batch in the batch benchmarks (scores are per item: {@code @OperationsPerInvocation}). */
    static final int BATCH = 100;
    private final List<Integer> batch = java.util.Collections.nCopies(BATCH, ITEM);
    private final ArrayList<Integer> drained = new ArrayList<>(BATCH);

    /** 100 items offered and polled one by one: the per-item baseline for the batch benchmark below. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void sharedQueueOfferPollOneByOneIntCodec(Blackhole bh) {
        for (int i = 0; i < BATCH; i++) {
            intQueue.offer(ITEM);
        }
        for (int i = 0; i < BATCH; i++) {
            bh.consume(intQueue.poll());
        }
    }

    /** The same 100 items with offerAll and drainTo: one lock hold per side per batch. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void sharedQueueOfferAllDrainToIntCodec(Blackhole bh) {
        intQueue.offerAll(batch);
        intQueue.drainTo(drained, BATCH);
        bh.consume(drained.get(BATCH - 1));
        drained.clear();
    }

    @Benchmark
    public byte[] pipeSendBytesRecvBytes() throws IOException {
        sender.sendBytes(MESSAGE);
        return receiver.recvBytes();
    }

    @Benchmark
    public Integer heapArrayBlockingQueueOfferPoll() {
        heapQueue.offer(ITEM);
        return heapQueue.poll();
    }
}
