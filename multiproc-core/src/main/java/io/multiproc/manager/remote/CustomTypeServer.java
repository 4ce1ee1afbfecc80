package io.multiproc.manager.remote;

import io.multiproc.internal.RemoteFailure;
import io.multiproc.queue.Connection;
import io.multiproc.queue.SharedQueue;

import java.io.EOFException;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The custom-type server: runs in its own JVM (a {@code ChildProcess} the manager starts on the
 * first {@code create}), hosts the objects, and serves each channel in a thread of its own.
 * A channel is the far end of a duplex pipe some process made and put in {@link #inbox}; receiving
 * it moves it to this process. Requests on one channel are served in order; channels run
 * concurrently, so a hosted object is called from several threads at once (as in CPython's server,
 * which runs a thread per connection) and must be thread-safe if it is shared.
 *
 * <p>The server keeps the names of the channels it serves: when its manager's owner closes, it asks
 * for them ({@link CustomMessages.Closing}) before killing the server, and unlinks them, so that
 * processes which still pool a channel (and may never call again) do not keep it in /dev/shm. From
 * that request on, a channel that arrives is closed at once: it could be pooled by its process
 * after the list was sent, and would then outlive the manager.
 */
final class CustomTypeServer {
    private final Map<Long, Hosted> objects = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong(1);
    /** Names of the pipes of the channels being served; changed and read under its own monitor. */
    private final java.util.Set<String> channels = new java.util.HashSet<>();
    /** Set once by the owner's {@link CustomMessages.Closing} request; guarded by {@link #channels}. */
    private boolean closing;
    /** Resolved methods by interface and signature. */
    private final Map<Signature, Method> methods = new ConcurrentHashMap<>();

    /** A method as a call names it; a map key without building a string per call. */
    private record Signature(Class<?> iface, String name, List<String> parameterTypes) {
    }

    private record Hosted(Object object, Class<?> iface) {
    }

    /** The server's main loop: takes channels until the inbox is closed; the JVM ends with its parent. */
    static void run(SharedQueue<Object> inbox) {
        CustomTypeServer server = new CustomTypeServer();
        while (true) {
            Object next;
            try {
                next = inbox.take();
            } catch (InterruptedException | IllegalStateException e) {
                return; // closed: the manager is gone
            }
            if (next instanceof Connection c) {
                if (!server.accept(c)) {
                    c.close(); // the manager is closing: its caller sees end of stream, as from a dead server
                    continue;
                }
                // NOTE: a platform thread: a channel waiting in recv sleeps in a futex system call, which
                // pins a virtual thread's carrier; a few idle channels would starve all the others.
                Thread.ofPlatform().daemon(true).name("multiproc-custom-channel").start(() -> server.serve(c));
            }
        }
    }

    /** Records a new channel; false once the manager is closing. */
    private boolean accept(Connection channel) {
        synchronized (channels) {
            if (closing) {
                return false;
            }
            channels.add(channel.name());
            return true;
        }
    }

    /** Takes no more channels and lists the ones being served (the owner's close). */
    private List<String> closing() {
        synchronized (channels) {
            closing = true;
            return List.copyOf(channels);
        }
    }

    private void serve(Connection channel) {
        try (channel) {
            while (true) {
                Object request = channel.recv();
                CustomMessages.Reply reply = reply(request);
                try {
                    channel.send(reply);
                } catch (RuntimeException e) {
                    // NOTE: Connection.send encodes before it writes, so nothing of the refused reply is on
                    // the channel: the caller gets this failure instead, and the channel and the object
                    // stay usable (closing the channel here would look like a dead server to the caller)
                    channel.send(new CustomMessages.Reply(null, RemoteFailure.of(unsendable(request, reply.value(), e))));
                }
            }
        } catch (EOFException e) {
            // the client process closed the channel or died
        } catch (IOException | RuntimeException e) {
            // a broken channel ends only itself
        } finally {
            synchronized (channels) {
                channels.remove(channel.name());
            }
        }
    }

    /** Why a call's result cannot go back: an IllegalArgumentException naming the method and the value's class. */
    private IllegalArgumentException unsendable(Object request, Object value, RuntimeException e) {
        String what = "the result";
        if (request instanceof CustomMessages.Call c) {
            Hosted h = objects.get(c.objectId());
            what = "the return value of " + (h == null ? "" : h.iface().getName() + ".") + c.method() + "()";
        }
        return new IllegalArgumentException(what + ", a " + (value == null ? "null" : value.getClass().getName())
                + ", cannot be sent back from the custom-type server (return data the codec encodes: built-in types, "
                + "records, enums, collections of them): " + e.getMessage(), e);
    }

    private CustomMessages.Reply reply(Object request) {
        try {
            return new CustomMessages.Reply(execute(request), null);
        } catch (InvocationTargetException e) {
            return new CustomMessages.Reply(null, RemoteFailure.of(e.getCause()));
        } catch (Exception | Error e) {
            // NOTE: whatever the program's code throws, a factory's AssertionError or StackOverflowError
            // (a method's comes wrapped) or a checked exception thrown sneakily, is this request's failure.
            // Escaping, it ended the channel's thread and closed the channel, and the caller took the end
            // of stream for a dead server: every pooled channel closed, "objects it hosted are lost"
            return new CustomMessages.Reply(null, RemoteFailure.of(e));
        }
    }

    private Object execute(Object request) throws ReflectiveOperationException {
        return switch (request) {
            case CustomMessages.Create c -> {
                Class<?> iface = Class.forName(c.iface(), false, Thread.currentThread().getContextClassLoader());
                Object made = c.decodeFactory().get();
                if (!iface.isInstance(made)) {
                    throw new ClassCastException("the factory of typeId='" + c.typeId() + "' made a "
                            + (made == null ? "null" : made.getClass().getName()) + ", not a " + iface.getName());
                }
                long id = nextId.getAndIncrement();
                objects.put(id, new Hosted(made, iface));
                yield id;
            }
            case CustomMessages.Closing _ -> closing();
            case CustomMessages.Release r -> {
                for (Long id : r.objectIds()) {
                    objects.remove(id);
                }
                yield null;
            }
            case CustomMessages.Count _ -> (long) objects.size();
            case CustomMessages.Call c -> {
                Hosted h = objects.get(c.objectId());
                if (h == null) {
                    yield new CustomMessages.Missing(c.objectId()); // released: the caller knows its type id
                }
                Method m = method(h.iface(), c.method(), c.parameterTypes());
                Object result = m.invoke(h.object(), c.args().toArray());
                checkOrderTravels(h.iface(), m, result);
                yield result;
            }
            default -> throw new IllegalArgumentException("request of class "
                    + (request == null ? "null" : request.getClass().getName()));
        };
    }

    /**
     * A sorted result travels as its elements in order and the caller rebuilds it with natural ordering
     * (CustomProxy.fit), so one ordered by a comparator, for a method declared to return a sorted type,
     * is refused here rather than arriving re-sorted.
     */
    private static void checkOrderTravels(Class<?> iface, Method m, Object result) {
        java.util.Comparator<?> order = result instanceof java.util.SortedSet<?> s ? s.comparator()
                : result instanceof java.util.SortedMap<?, ?> sm ? sm.comparator() : null;
        Class<?> declared = m.getReturnType();
        if (order != null && (java.util.SortedSet.class.isAssignableFrom(declared) || java.util.SortedMap.class.isAssignableFrom(declared))) {
            throw new IllegalArgumentException("the return value of " + iface.getName() + "." + m.getName() + "(), a "
                    + result.getClass().getName() + " ordered by a comparator, cannot be sent back keeping its order "
                    + "(a sorted result arrives re-sorted by natural ordering): return it with natural ordering, or as a List");
        }
    }

    private Method method(Class<?> iface, String name, List<String> parameterTypes) throws ReflectiveOperationException {
        Signature key = new Signature(iface, name, parameterTypes);
        Method m = methods.get(key);
        if (m == null) {
            Class<?>[] types = new Class<?>[parameterTypes.size()];
            for (int i = 0; i < types.length; i++) {
                types[i] = typeNamed(parameterTypes.get(i),
                        iface.getClassLoader() != null ? iface.getClassLoader() : CustomTypeServer.class.getClassLoader());
            }
            m = iface.getMethod(name, types);
            // NOTE: a package-private interface's methods are public, but Method.invoke checks access to
            // the interface too, from this class: every call failed with IllegalAccessException. Class-path
            // packages are open, so this succeeds there; a named module must open the package to io.multiproc
            m.trySetAccessible();
            methods.put(key, m);
        }
        return m;
    }

    private static Class<?> typeNamed(String name, ClassLoader loader) throws ClassNotFoundException {
        return switch (name) {
            case "boolean" -> boolean.class;
            case "byte" -> byte.class;
            case "short" -> short.class;
            case "char" -> char.class;
            case "int" -> int.class;
            case "long" -> long.class;
            case "float" -> float.class;
            case "double" -> double.class;
            default -> Class.forName(name, false, loader);
        };
    }
}
