package io.multiproc.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;

/**
 * Holds for shared objects in flight: a handle encoded into a carrier (a child's task, a queue item, a
 * pipe message) keeps its segment alive until the receiver attaches, even if the sender closes the
 * object or exits right after sending. One per thread ({@link #here()}); the carrier's code brackets its
 * encode and decode calls with it, and {@link MappedObject#nameInFlight()} (called by every shared
 * object's {@code writeReplace}) reports what the encode carried.
 *
 * <h2>Implementation overview</h2>
 * <ul>
 *   <li>Sending: between {@link #beginSend()} and {@link #endSend(int)}, every shared object serialized
 *       on this thread (natively by the codec or by JDK serialization: both call {@code writeReplace})
 *       adds its segment name here. The carrier then takes the holds before it publishes the item, and
 *       gives them back if the item is not sent after all (a timed-out offer).</li>
 *   <li>A task for a child: the child process itself is recorded as a holder
 *       ({@link SegmentRegistry#addHolderFor}); its attach finds the record its own. A child that dies
 *       first leaves a dead holder record, which the next release or sweep removes.</li>
 *   <li>A queue item or pipe message: one in-flight hold of the carrier's segment on the object's
 *       ({@link SegmentRegistry#addInFlightHold}, a counted parent hold), per distinct segment per item.
 *       The receiver decodes a taken item inside {@link #beginReceive(String)}, and its attach drops one
 *       count per distinct segment ({@link SharedSegments#attach}); peeks and iterators decode outside
 *       it and drop nothing. When the carrier is unlinked (its last user closed it or died), its holds go
 *       with it, so an item never taken, or taken by a consumer that died before decoding it, keeps its
 *       objects only as long as the queue or pipe exists.</li>
 * </ul>
 * Counting per distinct segment on both sides keeps the count right however often one item names an
 * object (JDK serialization writes a repeated object once, the built-in codec each time).
 *
 * <p>Thread-confined: each thread uses its own instance.
 *
 * <p>Not part of the public API.
 */
public final class InFlight {
    private static final ThreadLocal<InFlight> LOCAL = ThreadLocal.withInitial(InFlight::new);

    /** Segments noted by open send brackets, distinct from the bracket's mark on. */
    private String[] sent = new String[4];
    private int sentCount;
    /** Open send brackets; names are noted only while > 0. */
    private int sending;
    /** The carrier a taken item is being decoded from, or null. */
    private String receivingFrom;
    /** Segments whose in-flight hold this receive already dropped. */
    private String[] adopted = new String[4];
    private int adoptedCount;
    /** Shared objects decodes on this thread attached since the open collections' marks (decision 173). */
    private Object[] attached = new Object[4];
    private int attachedCount;
    /** Open collections; attached objects are noted only while > 0. */
    private int collecting;

    private InFlight() {
    }

    /** This thread's instance. */
    public static InFlight here() {
        return LOCAL.get();
    }

    // ------------------------------------------------------------------ collecting what a decode attached

    /**
     * Opens a collection of the shared objects that decodes on this thread attach (a handle's
     * {@code readResolve}, wherever it sits in the value: a record's component, an array's element), for
     * a holder that tracks each of them; returns the mark to pass to {@link #endCollect}.
     */
    public int beginCollect() {
        collecting++;
        return attachedCount;
    }

    /** Closes the collection opened at {@code mark}; returns what was attached since (usually nothing). */
    public List<Object> endCollect(int mark) {
        collecting--;
        if (attachedCount == mark) {
            return List.of();
        }
        List<Object> made = List.of(Arrays.copyOfRange(attached, mark, attachedCount));
        Arrays.fill(attached, mark, attachedCount, null);
        attachedCount = mark;
        return made;
    }

    /** Called by a decode for each shared object it attached; noted only inside a collection. */
    public static void noteAttached(Object shared) {
        InFlight f = LOCAL.get();
        if (f.collecting == 0) {
            return;
        }
        if (f.attachedCount == f.attached.length) {
            f.attached = Arrays.copyOf(f.attached, f.attachedCount * 2);
        }
        f.attached[f.attachedCount++] = shared;
    }

    // ------------------------------------------------------------------ sending

    /** Opens a send bracket; returns the mark to pass to {@link #endSend} and {@link #holdFor}. */
    public int beginSend() {
        sending++;
        return sentCount;
    }

    /** Closes the bracket opened at {@code mark}, forgetting what it noted. */
    public void endSend(int mark) {
        sending--;
        clearSince(mark);
    }

    /** Whether any segment was noted since {@code mark} (no allocation: what a hot path asks first). */
    public boolean sentAnySince(int mark) {
        return sentCount > mark;
    }

    /** The distinct segments noted since {@code mark}. */
    public List<String> sentSince(int mark) {
        return List.of(Arrays.copyOfRange(sent, mark, sentCount));
    }

