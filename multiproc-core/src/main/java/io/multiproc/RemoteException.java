package io.multiproc;

/**
 * An exception raised in another process (a Pool worker, a child, a Manager server) whose own type could
 * not be re-created here. The remote class name and message are kept, and the stack trace is the remote
 * one, so a printed trace shows where the failure really happened.
 *
 * <pre>{@code
 * try {
 *     pool.applyAsync(() -> { throw new com.acme.Unloadable("boom"); }).get();
 * } catch (ExecutionException e) {
 *     if (e.getCause() instanceof RemoteException r) {
 *         System.out.println(r.remoteClassName() + ": " + r.getMessage());   // com.acme.Unloadable: boom
 *     }
 * }
 * }</pre>
 *
 * <p>Pool tasks, {@code ChildProcess.failure()} and Manager proxies all use this one type.
 */
public class RemoteException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String remoteClassName;
    private final String remoteMessage;

    /**
     * @param remoteClassName the binary name of the exception's class in the remote process
     * @param remoteMessage its message, or null
     */
    public RemoteException(String remoteClassName, String remoteMessage) {
        super(remoteMessage == null ? remoteClassName : remoteClassName + ": " + remoteMessage);
        this.remoteClassName = remoteClassName;
        this.remoteMessage = remoteMessage;
    }

    /** The binary class name of the exception the remote process raised. */
    public String remoteClassName() {
        return remoteClassName;
    }

    /** The remote exception's own message (without the class name), or null. */
    public String remoteMessage() {
        return remoteMessage;
    }
}
