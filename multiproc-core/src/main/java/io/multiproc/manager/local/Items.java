package io.multiproc.manager.local;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.InFlight;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.manager.Namespace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Items in the heap ({@link ItemLayout}): encoding a value (turning a plain {@code List}, {@code Map},
 * {@code Set} or {@code Namespace} into a managed container first), writing it to a fresh block,
 * reading it back, and freeing it. Encoding happens into this thread's scratch buffers, so a value the
 * codec refuses fails before anything in shared memory changes.
 */
final class Items {
    private static final Codec CODEC = Codec.defaultCodec();
    /**
     * Keys' and set elements' encoding (lookups and stores): the default codec's bytes, but a shared object
     * or any manager's proxy anywhere inside a key is refused before its {@code writeReplace} runs
     * (decision 249). With the default codec a remote or custom-type proxy inside a key was stored as its
     * handle, a live reference that nothing counted, and even a lookup asked its server for an export.
     */
    private static final Codec KEY_CODEC = io.multiproc.codec.BuiltinCodec.builder().sharedObjects(false).build();
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /** Scratch buffers larger than this are not kept past their next use (a refused 300 MB value pinned its buffer for good). */
    static final int KEEP_BYTES = 1 << 20;

    /** One thread's encoding buffers: the key (dict entries) and the value of the item being written. */
    static final class Scratch {
        /** Replaced by a small one at its next reset once it grew past {@link #KEEP_BYTES} (a 16 MB value, a refused huge one). */
        BufferSink key = new BufferSink(64);
        /** A segment over {@link #key}'s current array, for bulk compares (remade when the sink grows it). */
        private byte[] keyArray = key.array();
        private MemorySegment keySegment = MemorySegment.ofArray(keyArray);
        BufferSink value = new BufferSink(256);
        final SegmentSource source = new SegmentSource();
        /** An inline item's bytes, for decoding. */
        final byte[] inline = new byte[8];
        final MemorySegment inlineSegment = MemorySegment.ofArray(inline);
        int keyHash;
        long nested;
        /**
         * While this thread encodes an item's value ({@link #encodeManaged}): the heap it goes to and the
         * value itself, so that a proxy of that heap met below the top is refused ({@link #refuseNested});
         * null otherwise. {@link #refused} is what the refusal said (the codec keeps only the message).
         */
        Heap encodingFor;
        Object encodingTop;
        String refused;
        /** The nested container's proxy if {@link #manage} made it for this value (its hold is dropped once written). */
        Container temporary;
        /** The shared objects the value just encoded carries (their holds taken), for {@link #write}; or null. */
        List<String> carried;
        /** This thread's in-flight notes: which shared objects' handles a value's encoding wrote. */
        final InFlight flight = InFlight.here();

        /** The key buffer, empty; a large one is dropped rather than kept for the thread's life. */
        BufferSink resetKey() {
            if (key.array().length > KEEP_BYTES) {
                key = new BufferSink(64);
            }
            key.reset();
            return key;
        }

        /** The value buffer, empty; a large one is dropped rather than kept for the thread's life. */
        BufferSink resetValue() {
            if (value.array().length > KEEP_BYTES) {
                value = new BufferSink(256);
            }
            value.reset();
            return value;
        }

        MemorySegment keySegment() {
            byte[] a = key.array();
            if (a != keyArray) {
                keyArray = a;
                keySegment = MemorySegment.ofArray(a);
            }
            return keySegment;
        }
    }

    private Items() {
    }

    static Scratch scratch() {
        return SCRATCH.get();
    }

    /** Encodes {@code key} into the scratch key buffer and computes its hash; returns the scratch. */
    /**
     * {@link #encodeKey} for a lookup, or null for a key the codec refuses (a class it does not allow, a
     * key over the size limit): no such key can have been stored, so it is simply absent, as Map.get
     * says, where a CodecException broke {@code get}, {@code containsKey} and {@code HashMap.equals}.
     */
    static Scratch lookupKey(Object key) {
        try {
            return encodeKey(key);
        } catch (IllegalArgumentException refused) { // CodecException is one
            return null;
        }
    }

    /** For tests: the bytes this thread's scratch buffers hold on to. */
    static long scratchBytes() {
        Scratch s = SCRATCH.get();
        return (long) s.key.array().length + s.value.array().length;
    }

