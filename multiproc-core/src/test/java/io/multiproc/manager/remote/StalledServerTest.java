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
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        InetSocketAddress at = new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port);
        byte[] key = KEY.clone();
        ChildProcess server = ChildProcess.start(() -> Manager.serve(at, key));
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

    private static RemoteManager connectWhenUp(InetSocketAddress at) throws InterruptedException {
        long deadline = System.nanoTime() + Children.TIMEOUT.toNanos();
        while (true) {
            try {
                return RemoteManager.connect(at, KEY, Duration.ofSeconds(1));
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
