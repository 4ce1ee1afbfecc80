package io.multiproc.redis;

import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisException;

import java.util.List;

/**
 * The Lua scripts of the manager's containers and how they run: every script touches the keys of one
 * object only (one hash tag, so one Redis Cluster slot), arguments that are not values travel as
 * {@link RedisCodec.Raw}, and an index error comes back as {@code MPOOB[...]}, rethrown as
 * {@link IndexOutOfBoundsException}.
 */
final class Lua {
    private Lua() {
    }

    /** Bounds check shared by the indexed list scripts; {@code hi} is the largest valid index. */
    private static final String BOUNDS = "local n = redis.call('llen', KEYS[1]) local i = tonumber(ARGV[1]) "
            + "if i < 0 or i > n - %s then return redis.error_reply('MPOOB[index=' .. i .. ', size=' .. n .. ']') end ";

    /**
     * get(i) for {@code i >= 0}: the element, or MPOOB if there is none. Why one script: nil from LINDEX is a missing
     * index but a stored null decodes to null too, and an LLEN in a second round trip saw another client's
     * append made meanwhile, so get(size) answered null instead of throwing.
     */
    static final String LIST_GET = "local i = tonumber(ARGV[1]) local v = redis.call('lindex', KEYS[1], i) "
            + "if not v then return redis.error_reply('MPOOB[index=' .. i .. ', size=' .. redis.call('llen', KEYS[1]) .. ']') end "
            + "return v";

    /**
     * A reversed view's get(i): the element i places from the end, by LINDEX's negative index, or MPOOB
     * (decision 235: one small request, where the view read the whole list).
     */
    static final String LIST_GET_FROM_END = BOUNDS.formatted(1) + "return redis.call('lindex', KEYS[1], -1 - i)";

    /** A reversed view's set(i, v): the previous element i places from the end (LSET's negative index). */
    static final String LIST_SET_FROM_END = BOUNDS.formatted(1)
            + "local old = redis.call('lindex', KEYS[1], -1 - i) redis.call('lset', KEYS[1], -1 - i, ARGV[2]) return old";

    /** set(i, v): the previous element. */
    static final String LIST_SET = BOUNDS.formatted(1)
            + "local old = redis.call('lindex', KEYS[1], i) redis.call('lset', KEYS[1], i, ARGV[2]) return old";

    /** remove(i): the removed element; ARGV[2] is a marker no codec value equals. */
    static final String LIST_REMOVE_AT = BOUNDS.formatted(1)
            + "local old = redis.call('lindex', KEYS[1], i) "
            + "if i == 0 then redis.call('lpop', KEYS[1]) elseif i == n - 1 then redis.call('rpop', KEYS[1]) "
            + "else redis.call('lset', KEYS[1], i, ARGV[2]) redis.call('lrem', KEYS[1], 1, ARGV[2]) end return old";

    /**
     * removeFirst/removeLast (ARGV[1] 'l' or 'r'): the element popped in one step (two clients popping the
     * last element never both see it), or MPEMPTY when there is none.
     */
    static final String LIST_POP = "local v = redis.call(ARGV[1] == 'l' and 'lpop' or 'rpop', KEYS[1]) "
            + "if not v then return redis.error_reply('MPEMPTY') end return v";

    /** getFirst/getLast (ARGV[1] 0 or -1): the element, or MPEMPTY when there is none. */
    static final String LIST_END = "local v = redis.call('lindex', KEYS[1], tonumber(ARGV[1])) "
            + "if not v then return redis.error_reply('MPEMPTY') end return v";

    /** addAll(i, values): values ARGV[2..] inserted before index i (i == size appends). */
    static final String LIST_INSERT = BOUNDS.formatted(0)
            + "if i == n then for j = 2, #ARGV do redis.call('rpush', KEYS[1], ARGV[j]) end return n end "
            + "local tail = redis.call('lrange', KEYS[1], i, -1) "
            + "if i == 0 then redis.call('del', KEYS[1]) else redis.call('ltrim', KEYS[1], 0, i - 1) end "
            + "for j = 2, #ARGV do redis.call('rpush', KEYS[1], ARGV[j]) end "
            + "for j = 1, #tail do redis.call('rpush', KEYS[1], tail[j]) end return n";

