package io.multiproc.process.contract;

import io.multiproc.process.SerializableCallable;
import io.multiproc.process.SerializableRunnable;
import io.multiproc.shared.SharedLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import static io.multiproc.testing.Children.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@link ExecutorService} contract as the JDK's own executors keep it (the behaviours JSR-166's TCK
 * checks in AbstractExecutorServiceTest and ThreadPoolExecutorTest), run against every executor we ship:
 * subclass it (from core's test-jar) with {@link #create()} returning a fresh executor of
 * {@link #WORKERS} threads or worker processes. {@code ThreadPoolExecutorContractTest} runs it against
 * the JDK's ThreadPoolExecutor, so every expectation here is the JDK's; where one of ours differs on
 * purpose, a hook says so and the subclass cites the documentation.
 *
 * <p>Tasks may run in another JVM, so they are serializable lambdas that capture only {@link SharedLong}s
 * (shared memory, the same counters in every process of this host), never the test instance.
 */
public abstract class ExecutorServiceContract {
    /** Threads or worker processes of the executor under test. */
    protected static final int WORKERS = 2;
    /** Generous: worker JVMs boot on a loaded 2-core machine. */
    protected static final Duration PATIENCE = Duration.ofSeconds(60);
    /** How long a call that must time out is given. */
    private static final long SHORT_MILLIS = 300;

    /** A fresh executor with {@link #WORKERS} workers; the test shuts it down, {@link #dispose} ends it for sure. */
    protected abstract ExecutorService create();

    /** Ends an executor after its test, whatever state the test left it in. */
    protected void dispose(ExecutorService executor) throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    /** Whether cancel(true) and shutdownNow() interrupt a running task. */
    protected boolean interruptsRunningTasks() {
        return true;
    }

    /** Whether shutdownNow() lists the tasks that never started. */
    protected boolean listsNeverStartedTasks() {
        return true;
    }

    protected ExecutorService executor;
    /** Tasks that started, that were interrupted, that ran to their end; a gate the blocking tasks wait for. */
    private SharedLong started;
    private SharedLong interrupted;
    private SharedLong finished;
    private SharedLong gate;

    @BeforeEach
    final void open() throws InterruptedException {
        started = SharedLong.create(0);
        interrupted = SharedLong.create(0);
        finished = SharedLong.create(0);
        gate = SharedLong.create(0);
        executor = create();
        awaitReady(executor);
    }

    /** Waits until the executor's workers can run tasks at once, so that timed expectations time tasks, not boots. */
    protected void awaitReady(ExecutorService executor) throws InterruptedException {
    }

    @AfterEach
    final void end() throws InterruptedException {
        try {
            gate.set(1);
            dispose(executor);
        } finally {
            for (SharedLong s : new SharedLong[] {started, interrupted, finished, gate}) {
                s.close();
            }
        }
    }

    // ------------------------------------------------------------------ tasks (capture only shared counters)

    /** Counts its start, waits for the gate (interruptibly), counts its end; returns {@code value}. */
    private static SerializableCallable<Integer> blocker(SharedLong started, SharedLong gate, SharedLong interrupted,
                                                         SharedLong finished, int value) {
        return () -> {
            started.incrementAndGet();
            try {
                while (gate.get() == 0) {
                    Thread.sleep(2);
                }
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
            }
            finished.incrementAndGet();
            return value;
        };
    }

    private SerializableCallable<Integer> blocker(int value) {
        return blocker(started, gate, interrupted, finished, value);
    }

    private SerializableRunnable counting() {
        SharedLong done = finished;
        return done::incrementAndGet;
    }

    private static SerializableCallable<Integer> value(int v) {
        return () -> v;
    }

    private static SerializableCallable<Integer> failing(String message) {
        return () -> {
            throw new IllegalStateException(message);
        };
    }

    /** Occupies every worker with a blocker and waits until all run. */
    private List<Future<Integer>> occupyAllWorkers() throws InterruptedException {
        List<Future<Integer>> running = new ArrayList<>();
        for (int i = 0; i < WORKERS; i++) {
            running.add(executor.submit(blocker(i)));
        }
        awaitUntil(WORKERS + " blockers run", () -> started.get() == WORKERS);
        return running;
    }

    /** Interrupts the calling thread once {@code ready} holds; join the returned thread, then clear the flag. */
    private static Thread interruptWhen(BooleanSupplier ready) {
        Thread caller = Thread.currentThread();
        return Thread.ofPlatform().start(() -> {
            try {
                awaitUntil("the caller may be interrupted", ready);
            } catch (InterruptedException e) {
                return;
            }
            caller.interrupt();
        });
    }

    private static <T> T get(Future<T> f) throws Exception {
        return f.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------------ submit, execute

    @Test
    void submitCallableGivesItsResult() throws Exception {
        Future<Integer> f = executor.submit(value(42));
        assertThat(get(f)).isEqualTo(42);
        assertThat(f.isDone()).isTrue();
        assertThat(f.isCancelled()).isFalse();
        assertThat(f.state()).isEqualTo(Future.State.SUCCESS);
        assertThat(f.resultNow()).isEqualTo(42);
        assertThatThrownBy(f::exceptionNow).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void submitRunnableRunsItAndGivesNullOrTheGivenResult() throws Exception {
        assertThat(get(executor.submit((Runnable) counting()))).isNull();
        assertThat(get(executor.submit(counting(), "given"))).isEqualTo("given");
        assertThat(finished.get()).isEqualTo(2);
    }

    @Test
    void aTaskExceptionIsTheExecutionExceptionCause() throws Exception {
        Future<Integer> f = executor.submit(failing("boom"));
        assertThatThrownBy(() -> get(f)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessage("boom");
        assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class);
        assertThat(f.isDone()).isTrue();
        assertThat(f.isCancelled()).isFalse();
        assertThat(f.state()).isEqualTo(Future.State.FAILED);
        assertThat(f.exceptionNow()).isInstanceOf(IllegalStateException.class).hasMessage("boom");
        assertThatThrownBy(f::resultNow).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aRunnableWithAResultThatThrowsFailsItsFuture() {
        SerializableRunnable boom = () -> {
            throw new IllegalArgumentException("bad");
        };
        Future<String> f = executor.submit(boom, "never");
        assertThatThrownBy(() -> get(f)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IllegalArgumentException.class).hasMessage("bad");
    }

    @Test
    void executeRunsTheCommand() throws Exception {
        executor.execute(counting());
        awaitUntil("the command ran", () -> finished.get() == 1);
    }

    @Test
    void nullTasksAreRejectedWithNullPointerException() {
        assertThatThrownBy(() -> executor.submit((Callable<Object>) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.submit((Runnable) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.submit(null, "r")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.execute(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(null, 1, TimeUnit.SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(Arrays.asList(value(1), null))).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(Arrays.asList(value(1), null), 1, TimeUnit.SECONDS))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(List.of(value(1)), 1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(null, 1, TimeUnit.SECONDS)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(List.of(value(1)), 1, null)).isInstanceOf(NullPointerException.class);
        // NOTE: invokeAny throws for a null element only if it is "subject to execution"
        // (AbstractExecutorService): the JDK's returns the first task's result when that task succeeds
        // before it reaches the null, so either outcome keeps the contract.
        try {
            assertThat(executor.invokeAny(Arrays.asList(value(1), null))).isEqualTo(1);
        } catch (NullPointerException refused) {
            // refused before running anything, or on reaching the null
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ invokeAll

    @Test
    void invokeAllOfAnEmptyListReturnsAnEmptyList() throws Exception {
        assertThat(executor.invokeAll(List.<Callable<Integer>>of())).isEmpty();
        assertThat(executor.invokeAll(List.<Callable<Integer>>of(), 1, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    void invokeAllReturnsEveryFutureDoneInTheTasksOrder() throws Exception {
        List<Future<Integer>> fs = executor.invokeAll(List.of(value(1), failing("two"), value(3)));
        assertThat(fs).hasSize(3).allSatisfy(f -> assertThat(f.isDone()).isTrue());
        assertThat(fs.get(0).resultNow()).isEqualTo(1);
        assertThat(fs.get(1).exceptionNow()).isInstanceOf(IllegalStateException.class).hasMessage("two");
        assertThat(fs.get(2).resultNow()).isEqualTo(3);

        List<Future<Integer>> timed = executor.invokeAll(List.of(value(4), value(5)), PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(timed).extracting(Future::resultNow).containsExactly(4, 5);
    }

    @Test
    void timedInvokeAllCancelsTheTasksNotDoneInTimeAndReturnsThemAllDoneInOrder() throws Exception {
        List<Future<Integer>> fs = executor.invokeAll(List.of(value(1), blocker(2)), SHORT_MILLIS * 5, TimeUnit.MILLISECONDS);
        assertThat(fs).hasSize(2).allSatisfy(f -> assertThat(f.isDone()).isTrue());
        assertThat(fs.get(0).resultNow()).isEqualTo(1);
        assertThat(fs.get(1).isCancelled()).isTrue();
        assertThat(fs.get(1).state()).isEqualTo(Future.State.CANCELLED);
        assertThatThrownBy(fs.get(1)::get).isInstanceOf(CancellationException.class);
        if (interruptsRunningTasks()) {
            awaitUntil("the late task was interrupted", () -> interrupted.get() == started.get());
        }
    }

    @Test
    void interruptingACallerBlockedInInvokeAllThrowsInterruptedExceptionAndCancelsItsTasks() throws Exception {
        Thread interrupter = interruptWhen(() -> started.get() >= 1);
        try {
            assertThatThrownBy(() -> executor.invokeAll(List.of(blocker(1), blocker(2)))).isInstanceOf(InterruptedException.class);
        } finally {
            interrupter.join();
            Thread.interrupted();
        }
        if (interruptsRunningTasks()) {
            awaitUntil("every started task was interrupted", () -> interrupted.get() == started.get());
        }
        assertThat(finished.get()).isZero();
    }

    // ------------------------------------------------------------------ invokeAny

    @Test
    void invokeAnyReturnsTheResultOfATaskThatSucceeded() throws Exception {
        assertThat(executor.invokeAny(List.of(failing("no"), value(7)))).isEqualTo(7);
        assertThat(executor.invokeAny(List.of(value(8), failing("no")), PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(8);
    }

    @Test
    void invokeAnyWhoseTasksAllFailThrowsExecutionException() {
        assertThatThrownBy(() -> executor.invokeAny(List.of(failing("a"), failing("b"))))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> executor.invokeAny(List.of(failing("a")), PATIENCE.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(IllegalStateException.class).hasMessage("a");
    }

    @Test
    void invokeAnyOfAnEmptyListThrowsIllegalArgumentException() {
        assertThatThrownBy(() -> executor.invokeAny(List.<Callable<Integer>>of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> executor.invokeAny(List.<Callable<Integer>>of(), 1, TimeUnit.SECONDS))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void timedInvokeAnyThrowsTimeoutExceptionAndCancelsItsTasks() throws Exception {
        assertThatThrownBy(() -> executor.invokeAny(List.of(blocker(1)), SHORT_MILLIS, TimeUnit.MILLISECONDS))
                .isInstanceOf(TimeoutException.class);
        if (interruptsRunningTasks()) {
            awaitUntil("the started task was interrupted", () -> interrupted.get() == started.get());
        }
        assertThat(finished.get()).isZero();
    }

    @Test
    void interruptingACallerBlockedInInvokeAnyThrowsInterruptedException() throws Exception {
        Thread interrupter = interruptWhen(() -> started.get() >= 1);
        try {
            assertThatThrownBy(() -> executor.invokeAny(List.of(blocker(1)))).isInstanceOf(InterruptedException.class);
        } finally {
            interrupter.join();
            Thread.interrupted();
        }
        if (interruptsRunningTasks()) {
            awaitUntil("the started task was interrupted", () -> interrupted.get() == 1);
        }
    }

    // ------------------------------------------------------------------ futures

    @Test
    void aFutureOfARunningTaskTimesOutIsRunningAndHasNoResultYet() throws Exception {
        Future<Integer> f = executor.submit(blocker(5));
        awaitUntil("the task runs", () -> started.get() == 1);
        assertThatThrownBy(() -> f.get(SHORT_MILLIS, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        assertThatThrownBy(() -> f.get(0, TimeUnit.NANOSECONDS)).isInstanceOf(TimeoutException.class);
        assertThat(f.isDone()).isFalse();
        assertThat(f.state()).isEqualTo(Future.State.RUNNING);
        assertThatThrownBy(f::resultNow).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(f::exceptionNow).isInstanceOf(IllegalStateException.class);
        gate.set(1);
        assertThat(get(f)).isEqualTo(5);
    }

    @Test
    void interruptingACallerBlockedInGetThrowsInterruptedExceptionAndTheTaskGoesOn() throws Exception {
        Future<Integer> f = executor.submit(blocker(6));
        Thread interrupter = interruptWhen(() -> started.get() == 1);
        try {
            assertThatThrownBy(f::get).isInstanceOf(InterruptedException.class);
            assertThat(Thread.currentThread().isInterrupted()).as("the flag is cleared, as InterruptedException says").isFalse();
        } finally {
            interrupter.join();
            Thread.interrupted();
        }
        // the interrupt was the caller's, not the task's: it still runs and gives its result
        assertThat(f.isDone()).isFalse();
        gate.set(1);
        assertThat(get(f)).isEqualTo(6);
    }

    @Test
    void cancelWithoutInterruptOfARunningTaskCancelsItsFutureAndLetsItRun() throws Exception {
        Future<Integer> f = executor.submit(blocker(1));
        awaitUntil("the task runs", () -> started.get() == 1);
        assertThat(f.cancel(false)).isTrue();
        assertThat(f.isCancelled()).isTrue();
        assertThat(f.isDone()).isTrue();
        assertThat(f.state()).isEqualTo(Future.State.CANCELLED);
        assertThatThrownBy(f::get).isInstanceOf(CancellationException.class);
        assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
        assertThatThrownBy(f::resultNow).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(f::exceptionNow).isInstanceOf(IllegalStateException.class);
        // Future.cancel: "false if the task could not be cancelled ...; true otherwise": a second cancel may
        // return either (FutureTask false, CompletableFuture true), but it must not interrupt the task now
        f.cancel(true);
        gate.set(1);
        awaitUntil("the task ran to its end", () -> finished.get() == 1);
        assertThat(interrupted.get()).isZero();
        assertThat(f.isCancelled()).isTrue();
    }

    @Test
    void cancelWithInterruptOfARunningTaskInterruptsIt() throws Exception {
        Future<Integer> f = executor.submit(blocker(1));
        awaitUntil("the task runs", () -> started.get() == 1);
        assertThat(f.cancel(true)).isTrue();
        assertThat(f.isCancelled()).isTrue();
        assertThat(f.isDone()).isTrue();
        assertThatThrownBy(f::get).isInstanceOf(CancellationException.class);
        if (interruptsRunningTasks()) {
            awaitUntil("the task was interrupted", () -> interrupted.get() == 1);
        }
        // the worker serves on
        assertThat(get(executor.submit(value(3)))).isEqualTo(3);
    }

    @Test
    void aTaskCancelledBeforeItStartsNeverRuns() throws Exception {
        List<Future<Integer>> running = occupyAllWorkers();
        Future<?> queued = executor.submit(counting());
        assertThat(queued.state()).isEqualTo(Future.State.RUNNING); // Future.State has no "queued"
        assertThat(queued.cancel(false)).isTrue();
        assertThat(queued.isCancelled()).isTrue();
        assertThat(queued.isDone()).isTrue();
        assertThatThrownBy(queued::get).isInstanceOf(CancellationException.class);
        gate.set(1);
        for (Future<Integer> f : running) {
            get(f);
        }
        assertThat(get(executor.submit(value(9)))).isEqualTo(9); // runs after where the cancelled one was
        assertThat(finished.get()).as("the cancelled task's own count").isEqualTo(WORKERS);
    }

    @Test
    void aQueuedTaskRunsOnTheFirstWorkerThatFreesUpWhileAnotherStillRuns() throws Exception {
        executor.submit(blocker(1)); // holds its worker until the test ends
        awaitUntil("the long task runs", () -> started.get() == 1);
        Future<Integer> shortOne = executor.submit((SerializableCallable<Integer>) () -> {
            Thread.sleep(SHORT_MILLIS);
            return 2;
        });
        executor.submit(counting());
        assertThat(get(shortOne)).isEqualTo(2);
        awaitUntil("the queued task ran on the worker the short one freed", () -> finished.get() == 1);
    }

    @Test
    void cancelOfACompletedTaskReturnsFalseAndKeepsItsResult() throws Exception {
        Future<Integer> f = executor.submit(value(4));
        assertThat(get(f)).isEqualTo(4);
        assertThat(f.cancel(true)).isFalse();
        assertThat(f.cancel(false)).isFalse();
        assertThat(f.isCancelled()).isFalse();
        assertThat(f.state()).isEqualTo(Future.State.SUCCESS);
    }

    @Test
    void aTaskThatThrowsCancellationExceptionFailsItsFutureInsteadOfLookingCancelled() {
        SerializableCallable<Integer> c = () -> {
            throw new CancellationException("mine");
        };
        Future<Integer> f = executor.submit(c);
        assertThatThrownBy(() -> get(f)).isInstanceOf(ExecutionException.class).cause().isInstanceOf(CancellationException.class);
        assertThat(f.isCancelled()).isFalse();
        assertThat(f.state()).isEqualTo(Future.State.FAILED);
    }

    // ------------------------------------------------------------------ lifetime

    @Test
    void shutdownLetsRunningAndQueuedTasksFinishThenTerminates() throws Exception {
        assertThat(executor.isShutdown()).isFalse();
        assertThat(executor.isTerminated()).isFalse();
        assertThat(executor.awaitTermination(1, TimeUnit.MILLISECONDS)).isFalse();
        List<Future<Integer>> running = occupyAllWorkers();
        Future<?> queued = executor.submit(counting());
        executor.shutdown();
        assertThat(executor.isShutdown()).isTrue();
        assertThat(executor.isTerminated()).isFalse();
        assertThat(executor.awaitTermination(SHORT_MILLIS, TimeUnit.MILLISECONDS)).isFalse();
        executor.shutdown(); // twice is harmless
        gate.set(1);
        assertThat(executor.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(executor.isTerminated()).isTrue();
        assertThat(executor.isShutdown()).isTrue();
        for (Future<Integer> f : running) {
            assertThat(f.resultNow()).isNotNull();
        }
        assertThat(queued.isDone()).isTrue();
        assertThat(finished.get()).isEqualTo(WORKERS + 1);
        executor.shutdown(); // also after termination
        assertThat(executor.isTerminated()).isTrue();
    }

    @Test
    void everyWayToSubmitIsRejectedAfterShutdown() throws Exception {
        executor.shutdown();
        List<Callable<Integer>> tasks = List.of(value(1));
        assertThatThrownBy(() -> executor.submit(value(1))).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.submit((Runnable) counting())).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.submit(counting(), 1)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.execute(counting())).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.invokeAll(tasks)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.invokeAll(tasks, 1, TimeUnit.SECONDS)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.invokeAny(tasks)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.invokeAny(tasks, 1, TimeUnit.SECONDS)).isInstanceOf(RejectedExecutionException.class);
        assertThat(executor.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(finished.get()).isZero();
    }

    @Test
    void aTaskCancelledBeforeShutdownNowDoesNotRunThroughTheListItReturns() throws Exception {
        occupyAllWorkers();
        Future<?> cancelled = executor.submit(counting());
        executor.submit(counting());
        assertThat(cancelled.cancel(false)).isTrue();
        List<Runnable> never = executor.shutdownNow();
        never.forEach(Runnable::run); // the caller runs what never started: the cancelled task is not among it
        assertThat(finished.get()).isEqualTo(listsNeverStartedTasks() ? 1 : 0);
    }

    @Test
    void afterShutdownATaskThatCannotTravelIsRejectedNotRefusedForItsContents() {
        executor.shutdown();
        Thread notSerializable = Thread.currentThread();
        Runnable task = () -> notSerializable.getName(); // a lambda of no Serializable type, capturing a Thread
        assertThatThrownBy(() -> executor.execute(task)).isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.submit(task)).isInstanceOf(RejectedExecutionException.class);
    }

    @Test
    void aTimedInvokeAnyWithoutAUnitRunsNothing() throws Exception {
        SharedLong done = finished;
        SerializableCallable<Long> task = done::incrementAndGet;
        assertThatThrownBy(() -> executor.invokeAny(List.of(task), 1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(List.of(task), 1, null)).isInstanceOf(NullPointerException.class);
        Thread.sleep(500); // a task sent anyway would have run by now
        assertThat(finished.get()).isZero();
    }

    @Test
    void shutdownNowInterruptsRunningTasksAndReturnsThoseThatNeverStarted() throws Exception {
        List<Future<Integer>> running = occupyAllWorkers();
        int queuedCount = 3;
        for (int i = 0; i < queuedCount; i++) {
            executor.submit(counting()); // the JDK leaves their futures pending, our pools cancel them: not checked
        }
        List<Runnable> never = executor.shutdownNow();
        assertThat(executor.isShutdown()).isTrue();
        if (listsNeverStartedTasks()) {
            assertThat(never).hasSize(queuedCount);
        } else {
            assertThat(never).isEmpty();
        }
        if (interruptsRunningTasks()) {
            awaitUntil("the running tasks were interrupted", () -> interrupted.get() == WORKERS);
        } else {
            gate.set(1);
            awaitUntil("the running tasks ran to their end", () -> finished.get() >= WORKERS);
        }
        assertThat(executor.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(executor.isTerminated()).isTrue();
        assertThat(finished.get()).as("tasks that never started stay so").isEqualTo(interruptsRunningTasks() ? 0 : WORKERS);
        assertThat(executor.shutdownNow()).isEmpty(); // twice is harmless
        if (interruptsRunningTasks()) {
            assertThat(running).allSatisfy(f -> assertThat(f.isDone()).isTrue());
        }
        never.forEach(Runnable::run); // the caller may run them itself
        assertThat(finished.get()).isEqualTo((interruptsRunningTasks() ? 0 : WORKERS) + never.size());
    }

    @Test
    void closeWaitsForSubmittedTasksAndTerminates() throws Exception {
        SharedLong done = finished;
        Future<Integer> f = executor.submit((SerializableCallable<Integer>) () -> {
            Thread.sleep(SHORT_MILLIS);
            done.incrementAndGet();
            return 1;
        });
        Future<?> queued = executor.submit(counting());
        executor.close();
        assertThat(executor.isShutdown()).isTrue();
        assertThat(executor.isTerminated()).isTrue();
        assertThat(f.resultNow()).isEqualTo(1);
        assertThat(queued.state()).isEqualTo(Future.State.SUCCESS);
        assertThat(finished.get()).isEqualTo(2);
        executor.close(); // twice is harmless
    }

    @Test
    void closeOfAFreshExecutorTerminatesIt() {
        executor.close();
        assertThat(executor.isTerminated()).isTrue();
    }

    @Test
    void awaitTerminationWaitsNoLongerThanAskedAndNotAtAllForANonPositiveTimeout() throws Exception {
        long t0 = System.nanoTime();
        assertThat(executor.awaitTermination(0, TimeUnit.SECONDS)).isFalse();
        assertThat(executor.awaitTermination(-1, TimeUnit.SECONDS)).isFalse();
        assertThat(executor.awaitTermination(SHORT_MILLIS, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(PATIENCE);
        assertThatThrownBy(() -> executor.awaitTermination(1, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void interruptingACallerBlockedInAwaitTerminationThrowsInterruptedException() throws Exception {
        occupyAllWorkers();
        executor.shutdown();
        Thread interrupter = interruptWhen(() -> true);
        try {
            assertThatThrownBy(() -> executor.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(InterruptedException.class);
        } finally {
            interrupter.join();
            Thread.interrupted();
        }
        assertThat(executor.isTerminated()).isFalse();
    }
}
