package io.multiproc.manager.local;

/** What a container is; the code is stored in its header. */
public enum ContainerKind {
    LIST(1, "list"), DICT(2, "dict"), NAMESPACE(3, "namespace"), VALUE(4, "value"), SET(5, "set");

    final int code;
    final String label;

    ContainerKind(int code, String label) {
        this.code = code;
        this.label = label;
    }

    /** {@link #values()} once: it copies the array on every call, and every proxy made looks its kind up. */
    private static final ContainerKind[] KINDS = values();

    static ContainerKind of(int code) {
        for (ContainerKind k : KINDS) {
            if (k.code == code) {
                return k;
            }
        }
        throw new IllegalStateException("kind=" + code + " is not a container kind (corrupt ref?)");
    }
}
