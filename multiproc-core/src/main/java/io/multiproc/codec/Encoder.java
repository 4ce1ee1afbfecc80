package io.multiproc.codec;

import java.lang.invoke.MethodHandle;
import java.util.Collection;
import java.util.Map;

import static io.multiproc.codec.WireFormat.*;

/**
 * One encode call of a value that holds other values: writes it depth first, with this value's table
 * of classes already named (see {@link WireFormat}, class ref). Scalars never get here.
 *
 * <p>Used by one thread for one call.
 */
final class Encoder extends ClassTable {
    private final BuiltinCodec codec;
    private final ByteSink out;
    /**
     * A key's encoding ({@link BuiltinCodec#encodeKey}): sets and maps in the order of their elements' own
     * key bytes, NaN as its canonical bits, so that values equal by {@code equals} write equal bytes.
     */
    private final boolean canonical;
    /**
     * A canonical encoding's sort keys so far, by element identity, shared by the encoders of one call: each
     * element is encoded for sorting once, so sets nested in sets cost O(size x depth), not 2^depth.
     */
    private java.util.IdentityHashMap<Object, byte[]> sortKeys;
    /** Lists, sets, maps and records written: each counts as {@link WireFormat#CONTAINER_COST} more bytes. */
    long containers;
    /** {@code out.position()} when the value started. */
    private final long begin;

    Encoder(BuiltinCodec codec, ByteSink out) {
        this(codec, out, false);
    }

    Encoder(BuiltinCodec codec, ByteSink out, boolean canonical) {
        this.codec = codec;
        this.out = out;
        this.canonical = canonical;
        this.begin = out.position();
    }

    void write(Object v, int depth) {
        checkSize();
        if (canonical) {
            v = canonicalScalar(v);
        }
        if (!Scalars.write(out, v)) {
            writeComposite(v, depth);
        }
    }

    void writeComposite(Object v, int depth) {
        if (depth > codec.maxDepth) {
            throw Failures.tooDeep(depth, codec.maxDepth);
        }
        checkSize();
        TypeInfo info = TypeInfo.of(v.getClass());
        switch (info.kind) {
            case HANDLE_SOURCE -> writeHandle(v, info, depth);
            case ENUM -> {
                out.writeByte(ENUM);
                writeClassRef(info, null);
                byte[] name = info.constantNames[((Enum<?>) v).ordinal()];
                Varints.writeUnsigned(out, name.length);
                out.write(name);
            }
            case RECORD -> {
                containers++;
                out.writeByte(RECORD);
                writeClassRef(info, info.record);
                writeComponents(info.record, v, depth);
            }
            case PATH -> {
                out.writeByte(PATH);
                Scalars.writeString(out, v.toString());
            }
            case OPTIONAL -> writeOptional(v, depth);
            case ENTRY -> {
                containers++;
                out.writeByte(ENTRY);
                Map.Entry<?, ?> e = (Map.Entry<?, ?>) v;
                write(e.getKey(), depth + 1);
                write(e.getValue(), depth + 1);
            }
            case LIST -> {
                containers++;
                writeElements(LIST, (Collection<?>) v, depth);
            }
            case SET -> {
                containers++;
                if (canonical) {
                    writeSorted(SET, (Collection<?>) v, depth);
                } else {
                    writeElements(SET, (Collection<?>) v, depth);
                }
            }
            case MAP -> {
                containers++;
                if (canonical) {
                    writeSorted(MAP, ((Map<?, ?>) v).entrySet(), depth);
                } else {
                    writeMap((Map<?, ?>) v, depth);
                }
            }
            case SERIALIZED -> writeSerialized(v, depth);
            case UNENCODABLE -> throw Failures.unencodable(v.getClass(), info.refusal);
        }
    }

    private void writeElements(int tag, Collection<?> c, int depth) {
        int n = c.size();
        out.writeByte(tag);
        Varints.writeUnsigned(out, n);
        int written = 0;
        for (Object e : c) {
            if (++written > n) {
                break;
            }
            write(e, depth + 1);
        }
        checkCount(c, n, written);
    }

    /**
     * A NaN as its canonical bits ({@code Double.equals} and {@code Float.equals} compare those), anything
     * else as it is: for {@link #canonical} encodings.
     */
    static Object canonicalScalar(Object v) {
        if (v instanceof Double d && d.isNaN()) {
            return Double.NaN;
        }
        if (v instanceof Float f && f.isNaN()) {
            return Float.NaN;
        }
        return v;
    }

