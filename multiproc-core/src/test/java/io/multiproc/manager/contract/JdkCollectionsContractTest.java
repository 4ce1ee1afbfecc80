package io.multiproc.manager.contract;

import org.junit.jupiter.api.Nested;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The contract suites checked against the JDK's own collections. */
class JdkCollectionsContractTest {
    @Nested
    class OnArrayList extends ListContract {
        @Override
        protected List<Object> create() {
            return new ArrayList<>();
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
