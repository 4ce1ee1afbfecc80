package io.multiproc.codec;

/** The codec package's exceptions, built in one place so that messages stay alike. Static-only. */
final class Failures {
    private Failures() {
    }

    static CodecException unencodable(Class<?> type, String why) {
        return new CodecException("cannot encode class=" + type.getName() + ": " + why);
    }

    /** A shared object's handle in a value of a codec built with {@code sharedObjects(false)}. */
    static CodecException sharedObjectRefused(Class<?> type) {
        return new CodecException("class=" + type.getName() + " is a shared object (a queue, pipe end, lock, value or"
                + " manager proxy), which this codec does not carry (BuiltinCodec.builder().sharedObjects(false), as a remote"
                + " manager's connection): decoding it would attach to what it names in the receiving process. Send its"
                + " contents instead; a remote proxy may be stored as such, not inside an object of yours");
    }

    /** {@link #sharedObjectRefused} met by a key's encoding ({@link BuiltinCodec#encodeKey}) of such a codec. */
    static CodecException sharedObjectInKey(Class<?> type) {
        return new CodecException("class=" + type.getName() + " is a shared object (a queue, pipe end, lock, value or"
                + " manager proxy) and cannot be stored inside a key: keys are stored by value and counted nowhere, so nothing would keep what"
                + " it names alive, and a proxy's later changes would not move the key; use a copy of its contents or a"
                + " value such as its name");
    }

    static CodecException notAllowed(String className, AllowList allowList) {
        return new CodecException("class=" + className + " is not on the codec's allow-list (" + allowList
                + "); allow it with " + howToAllow(className));
    }

    /** A class that would travel as JDK serialization, which data channels accept only for what the user allowed. */
    static CodecException notAllowedSerialized(String className, AllowList allowList) {
        if (className.equals("java.lang.invoke.SerializedLambda")) {
            return new CodecException("class=" + className + " (a serializable lambda) is not on the codec's allow-list for JDK "
                    + "serialization (" + allowList + "): queues, pipes and shared lists carry data, not code. Send code as a "
                    + "child's task, or allow it with BuiltinCodec.builder().allowClasses(SerializedLambda.class, "
                    + "TheClassThatWroteTheLambda.class) and give that codec to the queue or pipe");
        }
        String element = elementName(className);
        String wayOut = element.equals(className) ? "make it a record (records need no JDK serialization)"
                : "send a List instead of the array (a List of records or enums travels natively, an array of objects only"
                + " by JDK serialization, which needs its element class Serializable and allowed)";
        return new CodecException("class=" + className + " is not on the codec's allow-list for JDK serialization ("
                + allowList + "): queues, pipes and shared lists do not run the readObject code of classes you did not "
                + "allow. Allow it with " + howToAllow(className) + ", or " + wayOut);
    }

    /** The class an array class's binary name ("[[Lcom.acme.Leg;") holds, or the name itself. */
    private static String elementName(String className) {
        int dims = 0;
        while (dims < className.length() && className.charAt(dims) == '[') {
            dims++;
        }
        return dims > 0 && className.startsWith("L", dims) && className.endsWith(";")
                ? className.substring(dims + 1, className.length() - 1) : className;
    }

    private static String howToAllow(String arrayOrClassName) {
        String className = elementName(arrayOrClassName);
        int dot = className.lastIndexOf('.');
        String simple = className.substring(dot + 1).replace('$', '.');
        String pkg = dot < 0 ? "" : className.substring(0, dot + 1);
        return "BuiltinCodec.builder().allowClasses(" + simple + ".class)"
                + (pkg.isEmpty() ? "" : " or allowPackages(\"" + pkg + "\")") + " and give that codec to the queue or pipe";
    }

    static CodecException refusedByJvmFilter(Class<?> type) {
        return new CodecException((type == null ? "the stream" : "class=" + type.getName())
                + " is refused by the JVM-wide filter (jdk.serialFilter)");
    }

    static CodecException tooDeep(int depth, int maxDepth) {
        return new CodecException("depth=" + depth + " exceeds maxDepth=" + maxDepth
                + " (a cycle, or raise it with BuiltinCodec.builder().maxDepth(...))");
    }

    static CodecException tooBig(long bytes, long maxBytes) {
        return new CodecException("encoded size=" + bytes + " bytes exceeds maxBytes=" + maxBytes
                + " (raise it with BuiltinCodec.builder().maxBytes(...))");
    }

    static CodecException tooBig(long bytes, long containers, long maxBytes) {
        if (containers == 0) {
            return tooBig(bytes, maxBytes);
        }
        return new CodecException("encoded size=" + bytes + " bytes plus " + WireFormat.CONTAINER_COST + " for each of "
                + containers + " lists, sets, maps and records exceeds maxBytes=" + maxBytes
                + " (raise it with BuiltinCodec.builder().maxBytes(...))");
    }

    static CodecException lengthBeyondInput(int length, long bytes, long remaining, long budget) {
        if (bytes > remaining) {
            return new CodecException("truncated or garbled input: length=" + length + " needs " + bytes
                    + " bytes, " + remaining + " left");
        }
        return new CodecException("length=" + length + " needs " + bytes + " bytes, beyond maxBytes (" + budget
                + " bytes left of it)");
    }

    /**
     * A set or map whose elements were distinct where it was encoded and are equal (by equals()) once
     * decoded into a LinkedHashSet or LinkedHashMap: silently dropping some would change the value.
     */
    static CodecException merged(String kind, int count, String items, int left) {
        return new CodecException("a " + kind + " of " + count + " " + items + " keeps " + left + " once decoded: some are "
                + "equal (by equals()) though they were distinct where it was sent (a set over an IdentityHashMap, a map "
                + "view of one, a TreeSet whose comparator tells equal elements apart); send them as a List, or an "
                + "IdentityHashMap itself, which keeps its class");
    }

    static CodecException malformed(String what) {
        return new CodecException("malformed input: " + what);
    }

    static CodecException unknownTag(int tag) {
        return malformed("tag=0x" + Integer.toHexString(tag) + " is not a value tag");
    }

    static CodecException undecodable(Class<?> type, String why, Throwable cause) {
        return new CodecException("cannot decode class=" + type.getName() + ": " + why, cause);
    }

    static CodecException classNotFound(String name, ClassLoader loader, Throwable cause) {
        return new CodecException("class=" + name + " named by the input is not found by " + loader, cause);
    }

    static CodecException componentCountDiffers(Class<?> type, int here, int inInput) {
        return new CodecException("record=" + type.getName() + " has " + (here < 0 ? "no" : here)
                + " components here, the input has " + Integer.toUnsignedString(inInput) + " (different class versions?)");
    }

    static CodecException decodeFailed(String what, Throwable cause) {
        return new CodecException("cannot decode " + what + ": " + cause, cause);
    }
}
