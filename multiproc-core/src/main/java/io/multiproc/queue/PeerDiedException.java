package io.multiproc.queue;

/**
 * A blocking call on a queue with peer tracking ({@link SharedQueue.Builder#trackPeers(boolean)}) can
 * never complete: every process that ever put to it died while a {@code take} waits on it empty, or
 * every process that ever took from it died while a {@code put} waits on it full; or a
 * {@link JoinableQueue#join()} can never return: a process died holding tasks it took and nobody marked
 * done (decision 237). The message names the queue and the dead processes' pids (for a join, with how
 * many tasks each left unfinished). It changes nothing in the queue.
 *
 * <pre>{@code
 * try {
 *     Result r = results.take();
 * } catch (PeerDiedException e) {
 *     log.warn("workers died: " + e.getMessage());   // instead of waiting forever
 * }
 * }</pre>
 */
public final class PeerDiedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public PeerDiedException(String message) {
        super(message);
    }
}
