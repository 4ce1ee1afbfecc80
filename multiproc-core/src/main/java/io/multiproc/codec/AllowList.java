package io.multiproc.codec;

import java.lang.reflect.Proxy;
import java.security.CodeSource;
import java.util.List;
import java.util.Set;

/**
 * Which classes a codec may decode (and, so that a sender fails at once, encode) by name. Two lists:
 * {@link #allows} for the classes the built-in format names (records and enums, built through their
 * canonical constructor or by constant name, so no class-specific decoding code runs), and
 * {@link #allowsSerialized} for every class of a JDK serialization stream, the classic gadget surface.
 *
 * <p>Always allowed: primitives; arrays of allowed types ({@code Object[]} too: its elements are
 * checked one by one); the java.base value types of {@link #isJavaBaseValue}; multiproc's own
 * classes (io.multiproc.* from the jar or directory this class came from, so not the other classes of an
 * uber-jar); the packages and classes configured.
 * Application classes (any class not defined by the JDK's bootstrap or platform class loader):
 * <ul>
 *   <li>in the built-in format, all of them unless packages are configured (then only those);</li>
 *   <li>in JDK serialization, only on a trusted list ({@code allowApplicationClasses}: task frames from
 *       the parent). A data channel (queue, pipe, shared list, manager object) decodes no JDK stream of
 *       an application class the user did not allow: a third-party jar's {@code readObject} never runs
 *       on bytes another process wrote.</li>
 * </ul>
 * Dynamic proxies are never read from a stream (a proxy's handler is a classic deserialization gadget);
 * only a {@link HandleSource} proxy that an allowed handle's readResolve made passes the filter (a
 * manager's custom-type proxy). A lambda's hidden class is allowed with the class that captured it.
 *
 * <p>Immutable and thread-safe; answers are cached per class.
 */
final class AllowList {
    /** java.base packages whose (bootstrap-loaded) classes are all value types or collections. */
    private static final Set<String> JAVA_BASE_PACKAGES = Set.of("java.util", "java.util.concurrent",
            "java.util.concurrent.atomic", "java.util.regex", "java.time", "java.time.chrono", "java.time.format",
            "java.time.temporal", "java.time.zone", "java.math");
    private static final Set<Class<?>> JAVA_LANG = Set.of(Boolean.class, Byte.class, Short.class, Character.class,
            Integer.class, Long.class, Float.class, Double.class, Number.class, String.class, Enum.class,
            StackTraceElement.class, StringBuilder.class, StringBuffer.class);
    /**
     * java.util classes whose {@code readObject} calls a comparator read from the stream (the start of
     * the commons-collections and commons-beanutils gadget chains). Lists that trust all of java.* still
     * allow them.
     */
    private static final Set<Class<?>> COMPARING_ON_READ = Set.of(java.util.PriorityQueue.class,
            java.util.concurrent.PriorityBlockingQueue.class, java.util.concurrent.ConcurrentSkipListMap.class,
            java.util.concurrent.ConcurrentSkipListSet.class);
    /** Where multiproc's classes come from (a jar or a directory); null if unknown. */
    private static final String OWN_LOCATION = locationOf(AllowList.class);

