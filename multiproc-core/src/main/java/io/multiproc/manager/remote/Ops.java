package io.multiproc.manager.remote;

/**
 * The remote manager's operation codes (the first byte of a request). Grouped by the kind of target;
 * a request whose op does not fit its target's kind is a protocol error. {@link #PIPELINED} lists the
 * ones a client sends without waiting (they return nothing the caller needs).
 */
final class Ops {
    // the manager (target 0)
    static final int HELLO = 1;          // () -> manager name
    static final int OPEN = 2;           // (kind, name or null, initial value) -> RemoteRef
    static final int SYNC = 3;           // () -> null: a reply after every earlier request was applied
    static final int IMPORT = 4;         // (token, kind) -> RemoteRef: an exported container, for this connection
    static final int RELEASE = 5;        // (id, count, id, count, ...) pipelined only: the client let go of that
                                         // many hand-outs of each id (decision 157); never fails, never skipped
    // any container
    static final int SIZE = 10;          // () -> int
    static final int CLEAR = 11;         // () pipelined
    static final int SNAPSHOT = 12;      // () -> ArrayList (list, set) or LinkedHashMap (dict, namespace)
    static final int CONTAINS = 13;      // (o) -> boolean: list/set element, dict key, namespace name
    static final int EXPORT = 14;        // () -> long: the container's server-wide token (Exports)
    // list
    static final int L_GET = 20;         // (index)
    static final int L_SET = 21;         // (index, value) -> previous
    static final int L_ADD = 22;         // (value) pipelined
    static final int L_INSERT = 23;      // (index, value)
    static final int L_REMOVE_AT = 24;   // (index) -> removed
    static final int L_REMOVE = 25;      // (o) -> boolean
    static final int L_INDEX_OF = 26;    // (o) -> int
    static final int L_LAST_INDEX_OF = 27;
    static final int L_ADD_ALL = 28;     // (list) pipelined
    static final int L_REPLACE_IF = 29;  // (expected list, new list) -> boolean: the whole contents, if still the expected
    static final int L_INSERT_ALL = 30;  // (index, list) -> boolean: all at index, in one step
    static final int L_END = 31;         // (which end and what, END_*) -> the element; NoSuchElementException when empty
    static final int END_GET_FIRST = 0;
    static final int END_GET_LAST = 1;
    static final int END_REMOVE_FIRST = 2;
    static final int END_REMOVE_LAST = 3;
    // dict
    static final int D_GET = 40;         // (key)
    static final int D_PUT = 41;         // (key, value) -> previous
    static final int D_REMOVE = 42;      // (key) -> previous
    static final int D_REMOVE_IF = 43;   // (key, value) -> boolean
    static final int D_PUT_IF_ABSENT = 44;
    static final int D_REPLACE = 45;     // (key, value) -> previous
    static final int D_REPLACE_IF = 46;  // (key, old, new) -> boolean
    static final int D_CONTAINS_VALUE = 47;
    static final int D_PUT_ALL = 48;     // (map) pipelined
    static final int D_GET_ALL = 49;     // (list of keys) -> list of values
    static final int D_SET = 50;         // (key, value) pipelined: put without the previous value
    // namespace
    static final int N_GET = 60;         // (name)
    static final int N_SET = 61;         // (name, value) pipelined
    static final int N_REMOVE = 62;      // (name) -> boolean
    // value
    static final int V_GET = 70;
    static final int V_SET = 71;         // (value) pipelined
    static final int V_GET_AND_SET = 72;
    static final int V_CAS = 73;         // (expected, new) -> boolean
    // set
    static final int S_ADD = 80;         // (o) -> boolean
    static final int S_REMOVE = 81;      // (o) -> boolean

    private Ops() {
    }

    static boolean pipelined(int op) {
        return op == RELEASE || op == CLEAR || op == L_ADD || op == L_ADD_ALL || op == D_PUT_ALL || op == D_SET || op == N_SET
                || op == V_SET;
    }
}
