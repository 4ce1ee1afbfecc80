package io.multiproc.redis;

import io.multiproc.codec.HandleSource;

import io.multiproc.manager.BarrierProxy;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeoutException;

/**
 * A cyclic barrier on Redis ({@link RedisManager#barrier(String, int)}): Python's {@code Barrier} across
 * hosts. Redisson has none; this one is a hash changed by Lua scripts.
 *
 * <pre>{@code
 * BarrierProxy start = m.barrier("start", 3);          // the same barrier on the three hosts
 * int arrival = start.await(Duration.ofSeconds(30));   // one party gets 0
 * }</pre>
 *
 * <p>Implementation overview. Hash {@code K}: {@code p} parties (set once), {@code g} generation,
 * {@code c} parties arrived in it (0 once it broke), {@code k} 1 while the current generation is broken, {@code bg} the last
 * {@link #BROKEN_REMEMBERED} generations that were broken and then reset (" 3 7 9 "; {@code lb} the last
 * of them, as older versions wrote it). Arriving increments {@code c}; the last party starts
 * generation g+1 and publishes on channel {@code K}. A waiter of generation g waits until {@code g} moves
 * (tripped, unless g is in {@code bg}: reset while it waited, even if later generations were reset too; or
 * unless g is no newer than {@code bd}, the newest generation dropped from {@code bg}: then it cannot tell,
 * and takes it as broken) or {@code k} is 1 (broken). A waiter that times
 * out or is interrupted breaks its generation unless it tripped meanwhile.
 *
 * <p>Dead parties (decision 239): each connection that has a handle of the barrier is a user, with a field
 * {@code u:<connection id>} whose value is when its lease ends (Redis's clock, ms); the connection's lease
 * keeper renews it each third of the lock lease, and the connection removes it when it closes or its JVM
 * ends normally (a child's task ends, main returns). Arrivals and each poll of a waiter remove the entries
 * that lapsed and break the current generation if there were any, as {@code io.multiproc.sync.SharedBarrier}
 * does with the death of a process using it: a JVM killed while waiting or before it arrives ends the others'
 * untimed awaits within one lease plus one poll. Its arrival, if it had arrived, still counts: the pass may
 * trip first, and then the next pass breaks. A JVM that does not run for longer than the lease (a long GC
 * pause, SIGSTOP) is taken for dead.
 */