    /** Application classes in the built-in format (records, enums). */
    private final boolean nativeApplicationClasses;
    /** Application classes in JDK serialization streams: trusted channels only. */
    final boolean serializedApplicationClasses;
    private final List<String> packages;
    private final Set<Class<?>> classes;
    private final ClassValue<Boolean> nativeAnswers = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return decide(type, nativeApplicationClasses);
        }
    };
    private final ClassValue<Boolean> serializedAnswers = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return decide(type, serializedApplicationClasses);
        }
    };

    AllowList(boolean nativeApplicationClasses, boolean serializedApplicationClasses, List<String> packages,
              Set<Class<?>> classes) {
        this(nativeApplicationClasses, serializedApplicationClasses, packages, classes, true);
    }

    AllowList(boolean nativeApplicationClasses, boolean serializedApplicationClasses, List<String> packages,
              Set<Class<?>> classes, boolean sharedObjects) {
        this.nativeApplicationClasses = nativeApplicationClasses;
        this.serializedApplicationClasses = serializedApplicationClasses;
        this.packages = List.copyOf(packages);
        this.classes = Set.copyOf(classes);
        this.sharedObjects = sharedObjects;
    }

    /**
     * Whether shared objects' handles ({@link SharedHandle} records, {@link HandleSource}s) may travel:
     * decoding one attaches to the object it names in the decoding process (maps a segment, takes a pipe
     * end over, connects to a Redis server named in it). False for data from another host.
     */
    final boolean sharedObjects;

    /** May a record or enum of {@code type} be written or read in the built-in format? */
    boolean allows(Class<?> type) {
        return nativeAnswers.get(type);
    }

    /** May {@code type} be written or read in a JDK serialization stream? */
    boolean allowsSerialized(Class<?> type) {
        return serializedAnswers.get(type);
    }

    /** True if {@code type} is refused as a shared object's handle (not for want of an allow-list entry). */
    boolean refusesSharedObject(Class<?> type) {
        return !sharedObjects && (SharedHandle.class.isAssignableFrom(type) || HandleSource.class.isAssignableFrom(type));
    }

    private boolean decide(Class<?> type, boolean applicationClasses) {
        if (type.isPrimitive()) {
            return true;
        }
        if (refusesSharedObject(type)) {
            return false; // NOTE: also inside JDK serialization streams, whose readResolve would attach it
        }
        if (type.isArray()) {
            Class<?> component = type.getComponentType();
            return component == Object.class || decide(component, applicationClasses);
        }
        if (Proxy.isProxyClass(type)) {
            // Streams never make proxies (CheckedInput refuses proxy class descriptors). A proxy class
            // reaches this check only as the class of what an allowed handle's readResolve returned
            // (the JDK filters that too): multiproc's own proxies (a custom type's) mark themselves so.
            return HandleSource.class.isAssignableFrom(type);
        }
        if (type.isHidden()) {
            // a lambda made by an allowed capturing class's $deserializeLambda$ (the JDK checks the
            // object readResolve returns): allowed with its nest host, the capturing class
            Class<?> host = type.getNestHost();
            return host != type && decide(host, applicationClasses);
        }
        if (type == TypeInfo.DEFAULT_PATH) {
            return true; // what SerializedPath's readResolve returns (the JDK filters that too); no code runs
        }
        if (classes.contains(type) || isJavaBaseValue(type) || isOwn(type)) {
            return true;
        }
        String name = type.getName();
        for (String p : packages) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        ClassLoader loader = type.getClassLoader();
        return applicationClasses && loader != null && loader != ClassLoader.getPlatformClassLoader();
    }

    /**
     * The boxes, String, Number, Enum, StackTraceElement, StringBuilder/Buffer, the collections,
     * concurrent collections and atomics of java.util (except those that run a comparator while they are
     * read), regex patterns, java.time, java.math, and exceptions of java.* packages. Not lambdas
     * ({@code SerializedLambda} runs the capturing class's code): those are for trusted lists.
     */
    static boolean isJavaBaseValue(Class<?> type) {
        if (type.getClassLoader() != null || COMPARING_ON_READ.contains(type)) {
            return false;
        }
        return JAVA_LANG.contains(type) || JAVA_BASE_PACKAGES.contains(type.getPackageName())
                || Throwable.class.isAssignableFrom(type) && type.getName().startsWith("java.");
    }

    /**
     * A class of multiproc's own: in its packages and from the jar or directory this class came from.
     * Both: an uber-jar holds third-party classes (with their {@code readObject}s) beside multiproc's,
     * and a class named io.multiproc.* elsewhere on the class path is nobody's promise.
     */
    private static boolean isOwn(Class<?> type) {
        return type.getName().startsWith("io.multiproc.") && OWN_LOCATION != null && OWN_LOCATION.equals(locationOf(type));
    }

    /** As a string: URL.equals may resolve host names. */
    private static String locationOf(Class<?> type) {
        CodeSource cs = type.getProtectionDomain().getCodeSource();
        return cs == null || cs.getLocation() == null ? null : cs.getLocation().toExternalForm();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("java.base value types, multiproc's own classes, ");
        if (serializedApplicationClasses) {
            b.append("application classes");
        } else if (nativeApplicationClasses) {
            b.append("application records and enums");
        }
        if (!packages.isEmpty()) {
            b.append(nativeApplicationClasses ? ", " : "").append("packages=").append(packages);
        }
        if (!classes.isEmpty()) {
            b.append(", classes=").append(classes.stream().map(Class::getName).sorted().toList());
        }
        return b.toString();
    }
}
