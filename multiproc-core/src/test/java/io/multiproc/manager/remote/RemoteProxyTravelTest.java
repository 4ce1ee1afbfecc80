package io.multiproc.manager.remote;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.ChildTaskEncoding;
import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Remote proxies that travel (decision 116): captured by a child's task or sent through a local queue,
 * a proxy of a remote manager's container re-attaches in the receiving process, authenticating with the
 * key that process inherited from its parent; the key never travels through a queue.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteProxyTravelTest {
    private static final byte[] KEY = "travelling key 1234".getBytes(StandardCharsets.UTF_8);

    private Manager local;
    private ManagerServer server;

    @BeforeEach
    void serve() {
        local = Manager.start();
        server = ManagerServer.start(local, RemoteManagerTest.LOOPBACK_ANY_PORT, KEY);
    }

    @AfterEach
    void stop() {
        server.close();
        local.close();
    }

    @Test
    void aRemoteDictCapturedByAChildsLambdaIsTheSameDictThere() throws Exception {
        try (Manager m = Manager.connect(server.address(), KEY)) {
            ConcurrentMap<String, Integer> d = m.dict();          // unnamed: no name to look it up by
            List<Integer> ls = m.list("log");
            d.put("parent", 1);
            ChildProcess c = ChildProcess.start(() -> {
                if (d.get("parent") != 1) {
                    throw new AssertionError("the child sees " + d);
                }
                d.put("child", 42);
                ls.add(7);                                      // pipelined: applied before the child exits
            });
            try {
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
            assertThat(d).containsEntry("child", 42);
            assertThat(local.<Integer>list("log")).containsExactly(7);
        }
    }

    /**
     * A proxy that travelled once is exported, and its token remembered: a task made after the manager
     * closed carried that token (and the key) to a child, where the dict still worked on a shared connection.
     */
    @Test
    void aProxyOfAClosedRemoteManagerFailsAtStartInsteadOfWorkingInTheChild() throws Exception {
        Manager m = Manager.connect(server.address(), KEY);
        ConcurrentMap<String, Integer> d = m.dict("closed-then-sent");
        ChildProcess first = ChildProcess.start(() -> d.put("while-open", 1));
        try {
            Children.joinOk(first);
        } finally {
            Children.reap(first);
        }
        m.close();
        ChildProcess[] started = new ChildProcess[1];
        try {
            assertThatThrownBy(() -> started[0] = ChildProcess.start(() -> d.put("after-close", 1)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(m.toString()).hasMessageContaining("closed");
        } finally {
            if (started[0] != null) {
                Children.joinOk(started[0]);
                Children.reap(started[0]);
            }
        }
        assertThat(local.<String, Integer>dict("closed-then-sent")).containsOnlyKeys("while-open");
    }

    /**
     * A process retrying a server that is down (a proxy it received, re-attached in a loop) added one
     * shutdown hook, a Thread kept until exit, per failed attempt. Run in a child: its shared connections
     * are this test's alone.
     */
    @Test
    void failedConnectsOfTravellingProxiesDoNotPileUpShutdownHooks() throws Exception {
        int port;
        try (java.net.ServerSocket down = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = down.getLocalPort(); // closed below: nobody listens there
        }
        int downPort = port;
        ChildProcess c = ChildProcess.start(() -> {
            java.net.InetSocketAddress address = new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), downPort);
            int before = RemoteManager.exitHooksAdded();
            for (int i = 0; i < 5; i++) {
                try {
                    RemoteManager.shared(address, KEY);
                    throw new AssertionError("connected to port " + downPort + ", where nothing should listen");
                } catch (java.io.UncheckedIOException expected) {
                    // the server is down: the caller would retry
                }
            }
            int added = RemoteManager.exitHooksAdded() - before;
            if (added > 1) {
                throw new AssertionError(added + " shutdown hooks added by 5 failed connects");
            }
        });
        try {
            assertThat(c.join(Children.TIMEOUT)).isTrue();
            assertThat(c.failure()).as("the child's failure").isEmpty();
            Children.joinOk(c);
        } finally {
            Children.reap(c);
        }
    }

    @Test
    void aProxySentThroughALocalQueueReattachesInAProcessThatInheritedTheKey() throws Exception {
        try (Manager m = Manager.connect(server.address(), KEY);
             SharedQueue<Object> q = SharedQueue.create(4);
             SharedQueue<Object> done = SharedQueue.create(4)) {
            ConcurrentMap<String, Integer> marker = m.dict();
            ChildProcess c = ChildProcess.start(() -> {
                marker.put("started", 1);                       // this task carried the key: the child has it now
                try {
                    @SuppressWarnings("unchecked")
                    List<Integer> received = (List<Integer>) q.poll(30, TimeUnit.SECONDS);
                    received.add(99);
                    done.put(received.size());
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                List<Integer> sent = m.list();                  // made after the child started
                sent.add(1);
                q.put(sent);                                    // the queue's bytes hold no key (see below)
                assertThat(done.poll(30, TimeUnit.SECONDS)).isEqualTo(2);
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
        }
    }

    @Test
    void aProcessWithoutTheKeyIsToldHowToGetOne() throws Exception {
        try (Manager m = Manager.connect(server.address(), KEY);
             SharedQueue<Object> q = SharedQueue.create(4)) {
            ChildProcess c = ChildProcess.start(() -> {        // captures no proxy: never got the key
                try {
                    q.poll(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                q.put(m.list());
                assertThat(c.join(java.time.Duration.ofSeconds(60))).isTrue();
                assertThat(c.exitCode()).hasValue(1);
                assertThat(c.failure()).get().asString().contains("no authkey").contains("Manager.connect");
            } finally {
                Children.reap(c);
            }
        }
    }

    @Test
    void theKeyTravelsOnlyInAChildsTaskNeverInQueueOrPipeBytes() {
        try (Manager m = Manager.connect(server.address(), KEY)) {
            List<Integer> ls = m.list();
            Codec codec = Codec.defaultCodec();
            BufferSink queued = new BufferSink(64);
            codec.encode(ls, queued);
            byte[] plain = Arrays.copyOf(queued.array(), queued.size());
            assertThat(indexOf(plain, KEY)).isNegative();
            byte[] task = ChildTaskEncoding.encode(() -> {
                BufferSink s = new BufferSink(64);
                codec.encode(ls, s);
                return Arrays.copyOf(s.array(), s.size());
            });
            assertThat(indexOf(task, KEY)).isNotNegative();
            // decoded in this process (which has the key), both are the same list
            @SuppressWarnings("unchecked")
            List<Integer> back = (List<Integer>) codec.decode(SegmentSource.of(plain));
            back.add(5);                       // pipelined on this process's shared connection, not m's
            assertThat(back.size()).isEqualTo(1); // a waiting call there: the add is applied
            assertThat(ls).containsExactly(5);
        }
    }

    @Test
    void aRemoteProxyInsideARequestOrReplyIsNotResolved() {
        try (Manager m = Manager.connect(server.address(), KEY)) {
            BufferSink s = new BufferSink(64);
            assertThatThrownBy(() -> ManagerServer.CODEC.encode(m.list(), new BufferSink(64))).hasMessageContaining("shared object");
            io.multiproc.codec.BuiltinCodec.builder().maxDepth(64).build().encode(m.list(), s);   // a hostile peer's codec
            byte[] bytes = Arrays.copyOf(s.array(), s.size());
            // refused by the wire's codec itself (decision 184); RemoteHandle's own refusal stays behind it
            assertThatThrownBy(() -> RemoteKeys.wireDecoding(() -> ManagerServer.CODEC.decode(SegmentSource.of(bytes))))
                    .hasMessageContaining("shared object");
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
