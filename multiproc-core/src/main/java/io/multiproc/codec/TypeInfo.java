package io.multiproc.codec;

import io.multiproc.internal.MappedObject;

import java.io.Serializable;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the built-in codec writes the instances of one class that is not a scalar, decided once per
 * class. In order: multiproc's shared objects (their {@code writeReplace()} gives a
 * {@link SharedHandle}) as handles; enums; records (unless they declare their own serialization hooks
 * or are inaccessible); a {@link java.nio.file.Path} of the default file system; {@link java.util.Optional}
 * and its primitive forms; the JDK's {@code Map.Entry} classes that are not Serializable; the JDK's own
 * {@code List}, {@code Set} and {@code Map} classes but {@code IdentityHashMap} (an application's collection
 * classes, and an IdentityHashMap, keep their type through JDK serialization instead); anything else
 * {@code Serializable} through JDK serialization; the rest cannot be written.
 *
 * <p>Immutable and thread-safe.
 */
final class TypeInfo {
    enum Kind { HANDLE_SOURCE, ENUM, RECORD, PATH, OPTIONAL, ENTRY, LIST, SET, MAP, SERIALIZED, UNENCODABLE }

    /**
     * The class of the default file system's paths: one a task or an item names most often, which is not
     * Serializable; another file system's path (inside a zip file) means nothing in another process.
     */
    static final Class<?> DEFAULT_PATH = java.nio.file.Path.of("").getClass();

    private static final ClassValue<TypeInfo> INFOS = new ClassValue<>() {
        @Override
        protected TypeInfo computeValue(Class<?> type) {
            return new TypeInfo(type);
        }
    };

    final Kind kind;
    /** The class a class ref names: for an enum constant with a body, its enum class. */
    final Class<?> named;
    /** Index in {@link KnownClasses}, or -1. */
    final int knownIndex;
    /** The binary name in UTF-8, written when a value first refers to the class. */
    final byte[] nameUtf8;
    /** ENUM: each constant's name in UTF-8, by ordinal. */
    final byte[][] constantNames;
    /** RECORD. */
    final RecordType record;
    /** HANDLE_SOURCE: (Object)Object. */
    final MethodHandle writeReplace;
    /** UNENCODABLE: why. */
    final String refusal;

    private TypeInfo(Class<?> type) {
        Class<?> enumClass = enumClassOf(type);
        named = enumClass != null ? enumClass : type;
        knownIndex = KnownClasses.indexOf(named);
        nameUtf8 = named.getName().getBytes(StandardCharsets.UTF_8);
        MethodHandle replace = MappedObject.class.isAssignableFrom(type) || HandleSource.class.isAssignableFrom(type)
                ? findWriteReplace(type) : null;
        RecordType rt = type.isRecord() ? RecordType.of(type) : null;
        writeReplace = replace;
        record = rt;
        constantNames = enumClass == null ? null : constantNames(enumClass);
        String why = null;
        if (replace != null) {
            kind = Kind.HANDLE_SOURCE;
        } else if (enumClass != null) {
            kind = Kind.ENUM;
        } else if (rt != null && !rt.hasSerialHooks && rt.inaccessible == null) {
            kind = Kind.RECORD;
        } else if (type == DEFAULT_PATH) {
            kind = Kind.PATH;
        } else if (type == java.util.Optional.class || type == java.util.OptionalInt.class
                || type == java.util.OptionalLong.class || type == java.util.OptionalDouble.class) {
            kind = Kind.OPTIONAL;
        } else if (isUnserializableJdkEntry(type)) {
            kind = Kind.ENTRY;
        } else if (type == java.util.IdentityHashMap.class) {
            // NOTE: its keys may be equal and distinct: a LinkedHashMap would merge them (docs/decisions/200)
            kind = Kind.SERIALIZED;
        } else if (type.getClassLoader() == null && List.class.isAssignableFrom(type)) {
            kind = Kind.LIST;
        } else if (type.getClassLoader() == null && Set.class.isAssignableFrom(type)) {
            kind = Kind.SET;
        } else if (type.getClassLoader() == null && Map.class.isAssignableFrom(type)) {
            kind = Kind.MAP;
        } else if (Serializable.class.isAssignableFrom(type)) {
            kind = Kind.SERIALIZED;
        } else {
            kind = Kind.UNENCODABLE;
            why = rt != null && rt.inaccessible != null ? rt.inaccessible
                    : "not a type the built-in codec writes (null, boxes, String, primitive arrays, enums, records, "
                    + "List/Set/Map and their entries, Optional, Path, shared objects) and not Serializable";
        }
        refusal = why;
    }

    static TypeInfo of(Class<?> type) {
        return INFOS.get(type);
    }

    /**
     * A JDK entry class that JDK serialization refuses: {@code Map.entry}'s, a HashMap's or TreeMap's
     * entry (a starmap's items, a map's entries in a list). The serializable ones keep their class.
     */
    private static boolean isUnserializableJdkEntry(Class<?> type) {
        return type.getClassLoader() == null && Map.Entry.class.isAssignableFrom(type)
                && !Serializable.class.isAssignableFrom(type);
    }

    private static Class<?> enumClassOf(Class<?> type) {
        if (type.isEnum()) {
            return type;
        }
        Class<?> s = type.getSuperclass();
        return s != null && s.isEnum() ? s : null; // a constant with a body is a subclass of its enum
    }

    private static byte[][] constantNames(Class<?> enumClass) {
        Object[] constants = enumClass.getEnumConstants();
        byte[][] out = new byte[constants.length][];
        for (int i = 0; i < constants.length; i++) {
            out[i] = ((Enum<?>) constants[i]).name().getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }

    /** The nearest writeReplace() up the class chain, as JDK serialization finds it. */
    private static MethodHandle findWriteReplace(Class<?> type) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            try {
                Method m = c.getDeclaredMethod("writeReplace");
                m.trySetAccessible();
                return MethodHandles.lookup().unreflect(m).asType(MethodType.methodType(Object.class, Object.class));
            } catch (NoSuchMethodException e) {
                // look further up
            } catch (IllegalAccessException e) {
                return null;
            }
        }
        return null;
    }
}
