package io.multiproc.queue;

import io.multiproc.codec.Codec;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import io.multiproc.wait.IdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.multiproc.queue.Children.checksum;
import static io.multiproc.queue.Children.joinOk;
import static io.multiproc.queue.Children.pattern;
import static io.multiproc.queue.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pipe and Connection: message boundaries, large messages, end of stream, directions, ownership, timeouts. */
@ExtendWith(ReapChildrenCheckShm.class)
class PipeTest {

    @FunctionalInterface
    interface IoBody {
        void run() throws Exception;
    }

    /** A child task body that may throw IOException. */
    static void io(IoBody body) {
        try {
            body.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void messagesKeepTheirBoundariesAndOrderBothWaysWithAChild() throws Exception {
        try (Pipe pipe = Pipe.open(true)) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            ChildProcess child = ChildProcess.start(() -> io(() -> {
                for (int i = 0; i < 100; i++) {
                    byte[] b = theirs.recvBytes();
                    theirs.sendBytes(b);            // echo, same boundaries
                }
                theirs.send(List.of("done", theirs.recv()));
            }));
            try {
                for (int i = 0; i < 100; i++) {
                    mine.sendBytes(pattern(i * 37 % 300, i)); // includes zero-length messages
                }
                for (int i = 0; i < 100; i++) {
                    assertThat(mine.recvBytes()).isEqualTo(pattern(i * 37 % 300, i));
                }
                mine.send(42);
                assertThat(mine.recv()).isEqualTo(List.of("done", 42));
                joinOk(child);
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void aZeroLengthMessageMakesPollTrueAndIsReceivedAsEmpty() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            assertThat(pipe.left().poll()).isFalse();
            pipe.right().sendBytes(new byte[0]);
            assertThat(pipe.left().poll()).isTrue();
            assertThat(pipe.left().poll(Duration.ofSeconds(1))).isTrue();
            assertThat(pipe.left().recvBytes()).isEmpty();
            assertThat(pipe.left().poll()).isFalse();
        }
    }

    @Test
    void sixteenMegabyteMessagesGoBothWaysAsBytesAndAsObjects() throws Exception {
        int size = 16 << 20;
        try (Pipe pipe = Pipe.open(true)) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            ChildProcess child = ChildProcess.start(() -> io(() -> {
                byte[] got = theirs.recvBytes();
                theirs.send(checksum(got));
                theirs.send(pattern(size, 2));
            }));
            try {
                mine.sendBytes(pattern(size, 1));
                assertThat(mine.recv(Children.JOIN)).isEqualTo(checksum(pattern(size, 1)));
                assertThat(checksum((byte[]) mine.recv(Children.JOIN))).isEqualTo(checksum(pattern(size, 2)));
                joinOk(child);
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void recvOnADrainedPipeWhoseOtherEndAChildClosedThrowsEofAfterTheMessages() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            Connection reader = pipe.left();
            Connection writer = pipe.right();
            ChildProcess child = ChildProcess.start(() -> io(() -> {
                writer.send("one");
                writer.sendBytes(new byte[] {2});
                writer.close();
                Thread.sleep(60_000); // alive: the close alone must be seen
            }));
            try {
                assertThat(reader.recv(Children.JOIN)).isEqualTo("one");
                assertThat(reader.recvBytes()).containsExactly(2);
                assertThatThrownBy(reader::recv).isInstanceOf(EOFException.class).hasMessageContaining("closed");
                assertThat(reader.poll()).as("poll at end of stream: recv would not block").isTrue();
                assertThatThrownBy(reader::recvBytes).isInstanceOf(EOFException.class);
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void theDeathOfTheOtherEndsProcessIsEndOfStreamAndABrokenPipe() throws Exception {
        try (Pipe pipe = Pipe.open(true); SharedLong sent = SharedLong.create(0)) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            ChildProcess child = ChildProcess.start(() -> io(() -> {
                theirs.send("last words");
                sent.set(1);
                Thread.sleep(60_000);
            }));
            try {
                while (sent.get() == 0) {
                    Thread.sleep(5);
                }
                child.kill();
                assertThat(child.join(Children.JOIN)).isTrue();
                assertThat(mine.recv()).isEqualTo("last words");
                long t0 = System.nanoTime();
                assertThatThrownBy(mine::recv).isInstanceOf(EOFException.class).hasMessageContaining("died");
                assertThat(System.nanoTime() - t0).as("a dead peer is seen within 1 s").isLessThan(TimeUnit.SECONDS.toNanos(1));
                t0 = System.nanoTime();
                assertThatThrownBy(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        mine.sendBytes(new byte[1000]); // fills the ring, then sees the dead receiver
                    }
                }).isInstanceOf(IOException.class).hasMessageContaining("broken pipe");
                assertThat(System.nanoTime() - t0).as("a dead receiver is seen within 1 s").isLessThan(TimeUnit.SECONDS.toNanos(1));
            } finally {
                reap(child);
            }
        }
    }

    /**
     * "The child streaming me big messages was killed while sending one": my recv() (no timeout) gets
     * every message the child finished sending, intact and in order, then EOFException; it does not
     * wait for the rest of the message that was cut off.
     */
    @Test
    void aSenderKilledInTheMiddleOfALargeMessageEndsTheReceiversUntimedRecv() throws Exception {
        int size = 3 << 20; // over half the 1 MiB ring: each message goes through a spill segment
        try (Pipe pipe = Pipe.open(false); SharedLong sent = SharedLong.create(0)) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            ChildProcess child = ChildProcess.start(() -> io(() -> {
                for (int i = 0; ; i++) {
                    theirs.sendBytes(pattern(size, i));
                    sent.set(i + 1);
                }
            }));
            try {
                CompletableFuture<Integer> received = CompletableFuture.supplyAsync(() -> {
                    int n = 0;
                    try {
                        for (;; n++) {
                            byte[] got = mine.recvBytes();
                            assertThat(checksum(got)).as("message %d is whole", n).isEqualTo(checksum(pattern(size, n)));
                        }
                    } catch (EOFException e) {
                        return n;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                long deadline = System.nanoTime() + Children.JOIN.toNanos();
                while (sent.get() < 3 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextInt(5));
                child.kill();
                assertThat(child.join(Children.JOIN)).isTrue();
                long finished = sent.get();
                int got = received.get(20, TimeUnit.SECONDS); // TimeoutException here: recv() waits forever
                assertThat((long) got).as("every message sent in full arrives").isBetween(finished, finished + 1);
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void aChildThatExitsWithoutClosingItsEndEndsTheStream() throws Exception {
        try (Pipe pipe = Pipe.open(true)) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            ChildProcess child = ChildProcess.start(() -> io(() -> theirs.send("bye")));
            try {
                joinOk(child);
                assertThat(mine.recv()).isEqualTo("bye");
                assertThatThrownBy(() -> mine.recv(Duration.ofSeconds(10))).isInstanceOf(EOFException.class);
                assertThatThrownBy(() -> mine.send("anyone?")).isInstanceOf(IOException.class).hasMessageContaining("broken pipe");
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void aOneWayPipeUsedInTheWrongDirectionThrows() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            Connection left = pipe.left();
            Connection right = pipe.right();
            assertThat(pipe.isDuplex()).isFalse();
            assertThat(left.readable()).isTrue();
            assertThat(left.writable()).isFalse();
            assertThat(right.readable()).isFalse();
            assertThat(right.writable()).isTrue();
            assertThatThrownBy(() -> left.send("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("only receives");
            assertThatThrownBy(() -> left.sendBytes(new byte[1])).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(right::recv).isInstanceOf(IllegalStateException.class).hasMessageContaining("only sends");
            assertThatThrownBy(right::recvBytes).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(right::poll).isInstanceOf(IllegalStateException.class);
            right.send("fine");
            assertThat(left.recv()).isEqualTo("fine");
        }
    }

    @Test
    void timedReceivesAndPollGiveUpAfterAboutTheTimeout() throws Exception {
        try (Pipe pipe = Pipe.open(true)) {
            Connection c = pipe.left();
            long t0 = System.nanoTime();
            assertThat(c.poll(Duration.ofMillis(200))).isFalse();
            assertThat(System.nanoTime() - t0).isBetween(TimeUnit.MILLISECONDS.toNanos(190), TimeUnit.SECONDS.toNanos(10));
            t0 = System.nanoTime();
            assertThatThrownBy(() -> c.recv(Duration.ofMillis(200))).isInstanceOf(TimeoutException.class);
            assertThat(System.nanoTime() - t0).isBetween(TimeUnit.MILLISECONDS.toNanos(190), TimeUnit.SECONDS.toNanos(10));
            assertThatThrownBy(() -> c.recvBytes(Duration.ZERO)).isInstanceOf(TimeoutException.class);
            assertThatThrownBy(() -> c.poll(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aFullPipeMakesSendWaitAndATimedSendGiveUp() throws Exception {
        try (Pipe pipe = Pipe.open(false, 1024, IdleStrategy.blocking(), Codec.defaultCodec())) {
            Connection reader = pipe.left();
            Connection writer = pipe.right();
            int sent = 0;
            while (writer.sendBytes(new byte[100], Duration.ZERO)) {
                sent++;
            }
            assertThat(sent).isBetween(5, 10);
            assertThat(writer.sendBytes(new byte[100], Duration.ofMillis(100))).isFalse();
            CompletableFuture<Void> blocked = CompletableFuture.runAsync(() -> io(() -> writer.sendBytes(new byte[100])));
            Thread.sleep(50);
            assertThat(blocked).isNotDone();
            reader.recvBytes();
            blocked.get(10, TimeUnit.SECONDS);
            for (int i = 0; i < sent; i++) {
                assertThat(reader.recvBytes()).hasSize(100);
            }
            assertThat(reader.poll()).isFalse();
        }
    }

    @Test
    void anInterruptedRecvThrowsInterruptedIoExceptionAndKeepsTheInterrupt() throws Exception {
        try (Pipe pipe = Pipe.open(true)) {
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    pipe.left().recv();
                    outcome.complete(null);
                } catch (Throwable e) {
                    outcome.complete(Thread.currentThread().isInterrupted() ? e : new AssertionError("interrupt status lost", e));
                }
            });
            Thread.sleep(100);
            t.interrupt();
            assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedIOException.class);
            t.join();
        }
    }

    @Test
    void aClosedEndThrowsNamingItAndThePeerSeesEndOfStream() throws Exception {
        try (Pipe pipe = Pipe.open(true)) {
            Connection a = pipe.left();
            Connection b = pipe.right();
            b.send("before close");
            b.close();
            b.close();
            assertThat(b.closed()).isTrue();
            assertThatThrownBy(() -> b.send("x")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("right of pipe '" + b.name() + "' is closed");
            assertThatThrownBy(b::recv).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
            assertThat(a.recv()).isEqualTo("before close");
            assertThatThrownBy(a::recv).isInstanceOf(EOFException.class);
            assertThatThrownBy(() -> a.send("x")).isInstanceOf(IOException.class).hasMessageContaining("broken pipe");
        }
    }

    @Test
    void anEndPassedToAChildBelongsToItAndTheParentsCopyRefusesToBeUsed() throws Exception {
        try (Pipe pipe = Pipe.open(true, IdleStrategy.busySpin()); SharedLong outcome = SharedLong.create(0)) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            ChildProcess child = ChildProcess.start(() -> io(() -> {
                theirs.send(theirs.recv()); // busy-spinning in the child too
                Object second = theirs.recv();
                try {
                    theirs.recv();
                    outcome.set(-1);
                } catch (EOFException expected) {
                    outcome.set("still connected".equals(second) ? 1 : -2);
                }
            }));
            try {
                mine.send("hi");
                assertThat(mine.recv(Children.JOIN)).isEqualTo("hi");
                assertThatThrownBy(() -> theirs.send("x")).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("was passed to pid=" + child.pid());
                theirs.close(); // only releases the parent's copy: the child's end stays open
                mine.send("still connected");
                mine.close();
                joinOk(child);
                assertThat(outcome.get()).as("the child got the message, then end of stream").isEqualTo(1);
            } finally {
                reap(child);
            }
        }
    }

    /**
     * A thread of the parent already waiting in recv() on an end the parent passes to a child stops
     * there (IllegalStateException) once the child takes the end: it went on receiving beside the child,
     * two readers of a ring meant for one, and took the child's messages.
     */
    @Test
    void aThreadWaitingOnAnEndPassedToAChildStopsAndTheChildGetsEveryMessage() throws Exception {
        try (Pipe pipe = Pipe.open(true); io.multiproc.shared.SharedLongArray got = io.multiproc.shared.SharedLongArray.create(3)) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            java.util.concurrent.atomic.AtomicReference<Throwable> waiter = new java.util.concurrent.atomic.AtomicReference<>();
            Thread listener = new Thread(() -> {
                try {
                    waiter.set(new AssertionError("received " + theirs.recv()));
                } catch (Throwable t) {
                    waiter.set(t);
                }
            });
            listener.start();
            Thread.sleep(200); // asleep in recv by now
            ChildProcess child = ChildProcess.start(() -> io(() -> {
                got.set(2, 1);
                got.set(0, (Integer) theirs.recv());
                got.set(1, (Integer) theirs.recv());
            }));
            try {
                io.multiproc.testing.Children.awaitUntil("the child took the end", () -> got.get(2) == 1);
                mine.send(1);
                mine.send(2);
                joinOk(child);
                listener.join(10_000);
                assertThat(listener.isAlive()).as("the parent's listener gave up").isFalse();
                assertThat(waiter.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("was passed to pid=" + child.pid());
                assertThat(got.get(0)).isEqualTo(1);
                assertThat(got.get(1)).isEqualTo(2);
            } finally {
                reap(child);
            }
        }
    }

    /**
     * Python's habit: start a child with one end, close the parent's copy at once. The child may not have
     * attached yet; its end must stay open for it.
     */
    @Test
    void closingTheParentsCopyRightAfterStartingTheChildLeavesTheChildsEndOpen() throws Exception {
        for (int round = 0; round < 3; round++) {
            try (Pipe pipe = Pipe.open()) {
                Connection mine = pipe.left();
                Connection theirs = pipe.right();
                ChildProcess child = ChildProcess.start(() -> io(() -> theirs.send("hello from " + ProcessHandle.current().pid())));
                try {
                    theirs.close();
                    assertThat((String) mine.recv(Children.JOIN)).isEqualTo("hello from " + child.pid());
                    joinOk(child);
                } finally {
                    reap(child);
                }
            }
        }
    }

    /** The same, made certain: the end travels in a queue item, and the parent closes its copy before anyone takes it. */
    @Test
    void anEndClosedByItsSenderBeforeTheReceiverAttachesStillWorksForTheReceiver() throws Exception {
        try (Pipe pipe = Pipe.open(); SharedQueue<Connection> carrier = SharedQueue.create(1); SharedLong go = SharedLong.create(0)) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            carrier.put(theirs);
            theirs.close();
            ChildProcess child = ChildProcess.start(() -> io(() -> {
                try (Connection end = carrier.take()) {
                    end.send("taken after the sender closed its copy");
                }
            }));
            try {
                assertThat(mine.recv(Children.JOIN)).isEqualTo("taken after the sender closed its copy");
                assertThatThrownBy(() -> mine.recv(Children.JOIN)).isInstanceOf(EOFException.class);
                joinOk(child);
            } finally {
                reap(child);
            }
        }
    }

    /** An end let go by its sender that can no longer reach anyone (its carrier is gone) is end of stream, not a wait forever. */
    @Test
    void anEndLetGoInTransitThatNobodyCanTakeAnyMoreIsEndOfStream() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Connection mine = pipe.left();
            Connection theirs = pipe.right();
            SharedQueue<Connection> carrier = SharedQueue.create(1);
            carrier.put(theirs);
            theirs.close();
            carrier.close();   // the item, and the end in it, can never be taken now
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> mine.recv(Duration.ofSeconds(60))).isInstanceOf(EOFException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        }
        try (Pipe pipe = Pipe.open()) {   // the same with the sender's copy left open: it was given away all the same
            Connection mine = pipe.left();
            SharedQueue<Connection> carrier = SharedQueue.create(1);
            carrier.put(pipe.right());
            carrier.close();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> mine.recv(Duration.ofSeconds(60))).isInstanceOf(EOFException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        }
    }

    /**
     * "I started a child with the sending end and it was killed before it even ran": the end never
     * reached it, so nobody can ever send; my recv() (no timeout, my copy of the child's end left open
     * as the docs allow) ends with EOFException instead of waiting forever.
     */
    @Test
    void aChildKilledBeforeItTookItsEndEndsTheParentsUntimedRecv() throws Exception {
        int spares = ChildProcess.spareJvms();
        try {
            ChildProcess.setSpareJvms(0); // a cold start: the kill lands before the child decodes its task
            try (Pipe pipe = Pipe.open(false)) {
                Connection mine = pipe.left();
                Connection theirs = pipe.right();
                ChildProcess child = ChildProcess.start(() -> io(() -> theirs.send("hello")));
                try {
                    child.kill();
                    assertThat(child.join(Children.JOIN)).isTrue();
                    CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
                        try {
                            return new AssertionError("received " + mine.recv());
                        } catch (IOException e) {
                            return e;
                        }
                    });
                    // TimeoutException here: recv() waits forever for an end that nobody holds any more
                    assertThat(outcome.get(20, TimeUnit.SECONDS)).isInstanceOf(EOFException.class);
                } finally {
                    reap(child);
                }
            }
        } finally {
            ChildProcess.setSpareJvms(spares);
        }
    }

    @Test
    void anUnencodableMessageFailsAtSendNamingItsClassAndNothingIsSent() throws Exception {
        try (Pipe pipe = Pipe.open(false)) {
            assertThatThrownBy(() -> pipe.right().send(new SharedQueueTest.NotEncodable()))
                    .isInstanceOf(io.multiproc.codec.CodecException.class)
                    .hasMessageContaining(SharedQueueTest.NotEncodable.class.getName());
            assertThat(pipe.left().poll()).isFalse();
            pipe.right().send("next");
            assertThat(pipe.left().recv()).isEqualTo("next");
        }
    }

    @Test
    void aSliceOfAnArrayGoesAsOneMessageAndItsTimedSendGivesUpOnAFullPipe() throws Exception {
        try (Pipe pipe = Pipe.open(false, 1024, IdleStrategy.blocking(), Codec.defaultCodec())) {
            Connection reader = pipe.left();
            Connection writer = pipe.right();
            byte[] buffer = new byte[300];
            for (int i = 0; i < buffer.length; i++) {
                buffer[i] = (byte) i;
            }
            assertThat(writer.sendBytes(buffer, 10, 100, Duration.ZERO)).isTrue();
            assertThat(writer.sendBytes(buffer, 0, 0, Duration.ZERO)).isTrue();
            assertThat(reader.recvBytes()).isEqualTo(java.util.Arrays.copyOfRange(buffer, 10, 110));
            assertThat(reader.recvBytes()).isEmpty();
            int sent = 0;
            while (writer.sendBytes(buffer, 0, 100, Duration.ZERO)) {
                sent++;
            }
            assertThat(sent).isBetween(5, 10);
            assertThat(writer.sendBytes(buffer, 200, 100, Duration.ofMillis(100))).isFalse();
            assertThatThrownBy(() -> writer.sendBytes(buffer, 250, 100, Duration.ZERO))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> writer.sendBytes(buffer, 0, 10, Duration.ofMillis(-1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout=");
            for (int i = 0; i < sent; i++) {
                assertThat(reader.recvBytes()).isEqualTo(java.util.Arrays.copyOfRange(buffer, 0, 100));
            }
            assertThat(reader.poll()).isFalse();
        }
    }

    @Test
    void capacityAndArgumentsAreCheckedNamingTheValue() {
        assertThatThrownBy(() -> Pipe.open(true, 10, IdleStrategy.blocking(), Codec.defaultCodec()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacityBytes=10");
        assertThatThrownBy(() -> Pipe.open(true, null)).isInstanceOf(NullPointerException.class);
    }
}
