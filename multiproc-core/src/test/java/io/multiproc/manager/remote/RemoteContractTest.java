package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
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

/** The List and Map contract suites against a remote manager's list and dict, served from a local manager. */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteContractTest {
    /** A local manager, a server for it on loopback, and a client. */
    private static final class Served implements AutoCloseable {
        final Manager local = Manager.start();
        final ManagerServer server = ManagerServer.start(local, RemoteManagerTest.LOOPBACK_ANY_PORT, RemoteManagerTest.KEY);
        final Manager client = Manager.connect(server.address(), RemoteManagerTest.KEY);

        @Override
        public void close() {
            client.close();
            server.close();
            local.close();
        }
    }

    @Nested
    class OnRemoteList extends ListContract {
        private Served s;

        @Override
        protected List<Object> create() {
            s = new Served();
            return s.client.list();
        }

        @Override
        protected void dispose() {
            if (s != null) {
                s.close();
            }
        }
    }

    @Nested
    class DifferentialOnRemoteList extends ListDifferentialContract {
        private Served s;

        @Override
        protected List<Object> create() {
            s = new Served();
            return s.client.list();
        }

        /** RemoteList's Javadoc: "the iterator's set and remove write through by index". */
        @Override
        protected IteratorWrites iteratorWrites() {
            return IteratorWrites.WRITE_THROUGH;
        }

        /**
         * RemoteList sends remove(Object) to the server (decision 145 applies there) but runs removeAll and
         * retainAll on an ArrayList copy of a snapshot, and leaves its sublists to AbstractList: those compare
         * with equals, so a plain list matches a nested one with the same contents. Not documented either way.
         */
        @Override
        protected boolean bulkRemovalsByIdentity() {
            return false;
        }

        /**
         * README.md, remote access: a list's removeIf, replaceAll and sort work on a snapshot and replace the
         * whole list in one compare-and-set request, so a function that throws leaves it as it was.
         */
        @Override
        protected OnFailure bulkOnFailure() {
            return OnFailure.UNCHANGED;
        }

        /** A sublist is AbstractList's, whose removeIf, replaceAll and sort write through by index. */
        @Override
        protected OnFailure sublistBulkOnFailure() {
            return OnFailure.AS_DEFAULT_METHODS;
        }

        @Override
        protected void dispose() {
            if (s != null) {
                s.close();
            }
        }
    }

    @Nested
    class DifferentialOnRemoteDict extends MapDifferentialContract {
        private Served s;

        @Override
        protected ConcurrentMap<Object, Object> create() {
            s = new Served();
            return s.client.dict();
        }

        @Override
        protected boolean writesArePipelined() {
            return true;
        }

        /**
         * RemoteDict's entry set leaves remove(entry) to AbstractCollection over its snapshot iterator (equals),
         * while remove(k, v) runs on the server by identity (decision 145). Not documented either way.
         */
        @Override
        protected boolean entryRemovalByIdentity() {
            return false;
        }

        @Override
        protected void dispose() {
            if (s != null) {
                s.close();
            }
        }
    }

    /** A set stored into a remote list: {@code get} returns a remote proxy of the nested set. */
    @Nested
    class DifferentialOnRemoteSet extends SetDifferentialContract {
        private Served s;

        @Override
        @SuppressWarnings("unchecked")
        protected Set<Object> create() {
            s = new Served();
            List<Object> holder = s.client.list();
            holder.add(new HashSet<>());
            return (Set<Object>) holder.get(0);
        }

        @Override
        protected void dispose() {
            if (s != null) {
                s.close();
            }
        }
    }

    @Nested
    class OnRemoteDict extends MapContract {
        private Served s;

        @Override
        protected Map<Object, Object> create() {
            s = new Served();
            return s.client.dict();
        }

        @Override
        protected boolean allowsNulls() {
            return false;
        }

        @Override
        protected void dispose() {
            if (s != null) {
                s.close();
            }
        }
    }
}
