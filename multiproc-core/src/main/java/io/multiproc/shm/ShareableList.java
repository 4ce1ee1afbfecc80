package io.multiproc.shm;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;

import static io.multiproc.shm.ShareableListLayout.CODE_BYTES;
import static io.multiproc.shm.ShareableListLayout.CODE_NULL;
import static io.multiproc.shm.ShareableListLayout.CODE_STRING;
import static io.multiproc.shm.ShareableListLayout.CODE_VALUE;
import static io.multiproc.shm.ShareableListLayout.FORMAT_BOOLEAN_WORD;
import static io.multiproc.shm.ShareableListLayout.FORMAT_DOUBLE_WORD;
import static io.multiproc.shm.ShareableListLayout.FORMAT_LONG_WORD;
import static io.multiproc.shm.ShareableListLayout.FORMAT_NULL_WORD;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A fixed-length list of longs, doubles, booleans, Strings, byte arrays and nulls in named shared memory,
 * laid out exactly like CPython's {@code multiprocessing.shared_memory.ShareableList}
 * ({@link ShareableListLayout}): a list made here is what Python's {@code ShareableList(name=...)}
 * opens, and the other way round, and both sides can read and write it.
 *
 * <pre>{@code
 * try (ShareableList sl = ShareableList.create(null, List.of(1L, 2.5, true, "héllo", new byte[] {1, 2}))) {
 *     sl.set(0, (long) sl.get(0) + 41);        // any java.util.List<Object> code works on it
 *     sl.setLong(0, sl.getLong(0) * 2);        // unboxed, no allocation
 *     sl.set(3, "bye");                        // fits: the slot holds up to 8 UTF-8 bytes
 *     // Python: ShareableList(name=sl.shm().name())[3] == 'bye'
 *     sl.unlink();
 * }
 * }</pre>
 *
 * <h2>Items</h2>
 * {@code Long} (and {@code Integer}, {@code Short}, {@code Byte}, stored as longs), {@code Double} (and
 * {@code Float}), {@code Boolean}, {@code String} (UTF-8), {@code byte[]} and {@code null}; anything else
 * throws {@link ClassCastException} naming its class. {@link #get} returns {@code Long}, {@code Double},
 * {@code Boolean}, {@code String}, a fresh {@code byte[]} or null. The list cannot change its length:
 * {@code add} and {@code remove} throw {@link UnsupportedOperationException}.
 *
 * <p>{@link #set} follows CPython's rules: a number, boolean or null fits any slot; a String or byte[]
 * fits a slot at most as long as the slot, whose size is fixed at creation: the first multiple of 8
 * bytes strictly above the first value's byte length (so {@code "abc"} gets 8 bytes, an 8-byte value
 * 16). A value that does not fit throws {@link IllegalArgumentException} naming the slot's capacity, and
 * the slot keeps its old value.
 *
 * <h2>Where CPython's format limits what can be stored, and what we do</h2>
 * <ul>
 *   <li><b>Trailing NUL bytes.</b> Slots are NUL-padded and CPython's reader strips every trailing NUL,
 *       so {@code "a\0"} would read back as {@code "a"} on both sides. We refuse such values (a String
 *       ending in {@code '\0'}, a byte[] ending in 0) with {@link IllegalArgumentException} rather than
 *       lose bytes silently. Values that come from Python are read exactly as Python reads them.</li>
 *   <li><b>Non-ASCII strings.</b> CPython 3.11 sizes a str slot by the string's length in characters,
 *       not bytes, and silently truncates longer UTF-8 encodings (its own list then fails to read
 *       {@code "€€€€€€€€"}). We size slots by UTF-8 bytes, which CPython reads correctly; for ASCII the
 *       two agree byte for byte. Bytes that are not valid UTF-8 in a str slot read as U+FFFD here
 *       (CPython raises UnicodeDecodeError). A String with an unpaired surrogate is refused
 *       ({@code IllegalArgumentException}): Java's encoder would write '?', Python cannot encode it.</li>
 *   <li><b>Sizes.</b> A str/bytes value can be at most {@value ShareableListLayout#MAX_STRING_BYTES}
 *       bytes at creation: its slot's format ({@code "9999992s"}) must fit in 8 characters.</li>
 *   <li><b>Numbers.</b> Python ints are arbitrary-precision, slots are int64 (Python cannot store a
 *       larger int either); equality in {@link #indexOf}, {@link #count} and {@link #contains} is Java's
 *       after widening (so {@code 1} finds {@code 1L}, not {@code 1.0} or {@code true}, unlike Python's
 *       {@code ==}), and compares byte arrays by content, like Python (so do {@link #equals} and
 *       {@link #hashCode}); doubles compare as
 *       {@link Double#equals} does, so {@code count(0.0)} does not count a {@code -0.0} and
 *       {@code count(Double.NaN)} counts NaNs, both unlike Python.</li>
 * </ul>
 *
 * <h2>Speed</h2>
 * {@link #get}/{@link #set} are O(1): the slot offsets are read once at {@link #attach} (CPython 3.8's
 * ShareableList was O(n) per access). {@link #getLong}/{@link #setLong} and
 * {@link #getDouble}/{@link #setDouble} do not box; {@link #getLongs}/{@link #setLongs} and
 * {@link #getDoubles}/{@link #setDoubles} copy a run of slots at memory speed, and
 * {@link #replaceAllLongs}/{@link #replaceAllDoubles} update a run in place in one call: the fast way
 * to do what a loop of {@code set(i, get(i) * 2)} does, in a fresh JVM too.
 *
 * <h2>Concurrency</h2>
 * Any thread of any process may call any method. Reads and writes are plain memory accesses, as in
 * CPython (and as for the elements of a Java array): they do not order other memory accesses and are
 * not a way to signal another process. Publish results with a synchronizer, such as a
 * {@code SharedEvent}, a {@code SharedLock} or the end of a child process, and do not spin on a slot
 * waiting for another process to change it (the compiler may hoist a plain read out of the loop).
 * A long, double or boolean slot that keeps its type is written by Java as one aligned 8-byte store and
 * read in one access, never torn on the 64-bit platforms multiproc supports. Everything else takes
 * several writes and is not atomic with respect to a concurrent reader of the same slot: changing a
 * slot's type, and any String or byte[] value (the same holds in CPython); guard those with a
 * {@code SharedLock}. A CPython writer is weaker: {@code struct.pack_into} zero-fills a slot, its
 * format and its code before it writes them, on every {@code sl[i] = v}, even of the same type, so a
 * reader racing it may read 0 (or a shorter String) from a slot whose every written value was
 * non-zero; a format it has momentarily zeroed is read again, not reported as inconsistent (decision
 * 198). {@link #set} reads the old item and writes the new one in two accesses, not as an atomic
 * get-and-set.
 *
 * <h2>Lifetime</h2>
 * As {@link SharedMemory}: {@link #close()} unmaps this process's view (later accesses throw
 * {@link IllegalStateException}), {@link #unlink()} removes the name; the creator owns the segment, so
 * it is removed if the creator exits or dies without unlinking it. A list serializes as its name (for
 * example captured in a task for a child JVM) and re-attaches in the receiver, like Python's pickling
 * of a ShareableList.
 */
public final class ShareableList extends AbstractList<Object>
        implements RandomAccess, AutoCloseable, Serializable, io.multiproc.codec.HandleSource {
    /*
     * Implementation overview.
     *
     * The segment holds CPython's layout and nothing else (ShareableListLayout): no header of ours, no
     * lock, no version, since CPython must read it. The slot offsets cannot change after creation, so
     * they are read (and checked) once into slots[]; get/set are then a bounds check, one load of the
     * slot's format word (its type tag) and one access to its value.
     *
     * Writers: any thread of any process, with plain stores. A write stores the value first, then the
     * format word and the code, each only if it changes (tag()), so a same-type write of a number is
     * one store. Of format and code, tag() stores first the one that leaves a pair both languages read
     * (ShareableListLayout.readableTogether): never "q"/"d" over a code other than 0, which Java's
     * readers would not look at and CPython would turn into None or an AttributeError, never a str or
     * bytes code under a format that is not "Ns", on which CPython raises. Readers decide the type from
     * the format word (and the code when the format is not "q" or "d"), as CPython's reader does.
     *
     * A dead process: nothing to recover, nothing is held. A writer killed mid-write leaves at most
     * one slot with a mixed value (part of a new String, a new value under the old format) or with a
     * format and code that disagree; the latter reads as an IllegalStateException naming the slot (or,
     * "q"/"d" over another code, which only a CPython writer leaves, as the number), and the next
     * write of that slot repairs it: every write path checks the code as well as the format.
     */

    /**
     * How long a slot whose format and code read as no item is looked at again before it is reported
     * inconsistent: first {@link #SETTLE_SPINS} spinning looks (a live CPython writer's momentary state
     * settles within nanoseconds), then yielding looks for up to {@link #SETTLE_NANOS} (a writer the
     * scheduler paused mid-write, on a busy machine). A dead writer's slot costs that once per read.
     */
    private static final int SETTLE_SPINS = 1 << 10;
    private static final long SETTLE_NANOS = 50_000_000L;

    /** Items shown by {@link #toString()}; a list may hold millions. */
    private static final int TO_STRING_ITEMS = 100;

    private final transient SharedMemory shm;
    private final transient MemorySegment seg;
    private final transient int size;
    /**
     * Absolute offset of each slot in {@link #seg}, and {@code slots[size]} = where the formats start.
     * Read from the segment once (attach) or computed (create), never changed: CPython cannot move a slot.
     */
    private final transient long[] slots;
    private final transient long formatsStart;
    /** The format entries, {@code 8 * size} bytes from {@link #formatsStart}, for the bulk checks. */
    private final transient MemorySegment formats;
    private final transient long codesStart;
    /** The codes, one byte per slot from {@link #codesStart}, for the bulk checks. */
    private final transient MemorySegment codes;

    private ShareableList(SharedMemory shm, long[] slots) {
        this.shm = shm;
        this.seg = shm.segment();
        this.size = slots.length - 1;
        this.slots = slots;
        this.formatsStart = slots[size];
        this.formats = seg.asSlice(formatsStart, (long) ShareableListLayout.FORMAT_BYTES * size);
        this.codesStart = formatsStart + (long) ShareableListLayout.FORMAT_BYTES * size;
        this.codes = seg.asSlice(codesStart, size);
    }

    // ---------------------------------------------------------------- create, attach

    /**
     * Creates a list holding {@code values}, owned by this process like {@link SharedMemory#create}.
     *
     * @param nameOrNull the segment's name, or null for a fresh {@code psm_} name (as in CPython)
     * @throws ClassCastException naming the class of an item that is not long, double, boolean, String,
     *         byte[] or null (Integer, Short, Byte and Float are widened)
     * @throws IllegalArgumentException for a String/byte[] that ends in a NUL byte or is longer than
     *         {@value ShareableListLayout#MAX_STRING_BYTES} bytes
     * @throws java.nio.file.FileAlreadyExistsException if the name is taken
     */
    public static ShareableList create(String nameOrNull, List<?> values) throws IOException {
        Objects.requireNonNull(values, "values");
        Object[] items = values.toArray();
        Kind[] kinds = new Kind[items.length];
        byte[][] bytes = new byte[items.length][];
        long[] relative = new long[items.length + 1];
        boolean allNumbers = true;
        for (int i = 0; i < items.length; i++) {
            Object item = items[i];
            // instanceof first: a fresh JVM interprets this loop, and the pattern switch of Kind.of costs
            // a method-handle call there (~1 us) where the instanceof costs nanoseconds
            kinds[i] = item instanceof Long ? Kind.LONG : Kind.of(item);
            bytes[i] = kinds[i].isString() ? checkedBytes(i, item) : null;
            allNumbers &= bytes[i] == null;
            relative[i + 1] = relative[i] + slotBytes(i, bytes[i]);
        }
        int n = items.length;
        long dataBytes = relative[n];
        SharedMemory shm = SharedMemory.create(nameOrNull, ShareableListLayout.totalSize(n, dataBytes));
        try {
            MemorySegment s = shm.segment();
            long[] head = new long[n + 2]; // n, then offsets[0..n]
            head[0] = n;
            System.arraycopy(relative, 0, head, 1, n + 1);
            MemorySegment.copy(head, 0, s, JAVA_LONG, ShareableListLayout.LENGTH_OFFSET, n + 2);
            long[] slots = new long[n + 1];
            for (int i = 0; i <= n; i++) {
                slots[i] = ShareableListLayout.dataStart(n) + relative[i];
            }
            ShareableList list = new ShareableList(shm, slots);
            if (allNumbers) {
                list.writeNumbers(kinds, items);
            } else {
                for (int i = 0; i < n; i++) {
                    list.write(i, slots[i], kinds[i], items[i], bytes[i]);
                }
            }
            return list;
        } catch (RuntimeException e) {
            shm.close();
            try {
                shm.unlink();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Writes a new list's items when every slot is 8 bytes (no String or byte[]): values, formats and
     * codes built in Java arrays and copied in three bulk copies. NOTE: a fresh JVM interprets this the
     * first time, where one segment access costs ~3 us and an array store nanoseconds (decision 060).
     */
    private void writeNumbers(Kind[] kinds, Object[] items) {
        int n = size;
        long[] words = new long[n];
        long[] formatWords = new long[n];
        byte[] codes = new byte[n];
        for (int i = 0; i < n; i++) {
            Kind kind = kinds[i];
            formatWords[i] = kind.formatWord;
            codes[i] = kind.code;
            words[i] = switch (kind) {
                case LONG -> ((Number) items[i]).longValue();
                case DOUBLE -> Double.doubleToRawLongBits(((Number) items[i]).doubleValue());
                case BOOLEAN -> (Boolean) items[i] ? ShareableListLayout.BOOLEAN_TRUE_WORD : 0L;
                case NULL -> 0L; // what CPython's struct.pack("xxxxxx?x", None) writes
                case STRING, BYTES -> throw new AssertionError("not a number: " + kind);
            };
        }
        MemorySegment.copy(words, 0, seg, JAVA_LONG, slots[0], n);
        MemorySegment.copy(formatWords, 0, seg, JAVA_LONG, formatsStart, n);
        MemorySegment.copy(codes, 0, seg, JAVA_BYTE, codesStart, n);
    }

    private static long slotBytes(int index, byte[] bytes) {
        if (bytes == null) {
            return ShareableListLayout.ALIGNMENT;
        }
        if (bytes.length > ShareableListLayout.MAX_STRING_BYTES) {
            throw new IllegalArgumentException("item " + index + " is " + bytes.length + " bytes long: a ShareableList"
                    + " holds String/byte[] items of at most " + ShareableListLayout.MAX_STRING_BYTES + " bytes");
        }
        return ShareableListLayout.stringCapacity(bytes.length);
    }

    /**
     * Attaches to a list made by Java or Python. Attaching is never ownership.
     *
     * @throws java.nio.file.NoSuchFileException if there is no segment with that name
     * @throws IllegalStateException if the segment does not hold a ShareableList (naming what is wrong)
     */
    public static ShareableList attach(String name) throws IOException {
        SharedMemory shm = SharedMemory.attach(name);
        try {
            return new ShareableList(shm, ShareableListLayout.validate(shm.segment(), name));
        } catch (RuntimeException e) {
            shm.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------- java.util.List

    @Override
    public int size() {
        return size;
    }

    /** Item {@code index}: a Long, Double, Boolean, String, a new byte[], or null. */
    @Override
    public Object get(int index) {
        ensureOpen();
        MemorySegment s = seg;
        long off = slot(index);
        long format = s.get(JAVA_LONG, formatOffset(index));
        if (format == FORMAT_LONG_WORD) {
            return s.get(JAVA_LONG, off);
        }
        if (format == FORMAT_DOUBLE_WORD) {
            return s.get(JAVA_DOUBLE, off);
        }
        return readOther(index, off, format);
    }

    /**
     * Stores {@code value} in slot {@code index}, changing the slot's type if needed, and returns the old
     * item. A String/byte[] must fit the slot; if it does not, or the type is unsupported, this throws and
     * the slot keeps its old value.
     *
     * @throws IllegalArgumentException naming the slot's capacity, if a String/byte[] is too long
     * @throws ClassCastException naming the class, for an unsupported type
     */
    @Override
    public Object set(int index, Object value) {
        ensureOpen();
        MemorySegment s = seg;
        long off = slot(index);
        long format = s.get(JAVA_LONG, formatOffset(index));
        // same-type numbers, the common case: one read of the old value, one write. NOTE: the code is
        // checked too: a CPython writer killed mid-change leaves "q"/"d" over a str code (Python raises)
        if (format == FORMAT_LONG_WORD && value instanceof Long l && s.get(JAVA_BYTE, codesStart + index) == CODE_VALUE) {
            long old = s.get(JAVA_LONG, off);
            s.set(JAVA_LONG, off, l.longValue());
            return old;
        }
        if (format == FORMAT_DOUBLE_WORD && value instanceof Double d && s.get(JAVA_BYTE, codesStart + index) == CODE_VALUE) {
            double old = s.get(JAVA_DOUBLE, off);
            s.set(JAVA_DOUBLE, off, d.doubleValue());
            return old;
        }
        return setAnyType(index, off, value);
    }

    private Object setAnyType(int index, long off, Object value) {
        Kind kind = Kind.of(value);
        byte[] bytes = kind.isString() ? checkedBytes(index, value) : null;
        if (bytes != null && bytes.length > capacity(index)) {
            throw tooLong(index, value, bytes.length);
        }
        // a slot left inconsistent by a writer that died mid-write has no previous item; this repairs it
        Object old = kindAt(index) == null ? null : get(index);
        write(index, off, kind, value, bytes);
        return old;
    }

    @Override
    public int indexOf(Object value) {
        ensureOpen();
        Object wanted = widen(value);
        for (int i = 0; i < size; i++) {
            if (same(wanted, get(i))) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int lastIndexOf(Object value) {
        ensureOpen();
        Object wanted = widen(value);
        for (int i = size - 1; i >= 0; i--) {
            if (same(wanted, get(i))) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public boolean contains(Object value) {
        ensureOpen();
        return indexOf(value) >= 0;
    }

    /**
     * True if {@code o} is a List of equal items in the same order, byte arrays compared by content, as
     * {@link #indexOf} compares them (and Python's {@code ==} compares bytes): two handles on one list
     * are equal. {@link List#equals}'s contract compares them with {@code equals}, by identity, so a list
     * of another class holding a byte[] is unequal to this one from its own side (decision 199).
     */
    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof List<?> other)) {
            return false;
        }
        ensureOpen();
        java.util.Iterator<?> them = other.iterator();
        for (int i = 0; i < size; i++) {
            if (!them.hasNext() || !same(get(i), them.next())) {
                return false;
            }
        }
        return !them.hasNext();
    }

    /**
     * {@link List#hashCode}'s formula over the items, a byte[] item hashed by content
     * ({@link Arrays#hashCode(byte[])}): the same for every handle on the list while it does not change.
     */
    @Override
    public int hashCode() {
        ensureOpen();
        int h = 1;
        for (int i = 0; i < size; i++) {
            Object e = get(i);
            h = 31 * h + (e instanceof byte[] b ? Arrays.hashCode(b) : Objects.hashCode(e));
        }
        return h;
    }

    /** How many items equal {@code value} (Python's {@code count}); equality as in {@link #indexOf}. */
    public int count(Object value) {
        ensureOpen();
        Object wanted = widen(value);
        int c = 0;
        for (int i = 0; i < size; i++) {
            if (same(wanted, get(i))) {
                c++;
            }
        }
        return c;
    }

    // ---------------------------------------------------------------- unboxed and bulk

    /**
     * The long in slot {@code index}, without boxing.
     *
     * @throws ClassCastException if the slot holds another type (naming it)
     */
    public long getLong(int index) {
        ensureOpen();
        return seg.get(JAVA_LONG, slotHolding(index, Kind.LONG));
    }

    /** Stores a long in slot {@code index} (any slot fits one), without boxing. */
    public void setLong(int index, long value) {
        ensureOpen();
        seg.set(JAVA_LONG, slot(index), value);
        retag(index, Kind.LONG);
    }

    /**
     * The double in slot {@code index}, without boxing.
     *
     * @throws ClassCastException if the slot holds another type (naming it)
     */
    public double getDouble(int index) {
        ensureOpen();
        return seg.get(JAVA_DOUBLE, slotHolding(index, Kind.DOUBLE));
    }

    /** Stores a double in slot {@code index} (any slot fits one), without boxing. */
    public void setDouble(int index, double value) {
        ensureOpen();
        seg.set(JAVA_DOUBLE, slot(index), value);
        retag(index, Kind.DOUBLE);
    }

    /** Slot {@code index}'s offset, after checking that it holds a {@code kind} (a number kind). */
    private long slotHolding(int index, Kind kind) {
        long off = slot(index);
        long format = seg.get(JAVA_LONG, formatOffset(index));
        if (format != kind.formatWord) {
            format = settledFormat(index, format);
            if (format != kind.formatWord) {
                throw notA(index, kind, format);
            }
        }
        return off;
    }

    /**
     * Slot {@code index}'s format word once it and the code read as an item: {@code format} itself if
     * they do, else re-read for a while ({@link #SETTLE_SPINS}, {@link #SETTLE_NANOS}). NOTE: CPython's {@code struct.pack_into}
     * zero-fills what it writes before writing it, the format word and the code included, on every
     * {@code sl[i] = v}: a live CPython writer leaves, for nanoseconds, a pair that no writer leaves at
     * rest, and only one that died mid-write leaves it for good (decision 198). The acquire fence makes
     * each look a fresh read the JIT cannot hoist.
     */
    private long settledFormat(int index, long format) {
        long deadline = 0;
        for (int k = 0; kindAt(index, format) == null; k++) {
            if (k < SETTLE_SPINS) {
                Thread.onSpinWait();
            } else {
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + SETTLE_NANOS;
                } else if (now - deadline > 0) {
                    break;
                }
                Thread.yield(); // NOTE: on a busy machine the paused writer may need this CPU to finish
            }
            VarHandle.acquireFence();
            format = seg.get(JAVA_LONG, formatOffset(index));
        }
        return format;
    }

    /**
     * Makes slot {@code index} a {@code kind} (a number kind) after its value was written; a slot that
     * already is one is only read. Its code is read too: a number format over another code is a
     * half-finished change of type (CPython writes the format before the code), repaired here.
     */
    private void retag(int index, Kind kind) {
        // NOTE: the value is written before the type: a slot changing type is not atomic (class Javadoc)
        if (seg.get(JAVA_LONG, formatOffset(index)) != kind.formatWord || seg.get(JAVA_BYTE, codesStart + index) != CODE_VALUE) {
            tag(index, kind.formatWord, kind.code);
        }
    }

    /**
     * Copies the longs in slots {@code [from, from + dst.length)} into {@code dst}.
     *
     * @throws ClassCastException naming the first slot in the range that does not hold a long; nothing
     *         is copied then
     * @throws IndexOutOfBoundsException if the range is not inside the list
     */
    public void getLongs(int from, long[] dst) {
        ensureOpen();
        getLongs(from, dst, 0, dst.length);
    }

    /** As {@link #getLongs(int, long[])} for {@code count} slots into {@code dst[dstFrom...]}. */
    public void getLongs(int from, long[] dst, int dstFrom, int count) {
        ensureOpen();
        bulkGet(from, dst, dstFrom, count, dst.length, JAVA_LONG, Kind.LONG);
    }

    /** Stores {@code src} in slots {@code [from, from + src.length)}, whatever they held before. */
    public void setLongs(int from, long[] src) {
        ensureOpen();
        setLongs(from, src, 0, src.length);
    }

    /** As {@link #setLongs(int, long[])} for {@code count} values from {@code src[srcFrom]} on. */
    public void setLongs(int from, long[] src, int srcFrom, int count) {
        ensureOpen();
        bulkSet(from, src, srcFrom, count, src.length, JAVA_LONG, FORMAT_LONG_WORD);
    }

    /** As {@link #getLongs(int, long[])} for doubles. */
    public void getDoubles(int from, double[] dst) {
        ensureOpen();
        getDoubles(from, dst, 0, dst.length);
    }

    /** As {@link #getLongs(int, long[], int, int)} for doubles. */
    public void getDoubles(int from, double[] dst, int dstFrom, int count) {
        ensureOpen();
        bulkGet(from, dst, dstFrom, count, dst.length, JAVA_DOUBLE, Kind.DOUBLE);
    }

    /** As {@link #setLongs(int, long[])} for doubles. */
    public void setDoubles(int from, double[] src) {
        ensureOpen();
        setDoubles(from, src, 0, src.length);
    }

    /** As {@link #setLongs(int, long[], int, int)} for doubles. */
    public void setDoubles(int from, double[] src, int srcFrom, int count) {
        ensureOpen();
        bulkSet(from, src, srcFrom, count, src.length, JAVA_DOUBLE, FORMAT_DOUBLE_WORD);
    }

    /**
     * Replaces the long {@code x} in each slot of {@code [from, to)} with {@code op.applyAsLong(x)}, in
     * place: the fast way to update a run of numbers (one check of the run's types, then one loop the JIT
     * compiles early), for example {@code sl.replaceAllLongs(0, half, x -> x * 2)}. Plain reads and writes,
     * as {@link #setLong}; write-through, so a partial update is visible if {@code op} throws.
     *
     * @throws ClassCastException naming the first slot in the range that does not hold a long; nothing
     *         is changed then
     * @throws IndexOutOfBoundsException naming the values, if {@code [from, to)} is not inside the list
     */
    public void replaceAllLongs(int from, int to, LongUnaryOperator op) {
        ensureOpen();
        int count = checkFromTo(from, to);
        Objects.requireNonNull(op, "op");
        checkAllAre(from, count, Kind.LONG);
        if (contiguous(from, count)) {
            // NOTE: a buffer view, not segment accesses: ~5x cheaper while the loop is still interpreted
            LongBuffer v = run(from, count).asLongBuffer();
            for (int k = 0; k < count; k++) {
                v.put(k, op.applyAsLong(v.get(k)));
            }
        } else {
            for (int i = from; i < to; i++) {
                seg.set(JAVA_LONG, slots[i], op.applyAsLong(seg.get(JAVA_LONG, slots[i])));
            }
        }
    }

    /** As {@link #replaceAllLongs} for doubles: {@code op.applyAsDouble(x)} replaces each double {@code x}. */
    public void replaceAllDoubles(int from, int to, DoubleUnaryOperator op) {
        ensureOpen();
        int count = checkFromTo(from, to);
        Objects.requireNonNull(op, "op");
        checkAllAre(from, count, Kind.DOUBLE);
        if (contiguous(from, count)) {
            DoubleBuffer v = run(from, count).asDoubleBuffer();
            for (int k = 0; k < count; k++) {
                v.put(k, op.applyAsDouble(v.get(k)));
            }
        } else {
            for (int i = from; i < to; i++) {
                seg.set(JAVA_DOUBLE, slots[i], op.applyAsDouble(seg.get(JAVA_DOUBLE, slots[i])));
            }
        }
    }

    /** Slots {@code [from, from + count)}, contiguous, as a native-order buffer. */
    private ByteBuffer run(int from, int count) {
        return seg.asSlice(slots[from], (long) ShareableListLayout.ALIGNMENT * count).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    private int checkFromTo(int from, int to) {
        if (from < 0 || to > size || from > to) {
            throw new IndexOutOfBoundsException("range from=" + from + " to=" + to + " is not inside [0, size=" + size
                    + ") of ShareableList '" + shm.name() + "'");
        }
        return to - from;
    }

    /** Throws naming the first slot of {@code [from, from + count)} that does not hold a {@code kind}. */
    private void checkAllAre(int from, int count, Kind kind) {
        if (!allFormatsAre(from, count, kind.formatWord)) {
            for (int i = from; i < from + count; i++) {
                long format = seg.get(JAVA_LONG, formatOffset(i));
                if (format != kind.formatWord) {
                    format = settledFormat(i, format);
                }
                if (format != kind.formatWord) {
                    throw notA(i, kind, format);
                }
            }
            // NOTE: another process changed the mismatching slot back between the two looks. Every slot
            // held a kind when this look read it, which is all the first look would have promised: accept.
        }
    }

    private static void checkArray(int arrayFrom, int count, int arrayLength) {
        if (arrayFrom < 0 || count < 0 || arrayFrom > arrayLength - count) {
            throw new IndexOutOfBoundsException("arrayFrom=" + arrayFrom + " count=" + count
                    + " is not inside the Java array of length=" + arrayLength);
        }
    }

    private void bulkGet(int from, Object dst, int dstFrom, int count, int dstLength, ValueLayout layout, Kind kind) {
        checkArray(dstFrom, count, dstLength);
        checkRange(from, count);
        checkAllAre(from, count, kind);
        if (contiguous(from, count)) {
            MemorySegment.copy(seg, layout, slots[from], dst, dstFrom, count);
        } else {
            for (int k = 0; k < count; k++) {
                MemorySegment.copy(seg, layout, slots[from + k], dst, dstFrom + k, 1);
            }
        }
    }

    private void bulkSet(int from, Object src, int srcFrom, int count, int srcLength, ValueLayout layout, long formatWord) {
        checkArray(srcFrom, count, srcLength);
        checkRange(from, count);
        if (contiguous(from, count)) {
            MemorySegment.copy(src, srcFrom, seg, layout, slots[from], count);
        } else {
            for (int k = 0; k < count; k++) {
                MemorySegment.copy(src, srcFrom + k, seg, layout, slots[from + k], 1);
            }
        }
        if (!allFormatsAre(from, count, formatWord) || !allCodesAreValues(from, count)) {
            for (int i = from; i < from + count; i++) {
                tag(i, formatWord, CODE_VALUE);
            }
        }
    }

    /** True if every slot in the range has code 0, as a number slot must (see {@link #retag}). */
    private boolean allCodesAreValues(int from, int count) {
        MemorySegment c = codes;
        int nonZero = 0;
        for (int k = 0; k < count; k++) { // no early exit, as in allFormatsAre
            nonZero |= c.get(JAVA_BYTE, (long) from + k);
        }
        return nonZero == 0;
    }

    /** True if every slot in the range has format {@code word}. */
    private boolean allFormatsAre(int from, int count, long word) {
        MemorySegment f = formats;
        long mismatch = 0;
        for (int k = 0; k < count; k++) { // int-counted, no early exit: C2 vectorizes the OR
            mismatch |= f.getAtIndex(JAVA_LONG, (long) from + k) ^ word;
        }
        return mismatch == 0;
    }

    /** True if slots {@code [from, from + count)} are 8 bytes each, back to back (every numeric list). */
    private boolean contiguous(int from, int count) {
        return slots[from + count] - slots[from] == (long) ShareableListLayout.ALIGNMENT * count;
    }

    // ---------------------------------------------------------------- CPython's other accessors

    /** The struct format of slot {@code index} as CPython reports it: {@code "q"}, {@code "d"}, {@code "16s"}... */
    public String format(int index) {
        ensureOpen();
        slot(index);
        return ShareableListLayout.formatString(seg.get(JAVA_LONG, formatOffset(index)));
    }

    /** All slots' formats joined, like CPython's {@code ShareableList.format}. */
    public String format() {
        ensureOpen();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < size; i++) {
            b.append(format(i));
        }
        return b.toString();
    }

    /** The bytes a String/byte[] can take in slot {@code index} (8 for a slot made for a number). */
    public int capacity(int index) {
        ensureOpen();
        slot(index);
        return (int) (slots[index + 1] - slots[index]);
    }

    /** The segment behind the list. */
    public SharedMemory shm() {
        return shm;
    }

    /** The segment's name, what Python's {@code ShareableList(name=...)} takes. */
    public String name() {
        return shm.name();
    }

    /** Unmaps this process's view; the list stays until {@link #unlink()}. Idempotent. */
    @Override
    public void close() {
        shm.close();
    }

    /** Removes the name, as {@link SharedMemory#unlink()}. */
    public void unlink() throws IOException {
        shm.unlink();
    }

    /** The name and the first 100 items; byte arrays in hex. */
    @Override
    public String toString() {
        if (!shm.isOpen()) {
            return "ShareableList[name=" + shm.name() + ", size=" + size + ", closed]";
        }
        StringBuilder b = new StringBuilder("ShareableList[name=").append(shm.name()).append(", size=").append(size)
                .append(", items=[");
        int shown = Math.min(size, TO_STRING_ITEMS);
        for (int i = 0; i < shown; i++) {
            Object v = get(i);
            b.append(i == 0 ? "" : ", ").append(v instanceof byte[] a ? "bytes[" + HexFormat.of().formatHex(a) + "]" : v);
        }
        return b.append(size > shown ? ", ... " + (size - shown) + " more]]" : "]]").toString();
    }

    /** Always throws: a ShareableList has a fixed size, like CPython's. */
    @Override
    public void add(int index, Object element) {
        ensureOpen();
        throw fixedSize("add");
    }

    /** Always throws: a ShareableList has a fixed size, like CPython's. */
    @Override
    public Object remove(int index) {
        ensureOpen();
        throw fixedSize("remove");
    }

    private UnsupportedOperationException fixedSize(String op) {
        return new UnsupportedOperationException("ShareableList '" + shm.name() + "' is fixed size (size=" + size
                + "): " + op + " is not supported; set(index, value) replaces an item");
    }

    private void ensureOpen() {
        if (!shm.isOpen()) {
            throw new IllegalStateException("ShareableList '" + shm.name() + "' is closed");
        }
    }

    // ---------------------------------------------------------------- slots

    /** Slot {@code index}'s absolute offset, after the bounds check every public accessor makes. */
    private long slot(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index=" + index + " is out of range for a ShareableList of size=" + size);
        }
        return slots[index];
    }

    private void checkRange(int from, int count) {
        if (from < 0 || count < 0 || from > size - count) {
            throw new IndexOutOfBoundsException("range from=" + from + " count=" + count
                    + " is out of range for a ShareableList of size=" + size);
        }
    }

    private long formatOffset(int index) {
        return formatsStart + (long) ShareableListLayout.FORMAT_BYTES * index;
    }

    /** Sets slot {@code index}'s format and code, writing only what changes (so same-type writes stay one store). */
    private void tag(int index, long formatWord, byte code) {
        long f = formatOffset(index);
        long c = codesStart + index;
        // NOTE: crash order. A writer killed between the two stores leaves the new format with the old
        // code (format first) or the old format with the new code (code first); write first whichever
        // leaves a pair both languages read safely (ShareableListLayout.readableTogether).
        if (ShareableListLayout.readableTogether(formatWord, seg.get(JAVA_BYTE, c))) {
            if (seg.get(JAVA_LONG, f) != formatWord) {
                seg.set(JAVA_LONG, f, formatWord);
            }
            if (FaultInjection.ENABLED) {
                FaultInjection.at(FaultInjection.Point.BETWEEN_FORMAT_AND_CODE);
            }
            if (seg.get(JAVA_BYTE, c) != code) {
                seg.set(JAVA_BYTE, c, code);
            }
        } else {
            seg.set(JAVA_BYTE, c, code); // differs: the old code made the new format unsafe
            if (FaultInjection.ENABLED) {
                FaultInjection.at(FaultInjection.Point.BETWEEN_FORMAT_AND_CODE);
            }
            if (seg.get(JAVA_LONG, f) != formatWord) {
                seg.set(JAVA_LONG, f, formatWord);
            }
        }
    }

    /**
     * What slot {@code index} holds, from its format word and code as CPython interprets them, or null
     * if they disagree (a writer killed between writing them). "q" and "d" decide alone, as in
     * {@link #get}'s fast path; otherwise code 3 is None whatever the format, as in CPython.
     */
    private Kind kindAt(int index, long format) {
        if (format == FORMAT_LONG_WORD) {
            return Kind.LONG;
        }
        if (format == FORMAT_DOUBLE_WORD) {
            return Kind.DOUBLE;
        }
        byte code = seg.get(JAVA_BYTE, codesStart + index);
        if (code == CODE_NULL) {
            return Kind.NULL;
        }
        if (code == CODE_VALUE && format == FORMAT_BOOLEAN_WORD) {
            return Kind.BOOLEAN;
        }
        long length = ShareableListLayout.stringFormatLength(format);
        if ((code == CODE_STRING || code == CODE_BYTES) && length > 0 && length <= capacity(index)) {
            return code == CODE_STRING ? Kind.STRING : Kind.BYTES;
        }
        return null;
    }

    private Kind kindAt(int index) {
        return kindAt(index, seg.get(JAVA_LONG, formatOffset(index)));
    }

    /** Reads a slot whose format is neither "q" nor "d". */
    private Object readOther(int index, long off, long format) {
        Kind kind = kindAt(index, format);
        if (kind == null) {
            format = settledFormat(index, format);
            if (format == FORMAT_LONG_WORD) {
                return seg.get(JAVA_LONG, off);
            }
            if (format == FORMAT_DOUBLE_WORD) {
                return seg.get(JAVA_DOUBLE, off);
            }
            kind = kindAt(index, format);
        }
        if (kind == null) {
            throw new IllegalStateException("slot " + index + " of ShareableList '" + shm.name() + "' is inconsistent:"
                    + " format='" + ShareableListLayout.formatString(format) + "', code=" + seg.get(JAVA_BYTE, codesStart + index)
                    + ", capacity=" + capacity(index) + " for over " + SETTLE_NANOS / 1_000_000 + " ms (its writer died mid-write?);"
                    + " setting a value repairs it");
        }
        return switch (kind) {
            case NULL -> null;
            case BOOLEAN -> seg.get(JAVA_BYTE, off + ShareableListLayout.BOOLEAN_BYTE) != 0;
            case STRING, BYTES -> readBytes(off, (int) ShareableListLayout.stringFormatLength(format), kind);
            case LONG, DOUBLE -> throw new AssertionError("read by get() itself: " + kind);
        };
    }

    /** A str/bytes slot's value: {@code length} bytes without their trailing NULs (CPython's reader strips them). */
    private Object readBytes(long off, int length, Kind kind) {
        int end = length;
        while (end > 0 && seg.get(JAVA_BYTE, off + end - 1) == 0) {
            end--;
        }
        byte[] bytes = seg.asSlice(off, end).toArray(JAVA_BYTE);
        return kind == Kind.STRING ? new String(bytes, StandardCharsets.UTF_8) : bytes;
    }

    /** Writes an already checked value: the data first, then the format and code. */
    private void write(int index, long off, Kind kind, Object value, byte[] bytes) {
        switch (kind) {
            case LONG -> setLong(index, ((Number) value).longValue());
            case DOUBLE -> setDouble(index, ((Number) value).doubleValue());
            case BOOLEAN -> {
                // NOTE: the whole slot in one 8-byte store (seven zero bytes, then 0 or 1): zeroing the word
                // first and storing the byte after it let a concurrent reader see false in a slot only
                // ever set to true
                seg.set(JAVA_LONG, off, (Boolean) value ? ShareableListLayout.BOOLEAN_TRUE_WORD : 0L);
                tag(index, FORMAT_BOOLEAN_WORD, CODE_VALUE);
            }
            case NULL -> {
                seg.set(JAVA_LONG, off, 0L); // what CPython's struct.pack("xxxxxx?x", None) writes
                tag(index, FORMAT_NULL_WORD, CODE_NULL);
            }
            case STRING, BYTES -> {
                long cap = capacity(index);
                MemorySegment.copy(bytes, 0, seg, JAVA_BYTE, off, bytes.length);
                seg.asSlice(off + bytes.length, cap - bytes.length).fill((byte) 0);
                tag(index, ShareableListLayout.formatWord(ShareableListLayout.stringFormat(cap)), kind.code);
            }
        }
    }

    // ---------------------------------------------------------------- item types

    /** What a slot can hold: its CPython format word and back-transform code. */
    private enum Kind {
        LONG("long", FORMAT_LONG_WORD, CODE_VALUE),
        DOUBLE("double", FORMAT_DOUBLE_WORD, CODE_VALUE),
        BOOLEAN("boolean", FORMAT_BOOLEAN_WORD, CODE_VALUE),
        NULL("null", FORMAT_NULL_WORD, CODE_NULL),
        STRING("String", 0, CODE_STRING),
        BYTES("byte[]", 0, CODE_BYTES);

        final String javaName;
        /** 0 for STRING and BYTES, whose format depends on the slot's capacity. */
        final long formatWord;
        final byte code;

        Kind(String javaName, long formatWord, byte code) {
            this.javaName = javaName;
            this.formatWord = formatWord;
            this.code = code;
        }

        boolean isString() {
            return this == STRING || this == BYTES;
        }

        static Kind of(Object value) {
            return switch (value) {
                case null -> NULL;
                case Long _, Integer _, Short _, Byte _ -> LONG;
                case Double _, Float _ -> DOUBLE;
                case Boolean _ -> BOOLEAN;
                case String _ -> STRING;
                case byte[] _ -> BYTES;
                default -> throw new ClassCastException("a ShareableList cannot hold a " + value.getClass().getName()
                        + " (value=" + value + "): items are long, double, boolean, String, byte[] or null");
            };
        }
    }

    /**
     * A string's UTF-8 bytes; refuses an unpaired surrogate, which String.getBytes would write as '?'
     * (CPython refuses to encode such a string: its ShareableList cannot hold it either).
     */
    private static byte[] utf8(int index, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                throw new IllegalArgumentException("item " + index + " (a String of " + s.length() + " chars) has an unpaired"
                        + " surrogate U+" + String.format("%04X", (int) c) + " at char " + i
                        + ": not valid Unicode, which UTF-8 cannot encode (Java would store it as '?')");
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A String's UTF-8 bytes or a byte[] itself, refused if CPython's reader would strip its last byte. */
    private static byte[] checkedBytes(int index, Object value) {
        byte[] bytes = value instanceof String s ? utf8(index, s) : (byte[]) value;
        if (bytes.length > 0 && bytes[bytes.length - 1] == 0) {
            throw new IllegalArgumentException("item " + index + " (" + describe(value) + ") ends with a NUL byte, which"
                    + " CPython's ShareableList format cannot keep: its reader strips trailing NULs");
        }
        return bytes;
    }

    private static Object widen(Object value) {
        return switch (value) {
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case Float f -> (double) f;
            case null, default -> value;
        };
    }

    private static boolean same(Object wanted, Object item) {
        return wanted instanceof byte[] w ? item instanceof byte[] a && Arrays.equals(w, a) : Objects.equals(wanted, item);
    }

    private static String describe(Object value) {
        if (value instanceof byte[] b) {
            return "byte[" + b.length + "]";
        }
        String s = (String) value;
        return "String of " + s.length() + " chars '" + (s.length() > 40 ? s.substring(0, 40) + "..." : s).replace("\0", "\\0") + "'";
    }

    // ---------------------------------------------------------------- exceptions

    private IllegalArgumentException tooLong(int index, Object value, int length) {
        return new IllegalArgumentException(describe(value) + " is " + length + " bytes, but slot " + index
                + " of ShareableList '" + shm.name() + "' has capacity=" + capacity(index)
                + " bytes (fixed when the list was created); the slot keeps its old value");
    }

    /** {@code format} is the word the check saw: read again, a slot another process changes could agree. */
    private ClassCastException notA(int index, Kind wanted, long format) {
        Kind kind = kindAt(index, format);
        return new ClassCastException("slot " + index + " of ShareableList '" + shm.name() + "' holds a "
                + (kind == null ? "inconsistent slot" : kind.javaName) + ", not a " + wanted.javaName
                + " (format='" + ShareableListLayout.formatString(format) + "')");
    }

    // ---------------------------------------------------------------- serialization

    @Serial
    private Object writeReplace() {
        return new Handle(shm.name());
    }

    /**
     * The serialized form: the name; the receiver attaches (like CPython's pickling of a ShareableList).
     * A {@link io.multiproc.codec.SharedHandle}, as SharedMemory's is: the codec writes it compactly, a
     * codec that carries no shared objects refuses it, and a failed decode closes what it attached.
     */
    record Handle(String name) implements Serializable, io.multiproc.codec.SharedHandle {
        @Serial
        private Object readResolve() throws ObjectStreamException {
            try {
                return attach(name);
            } catch (IOException | RuntimeException e) {
                InvalidObjectException ioe = new InvalidObjectException("cannot attach ShareableList '" + name + "': "
                        + e.getMessage());
                ioe.initCause(e);
                throw ioe;
            }
        }
    }
}