    /**
     * Replace the whole list if it still holds exactly the elements read: ARGV[1] = count of old elements
     * m, ARGV[2..m+1] the old elements, the rest the new ones. 1 if replaced, 0 if it changed meanwhile.
     */
    static final String LIST_REPLACE_IF_SAME = "local m = tonumber(ARGV[1]) local cur = redis.call('lrange', KEYS[1], 0, -1) "
            + "if #cur ~= m then return 0 end "
            + "for j = 1, m do if cur[j] ~= ARGV[j + 1] then return 0 end end "
            + "redis.call('del', KEYS[1]) "
            + "for j = m + 2, #ARGV do redis.call('rpush', KEYS[1], ARGV[j]) end return 1";

    /** clear(): the elements removed (to release the nested containers among them). */
    static final String LIST_TAKE_ALL = "local v = redis.call('lrange', KEYS[1], 0, -1) redis.call('del', KEYS[1]) return v";

    static final String HASH_TAKE_ALL = "local v = redis.call('hvals', KEYS[1]) redis.call('del', KEYS[1]) return v";

    static final String SET_TAKE_ALL = "local v = redis.call('smembers', KEYS[1]) redis.call('del', KEYS[1]) return v";

    /** putAll: ARGV pairs; returns the previous values (false where there was none). */
    static final String HASH_PUT_ALL = "local old = {} for j = 1, #ARGV, 2 do "
            + "old[#old + 1] = redis.call('hget', KEYS[1], ARGV[j]) redis.call('hset', KEYS[1], ARGV[j], ARGV[j + 1]) end return old";

    /**
     * KEYS[1] the reference count, KEYS[2] the object's orphan mark; ARGV[1] '1' for an object a manager
     * made (m.list(), m.queue(n), ...), which its manager holds until its close. Decrements; 1 if the
     * object is to be freed now: the count reached zero and the object is nested, or its manager's close
     * found it referenced and marked it an orphan (the mark goes too). At zero the count key is gone.
     */
    static final String RELEASE = "local n = redis.call('decr', KEYS[1]) if n > 0 then return 0 end "
            + "redis.call('del', KEYS[1]) "
            + "if ARGV[1] == '1' and redis.call('del', KEYS[2]) == 0 then return 0 end return 1";

    /**
     * At its manager's close, an object it made: KEYS[1] the reference count, KEYS[2] the orphan mark. 1 if
     * nothing references it (free it now); else 0, and it is marked an orphan, so that the release that
     * ends its last reference frees it.
     */
    static final String DROP_OR_ORPHAN = "local n = tonumber(redis.call('get', KEYS[1]) or '0') if n <= 0 then return 1 end "
            + "redis.call('set', KEYS[2], '1') return 0";

    /**
     * KEYS[1] a bounded queue: delete it and return how many items it held, so that the caller gives that
     * many permits back to its capacity semaphore (which Redisson keeps outside the manager's prefix).
     */
    static final String QUEUE_TAKE_COUNT = "local n = redis.call('llen', KEYS[1]) redis.call('del', KEYS[1]) return n";

    /**
     * KEYS[1] a hash. ARGV[1] the field; ARGV[2] '1' if the field is expected to hold exactly the bytes
     * ARGV[3], '0' if expected absent; ARGV[4] '1' to set it to ARGV[5], '0' to delete it. 1 if done, 0 if
     * the field held something else.
     */
    static final String HASH_CAS = "local cur = redis.call('hget', KEYS[1], ARGV[1]) "
            + "if ARGV[2] == '1' then if cur ~= ARGV[3] then return 0 end elseif cur then return 0 end "
            + "if ARGV[4] == '1' then redis.call('hset', KEYS[1], ARGV[1], ARGV[5]) else redis.call('hdel', KEYS[1], ARGV[1]) end "
            + "return 1";

    /** KEYS[1] a string: {@link #HASH_CAS} without the field (ARGV shifted by one). */
    static final String STRING_CAS = "local cur = redis.call('get', KEYS[1]) "
            + "if ARGV[1] == '1' then if cur ~= ARGV[2] then return 0 end elseif cur then return 0 end "
            + "if ARGV[3] == '1' then redis.call('set', KEYS[1], ARGV[4]) else redis.call('del', KEYS[1]) end "
            + "return 1";

