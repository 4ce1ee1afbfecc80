package io.multiproc.manager.remote;

import io.multiproc.internal.ProcessIdentity;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The invocation handler of a custom-type proxy: every abstract method of the exposed interface is a
 * request to the server ({@link CustomChannels}); default methods run here (over the remote abstract
 * ones); {@code equals}/{@code hashCode} compare server and object id; {@code toString} names them.
 */
final class CustomProxy implements InvocationHandler {
    private final CustomHandle handle;
    private final ProcessIdentity server;
    /** The creator's proxy's record of its escape (CustomTypes.create); null for a proxy received here. */
    private final Escape escape;

    /**
     * Whether a creator's proxy was ever written for another process (its handle taken by the codec or by
     * JDK serialization): its cleaning action reads this, so it must never refer to the proxy.
     */
    static final class Escape {
        volatile boolean escaped;
    }

    private CustomProxy(CustomHandle handle, Escape escape) {
        this.handle = handle;
        this.server = new ProcessIdentity(handle.serverPid(), handle.serverStart());
        this.escape = escape;
    }

    static Object of(CustomHandle handle, Class<?> iface) {
        return of(handle, iface, null);
    }

    static Object of(CustomHandle handle, Class<?> iface, Escape escape) {
        if (!iface.isInterface()) {
            throw new IllegalArgumentException("exposedInterface=" + iface.getName() + " is not an interface");
        }
        return Proxy.newProxyInstance(loaderFor(iface), new Class<?>[] {iface, CustomObject.class},
                new CustomProxy(handle, escape));
    }

    /**
     * A class loader that sees both {@code iface} and {@link CustomObject}: the interface's own when it
     * does (an application's interface), else multiproc's when that sees the interface. A JDK interface
     * ({@code Supplier}, {@code Runnable}) has the bootstrap loader, which does not see CustomObject:
     * with it the proxy could not be made, after the server had built the object.
     */
    static ClassLoader loaderFor(Class<?> iface) {
        ClassLoader own = iface.getClassLoader();
        if (own != null && sees(own, CustomObject.class)) {
            return own;
        }
        ClassLoader ours = CustomObject.class.getClassLoader();
        if (sees(ours, iface)) {
            return ours;
        }
        throw new IllegalArgumentException("exposedInterface=" + iface.getName() + ": no class loader sees both it and "
                + CustomObject.class.getName() + " (its loader: " + own + ")");
    }

