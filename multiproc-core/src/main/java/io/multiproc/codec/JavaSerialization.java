package io.multiproc.codec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Externalizable;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.NotSerializableException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;

/**
 * The built-in codec's fallback for {@code Serializable} objects it has no native form for (serializable
 * lambdas, an application's own classes): one JDK serialization stream per object. Decoding goes
 * through an {@link ObjectInputFilter} that allows only the {@link AllowList}'s classes for JDK streams and enforces
 * the depth and size limits; encoding checks every class against the same list, so that a refused class
 * fails at the sender, naming it. A JVM-wide filter ({@code jdk.serialFilter}) is consulted as well: it
 * can refuse more, never allow more.
 *
 * <p>Static-only.
 */
final class JavaSerialization {
    private JavaSerialization() {
    }

    /**
     * One stream of {@code value}, checked as {@link #decode} will check it with the same
     * {@code maxDepth} (what is left of the codec's depth limit at the place the object sits).
     */
    static byte[] encode(Object value, AllowList allowList, int maxDepth) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (CheckedOutput out = new CheckedOutput(bytes, allowList)) {
            out.writeObject(value);
        } catch (NotSerializableException e) {
            throw Failures.unencodable(value.getClass(), "class=" + e.getMessage() + " inside it is not Serializable");
        } catch (InvalidClassException e) {
            throw e.classname != null && e.getMessage().contains(CheckedOutput.REFUSED)
                    ? Failures.notAllowedSerialized(e.classname, allowList)
                    : Failures.unencodable(value.getClass(), e.getMessage());
        } catch (IOException e) {
            throw Failures.unencodable(value.getClass(), e.toString());
        } catch (StackOverflowError e) {
            throw Failures.unencodable(value.getClass(), "its object graph is nested too deeply for JDK serialization");
        }
        byte[] stream = bytes.toByteArray();
        checkLimits(stream, allowList, maxDepth, value.getClass());
        return stream;
    }

    /**
     * Runs the decoder's filter over {@code stream} as the receiver will (depth, array lengths, references),
     * but resolves no class, so no object is made and no class's code runs: the JDK then reads the stream
     * only to skip over it, reporting the nesting to the filter as a real decode would. The depth an object
     * graph reaches in JDK serialization shows only in its stream (custom writeObject methods, superclass
     * descriptors).
     */
    private static void checkLimits(byte[] stream, AllowList allowList, int maxDepth, Class<?> type) {
        // NOTE: each level of nesting the filter sees takes at least 5 bytes of the stream (a type code and
        // a 4-byte handle of its class or of an object written before, or more), so a stream this short
        // cannot be too deep: the skim, a few times the cost of a small stream's encoding, is skipped
        if (stream.length / 5 <= maxDepth) {
            return;
        }
        Filter filter = new Filter(allowList, maxDepth, stream.length, null);
        try (Skimming in = new Skimming(new ByteArrayInputStream(stream))) {
            in.setObjectInputFilter(filter);
            in.readObject();
        } catch (ClassNotFoundException expected) {
            // every class the stream names is left unresolved
        } catch (IOException | RuntimeException | StackOverflowError e) {
            if (filter.refused == null) {
                throw Failures.unencodable(type, "its JDK serialization stream cannot be read back: " + e);
            }
        }
        if (filter.refused != null) {
            throw Failures.unencodable(type, filter.refused.getMessage());
        }
    }

    /**
     * Decodes one stream of {@code bytes}. {@code maxDepth} is what is left of the codec's depth limit
     * at the place the object sits. The shared objects the stream attached go to {@code attached} (the
     * caller closes them if its own decoding fails later); if this stream fails, they are closed here.
     */
    static Object decode(byte[] bytes, AllowList allowList, int maxDepth, ClassLoader loader,
                         java.util.function.Consumer<AutoCloseable> attached) {
        Filter filter = new Filter(allowList, maxDepth, bytes.length, ObjectInputFilter.Config.getSerialFilter());
        java.util.List<AutoCloseable> mine = new java.util.ArrayList<>(0);
        try (CheckedInput in = new CheckedInput(new ByteArrayInputStream(bytes), loader, mine)) {
            in.setObjectInputFilter(filter);
            Object v = in.readObject();
            mine.forEach(attached);
            return v;
        } catch (IOException | ClassNotFoundException | RuntimeException | StackOverflowError | LinkageError e) {
            RuntimeException failure = filter.refused != null ? filter.refused : Failures.decodeFailed("a JDK-serialized object", e);
            for (AutoCloseable c : mine) {
                try {
                    c.close();
                } catch (Exception closing) {
                    failure.addSuppressed(closing);
                }
            }
            throw failure;
        }
    }

    /**
     * Rejects what the allow-list does not hold, streams deeper or bigger than the limits, and what the
     * JVM-wide filter, if one is set, rejects.
     */
    /** The deepest a hash-based collection may sit in a data codec's JDK stream (see Filter#checkInput). */
    static final int MAX_HASHED_DEPTH = 12;
    // NOTE: the JDK's filter sees a class once per stream; each HashSet/HashMap/Hashtable it reads checks
    // its table as a Map.Entry[] (with its depth), so that array marks every one of them.
    private static final java.util.Set<Class<?>> HASHED = java.util.Set.of(java.util.Map.Entry[].class,
            java.util.HashSet.class, java.util.LinkedHashSet.class,
            java.util.HashMap.class, java.util.LinkedHashMap.class, java.util.Hashtable.class, java.util.Properties.class,
            java.util.concurrent.ConcurrentHashMap.class, java.util.concurrent.ConcurrentHashMap.KeySetView.class);

    private static final class Filter implements ObjectInputFilter {
        private final AllowList allowList;
        private final int maxDepth;
        private final long maxBytes;
        private final ObjectInputFilter global;
        /** The reason for the first rejection, reported instead of the JDK's bare "filter status". */
        CodecException refused;

        Filter(AllowList allowList, int maxDepth, long maxBytes, ObjectInputFilter global) {
            this.allowList = allowList;
            this.maxDepth = maxDepth;
            this.maxBytes = maxBytes;
            this.global = global;
        }

        @Override
        public Status checkInput(FilterInfo info) {
            Class<?> type = info.serialClass();
            if (type != null && !allowList.allowsSerialized(type)) {
                return refuse(Failures.notAllowedSerialized(type.getName(), allowList));
            }
            if (info.depth() > maxDepth) {
                return refuse(Failures.tooDeep((int) info.depth(), maxDepth));
            }
            if (type != null && info.depth() > MAX_HASHED_DEPTH && !allowList.serializedApplicationClasses && HASHED.contains(type)) {
                // NOTE: a hash set or map rehashes what it holds while it is read; sets holding the same sets
                // again by back-reference, a few dozen levels deep, make that 2^depth hashCode calls (the
                // "SerialDOS" stream: a few KB that hold a thread for hours). The built-in format has no
                // back-references; a data codec's JDK streams keep such collections shallow.
                return refuse(Failures.malformed("a hash-based collection (" + type.getName() + ") at depth " + info.depth()
                        + " of a JDK serialization stream: at most " + MAX_HASHED_DEPTH + " in data (nested sets sharing their"
                        + " elements make reading rehash 2^depth times)"));
            }
            // NOTE: every array element and reference takes at least one byte of the stream, so a larger
            // count is garbage; refusing it keeps the JDK from allocating for it.
            if (info.arrayLength() > maxBytes || info.references() > maxBytes || info.streamBytes() > maxBytes) {
                return refuse(Failures.malformed("JDK serialization stream claims arrayLength=" + info.arrayLength()
                        + ", references=" + info.references() + " in " + maxBytes + " bytes"));
            }
            if (global != null && global.checkInput(info) == Status.REJECTED) {
                return refuse(Failures.refusedByJvmFilter(type));
            }
            return Status.ALLOWED;
        }

        private Status refuse(CodecException why) {
            if (refused == null) {
                refused = why;
            }
            return Status.REJECTED;
        }
    }

    /**
     * Reads a stream without resolving its classes (only arrays of primitives, whose elements the
     * stream holds as raw bytes): the JDK skips each object's data, runs no constructor, readObject or
     * readResolve, and still passes every step to the filter with its depth.
     */
    private static final class Skimming extends ObjectInputStream {
        /**
         * Thrown for every class: one instance, made once, since filling a stack trace per class would cost
         * more than the rest of the skim. The JDK only records it and throws it back at the end.
         */
        private static final ClassNotFoundException UNRESOLVED = new ClassNotFoundException("not resolved while skimming");

        Skimming(ByteArrayInputStream in) throws IOException {
            super(in);
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws ClassNotFoundException {
            String name = desc.getName();
            if (name.length() == 2 && name.charAt(0) == '[') {
                return Class.forName(name, false, null); // [I, [J, ...: no code runs
            }
            throw UNRESOLVED;
        }

        @Override
        protected Class<?> resolveProxyClass(String[] interfaces) throws ClassNotFoundException {
            throw UNRESOLVED;
        }
    }

    /** Why the receiver's JDK serialization could not build an object of a class (see {@link #whyUnbuildable}), or null. */
    private static final ClassValue<String> UNBUILDABLE = new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
            return whyUnbuildable(type);
        }
    };

    /**
     * Why JDK serialization, which writes an object of {@code type} without complaint, could not build it
     * when reading it back, or null: it calls an Externalizable's public no-arg constructor, and for a
     * Serializable class the no-arg constructor of its first superclass that is not Serializable (not
     * private; public or protected unless in the same package). Checked at the sender, so that a queue's
     * put fails naming the class instead of every take of the item failing.
     */
    static String whyUnbuildable(Class<?> type) {
        if (!Serializable.class.isAssignableFrom(type) || type.isArray() || type.isRecord() || Enum.class.isAssignableFrom(type)
                || type.isHidden() || java.lang.reflect.Proxy.isProxyClass(type)) {
            return null; // built without such a constructor (records: their canonical one), or refused elsewhere
        }
        if (Externalizable.class.isAssignableFrom(type)) {
            try {
                if (java.lang.reflect.Modifier.isPublic(type.getDeclaredConstructor().getModifiers())) {
                    return null;
                }
            } catch (NoSuchMethodException e) {
                // the same failure
            }
            return "an Externalizable class needs a public no-arg constructor: the receiver calls it, then readExternal";
        }
        Class<?> first = type.getSuperclass();
        while (first != null && Serializable.class.isAssignableFrom(first)) {
            first = first.getSuperclass();
        }
        if (first == null) {
            return null;
        }
        try {
            int mods = first.getDeclaredConstructor().getModifiers();
            if (!java.lang.reflect.Modifier.isPrivate(mods) && (java.lang.reflect.Modifier.isPublic(mods)
                    || java.lang.reflect.Modifier.isProtected(mods) || first.getClassLoader() == type.getClassLoader()
                    && first.getPackageName().equals(type.getPackageName()))) {
                return null;
            }
        } catch (NoSuchMethodException e) {
            // the same failure
        }
        return "its first superclass that is not Serializable, " + first.getName() + ", has no no-arg constructor the"
                + " receiver's JDK serialization can call (it builds the object with that one, then restores the fields of"
                + " the Serializable classes); give it one, make it Serializable, or make " + type.getSimpleName() + " a record";
    }

    /** Checks each class written against the allow-list; refuses dynamic proxies. */
    private static final class CheckedOutput extends ObjectOutputStream {
        static final String REFUSED = "not on the codec's allow-list";
        private final AllowList allowList;

        CheckedOutput(ByteArrayOutputStream out, AllowList allowList) throws IOException {
            super(out);
            this.allowList = allowList;
            enableReplaceObject(true);
        }

        /**
         * What the built-in format writes natively and the JDK refuses (not Serializable): a default file
         * system path as its string form, an Optional as its content, a JDK entry as an immutable one.
         */
        @Override
        protected Object replaceObject(Object obj) throws IOException {
            if (obj == null) {
                return null;
            }
            // NOTE: the built-in format's own classification (cached per class), not a second list of types
            return switch (TypeInfo.of(obj.getClass()).kind) {
                case PATH -> new SerializedPath(obj.toString());
                case OPTIONAL -> obj instanceof java.util.Optional<?> o ? new SerializedOptional(o.orElse(null))
                        : SerializedOptional.OfPrimitive.of(obj);
                case ENTRY -> {
                    java.util.Map.Entry<?, ?> e = (java.util.Map.Entry<?, ?>) obj;
                    yield new java.util.AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue());
                }
                default -> {
                    String why = UNBUILDABLE.get(obj.getClass());
                    if (why != null) {
                        throw new InvalidClassException(obj.getClass().getName(), why);
                    }
                    yield obj;
                }
            };
        }

        @Override
        protected void annotateClass(Class<?> type) throws IOException {
            if (!allowList.allowsSerialized(type)) {
                throw new InvalidClassException(type.getName(), REFUSED);
            }
        }

        @Override
        protected void annotateProxyClass(Class<?> type) throws IOException {
            throw new InvalidClassException(type.getName(), REFUSED);
        }
    }

    /** Resolves classes through the codec's class loader; refuses dynamic proxies before making one. */
    private static final class CheckedInput extends ObjectInputStream {
        private final ClassLoader loader;
        /** The shared objects this stream attached (their handles' readResolve), to close if it fails. */
        private final java.util.List<AutoCloseable> attached;

        CheckedInput(ByteArrayInputStream in, ClassLoader loader, java.util.List<AutoCloseable> attached) throws IOException {
            super(in);
            this.loader = loader;
            this.attached = attached;
            enableResolveObject(true);
        }

        @Override
        protected Object resolveObject(Object obj) {
            // NOTE: multiproc's shared objects only, whatever their base class (a raw SharedMemory, a
            // manager is a HandleSource, a queue a front over its ring): another AutoCloseable read from
            // the stream is a plain value, not something this decoding opened
            if (obj instanceof AutoCloseable c
                    && (obj instanceof HandleSource || io.multiproc.internal.Releases.ofOrNull(obj) != null)) {
                attached.add(c);
            }
            return obj;
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return Class.forName(desc.getName(), false, loader);
            } catch (ClassNotFoundException e) {
                return super.resolveClass(desc); // primitives' classes
            }
        }

        @Override
        protected Class<?> resolveProxyClass(String[] interfaces) throws InvalidClassException {
            throw new InvalidClassException("dynamic proxy of " + String.join(", ", interfaces),
                    "dynamic proxies are not allowed");
        }
    }
}
