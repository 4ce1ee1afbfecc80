package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ManagerContainersContract;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import static io.multiproc.manager.remote.RemoteManagerTest.KEY;
import static io.multiproc.manager.remote.RemoteManagerTest.LOOPBACK_ANY_PORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A remote list's {@code removeIf}, {@code removeAll}, {@code retainAll}, {@code replaceAll} and
 * {@code sort} are atomic against other clients, as the local and Redis managers' are: they run their
 * function on a snapshot and publish only if the list did not change meanwhile. Another client is a
 * child JVM connected over loopback.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteListBulkTest {
    private static final int N = 2_000;

    private Manager local;
    private ManagerServer server;

    @BeforeEach
    void serve() {
        local = Manager.start();
        server = ManagerServer.start(local, LOOPBACK_ANY_PORT, KEY);
    }

    @AfterEach
    void stop() {
        server.close();
        local.close();
    }

    /** A child client that inserts 0..N-1 at the front of the list named "jobs", one request each. */
    private ChildProcess frontInserter(SharedLong done) {
        String host = server.address().getHostString();
        int port = server.address().getPort();
        return ChildProcess.start(() -> {
            try (Manager m = Manager.connect(new InetSocketAddress(host, port), KEY)) {
                List<Integer> jobs = m.list("jobs");
                for (int i = 0; i < N; i++) {
                    jobs.add(0, i);
                }
                jobs.size(); // waits for the pipelined calls
            }
            done.set(1);
        });
    }

    /** addAll at an index is one step: an element the server refuses leaves the list as it was, and a good one goes in whole. */
    @Test
    void addAllAtAnIndexInsertsAllOrNothing() {
        try (Manager m = Manager.connect(server.address(), KEY)) {
            List<Object> l = m.list("bulk");
            l.addAll(List.of(1, 2, 3));
            java.util.Map<Object, Integer> nullKeyInside = new java.util.HashMap<>();
            nullKeyInside.put(null, 1); // the nested dict the server would make refuses it
            assertThatThrownBy(() -> l.addAll(1, List.of(10, nullKeyInside, 12))).isInstanceOf(NullPointerException.class);
            assertThat(l).containsExactly(1, 2, 3);
            assertThat(l.addAll(1, List.of(10, 11))).isTrue();
            assertThat(l.addAll(5, List.of())).isFalse();
            assertThatThrownBy(() -> l.addAll(6, List.of(7))).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(l).containsExactly(1, 10, 11, 2, 3);
        }
    }

    @Test
    void removeIfWhileAnotherClientInsertsAtTheFrontRemovesOnlyWhatTheFilterAccepts() throws Exception {
        try (SharedLong done = SharedLong.create(0); Manager m = Manager.connect(server.address(), KEY)) {
            List<Integer> jobs = m.list("jobs");
            ChildProcess child = frontInserter(done);
            try {
                int passes = 0;
                while (done.get() == 0 || passes == 0) {
                    jobs.removeIf(x -> x % 2 == 0);
                    passes++;
                }
                Children.joinOk(child);
                jobs.removeIf(x -> x % 2 == 0);
                List<Integer> odd = IntStream.range(0, N).filter(x -> x % 2 == 1).boxed().toList();
                assertThat(new ArrayList<>(jobs)).as("every odd number the other client inserted, none removed by a stale index")
                        .containsExactlyInAnyOrderElementsOf(odd);
            } finally {
                Children.reap(child);
            }
        }
    }

    @Test
    void sortWhileAnotherClientInsertsLosesAndDuplicatesNothing() throws Exception {
        try (SharedLong done = SharedLong.create(0); Manager m = Manager.connect(server.address(), KEY)) {
            List<Integer> jobs = m.list("jobs");
            ChildProcess child = frontInserter(done);
            try {
                int passes = 0;
                while (done.get() == 0 || passes == 0) {
                    jobs.sort(null);
                    passes++;
                }
                Children.joinOk(child);
                jobs.sort(Comparator.reverseOrder());
                assertThat(new ArrayList<>(jobs)).isEqualTo(IntStream.range(0, N).map(i -> N - 1 - i).boxed().toList());
            } finally {
                Children.reap(child);
            }
        }
    }

    @Test
    void removeAllAndRetainAllWhileAnotherClientInsertsKeepEveryOtherElement() throws Exception {
        try (SharedLong done = SharedLong.create(0); Manager m = Manager.connect(server.address(), KEY)) {
            List<Integer> jobs = m.list("jobs");
            ChildProcess child = frontInserter(done);
            List<Integer> multiplesOf3 = IntStream.range(0, N).filter(x -> x % 3 == 0).boxed().toList();
            List<Integer> notMultiplesOf5 = IntStream.range(0, N).filter(x -> x % 5 != 0).boxed().toList();
            try {
                while (done.get() == 0) {
                    jobs.removeAll(multiplesOf3);
                    jobs.retainAll(notMultiplesOf5);
                }
                Children.joinOk(child);
                jobs.removeAll(multiplesOf3);
                jobs.retainAll(notMultiplesOf5);
                assertThat(new ArrayList<>(jobs)).containsExactlyInAnyOrderElementsOf(
                        IntStream.range(0, N).filter(x -> x % 3 != 0 && x % 5 != 0).boxed().toList());
            } finally {
                Children.reap(child);
            }
        }
    }

    @Test
    void replaceAllWhileAnotherClientInsertsOverwritesNothingItDidNotRead() throws Exception {
        try (SharedLong done = SharedLong.create(0); Manager m = Manager.connect(server.address(), KEY)) {
            List<Integer> jobs = m.list("jobs");
            ChildProcess child = frontInserter(done);
            try {
                int passes = 0;
                while (done.get() == 0 || passes == 0) {
                    jobs.replaceAll(x -> x); // by index over a stale snapshot, this wrote old values over new ones
                    passes++;
                }
                Children.joinOk(child);
                jobs.replaceAll(x -> x + N);
                assertThat(new ArrayList<>(jobs)).containsExactlyInAnyOrderElementsOf(IntStream.range(N, 2 * N).boxed().toList());
            } finally {
                Children.reap(child);
            }
        }
    }

    /**
     * A remote list's {@code reversed()} view, iterated, streamed and read by index and value, sees one
     * state of the list while another client (a child JVM) appends and pops: JDK's default view read the
     * size in one request and a snapshot in another, and threw IndexOutOfBoundsException in between.
     */
    @Test
    void aReversedViewReadsOneStateWhileAnotherClientAppendsAndPops() throws Exception {
        String host = server.address().getHostString();
        int port = server.address().getPort();
        try (SharedLong stop = SharedLong.create(0); SharedLong flips = SharedLong.create(0);
             Manager m = Manager.connect(server.address(), KEY)) {
            List<Integer> ls = m.list("flipping");
            ls.addAll(IntStream.range(0, 10).boxed().toList());
            ChildProcess child = ChildProcess.start(() -> {
                try (Manager other = Manager.connect(new InetSocketAddress(host, port), KEY)) {
                    List<Integer> same = other.list("flipping");
                    while (stop.get() == 0) {
                        same.add(10);
                        same.removeLast();
                        flips.incrementAndGet();
                    }
                }
            });
            try {
                Children.awaitUntil("the other client appends and pops", () -> flips.get() > 100);
                ManagerContainersContract.assertReversedReadsOneState(ls, 3_000);
            } finally {
                stop.set(1);
                Children.joinOk(child);
                Children.reap(child);
            }
        }
    }

    @Test
    void sortingAListOfNestedListsKeepsThemLiveAndSharedNotCopied() {
        try (Manager m = Manager.connect(server.address(), KEY)) {
            List<List<Integer>> outer = m.list("outer");
            outer.add(new ArrayList<>(List.of(3, 3, 3)));
            outer.add(new ArrayList<>(List.of(1)));
            outer.add(new ArrayList<>(List.of(2, 2)));
            List<Integer> single = outer.get(1);
            outer.sort(Comparator.comparingInt(List::size));
            single.add(100);                                  // through a proxy taken before the sort
            assertThat(new ArrayList<>(outer.get(0))).containsExactly(1, 100);
            assertThat(local.<List<Integer>>list("outer").get(0)).containsExactly(1, 100);
            outer.removeIf(l -> l.size() == 3);
            outer.replaceAll(l -> l);                         // the same containers, stored again
            outer.get(1).add(2);
            assertThat(new ArrayList<>(outer).stream().<List<Integer>>map(ArrayList::new).toList())
                    .containsExactly(List.of(1, 100), List.of(2, 2, 2));
        }
    }
}