    private static boolean sees(ClassLoader loader, Class<?> c) {
        try {
            return Class.forName(c.getName(), false, loader) == c;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "equals" -> args[0] != null && Proxy.isProxyClass(args[0].getClass())
                        && Proxy.getInvocationHandler(args[0]) instanceof CustomProxy other && other.sameObject(this);
                case "hashCode" -> Long.hashCode(handle.objectId()) * 31 + Long.hashCode(handle.serverPid());
                default -> handle.iface() + "#" + handle.objectId() + " in " + CustomChannels.describe(server, handle.manager());
            };
        }
        if (method.getDeclaringClass() == CustomObject.class) {
            // writeReplace: the handle may now reach any process, so the creator never releases the object
            // (decision 222). Marked while the proxy is certainly reachable: its cleaner cannot run first
            if (escape != null) {
                escape.escaped = true;
            }
            java.lang.ref.Reference.reachabilityFence(proxy);
            return handle;
        }
        if (method.isDefault()) {
            return invokeDefault(proxy, method, args);
        }
        List<String> types = PARAMETER_TYPES.computeIfAbsent(method, CustomProxy::parameterTypes);
        List<Object> values = args == null ? new ArrayList<>() : new ArrayList<>(Arrays.asList(args));
        Object result;
        try {
            result = CustomChannels.call(handle.inbox(), server, handle.manager(),
                    new CustomMessages.Call(handle.objectId(), method.getName(), types, values));
        } finally {
            // NOTE: nothing here reads the proxy after the call began, so without this the GC could collect
            // it mid-call and its release overtake the call on another channel
            java.lang.ref.Reference.reachabilityFence(proxy);
        }
        if (result instanceof CustomMessages.Missing) {
            throw new IllegalStateException("the custom object typeId='" + handle.typeId() + "' " + handle.iface() + "#"
                    + handle.objectId() + " is no longer in " + CustomChannels.describe(server, handle.manager())
                    + ": it was released when its last proxy was dropped");
        }
        return fit(result, method.getReturnType());
    }

    /**
     * The result as the method's declared return type where the codec's decoded class is not one: the
     * codec decodes every JDK Set, Map and List as a LinkedHashSet, LinkedHashMap or ArrayList, so a
     * method declared to return SortedSet (a TreeSet) failed with ClassCastException in the proxy class.
     * A sorted result arrives in its order and is rebuilt with natural ordering; the server refuses one
     * ordered by a comparator for such a method ({@code CustomTypeServer}). Anything else is left as it
     * is (the proxy's ClassCastException then names both classes).
     */
    static Object fit(Object value, Class<?> type) {
        if (value == null || type.isPrimitive() || type.isInstance(value)) {
            return value;
        }
        if (value instanceof java.util.Set<?> s) {
            if (type.isAssignableFrom(java.util.TreeSet.class)) {
                return new java.util.TreeSet<>(s);
            } else if (type.isAssignableFrom(java.util.concurrent.ConcurrentSkipListSet.class)) {
                return new java.util.concurrent.ConcurrentSkipListSet<>(s);
            } else if (type.isAssignableFrom(java.util.concurrent.CopyOnWriteArraySet.class)) {
                return new java.util.concurrent.CopyOnWriteArraySet<>(s);
            }
        } else if (value instanceof java.util.Map<?, ?> m) {
            if (type.isAssignableFrom(java.util.TreeMap.class)) {
                return new java.util.TreeMap<>(m);
            } else if (type.isAssignableFrom(java.util.concurrent.ConcurrentHashMap.class)) {
                return new java.util.concurrent.ConcurrentHashMap<>(m);
            } else if (type.isAssignableFrom(java.util.concurrent.ConcurrentSkipListMap.class)) {
                return new java.util.concurrent.ConcurrentSkipListMap<>(m);
            }
        } else if (value instanceof List<?> l) {
            if (type.isAssignableFrom(java.util.LinkedList.class)) {
                return new java.util.LinkedList<>(l);
            } else if (type.isAssignableFrom(java.util.concurrent.CopyOnWriteArrayList.class)) {
                return new java.util.concurrent.CopyOnWriteArrayList<>(l);
            } else if (type.isAssignableFrom(java.util.Vector.class)) {
                return new java.util.Vector<>(l);
            }
        }
        return value;
    }

    /**
     * A method's parameter type names, as a call names them: made once per method (getParameterTypes
     * copies an array on each call, and the names were a new list per call).
     */
    private static final java.util.Map<Method, List<String>> PARAMETER_TYPES = new java.util.concurrent.ConcurrentHashMap<>();

    private static List<String> parameterTypes(Method method) {
        List<String> types = new ArrayList<>(method.getParameterCount());
        for (Class<?> t : method.getParameterTypes()) {
            types.add(t.getName());
        }
        return List.copyOf(types);
    }

    /**
     * Runs a default method of the interface here. {@link InvocationHandler#invokeDefault} checks access
     * from this class, so a package-private interface (the usual {@code interface Counter} beside the
     * program's classes) failed with an UndeclaredThrowableException; such a method then runs through a
     * private lookup in the interface (always granted for class-path code, whose packages are open).
     */
    private static Object invokeDefault(Object proxy, Method method, Object[] args) throws Throwable {
        Class<?> iface = method.getDeclaringClass();
        if (method.canAccess(proxy)) {
            return InvocationHandler.invokeDefault(proxy, method, args);
        }
        CustomProxy.class.getModule().addReads(iface.getModule());
        java.lang.invoke.MethodHandle h;
        try {
            h = java.lang.invoke.MethodHandles.privateLookupIn(iface, java.lang.invoke.MethodHandles.lookup())
                    .unreflectSpecial(method, iface);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("default method " + method + " of a non-public interface cannot run here: "
                    + "open its package to io.multiproc, or make the interface public", e);
        }
        return h.bindTo(proxy).invokeWithArguments(args == null ? new Object[0] : args);
    }

    private boolean sameObject(CustomProxy other) {
        return other.server.equals(server) && other.handle.objectId() == handle.objectId();
    }
}
