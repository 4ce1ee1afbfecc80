package io.multiproc.redis;

import io.multiproc.manager.Manager;

import java.util.List;

/** A program that uses a Redis manager (and with "pool", a RedisPool) and returns from main without closing them. Args: redis URL [pool]. */
public final class UnclosedManagerMain {
    private UnclosedManagerMain() {
    }

    public static void main(String[] args) {
        Manager m = RedisManager.connect(args[0], "unclosed");
        List<String> l = m.list("greetings");
        l.add("hello");
        System.out.println("size " + l.size());
        if (args.length > 1) {
            RedisPool pool = RedisPool.connect(args[0], "unclosed");
            System.out.println("pool " + pool.isShutdown());
        }
        // no m.close(): the JVM must still end once main returns
    }
}
