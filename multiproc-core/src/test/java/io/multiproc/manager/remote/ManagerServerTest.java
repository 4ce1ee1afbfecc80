package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

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
}
