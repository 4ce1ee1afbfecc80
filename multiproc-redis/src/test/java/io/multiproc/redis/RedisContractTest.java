package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ListContract;
import io.multiproc.manager.contract.ListDifferentialContract;
import io.multiproc.manager.contract.MapContract;
import io.multiproc.manager.contract.MapDifferentialContract;
import io.multiproc.manager.contract.SetDifferentialContract;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Nested;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentMap;

/** The List and Map contract suites (and their differential versions) against the Redis manager's list and dict, on a throwaway server. */
class RedisContractTest {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    static Manager fresh(LocalRedis server) {
        return RedisManager.connect(server.url(), "t" + UUID.randomUUID().toString().substring(0, 8));
    }

    @Nested
    class OnRedisList extends ListContract {
        private Manager m;

        @Override
        protected List<Object> create() {
            m = fresh(redis.server());
            return m.list();
        }

        @Override
        protected void dispose() {
            if (m != null) {
                m.close();
            }
        }
    }

    @Nested
    class DifferentialOnRedisList extends ListDifferentialContract {
        private Manager m;

        @Override
        protected List<Object> create() {
            m = fresh(redis.server());
            return m.list();
        }

        /** RedisList's Javadoc: "the iterator's set/remove write through by index". */
        @Override
        protected IteratorWrites iteratorWrites() {
            return IteratorWrites.WRITE_THROUGH;
        }

        @Override
        protected boolean freedNestedSeenEmpty() {
            return true;
        }

        /**
         * RedisList compares stored forms in indexOf/lastIndexOf/contains/remove(Object) (a nested list only
         * by its ref), but leaves removeAll/retainAll (a transform of the decoded copy) and its sublists to
         * equals. Not documented either way; the local list searches by contents.
         */
        @Override
        protected boolean searchesByIdentity() {
            return true;
        }

        @Override
        protected boolean bulkRemovalsByIdentity() {
            return false;
        }

        /**
         * RedisList's own removeIf/replaceAll/sort are one compare-and-set (its Javadoc); its sublists' sort
         * too, but their removeIf and replaceAll are the default methods, element by element through the list.
         */
        @Override
        protected OnFailure sublistBulkOnFailure() {
            return OnFailure.AS_DEFAULT_METHODS;
        }

        @Override
        protected void dispose() {
            if (m != null) {
                m.close();
            }
        }
    }

    @Nested
    class DifferentialOnRedisDict extends MapDifferentialContract {
        private Manager m;

        @Override
        protected ConcurrentMap<Object, Object> create() {
            m = fresh(redis.server());
            return m.dict();
        }

        @Override
        protected boolean freedNestedSeenEmpty() {
            return true;
        }

        /** RedisDict's containsValue compares stored forms: a nested list only by its ref. Not documented either way. */
        @Override
        protected boolean valueSearchByIdentity() {
            return true;
        }

        /** RedisDict's entry set leaves remove(entry) to AbstractCollection (equals over a snapshot iterator). */
        @Override
        protected boolean entryRemovalByIdentity() {
            return false;
        }

        @Override
        protected void dispose() {
            if (m != null) {
                m.close();
            }
        }
    }

    /** A set stored into a Redis list: {@code get} returns a proxy of the nested set. */
    @Nested
    class DifferentialOnRedisSet extends SetDifferentialContract {
        private Manager m;

        @Override
        @SuppressWarnings("unchecked")
        protected Set<Object> create() {
            m = fresh(redis.server());
            List<Object> holder = m.list();
            holder.add(new HashSet<>());
            return (Set<Object>) holder.get(0);
        }

        @Override
        protected void dispose() {
            if (m != null) {
                m.close();
            }
        }
    }

    @Nested
    class OnRedisDict extends MapContract {
        private Manager m;

        @Override
        protected Map<Object, Object> create() {
            m = fresh(redis.server());
            return m.dict();
        }

        @Override
        protected boolean allowsNulls() {
            return false;
        }

        @Override
        protected void dispose() {
            if (m != null) {
                m.close();
            }
        }
    }
}