    // The next four replace Redisson's GETSET, LREM, SADD and SREM: Redisson re-sends those after a late
    // reply, and a second run answered for itself (getAndSet its own value, add false) or removed a second
    // equal element; a script is never re-sent (decision 141).

    /** getAndSet: KEYS[1]'s old value (nil if none); set to ARGV[1], or deleted when there is no ARGV. */
    static final String STRING_GET_SET = "local old = redis.call('get', KEYS[1]) "
            + "if #ARGV == 0 then redis.call('del', KEYS[1]) else redis.call('set', KEYS[1], ARGV[1]) end return old";

    /**
     * {@code now}, Redis's clock in ms: one clock for every host (barrier users' leases, condition waiters'
     * alive times).
     * NOTE: first in a script: Redis before 7 replicates a script that reads the time only as its effects,
     * and only if it says so before its first write.
     */
    static final String NOW_MS = """
            if redis.replicate_commands then redis.replicate_commands() end
            local t = redis.call('time')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            """;

    /** remove(Object): 1 if the first element of list KEYS[1] equal to ARGV[1] was removed, else 0. */
    static final String LIST_REMOVE_FIRST = "return redis.call('lrem', KEYS[1], 1, ARGV[1])";

    // Queue pops (decision 247): a pop moves its item into its own pending list KEYS[2] (the queue's key +
    // ":pop:" + token, same hash slot), which the caller empties on receipt or gives back if it gave up.

    /**
     * A queue's plain pop, marked: the head of KEYS[1] moved into the pending list KEYS[2] and returned; nil
     * if the queue is empty or the pop was given back before it ran (KEYS[2] exists).
     */
    static final String QUEUE_POP_MARKED = "if redis.call('exists', KEYS[2]) == 1 then return false end "
            + "local v = redis.call('lpop', KEYS[1]) if v then redis.call('lpush', KEYS[2], v) end return v";

    /**
     * What one receipt does (a Lua function, defined first in the scripts below): the item received, the pending
     * list's head (the latest move), goes; an older move, left by a blocking pop Redisson sent again on a new
     * connection, goes back to the queue's head. 1 if the list held a received item, 0 if it was emptied already.
     * A timed offer's 'pushed' mark ({@link #QUEUE_PUSH_MARKED}) rides with the pops' receipts and just goes (0).
     */
    private static final String RECEIVE = "local function receive(pending, queue) "
            + "if redis.call('type', pending)['ok'] == 'string' then redis.call('del', pending) return 0 end "
            + "if not redis.call('lpop', pending) then return 0 end "
            + "local v = redis.call('lpop', pending) "
            + "while v do redis.call('lpush', queue, v) v = redis.call('lpop', pending) end return 1 end ";

    /**
     * A pop's receipt ({@link #RECEIVE}) of the pending list KEYS[1] of queue KEYS[2]. A bounded queue (KEYS[3]
     * its capacity, KEYS[4] its channel) gets the received item's room back. Idempotent (sent again until
     * answered): 1 the first time, then 0.
     */
    static final String QUEUE_RECEIVED = RECEIVE + "if receive(KEYS[1], KEYS[2]) == 0 then return 0 end "
            + "if KEYS[3] then local c = redis.call('incrby', KEYS[3], 1) redis.call('publish', KEYS[4], c) end return 1";

    /**
     * {@link #QUEUE_RECEIVED} of many pops of an unbounded queue (decision 255): KEYS[1] the queue, KEYS[2..] the
     * pops' pending lists, and marks of timed offers to either kind of queue answered in time (deleted, counted
     * 0). Idempotent (sent again until answered): how many pending lists held a received item.
     */
    static final String QUEUE_RECEIVED_ALL = RECEIVE
            + "local n = 0 for i = 2, #KEYS do n = n + receive(KEYS[i], KEYS[1]) end return n";