    /**
     * Called while a shared object is serialized on this thread; false if no send bracket is open (the
     * handle goes where no hold keeps its segment: a managed container's item, the user's own stream).
     */
    static boolean noteSent(String name) {
        InFlight f = LOCAL.get();
        if (f.sending == 0) {
            return false;
        }
        if (indexOf(f.sent, f.sentCount, name) < 0) {
            if (f.sentCount == f.sent.length) {
                f.sent = Arrays.copyOf(f.sent, f.sentCount * 2);
            }
            f.sent[f.sentCount++] = name;
        }
        return true;
    }

    /** Forgets what was noted since {@code mark} (an item that failed to encode), keeping the bracket open. */
    public void clearSince(int mark) {
        Arrays.fill(sent, mark, sentCount, null);
        sentCount = mark;
    }

    /**
     * Takes one in-flight hold of {@code carrier} on every segment noted since {@code mark}, before the
     * item is published, and forgets them (the next item of a batch starts afresh). Null (and nothing
     * done) when the item carries no shared object, the usual case.
     *
     * @throws IllegalStateException if an object's segment is gone (it was closed everywhere)
     */
    public Holds holdFor(int mark, String carrier) {
        if (sentCount == mark) {
            return null;
        }
        List<String> names = sentSince(mark);
        clearSince(mark);
        Holds h = new Holds(names, carrier);
        int done = 0;
        try {
            for (String n : names) {
                SegmentRegistry.addInFlightHold(n, carrier);
                done++;
            }
        } catch (IOException e) {
            h.release(done);
            throw new IllegalStateException("cannot send a shared object through '" + carrier + "': " + e.getMessage(), e);
        }
        return h;
    }

    /** The holds of one sent item; {@link #release()} gives them back if it was not sent after all. */
    public static final class Holds {
        private final List<String> names;
        private final String carrier;

        private Holds(List<String> names, String carrier) {
            this.names = names;
            this.carrier = carrier;
        }

        public void release() {
            release(names.size());
        }

        private void release(int n) {
            for (int i = 0; i < n; i++) {
                try {
                    SegmentRegistry.dropInFlightHold(names.get(i), carrier);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot drop the in-flight hold of '" + carrier + "' on '"
                            + names.get(i) + "'", e);
                }
            }
        }
    }

    /**
     * Records {@code child} as a holder of every segment in {@code names} (what its task carries), so
     * that they outlive this process's own handles until the child has attached.
     */
    public static void holdForProcess(List<String> names, long childPid) {
        if (names.isEmpty()) {
            return;
        }
        ProcessIdentity child = ProcessIdentity.of(childPid).orElse(null);
        if (child == null) {
            return; // already gone: it will not attach anything
        }
        for (String n : names) {
            try {
                SegmentRegistry.addHolderFor(n, child);
            } catch (IOException e) {
                throw new IllegalStateException("cannot send shared object '" + n + "' to process " + childPid
                        + ": " + e.getMessage(), e);
            }
        }
    }

    // ------------------------------------------------------------------ receiving

    /**
     * Opens a receive bracket for an item taken from {@code carrier}: attaches inside it replace the
     * carrier's in-flight holds. Returns the previous carrier, for {@link #endReceive}.
     */
    public String beginReceive(String carrier) {
        String previous = receivingFrom;
        receivingFrom = carrier;
        adoptedCount = 0;
        return previous;
    }

    public void endReceive(String previous) {
        receivingFrom = previous;
        Arrays.fill(adopted, 0, adoptedCount, null);
        adoptedCount = 0;
    }

    /**
     * The carrier whose in-flight hold on {@code name} an attach on this thread now should drop, or null:
     * outside a receive bracket, or for a segment this receive already adopted.
     */
    static String carrierToAdopt(String name) {
        InFlight f = LOCAL.get();
        if (f.receivingFrom == null || indexOf(f.adopted, f.adoptedCount, name) >= 0) {
            return null;
        }
        if (f.adoptedCount == f.adopted.length) {
            f.adopted = Arrays.copyOf(f.adopted, f.adoptedCount * 2);
        }
        f.adopted[f.adoptedCount++] = name;
        return f.receivingFrom;
    }

    /** Undoes {@link #carrierToAdopt} for {@code name}, whose attach failed and gave the hold back. */
    static void notAdopted(String name) {
        InFlight f = LOCAL.get();
        int i = indexOf(f.adopted, f.adoptedCount, name);
        if (i >= 0) {
            f.adopted[i] = f.adopted[--f.adoptedCount];
            f.adopted[f.adoptedCount] = null;
        }
    }

    private static int indexOf(String[] a, int n, String name) {
        for (int i = 0; i < n; i++) {
            if (a[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }
}
