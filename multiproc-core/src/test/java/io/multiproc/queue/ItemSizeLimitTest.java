package io.multiproc.queue;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A message over the size limit is refused at the sender, and the queue or pipe goes on: near 2 GiB the
 * reader could not take it and it jammed everything behind it. The limit (1 GiB) is lowered here to 1 MB,
 * as a test JVM cannot allocate a gigabyte.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ItemSizeLimitTest {
    private int limit;

    @BeforeEach
    void lower() {
        limit = Spills.maxItemBytes;
        Spills.maxItemBytes = 1 << 20;
    }

    @AfterEach
    void restore() {
        Spills.maxItemBytes = limit;
    }

    @Test
    void aPipeMessageOverTheLimitIsRefusedAtTheSenderAndThePipeGoesOn() throws Exception {
        try (Pipe pipe = Pipe.open(true)) {
            assertThatThrownBy(() -> pipe.left().sendBytes(new byte[(1 << 20) + 1])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("length=1048577").hasMessageContaining("limit");
            pipe.left().sendBytes(new byte[1 << 20]);
            pipe.left().send("after");
            assertThat(pipe.right().recvBytes()).hasSize(1 << 20);
            assertThat(pipe.right().recv()).isEqualTo("after");
        }
    }

    @Test
    void aQueueItemOverTheLimitIsRefusedAtPutAndTheQueueGoesOn() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(6)) {
            assertThatThrownBy(() -> q.put(new byte[2 << 20])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("limit");
            q.put("after");
            assertThat(q.poll(Duration.ofSeconds(5))).isEqualTo("after");
        }
    }
}