    /**
     * A set's elements (tag SET) or a map's entries (tag MAP, {@code c} its entry set) for a {@link #canonical}
     * encoding: in the unsigned byte order of each element's (each entry key's) own key encoding, whatever
     * order the collection iterates in (a LinkedHashSet's insertion order, a HashSet's table size, a Set.of's
     * per-JVM salt). Equal elements have equal key encodings, so equal sets and maps write equal bytes. Each
     * element is then written here as usual, so the class table stays this value's.
     */
    private void writeSorted(int tag, Collection<?> c, int depth) {
        int n = c.size();
        Object[] items = new Object[n];
        byte[][] keys = new byte[n][];
        int written = 0;
        for (Object e : c) {
            if (written == n) {
                written++;
                break;
            }
            Object sortBy = tag == MAP ? ((Map.Entry<?, ?>) e).getKey() : e;
            items[written] = tag == MAP ? new Object[] {sortBy, ((Map.Entry<?, ?>) e).getValue()} : e;
            keys[written++] = sortKey(sortBy, depth + 1);
        }
        checkCount(c, n, written);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> java.util.Arrays.compareUnsigned(keys[a], keys[b]));
        out.writeByte(tag);
        Varints.writeUnsigned(out, n);
        for (int i : order) {
            if (tag == MAP) {
                Object[] entry = (Object[]) items[i];
                write(entry[0], depth + 1);
                write(entry[1], depth + 1);
            } else {
                write(items[i], depth + 1);
            }
        }
    }

    /** {@code v}'s own key encoding (a class table of its own), computed once per element per call. */
    private byte[] sortKey(Object v, int depth) {
        if (sortKeys == null) {
            sortKeys = new java.util.IdentityHashMap<>();
        }
        byte[] key = v == null ? null : sortKeys.get(v);
        if (key == null) {
            BufferSink own = new BufferSink(32);
            Encoder sub = new Encoder(codec, own, true);
            sub.sortKeys = sortKeys;
            sub.write(v, depth);
            key = own.toByteArray();
            if (v != null) {
                sortKeys.put(v, key);
            }
        }
        return key;
    }

    /** An Optional, or an OptionalInt, OptionalLong or OptionalDouble (a kind byte, then the value or null). */
    private void writeOptional(Object v, int depth) {
        containers++;
        switch (v) {
            case java.util.Optional<?> o -> {
                out.writeByte(OPTIONAL);
                write(o.orElse(null), depth + 1);
            }
            case java.util.OptionalInt o -> {
                out.writeByte(OPTIONAL_PRIMITIVE);
                out.writeByte(0);
                write(o.isPresent() ? o.getAsInt() : null, depth + 1);
            }
            case java.util.OptionalLong o -> {
                out.writeByte(OPTIONAL_PRIMITIVE);
                out.writeByte(1);
                write(o.isPresent() ? o.getAsLong() : null, depth + 1);
            }
            case java.util.OptionalDouble o -> {
                out.writeByte(OPTIONAL_PRIMITIVE);
                out.writeByte(2);
                write(o.isPresent() ? o.getAsDouble() : null, depth + 1);
            }
            default -> throw new AssertionError(v.getClass());
        }
    }

    private void writeMap(Map<?, ?> m, int depth) {
        int n = m.size();
        out.writeByte(MAP);
        Varints.writeUnsigned(out, n);
        int written = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (++written > n) {
                break;
            }
            write(e.getKey(), depth + 1);
            write(e.getValue(), depth + 1);
        }
        checkCount(m, n, written);
    }

    /**
     * Fails once the bytes written and the containers made pass maxBytes, as the value is written: a value
     * is written as a tree, so one that shares its parts (a list holding the same sublist twice, 40 levels
     * deep) can be many times larger written than in memory, and would exhaust memory or never finish
     * before a check at the end.
     */
    private void checkSize() {
        long size = out.position() - begin;
        if (size + containers * CONTAINER_COST > codec.maxBytes) {
            throw Failures.tooBig(size, containers, codec.maxBytes);
        }
    }

    /** A collection changed by another thread while written would make a count that lies. */
    private static void checkCount(Object c, int n, int written) {
        if (written != n) {
            throw Failures.unencodable(c.getClass(), "size=" + n + " but " + written
                    + " elements were seen (changed while being encoded?)");
        }
    }

    private void writeHandle(Object v, TypeInfo info, int depth) {
        if (!codec.allowList.sharedObjects) {
            // NOTE: before writeReplace, which may mark it sent (or ask a remote server for an export token)
            throw canonical ? Failures.sharedObjectInKey(v.getClass()) : Failures.sharedObjectRefused(v.getClass());
        }
        Object handle;
        try {
            handle = (Object) info.writeReplace.invokeExact(v);
        } catch (Error e) {
            throw e;
        } catch (Throwable e) {
            throw Failures.unencodable(v.getClass(), "its writeReplace() failed: " + e);
        }
        TypeInfo hi = handle instanceof SharedHandle ? TypeInfo.of(handle.getClass()) : null;
        if (hi == null || hi.record == null) {
            writeSerialized(v, depth); // a shared object of another design: JDK serialization runs writeReplace itself
            return;
        }
        RecordType rt = hi.record;
        out.writeByte(HANDLE);
        writeClassRef(hi, rt);
        writeComponents(rt, handle, depth);
    }

    /** {@code v} as a JDK serialization stream, whose depth counts from {@code depth} (as the decoder's does). */
    private void writeSerialized(Object v, int depth) {
        byte[] bytes = JavaSerialization.encode(v, codec.allowList, codec.maxDepth - depth + 1);
        out.writeByte(SERIALIZED);
        Varints.writeUnsigned(out, bytes.length);
        out.write(bytes);
    }

    /**
     * The class's index if this value named it already (or it is well-known), else its name, and for
     * a record ({@code record} not null) its component count.
     */
    private void writeClassRef(TypeInfo info, RecordType record) {
        if (info.knownIndex >= 0) {
            Varints.writeUnsigned(out, info.knownIndex + 1);
            return;
        }
        Class<?> c = info.named;
        int i = indexOf(c);
        if (i >= 0) {
            Varints.writeUnsigned(out, KnownClasses.COUNT + i + 1);
            return;
        }
        if (!codec.allowList.allows(c)) {
            throw Failures.notAllowed(c.getName(), codec.allowList);
        }
        add(c);
        Varints.writeUnsigned(out, NEW_CLASS);
        Varints.writeUnsigned(out, info.nameUtf8.length);
        out.write(info.nameUtf8);
        if (record != null) {
            Varints.writeUnsigned(out, record.size());
        }
    }

    /**
     * A component of reference type. A List, Set or Map of a class the decoded ArrayList, LinkedHashSet or
     * LinkedHashMap is not (a component declared as TreeMap, Deque, EnumSet, ...) goes as JDK serialization,
     * keeping its class and comparator: the record's constructor would refuse the decoded one. Except a
     * value of exactly a class the decoder copies the decoded collection into (ConcurrentHashMap,
     * LinkedList, ...: see RecordType.copiers), which goes natively.
     */
    private void writeComponent(RecordType rt, int i, Object v, int depth) {
        checkSize();
        if (Scalars.write(out, v)) {
            return;
        }
        int takes = rt.takes[i];
        if (takes != (RecordType.TAKES_LIST | RecordType.TAKES_SET | RecordType.TAKES_MAP)) {
            int needs = switch (TypeInfo.of(v.getClass()).kind) {
                case LIST -> RecordType.TAKES_LIST;
                case SET -> RecordType.TAKES_SET;
                case MAP -> RecordType.TAKES_MAP;
                default -> 0;
            };
            if ((needs & ~takes) != 0 && !(rt.copiers[i] != null && v.getClass() == rt.types[i])) {
                writeKeepingClass(rt, i, v, depth);
                return;
            }
        }
        writeComposite(v, depth);
    }

    private void writeKeepingClass(RecordType rt, int i, Object v, int depth) {
        if (depth > codec.maxDepth) {
            throw Failures.tooDeep(depth, codec.maxDepth);
        }
        try {
            writeSerialized(v, depth);
        } catch (CodecException e) {
            throw new CodecException("component=" + rt.names[i] + " of record=" + rt.type.getName() + " (type="
                    + rt.types[i].getName() + ") holds a " + v.getClass().getName() + ", which keeps its class only "
                    + "through JDK serialization, and " + e.getMessage() + "; or declare the component as List, Set or Map", e);
        }
    }

    private void writeComponents(RecordType rt, Object r, int depth) {
        MethodHandle[] getters = rt.getters;
        int[] kinds = rt.kinds;
        int i = 0;
        try {
            for (; i < getters.length; i++) {
                MethodHandle g = getters[i];
                switch (kinds[i]) {
                    case RecordType.REF -> writeComponent(rt, i, (Object) g.invokeExact(r), depth + 1);
                    case RecordType.INT -> Varints.writeZigzag(out, (int) g.invokeExact(r));
                    case RecordType.LONG -> Varints.writeZigzag(out, (long) g.invokeExact(r));
                    case RecordType.DOUBLE -> {
                        double d = (double) g.invokeExact(r);
                        out.writeDouble(canonical && d != d ? Double.NaN : d); // a record's equals: Double.compare
                    }
                    case RecordType.BOOLEAN -> out.writeByte((boolean) g.invokeExact(r) ? 1 : 0);
                    case RecordType.FLOAT -> {
                        float f = (float) g.invokeExact(r);
                        out.writeFloat(canonical && f != f ? Float.NaN : f);
                    }
                    case RecordType.BYTE -> out.writeByte((byte) g.invokeExact(r));
                    case RecordType.SHORT -> out.writeShort((short) g.invokeExact(r));
                    default -> out.writeShort((char) g.invokeExact(r));
                }
            }
        } catch (CodecException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw Failures.unencodable(rt.type, "its accessor " + rt.names[i] + "() threw " + e);
        }
    }
}
