package io.multiproc.manager.remote;

import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A server's containers that proxies have travelled with (decision 116): a connection's ids mean nothing
 * on another connection, so a proxy leaving its process carries an export token, server-wide, that any
 * authenticated connection can import. A container is exported once (the same token each time) and stays
 * exported, and so alive, until the server closes: travelling proxies may be decoded any time later.
 * Tokens are random, so a stale or guessed number finds nothing rather than another container.
 */
final class Exports {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Token to the container (the manager's proxy); written and read by connection threads. */
    private final ConcurrentHashMap<Long, Object> byToken = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Object, Long> byIdentity = new ConcurrentHashMap<>();

    /** {@code container}'s token, made on its first export. */
    long export(Object container) {
        return byIdentity.computeIfAbsent(ContainerIdentity.of(container), id -> {
            while (true) {
                long token = RANDOM.nextLong() & Long.MAX_VALUE;
                if (token != 0 && byToken.putIfAbsent(token, container) == null) {
                    return token;
                }
            }
        });
    }

    /** The container exported as {@code token}, or null. */
    Object find(long token) {
        return byToken.get(token);
    }
}
