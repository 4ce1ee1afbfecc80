package io.multiproc.manager.remote;

import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.queue.Connection;
import io.multiproc.queue.Pipe;
import io.multiproc.queue.SharedQueue;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeoutException;

/**
 * This process's channels to custom-type servers: duplex pipes, pooled per server. A call borrows a
 * channel (or opens one: a new pipe whose far end goes to the server through its inbox queue), sends
 * one request, waits for its reply and returns the channel; so a process has as many channels as it
 * has concurrent calls, whatever its number of threads (decision record 052).
 *
 * <p>Nothing waits forever on a dead server: sends and receives wait in slices of
 * {@link #LIVENESS_SLICE}, and between slices the server's identity (pid and start time) is checked;
 * a server that died fails the call with {@link IllegalStateException} within about that time (the
 * pipe's own end-of-stream detection is quicker once the server has taken the channel). A channel
 * whose call did not complete normally is closed, never reused.
 *
 * <p>A call that finds its server dead also lets go of everything this process kept for it: its pooled
 * channels and its inbox handle. So a process that holds proxies of a manager that closed or died keeps
 * none of that manager's segments mapped past its next call (the owner's close has already removed
 * their names, {@link CustomTypes#close()}).
 */
final class CustomChannels {
    static final Duration LIVENESS_SLICE = Duration.ofMillis(100);
    private static final Map<ProcessIdentity, ConcurrentLinkedDeque<Channel>> POOLS = new ConcurrentHashMap<>();
    /** One inbox handle per server in this process, however many proxies arrive here. */
    private static final Map<ProcessIdentity, SharedQueue<Object>> INBOXES = new ConcurrentHashMap<>();

    /**
     * A pipe's near end, and until the server has certainly taken it (its first reply), this
     * process's copy of the far end, whose hold on the pipe's segment is released then.
     */
    private static final class Channel {
        final Connection near;
        Connection farCopy;

        Channel(Connection near, Connection farCopy) {
            this.near = near;
            this.farCopy = farCopy;
        }

        void replied() {
            if (farCopy != null) {
                farCopy.close(); // moved to the server: closing this copy only releases it
                farCopy = null;
            }
        }

        void close() {
            near.close();
            if (farCopy != null) {
                farCopy.close();
            }
        }
    }

    /** This process's inbox handle for {@code server}: {@code received} unless one is known, which is then kept. */
    static SharedQueue<Object> inbox(ProcessIdentity server, SharedQueue<Object> received) {
        SharedQueue<Object> known = INBOXES.putIfAbsent(server, received);
        if (known != null && known != received) {
            received.close();
            return known;
        }
        return received;
    }

    private CustomChannels() {
    }

    /** Sends {@code request} to the server and returns its reply's value, or throws its failure. */
    static Object call(SharedQueue<Object> inbox, ProcessIdentity server, String manager, Object request) {
        return call(inbox, server, manager, request, null);
    }

