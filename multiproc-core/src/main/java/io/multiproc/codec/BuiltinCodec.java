package io.multiproc.codec;

import java.io.InvalidObjectException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * multiproc's default {@link Codec}: a compact tagged binary format (its table is in the source of
 * {@code WireFormat} and in docs/decisions/010) for the
 * types that cross processes most, and JDK serialization behind an allow-list for everything else
 * that is {@code Serializable}.
 *
 * <pre>{@code
 * record Trade(long id, String symbol, double price, int qty) {}
 *
 * Codec codec = Codec.defaultCodec();                      // a BuiltinCodec with the defaults below
 * BufferSink out = new BufferSink(64);
 * codec.encode(List.of(new Trade(1, "ACME", 9.5, 100), Side.BUY), out);
 * Object back = codec.decode(SegmentSource.of(out.toByteArray()));   // [Trade[id=1, ...], BUY]
 *
 * Codec strict = BuiltinCodec.builder()
 *         .allowPackages("com.acme.")                       // only com.acme.* besides the JDK's value types
 *         .maxDepth(32).maxBytes(1 << 20)
 *         .build();
 * }</pre>
 *
 * <h2>Written natively</h2>
 * Reflection is used only on records' accessors and canonical constructors and on shared objects'
 * {@code writeReplace}/{@code readResolve}; no {@code sun.misc.Unsafe}, no {@code --add-opens}.
 * <ul>
 *   <li>null, Boolean, Byte, Short, Character, Integer, Long, Float, Double, String (UTF-8, exact for
 *       any Java string), byte[] and every other primitive array (copied in bulk).</li>
 *   <li>Enum constants, by class name and constant name (so reordering constants is harmless).</li>
 *   <li>Records, through their accessors and canonical constructor: they need not be
 *       {@code Serializable}, their components may be anything this codec writes, and the
 *       constructor's validation runs on decoding. A record that declares {@code writeReplace} or
 *       {@code readResolve} goes through JDK serialization so that those run.</li>
 *   <li>The JDK's {@code List}, {@code Set} and {@code Map} classes (ArrayList, List.of, HashMap,
 *       TreeSet, views, ...), decoded as a mutable {@code ArrayList}, {@code LinkedHashSet} or
 *       {@code LinkedHashMap} in the original iteration order. Sortedness, comparators, immutability
 *       and concurrency are not carried over. An application's own collection classes, and an
 *       {@code IdentityHashMap} (whose equal keys a LinkedHashMap would merge), go through JDK
 *       serialization instead, keeping their type; a set or map whose elements are equal once decoded
 *       (a set over an IdentityHashMap) fails to decode rather than arrive smaller. A record component declared as a collection class
 *       the decoded one is not keeps its class: {@code ConcurrentHashMap}, {@code CopyOnWriteArrayList},
 *       {@code CopyOnWriteArraySet}, {@code Vector} and {@code LinkedList} by a copy of the decoded
 *       collection, the others ({@code TreeMap}, {@code SortedSet}, {@code EnumSet}, {@code Deque}, ...)
 *       by JDK serialization, with their comparator, under its allow-list.</li>
 *   <li>A {@link java.nio.file.Path} of the default file system, as its string form (decoded with
 *       {@code Path.of}; a path of another file system, inside a zip file, is refused), an
 *       {@link java.util.Optional} (and {@code OptionalInt}, {@code OptionalLong}, {@code OptionalDouble}),
 *       and a JDK {@code Map.Entry} that is not Serializable ({@code Map.entry}, a HashMap's entry;
 *       decoded as an {@code AbstractMap.SimpleImmutableEntry}). These also inside a JDK serialization
 *       stream (a serializable lambda's captured arguments), where the JDK would refuse them.</li>
 *   <li>multiproc's shared objects (values, arrays, locks, ...), as their {@link SharedHandle}: the
 *       receiver attaches to the same shared memory (and should close what it receives).</li>
 * </ul>
 * Values are written as trees: an object referenced twice arrives as two copies, and a cycle fails at
 * the depth limit.
 *
 * <h2>Everything else: JDK serialization behind an allow-list</h2>
 * Other {@code Serializable} objects travel as JDK serialization streams, decoded through an
 * {@link java.io.ObjectInputFilter}. JDK serialization runs each class's own {@code readObject} code on
 * the bytes, so the default codec (used by queues, pipes, shared lists and manager objects: data
 * channels) allows it only for the java.base value types (boxes, String, the java.util collections and
 * concurrent collections except those that run a comparator while reading, java.time, java.math, regex
 * patterns, exceptions of java.* packages), multiproc's own classes, and the classes and packages
 * registered with {@link Builder#allowClasses} and {@link Builder#allowPackages}. Records and enums of
 * any application class (a class not defined by the JDK's bootstrap or platform class loader) travel in
 * the native format; naming packages narrows those to the packages too. The broad list, every
 * application class and every {@code java.*}/{@code javax.*} class, serializable lambdas included, is
 * {@link #taskCodec()}'s: for code the program sends itself (a child's task, a barrier's action). Dynamic
 * proxies are never allowed. The lists are checked when encoding too, so a refused class fails at the
 * sending call, naming the class and how to allow it. Anything that is neither native nor
 * {@code Serializable} fails to encode.
 *
 * <h2>Limits and failures</h2>
 * Every failure is a {@link CodecException} naming the class or value at fault. A failed encode into a
 * {@link BufferSink} leaves the sink as it was. Decoding checks every length against the bytes left
 * (so hostile input cannot make it allocate more than a small multiple of its own size), nesting
 * against {@code maxDepth} (default {@value #DEFAULT_MAX_DEPTH}; encoding too, JDK-serialized parts included:
 * their stream is read back once without resolving any class, so no class's code runs) and the size of one value
 * against {@code maxBytes} (default {@value #DEFAULT_MAX_BYTES}; each list, set, map and record counts as 32
 * bytes more, encoding and decoding alike, so that input cannot make objects many times its size; both stop
 * as soon as a value passes it). A value nested deeper than the encoding thread's stack holds (a maxDepth
 * raised that far) fails with a CodecException too. Truncated input always fails; a
 * garbled byte fails too unless it still spells a valid encoding (a changed digit of a number, a
 * changed letter: there is no checksum), and malformed UTF-8 decodes to U+FFFD as in the JDK. A shared
 * object attached while decoding a value that then turns out malformed is closed again.
 *
 * <p>Immutable and thread-safe. Classes are resolved through the builder's class loader, or else the
 * decoding thread's context class loader, or else multiproc's.
 */
public final class BuiltinCodec implements Codec, Serializable {
    public static final int DEFAULT_MAX_DEPTH = 256;
    public static final int DEFAULT_MAX_BYTES = 256 << 20;
    @Serial
    private static final long serialVersionUID = 1L;

    final transient AllowList allowList;
    final transient int maxDepth;
    final transient int maxBytes;
    private final transient ClassLoader loader;
    private final transient ClassNames classNames = new ClassNames();
    /** What the builder was given, for the serialized form. */
    private final transient List<String> packages;
    private final transient List<Class<?>> classes;

    /** Holds the task codec, created on first use. */
    private static final class TaskCodecHolder {
        static final BuiltinCodec TASKS = builder().allowPackages("java.", "javax.").allowApplicationClasses().build();
    }

    /**
     * The codec for what the program sends itself on a trusted channel: a child's task (from its
     * parent), a barrier's action. It allows every {@code java.*} and {@code javax.*} class and every
     * application class in JDK serialization too, serializable lambdas included. Never use it for data
     * other processes write (queues, pipes): their default codec is narrower on purpose.
     */
    public static BuiltinCodec taskCodec() {
        return TaskCodecHolder.TASKS;
    }

    private BuiltinCodec(Builder b) {
        this.packages = List.copyOf(b.packages);
        this.classes = List.copyOf(b.classes);
        boolean trusted = b.applicationClasses;
        this.allowList = new AllowList(trusted || b.packages.isEmpty(), trusted, new ArrayList<>(b.packages), b.classes,
                b.sharedObjects);
        this.maxDepth = b.maxDepth;
        this.maxBytes = b.maxBytes;
        this.loader = b.loader;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void encode(Object value, ByteSink out) {
        encode(value, out, false);
    }

    private void encode(Object value, ByteSink out, boolean canonical) {
        long begin = out.position();
        try {
            long containers = 0;
            Object v = canonical ? Encoder.canonicalScalar(value) : value;
            if (!Scalars.write(out, v)) {
                Encoder e = new Encoder(this, out, canonical);
                e.writeComposite(v, 1);
                containers = e.containers;
            }
            long size = out.position() - begin;
            if (size + containers * WireFormat.CONTAINER_COST > maxBytes) {
                throw Failures.tooBig(size, containers, maxBytes);
            }
        } catch (StackOverflowError e) {
            // NOTE: a maxDepth above what this thread's stack holds; a CodecException, as decoding gives
            truncate(out, begin);
            throw Failures.unencodable(value.getClass(), "it is nested too deeply for this thread's stack (" + e
                    + "); lower maxDepth (now " + maxDepth + ") or encode on a thread with a larger stack");
        } catch (RuntimeException | Error e) {
            truncate(out, begin);
            throw e;
        }
    }

    /**
     * Writes {@code value} as {@link #encode} does, in the one form that values equal by {@code equals} share:
     * the elements of every Set and the entries of every Map in the unsigned byte order of their own key
     * encodings (not their iteration order), and every NaN as its canonical bits. It decodes as any encoding
     * does (a Set as a LinkedHashSet in that order). For what is found by its bytes: a manager's dict keys and
     * set elements, Redis hash fields and set members. Not covered: what goes as JDK serialization (a
     * Serializable class of yours whose equals ignores a field, a TreeSet in a record component declared so),
     * which stays equal only when its bytes are.
     */
    @Override
    public void encodeKey(Object value, ByteSink out) {
        encode(value, out, true);
    }

    /** A failed encode leaves a {@link BufferSink} as it was. */
    private static void truncate(ByteSink out, long begin) {
        if (out instanceof BufferSink b) {
            b.truncate((int) begin);
        }
    }

    /**
     * The Integer this format encodes as exactly the {@code len} (up to 7) low bytes of {@code word},
     * little-endian, or null if those bytes encode anything else: a short cut for values kept in a word
     * (a manager stores values of up to 7 bytes inline), decoded without a {@link ByteSource}.
     * <pre>{@code
     * Integer v = BuiltinCodec.inlineInt(word, len);
     * Object value = v != null ? v : codec.decode(source.reset(bytes, 0, len));
     * }</pre>
     */
    public static Integer inlineInt(long word, int len) {
        return Scalars.inlineInt(word, len);
    }

    @Override
    public Object decode(ByteSource in) {
        long start = in.remaining();
        long floor = Math.max(0, start - maxBytes);
        try {
            int tag = in.readByte() & 0xFF;
            Object v = Scalars.read(in, tag, floor);
            return v != Scalars.NOT_SCALAR ? v : new Decoder(this, in, start, floor).readTop(tag);
        } catch (CodecException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            // NOTE: Errors too that the input can cause: a stack overflow hashing a set's cyclic element, a
            // class whose initializer fails or that cannot be linked here. Like any bad input they fail
            // this value only (a queue's drainTo keeps the other items). Not OutOfMemoryError: the input
            // cannot allocate more than a small multiple of its size, so that one is the JVM's trouble.
            throw Failures.decodeFailed("the input", e);
        }
    }

    ClassLoader classLoader() {
        if (loader != null) {
            return loader;
        }
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : BuiltinCodec.class.getClassLoader();
    }

    /**
     * Reads the class name of {@code n} bytes that a value names and returns its class, if the
     * allow-list has it; the class is loaded but not initialized.
     */
    Class<?> readClass(ByteSource in, int n) {
        Class<?> type = classNames.read(in, n, classLoader());
        if (!allowList.allows(type)) {
            throw allowList.refusesSharedObject(type) ? Failures.sharedObjectRefused(type) : Failures.notAllowed(type.getName(), allowList);
        }
        return type;
    }

    /**
     * A codec travels (with a queue or pipe handle that uses it) as its settings; the receiver rebuilds it
     * and resolves the classes with its own loader.
     */
    @Serial
    private Object writeReplace() {
        return new Settings(packages, classes.stream().map(Class::getName).toList(), allowList.serializedApplicationClasses,
                maxDepth, maxBytes, allowList.sharedObjects);
    }

    /** The serialized form of a {@link BuiltinCodec}. */
    private record Settings(List<String> packages, List<String> classNames, boolean applicationClasses, int maxDepth,
                            int maxBytes, boolean sharedObjects) implements Serializable {
        @Serial
        private Object readResolve() throws ObjectStreamException {
            try {
                Builder b = builder().maxDepth(maxDepth).maxBytes(maxBytes).allowPackages(packages.toArray(String[]::new))
                        .sharedObjects(sharedObjects);
                ClassLoader cl = Thread.currentThread().getContextClassLoader();
                for (String n : classNames) {
                    b.allowClasses(Class.forName(n, false, cl != null ? cl : BuiltinCodec.class.getClassLoader()));
                }
                if (applicationClasses) {
                    b.allowApplicationClasses();
                }
                return b.build();
            } catch (ClassNotFoundException | RuntimeException e) {
                InvalidObjectException ioe = new InvalidObjectException("cannot rebuild a BuiltinCodec: " + e);
                ioe.initCause(e);
                throw ioe;
            }
        }
    }

    @Override
    public String toString() {
        return "BuiltinCodec[allow=" + allowList + ", maxDepth=" + maxDepth + ", maxBytes=" + maxBytes
                + (allowList.sharedObjects ? "" : ", no shared objects") + "]";
    }

    /**
     * Configures a {@link BuiltinCodec}. Bad values throw {@link IllegalArgumentException} at once;
     * nothing is read from system properties.
     *
     * <pre>{@code
     * BuiltinCodec codec = BuiltinCodec.builder().allowPackages("com.acme.", "org.example.model.")
     *         .allowClasses(java.net.URI.class).maxDepth(64).maxBytes(16 << 20).build();
     * }</pre>
     */
    public static final class Builder {
        private final Set<String> packages = new LinkedHashSet<>();
        private final Set<Class<?>> classes = new LinkedHashSet<>();
        private boolean applicationClasses;
        private int maxDepth = DEFAULT_MAX_DEPTH;
        private int maxBytes = DEFAULT_MAX_BYTES;
        private boolean sharedObjects = true;
        private ClassLoader loader;

        private Builder() {
        }

        /**
         * Allows the classes whose names start with these prefixes (each ends with a dot, e.g.
         * {@code "com.acme."}), in JDK serialization too. Naming packages also narrows the records and
         * enums of the native format (by default those of every application class) to these packages.
         */
        public Builder allowPackages(String... prefixes) {
            for (String p : prefixes) {
                Objects.requireNonNull(p, "prefix");
                if (p.length() < 2 || !p.endsWith(".") || p.startsWith(".")) {
                    throw new IllegalArgumentException("prefix='" + p + "' must be a package name followed by a dot, e.g. 'com.acme.'");
                }
                packages.add(p);
            }
            return this;
        }

        /** Allows exactly these classes (for example a JDK class outside the default java.base types). */
        public Builder allowClasses(Class<?>... types) {
            for (Class<?> t : types) {
                classes.add(Objects.requireNonNull(t, "type"));
            }
            return this;
        }

        /**
         * Allows every application class, in JDK serialization too: only for trusted channels, where the
         * bytes come from this program itself (see {@link BuiltinCodec#taskCodec()}). Without it, records
         * and enums of every application class are allowed unless packages are named, and JDK
         * serialization only for the classes and packages named.
         */
        public Builder allowApplicationClasses() {
            applicationClasses = true;
            return this;
        }

        /** The deepest nesting of containers, records and objects one value may have (>= 1). */
        public Builder maxDepth(int maxDepth) {
            if (maxDepth < 1) {
                throw new IllegalArgumentException("maxDepth=" + maxDepth + " must be >= 1");
            }
            this.maxDepth = maxDepth;
            return this;
        }

        /** The largest encoded size of one value, in bytes (>= 64). */
        public Builder maxBytes(int maxBytes) {
            if (maxBytes < 64) {
                throw new IllegalArgumentException("maxBytes=" + maxBytes + " must be >= 64");
            }
            this.maxBytes = maxBytes;
            return this;
        }

        /**
         * Whether values may carry shared objects (queues, pipe ends, locks, values, managers' containers,
         * Redis objects); default true. Decoding one attaches to what it names in the decoding process:
         * a codec for data from another host says false, as the remote manager's connection does.
         * <pre>{@code
         * BuiltinCodec wire = BuiltinCodec.builder().sharedObjects(false).build();
         * }</pre>
         */
        public Builder sharedObjects(boolean allowed) {
            this.sharedObjects = allowed;
            return this;
        }

        /** Resolves class names through {@code loader} instead of the decoding thread's context loader. */
        public Builder classLoader(ClassLoader loader) {
            this.loader = Objects.requireNonNull(loader, "loader");
            return this;
        }

        public BuiltinCodec build() {
            return new BuiltinCodec(this);
        }
    }
}
