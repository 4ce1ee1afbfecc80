package io.multiproc.manager.remote;

import io.multiproc.RemoteException;
import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Custom types: objects with behaviour hosted in a server JVM, used through proxies from any process. */
@ExtendWith(ReapChildrenCheckShm.class)
class CustomTypesTest {
    public interface Counter {
        long increment();

        long add(long n);

        long value();

        List<String> log(String entry);

        void fail(String kind);

        /** Sleeps {@code millis} in the server, then increments. */
        long slowIncrement(long millis);

        default long incrementTwice() {
            increment();
            return increment();
        }
    }

    /** Thread-safe: channels of several processes call it at once. */
    public static final class CounterImpl implements Counter {
        private final AtomicLong n = new AtomicLong();
        private final List<String> log = new ArrayList<>();

        @Override
        public long increment() {
            return n.incrementAndGet();
        }

        @Override
        public long add(long k) {
            return n.addAndGet(k);
        }

        @Override
        public long value() {
            return n.get();
        }

        @Override
        public synchronized List<String> log(String entry) {
            log.add(entry);
            return new ArrayList<>(log);
        }

        @Override
        public long slowIncrement(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return n.incrementAndGet();
        }

        @Override
        public void fail(String kind) {
            switch (kind) {
                case "index" -> throw new IndexOutOfBoundsException("index=7, size=3");
                case "custom" -> throw new CounterBroken("the counter broke");
                default -> throw new IllegalArgumentException("kind=" + kind);
            }
        }
    }

    /** Not a JDK contract exception: arrives as RemoteException. */
    public static final class CounterBroken extends RuntimeException {
        public CounterBroken(String message) {
            super(message);
        }
    }

    public interface Box {
        Object get();

        Object payload();

        int put(int n);
    }

