package io.multiproc.codec;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.UnaryOperator;

/**
 * What the built-in codec knows about one record class, computed once per class: its components'
 * accessors and its canonical constructor as method handles (made accessible where the record's
 * module allows it: always in the unnamed module), and a {@code readResolve()} if it declares one.
 * No field access, no {@code sun.misc.Unsafe}: a record is rebuilt through its own constructor, so its
 * validation runs on decoded data too.
 *
 * <p>Immutable and thread-safe.
 */
final class RecordType {
    /** Component kinds: how a component is written (see {@link WireFormat}, tag 0x29). */
    static final int REF = 0;
    static final int BOOLEAN = 1;
    static final int BYTE = 2;
    static final int SHORT = 3;
    static final int CHAR = 4;
    static final int INT = 5;
    static final int LONG = 6;
    static final int FLOAT = 7;
    static final int DOUBLE = 8;

    static final int TAKES_LIST = 1;
    static final int TAKES_SET = 2;
    static final int TAKES_MAP = 4;

    private static final Map<Class<?>, Integer> PRIMITIVE_KINDS = Map.of(boolean.class, BOOLEAN, byte.class, BYTE,
            short.class, SHORT, char.class, CHAR, int.class, INT, long.class, LONG, float.class, FLOAT, double.class, DOUBLE);

    /**
     * Collection classes a component may be declared as that the decoded ArrayList, LinkedHashSet or
     * LinkedHashMap is copied into: their copy constructors keep all they hold (no comparator, no bound).
     * Each returns null for a decoded value of the wrong shape.
     */
    private static final Map<Class<?>, UnaryOperator<Object>> COPIED_INTO = Map.of(
            ConcurrentHashMap.class, v -> v instanceof Map<?, ?> m ? new ConcurrentHashMap<>(m) : null,
            CopyOnWriteArrayList.class, v -> v instanceof List<?> l ? new CopyOnWriteArrayList<>(l) : null,
            CopyOnWriteArraySet.class, v -> v instanceof Set<?> s ? new CopyOnWriteArraySet<>(s) : null,
            Vector.class, v -> v instanceof List<?> l ? new Vector<>(l) : null,
            LinkedList.class, v -> v instanceof List<?> l ? new LinkedList<>(l) : null);

    private static final ClassValue<RecordType> TYPES = new ClassValue<>() {
        @Override
        protected RecordType computeValue(Class<?> type) {
            return new RecordType(type);
        }
    };

    final Class<?> type;
    final String[] names;
    final Class<?>[] types;
    final int[] kinds;
    /**
     * Per component, which of the classes the built-in format decodes collections to it can take: bit
     * {@link #TAKES_LIST} for ArrayList, {@link #TAKES_SET} for LinkedHashSet, {@link #TAKES_MAP} for
     * LinkedHashMap. A collection it cannot take travels keeping its own class (see {@code Encoder}).
     */
    final int[] takes;
    /**
     * Per component, the copy into its declared class (one of {@link #COPIED_INTO}) of the decoded
     * collection, or null. Used only for a value of exactly that class (not a subclass such as Stack).
     */
    final UnaryOperator<Object>[] copiers;
    /** (Object)T, T the component's primitive type or Object. */
    final MethodHandle[] getters;
    /** (Object[])Object: the canonical constructor, spread. */
    final MethodHandle constructor;
    /** (Object)Object, or null when the record declares none. */
    final MethodHandle readResolve;
    /** True when the record declares writeReplace or readResolve: JDK serialization must run them. */
    final boolean hasSerialHooks;
    /** Why the codec cannot use this record (its module does not open it, a class it names is missing), or null. */
    final String inaccessible;

    private RecordType(Class<?> type) {
        this.type = type;
        RecordComponent[] rc;
        String why = null;
        try {
            rc = type.getRecordComponents();
        } catch (LinkageError e) { // a component's class is missing or broken in this JVM
            rc = new RecordComponent[0];
            why = inaccessible(type, e);
        }
        int n = rc.length;
        names = new String[n];
        types = new Class<?>[n];
        kinds = new int[n];
        takes = new int[n];
        @SuppressWarnings("unchecked")
        UnaryOperator<Object>[] copy = new UnaryOperator[n];
        copiers = copy;
        getters = new MethodHandle[n];
        for (int i = 0; i < n; i++) {
            names[i] = rc[i].getName();
            types[i] = rc[i].getType();
            kinds[i] = kindOf(types[i]);
            takes[i] = (types[i].isAssignableFrom(ArrayList.class) ? TAKES_LIST : 0)
                    | (types[i].isAssignableFrom(LinkedHashSet.class) ? TAKES_SET : 0)
                    | (types[i].isAssignableFrom(LinkedHashMap.class) ? TAKES_MAP : 0);
            copiers[i] = COPIED_INTO.get(types[i]);
        }
        MethodHandle ctor = null;
        MethodHandle resolve = null;
        boolean hooks = false;
        if (why == null) {
            try {
                for (int i = 0; i < n; i++) {
                    MethodHandle g = unreflect(rc[i].getAccessor());
                    getters[i] = g.asType(MethodType.methodType(kinds[i] == REF ? Object.class : types[i], Object.class));
                }
                Constructor<?> c = type.getDeclaredConstructor(types);
                c.trySetAccessible();
                MethodHandle h = MethodHandles.lookup().unreflectConstructor(c);
                ctor = h.asType(h.type().generic()).asSpreader(Object[].class, n);
                Method rr = declared(type, "readResolve");
                resolve = rr == null ? null : unreflect(rr).asType(MethodType.methodType(Object.class, Object.class));
                hooks = rr != null || declared(type, "writeReplace") != null;
            } catch (IllegalAccessException | NoSuchMethodException | RuntimeException | LinkageError e) {
                // NOTE: LinkageError too: looking up a method resolves every declared method's
                // signature, and a class one of them names may be missing here
                why = inaccessible(type, e);
                ctor = null;
                resolve = null;
            }
        }
        constructor = ctor;
        readResolve = resolve;
        inaccessible = why;
        hasSerialHooks = hooks;
    }

    /**
     * Why the codec cannot rebuild {@code type}, with the fix: the module-info line, or Serializable; or
     * the class this JVM cannot load or link.
     */
    private static String inaccessible(Class<?> type, Throwable e) {
        if (e instanceof LinkageError) {
            return "record cannot be linked in this JVM (" + e + "); put the classes of its components on the "
                    + "class path of every process that decodes it";
        }
        Module m = type.getModule();
        String fix = m.isNamed()
                ? "add 'opens " + type.getPackageName() + " to io.multiproc;' to module " + m.getName() + "'s module-info.java"
                : "make it accessible to multiproc";
        return "record's members are not accessible to multiproc (" + e.getClass().getSimpleName() + "); " + fix
                + ", or make the record Serializable";
    }

    static RecordType of(Class<?> type) {
        return TYPES.get(type);
    }

    int size() {
        return kinds.length;
    }

    private static MethodHandle unreflect(Method m) throws IllegalAccessException {
        m.trySetAccessible();
        return MethodHandles.lookup().unreflect(m);
    }

    private static Method declared(Class<?> type, String name) {
        try {
            return type.getDeclaredMethod(name);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static int kindOf(Class<?> t) {
        return PRIMITIVE_KINDS.getOrDefault(t, REF);
    }
}
