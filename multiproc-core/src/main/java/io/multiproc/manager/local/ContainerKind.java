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

    static ContainerKind of(int code) {
        for (ContainerKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        throw new IllegalStateException("kind=" + code + " is not a container kind (corrupt ref?)");
    }
}