    /**
     * A pop's give-back, for a caller that gave up: what the pop moved into the pending list KEYS[2] goes back
     * to the head of queue KEYS[1], in its order, and KEYS[2] becomes the string 'gone' (for ARGV[1] ms), so
     * that a pop Redis runs later takes nothing (the marked pop sees it; BLMOVE into a string fails with
     * WRONGTYPE before popping). ARGV[1] '0': no mark, KEYS[2] is deleted (a blocking pop that answered
     * nil, whose earlier copy Redisson may have sent on a lost connection). A bounded queue's room stays
     * taken: it was not given back for these items. Idempotent (sent again until answered): how many went back.
     */
    static final String QUEUE_GIVE_BACK = "local n = 0 "
            + "if redis.call('type', KEYS[2])['ok'] == 'list' then local v = redis.call('lpop', KEYS[2]) "
            + "while v do redis.call('lpush', KEYS[1], v) n = n + 1 v = redis.call('lpop', KEYS[2]) end end "
            + "if ARGV[1] == '0' then redis.call('del', KEYS[2]) else redis.call('set', KEYS[2], 'gone', 'PX', ARGV[1]) end return n";

    // Timed offers (decision 263): each try leaves its own mark KEYS[2] (the queue's key + ":push:" + token, same
    // hash slot), which a receipt deletes, or a give-back turns into 'gone'. A bounded queue's also name its
    // capacity semaphore KEYS[3] (Redisson's) and that semaphore's channel KEYS[4].

    /**
     * A timed offer's try, marked: 0 if KEYS[2] exists (the try was given back before Redis ran it) or a bounded
     * queue has no room; else one room taken (bounded), ARGV[1] appended to queue KEYS[1], the string 'pushed'
     * left at KEYS[2] (for ARGV[2] ms, in case its receipt never comes), and 1.
     */
    static final String QUEUE_PUSH_MARKED = "if redis.call('exists', KEYS[2]) == 1 then return 0 end "
            + "if KEYS[3] then if tonumber(redis.call('get', KEYS[3]) or '0') <= 0 then return 0 end "
            + "redis.call('decr', KEYS[3]) end "
            + "redis.call('rpush', KEYS[1], ARGV[1]) redis.call('set', KEYS[2], 'pushed', 'PX', ARGV[2]) return 1";

    /**
     * A timed offer's give-back, for a caller that got false or a failure: if its try pushed (KEYS[2] 'pushed'),
     * the last item of queue KEYS[1] equal to ARGV[1] goes (the one it put at the tail: equal items put before
     * keep their places, decision 243) and a bounded queue gets that room back (published as Redisson's own
     * scripts do); either way KEYS[2] becomes 'gone' for ARGV[2] ms, so a try Redis runs later adds nothing. A
     * consumer that took the item first keeps it (its receipt gave the room back). Idempotent (sent again until
     * answered): how many items went.
     */
    static final String QUEUE_UNPUSH = "local n = 0 if redis.call('get', KEYS[2]) == 'pushed' then "
            + "n = redis.call('lrem', KEYS[1], -1, ARGV[1]) "
            + "if n == 1 and KEYS[3] then local v = redis.call('incrby', KEYS[3], 1) redis.call('publish', KEYS[4], v) end end "
            + "redis.call('set', KEYS[2], 'gone', 'PX', ARGV[2]) return n";

    /** add: 1 if ARGV[1] was added to set KEYS[1], 0 if it was there. */
    static final String SET_ADD = "return redis.call('sadd', KEYS[1], ARGV[1])";

    /** remove: 1 if ARGV[1] was removed from set KEYS[1], 0 if it was not there. */
    static final String SET_REMOVE = "return redis.call('srem', KEYS[1], ARGV[1])";

    static <R> R eval(RedissonClient client, String key, String script, RScript.ReturnType type, List<Object> keys,
                      Object... args) {
        return eval(client, RedisCodec.INSTANCE, key, script, type, keys, args);
    }

    /** {@link #eval} whose replies are decoded by {@code codec} (e.g. {@link RedisCodec#STORED_BYTES}). */
    static <R> R eval(RedissonClient client, org.redisson.client.codec.Codec codec, String key, String script,
                      RScript.ReturnType type, List<Object> keys, Object... args) {
        try {
            return client.getScript(codec).eval(key, RScript.Mode.READ_WRITE, script, type, keys, args);
        } catch (RedisException e) {
            String msg = String.valueOf(e.getMessage());
            int at = msg.indexOf("MPOOB[");
            if (at >= 0) {
                int end = msg.indexOf(']', at);
                throw new IndexOutOfBoundsException(msg.substring(at + 6, end < 0 ? msg.length() : end));
            }
            if (msg.contains("MPEMPTY")) {
                throw new java.util.NoSuchElementException(key + " is empty");
            }
            throw e;
        }
    }
}
