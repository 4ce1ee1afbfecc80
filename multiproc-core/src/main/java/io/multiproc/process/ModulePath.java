package io.multiproc.process;

import java.lang.module.ResolvedModule;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * A child JVM's module-path options, when this library runs as the named module {@code io.multiproc}
 * (the program was started with {@code --module-path}): the parent's module path, every module of the
 * boot layer that came from it (so that the classes of a task, such as a lambda's capturing class in
 * the user's module, load in the child as they did in the parent), and native access for
 * {@code io.multiproc} and for every such module that has it in the parent. On the class path there
 * are none: the child gets {@code -cp} alone. Decision 081.
 *
 * <p>Not covered: modules in layers other than the boot layer (a plugin system's), a jlink image, and the parent's
 * {@code --add-opens}/{@code --add-exports}/{@code --add-reads}/{@code --patch-module}, which the JDK
 * does not show a program: pass them in the child's JVM options.
 */
final class ModulePath {
    private static final List<String> OPTIONS = compute();

    private ModulePath() {
    }

    /** Options to add to a child's {@code java} command (empty on the class path). */
    static List<String> options() {
        if (OPTIONS == null) {
            throw new IllegalStateException("io.multiproc is a named module that was not loaded from the --module-path "
                    + "into the boot layer (its layer: " + ModulePath.class.getModule().getLayer() + "): a child JVM cannot "
                    + "be started like this JVM; put io.multiproc on the --module-path or the class path of the java command");
        }
        return OPTIONS;
    }

    /**
     * What the cache key of a child's AOT cache must cover beyond the class path: these options, and
     * the module path's entries (each must be a jar, like the class path's); empty on the class path.
     */
    static List<String> cacheKey() {
        return OPTIONS == null ? List.of() : OPTIONS;
    }

    /** The module path's entries, for {@link AotCache}; empty on the class path. */
    static List<String> entries() {
        return OPTIONS == null || OPTIONS.isEmpty() ? List.of()
                : List.of(System.getProperty("jdk.module.path").split(java.io.File.pathSeparator));
    }

    /**
     * The options, or null when io.multiproc is a named module that did not come from the module path into
     * the boot layer (a layer the program made, or a jlink image: not supported).
     */
    private static List<String> compute() {
        Module library = ModulePath.class.getModule();
        if (!library.isNamed()) {
            return List.of();
        }
        String path = System.getProperty("jdk.module.path");
        if (library.getLayer() != ModuleLayer.boot() || path == null) {
            return null;
        }
        TreeSet<String> modules = new TreeSet<>();
        TreeSet<String> nativeAccess = new TreeSet<>();
        nativeAccess.add(library.getName());
        for (ResolvedModule m : ModuleLayer.boot().configuration().modules()) {
            boolean system = m.reference().location().map(uri -> "jrt".equals(uri.getScheme())).orElse(true);
            if (!system) {
                modules.add(m.name());
                if (ModuleLayer.boot().findModule(m.name()).map(Module::isNativeAccessEnabled).orElse(false)) {
                    nativeAccess.add(m.name());
                }
            }
        }
        List<String> options = new ArrayList<>();
        String upgrade = System.getProperty("jdk.module.upgrade.path");
        if (upgrade != null) {
            options.add("--upgrade-module-path");
            options.add(upgrade);
        }
        options.add("--module-path");
        options.add(path);
        options.add("--add-modules");
        options.add(String.join(",", modules));
        options.add("--enable-native-access=" + String.join(",", nativeAccess));
        return List.copyOf(options);
    }
}