public final class RedisBarrier implements BarrierProxy, HandleSource, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;


    // Lua, after Lua.NOW_MS: removes the user entries whose lease lapsed (their JVM died: a live one renews it, and
    // one that ends normally removes it) and, if there were any, breaks the current generation (decision 239)
    private static final String BREAK_IF_A_USER_DIED = """
            local dead = false
            local all = redis.call('hgetall', KEYS[1])
            for i = 1, #all, 2 do
              if string.sub(all[i], 1, 2) == 'u:' and tonumber(all[i + 1]) < now then
                redis.call('hdel', KEYS[1], all[i])
                dead = true
              end
            end
            if dead then
              redis.call('hset', KEYS[1], 'k', 1, 'c', 0)
              redis.call('publish', KEYS[1], 'b')
            end
            """;

    // KEYS: barrier. ARGV: parties, a new epoch, this connection's user field, its lease (ms). Creates or checks
    // the party count and, if it matches, enters this connection as a user; returns the stored count.
    private static final String INIT = Lua.NOW_MS + """
            redis.call('hsetnx', KEYS[1], 'p', ARGV[1])
            redis.call('hsetnx', KEYS[1], 'e', ARGV[2])
            local p = tonumber(redis.call('hget', KEYS[1], 'p'))
            if p == tonumber(ARGV[1]) then redis.call('hset', KEYS[1], ARGV[3], now + tonumber(ARGV[4])) end
            return p""";

    // Lua, after g moved on from local g: once the count comes round (modulo 2^32) to bd, bd would make the
    // waiters of the latest passes, which the list covers, take their trips for breaks
    private static final String FORGET_BD_AT_NEW_G = """
            if redis.call('hget', KEYS[1], 'bd') == string.format('%d', (g + 1) % 4294967296) then redis.call('hdel', KEYS[1], 'bd') end
            """;

    // ARGV: parties and a new epoch (both stored if Redis lost the hash). Returns {-1, epoch} if broken, else
    // {index * 2^32 + generation, epoch} (index 0: this party tripped the barrier). NOTE: generations count
    // modulo 2^32, so that they fit the low half: after 2^32 trips (days at thousands a second) a larger g
    // spilled into the index and every party passed without waiting.
    // ARGV[3], ARGV[4]: as INIT's (the entry, made again if Redis lost the hash).
    private static final String ARRIVE = Lua.NOW_MS + """
            redis.call('hsetnx', KEYS[1], 'p', ARGV[1])
            redis.call('hsetnx', KEYS[1], 'e', ARGV[2])
            """ + BREAK_IF_A_USER_DIED + """
            redis.call('hset', KEYS[1], ARGV[3], now + tonumber(ARGV[4]))
            local e = redis.call('hget', KEYS[1], 'e')
            local g = tonumber(redis.call('hget', KEYS[1], 'g') or '0') % 4294967296
            if redis.call('hget', KEYS[1], 'k') == '1' then return {-1, e} end
            local p = tonumber(redis.call('hget', KEYS[1], 'p'))
            local c = redis.call('hincrby', KEYS[1], 'c', 1)
            if c >= p then
              redis.call('hset', KEYS[1], 'g', (g + 1) % 4294967296, 'c', 0)
              """ + FORGET_BD_AT_NEW_G + """
              redis.call('publish', KEYS[1], 't')
              return {g, e}
            end
            return {(p - c) * 4294967296 + g, e}""";

    // NOTE: first, the epoch its waiter arrived in: a hash Redis lost (a restart without persistence, a
    // flush) and a later arrival made again has another one. Its generation counts from 0 again, so a waiter
    // of an older generation took the moved number for a trip, and one of generation 0 waited for parties
    // whose arrivals were gone: the waiters of a lost barrier are broken instead (the barrier starts over).
    private static final String OUTCOME_OF_G = """
            if redis.call('hget', KEYS[1], 'e') ~= ARGV[2] then return 2 end
            local cur = tonumber(redis.call('hget', KEYS[1], 'g') or '0') % 4294967296
            local g = tonumber(ARGV[1])
            if cur ~= g then
              if tonumber(redis.call('hget', KEYS[1], 'lb') or '-1') == g then return 2 end
              local bg = redis.call('hget', KEYS[1], 'bg')
              if bg and string.find(bg, ' ' .. ARGV[1] .. ' ', 1, true) then return 2 end
              local bd = redis.call('hget', KEYS[1], 'bd')
              if bd and (cur - g) % 4294967296 >= (cur - tonumber(bd)) % 4294967296 then return 2 end
              return 1
            end
            if redis.call('hget', KEYS[1], 'k') == '1' then return 2 end""";

    // ARGV: generation, epoch. Returns 0 waiting, 1 tripped, 2 broken. NOTE: every poll of a waiter looks for
    // dead users: that is what ends an untimed wait for a party whose JVM was killed
    private static final String OUTCOME = Lua.NOW_MS + BREAK_IF_A_USER_DIED + OUTCOME_OF_G + "\nreturn 0";

    // ARGV: generation. Breaks it unless it tripped; returns 1 tripped, 2 broken.
    private static final String BREAK = OUTCOME_OF_G + """

            redis.call('hset', KEYS[1], 'k', 1, 'c', 0)
            redis.call('publish', KEYS[1], 'b')
            return 2""";

    // ARGV: how many broken generations to remember. NOTE: each one, not only the last (lb, still written
    // for older clients): a waiter of g that looked again only after g and then g+1 were reset with
    // parties waiting saw lb == g+1 and took its moved generation for a trip. bd, the newest generation
    // dropped from the list: a waiter of it or of an older one cannot tell a trip from a break (decision 240)
    private static final String RESET = """
            local g = tonumber(redis.call('hget', KEYS[1], 'g') or '0') % 4294967296
            if tonumber(redis.call('hget', KEYS[1], 'c') or '0') > 0 or redis.call('hget', KEYS[1], 'k') == '1' then
              redis.call('hset', KEYS[1], 'lb', g)
              local bg = (redis.call('hget', KEYS[1], 'bg') or ' ') .. string.format('%d', g) .. ' '
              local n = 0
              for _ in string.gmatch(bg, '%d+') do n = n + 1 end
              while n > tonumber(ARGV[1]) do
                local second = string.find(bg, ' ', 2, true)
                redis.call('hset', KEYS[1], 'bd', string.sub(bg, 2, second - 1))
                bg = string.sub(bg, second)
                n = n - 1
              end
              redis.call('hset', KEYS[1], 'bg', bg)
            end
            redis.call('hset', KEYS[1], 'g', (g + 1) % 4294967296, 'c', 0, 'k', 0)
            """ + FORGET_BD_AT_NEW_G + """
            redis.call('publish', KEYS[1], 'r')
            return 1""";

    // NOTE: every break also zeroes c, the count of parties waiting: they all leave with BrokenBarrierException
    // (getNumberWaiting() said 1 for ever after an abort, as CyclicBarrier and Python's n_waiting do not)
    private static final String ABORT = """
            redis.call('hset', KEYS[1], 'k', 1, 'c', 0)
            redis.call('publish', KEYS[1], 'b')
            return 1""";

    /**
     * How many broken generations a barrier remembers: a waiter that does not look again (its JVM stopped,
     * a long GC pause) while more than this many generations are reset with parties waiting cannot tell
     * whether its generation tripped, and gets BrokenBarrierException (decision 240). The list is read by
     * every poll of a waiter, so it stays short.
     */
    static final int BROKEN_REMEMBERED = 64;

    private static final int WAITING = 0;
    private static final int TRIPPED = 1;

    private final transient RedisSync sync;
    private final transient String name;
    private final transient List<Object> keys;
    private final transient int parties;

    RedisBarrier(RedisSync sync, String name, String key, int parties) {
        if (parties <= 0) {
            throw new IllegalArgumentException("parties=" + parties + " must be > 0");
        }
        this.sync = sync;
        this.name = name;
        this.keys = List.of(key);
        long stored = sync.evalLong(INIT, keys, Integer.toString(parties), newEpoch(), sync.barrierUser(),
                Long.toString(sync.leaseMillis()));
        if (stored != parties) {
            throw new IllegalArgumentException("parties=" + parties + " but barrier '" + name + "' exists with " + stored);
        }
        this.parties = parties;
        sync.useBarrier(key);
    }

    @Override
    public int await() throws InterruptedException, BrokenBarrierException {
        try {
            return awaitUntil(RedisSync.FOREVER);
        } catch (TimeoutException impossible) {
            throw new AssertionError(impossible);
        }
    }

    /** Waits at most {@code timeout}; on timeout the barrier breaks and this call throws TimeoutException. */
    @Override
    public int await(Duration timeout) throws InterruptedException, BrokenBarrierException, TimeoutException {
        return awaitUntil(RedisSync.deadline(RedisSync.timeoutNanos(timeout)));
    }

    private int awaitUntil(long deadline) throws InterruptedException, BrokenBarrierException, TimeoutException {
        RedisSync.Wake wake = sync.wake((String) keys.get(0), deadline);
        if (wake == null) {
            throw noAnswer(); // not arrived: nothing to break
        }
        if (Thread.currentThread().isInterrupted()) {
            if (isBroken()) {
                throw broken(); // NOTE: before the interrupt, which it leaves set, as CyclicBarrier does
            }
            Thread.interrupted();
            abort();
            throw new InterruptedException();
        }
        // an arrival Redis counts after this call gave up breaks the barrier, as this call's timeout would
        // have (decision 229); one that tripped it cannot be undone
        List<Object> arrived = sync.evalListBy(deadline, late -> {
            long a = ((Number) late.get(0)).longValue();
            if (a >= 0 && (a >>> 32) != 0) {
                sync.undo(BREAK, org.redisson.api.RScript.ReturnType.LONG, keys, r -> { },
                        Long.toString(a & 0xFFFF_FFFFL), late.get(1));
            }
        }, ARRIVE, keys, Integer.toString(parties), newEpoch(), sync.barrierUser(), Long.toString(sync.leaseMillis()));
        if (arrived == null) {
            throw noAnswer();
        }
        long arrival = ((Number) arrived.get(0)).longValue();
        String epoch = (String) arrived.get(1);
        if (arrival < 0) {
            throw broken();
        }
        int index = (int) (arrival >>> 32);
        String gen = Long.toString(arrival & 0xFFFF_FFFFL);
        if (index == 0) {
            return 0;
        }
        for (;;) {
            long seen = wake.generation();
            Long answer = sync.evalLongBy(deadline, late -> { }, OUTCOME, keys, gen, epoch);
            if (answer == null) {
                // break it as a timeout does, without waiting for Redis again
                sync.undo(BREAK, org.redisson.api.RScript.ReturnType.LONG, keys, r -> { }, gen, epoch);
                throw noAnswer();
            }
            int outcome = (int) (long) answer;
            if (outcome == TRIPPED) {
                return index;
            }
            if (outcome != WAITING) {
                throw broken();
            }
            long left = RedisSync.remaining(deadline);
            if (left <= 0) {
                Long broke = sync.evalLongBy(deadline, late -> { }, BREAK, keys, gen, epoch);
                if (broke == null) {
                    throw noAnswer(); // the break is sent: it happens when Redis answers again
                }
                if (broke == TRIPPED) {
                    return index;
                }
                throw new TimeoutException(this + ": timed out waiting for " + parties + " parties");
            }
            try {
                wake.awaitChange(seen, Math.min(left, RedisSync.POLL_CAP_NANOS));
            } catch (InterruptedException e) {
                if (sync.evalLong(BREAK, keys, gen, epoch) == TRIPPED) {
                    Thread.currentThread().interrupt(); // it tripped meanwhile: keep the interrupt, report the trip
                    return index;
                }
                throw e;
            }
        }
    }

    /** This call's timeout while Redis did not answer by its deadline. */
    private TimeoutException noAnswer() {
        return new TimeoutException(this + ": timed out: Redis at " + sync.address() + " did not answer");
    }

    @Override
    public int getParties() {
        return parties;
    }

    @Override
    public int getNumberWaiting() {
        return (int) sync.evalLong("return tonumber(redis.call('hget', KEYS[1], 'c') or '0')", keys);
    }

    @Override
    public boolean isBroken() {
        return sync.evalLong("if redis.call('hget', KEYS[1], 'k') == '1' then return 1 end return 0", keys) == 1;
    }

    /** Parties waiting now get BrokenBarrierException; later ones start a new generation. */
    @Override
    public void reset() {
        sync.evalLong(RESET, keys, Integer.toString(BROKEN_REMEMBERED));
    }

    /** Breaks the barrier: waiting and later parties get BrokenBarrierException until {@link #reset()}. */
    @Override
    public void abort() {
        sync.evalLong(ABORT, keys);
    }

    /** A token that names this state of the barrier if this call is the one that (re)creates it. */
    private static String newEpoch() {
        return Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
    }

    private BrokenBarrierException broken() {
        return new BrokenBarrierException(this + " is broken");
    }

    @Override
    public String toString() {
        return "RedisBarrier[" + name + "]";
    }

    /**
     * Captured by a child's task or sent through a queue, this object re-attaches in the receiving JVM to
     * the same Redis object (decision 122).
     */
    @Serial
    Object writeReplace() {
        return sync.handle(this, RedisSync.BARRIER, (String) keys.get(0), name, parties, null);
    }

}
