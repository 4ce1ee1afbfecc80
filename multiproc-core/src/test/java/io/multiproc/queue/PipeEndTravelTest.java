package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.EOFException;
import java.time.Duration;

import static io.multiproc.queue.Children.joinOk;
import static io.multiproc.queue.Children.reap;
import static io.multiproc.queue.PipeTest.io;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pipe ends travelling in queue items: whoever takes an end owns it, whatever its sender did meanwhile. */
@ExtendWith(ReapChildrenCheckShm.class)
class PipeEndTravelTest {

    @Test
    void endsAProcessPutInAQueueAndThenExitedNormallyWorkForThoseWhoTakeThem() throws Exception {
        try (SharedQueue<Connection> q = SharedQueue.create(2)) {
            ChildProcess sender = ChildProcess.start(() -> {
                Pipe p = Pipe.open();
                try {
                    q.put(p.left());
                    q.put(p.right());
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }); // returns without closing anything: a normal exit, with its exit hooks
            ChildProcess taker = null;
            try {
                joinOk(sender);
                Connection left = q.take();
                taker = ChildProcess.start(() -> io(() -> {
                    try (Connection right = q.take()) {
                        right.send("hello from the taker");
                    }
                }));
                assertThat(left.recv(Children.JOIN)).isEqualTo("hello from the taker");
                assertThatThrownBy(() -> left.recv(Children.JOIN)).as("the taker closed its end").isInstanceOf(EOFException.class);
                joinOk(taker);
                left.close();
            } finally {
                reap(sender, taker);
            }
        }
    }

    @Test
    void anEndThatComesBackToItsProcessAndIsClosedThereIsEndOfStreamForTheOtherEnd() throws Exception {
        try (SharedQueue<Connection> q = SharedQueue.create(2)) {
            Pipe p = Pipe.open();
            String segment = p.left().name();
            q.put(p.right());
            Connection back = q.take();
            assertThat(back).as("the same end object").isSameAs(p.right());
            back.send("sent after the round trip");
            assertThat(p.left().recv()).isEqualTo("sent after the round trip");
            back.close();
            assertThatThrownBy(() -> p.left().recv(Duration.ofSeconds(5))).isInstanceOf(EOFException.class);
            p.left().close();
            assertThat(ReapChildrenCheckShm.shmFiles()).as("both ends closed: the pipe's segment is gone while the queue lives")
                    .doesNotContain(segment);
        }
    }

    @Test
    void aProcessThatOnlyLooksAtAQueuedEndLeavesItToTheProcessThatTakesIt() throws Exception {
        try (Pipe p = Pipe.open(); SharedQueue<Connection> q = SharedQueue.create(2)) {
            q.put(p.right());
            ChildProcess monitor = ChildProcess.start(() -> {
                // looks in every way that decodes the item without taking it, then exits normally
                if (!q.toString().contains("Connection") || !q.contains(q.peek()) || !q.iterator().hasNext()) {
                    throw new IllegalStateException("the monitor did not see the end: " + q);
                }
            });
            ChildProcess taker = null;
            try {
                joinOk(monitor);
                taker = ChildProcess.start(() -> io(() -> {
                    try (Connection right = q.take()) {
                        right.send("hello from the taker");
                    }
                }));
                assertThat(p.left().recv(Children.JOIN)).isEqualTo("hello from the taker");
                assertThatThrownBy(() -> p.left().recv(Children.JOIN)).as("the taker closed its end").isInstanceOf(EOFException.class);
                joinOk(taker);
            } finally {
                reap(monitor, taker);
            }
        }
    }

    @Test
    void theSenderLookingAtTheEndItQueuedStillLetsItGoWhenItClosesItsCopy() throws Exception {
        try (Pipe p = Pipe.open(); SharedQueue<Connection> q = SharedQueue.create(2)) {
            q.put(p.right());
            assertThat(q.peek()).isSameAs(p.right());
            assertThat(q.toString()).contains("Connection");
            p.right().close(); // the copy left behind: the end in the queue stays open for its taker
            ChildProcess taker = ChildProcess.start(() -> io(() -> {
                try (Connection right = q.take()) {
                    right.send("hello from the taker");
                }
            }));
            try {
                assertThat(p.left().recv(Children.JOIN)).isEqualTo("hello from the taker");
                assertThatThrownBy(() -> p.left().recv(Children.JOIN)).isInstanceOf(EOFException.class);
                joinOk(taker);
            } finally {
                reap(taker);
            }
        }
    }
}
