package io.multiproc.process;

import java.util.List;

/** JDK 25 AOT cache options for child JVMs (filled in when measured to help). */
final class AotCache {
    private AotCache() {
    }

    static List<String> options() {
        return List.of();
    }
}
