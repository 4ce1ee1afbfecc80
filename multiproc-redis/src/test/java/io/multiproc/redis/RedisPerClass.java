package io.multiproc.redis;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One throwaway {@code redis-server} for a test class, started before its first test and stopped after
 * its last (a real server: see {@link LocalRedis}).
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RedisPerClass redis = new RedisPerClass();
 * ...
 * try (Manager m = RedisManager.connect(redis.url(), "t1")) { ... }
 * }</pre>
 */
final class RedisPerClass implements BeforeAllCallback, AfterAllCallback {
    private LocalRedis server;
    /** The class whose tests started the server: its {@code @Nested} classes (which inherit this extension) share it. */
    private Class<?> owner;

    @Override
    public void beforeAll(ExtensionContext context) {
        if (server == null) {
            server = LocalRedis.start();
            owner = context.getRequiredTestClass();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null && context.getRequiredTestClass() == owner) {
            server.close();
            server = null;
            owner = null;
        }
    }

    /** The running server; IllegalStateException outside the class's tests. */
    LocalRedis server() {
        if (server == null) {
            throw new IllegalStateException("no redis-server: used outside the test class's tests");
        }
        return server;
    }

    String url() {
        return server().url();
    }

    String command(String inline) {
        return server().command(inline);
    }
}