    static Scratch encodeKey(Object key) {
        Scratch s = SCRATCH.get();
        s.resetKey();
        KEY_CODEC.encodeKey(key, s.key); // equal keys, equal bytes: a Set or Map in canonical order (decision 212)
        if (s.key.size() > ItemLayout.MAX_BYTES) {
            int size = s.key.size();
            s.resetKey(); // not kept: it is larger than any key could be
            checkSize("key", size);
        }
        s.keyHash = hash(s.key.array(), s.key.size());
        return s;
    }

    /**
     * {@link #encodeKey} for a key about to be stored in {@code heap}: a proxy of any manager anywhere
     * inside it is refused, and so is a shared object's handle (a record key naming a lock), by the key
     * codec, naming the key's class (decision 249). Keys are stored by value and counted nowhere, so a
     * record key naming a nested container or a segment would outlive it, and the whole dict then fails
     * to decode.
     */
    static Scratch encodeStoredKey(Heap heap, Object key) {
        Scratch s = SCRATCH.get();
        s.encodingFor = heap;
        s.encodingTop = null; // NOTE: no top-level exception for keys: a proxy key is refused before this (storableKey)
        int mark = s.flight.beginSend();
        try {
            encodeKey(key);
            if (s.flight.sentAnySince(mark)) {
                throw new IllegalArgumentException("key of type " + key.getClass().getName() + " carries shared object '"
                        + s.flight.sentSince(mark).getFirst() + "': a managed dict or set stores keys by value and cannot keep "
                        + "what a key refers to alive; use a value such as its name");
            }
            return s;
        } catch (RuntimeException e) {
            throw s.refused == null && e instanceof io.multiproc.codec.CodecException c
                    ? io.multiproc.internal.KeyContents.refusedKey(key, c) : refusal(s, key, e);
        } finally {
            s.flight.endSend(mark);
            s.encodingFor = null;
            s.refused = null;
        }
    }

    /** The refusal {@link #refuseNested} recorded while {@code stored} was encoded, or {@code e} itself. */
    private static RuntimeException refusal(Scratch s, Object stored, RuntimeException e) {
        String refused = s.refused;
        if (refused == null) {
            return e;
        }
        return new IllegalArgumentException(refused + " a " + stored.getClass().getName()
                + ": nothing would count that reference, so the container could be freed while the "
                + stored.getClass().getSimpleName() + " still names it; store the container itself, "
                + "or a List, Set or Map of them", e);
    }

    /** Puts a key encoded earlier by {@link #encodeKey} (its bytes and hash) back into the scratch key buffer. */
    static Scratch encodeKeyBytes(byte[] key, int keyHash) {
        Scratch s = SCRATCH.get();
        s.resetKey();
        s.key.write(key, 0, key.length);
        s.keyHash = keyHash;
        return s;
    }

    /**
     * Encodes {@code value} into the scratch value buffer, first making a managed container of a plain
     * collection, and notes the container it refers to.
     */
    static Scratch encodeValue(Heap heap, Object value) {
        return encodeManaged(heap, SCRATCH.get(), manage(heap, value));
    }

    /**
     * The shared objects (queues, locks, values...) whose handles a value stored into {@code heap} carries
     * live while an item names them, as a CPython proxy stored in a managed container keeps its referent:
     * one count per item in a parent hold of the heap's root segment (decisions 169, 172), taken before the
     * item is written and dropped when it is freed ({@link #free}). Whoever made the object may close it or
     * exit; the item still attaches. On failure the counts taken so far are given back.
     */
    private static void holdInHeap(Heap heap, List<String> segments) {
        String root = HeapLayout.rootName(heap.name);
        for (int i = 0; i < segments.size(); i++) {
            String name = segments.get(i);
            try {
                SegmentRegistry.addInFlightHold(name, root);
            } catch (IOException e) {
                dropHolds(heap, segments.subList(0, i));
                if (e instanceof NoSuchFileException) {
                    throw new IllegalStateException("shared object '" + name + "' is closed: it cannot be stored", e);
                }
                throw new UncheckedIOException("cannot record that manager '" + heap.name + "' holds shared object '"
                        + name + "': " + e.getMessage(), e);
            }
        }
    }

