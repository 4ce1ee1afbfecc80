package io.multiproc.manager;

import io.multiproc.manager.contract.ListContract;
import io.multiproc.manager.contract.ListDifferentialContract;
import io.multiproc.manager.contract.MapContract;
import io.multiproc.manager.contract.MapDifferentialContract;
import io.multiproc.manager.contract.SetDifferentialContract;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

/** The List and Map contract suites (and their differential versions) against the local manager's list and dict. */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagedContractTest {
    @Nested
    class OnManagedList extends ListContract {
        private Manager m;

        @Override
        protected List<Object> create() {
            m = Manager.start();
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
    class DifferentialOnManagedList extends ListDifferentialContract {
        private Manager m;

        @Override
        protected List<Object> create() {
            m = Manager.start();
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
    class DifferentialOnManagedDict extends MapDifferentialContract {
        private Manager m;

        @Override
        protected ConcurrentMap<Object, Object> create() {
            m = Manager.start();
            return m.dict();
        }

        @Override
        protected void dispose() {
            if (m != null) {
                m.close();
            }
        }
    }

    /** A set stored into a managed list becomes a managed set: {@code get} returns its proxy. */
    @Nested
    class DifferentialOnManagedSet extends SetDifferentialContract {
        private Manager m;

        @Override
        @SuppressWarnings("unchecked")
        protected Set<Object> create() {
            m = Manager.start();
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
    class OnManagedDict extends MapContract {
        private Manager m;

        @Override
        protected Map<Object, Object> create() {
            m = Manager.start();
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
