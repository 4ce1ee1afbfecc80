package io.multiproc.manager.remote;

import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.manager.SerializableSupplier;
import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A manager's custom types ({@code Manager.register} / {@code Manager.create}): objects with behaviour
 * that live in a server JVM, used through a {@link java.lang.reflect.Proxy} of their interface.
 * Not part of the public API: a Manager delegates its {@code register} and {@code create} here.
 *
 * <pre>{@code
 * CustomTypes types = new CustomTypes("jobs");
 * types.register("counter", Counter::new, CounterApi.class);
 * CounterApi c = types.create("counter");     // starts the server JVM on first use
 * ChildProcess.start(() -> c.increment());     // the proxy travels; the child calls the same object
 * c.value();                                   // 1
 * types.close();                               // stops the server; its objects are gone
 * }</pre>
 *
 * <h2>Implementation overview</h2>
 * The server is a {@link ChildProcess} (warm, from the spare JVMs) running {@link CustomTypeServer}
 * over an inbox {@link SharedQueue}; every process talks to it over pooled duplex pipes
 * ({@link CustomChannels}). The factory travels with each {@code create} (JDK serialization of the
 * lambda, as for tasks). Proxies travel as a {@link CustomHandle} (inbox, server identity, object
 * id, interface name). Errors: an exception of the hosted object comes back through
 * {@code RemoteFailure} as the same type for the JDK contract exceptions, else
 * {@code io.multiproc.RemoteException}, with the server's trace; a dead server fails calls with
 * {@link IllegalStateException} within about 100 ms. The server is a daemon child: it dies with
 * the process that started it, and {@link #close()} stops it and unlinks its inbox and the pipes of
 * its channels, which other processes may still map (decision 140).
 *
 * <p>Lifetime (decision 222): the proxy {@code create} returns has a cleaner; once it is garbage and its
 * handle was never written ({@code writeReplace}: every route to another process, a container or a
 * stream goes through it), the object's id is sent to the server in a {@link CustomMessages.Release}
 * and the server forgets the object. A written proxy's object stays until close: a handle in flight
 * or stored may be decoded later, any number of times, by processes that report nothing. The creator
 * is the server's parent, so its death ends the server and everything it hosted.
 */
public final class CustomTypes implements AutoCloseable {
    private final String manager;
    private final Map<String, Registration> types = new ConcurrentHashMap<>();
    /** Guarded by this. */
    private ChildProcess server;
    private SharedQueue<Object> inbox;
    private ProcessIdentity serverId;
    private boolean closed;
    /** How long a closing owner waits for the server's list of channels; it is killed either way. */
    private static final Duration CLOSING_ANSWER = Duration.ofSeconds(1);
    /** Runs the release of each proxy {@code create} returned that became garbage; one daemon thread per JVM. */
    private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create(
            Thread.ofPlatform().daemon().name("multiproc-custom-cleaner").factory());
    /** Most object ids in one release message. */
    private static final int RELEASE_BATCH = 4096;
    /** Ids of objects whose creator's proxy is garbage and never escaped, not yet sent to the server. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Long> toRelease = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Whether a thread is sending {@link #toRelease}. */
    private final java.util.concurrent.atomic.AtomicBoolean releasing = new java.util.concurrent.atomic.AtomicBoolean();

    private record Registration(SerializableSupplier<?> factory, Class<?> iface) {
    }

    /** @param manager the manager's name, for messages and the server's process name */
    public CustomTypes(String manager) {
        this.manager = Objects.requireNonNull(manager, "manager");
    }

    /** Registers (or replaces, as CPython's register does) {@code typeId}. */
    public <T> void register(String typeId, SerializableSupplier<? extends T> factory, Class<T> exposedInterface) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(exposedInterface, "exposedInterface");
        if (typeId == null || typeId.isEmpty()) {
            throw new IllegalArgumentException("typeId=" + (typeId == null ? "null" : "''") + " must be a non-empty string");
        }
        if (!exposedInterface.isInterface()) {
            throw new IllegalArgumentException("exposedInterface=" + exposedInterface.getName()
                    + " must be an interface (the proxy implements it)");
        }
        types.put(typeId, new Registration(factory, exposedInterface));
    }

    /** A new object of {@code typeId}, built by its factory in the server JVM; a proxy of its interface. */
    @SuppressWarnings("unchecked")
    public <T> T create(String typeId) {
        Registration r = types.get(Objects.requireNonNull(typeId, "typeId"));
        if (r == null) {
            throw new IllegalArgumentException("typeId='" + typeId + "' is not registered with manager '" + manager
                    + "'; registered: " + types.keySet());
        }
        SharedQueue<Object> box;
        ProcessIdentity id;
        synchronized (this) {
            ensureServer();
            box = inbox;
            id = serverId;
        }
        long objectId = (Long) CustomChannels.call(box, id, manager,
                CustomMessages.Create.of(typeId, r.factory(), r.iface()));
        CustomProxy.Escape escape = new CustomProxy.Escape();
        Object proxy = CustomProxy.of(new CustomHandle(box, manager, id.pid(), id.startTicks(), objectId, typeId,
                r.iface().getName()), r.iface(), escape);
        CLEANER.register(proxy, new Dropped(this, objectId, escape));
        return (T) proxy;
    }

    /**
     * The cleaning action of a proxy {@code create} returned: holds the flag its writeReplace sets, never
     * the proxy. Only this proxy can release: any other proxy of the object, here or elsewhere, was made
     * from a handle this one wrote, which marked it escaped first (decision 222).
     */
    private record Dropped(CustomTypes types, long objectId, CustomProxy.Escape escape) implements Runnable {
        @Override
        public void run() {
            if (!escape.escaped) {
                types.release(objectId);
            }
        }
    }

    /** Queues {@code objectId}'s release; a daemon thread sends the queue in batches (not the cleaner's thread). */
    private void release(long objectId) {
        toRelease.add(objectId);
        if (releasing.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon(true).name("multiproc-custom-releases").start(this::sendReleases);
        }
    }

    private void sendReleases() {
        while (true) {
            List<Long> ids = new java.util.ArrayList<>();
            for (Long id; ids.size() < RELEASE_BATCH && (id = toRelease.poll()) != null; ) {
                ids.add(id);
            }
            if (ids.isEmpty()) {
                releasing.set(false);
                // an id queued after the poll and before the reset found the flag set and started nothing
                if (toRelease.isEmpty() || !releasing.compareAndSet(false, true)) {
                    return;
                }
                continue;
            }
            SharedQueue<Object> box;
            ProcessIdentity id;
            synchronized (this) {
                if (server == null) {
                    continue; // closed: the server and its objects are gone
                }
                box = inbox;
                id = serverId;
            }
            try {
                CustomChannels.call(box, id, manager, new CustomMessages.Release(ids));
            } catch (RuntimeException deadOrClosing) {
                // the server died or is being closed: the objects go with it
            }
        }
    }

    /** The server's pid, or -1 before the first {@code create} (for tests and tools). */
    public synchronized long serverPid() {
        return server == null ? -1 : server.pid();
    }

    /** How many objects the server hosts now (0 before the first {@code create}); for tests. */
    long hostedCount() {
        SharedQueue<Object> box;
        ProcessIdentity id;
        synchronized (this) {
            if (server == null) {
                return 0;
            }
            box = inbox;
            id = serverId;
        }
        return (Long) CustomChannels.call(box, id, manager, new CustomMessages.Count());
    }

    private void ensureServer() {
        if (closed) {
            throw new IllegalStateException("manager '" + manager + "' is closed");
        }
        if (server != null) {
            return;
        }
        SharedQueue<Object> box = SharedQueue.create(64);
        ChildProcess p;
        try {
            p = ChildProcess.builder().name("manager-" + manager + "-types").daemon(true)
                    .target(() -> CustomTypeServer.run(box)).start();
        } catch (RuntimeException e) {
            box.close();
            throw e;
        }
        ProcessIdentity id = ProcessIdentity.of(p.pid()).orElse(null);
        if (id == null) {
            p.close();
            box.close();
            throw new IllegalStateException("the custom-type server of manager '" + manager + "' died at start");
        }
        inbox = CustomChannels.inbox(id, box);
        server = p;
        serverId = id;
    }

    /**
     * Stops the server (its objects are gone; proxies then fail with IllegalStateException) and removes
     * what it used from /dev/shm: its inbox and the pipes of its channels, even those that other
     * processes still hold (pooled for a next call that may never come). Idempotent.
     */
    @Override
    public synchronized void close() {
        closed = true;
        if (server != null) {
            List<String> channels = channelsToRemove();
            server.close(); // SIGKILL and wait: hosted objects have no close protocol to honour
            String inboxName = inbox.name();
            CustomChannels.forget(serverId); // closes the inbox too
            server = null;
            // NOTE: after the kill, when nothing serves these pipes any more. A process that maps one
            // keeps its memory until it lets go (its next call finds the server dead and does, or its
            // exit), but the names go now, as the manager's heap segments do (decision 140)
            unlink(inboxName);
            for (String channel : channels) {
                unlink(channel);
            }
            // NOTE: a pipe this process let go of while the server still used it (an interrupted call)
            // had the server as its last holder: SIGKILLed, it releases nothing, so such pipes go now
            // rather than at the next JVM's startup sweep
            try {
                SegmentRegistry.sweep();
            } catch (IOException e) {
                System.getLogger("io.multiproc").log(System.Logger.Level.WARNING,
                        "manager '" + manager + "': cannot remove the segments its custom-type server held: " + e.getMessage());
            }
        }
    }

    /**
     * The pipes the server serves, which it then stops taking; empty if it is dead or does not answer
     * within {@link #CLOSING_ANSWER} (its channels then go when their processes next call or exit).
     */
    @SuppressWarnings("unchecked")
    private List<String> channelsToRemove() {
        try {
            return (List<String>) CustomChannels.call(inbox, serverId, manager, new CustomMessages.Closing(), CLOSING_ANSWER);
        } catch (RuntimeException deadOrStuck) {
            return List.of();
        }
    }

    private void unlink(String name) {
        try {
            SegmentRegistry.unlink(name);
        } catch (NoSuchFileException gone) {
            // its last holder let go of it (or multiproc clean removed it)
        } catch (IOException e) {
            System.getLogger("io.multiproc").log(System.Logger.Level.WARNING,
                    "manager '" + manager + "': cannot remove segment '" + name + "' of its custom-type server: " + e.getMessage());
        }
    }
}
