package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.shm.SharedMemory;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Connection#wait(java.util.Collection, Duration)} over pipes, queues and child exits with real
 * child JVMs, and a {@link SharedMemory} that travels by name.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class ConnectionWaitTest {

    @Test
    void waitReturnsThePipesAndQueuesThatAreReadyAndNothingElse() throws Exception {
        Pipe a = Pipe.open(false);
        Pipe b = Pipe.open(false);
        try (Connection fromA = a.left(); Connection toA = a.right(); Connection fromB = b.left(); Connection toB = b.right();
             SharedQueue<String> q = SharedQueue.create(4)) {
            assertThat(Connection.wait(List.of(fromA, fromB, q), Duration.ofMillis(50))).isEmpty();

            try (ChildProcess p = ChildProcess.start(() -> {
                toB.send("from the child");
                q.put("queued");
            })) {
                Children.joinOk(p);
            }

            assertThat(Connection.wait(List.of(fromA, fromB, q), Children.TIMEOUT)).containsExactly(fromB, q);
            assertThat(fromB.recv()).isEqualTo("from the child");
            assertThat(q.take()).isEqualTo("queued");
        }
    }

    @Test
    void waitWakesWhenAChildSendsAndWhenAChildExits() throws Exception {
        Pipe a = Pipe.open(false);
        try (Connection in = a.left(); Connection out = a.right();
             ChildProcess sender = ChildProcess.start(() -> {
                 Thread.sleep(300);
                 out.send(1);
                 Thread.sleep(60_000);
             })) {
            List<Object> ready = Connection.wait(List.of(in), Children.TIMEOUT);
            assertThat(ready).containsExactly(in);

            CompletableFuture<ChildProcess> exit = sender.onExit();
            assertThat(Connection.wait(List.of(exit), Duration.ofMillis(50))).isEmpty();
            sender.kill();
            assertThat(Connection.wait(List.of(exit), Children.TIMEOUT)).containsExactly(exit);
        }
    }

    @Test
    void waitRejectsWhatItCannotWaitFor() {
        assertThatThrownBy(() -> Connection.wait(List.of("a string"), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("element=a string")
                .hasMessageContaining("java.lang.String");
    }

    @Test
    void sharedMemoryTravelsByNameToAChildAndThroughAPipe() throws Exception {
        Pipe pipe = Pipe.open(false);
        try (SharedMemory shm = SharedMemory.create(null, 64); Connection in = pipe.left(); Connection out = pipe.right()) {
            try (ChildProcess p = ChildProcess.start(() -> {
                shm.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 42);
                out.send(shm);
            })) {
                Children.joinOk(p);
            }
            assertThat(shm.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 42);
            try (SharedMemory back = (SharedMemory) in.recv()) {
                assertThat(back.name()).isEqualTo(shm.name());
                assertThat(back.size()).isEqualTo(64);
            }
            shm.unlink();
        }
    }
}
