package io.multiproc.manager.contract;

import org.junit.jupiter.api.Nested;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The contract suites checked against the JDK's own collections. */
class JdkCollectionsContractTest {
    @Nested
    class OnArrayList extends ListContract {
        @Override
        protected List<Object> create() {
            return new ArrayList<>();
        }
    }

    /** ArrayList against its own model: checks the suite, so the managers' differences are all off. */
    @Nested
    class DifferentialOnArrayList extends ListDifferentialContract {
        @Override
        protected List<Object> create() {
            return new ArrayList<>();
        }

        @Override
        protected IteratorWrites iteratorWrites() {
            return IteratorWrites.WRITE_THROUGH;
        }

        @Override
        protected OnFailure bulkOnFailure() {
            return OnFailure.AS_ARRAYLIST;
        }

        @Override
        protected boolean nestedByIdentity() {
            return false;
        }
    }

    /** ConcurrentHashMap against its own model: checks the suite. */
    @Nested
    class DifferentialOnConcurrentHashMap extends MapDifferentialContract {
        @Override
        protected ConcurrentMap<Object, Object> create() {
            return new ConcurrentHashMap<>();
        }

        @Override
        protected boolean nestedByIdentity() {
            return false;
        }

        @Override
        protected boolean putAllIsOneStep() {
            return false;
        }
    }

    /** ConcurrentHashMap's key set against its own model: checks the suite. */
    @Nested
    class DifferentialOnConcurrentKeySet extends SetDifferentialContract {
        @Override
        protected Set<Object> create() {
            return ConcurrentHashMap.newKeySet();
        }
    }

    @Nested
    class OnHashMap extends MapContract {
        @Override
        protected Map<Object, Object> create() {
            return new HashMap<>();
        }

        @Override
        protected boolean allowsNulls() {
            return true;
        }
    }

    @Nested
    class OnConcurrentHashMap extends MapContract {
        @Override
        protected Map<Object, Object> create() {
            return new ConcurrentHashMap<>();
        }

        @Override
        protected boolean allowsNulls() {
            return false;
        }
    }
}
