package io.multiproc.manager.remote;

/**
 * A container as it travels over a remote manager connection: the connection's id for it and its
 * kind. The server turns the containers its manager returns into these (so a nested list stays one
 * shared list, not a copy), and the client turns them into live remote proxies, and back when a
 * proxy is stored into another container. Ids are per connection.
 *
 * @param id   the connection's id of the container (0 is the manager itself)
 * @param kind one of the {@code KIND_*} constants
 */
public record RemoteRef(long id, int kind) {
    public static final int KIND_LIST = 1;
    public static final int KIND_DICT = 2;
    public static final int KIND_NAMESPACE = 3;
    public static final int KIND_VALUE = 4;
    public static final int KIND_SET = 5;

    static String kindName(int kind) {
        return switch (kind) {
            case KIND_LIST -> "list";
            case KIND_DICT -> "dict";
            case KIND_NAMESPACE -> "namespace";
            case KIND_VALUE -> "value";
            case KIND_SET -> "set";
            default -> "kind=" + kind;
        };
    }
}
