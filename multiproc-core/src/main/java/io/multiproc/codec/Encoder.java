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
    /** Lists, sets, maps and records written: each counts as {@link WireFormat#CONTAINER_COST} more bytes. */
    long containers;
    /** {@code out.position()} when the value started. */
    private final long begin;

    Encoder(BuiltinCodec codec, ByteSink out) {
        this.codec = codec;
        this.out = out;
        this.begin = out.position();
    }

    void write(Object v, int depth) {
        checkSize();
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
                writeElements(SET, (Collection<?>) v, depth);
            }
            case MAP -> {
                containers++;
                writeMap((Map<?, ?>) v, depth);
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
            throw Failures.sharedObjectRefused(v.getClass()); // NOTE: before writeReplace, which may mark it sent
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
                    case RecordType.DOUBLE -> out.writeDouble((double) g.invokeExact(r));
                    case RecordType.BOOLEAN -> out.writeByte((boolean) g.invokeExact(r) ? 1 : 0);
                    case RecordType.FLOAT -> out.writeFloat((float) g.invokeExact(r));
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