    /** Serializable, but an application class: the data codec's allow-list refuses it. */
    public static final class Payload implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
    }

    public static final class BoxImpl implements Box {
        private final java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Object get() {
            return new Object();
        }

        @Override
        public Object payload() {
            return new Payload();
        }

        @Override
        public int put(int k) {
            return n.addAndGet(k);
        }
    }

    public interface Keeper {
        /** Keeps {@code q} (the server attaches it) and returns its size. */
        int keep(SharedQueue<Object> q);
    }

    public static final class KeeperImpl implements Keeper {
        private final List<SharedQueue<Object>> kept = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public int keep(SharedQueue<Object> q) {
            kept.add(q);
            return q.size();
        }
    }

    private final CustomTypes types = new CustomTypes("custom-test");

    @AfterEach
    void close() {
        types.close();
    }

    @Test
    void aManagerRegistersAndCreatesCustomTypesAndItsCloseStopsTheServer() {
        Counter c;
        try (io.multiproc.manager.Manager m = io.multiproc.manager.Manager.start()) {
            m.register("counter", CounterImpl::new, Counter.class);
            c = m.create("counter");
            assertThat(c.add(5)).isEqualTo(5);
            assertThatThrownBy(() -> c.fail("index")).isExactlyInstanceOf(IndexOutOfBoundsException.class);
            assertThat(c.increment()).isEqualTo(6);
        }
        assertThatThrownBy(c::value).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aCreatedObjectLivesInTheServerAndItsProxyCallsIt() {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        assertThat(types.serverPid()).isPositive().isNotEqualTo(ProcessHandle.current().pid());
        assertThat(c.increment()).isEqualTo(1);
        assertThat(c.add(41)).isEqualTo(42);
        assertThat(c.log("a")).containsExactly("a");
        assertThat(c.log("b")).containsExactly("a", "b");
        assertThat(c.incrementTwice()).isEqualTo(44);   // a default method runs here, over remote calls
        Counter other = types.create("counter");
        assertThat(other.value()).isZero();
        assertThat(other).isNotEqualTo(c);
        assertThat(c.toString()).contains("Counter#").contains("custom-test");
    }

    @Test
    void exceptionsKeepJdkContractTypesAndTheRemoteTrace() {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        assertThatThrownBy(() -> c.fail("index")).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessage("index=7, size=3")
                .satisfies(e -> assertThat(e.getStackTrace()[0].getClassName()).isEqualTo(CounterImpl.class.getName()));
        assertThatThrownBy(() -> c.fail("arg")).isInstanceOf(IllegalArgumentException.class).hasMessage("kind=arg");
        assertThatThrownBy(() -> c.fail("custom")).isInstanceOf(RemoteException.class)
                .satisfies(e -> assertThat(((RemoteException) e).remoteClassName()).isEqualTo(CounterBroken.class.getName()))
                .hasMessageContaining("the counter broke");
        assertThat(c.increment()).isEqualTo(1); // the channel is still good
    }

    /** A factory whose code fails with an Error (a failed assert, a stack overflow), not an exception. */
    static Counter counterThatCannotBeMade() {
        throw new AssertionError("the factory's invariant failed");
    }

    @Test
    void aFactoryFailingWithAnErrorIsThatCreatesFailureAndTheServerAndItsObjectsStay() {
        types.register("counter", CounterImpl::new, Counter.class);
        types.register("broken", CustomTypesTest::counterThatCannotBeMade, Counter.class);
        Counter c = types.create("counter");
        assertThat(c.increment()).isEqualTo(1);
        long pid = types.serverPid();
        assertThatThrownBy(() -> types.create("broken")).isInstanceOf(RemoteException.class)
                .hasMessageContaining("the factory's invariant failed").hasMessageNotContaining("is gone")
                .satisfies(e -> assertThat(((RemoteException) e).remoteClassName()).isEqualTo(AssertionError.class.getName()));
        assertThat(c.increment()).isEqualTo(2);   // the same server and object
        assertThat(types.serverPid()).isEqualTo(pid);
    }

    @Test
    void aReturnValueTheServerCannotEncodeIsAClearErrorAndTheObjectAndChannelStayUsable() {
        types.register("box", BoxImpl::new, Box.class);
        Box box = types.create("box");
        assertThat(box.put(1)).isEqualTo(1);
        assertThatThrownBy(box::get).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.Object").hasMessageContaining("Box.get")
                .hasMessageNotContaining("is gone");
        assertThat(box.put(2)).isEqualTo(3); // the same object: the server and its objects are fine
        assertThatThrownBy(box::payload).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Payload.class.getName());
        assertThat(box.put(3)).isEqualTo(6);
        Box other = types.create("box");
        assertThat(other.put(5)).isEqualTo(5);
    }

    @Test
    void proxiesTravelToChildrenAndCallTheSameObject() throws Exception {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        ChildProcess a = ChildProcess.start(() -> Children.inThreads(4, () -> {
            for (int i = 0; i < 250; i++) {
                c.increment();
            }
        }));
        ChildProcess b = ChildProcess.start(() -> {
            for (int i = 0; i < 1000; i++) {
                c.increment();
            }
        });
        Children.joinAllOk(a, b);
        assertThat(c.value()).isEqualTo(2000);
        // and through a queue, as data
        try (SharedQueue<Object> q = SharedQueue.create(4)) {
            q.put(c);
            Counter back = (Counter) q.take();
            assertThat(back).isEqualTo(c);
            assertThat(back.add(1)).isEqualTo(2001);
        }
    }

    @Test
    void manyConcurrentCallersAreAllServedWhileOtherChannelsSitIdle() {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        Children.inThreads(8, () -> {   // 8 channels, then idle in the pool (their server threads wait in recv)
            for (int i = 0; i < 100; i++) {
                c.increment();
            }
        });
        Children.inThreads(3, () -> {   // at most 3 of them busy again, 5 idle
            for (int i = 0; i < 100; i++) {
                c.increment();
            }
        });
        assertThat(c.value()).isEqualTo(1100);
    }

    @Test
    void callsFailPromptlyWithAClearExceptionWhenTheServerIsKilled() throws Exception {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        c.increment();
        ProcessHandle server = ProcessHandle.of(types.serverPid()).orElseThrow();
        server.destroyForcibly();
        server.onExit().get();
        long start = System.nanoTime();
        assertThatThrownBy(c::increment).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("custom-type server of manager 'custom-test'").hasMessageContaining("is gone");
        assertThat(System.nanoTime() - start).as("nanos until the call failed").isLessThan(5_000_000_000L);
        assertThatThrownBy(() -> types.create("counter")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anInterruptedCallerIsToldSoWhileTheServerAndTheOtherCallersGoOn() throws Exception {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        assertThat(c.increment()).isEqualTo(1);
        // the pipe of that call, pooled: the interrupted call below reuses it (only this JVM's pipes:
        // another test run on the machine may hold its own for longer)
        java.util.Set<String> pipes = new java.util.TreeSet<>();
        for (String p : pipes()) {
            pipes.add(p.substring("/dev/shm/".length()).replace(" (deleted)", ""));
        }
        java.util.concurrent.atomic.AtomicReference<Throwable> seen = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean interruptKept = new java.util.concurrent.atomic.AtomicBoolean();
        Thread caller = new Thread(() -> {
            try {
                c.slowIncrement(1_000);
            } catch (Throwable e) {
                seen.set(e);
            }
            interruptKept.set(Thread.currentThread().isInterrupted());
        });
        caller.start();
        Thread.sleep(200);
        caller.interrupt();
        caller.join(10_000);
        assertThat(seen.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("interrupted")
                .hasMessageNotContaining("is gone");
        assertThat(interruptKept).isTrue();
        // the server is alive and this thread's calls go on; the interrupted call still ran there
        assertThat(c.add(10)).isBetween(11L, 12L);
        Children.awaitUntil("the interrupted call ran in the server", () -> c.value() == 12);
        // its reply then finds the channel closed, and the server lets go of it too
        Children.awaitUntil("the interrupted call's pipe removed", () -> {
            try {
                return java.util.Collections.disjoint(ReapChildrenCheckShm.shmFiles(), pipes);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /**
     * A call made while the caller's interrupt is already set (a thread on its way out) runs once and
     * answers, the interrupt kept: it ran in the server and yet threw, so a retry counted twice.
     */
    @Test
    void aCallMadeWithTheInterruptAlreadySetRunsOnceAndAnswersKeepingTheInterrupt() {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        assertThat(c.increment()).isEqualTo(1); // a pooled channel: the call below sends at once
        Thread.currentThread().interrupt();
        try {
            assertThat(c.increment()).isEqualTo(2);
            assertThat(Thread.currentThread().isInterrupted()).as("the interrupt kept").isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(c.value()).isEqualTo(2);
    }

    @Test
    void closingWhileAnInterruptedCallStillRunsInTheServerLeavesNothingInDevShm() throws Exception {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        c.increment();
        Thread caller = new Thread(() -> {
            try {
                c.slowIncrement(5_000);
            } catch (IllegalStateException interrupted) {
                // expected: this process closes its end now; the server still holds the pipe
            }
        });
        caller.start();
        Thread.sleep(200);
        caller.interrupt();
        caller.join(10_000);
        types.close(); // SIGKILLs the server, the pipe's last holder: the leak check after the test sees the rest
    }

    @Test
    @SuppressWarnings("unchecked")
    void aChildThatUsedAProxyKeepsNothingOfAClosedManagerInDevShmAndItsNextCallFails() throws Exception {
        io.multiproc.manager.Manager m = io.multiproc.manager.Manager.start();
        ChildProcess child = null;
        try (SharedQueue<Object> reports = SharedQueue.create(4);
             io.multiproc.sync.SharedEvent callAgain = io.multiproc.sync.SharedEvent.create();
             io.multiproc.sync.SharedEvent exit = io.multiproc.sync.SharedEvent.create()) {
            m.register("counter", CounterImpl::new, Counter.class);
            Counter c = m.create("counter");
            String inbox = ((CustomHandle) ((CustomObject) c).writeReplace()).inbox().name();
            child = ChildProcess.start(() -> {
                c.increment();
                reports.put(List.copyOf(mappedShm()));   // with its channel, pooled for the next call
                callAgain.await();
                String outcome;
                try {
                    c.increment();
                    outcome = "the call went through";
                } catch (IllegalStateException expected) {
                    outcome = expected.getMessage();
                }
                reports.put(outcome);
                reports.put(List.copyOf(mappedShm()));
                exit.await(); // alive until told: what it holds must not keep the manager's entries
            });
            List<String> childMaps = (List<String>) reports.poll(30, java.util.concurrent.TimeUnit.SECONDS);
            List<String> childPipes = childMaps.stream().filter(n -> n.startsWith("mpp_")).toList();
            assertThat(childPipes).as("the child's channel").isNotEmpty();
            assertThat(childMaps).as("the child maps the inbox").contains(inbox);

            m.close();

            assertThat(child.isAlive()).isTrue();
            assertThat(ReapChildrenCheckShm.shmFiles()).as("/dev/shm after the manager closed, its user alive")
                    .doesNotContain(inbox).doesNotContainAnyElementsOf(childPipes);
            callAgain.set();
            assertThat(reports.poll(30, java.util.concurrent.TimeUnit.SECONDS)).asString()
                    .contains("manager '" + m.name() + "'").contains("is gone");
            List<String> afterCall = (List<String>) reports.poll(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(child.isAlive()).as("the child alive (failure: %s)", child.failure()).isTrue();
            assertThat(ReapChildrenCheckShm.shmFiles()).as("/dev/shm after the child's next call, the child alive")
                    .doesNotContain(inbox).doesNotContainAnyElementsOf(childPipes);
            assertThat(afterCall).as("what the child still maps after that call")
                    .doesNotContain(inbox).noneMatch(n -> n.startsWith("mpp_"));
            exit.set();
            Children.joinOk(child);
        } finally {
            Children.reap(child);
            m.close();
        }
    }

    @Test
    void closingTheManagerKeepsWhatTheProgramPassedToAHostedObject() throws Exception {
        types.register("keeper", KeeperImpl::new, Keeper.class);
        Keeper k = types.create("keeper");
        try (SharedQueue<Object> mine = SharedQueue.create(4)) {
            mine.put("before");
            assertThat(k.keep(mine)).isEqualTo(1);
            types.close(); // removes the server's inbox and channels, not the program's queue it held
            assertThat(ReapChildrenCheckShm.shmFiles()).contains(mine.name());
            mine.put("after");
            assertThat(mine.take()).isEqualTo("before");
            assertThat(mine.take()).isEqualTo("after");
        }
    }

    /** The names of the /dev/shm files this JVM maps, whether or not they are still there. */
    static java.util.Set<String> mappedShm() throws java.io.IOException {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
            int at = line.indexOf("/dev/shm/");
            if (at >= 0) {
                names.add(line.substring(at + "/dev/shm/".length()).split(" ")[0]);
            }
        }
        return names;
    }

    /** The pipes (channels) this JVM has mapped: other test runs on the machine do not change it. */
    private static java.util.Set<String> pipes() throws java.io.IOException {
        java.util.Set<String> p = new java.util.TreeSet<>();
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
            int at = line.indexOf("/dev/shm/mpp_");
            if (at >= 0) {
                p.add(line.substring(at).split(" ")[0]);
            }
        }
        return p;
    }

    @Test
    void openingAChannelToAClosedInboxLeavesNoPipeBehind() throws Exception {
        java.util.Set<String> before = pipes();
        SharedQueue<Object> inbox = SharedQueue.create(4);
        inbox.close(); // the manager closed while this call was opening its channel
        assertThatThrownBy(() -> CustomChannels.call(inbox, io.multiproc.internal.ProcessIdentity.current(), "closing",
                "request")).isInstanceOf(IllegalStateException.class);
        assertThat(pipes()).isEqualTo(before);
    }

    @Test
    void openingAChannelToAServerThatDiesMeanwhileLeavesNoPipeBehind() throws Exception {
        java.util.Set<String> before = pipes();
        ChildProcess server = ChildProcess.start(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (SharedQueue<Object> inbox = SharedQueue.create(1)) {
            io.multiproc.internal.ProcessIdentity id = io.multiproc.internal.ProcessIdentity.of(server.pid()).orElseThrow();
            inbox.put("full: the new channel waits for room");
            Thread killer = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    return;
                }
                server.kill();
            });
            assertThatThrownBy(() -> CustomChannels.call(inbox, id, "dying", "request"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("is gone");
            killer.join();
            assertThat(pipes()).isEqualTo(before);
        } finally {
            server.kill();
            server.join();
        }
    }

    @Test
    void badRegistrationsAreRefusedNamingTheValue() {
        assertThatThrownBy(() -> types.register("", CounterImpl::new, Counter.class)).hasMessageContaining("typeId=''");
        assertThatThrownBy(() -> types.register("x", CounterImpl::new, CounterImpl.class))
                .hasMessageContaining("must be an interface");
        assertThatThrownBy(() -> types.create("nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("typeId='nope' is not registered");
        assertThat(types.serverPid()).isEqualTo(-1); // nothing started for nothing
    }
}
