package io.multiproc.queue;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@link BlockingQueue} contract, run against every queue we ship and, as a check of the suite
 * itself, against {@link java.util.concurrent.LinkedBlockingQueue}. Single-process: threads only.
 * Timing assertions only say "returned within a generous bound".
 */
@ExtendWith(ReapChildrenCheckShm.class)
abstract class BlockingQueueContract {
    static final Duration GENEROUS = Duration.ofSeconds(10);
    private final List<BlockingQueue<?>> made = new ArrayList<>();

    /** A new empty queue of at most {@code capacity} items. */
    abstract BlockingQueue<Integer> create(int capacity);

    /** Releases what {@link #create} made (shared memory). */
    void dispose(BlockingQueue<?> q) {
    }

    final BlockingQueue<Integer> queue(int capacity) {
        BlockingQueue<Integer> q = create(capacity);
        made.add(q);
        return q;
    }

    @AfterEach
    final void disposeAll() {
        made.forEach(this::dispose);
    }

    // ------------------------------------------------------------------ non-blocking

    @Test
    void offeredItemsArePolledInFifoOrder() {
        BlockingQueue<Integer> q = queue(10);
        for (int i = 0; i < 10; i++) {
            assertThat(q.offer(i)).isTrue();
        }
        for (int i = 0; i < 10; i++) {
            assertThat(q.poll()).isEqualTo(i);
        }
        assertThat(q.poll()).isNull();
    }

    @Test
    void offerOnAFullQueueReturnsFalseAndChangesNothing() {
        BlockingQueue<Integer> q = queue(3);
        q.offer(1);
        q.offer(2);
        q.offer(3);
        assertThat(q.offer(4)).isFalse();
        assertThat(q.size()).isEqualTo(3);
        assertThat(q.remainingCapacity()).isZero();
        assertThat(q).containsExactly(1, 2, 3);
    }

    @Test
    void addOnAFullQueueThrowsIllegalState() {
        BlockingQueue<Integer> q = queue(1);
        assertThat(q.add(1)).isTrue();
        assertThatThrownBy(() -> q.add(2)).isInstanceOf(IllegalStateException.class);
        assertThat(q.size()).isEqualTo(1);
    }