    /** Gives back one count of each of {@code segments}' holds; a segment nothing else holds is removed. */
    static void dropHolds(Heap heap, List<String> segments) {
        String root = HeapLayout.rootName(heap.name);
        for (String name : segments) {
            try {
                SegmentRegistry.dropParentHold(name, root);
            } catch (IOException e) {
                // NOTE: the item is gone either way; the object then stays until the manager closes
                System.getLogger(Items.class.getName()).log(System.Logger.Level.WARNING, "manager '" + heap.name
                        + "': cannot drop its hold of shared object '" + name + "'", e);
            }
        }
    }

    /**
     * Encodes an already {@link #manage managed} value into {@code s}'s value buffer (call right before
     * {@link #write}: managing a value and user functions may reuse this thread's scratch). The shared
     * objects it carries are held from here on ({@link #holdInHeap}); {@link #write} records them in the
     * item, or gives the holds back if it fails.
     */
    static Scratch encodeManaged(Heap heap, Scratch s, Object stored) {
        s.resetValue();
        s.encodingFor = heap;
        s.encodingTop = stored;
        s.carried = null;
        List<String> carried = null;
        int mark = s.flight.beginSend();
        try {
            CODEC.encode(stored, s.value);
            if (s.flight.sentAnySince(mark)) {
                carried = s.flight.sentSince(mark);
            }
        } catch (RuntimeException e) {
            throw refusal(s, stored, e);
        } finally {
            s.flight.endSend(mark);
            s.encodingFor = null;
            s.encodingTop = null;
            s.refused = null;
        }
        if (s.value.size() > ItemLayout.MAX_BYTES) {
            int size = s.value.size();
            s.resetValue(); // not kept: it is larger than any value could be
            checkSize("value", size);
        }
        if (carried != null) {
            if (carried.size() > 0xFFFF) {
                throw new IllegalArgumentException("value carries " + carried.size() + " shared objects: at most 65535 per item");
            }
            holdInHeap(heap, carried);
            s.carried = carried;
        }
        s.nested = stored instanceof ManagedContainer mc && mc.managerName().equals(heap.name) ? mc.ref() : 0;
        s.temporary = s.nested != 0 && stored instanceof Proxy p && p.container().temporary ? p.container() : null;
        return s;
    }

    /**
     * Called as proxy {@code c} is encoded (its handle made): refuses it if this thread is encoding an
     * item's value for {@code c}'s heap and {@code c} is not that value itself but inside it (a record, an
     * array, an object of the user's). Only a top-level proxy has its reference counted
     * ({@link #encodeManaged} notes it as the item's nested ref); one inside would be freed under it.
     * Returns true when {@code c} is that value itself (its reference is counted: not an escape, decision
     * 167), false when it is encoded for anything else (a task, a queue item, another manager's container).
     */
    static boolean refuseNested(Container c) {
        Scratch s = SCRATCH.get();
        if (s.encodingFor == null || !s.encodingFor.name.equals(c.heap.name)) {
            return false;
        }
        if (s.encodingTop instanceof Proxy top && top.container() == c) {
            return true;
        }
        String refused = "a " + c.describe() + " cannot be stored inside";
        s.refused = refused;
        throw new IllegalArgumentException(refused);
    }

    /**
     * A plain List/Map/Set/Namespace becomes a managed copy in {@code heap} (its proxy marked temporary:
     * only the item being written refers to it); anything else is stored as is. A ShareableList is a
     * List but not a plain one: a shared object, stored as its handle like a SharedMemory (CPython's
     * manager pickles it by name too), so the item stays that list.
     */
    static Object manage(Heap heap, Object value) {
        if (value == null || value instanceof ManagedContainer || value instanceof io.multiproc.shm.ShareableList) {
            return value;
        }
        Object managed = copy(heap, value);
        if (managed instanceof Proxy p) {
            p.container().temporary = true;
        }
        return managed;
    }

    private static Object copy(Heap heap, Object value) {
        if (value instanceof List<?> l) {
            ManagedList<Object> m = ManagedList.create(heap);
            m.addAll(l);
            return m;
        }
        if (value instanceof Set<?> set) {
            ManagedSet<Object> m = ManagedSet.create(heap);
            m.addAll(set);
            return m;
        }
        if (value instanceof Map<?, ?> map) {
            ManagedMap<Object, Object> m = ManagedMap.create(heap, ContainerKind.DICT);
            m.putAll(map);
            return m;
        }
        if (value instanceof Namespace ns) {
            ManagedNamespace m = ManagedNamespace.create(heap);
            ns.snapshot().forEach(m::set);
            return m;
        }
        return value;
    }

