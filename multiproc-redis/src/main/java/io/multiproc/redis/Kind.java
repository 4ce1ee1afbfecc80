package io.multiproc.redis;

/** The kinds of object a {@link RedisManager} keeps, with the label used in their keys. */
enum Kind {
    LIST("list"), DICT("dict"), NAMESPACE("namespace"), SET("set"), VALUE("value"), QUEUE("queue"), BOUNDED_QUEUE("bqueue");

    final String label;

    Kind(String label) {
        this.label = label;
    }

    static Kind of(String label) {
        for (Kind k : values()) {
            if (k.label.equals(label)) {
                return k;
            }
        }
        throw new IllegalArgumentException("kind=" + label + " is not one of list, dict, namespace, set, value, queue, bqueue");
    }
}
