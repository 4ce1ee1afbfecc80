package io.multiproc.queue;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.CodecException;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import io.multiproc.wait.IdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.util.List;

import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Queues and pipes carry data written by other processes, so their default codec does not run the
 * {@code readObject} code of application classes (the deserialization gadget surface): a class from the
 * application class path travels through them only once the user allows it. A child's task, written by
 * its parent, may capture any of them.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class DataChannelAllowListTest {

    /** Like a gadget: runs code of its own while it is deserialized. */
    static final class Gadget implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
        static volatile boolean readObjectRan;
        final String command;

        Gadget(String command) {
            this.command = command;
        }

        @Serial
        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            readObjectRan = true;
        }
    }

    record Trade(long id, String symbol, double price) {
    }

    enum Side { BUY, SELL }

    @Test
    void aGadgetLikeClassIsRefusedOnAQueueNamingTheClassAndTheFix() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(4)) {
            assertThatThrownBy(() -> q.put(new Gadget("touch /tmp/pwned")))
                    .isInstanceOf(CodecException.class)
                    .hasMessageContaining("class=" + Gadget.class.getName())
                    .hasMessageContaining("allowClasses(DataChannelAllowListTest.Gadget.class)");
            assertThat(q).isEmpty();
        }
    }

    @Test
    void aGadgetWrittenByAnotherProcessIsNotDecodedFromAQueue() throws Exception {
        Gadget.readObjectRan = false;
        // a writer whose codec allows everything (as a hostile or careless peer's would)
        try (SharedQueue<Object> writer = SharedQueue.create(4, 1 << 16, IdleStrategy.blocking(), BuiltinCodec.taskCodec());
             SharedQueue<Object> reader = SharedQueue.attach(writer.name())) {
            writer.put(List.of("harmless", new Gadget("touch /tmp/pwned")));
            assertThatThrownBy(reader::take)
                    .isInstanceOf(CodecException.class)
                    .hasMessageContaining("class=" + Gadget.class.getName() + " is not on the codec's allow-list");
            assertThat(Gadget.readObjectRan).as("its readObject never ran").isFalse();
        }
    }

    @Test
    void theSameClassTravelsInAChildsTask() throws Exception {
        Gadget g = new Gadget("echo ok");
        try (SharedLong ran = SharedLong.create(0)) {
            ChildProcess child = ChildProcess.start(() -> ran.set(Gadget.readObjectRan && g.command.equals("echo ok") ? 1 : 2));
            joinOk(child); // ReapChildrenCheckShm reaps it if this fails
            assertThat(ran.get()).as("decoded in the child, readObject and all").isEqualTo(1);
        }
    }

    @Test
    void aClassTheUserAllowsTravelsThroughAQueueSentToAChild() throws Exception {
        BuiltinCodec allowing = BuiltinCodec.builder().allowClasses(Gadget.class).build();
        try (SharedQueue<Object> q = SharedQueue.create(4, 1 << 16, IdleStrategy.blocking(), allowing)) {
            ChildProcess producer = ChildProcess.start(() -> {
                try {
                    q.put(new Gadget("from the child"));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            joinOk(producer); // ReapChildrenCheckShm reaps it if this fails
            assertThat(((Gadget) q.take()).command).isEqualTo("from the child");
        }
    }

    @Test
    void recordsEnumsAndMultiprocsOwnClassesNeedNoAllowing() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(4)) {
            RemoteFailure failure = RemoteFailure.of(new IllegalStateException("boom"));
            q.put(List.of(new Trade(1, "ACME", 9.5), Side.SELL, failure));
            assertThat(q.take()).isEqualTo(List.of(new Trade(1, "ACME", 9.5), Side.SELL, failure));
        }
    }
}
