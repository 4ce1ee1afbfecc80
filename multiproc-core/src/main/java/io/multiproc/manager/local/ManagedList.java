package io.multiproc.manager.local;

import io.multiproc.internal.ReversedList;
import io.multiproc.internal.SnapshotReadList;

import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

import static io.multiproc.manager.local.ListLayout.CAPACITY;
import static io.multiproc.manager.local.ListLayout.ITEMS;
import static io.multiproc.manager.local.ListLayout.SIZE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A manager's list: a {@link java.util.List} whose elements live in the manager's shared heap as codec
 * bytes. Every call takes the list's cross-process lock, so calls are linearizable; there is no server.
 * Iterators, {@code toString}, {@code equals} and {@code toArray} work on a snapshot taken under the lock
 * (their {@code remove}/{@code set} throw UnsupportedOperationException: use {@link #removeIf} and
 * {@link #replaceAll}, which run atomically under the lock).
 *
 * <pre>{@code
 * List<Integer> ls = manager.list();
 * ChildProcess.start(() -> ls.add(1)).join();
 * ls.add(List.of(2, 3));                 // stored as a nested managed list
 * ((List<Integer>) (List<?>) ls.get(1)).add(4);   // live: everyone sees [1, [2, 3, 4]]
 * }</pre>
 */
final class ManagedList<E> extends SnapshotReadList<E> implements RandomAccess, Serializable, Proxy,
        io.multiproc.internal.KeyContents {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final long INITIAL_CAPACITY = 8;
    private final transient Container c;

    ManagedList(Container c) {
        this.c = c;
    }

    static <E> ManagedList<E> create(Heap heap) {
        long array = allocateArray(heap, INITIAL_CAPACITY);
        @SuppressWarnings("unchecked")
        ManagedList<E> l = (ManagedList<E>) heap.adopt(Container.allocate(heap, ContainerKind.LIST, array));
        return l;
    }

    private static long allocateArray(Heap heap, long capacity) {
        long ref = heap.allocate(ListLayout.bytesFor(capacity));
        MemorySegment s = heap.segment(ref);
        long p = payload(ref);
        s.set(JAVA_LONG, p + CAPACITY, capacity);
        s.set(JAVA_LONG, p + SIZE, 0L);
        return ref;
    }

    private static long payload(long ref) {
        return HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
    }

    @Override
    public Container container() {
        return c;
    }

    // ---- reads ---------------------------------------------------------------------------------------

    @Override
    public int size() {
        c.lock();
        try {
            long a = c.data();
            return (int) c.heap.segment(a).get(JAVA_LONG, payload(a) + SIZE);
        } finally {
            c.unlock();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public E get(int index) {
        return getAt(index, AT_INDEX);
    }

    /** One lock hold (the defaults read the size, then the element, in two: another process may change it between). */
    @Override
    public E getFirst() {
        return getAt(0, FIRST);
    }

    @Override
    public E getLast() {
        return getAt(0, LAST);
    }

    @Override
    public E removeFirst() {
        return removeAt(0, FIRST);
    }

    /** One lock hold: two processes popping (Python's {@code ls.pop()}) never see IndexOutOfBounds. */
    @Override
    public E removeLast() {
        return removeAt(0, LAST);
    }

    /** Which element {@link #getAt}/{@link #removeAt} mean: the index given, or the first or last (none: NoSuchElement). */
    private static final int AT_INDEX = 0;
    private static final int FIRST = 1;
    private static final int LAST = 2;
    /** The index given, counted from the end (the {@link #reversed()} view's). */
    private static final int FROM_END = 3;

    /** The index {@code which} means in a list of {@code size}; checked. */
    private int positionOf(int index, int which, int size) {
        if (which == AT_INDEX) {
            return Objects.checkIndex(index, size);
        }
        if (which == FROM_END) {
            return size - 1 - Objects.checkIndex(index, size);
        }
        if (size == 0) {
            throw new NoSuchElementException(c.describe() + " is empty");
        }
        return which == FIRST ? 0 : size - 1;
    }

    @SuppressWarnings("unchecked")
    private E getAt(int index, int which) {
        c.lock();
        try {
            long a = c.data();
            MemorySegment s = c.heap.segment(a);
            long p = payload(a);
            int i = positionOf(index, which, (int) s.get(JAVA_LONG, p + SIZE));
            return (E) Items.readValue(c.heap, s.get(JAVA_LONG, p + ITEMS + 8L * i));
        } finally {
            c.unlock();
        }
    }

    /** A copy of the elements, taken under the lock (what bulk reads use). */
    @SuppressWarnings("unchecked")
    @Override
    protected List<E> snapshot() {
        return (List<E>) Arrays.asList(elements(null));
    }

    @Override
    public Object contents() {
        return snapshot();
    }

    /**
     * The elements, decoded under the lock; with {@code deferred}, nested containers' proxies are left to
     * it ({@link DeferredProxies#DEFERRED} in their place).
     */
    private Object[] elements(DeferredProxies deferred) {
        c.lock();
        try {
            long a = c.data();
            MemorySegment s = c.heap.segment(a);
            long p = payload(a);
            int n = (int) s.get(JAVA_LONG, p + SIZE);
            Object[] out = new Object[n];
            for (int i = 0; i < n; i++) {
                long item = s.get(JAVA_LONG, p + ITEMS + 8L * i);
                out[i] = deferred == null ? Items.readValue(c.heap, item) : Items.readValue(c.heap, item, deferred);
            }
            if (deferred != null) {
                deferred.recordHolds();
            }
            return out;
        } catch (RuntimeException | Error e) {
            if (deferred != null) {
                deferred.abandon();
            }
            throw e;
        } finally {
            c.unlock();
        }
    }

    /**
     * Iterates a snapshot taken under the lock; {@code remove} is not supported (use {@link #removeIf}).
     * Nested containers' proxies are made as the iteration reaches them ({@link DeferredProxies}). The
     * other bulk reads ({@code listIterator}, {@code spliterator}, {@code toArray}, {@code indexOf},
     * {@code lastIndexOf}) are {@link SnapshotReadList}'s, over one snapshot too: the default spliterator
     * of a RandomAccess list read the size once and then each element under its own lock hold, so a stream
     * skipped or repeated elements another process moved meanwhile.
     */
    @Override
    public Iterator<E> iterator() {
        DeferredProxies deferred = new DeferredProxies(c.heap);
        return new SnapshotIterator<>(deferred, elements(deferred), 1) {
            @Override
            @SuppressWarnings("unchecked")
            public E next() {
                return (E) take(advance());
            }

            @Override
            public void remove() {
                // NOTE: by index it could remove what another process put there since the snapshot
                throw new UnsupportedOperationException("a managed list's iterator reads a snapshot and cannot "
                        + "remove; use removeIf(...), remove(Object) or remove(int) on the list");
            }
        };
    }

    // ---- writes --------------------------------------------------------------------------------------

    @Override
    public boolean add(E e) {
        insertLocked(writeItem(e), null, 1, APPEND);
        return true;
    }

    @Override
    public void add(int index, E element) {
        int at = insertionIndex(index); // before writing: a refused call leaves nothing allocated
        insertLocked(writeItem(element), null, 1, at);
    }

    /** Appends every element in one locked step (one publication). */
    @Override
    public boolean addAll(Collection<? extends E> items) {
        long[] refs = writeAll(items);
        if (refs.length == 0) {
            return false;
        }
        insertLocked(0, refs, refs.length, APPEND);
        return true;
    }

    /** Inserts every element at {@code index} in one locked step (one publication). */
    @Override
    public boolean addAll(int index, Collection<? extends E> items) {
        int at = insertionIndex(index); // before writing: a refused call leaves nothing allocated
        long[] refs = writeAll(items);
        if (refs.length == 0) {
            Objects.checkIndex(index, size() + 1);
            return false;
        }
        insertLocked(0, refs, refs.length, at);
        return true;
    }

    /** Encodes and writes one element where nobody looks yet (before the lock is taken); returns its word. */
    private long writeItem(Object e) {
        return Items.write(c.heap, Items.encodeValue(c.heap, e), false);
    }

    private long[] writeAll(Collection<? extends E> items) {
        Object[] values = items.toArray();
        long[] refs = new long[values.length];
        int i = 0;
        try {
            for (; i < values.length; i++) {
                refs[i] = writeItem(values[i]);
            }
        } catch (RuntimeException | Error ex) {
            freeAll(refs, i);
            throw ex;
        }
        return refs;
    }

    private void freeAll(long[] refs, int n) {
        for (int i = 0; i < n; i++) {
            Items.free(c.heap, refs[i]);
        }
    }

    /** {@link #insertLocked}'s index meaning "at the end, whatever the size is then". */
    private static final int APPEND = -1;

    /**
     * A caller's insertion index, refused here if negative: {@link #insertLocked} would take -1 for
     * {@link #APPEND}, so {@code add(-1, e)} appended instead of throwing. The upper bound is checked
     * under the lock, against the size then.
     */
    private static int insertionIndex(int index) {
        if (index < 0) {
            throw new IndexOutOfBoundsException("index=" + index + " is negative");
        }
        return index;
    }

    /**
     * The list's one insertion step, for elements written beforehand outside the lock ({@code item}
     * when {@code refs} is null, else {@code refs[0..n)}): under the lock, puts them at {@code index}
     * (or at the end) and publishes them with one store; if anything throws before that store, frees
     * them (nothing refers to them). A replaced array is freed after unlocking (decision 047).
     */
    private void insertLocked(long item, long[] refs, int n, int index) {
        insertLocked(item, refs, n, index, false);
    }

    /** {@link #insertLocked}, with {@code index} counted from the end if {@code fromEnd} (the reversed view's). */
    private void insertLocked(long item, long[] refs, int n, int index, boolean fromEnd) {
        long oldArray;
        c.lock();
        try {
            long a = c.data();
            MemorySegment s = c.heap.segment(a);
            long p = payload(a);
            long size = s.get(JAVA_LONG, p + SIZE);
            if (index != APPEND) {
                Objects.checkIndex(index, (int) size + 1);
                if (fromEnd) {
                    index = (int) size - index;
                }
            }
            oldArray = index == APPEND || index == size
                    ? append(a, s, p, size, item, refs, n)
                    : rewrite(a, (int) size, index, item, refs, n, -1);
        } catch (RuntimeException | Error ex) {
            if (refs == null) {
                Items.free(c.heap, item);
            } else {
                freeAll(refs, n);
            }
            throw ex;
        } finally {
            c.unlock();
        }
        c.heap.free(oldArray);
    }

    /**
     * Under the lock: writes the new elements past the end, then publishes them with one store of the
     * size (or of a grown array). Returns the replaced array to free after unlocking, or 0. Growth
     * doubles the capacity, so appends cost O(1) amortized and allocate nothing in this process.
     */
    private long append(long a, MemorySegment s, long p, long size, long item, long[] refs, int n) {
        long cap = s.get(JAVA_LONG, p + CAPACITY);
        if (size + n <= cap) {
            putItems(s, p + ITEMS + 8 * size, item, refs, n);
            FaultPoints.at(FaultPoints.Point.LIST_ADD_BEFORE_PUBLISH);
            // NOTE: one release store publishes every element written above
            Container.LONG.setRelease(s, p + SIZE, size + n);
            FaultPoints.at(FaultPoints.Point.LIST_AFTER_PUBLISH);
            return 0;
        }
        checkLength(size + n);
        // NOTE: doubling stops at the limit: from 2^30 elements it asked for 2^31 and refused a list that still had room
        long newCap = grownCapacity(cap, size + n);
        long fresh = allocateArray(c.heap, newCap);
        MemorySegment ns = c.heap.segment(fresh);
        long np = payload(fresh);
        MemorySegment.copy(s, p + ITEMS, ns, np + ITEMS, 8 * size);
        putItems(ns, np + ITEMS + 8 * size, item, refs, n);
        ns.set(JAVA_LONG, np + SIZE, size + n);
        FaultPoints.at(FaultPoints.Point.LIST_ADD_BEFORE_PUBLISH);
        c.publishData(fresh);
        FaultPoints.at(FaultPoints.Point.LIST_AFTER_PUBLISH);
        return a;
    }

    /** The most elements a list holds (an int index, as any List). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** Twice {@code cap}, or {@code needed}, but at most {@link #MAX_ELEMENTS}. */
    static long grownCapacity(long cap, long needed) {
        return Math.min(Math.max(cap * 2, needed), MAX_ELEMENTS);
    }

    private void checkLength(long length) {
        if (length > MAX_ELEMENTS) {
            throw new IllegalStateException(c.describe() + " cannot hold more than " + MAX_ELEMENTS + " elements");
        }
    }

    /** Writes {@code item} (when {@code refs} is null) or {@code refs[0..n)} as consecutive words from {@code at}. */
    private static void putItems(MemorySegment s, long at, long item, long[] refs, int n) {
        if (refs == null) {
            s.set(JAVA_LONG, at, item);
            return;
        }
        for (int i = 0; i < n; i++) {
            s.set(JAVA_LONG, at + 8L * i, refs[i]);
        }
    }

    @Override
    public E set(int index, E element) {
        return setAt(index, AT_INDEX, element);
    }

    private E setAt(int index, int which, E element) {
        long item = writeItem(element);
        long old;
        E previous;
        c.lock();
        try {
            long a = c.data();
            MemorySegment s = c.heap.segment(a);
            long p = payload(a);
            long at = p + ITEMS + 8L * positionOf(index, which, (int) s.get(JAVA_LONG, p + SIZE));
            old = s.get(JAVA_LONG, at);
            @SuppressWarnings("unchecked")
            E prev = (E) Items.readValue(c.heap, old);
            previous = prev;
            FaultPoints.at(FaultPoints.Point.LIST_REWRITE_BEFORE_PUBLISH);
            c.heap.retire(old);
            Container.LONG.setRelease(s, at, item);
        } catch (RuntimeException | Error ex) {
            Items.free(c.heap, item);
            throw ex;
        } finally {
            c.unlock();
        }
        Items.free(c.heap, old); // unpublished: no reader can reach it (readers decode under the lock)
        return previous;
    }

    @Override
    public E remove(int index) {
        return removeAt(index, AT_INDEX);
    }

    @SuppressWarnings("unchecked")
    private E removeAt(int at, int which) {
        long old;
        long oldArray = 0;
        E previous;
        c.lock();
        try {
            long a = c.data();
            MemorySegment s = c.heap.segment(a);
            long p = payload(a);
            int size = (int) s.get(JAVA_LONG, p + SIZE);
            int index = positionOf(at, which, size);
            old = s.get(JAVA_LONG, p + ITEMS + 8L * index);
            previous = (E) Items.readValue(c.heap, old);
            c.heap.retire(old);
            if (index == size - 1) {
                Container.LONG.setRelease(s, p + SIZE, (long) size - 1);
            } else {
                oldArray = rewrite(a, size, -1, 0, null, 0, index);
            }
        } finally {
            c.unlock();
        }
        c.heap.free(oldArray);
        Items.free(c.heap, old);
        return previous;
    }

    /**
     * Under the lock: a new array equal to the current one with the new elements ({@code item} when
     * {@code refs} is null, else {@code refs[0..n)}) inserted at {@code insertAt}, or with the element
     * at {@code removeAt} left out (then {@code insertAt} is -1), published with one store. Returns the
     * replaced array, to free after unlocking.
     */
    private long rewrite(long a, int size, int insertAt, long item, long[] refs, int n, int removeAt) {
        MemorySegment s = c.heap.segment(a);
        long p = payload(a);
        long cap = s.get(JAVA_LONG, p + CAPACITY);
        if (insertAt >= 0) {
            checkLength((long) size + n); // an int sum would wrap
        }
        int newSize = insertAt >= 0 ? size + n : size - 1;
        long fresh = allocateArray(c.heap, Math.max(cap, newSize));
        MemorySegment ns = c.heap.segment(fresh);
        long np = payload(fresh);
        int split = insertAt >= 0 ? insertAt : removeAt;
        MemorySegment.copy(s, p + ITEMS, ns, np + ITEMS, 8L * split);
        if (insertAt >= 0) {
            putItems(ns, np + ITEMS + 8L * split, item, refs, n);
            MemorySegment.copy(s, p + ITEMS + 8L * split, ns, np + ITEMS + 8L * (split + n), 8L * (size - split));
        } else {
            MemorySegment.copy(s, p + ITEMS + 8L * (split + 1), ns, np + ITEMS + 8L * split, 8L * (size - split - 1));
        }
        ns.set(JAVA_LONG, np + SIZE, newSize);
        FaultPoints.at(FaultPoints.Point.LIST_REWRITE_BEFORE_PUBLISH);
        c.publishData(fresh);
        return a;
    }

    @Override
    public void clear() {
        long old;
        c.lock();
        try {
            old = c.data();
            retireItems(old);
            c.publishData(allocateArray(c.heap, INITIAL_CAPACITY));
        } finally {
            c.unlock();
        }
        freeArrayAndItems(old, 0, Integer.MAX_VALUE);
    }

    /** Under the lock, before the array {@code a} is unpublished: retires its items (see {@link Heap#retire}). */
    private void retireItems(long a) {
        retireItems(a, 0, Integer.MAX_VALUE);
    }

    private void retireItems(long a, long from, long to) {
        MemorySegment s = c.heap.segment(a);
        long p = payload(a);
        long size = Math.min(to, s.get(JAVA_LONG, p + SIZE));
        for (long i = from; i < size; i++) {
            c.heap.retire(s.get(JAVA_LONG, p + ITEMS + 8 * i));
        }
    }

    private void freeArrayAndItems(long a, long from, long to) {
        MemorySegment s = c.heap.segment(a);
        long p = payload(a);
        long size = Math.min(to, s.get(JAVA_LONG, p + SIZE));
        for (long i = from; i < size; i++) {
            Items.free(c.heap, s.get(JAVA_LONG, p + ITEMS + 8 * i));
        }
        c.heap.free(a);
    }

    /** Replaces every element with {@code op}'s result, atomically: {@code op} runs in this process under the lock. */
    @Override
    public void replaceAll(UnaryOperator<E> op) {
        replaceRange(0, -1, op);
    }

    /** {@link #replaceAll} of indexes {@code from} to {@code to} (exclusive; -1: to the end), for a sublist too. */
    @SuppressWarnings("unchecked")
    private void replaceRange(int from, int to, UnaryOperator<E> op) {
        Objects.requireNonNull(op, "op");
        long old;
        int end;
        c.lock();
        try {
            old = c.data();
            MemorySegment s = c.heap.segment(old);
            long p = payload(old);
            int size = (int) s.get(JAVA_LONG, p + SIZE);
            end = to < 0 ? size : to;
            Objects.checkFromToIndex(from, end, size); // a sublist that another process has shortened meanwhile
            long[] refs = new long[size];
            for (int k = 0; k < size; k++) {
                refs[k] = s.get(JAVA_LONG, p + ITEMS + 8L * k);
            }
            int i = from;
            try {
                for (; i < end; i++) {
                    E v = (E) Items.readValue(c.heap, refs[i]);
                    refs[i] = writeItem(op.apply(v));
                }
            } catch (RuntimeException | Error ex) { // (an Error of op too: a StackOverflowError, an assertion)
                for (int k = from; k < i; k++) {
                    Items.free(c.heap, refs[k]);
                }
                throw ex;
            }
            retireItems(old, from, end);
            publishNew(refs, size, s.get(JAVA_LONG, p + CAPACITY));
        } finally {
            c.unlock();
        }
        freeArrayAndItems(old, from, end);
    }

    /**
     * {@link LocalManager#replaceIfUnchanged}: the replacement's items are written before the lock is taken;
     * under it the stored elements are compared with {@code expected}, then the new array is published with
     * one store, or nothing is and the written items are freed.
     */
    boolean replaceIfUnchanged(List<?> expected, List<? extends E> replacement) {
        Objects.requireNonNull(expected, "expected");
        long[] refs = writeAll(replacement);
        long old;
        boolean same;
        c.lock();
        try {
            old = c.data();
            MemorySegment s = c.heap.segment(old);
            long p = payload(old);
            int size = (int) s.get(JAVA_LONG, p + SIZE);
            same = size == expected.size();
            for (int i = 0; same && i < size; i++) {
                same = Items.sameForSwap(Items.readValue(c.heap, s.get(JAVA_LONG, p + ITEMS + 8L * i)), expected.get(i));
            }
            if (same) {
                retireItems(old);
                publishNew(refs, refs.length, s.get(JAVA_LONG, p + CAPACITY));
            }
        } catch (RuntimeException | Error e) {
            freeAll(refs, refs.length);
            throw e;
        } finally {
            c.unlock();
        }
        if (!same) {
            freeAll(refs, refs.length);
            return false;
        }
        freeArrayAndItems(old, 0, Integer.MAX_VALUE);
        return true;
    }

    /** Removes the elements {@code filter} accepts, atomically: {@code filter} runs in this process under the lock. */
    @Override
    public boolean removeIf(Predicate<? super E> filter) {
        Objects.requireNonNull(filter, "filter");
        return removeMatching((i, v) -> filter.test(v), false);
    }

    /** Removes the first element equal to {@code o}, atomically. */
    @Override
    public boolean remove(Object o) {
        return removeMatching((i, v) -> Items.sameValue(v, o), true);
    }

    @Override
    public boolean removeAll(Collection<?> items) {
        java.util.function.Predicate<Object> in = Items.containedIn(local(items));
        return removeMatching((i, v) -> in.test(v), false);
    }

    @Override
    public boolean retainAll(Collection<?> items) {
        java.util.function.Predicate<Object> in = Items.containedIn(local(items));
        return removeMatching((i, v) -> !in.test(v), false);
    }

    /**
     * {@code items} as a collection whose {@code contains} takes no lock: a copy, taken before this
     * list's lock, of a shared or managed one (this list itself included). Asking a managed
     * collection under this list's lock took its lock too, so {@code a.removeAll(b)} beside
     * {@code b.retainAll(a)} deadlocked both lists, in every process.
     */
    private static Collection<?> local(Collection<?> items) {
        Objects.requireNonNull(items, "items");
        return items instanceof io.multiproc.codec.HandleSource ? new java.util.HashSet<>(items) : items;
    }

    /** Atomically removes indexes {@code from} (inclusive) to {@code to} (what {@code subList(..).clear()} calls). */
    @Override
    protected void removeRange(int from, int to) {
        removeMatching((i, v) -> i >= from && i < to, false);
    }

    /**
     * Under the lock: a new array without the elements {@code test} accepts (only the first if
     * {@code firstOnly}), published with one store; the removed items are freed after unlocking.
     */
    @SuppressWarnings("unchecked")
    private boolean removeMatching(java.util.function.BiPredicate<Integer, ? super E> test, boolean firstOnly) {
        return removeCounting(test, firstOnly) > 0;
    }

    /** {@link #removeMatching}, saying how many it removed. */
    @SuppressWarnings("unchecked")
    private int removeCounting(java.util.function.BiPredicate<Integer, ? super E> test, boolean firstOnly) {
        long old;
        long[] removed;
        int nRemoved = 0;
        c.lock();
        try {
            old = c.data();
            MemorySegment s = c.heap.segment(old);
            long p = payload(old);
            int size = (int) s.get(JAVA_LONG, p + SIZE);
            long[] kept = new long[size];
            removed = new long[size];
            int nKept = 0;
            for (int i = 0; i < size; i++) {
                long item = s.get(JAVA_LONG, p + ITEMS + 8L * i);
                if ((!firstOnly || nRemoved == 0) && test.test(i, (E) Items.readValue(c.heap, item))) {
                    removed[nRemoved++] = item;
                } else {
                    kept[nKept++] = item;
                }
            }
            if (nRemoved == 0) {
                return 0;
            }
            for (int i = 0; i < nRemoved; i++) {
                c.heap.retire(removed[i]);
            }
            publishNew(kept, nKept, s.get(JAVA_LONG, p + CAPACITY));
        } finally {
            c.unlock();
        }
        freeAll(removed, nRemoved);
        c.heap.free(old);
        return nRemoved;
    }

    /**
     * A view of indexes {@code from} to {@code to}: reads and single writes go to this list; its
     * {@code removeIf}, {@code replaceAll}, {@code sort} and {@code clear} are each one locked step over
     * the range, like this list's own. Iteration is over a snapshot, as this list's. A view does not see
     * the changes other processes make to the list's length: ranges past its end then throw
     * IndexOutOfBoundsException.
     */
    /**
     * A view in reverse order whose every call is one step on the list, as the list's own: JDK's default
     * view read the size and then an element, or a snapshot from an index, in two lock holds, so its
     * iteration and {@code get} threw IndexOutOfBoundsException (or read the wrong element) when another
     * process changed the list between (decision 217).
     */
    @Override
    public List<E> reversed() {
        return new Reversed();
    }

    /** {@link #reversed()}'s view: indexes count from the end under the lock; the rest is {@link ReversedList}'s. */
    private final class Reversed extends ReversedList<E> implements RandomAccess {
        Reversed() {
            super(ManagedList.this);
        }

        @Override
        public E get(int i) {
            return getAt(i, FROM_END);
        }

        @Override
        public E set(int i, E e) {
            return setAt(i, FROM_END, e);
        }

        @Override
        public void add(int i, E e) {
            int at = insertionIndex(i); // before writing: a refused call leaves nothing allocated
            insertLocked(writeItem(e), null, 1, at, true);
        }

        @Override
        public E remove(int i) {
            return removeAt(i, FROM_END);
        }
    }

    @Override
    public List<E> subList(int from, int to) {
        Objects.checkFromToIndex(from, to, size());
        return new Range(null, from, to - from);
    }

    /** {@link #subList}'s view. */
    private final class Range extends AbstractList<E> implements java.util.RandomAccess {
        /** The sublist this one was taken from, which its changes resize too; null for the list's own. */
        private final Range parent;
        private final int offset;
        private int size;

        Range(Range parent, int offset, int size) {
            this.parent = parent;
            this.offset = offset;
            this.size = size;
        }

        private void resized(int delta) {
            for (Range r = this; r != null; r = r.parent) {
                r.size += delta;
            }
        }

        @Override
        public E get(int i) {
            return ManagedList.this.get(offset + Objects.checkIndex(i, size));
        }

        @Override
        public E set(int i, E e) {
            return ManagedList.this.set(offset + Objects.checkIndex(i, size), e);
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void add(int i, E e) {
            Objects.checkIndex(i, size + 1);
            ManagedList.this.add(offset + i, e);
            resized(1);
        }

        @Override
        public E remove(int i) {
            E removed = ManagedList.this.remove(offset + Objects.checkIndex(i, size));
            resized(-1);
            return removed;
        }

        @Override
        protected void removeRange(int from, int to) {
            Objects.checkFromToIndex(from, to, size);
            ManagedList.this.removeRange(offset + from, offset + to);
            resized(from - to);
        }

        @Override
        public boolean removeIf(Predicate<? super E> filter) {
            Objects.requireNonNull(filter, "filter");
            return removeInRange((i, v) -> filter.test(v), false);
        }

        @Override
        public boolean remove(Object o) {
            return removeInRange((i, v) -> Items.sameValue(v, o), true);
        }

        @Override
        public boolean removeAll(Collection<?> items) {
            java.util.function.Predicate<Object> in = Items.containedIn(local(items));
            return removeInRange((i, v) -> in.test(v), false);
        }

        @Override
        public boolean retainAll(Collection<?> items) {
            java.util.function.Predicate<Object> in = Items.containedIn(local(items));
            return removeInRange((i, v) -> !in.test(v), false);
        }

        private boolean removeInRange(java.util.function.BiPredicate<Integer, ? super E> test, boolean firstOnly) {
            int end = offset + size;
            int n = removeCounting((i, v) -> i >= offset && i < end && test.test(i, v), firstOnly);
            resized(-n);
            return n > 0;
        }

        @Override
        public void replaceAll(UnaryOperator<E> op) {
            replaceRange(offset, offset + size, op);
        }

        @Override
        public void sort(Comparator<? super E> cmp) {
            sortRange(offset, offset + size, cmp);
        }

        @Override
        public ListIterator<E> listIterator(int index) {
            Objects.checkIndex(index, size + 1);
            return Collections.unmodifiableList(snapshot().subList(offset, offset + size)).listIterator(index);
        }

        @Override
        public Iterator<E> iterator() {
            return listIterator(0);
        }

        @Override
        public List<E> subList(int from, int to) {
            Objects.checkFromToIndex(from, to, size);
            return new Range(this, offset + from, to - from);
        }
    }

    /** Sorts under the lock by reordering the item refs (no element is re-encoded). */
    @Override
    @SuppressWarnings("unchecked")
    public void sort(Comparator<? super E> cmp) {
        sortRange(0, -1, cmp);
    }

    /** {@link #sort} of indexes {@code from} to {@code to} (exclusive; -1: to the end), for a sublist too. */
    @SuppressWarnings("unchecked")
    private void sortRange(int from, int to, Comparator<? super E> cmp) {
        long old;
        c.lock();
        try {
            old = c.data();
            MemorySegment s = c.heap.segment(old);
            long p = payload(old);
            int size = (int) s.get(JAVA_LONG, p + SIZE);
            int end = to < 0 ? size : to;
            Objects.checkFromToIndex(from, end, size);
            long[] refs = new long[size];
            for (int i = 0; i < size; i++) {
                refs[i] = s.get(JAVA_LONG, p + ITEMS + 8L * i);
            }
            List<Object[]> pairs = new ArrayList<>(end - from);
            for (int i = from; i < end; i++) {
                pairs.add(new Object[] {Items.readValue(c.heap, refs[i]), refs[i]});
            }
            // natural order as ArrayList.sort(null) compares: only the receiver is cast to Comparable, so a null
            // compared with a nested list throws NullPointerException there, not Comparator.naturalOrder()'s
            // ClassCastException from casting the argument too (the sort algorithm is the same)
            Comparator<? super E> order = cmp != null ? cmp : (x, y) -> ((Comparable<Object>) x).compareTo(y);
            pairs.sort((x, y) -> order.compare((E) x[0], (E) y[0]));
            for (int i = from; i < end; i++) {
                refs[i] = (long) pairs.get(i - from)[1];
            }
            publishNew(refs, size, s.get(JAVA_LONG, p + CAPACITY));
        } finally {
            c.unlock();
        }
        c.heap.free(old);
    }

    /** Under the lock: a new array of {@code refs}, published with one store. */
    private void publishNew(long[] refs, int n, long capacity) {
        long fresh = allocateArray(c.heap, Math.max(Math.max(capacity, n), 1));
        MemorySegment ns = c.heap.segment(fresh);
        long np = payload(fresh);
        for (int i = 0; i < n; i++) {
            ns.set(JAVA_LONG, np + ITEMS + 8L * i, refs[i]);
        }
        ns.set(JAVA_LONG, np + SIZE, n);
        FaultPoints.at(FaultPoints.Point.LIST_REWRITE_BEFORE_PUBLISH);
        c.publishData(fresh);
    }

    @Override
    public String toString() {
        java.util.StringJoiner out = new java.util.StringJoiner(", ", "[", "]");
        for (Object e : snapshot()) {
            out.add(c.sameAs(e) ? "(this Collection)" : String.valueOf(e));
        }
        return out.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof List<?> other && snapshot().equals(other instanceof ManagedList<?> m ? m.snapshot() : other);
    }

    @Override
    public int hashCode() {
        return snapshot().hashCode();
    }

    @Serial
    Object writeReplace() {
        return c.handle(this);
    }
}
