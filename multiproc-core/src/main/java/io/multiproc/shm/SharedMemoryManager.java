package io.multiproc.shm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;

/**
 * Owns the segments and lists it creates and removes all of them at {@link #close()}, like CPython's
 * {@code multiprocessing.managers.SharedMemoryManager}, without a server process: it lives in the
 * process that starts it (see {@code docs/decisions/015-shared-memory-manager-in-process.md}).
 *
 * <pre>{@code
 * try (SharedMemoryManager smm = SharedMemoryManager.start()) {
 *     SharedMemory buf = smm.sharedMemory(1 << 20);
 *     ShareableList sl = smm.shareableList(List.of(0L, 0L, "status"));
 *     ChildProcess.start(() -> ... ShareableList.attach(sl.name()) ...).join();
 * }   // both segments are unlinked here
 * }</pre>
 *
 * <p>If the process that started the manager is killed before closing it, its segments are removed by
 * the next multiproc process or {@code multiproc clean}: they are recorded as owned by this process in
 * the segment registry, like any {@link SharedMemory#create tracked} segment. A normal exit without
 * {@code close()} removes them too. Nothing is removed while this process lives, except by
 * {@code close()} (or an explicit {@code unlink()}).
 *
 * <p>Thread-safety: all methods may be called from any thread; {@code close()} waits for a creation in
 * progress, and creating after {@code close()} throws {@link IllegalStateException}.
 */
public final class SharedMemoryManager implements AutoCloseable {
    /** What this manager made, in creation order; guarded by {@code this}. */
    private final List<SharedMemory> owned = new ArrayList<>();
    /** Guarded by {@code this}. */
    private boolean closed;

    private SharedMemoryManager() {
    }

    /** A new manager owning nothing yet. */
    public static SharedMemoryManager start() {
        return new SharedMemoryManager();
    }

    /**
     * A new segment of {@code size} bytes with a fresh {@code psm_} name, owned by this manager.
     *
     * @throws IllegalStateException if the manager is closed
     */
    public synchronized SharedMemory sharedMemory(long size) throws IOException {
        checkOpen();
        return own(SharedMemory.create(null, size));
    }

    /**
     * A new {@link ShareableList} holding {@code values}, owned by this manager.
     *
     * @throws IllegalStateException if the manager is closed
     */
    public synchronized ShareableList shareableList(List<?> values) throws IOException {
        checkOpen();
        ShareableList list = ShareableList.create(null, values);
        own(list.shm());
        return list;
    }

    /** The names of the segments this manager made and has not removed yet. */
    public synchronized List<String> names() {
        return owned.stream().map(SharedMemory::name).toList();
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Unlinks every segment this manager made and closes this process's handles on them (their later
     * use throws IllegalStateException); other processes' mappings stay valid until they close them.
     * Segments already unlinked by someone else are skipped. Idempotent. Every segment is tried, then the
     * first failure is thrown (the others suppressed in it).
     *
     * @throws UncheckedIOException if a segment could not be removed
     * @throws IllegalStateException naming a segment whose handle could not be unmapped yet (another thread
     *         is in I/O on its memory, see {@link SharedMemory#close()}); its segment is unlinked all the same,
     *         and closing that handle again once the I/O ends unmaps it
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        for (SharedMemory shm : owned) {
            try {
                shm.close();
            } catch (IllegalStateException inUse) {
                // NOTE: the name goes all the same; only this process's view stays until that I/O ends
                failure = addFailure(failure, inUse);
            }
            try {
                shm.unlink();
            } catch (NoSuchFileException alreadyGone) {
                // unlinked by its user (or by Python): nothing left to do
            } catch (IOException e) {
                failure = addFailure(failure, new UncheckedIOException(
                        "SharedMemoryManager could not unlink segment '" + shm.name() + "'", e));
            }
        }
        owned.clear();
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public synchronized String toString() {
        return "SharedMemoryManager[" + (closed ? "closed" : "segments=" + names()) + "]";
    }

    private static RuntimeException addFailure(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    private SharedMemory own(SharedMemory shm) {
        owned.add(shm);
        return shm;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("SharedMemoryManager is closed: it creates nothing after close()");
        }
    }
}
