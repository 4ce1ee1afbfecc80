package io.multiproc.manager;

/**
 * A remote manager and this process do not share the authkey: thrown by {@link Manager#connect} when
 * the server refuses this process's answer to its challenge, or when the server cannot answer this
 * process's challenge (it is not the server it claims to be). Unchecked, like every other failure of
 * {@code Manager}'s methods (decision record 050).
 *
 * <pre>{@code
 * try (Manager m = Manager.connect(new InetSocketAddress("127.0.0.1", 50000), key)) {
 *     m.dict("config").get("threads");
 * } catch (AuthenticationException e) {
 *     System.err.println("wrong key: " + e.getMessage());
 * }
 * }</pre>
 */
public class AuthenticationException extends SecurityException {
    private static final long serialVersionUID = 1L;

    public AuthenticationException(String message) {
        super(message);
    }
}
