package io.multiproc.manager.remote;

import java.util.Iterator;
import java.util.function.Consumer;

/**
 * Iterates a snapshot the client read in one request; {@code remove()} removes the element last returned
 * from the server's container through {@code remover} (whatever it maps to by then), and from the snapshot.
 */
final class SnapshotIterator<E> implements Iterator<E> {
    private final Iterator<E> snapshot;
    private final Consumer<? super E> remover;
    private E last;
    private boolean has;

    SnapshotIterator(Iterator<E> snapshot, Consumer<? super E> remover) {
        this.snapshot = snapshot;
        this.remover = remover;
    }

    @Override
    public boolean hasNext() {
        return snapshot.hasNext();
    }

    @Override
    public E next() {
        last = snapshot.next();
        has = true;
        return last;
    }

    @Override
    public void remove() {
        if (!has) {
            throw new IllegalStateException("next() first");
        }
        remover.accept(last);
        snapshot.remove();
        has = false;
    }
}