    private static void checkSize(String what, int size) {
        if (size > ItemLayout.MAX_BYTES) {
            throw new IllegalArgumentException(what + " of size=" + size + " bytes is larger than the manager's limit of "
                    + ItemLayout.MAX_BYTES + " bytes");
        }
    }

    /**
     * Writes an item from the scratch buffers (the key only if {@code withKey}) into a new block and
     * counts the reference to its nested container; returns the item's ref. Nothing refers to it yet.
     * <p>The block is a plain one (kind {@link BlockLayout#KIND_BLOCK}) until its reference is counted
     * (or, naming no container, its trailer of carried shared objects is written): a sweep after this
     * process died drops the nested reference and the trailer's holds only of a {@link BlockLayout#KIND_ITEM}
     * block, and before the count its nested word is not yet written (a reused block still holds an old
     * item's bytes there) or names a reference nobody counted.
     */
    static long write(Heap heap, Scratch s, boolean withKey) {
        int keyLen = withKey ? s.key.size() : 0;
        int valueLen = s.value.size();
        List<String> carried = s.carried;
        s.carried = null;
        if (!withKey && valueLen <= INLINE_MAX && carried == null) {
            return inline(s.value.array(), valueLen);
        }
        int trailer = carried == null ? 0 : ItemLayout.trailerSize(carried);
        long ref;
        try {
            ref = heap.allocate(ItemLayout.BYTES + keyLen + valueLen + trailer);
        } catch (RuntimeException | Error e) {
            if (carried != null) {
                dropHolds(heap, carried); // no item will name them
            }
            throw e;
        }
        MemorySegment seg = heap.segment(ref);
        long p = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        FaultPoints.at(FaultPoints.Point.ITEM_ALLOCATED);
        seg.set(JAVA_INT, p + ItemLayout.KEY_LEN, keyLen);
        seg.set(JAVA_INT, p + ItemLayout.VALUE_LEN, carried == null ? valueLen : valueLen | ItemLayout.CARRIES);
        seg.set(JAVA_LONG, p + ItemLayout.NESTED, s.nested);
        if (keyLen > 0) {
            MemorySegment.copy(s.key.array(), 0, seg, JAVA_BYTE, p + ItemLayout.BYTES, keyLen);
        }
        MemorySegment.copy(s.value.array(), 0, seg, JAVA_BYTE, p + ItemLayout.BYTES + keyLen, valueLen);
        if (carried != null) {
            ItemLayout.writeTrailer(seg, p + ItemLayout.BYTES + keyLen + valueLen, carried);
        }
        FaultPoints.at(FaultPoints.Point.ITEM_WRITTEN_BEFORE_REFERENCE);
        if (s.nested != 0) {
            // NOTE: counted before the item can be published, so the container outlives every reader of it
            ContainerLife.addReference(heap, s.nested);
            // NOTE: release, after the count: a sweep sees KIND_ITEM only with the nested word written and
            // counted; killed before this store, the item leaks its reference (the container stays until
            // the manager closes) instead of a sweep dropping one that was never counted
            heap.tagAsItem(ref);
            if (s.temporary != null) {
                heap.releaseTemporary(s.temporary);
                s.temporary = null;
            }
        } else if (carried != null) {
            // NOTE: release, after the trailer: a sweep after this process died gives back the holds of an
            // unpublished KIND_ITEM's trailer, so it must see one only whole; killed before this store, the
            // holds stay until the manager closes
            heap.tagAsItem(ref);
        }
        return ref;
    }

    /**
     * A list element's or value's word when its codec bytes fit in 7 bytes (small numbers, short strings,
     * booleans, null): bit 63 set, the length in bits 56-58, the bytes in bits 0-55 (little-endian).
     * No block, nothing to free; a ref never has bit 63.
     */
    static final int INLINE_MAX = 7;
    private static final long INLINE = 1L << 63;

