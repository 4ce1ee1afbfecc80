package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SharedValueProxy;
import io.multiproc.manager.contract.ManagerContainersContract;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.reflect.InvocationTargetException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Manager-level container contract against a remote client: a local manager served on loopback by a
 * real {@link ManagerServer}, and a {@code Manager.connect} client to it. Queues need shared memory and are
 * refused by a remote manager (README, remote access), so the two queue cases are replaced by their
 * container halves.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteManagerContainersTest extends ManagerContainersContract {
    @Override
    protected Manager start() {
        Manager local = Manager.start();
        ManagerServer server = ManagerServer.start(local, RemoteManagerTest.LOOPBACK_ANY_PORT, RemoteManagerTest.KEY);
        Manager client = Manager.connect(server.address(), RemoteManagerTest.KEY);
        // the client, whose close also stops the server and the local manager behind it
        return (Manager) java.lang.reflect.Proxy.newProxyInstance(Manager.class.getClassLoader(), new Class<?>[] {Manager.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close") && method.getParameterCount() == 0) {
                        try {
                            client.close();
                        } finally {
                            server.close();
                            local.close();
                        }
                        return null;
                    }
                    try {
                        return method.invoke(client, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The contract's case without its queue (a remote manager serves no queues). */
    @Override
    @Test
    public void everyContainerKindStoresAndReadsBack() {
        List<Object> l = m().list();
        l.add("x");
        ConcurrentMap<String, Object> d = m().dict();
        d.put("k", 1);
        Namespace ns = m().namespace();
        ns.set("a", 2.5);
        SharedValueProxy<Integer> v = m().value(7);
        assertThat(l).containsExactly("x");
        assertThat(d).isEqualTo(Map.of("k", 1));
        assertThat(ns.<Double>get("a")).isEqualTo(2.5);
        assertThat(ns.has("a")).isTrue();
        assertThat(ns.names()).containsExactly("a");
        assertThat(v.get()).isEqualTo(7);
    }

    /** Not a test here: a remote manager serves no queues. */
    @Override
    public void boundedQueueRefusesBeyondItsBound() {
    }
}
