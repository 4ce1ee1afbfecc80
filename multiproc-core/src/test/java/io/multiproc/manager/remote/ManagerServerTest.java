package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.multiproc.manager.remote.RemoteManagerTest.KEY;
import static io.multiproc.manager.remote.RemoteManagerTest.LOOPBACK_ANY_PORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A manager server's acceptor and handshake under failures and slow or racing peers, over real loopback sockets. */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerServerTest {
    private static final Duration QUICK = Duration.ofSeconds(3);

    private Manager local;
    private ManagerServer server;

    @BeforeEach
    void serve() {
        local = Manager.start();
        server = ManagerServer.start(local, LOOPBACK_ANY_PORT, KEY);
    }

    @AfterEach
    void stop() {
        server.close();
        local.close();
    }

    @Test
    void anErrorWhileSettingUpAConnectionEndsThatConnectionOnlyAndTheServerKeepsAccepting() {
        AtomicBoolean first = new AtomicBoolean(true);
        server.afterAccept = () -> {
            if (first.getAndSet(false)) {
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory");
            }
        };
        assertThatThrownBy(() -> RemoteManager.connect(server.address(), KEY, QUICK)).isInstanceOf(RuntimeException.class);
        try (Manager m = RemoteManager.connect(server.address(), KEY, QUICK)) {
            m.list("after").add(1);
            assertThat(m.list("after")).containsExactly(1);
        }
    }

    @Test
    void aConnectionAcceptedWhileTheServerClosesIsClosedToo() {
        server.afterAccept = server::close; // the close lands between accept and the connection's registration
        assertThatThrownBy(() -> RemoteManager.connect(server.address(), KEY, QUICK)).isInstanceOf(RuntimeException.class);
    }

    @Test
    void aPeerDribblingItsHandshakeIsCutOffAtTheHandshakeDeadlineNotPerByte() throws Exception {
        server.handshakeMillis = 500;
        try (Socket s = new Socket()) {
            s.connect(server.address(), 5_000);
            s.setSoTimeout(20_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            Wire.readFrame(in, Wire.MAX_HANDSHAKE_FRAME); // the server's challenge
            long start = System.nanoTime();
            Thread dribbler = Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(new byte[] {0, 0, 0, Wire.HMAC + Wire.CHALLENGE});
                    for (int i = 0; i < Wire.HMAC + Wire.CHALLENGE; i++) {
                        Thread.sleep(100); // well inside any per-read timeout
                        out.write(0);
                        out.flush();
                    }
                } catch (IOException | InterruptedException e) {
                    // the server closed the connection: what the test waits for
                }
            });
            InputStream raw = s.getInputStream();
            try {
                while (raw.read() >= 0) {
                    // a refusal frame would come only after the whole answer
                }
            } catch (IOException reset) {
                // closed too
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            dribbler.interrupt();
            dribbler.join(5_000);
            assertThat(millis).as("milliseconds until the server closed a peer sending 68 bytes over 6.8 s")
                    .isLessThan(3_000);
        }
        try (Manager m = RemoteManager.connect(server.address(), KEY, QUICK)) {
            assertThat(m.list("still")).isEmpty();
        }
    }
    @Test
    void strangersHoldingMoreConnectionsThanTheServerServesDoNotLockAKeyHolderOut() throws Exception {
        java.util.List<Socket> strangers = new java.util.ArrayList<>();
        try {
            // NOTE: silent peers that never answer the challenge: each may take the whole handshake's 10 s
            for (int i = 0; i < ManagerServer.MAX_CONNECTIONS + 20; i++) {
                Socket s = new Socket();
                strangers.add(s);
                s.connect(server.address(), 5_000);
            }
            try (Manager m = RemoteManager.connect(server.address(), KEY, QUICK)) {
                m.list("served").add(1);
                assertThat(m.list("served")).containsExactly(1);
            }
        } finally {
            for (Socket s : strangers) {
                s.close();
            }
        }
    }

    @Test
    void keyHoldersBeyondTheServersLimitAreToldSoAndTheOthersKeepTheirConnections() {
        java.util.List<Manager> clients = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < ManagerServer.MAX_CONNECTIONS; i++) {
                clients.add(RemoteManager.connect(server.address(), KEY, QUICK));
            }
            assertThatThrownBy(() -> RemoteManager.connect(server.address(), KEY, QUICK))
                    .hasMessageContaining("serves at most " + ManagerServer.MAX_CONNECTIONS + " connections");
            clients.get(0).list("kept").add(1);
            assertThat(clients.get(0).list("kept")).containsExactly(1); // the add is pipelined: this waits for it
            assertThat(clients.get(ManagerServer.MAX_CONNECTIONS - 1).list("kept")).containsExactly(1);
            clients.remove(0).close();
            // the server frees the slot once it reads the closed connection's end: soon, not at once
            long deadline = System.nanoTime() + QUICK.toNanos();
            while (true) {
                try (Manager again = RemoteManager.connect(server.address(), KEY, QUICK)) {
                    assertThat(again.list("kept")).containsExactly(1);
                    break;
                } catch (RuntimeException full) {
                    if (System.nanoTime() > deadline) {
                        throw full;
                    }
                }
            }
        } finally {
            clients.forEach(Manager::close);
        }
    }
}
