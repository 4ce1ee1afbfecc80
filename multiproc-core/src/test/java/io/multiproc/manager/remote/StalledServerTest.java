package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.multiproc.manager.remote.RemoteManagerTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server that stops reading (its JVM stopped with SIGSTOP, a hung host): a client's pipelined calls
 * fill the socket's buffers, and its next write must not wait forever.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class StalledServerTest {

    @Test
    void pipelinedCallsToAServerThatStoppedReadingFailWithinTheReplyTimeout() throws Exception {
        InetSocketAddress at = freeLoopbackAddress();
        ChildProcess server = serveIn(at);
        try {
            RemoteManager client = connectWhenUp(at);
            List<Object> ls = client.list();
            assertThat(ls.size()).isZero(); // up; nothing left unconfirmed (another thread would sync first)
            signal(server.pid(), "STOP");
            String item = "x".repeat(4096);
            CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    for (int i = 0; i < 1_000_000; i++) {
                        ls.add(item); // pipelined: the socket's buffers fill, then a write blocks
                    }
                    return null;
                } catch (RuntimeException e) {
                    return e;
                }
            });
            // Before, the blocked write waited forever (a stopped server) or ~15 minutes (a vanished host).
            Throwable t = outcome.get(30, TimeUnit.SECONDS);
            assertThat(t).isNotNull().hasMessageContaining("writing");
            client.close();
        } finally {
            signal(server.pid(), "CONT");
            server.terminate(); // SIGTERM: its exit removes the served manager's segments (SIGKILL would leave them to a sweep)
            if (!server.join(Children.TIMEOUT)) {
                server.kill();
            }
        }
    }

    @Test
    void aLargeWriteOverASlowLinkThatKeepsMovingIsNotTakenForAStalledServer() throws Exception {
        try (Manager local = Manager.start();
             ManagerServer server = ManagerServer.start(local, RemoteManagerTest.LOOPBACK_ANY_PORT, KEY);
             SlowLink link = new SlowLink(server.address(), 32 << 10, 10)) {   // ~3 MB/s towards the server
            // a reply timeout well below the whole write's time (~4 s past the socket's buffers), well above
            // the time the kernel lets a blocked writer wait for room (a third of a 4 MB buffer: ~0.4 s)
            try (Manager client = Manager.connect(link.address(), KEY, Duration.ofMillis(1_500))) {   // the public way
                List<Object> ls = client.list("slow");
                List<String> batch = java.util.Collections.nCopies(16, "x".repeat(1 << 20));
                ls.addAll(batch);   // pipelined, one 16 MB frame: the write takes seconds, and moves all along
                Children.awaitUntil("the server has the batch", () -> local.list("slow").size() == batch.size());
                assertThat(ls.size()).isEqualTo(batch.size());
            }
        }
    }

    /**
     * "The manager server was killed while my calls were waiting on it": the waiting call fails with a
     * clear exception soon after the death, long before the reply timeout, and so does the next one.
     */
    @Test
    void callsWaitingOnAServerKilledWithSigkillFailPromptlyNotAtTheReplyTimeout() throws Exception {
        InetSocketAddress at = freeLoopbackAddress();
        ChildProcess server = serveIn(at);
        try {
            RemoteManager client = connectWhenUp(at, Duration.ofMinutes(5));
            List<Object> ls = client.list();
            java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
            List<String> batch = java.util.Collections.nCopies(8, "x".repeat(1 << 20));
            CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    for (;;) {
                        ls.addAll(batch);   // 8 MB requests: the kill lands while one is on its way or answered
                        ls.clear();
                        calls.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    return e;
                }
            });
            Children.awaitUntil("calls reach the server", () -> calls.get() >= 2);
            long t0 = System.nanoTime();
            server.kill();
            Throwable t = outcome.get(20, TimeUnit.SECONDS); // TimeoutException: the call waits for the 5 min reply timeout
            assertThat(System.nanoTime() - t0).as("the death is seen well before the reply timeout")
                    .isLessThan(TimeUnit.SECONDS.toNanos(20));
            assertThat(t).isNotNull();
            assertThat(org.assertj.core.api.Assertions.catchThrowable(ls::size)).as("the next call").isNotNull();
            client.close();
        } finally {
            server.kill();
            server.join(Children.TIMEOUT);
            io.multiproc.internal.SegmentRegistry.sweep(); // SIGKILL left the served manager's segments to a sweep
        }
    }

    /** A TCP relay to {@code target} that forwards towards it {@code chunk} bytes every {@code pauseMillis}. */
    static final class SlowLink implements AutoCloseable {
        private final ServerSocket listener;
        private final List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

        SlowLink(InetSocketAddress target, int chunk, long pauseMillis) throws java.io.IOException {
            listener = new ServerSocket();
            listener.setReceiveBufferSize(chunk); // accepted sockets inherit it: little waits in the link's buffers
            listener.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    java.net.Socket in = listener.accept();
                    java.net.Socket out = new java.net.Socket(target.getAddress(), target.getPort());
                    sockets.add(in);
                    sockets.add(out);
                    Thread.ofPlatform().daemon(true).start(() -> pump(out, in, 64 << 10, 0));
                    pump(in, out, chunk, pauseMillis);
                } catch (java.io.IOException e) {
                    // closed
                }
            });
        }

        private static void pump(java.net.Socket from, java.net.Socket to, int chunk, long pauseMillis) {
            byte[] b = new byte[chunk];
            try {
                for (int n; (n = from.getInputStream().read(b)) > 0; ) {
                    to.getOutputStream().write(b, 0, n);
                    if (pauseMillis > 0) {
                        Thread.sleep(pauseMillis);
                    }
                }
            } catch (java.io.IOException | InterruptedException e) {
                // closed
            }
        }

        InetSocketAddress address() {
            return (InetSocketAddress) listener.getLocalSocketAddress();
        }

        @Override
        public void close() throws java.io.IOException {
            listener.close();
            for (java.net.Socket s : sockets) {
                s.close();
            }
        }
    }

    private static InetSocketAddress freeLoopbackAddress() throws java.io.IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), probe.getLocalPort());
        }
    }

    /** A child JVM serving a manager at {@code at}. */
    private static ChildProcess serveIn(InetSocketAddress at) {
        byte[] key = KEY.clone();
        return ChildProcess.start(() -> Manager.serve(at, key));
    }

    private static RemoteManager connectWhenUp(InetSocketAddress at) throws InterruptedException {
        return connectWhenUp(at, Duration.ofSeconds(1));
    }

    private static RemoteManager connectWhenUp(InetSocketAddress at, Duration replyTimeout) throws InterruptedException {
        long deadline = System.nanoTime() + Children.TIMEOUT.toNanos();
        while (true) {
            try {
                return RemoteManager.connect(at, KEY, replyTimeout);
            } catch (java.io.UncheckedIOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(50);
            }
        }
    }

    private static void signal(long pid, String sig) throws Exception {
        new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor();
    }
}