    private static long inline(byte[] b, int len) {
        long w = INLINE | (long) len << 56;
        for (int i = 0; i < len; i++) {
            w |= (b[i] & 0xFFL) << (8 * i);
        }
        return w;
    }

    static boolean isInline(long word) {
        return word < 0;
    }

    /**
     * Decodes the value of item {@code ref} for a snapshot iteration: a nested container's proxy is
     * deferred by {@code deferred} (see {@link DeferredProxies}) unless this process has it cached.
     */
    static Object readValue(Heap heap, long ref, DeferredProxies deferred) {
        long nested = nestedOf(heap, ref);
        return nested != 0 ? deferred.decode(nested) : readValue(heap, ref);
    }

    /** Decodes the value of item {@code ref} (or of an inline word). */
    static Object readValue(Heap heap, long ref) {
        if (ref < 0) {
            int len = (int) (ref >>> 56) & 0x7;
            Integer small = BuiltinCodec.inlineInt(ref, len); // CODEC is the built-in default codec
            if (small != null) {
                return small; // manager-many's million ints: no thread-local, no byte source
            }
            Scratch s = SCRATCH.get();
            for (int i = 0; i < len; i++) {
                s.inline[i] = (byte) (ref >>> (8 * i));
            }
            return CODEC.decode(s.source.reset(s.inlineSegment, 0, len));
        }
        MemorySegment seg = heap.segment(ref);
        long p = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        long nested = seg.get(JAVA_LONG, p + ItemLayout.NESTED);
        if (nested != 0) {
            // NOTE: the value is exactly the handle of this container (encodeManaged): its proxy comes
            // from this heap by ref, without decoding the handle record nor looking the manager up by
            // name. The item's reference keeps the container alive, so its header's generation is the
            // handle's.
            return heap.proxy(nested, ContainerLife.generation(heap, nested));
        }
        int keyLen = seg.get(JAVA_INT, p + ItemLayout.KEY_LEN);
        int value = seg.get(JAVA_INT, p + ItemLayout.VALUE_LEN);
        return decodeHolding(heap, seg, p + ItemLayout.BYTES + keyLen, value & ItemLayout.LENGTH, value);
    }

    /** Decodes the key of dict entry {@code ref}. */
    static Object readKey(Heap heap, long ref) {
        MemorySegment seg = heap.segment(ref);
        long p = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        int keyLen = seg.get(JAVA_INT, p + ItemLayout.KEY_LEN);
        SegmentSource src = SCRATCH.get().source; // a stored key carries no handle (encodeStoredKey refuses one)
        return CODEC.decode(src.reset(seg, p + ItemLayout.BYTES, keyLen));
    }

    /**
     * Decodes the {@code len} value bytes at {@code at} of an item whose value-length word is
     * {@code valueWord}; the heap holds (weakly) every shared object the decode attached, wherever it
     * sits in the value (decision 173).
     */
    private static Object decodeHolding(Heap heap, MemorySegment seg, long at, int len, int valueWord) {
        SegmentSource src = SCRATCH.get().source;
        if ((valueWord & ItemLayout.CARRIES) == 0) {
            Object v = CODEC.decode(src.reset(seg, at, len));
            heap.decodedValue(v); // no segment's handle inside: the value itself may be another kind (a remote proxy)
            return v;
        }
        InFlight flight = InFlight.here();
        int mark = flight.beginCollect();
        Object v;
        List<Object> attached;
        try {
            v = CODEC.decode(src.reset(seg, at, len));
        } finally {
            attached = flight.endCollect(mark); // a failed decode closed what it attached
        }
        for (Object shared : attached) {
            heap.decodedValue(shared);
        }
        return v;
    }

    /** True if entry {@code ref}'s key bytes are the scratch key's. */
    static boolean keyEquals(Heap heap, long ref, Scratch s) {
        MemorySegment seg = heap.segment(ref);
        long p = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        int keyLen = seg.get(JAVA_INT, p + ItemLayout.KEY_LEN);
        int len = s.key.size();
        if (keyLen != len) {
            return false;
        }
        long base = p + ItemLayout.BYTES;
        // NOTE: one bulk compare, not a loop of byte reads: interpreted (a process's first lookups),
        // each segment read costs microseconds
        return MemorySegment.mismatch(seg, base, base + len, s.keySegment(), 0, len) < 0;
    }