    @Test
    void emptyQueuePollsNullAndPeeksNullAndElementThrows() {
        BlockingQueue<Integer> q = queue(2);
        assertThat(q.poll()).isNull();
        assertThat(q.peek()).isNull();
        assertThat(q.isEmpty()).isTrue();
        assertThatThrownBy(q::element).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(q::remove).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void peekShowsTheHeadWithoutTakingIt() {
        BlockingQueue<Integer> q = queue(4);
        q.offer(7);
        q.offer(8);
        assertThat(q.peek()).isEqualTo(7);
        assertThat(q.element()).isEqualTo(7);
        assertThat(q.size()).isEqualTo(2);
        assertThat(q.remove()).isEqualTo(7);
        assertThat(q.peek()).isEqualTo(8);
    }

    @Test
    void sizeAndRemainingCapacityAlwaysAddUpToTheCapacity() {
        BlockingQueue<Integer> q = queue(5);
        for (int i = 0; i < 5; i++) {
            assertThat(q.size() + q.remainingCapacity()).isEqualTo(5);
            assertThat(q.size()).isEqualTo(i);
            q.offer(i);
        }
        q.poll();
        assertThat(q.size()).isEqualTo(4);
        assertThat(q.remainingCapacity()).isEqualTo(1);
    }

    @Test
    void nullElementsAreRejected() throws Exception {
        BlockingQueue<Integer> q = queue(2);
        assertThatThrownBy(() -> q.offer(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> q.add(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> q.put(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> q.offer(null, 1, TimeUnit.MILLISECONDS)).isInstanceOf(NullPointerException.class);
        assertThat(q.isEmpty()).isTrue();
        assertThatThrownBy(() -> q.addAll(java.util.Arrays.asList(1, null))).isInstanceOf(NullPointerException.class);
        java.util.List<Integer> left = new java.util.ArrayList<>();
        q.drainTo(left);
        assertThat(left).as("what the failed addAll left: no null, which poll would take for 'empty'").doesNotContainNull();
    }

    // ------------------------------------------------------------------ timed and blocking

    @Test
    void timedOfferOnAFullQueueFailsAfterAboutTheTimeout() throws Exception {
        BlockingQueue<Integer> q = queue(1);
        q.put(1);
        long t0 = System.nanoTime();
        assertThat(q.offer(2, 200, TimeUnit.MILLISECONDS)).isFalse();
        long elapsed = System.nanoTime() - t0;
        assertThat(elapsed).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(190)).isLessThan(GENEROUS.toNanos());
        assertThat(q.offer(2, 0, TimeUnit.SECONDS)).isFalse();
        assertThat(q.size()).isEqualTo(1);
    }

    /** An endless timeout (Long.MAX_VALUE ns, or a unit that saturates) is a wait that cannot end early, not none. */
    @Test
    void timedCallsWithAnEndlessTimeoutOnAQueueWithRoomOrItemsGoThrough() throws Exception {
        BlockingQueue<Integer> q = queue(3);
        assertThat(q.offer(1, Long.MAX_VALUE, TimeUnit.NANOSECONDS)).isTrue();
        assertThat(q.offer(2, Long.MAX_VALUE, TimeUnit.DAYS)).isTrue();
        assertThat(q.poll(Long.MAX_VALUE, TimeUnit.NANOSECONDS)).isEqualTo(1);
        assertThat(q.poll(Long.MAX_VALUE, TimeUnit.DAYS)).isEqualTo(2);
        assertThat(q.size()).isZero();
    }

    @Test
    void timedPollOnAnEmptyQueueReturnsNullAfterAboutTheTimeout() throws Exception {
        BlockingQueue<Integer> q = queue(1);
        long t0 = System.nanoTime();
        assertThat(q.poll(200, TimeUnit.MILLISECONDS)).isNull();
        long elapsed = System.nanoTime() - t0;
        assertThat(elapsed).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(190)).isLessThan(GENEROUS.toNanos());
        assertThat(q.poll(-1, TimeUnit.SECONDS)).isNull();
    }

    @Test
    void aZeroOrNegativeTimeoutDoesNotWaitAndAHugeOneTakesWhatIsThere() {
        BlockingQueue<Integer> q = queue(2);
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(GENEROUS, () -> {
            assertThat(q.poll(0, TimeUnit.SECONDS)).isNull();
            assertThat(q.poll(-5, TimeUnit.SECONDS)).isNull();
            q.offer(7);
            assertThat(q.poll(Long.MAX_VALUE, TimeUnit.DAYS)).isEqualTo(7);
            q.offer(1);
            q.offer(2);
            assertThat(q.offer(3, 0, TimeUnit.SECONDS)).isFalse();
            assertThat(q.offer(3, -1, TimeUnit.SECONDS)).isFalse();
        }, "a timed call with a zero, negative or huge timeout");
        assertThat(q).containsExactly(1, 2);
    }

    @Test
    void takeWaitsForAPut() throws Exception {
        BlockingQueue<Integer> q = queue(1);
        CompletableFuture<Integer> taken = CompletableFuture.supplyAsync(() -> uninterruptibly(q::take));
        Thread.sleep(50);
        assertThat(taken).isNotDone();
        q.put(42);
        assertThat(taken.get(GENEROUS.toSeconds(), TimeUnit.SECONDS)).isEqualTo(42);
    }

    @Test
    void putWaitsForRoomThatATakeMakes() throws Exception {
        BlockingQueue<Integer> q = queue(1);
        q.put(1);
        CompletableFuture<Void> put = CompletableFuture.runAsync(() -> uninterruptibly(() -> {
            q.put(2);
            return null;
        }));
        Thread.sleep(50);
        assertThat(put).isNotDone();
        assertThat(q.take()).isEqualTo(1);
        put.get(GENEROUS.toSeconds(), TimeUnit.SECONDS);
        assertThat(q.take()).isEqualTo(2);
    }

    @Test
    void timedPollGetsAnItemPutWhileItWaits() throws Exception {
        BlockingQueue<Integer> q = queue(1);
        CompletableFuture<Integer> polled = CompletableFuture.supplyAsync(() -> uninterruptibly(
                () -> q.poll(GENEROUS.toMillis(), TimeUnit.MILLISECONDS)));
        Thread.sleep(50);
        q.offer(5);
        assertThat(polled.get(GENEROUS.toSeconds(), TimeUnit.SECONDS)).isEqualTo(5);
    }

    @Test
    void interruptingAWaitingTakeThrowsInterruptedException() throws Exception {
        BlockingQueue<Integer> q = queue(1);
        assertInterruptible(q::take);
    }

    @Test
    void interruptingAWaitingPutThrowsInterruptedException() throws Exception {
        BlockingQueue<Integer> q = queue(1);
        q.put(1);
        assertInterruptible(() -> {
            q.put(2);
            return null;
        });
        assertThat(q).containsExactly(1);
    }

    @Test
    void aThreadAlreadyInterruptedCannotPutOrTake() {
        BlockingQueue<Integer> q = queue(2);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> q.put(1)).isInstanceOf(InterruptedException.class);
        Thread.currentThread().interrupt();
        assertThatThrownBy(q::take).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
        assertThat(q.isEmpty()).isTrue();
    }

    private static void assertInterruptible(Blocking<?> call) throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Thread[] waiter = new Thread[1];
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        waiter[0] = Thread.ofPlatform().start(() -> {
            started.countDown();
            try {
                call.run();
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        started.await();
        Thread.sleep(100);
        waiter[0].interrupt();
        assertThat(outcome.get(GENEROUS.toSeconds(), TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
    }

    // ------------------------------------------------------------------ bulk and collection

    @Test
    void drainToMovesEveryItemInOrder() {
        BlockingQueue<Integer> q = queue(100);
        for (int i = 0; i < 100; i++) {
            q.offer(i);
        }
        List<Integer> out = new ArrayList<>();
        assertThat(q.drainTo(out)).isEqualTo(100);
        assertThat(out).hasSize(100);
        for (int i = 0; i < 100; i++) {
            assertThat(out.get(i)).isEqualTo(i);
        }
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.drainTo(out)).isZero();
    }

    @Test
    void drainToWithALimitTakesOnlyThatMany() {
        BlockingQueue<Integer> q = queue(10);
        for (int i = 0; i < 10; i++) {
            q.offer(i);
        }
        List<Integer> out = new ArrayList<>();
        assertThat(q.drainTo(out, 3)).isEqualTo(3);
        assertThat(out).containsExactly(0, 1, 2);
        assertThat(q.drainTo(out, 0)).isZero();
        assertThat(q.size()).isEqualTo(7);
        assertThat(q.peek()).isEqualTo(3);
    }

    @Test
    void aDrainToWhoseTargetRefusesOneItemLosesNoOtherItem() {
        BlockingQueue<Integer> q = queue(5);
        for (int i = 1; i <= 4; i++) {
            q.offer(i);
        }
        List<Integer> out = new ArrayList<>() {
            @Override
            public boolean add(Integer e) {
                if (e == 2) {
                    throw new IllegalArgumentException("refused e=2");
                }
                return super.add(e);
            }
        };
        assertThatThrownBy(() -> q.drainTo(out)).isInstanceOf(IllegalArgumentException.class).hasMessage("refused e=2");
        List<Integer> everywhere = new ArrayList<>(out);
        everywhere.addAll(q);
        assertThat(everywhere).as("every item but the refused one is in the target or still queued").contains(1, 3, 4);
    }

    @Test
    void drainToItselfOrNullIsRejected() {
        BlockingQueue<Integer> q = queue(2);
        q.offer(1);
        assertThatThrownBy(() -> q.drainTo(q)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> q.drainTo(null)).isInstanceOf(NullPointerException.class);
        assertThat(q).containsExactly(1);
    }

    @Test
    void iteratorSeesItemsInOrderAndItsRemoveTakesThatItem() {
        BlockingQueue<Integer> q = queue(5);
        for (int i = 1; i <= 5; i++) {
            q.offer(i);
        }
        Iterator<Integer> it = q.iterator();
        assertThatThrownBy(it::remove).isInstanceOf(IllegalStateException.class);
        List<Integer> seen = new ArrayList<>();
        while (it.hasNext()) {
            int v = it.next();
            seen.add(v);
            if (v % 2 == 0) {
                it.remove();
            }
        }
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
        assertThat(seen).containsExactly(1, 2, 3, 4, 5);
        assertThat(q).containsExactly(1, 3, 5);
        assertThat(q.size()).isEqualTo(3);
        assertThat(q.remainingCapacity()).isEqualTo(2);
        assertThat(q.offer(6)).isTrue();
        assertThat(q.offer(7)).isTrue();
        assertThat(q.offer(8)).isFalse();
        assertThat(List.of(q.poll(), q.poll(), q.poll(), q.poll(), q.poll())).containsExactly(1, 3, 5, 6, 7);
    }

    @Test
    void containsRemoveObjectAndToArrayWorkOnTheCurrentItems() {
        BlockingQueue<Integer> q = queue(6);
        for (int i = 0; i < 6; i++) {
            q.offer(i * 10);
        }
        assertThat(q.contains(30)).isTrue();
        assertThat(q.contains(31)).isFalse();
        assertThat(q.remove((Object) 30)).isTrue();
        assertThat(q.remove((Object) 30)).isFalse();
        assertThat(q.toArray()).containsExactly(0, 10, 20, 40, 50);
        assertThat(q.toArray(new Integer[0])).containsExactly(0, 10, 20, 40, 50);
        assertThat(q.removeIf(v -> v >= 40)).isTrue();
        assertThat(q).containsExactly(0, 10, 20);
        assertThat(q.remove()).isZero();
        assertThat(q.size()).isEqualTo(2);
    }

    @Test
    void addAllRetainAllAndClearBehaveAsForAnyCollection() {
        BlockingQueue<Integer> q = queue(8);
        assertThat(q.addAll(List.of(1, 2, 3, 4))).isTrue();
        assertThat(q.containsAll(List.of(2, 4))).isTrue();
        assertThat(q.retainAll(List.of(1, 3))).isTrue();
        assertThat(q).containsExactly(1, 3);
        assertThat(q.removeAll(List.of(3))).isTrue();
        assertThat(q).containsExactly(1);
        q.clear();
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.remainingCapacity()).isEqualTo(8);
        assertThatThrownBy(() -> q.addAll(q)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void addAllBeyondTheRemainingCapacityAddsWhatFitsThenThrowsIllegalState() {
        BlockingQueue<Integer> q = queue(3);
        q.offer(0);
        assertThatThrownBy(() -> q.addAll(List.of(1, 2, 3))).isInstanceOf(IllegalStateException.class);
        assertThat(q).as("the items that fitted were added, in order, as AbstractQueue.addAll does").containsExactly(0, 1, 2);
        assertThat(q.remainingCapacity()).isZero();
    }

    @Test
    void removalsFindAnItemEqualToTheArgumentWhateverOrderItsElementsIterateIn() {
        @SuppressWarnings({"unchecked", "rawtypes"})
        BlockingQueue<Object> q = (BlockingQueue) queue(6);
        q.offer(new LinkedHashSet<>(List.of("a", "b")));
        q.offer(new LinkedHashSet<>(List.of("c", "d")));
        q.offer(new LinkedHashSet<>(List.of("e", "f")));
        q.offer(new LinkedHashSet<>(List.of("g", "h")));
        // equal Sets whose iteration orders differ (as Map.of/Set.of orders differ between JVMs)
        Set<String> ab = new LinkedHashSet<>(List.of("b", "a"));
        assertThat(q.contains(ab)).isTrue();
        assertThat(q.remove(ab)).as("remove(Object) of an element contains() finds").isTrue();
        assertThat(q.contains(ab)).isFalse();
        assertThat(q.removeAll(List.of(new LinkedHashSet<>(List.of("d", "c"))))).isTrue();
        assertThat(q.retainAll(List.of(new LinkedHashSet<>(List.of("f", "e"))))).isTrue();
        assertThat(q).as("retainAll kept the item equal to an element of its argument").containsExactly(Set.of("e", "f"));
    }

    // ------------------------------------------------------------------ threads

    @Test
    void fourProducerAndFourConsumerThreadsMoveEveryItemExactlyOnce() throws Exception {
        BlockingQueue<Integer> q = queue(64);
        int producers = 4;
        int perProducer = 5_000;
        AtomicLong sum = new AtomicLong();
        AtomicLong count = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(producers * 2);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int base = p * perProducer;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        q.put(base + i);
                    }
                    return null;
                }));
            }
            for (int c = 0; c < producers; c++) {
                futures.add(pool.submit(() -> {
                    int[] lastSeen = new int[producers];
                    java.util.Arrays.fill(lastSeen, -1);
                    while (count.get() < (long) producers * perProducer) {
                        Integer v = q.poll(10, TimeUnit.MILLISECONDS);
                        if (v != null) {
                            int from = v / perProducer;
                            assertThat(v).as("FIFO per producer").isGreaterThan(lastSeen[from]);
                            lastSeen[from] = v;
                            sum.addAndGet(v);
                            count.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        long n = (long) producers * perProducer;
        assertThat(count.get()).isEqualTo(n);
        assertThat(sum.get()).isEqualTo(n * (n - 1) / 2);
        assertThat(q.isEmpty()).isTrue();
    }

    // ------------------------------------------------------------------ helpers

    @FunctionalInterface
    interface Blocking<T> {
        T run() throws Exception;
    }

    static <T> T uninterruptibly(Blocking<T> call) {
        try {
            return call.run();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
