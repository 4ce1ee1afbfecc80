package io.multiproc.internal;

import io.multiproc.RemoteException;

import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A Throwable as plain data, for crossing a process boundary: the ONE place where a remote exception is
 * captured and turned back into a local one (Pool tasks, ChildProcess failures and Manager proxies all
 * use it). Built only of strings, ints, lists and records, so the built-in codec writes it without JDK
 * serialization and a data channel's allow-list admits it.
 *
 * <pre>{@code
 * RemoteFailure f = RemoteFailure.of(throwable);              // in the worker
 * Throwable t = f.toThrowable(RemoteFailure.ANY_CLASS);      // in the parent: same type when possible
 * }</pre>
 *
 * <p>Re-creation: the class is looked up without initializing it, must be a public, concrete Throwable
 * accepted by {@code allowed}, and must have a public {@code (String)} or {@code (String, Throwable)}
 * constructor (or a no-arg one when the remote message was null). Otherwise the result is a
 * {@link RemoteException} carrying the remote class name and message. Either way the stack trace is the
 * remote one, causes are re-created the same way, and suppressed exceptions are kept.
 *
 * @param className   binary name of the remote exception's class
 * @param message     its message, or null
 * @param frames      the remote stack trace
 * @param cause       the remote cause, or null
 * @param suppressed  the remote suppressed exceptions (possibly empty)
 */
public record RemoteFailure(String className, String message, List<Frame> frames, RemoteFailure cause,
                            List<RemoteFailure> suppressed) {

    /** Re-create any loadable Throwable class (for peers as trusted as a child or pool worker). */
    public static final Predicate<String> ANY_CLASS = name -> true;

    /** Re-create only the java.* exceptions of the collection contracts (for less trusted peers). */
    public static final Predicate<String> JDK_CONTRACT = Set.of(
            "java.lang.IndexOutOfBoundsException", "java.lang.ArrayIndexOutOfBoundsException",
            "java.lang.StringIndexOutOfBoundsException", "java.util.NoSuchElementException",
            "java.lang.ClassCastException", "java.lang.IllegalArgumentException",
            "java.lang.IllegalStateException", "java.lang.UnsupportedOperationException",
            "java.lang.NullPointerException", "java.lang.ArithmeticException",
            "java.lang.NumberFormatException", "java.util.ConcurrentModificationException")::contains;

    /** Longest stack trace kept per exception, so a deep recursion does not make a huge frame. */
    public static final int MAX_FRAMES = 1024;
    /** Deepest cause chain kept. */
    public static final int MAX_DEPTH = 32;
    /** Longest message kept, in chars; a longer one is cut and marked. */
    public static final int MAX_MESSAGE = 64 * 1024;

    /** One stack frame. */
    public record Frame(String declaringClass, String methodName, String fileName, int lineNumber) {
        static Frame of(StackTraceElement e) {
            return new Frame(e.getClassName(), e.getMethodName(), e.getFileName(), e.getLineNumber());
        }

        StackTraceElement toElement() {
            return new StackTraceElement(declaringClass, methodName, fileName, lineNumber);
        }
    }

    public RemoteFailure {
        frames = List.copyOf(frames);
        suppressed = List.copyOf(suppressed);
    }

    /** Captures {@code t}, its causes and suppressed exceptions, within the limits above. */
    public static RemoteFailure of(Throwable t) {
        return of(t, 0, new IdentityHashMap<>());
    }

    private static RemoteFailure of(Throwable t, int depth, Map<Throwable, Boolean> seen) {
        if (t == null || depth >= MAX_DEPTH || seen.put(t, Boolean.TRUE) != null) {
            return null;
        }
        StackTraceElement[] trace = t.getStackTrace();
        List<Frame> frames = new ArrayList<>(Math.min(trace.length, MAX_FRAMES));
        for (int i = 0; i < trace.length && i < MAX_FRAMES; i++) {
            frames.add(Frame.of(trace[i]));
        }
        List<RemoteFailure> suppressed = new ArrayList<>();
        for (Throwable s : t.getSuppressed()) {
            RemoteFailure f = of(s, depth + 1, seen);
            if (f != null) {
                suppressed.add(f);
            }
        }
        return new RemoteFailure(t.getClass().getName(), cut(messageOf(t)), frames,
                of(t.getCause(), depth + 1, seen), suppressed);
    }

    private static String messageOf(Throwable t) {
        try {
            return t.getMessage();
        } catch (RuntimeException e) { // a user's getMessage may itself fail
            return "(getMessage threw " + e.getClass().getName() + ")";
        }
    }

    private static String cut(String message) {
        if (message == null || message.length() <= MAX_MESSAGE) {
            return message;
        }
        return message.substring(0, MAX_MESSAGE) + "... (" + (message.length() - MAX_MESSAGE) + " more chars)";
    }

    /** The remote exception as a local one: its own type where {@code allowed} and possible, else RemoteException. */
    public Throwable toThrowable(Predicate<String> allowed) {
        Throwable localCause = cause == null ? null : cause.toThrowable(allowed);
        Throwable t = instantiate(allowed, localCause);
        if (t == null) {
            t = new RemoteException(className, message);
        }
        StackTraceElement[] trace = new StackTraceElement[frames.size()];
        for (int i = 0; i < trace.length; i++) {
            trace[i] = frames.get(i).toElement();
        }
        t.setStackTrace(trace);
        if (localCause != null && t.getCause() == null) {
            try {
                t.initCause(localCause);
            } catch (IllegalStateException | IllegalArgumentException ignored) {
                // a type that fixed its cause in its constructor keeps it
            }
        }
        for (RemoteFailure s : suppressed) {
            t.addSuppressed(s.toThrowable(allowed));
        }
        return t;
    }

    private Throwable instantiate(Predicate<String> allowed, Throwable localCause) {
        if (!allowed.test(className)) {
            return null;
        }
        try {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            Class<?> c = Class.forName(className, false, loader != null ? loader : RemoteFailure.class.getClassLoader());
            if (!Throwable.class.isAssignableFrom(c) || Modifier.isAbstract(c.getModifiers())
                    || !Modifier.isPublic(c.getModifiers())) {
                return null;
            }
            Throwable made = construct(c, localCause);
            // a constructor that rewrites the message (e.g. prefixes it) would not be the remote message
            return made != null && java.util.Objects.equals(made.getMessage(), message) ? made : null;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null;
        }
    }

    private Throwable construct(Class<?> c, Throwable localCause) throws ReflectiveOperationException {
        Constructor<?> withMessage = null;
        Constructor<?> none = null;
        for (Constructor<?> k : c.getConstructors()) {
            Class<?>[] p = k.getParameterTypes();
            if (p.length == 2 && p[0] == String.class && localCause != null && p[1].isInstance(localCause)) {
                return (Throwable) k.newInstance(message, localCause);   // e.g. UncheckedIOException(String, IOException)
            } else if (p.length == 1 && p[0] == String.class) {
                withMessage = k;
            } else if (p.length == 0) {
                none = k;
            }
        }
        if (withMessage != null) {
            return (Throwable) withMessage.newInstance(message);
        }
        return none != null && message == null ? (Throwable) none.newInstance() : null;
    }
}