    /** Frees item {@code ref} after it was unpublished, dropping its nested container's reference. */
    static void free(Heap heap, long ref) {
        if (ref == 0 || ref < 0) {
            return; // no item, or an inline one
        }
        if (heap.isDetached()) {
            return; // the manager closed (an operation's clean-up after it failed so): its segments are gone
        }
        long nested = nestedOf(heap, ref);
        List<String> carried = carriedOf(heap, ref); // read before the block can be reused
        heap.free(ref);
        if (nested != 0) {
            ContainerLife.dropReference(heap, nested); // may free it (and what only it refers to)
        }
        if (carried != null) {
            dropHolds(heap, carried);
        }
    }

    /** The shared objects item {@code ref} (a block, not an inline word) names, or null. */
    static List<String> carriedOf(Heap heap, long ref) {
        MemorySegment seg = heap.segment(ref);
        long p = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        int value = seg.get(JAVA_INT, p + ItemLayout.VALUE_LEN);
        if ((value & ItemLayout.CARRIES) == 0) {
            return null;
        }
        int keyLen = seg.get(JAVA_INT, p + ItemLayout.KEY_LEN);
        return ItemLayout.readTrailer(seg, p + ItemLayout.BYTES + keyLen + (value & ItemLayout.LENGTH));
    }

    /** The container item {@code ref} refers to, 0 if none (or an inline word, or no item). */
    static long nestedOf(Heap heap, long ref) {
        if (ref <= 0) {
            return 0;
        }
        return heap.segment(ref).get(JAVA_LONG, HeapLayout.offset(ref) + BlockLayout.PAYLOAD + ItemLayout.NESTED);
    }

    /**
     * Whether a value read under a container's lock matches {@code o}, for the operations that compare
     * there (list remove(Object), removeAll, retainAll; dict remove(k, v), replace(k, old, new); value
     * compareAndSet). A managed container matches only a proxy of the same container (same manager and
     * ref), never by contents, as CPython's proxies: its contents are read under its own lock, and taking
     * it under this one orders the two locks parent then child, while a function running under the
     * child's lock in another process may read the parent, child then parent (decision 145).
     */
    static boolean sameValue(Object stored, Object o) {
        if (stored instanceof ManagedContainer a) {
            return o instanceof ManagedContainer b && sameContainer(a, b);
        }
        return !(o instanceof ManagedContainer) && java.util.Objects.equals(stored, o);
    }

    /**
     * {@link #sameValue} for compare-and-set steps (a value's compareAndSet, a dict's replace(k, old, new)
     * and remove(k, v), a list's replace-if-unchanged), where arrays compare by contents: every process
     * and client holds its own decoded copy, so a retry loop (a remote merge, compute or updateAndGet)
     * over an array value could never match by identity and retried for ever (decision 187).
     */
    static boolean sameForSwap(Object stored, Object o) {
        if (stored instanceof ManagedContainer || o instanceof ManagedContainer) {
            return sameValue(stored, o);
        }
        return java.util.Objects.deepEquals(stored, o);
    }

    private static boolean sameContainer(ManagedContainer a, ManagedContainer b) {
        return a.ref() == b.ref() && a.managerName().equals(b.managerName());
    }

    /**
     * {@code items.contains} for values read under a container's lock, in {@link #sameValue}'s terms:
     * the managed containers among {@code items} are noted now (before the lock is taken) and match a
     * stored container by identity; other stored values are looked up in {@code items} itself.
     */
    static java.util.function.Predicate<Object> containedIn(java.util.Collection<?> items) {
        java.util.Set<String> containers = new java.util.HashSet<>();
        for (Object o : items) {
            if (o instanceof ManagedContainer mc) {
                containers.add(mc.managerName() + "/" + mc.ref());
            }
        }
        return v -> v instanceof ManagedContainer mc
                ? containers.contains(mc.managerName() + "/" + mc.ref())
                : items.contains(v);
    }

    /** FNV-1a over the bytes, then mixed: the key's identity in a table. */
    static int hash(byte[] b, int len) {
        int h = 0x811C9DC5;
        for (int i = 0; i < len; i++) {
            h = (h ^ b[i]) * 0x01000193;
        }
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        return h;
    }
}
