package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static io.multiproc.queue.Children.checksum;
import static io.multiproc.queue.Children.pattern;
import static io.multiproc.queue.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SimpleQueue: Python's put/get/empty/close. */
@ExtendWith(ReapChildrenCheckShm.class)
class SimpleQueueTest {

    @Test
    void putGetAndIsEmptyBehaveLikeCPythonsSimpleQueue() throws Exception {
        try (SimpleQueue<String> q = SimpleQueue.create()) {
            assertThat(q.isEmpty()).isTrue();
            q.put("a");
            q.put("b");
            assertThat(q.isEmpty()).isFalse();
            assertThat(q.get()).isEqualTo("a");
            assertThat(q.get()).isEqualTo("b");
            assertThat(q.isEmpty()).isTrue();
            assertThat(q.poll(Duration.ofMillis(50))).isNull();
            assertThatThrownBy(() -> q.put(null)).isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void getThrowsEndOfStreamOnceAClosedForWritingQueueIsDrained() throws Exception {
        try (SimpleQueue<String> q = SimpleQueue.create()) {
            q.put("last");
            q.closeForWriting();
            assertThatThrownBy(() -> q.put("more")).isInstanceOf(IllegalStateException.class).hasMessageContaining(q.name());
            assertThat(q.get()).isEqualTo("last");
            assertThatThrownBy(q::get).isInstanceOf(EndOfStreamException.class);
            assertThat(q.poll(Duration.ofSeconds(30))).isNull();
            assertThat(q.toString()).startsWith("SimpleQueue[name=" + q.name());
        }
    }

    @Test
    void itLooksUnboundedForManySmallAndSomeHugeItems() throws Exception {
        try (SimpleQueue<Object> q = SimpleQueue.create()) {
            for (int i = 0; i < 20_000; i++) {
                q.put(i);
            }
            q.put(pattern(9 << 20, 1)); // over half the 16 MiB ring: spills
            for (int i = 0; i < 20_000; i++) {
                assertThat(q.get()).isEqualTo(i);
            }
            assertThat(checksum((byte[]) q.get())).isEqualTo(checksum(pattern(9 << 20, 1)));
        }
    }

    @Test
    void aChildGetsWhatTheParentPutsAndAnswers() throws Exception {
        try (SimpleQueue<String> in = SimpleQueue.create(); SimpleQueue<String> out = SimpleQueue.create()) {
            ChildProcess child = ChildProcess.start(() -> {
                try {
                    out.put(in.get().toUpperCase(java.util.Locale.ROOT));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                in.put("ping");
                assertThat(out.poll(Children.JOIN)).isEqualTo("PING");
                Children.joinOk(child);
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void aClosedSimpleQueueThrowsNamingIt() {
        SimpleQueue<String> q = SimpleQueue.create();
        q.close();
        assertThatThrownBy(() -> q.put("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("SimpleQueue '" + q.name() + "' is closed");
        assertThatThrownBy(q::get).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(q::isEmpty).isInstanceOf(IllegalStateException.class);
    }
}
