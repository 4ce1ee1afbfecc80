package io.multiproc.manager.remote;

import io.multiproc.RemoteException;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Custom types: what an exposed interface may look like (a JDK interface, a package-private one, checked
 * exceptions, overloads, varargs, arrays, primitives). Each with a real server JVM.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class CustomTypeInterfacesTest {
    private final CustomTypes types = new CustomTypes("custom-interfaces");

    @AfterEach
    void close() {
        types.close();
    }

    /** A JDK interface (defined by the bootstrap class loader) as the exposed interface. */
    public static final class Greeting implements Supplier<String> {
        @Override
        public String get() {
            return "hello";
        }
    }

    @Test
    void aJdkInterfaceCanBeTheExposedInterface() {
        types.register("greeting", Greeting::new, Supplier.class);
        Supplier<?> s = types.create("greeting");
        assertThat(s.get()).isEqualTo("hello");
    }

    public interface Store {
        String read(String key) throws IOException;

        /** Throws a checked exception it does not declare (sneakily). */
        String sneaky();
    }

    public static final class StoreImpl implements Store {
        @Override
        public String read(String key) throws IOException {
            throw new FileNotFoundException("key=" + key);
        }

        @Override
        public String sneaky() {
            return CustomTypeInterfacesTest.<RuntimeException>sneakyThrow(new IOException("undeclared"));
        }
    }

    @SuppressWarnings("unchecked")
    static <E extends Throwable> String sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }

    public interface Shapes {
        int sum(int... xs);

        String join(String sep, String... parts);

        long pick(long x);

        long pick(int x);

        short half(short s);

        char first(String s);

        float twice(float f);

        byte neg(byte b);

        int[] doubled(int[] xs);

        String[] split(String s);

        void nothing();

        SortedSet<String> sorted(List<String> xs);

        SortedSet<String> reversed(List<String> xs);

        java.util.SortedMap<String, Integer> lengths(List<String> xs);

        java.util.concurrent.ConcurrentMap<String, Integer> counts(List<String> xs);
    }

    public static final class ShapesImpl implements Shapes {
        @Override
        public int sum(int... xs) {
            return java.util.Arrays.stream(xs).sum();
        }

        @Override
        public String join(String sep, String... parts) {
            return String.join(sep, parts);
        }

        @Override
        public long pick(long x) {
            return -x;
        }

        @Override
        public long pick(int x) {
            return x;
        }

        @Override
        public short half(short s) {
            return (short) (s / 2);
        }

        @Override
        public char first(String s) {
            return s.charAt(0);
        }

        @Override
        public float twice(float f) {
            return f * 2;
        }

        @Override
        public byte neg(byte b) {
            return (byte) -b;
        }

        @Override
        public int[] doubled(int[] xs) {
            return java.util.Arrays.stream(xs).map(x -> x * 2).toArray();
        }

        @Override
        public String[] split(String s) {
            return s.split(",");
        }

        @Override
        public void nothing() {
        }

        @Override
        public SortedSet<String> sorted(List<String> xs) {
            return new TreeSet<>(xs);
        }

        @Override
        public SortedSet<String> reversed(List<String> xs) {
            SortedSet<String> s = new TreeSet<>(java.util.Comparator.reverseOrder());
            s.addAll(xs);
            return s;
        }

        @Override
        public java.util.SortedMap<String, Integer> lengths(List<String> xs) {
            java.util.SortedMap<String, Integer> m = new java.util.TreeMap<>();
            xs.forEach(x -> m.put(x, x.length()));
            return m;
        }

        @Override
        public java.util.concurrent.ConcurrentMap<String, Integer> counts(List<String> xs) {
            java.util.concurrent.ConcurrentMap<String, Integer> m = new java.util.concurrent.ConcurrentHashMap<>();
            xs.forEach(x -> m.merge(x, 1, Integer::sum));
            return m;
        }
    }

    @Test
    void overloadsVarargsArraysAndPrimitivesTravelBothWays() {
        types.register("shapes", ShapesImpl::new, Shapes.class);
        Shapes s = types.create("shapes");
        assertThat(s.sum(1, 2, 3)).isEqualTo(6);
        assertThat(s.sum()).isZero();
        assertThat(s.join("-", "a", "b")).isEqualTo("a-b");
        assertThat(s.pick(5L)).isEqualTo(-5);
        assertThat(s.pick(5)).isEqualTo(5);
        assertThat(s.half((short) 8)).isEqualTo((short) 4);
        assertThat(s.first("xy")).isEqualTo('x');
        assertThat(s.twice(1.5f)).isEqualTo(3f);
        assertThat(s.neg((byte) 3)).isEqualTo((byte) -3);
        assertThat(s.doubled(new int[] {1, 2})).containsExactly(2, 4);
        assertThat(s.split("a,b")).containsExactly("a", "b");
        s.nothing();
    }

    @Test
    void aSortedSetResultArrivesAsASortedSet() {
        types.register("shapes", ShapesImpl::new, Shapes.class);
        Shapes s = types.create("shapes");
        assertThat(s.sorted(List.of("b", "a"))).containsExactly("a", "b");
        assertThat(s.lengths(List.of("bb", "a"))).containsExactly(java.util.Map.entry("a", 1), java.util.Map.entry("bb", 2));
        assertThat(s.counts(List.of("x", "x"))).containsEntry("x", 2);
        assertThatThrownBy(() -> s.reversed(List.of("a", "b"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("comparator");
        assertThat(s.sorted(List.of("c"))).containsExactly("c"); // the channel and the object stay usable
    }

    public interface Relay {
        /** Returns what it was given: a proxy comes back as a proxy of the same object. */
        Object echo(Object o);

        /** Sleeps {@code millis} in the server. */
        long sleep(long millis);
    }

    public static final class RelayImpl implements Relay {
        @Override
        public Object echo(Object o) {
            return o;
        }

        @Override
        public long sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return millis;
        }
    }

    @Test
    void anArgumentThatCannotTravelFailsThatCallAndAProxyArgumentComesBackAsTheSameObject() {
        types.register("relay", RelayImpl::new, Relay.class);
        types.register("shapes", ShapesImpl::new, Shapes.class);
        Relay r = types.create("relay");
        Shapes s = types.create("shapes");
        assertThatThrownBy(() -> r.echo(new Object())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.Object");
        Object back = r.echo(s);
        assertThat(back).isEqualTo(s);
        assertThat(((Shapes) back).sum(1, 2)).isEqualTo(3);
        assertThat(r.echo("still usable")).isEqualTo("still usable");
    }

    @Test
    void callsInFlightFailPromptlyNamingTheServerWhenItIsKilledMidCall() throws Exception {
        types.register("relay", RelayImpl::new, Relay.class);
        Relay r = types.create("relay");
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        List<Thread> callers = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            callers.add(Thread.ofPlatform().start(() -> {
                try {
                    r.sleep(60_000);
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        Thread.sleep(500);
        long start = System.nanoTime();
        ProcessHandle.of(types.serverPid()).orElseThrow().destroyForcibly();
        for (Thread t : callers) {
            t.join(10_000);
            assertThat(t.isAlive()).as("a caller still waiting 10 s after the server died").isFalse();
        }
        assertThat(System.nanoTime() - start).isLessThan(5_000_000_000L);
        assertThat(failures).hasSize(3).allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("custom-type server of manager 'custom-interfaces'").hasMessageContaining("is gone"));
    }

    @Test
    void equalsHashCodeAndToStringAreTheProxysOwn() {
        types.register("shapes", ShapesImpl::new, Shapes.class);
        Shapes s = types.create("shapes");
        Shapes t = types.create("shapes");
        assertThat(s).isEqualTo(s).isNotEqualTo(t).isNotEqualTo(null).isNotEqualTo("x");
        assertThat(s.hashCode()).isEqualTo(s.hashCode());
        assertThat(s.toString()).contains("Shapes").contains("custom-interfaces");
    }
}
