package io.multiproc.bench;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * Encode + decode of one small value with the built-in codec, beside a JDK serialization round trip
 * (ObjectOutputStream into a byte array, ObjectInputStream back) of the same value. The codec reuses
 * one {@link BufferSink} and one {@link SegmentSource}, as a queue does.
 * Run: {@code bin/jmh CodecBench -prof gc} (B/op: what one round trip allocates).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class CodecBench {
    public record Trade(long id, String symbol, double price, int qty) implements Serializable {
    }

    private final Codec codec = Codec.defaultCodec();
    private final BufferSink sink = new BufferSink(1024);
    private final SegmentSource source = new SegmentSource();
    /** The sink's array never grows past its initial 1 KiB here, so one view of it serves every call. */
    private final MemorySegment sinkMemory = MemorySegment.ofArray(sink.array());
    private final Trade trade = new Trade(123_456_789L, "ACME", 101.25, 300);
    private final Integer smallInt = 42;
    private final Integer largeInt = 1_000_000;

    private int tradeBytes;

    @Setup
    public void check() throws Exception {
        if (!trade.equals(builtinTrade()) || !trade.equals(jdkTrade()) || !smallInt.equals(builtinSmallInt())) {
            throw new AssertionError("a round trip changed the value");
        }
        tradeBytes = builtinTradeEncodeOnly();
    }

    private Object builtin(Object value) {
        sink.reset();
        codec.encode(value, sink);
        return codec.decode(source.reset(sinkMemory, 0, sink.size()));
    }

    private static Object jdk(Object value) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }

    @Benchmark
    public Object builtinTrade() {
        return builtin(trade);
    }

    /** The encoding half of {@link #builtinTrade}. */
    @Benchmark
    public int builtinTradeEncodeOnly() {
        sink.reset();
        codec.encode(trade, sink);
        return sink.size();
    }

    /** The decoding half of {@link #builtinTrade} (the sink still holds the trade's bytes). */
    @Benchmark
    public Object builtinTradeDecodeOnly() {
        return codec.decode(source.reset(sinkMemory, 0, tradeBytes));
    }

    @Benchmark
    public Object jdkTrade() throws IOException, ClassNotFoundException {
        return jdk(trade);
    }

    @Benchmark
    public Object builtinSmallInt() {
        return builtin(smallInt);
    }

    @Benchmark
    public Object builtinLargeInt() {
        return builtin(largeInt);
    }

    @Benchmark
    public Object jdkSmallInt() throws IOException, ClassNotFoundException {
        return jdk(smallInt);
    }
}