    /**
     * As {@link #call(SharedQueue, ProcessIdentity, String, Object)}, but a live server that has not
     * answered within {@code timeout} (null: no bound) fails the call with IllegalStateException; its
     * channel is closed, never reused, as after any call that did not complete.
     */
    static Object call(SharedQueue<Object> inbox, ProcessIdentity server, String manager, Object request,
                       Duration timeout) {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        ConcurrentLinkedDeque<Channel> pool = POOLS.computeIfAbsent(server, s -> new ConcurrentLinkedDeque<>());
        Channel c = pool.pollFirst();
        boolean reusable = false;
        // NOTE: an interrupt already set is set aside for the call and given back after it (as
        // RemoteManager.call does): the request was sent at once and ran there, then the wait for its
        // reply threw, so every call of an interrupted thread had its effect and still failed. Only an
        // interrupt that arrives during the wait ends the call.
        boolean pendingInterrupt = Thread.interrupted();
        try {
            if (c == null) {
                c = open(inbox, server, manager, timeout, deadline);
            }
            while (!c.near.send(request, LIVENESS_SLICE)) {
                checkAlive(server, manager);
                checkDeadline(timeout, deadline, server, manager);
            }
            CustomMessages.Reply reply;
            while (true) {
                try {
                    reply = (CustomMessages.Reply) c.near.recv(LIVENESS_SLICE);
                    c.replied();
                    break;
                } catch (TimeoutException e) {
                    checkAlive(server, manager);
                    checkDeadline(timeout, deadline, server, manager);
                }
            }
            reusable = true;
            if (reply.failure() != null) {
                Throwable t = reply.failure().toThrowable(RemoteFailure.JDK_CONTRACT);
                throw t instanceof RuntimeException r ? r : new io.multiproc.RemoteException(reply.failure().className(),
                        reply.failure().message());
            }
            return reply.value();
        } catch (java.io.InterruptedIOException e) {
            // NOTE: the server is alive: only this call's channel goes (its reply may still come), the
            // other channels stay pooled, and the interrupt stays set for the caller
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling " + describe(server, manager)
                    + "; the call may still run there", e);
        } catch (IOException e) {
            throw dead(server, manager, e);
        } finally {
            if (c != null) {
                if (reusable) {
                    pool.offerFirst(c);
                } else {
                    c.close();
                }
            }
            if (pendingInterrupt) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Channel open(SharedQueue<Object> inbox, ProcessIdentity server, String manager, Duration timeout,
                                long deadline) throws IOException {
        checkAlive(server, manager);
        Pipe pipe = Pipe.open(true);
        boolean offered = false;
        try {
            // NOTE: the far end moves to the server when it decodes it; until then this process owns it,
            // so a server that dies first is noticed by checkAlive, not by the pipe.
            while (!inbox.offer(pipe.right(), LIVENESS_SLICE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                checkAlive(server, manager);
                checkDeadline(timeout, deadline, server, manager);
            }
            offered = true;
        } catch (IllegalStateException closed) {
            checkAlive(server, manager); // a call of another thread found the server dead and closed the inbox
            throw closed;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while opening a channel to " + describe(server, manager));
        } finally {
            if (!offered) {
                // the server died (checkAlive), the inbox was closed (its manager closed: offer throws
                // IllegalStateException), or an interrupt: no one else will ever close this pipe
                pipe.close();
            }
        }
        return new Channel(pipe.left(), pipe.right());
    }

    private static void checkAlive(ProcessIdentity server, String manager) {
        if (!server.isAlive()) {
            throw dead(server, manager, null);
        }
    }

    private static void checkDeadline(Duration timeout, long deadline, ProcessIdentity server, String manager) {
        if (timeout != null && System.nanoTime() - deadline >= 0) {
            throw new IllegalStateException(describe(server, manager) + " did not answer within " + timeout);
        }
    }

    /** Closes this process's pooled channels to {@code server} (its manager closed, or it died). */
    static void closeAll(ProcessIdentity server) {
        ConcurrentLinkedDeque<Channel> pool = POOLS.remove(server);
        if (pool != null) {
            for (Channel c; (c = pool.pollFirst()) != null; ) {
                c.close();
            }
        }
    }

    /** Forgets (and closes) this process's inbox handle for a server its manager stopped. */
    static void forget(ProcessIdentity server) {
        closeAll(server);
        SharedQueue<Object> inbox = INBOXES.remove(server);
        if (inbox != null) {
            inbox.close();
        }
    }

    private static IllegalStateException dead(ProcessIdentity server, String manager, Exception cause) {
        if (server.isAlive()) {
            closeAll(server); // only a channel broke (the server ended it): the inbox still reaches the server
        } else {
            // NOTE: the server is dead for good (its identity includes its start time), so this process's
            // inbox handle and channels can only keep the manager's segments: the owner's close unlinked
            // their names, but a mapping still holds the memory, and a mere holder would keep the name
            forget(server);
        }
        return new IllegalStateException(describe(server, manager) + " is gone (its process died or the manager closed); "
                + "objects it hosted are lost", cause);
    }

    static String describe(ProcessIdentity server, String manager) {
        return "the custom-type server of manager '" + manager + "' (pid " + server.pid() + ")";
    }
}
