package io.multiproc.codec;

import java.lang.reflect.Proxy;
import java.security.CodeSource;
import java.util.List;
import java.util.Set;

/**
 * Which classes a codec may decode (and, so that a sender fails at once, encode) by name: the classes
 * of records and enums in the built-in format, and every class of a JDK serialization stream.
 *
 * <p>Always allowed: primitives; arrays of allowed types ({@code Object[]} too: its elements are
 * checked one by one); the java.base value types of {@link #isJavaBaseValue}; multiproc's own
 * classes (those of the jar or directory this class came from). Then either every application class
 * (any class not defined by the JDK's bootstrap or platform class loader: the default), or, once
 * packages are configured, only classes in those packages; and classes allowed one by one. Dynamic
 * proxies are never read from a stream (a proxy's handler is a classic deserialization gadget); only
 * a {@link HandleSource} proxy that an allowed handle's readResolve made passes the filter; a lambda's hidden
 * class is allowed with the class that captured it.
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
            StackTraceElement.class, StringBuilder.class, StringBuffer.class,
            java.lang.invoke.SerializedLambda.class);
    /** Where multiproc's classes come from (a jar or a directory); null if unknown. */
    private static final String OWN_LOCATION = locationOf(AllowList.class);

    private final boolean applicationClasses;
    private final List<String> packages;
    private final Set<Class<?>> classes;
    private final ClassValue<Boolean> answers = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return decide(type);
        }
    };

    AllowList(boolean applicationClasses, List<String> packages, Set<Class<?>> classes) {
        this.applicationClasses = applicationClasses;
        this.packages = List.copyOf(packages);
        this.classes = Set.copyOf(classes);
    }

    boolean allows(Class<?> type) {
        return answers.get(type);
    }

    private boolean decide(Class<?> type) {
        if (type.isPrimitive()) {
            return true;
        }
        if (type.isArray()) {
            Class<?> component = type.getComponentType();
            return component == Object.class || allows(component);
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
            return host != type && allows(host);
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
     * The boxes, String, Number, Enum, StackTraceElement, StringBuilder/Buffer, SerializedLambda (a
     * lambda's serial form; its capturing class is checked on its own), the collections, concurrent
     * collections and atomics of java.util, regex patterns, java.time, java.math, and exceptions of
     * java.* packages.
     */
    static boolean isJavaBaseValue(Class<?> type) {
        if (type.getClassLoader() != null) {
            return false;
        }
        return JAVA_LANG.contains(type) || JAVA_BASE_PACKAGES.contains(type.getPackageName())
                || Throwable.class.isAssignableFrom(type) && type.getName().startsWith("java.");
    }

    private static boolean isOwn(Class<?> type) {
        return OWN_LOCATION != null && OWN_LOCATION.equals(locationOf(type));
    }

    /** As a string: URL.equals may resolve host names. */
    private static String locationOf(Class<?> type) {
        CodeSource cs = type.getProtectionDomain().getCodeSource();
        return cs == null || cs.getLocation() == null ? null : cs.getLocation().toExternalForm();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("java.base value types, multiproc's own classes, ");
        b.append(applicationClasses ? "application classes" : "packages=" + packages);
        if (!classes.isEmpty()) {
            b.append(", classes=").append(classes.stream().map(Class::getName).sorted().toList());
        }
        return b.toString();
    }
}
