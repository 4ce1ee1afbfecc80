package io.multiproc.internal;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The per-user registry directory is trusted only when it is ours: another local user who creates
 * /dev/shm/multiproc-UID first must not get to plant records in it. Runs against a fake root, with the
 * same code the real registry uses; "another user" is uid 65534 (nobody), set with chown (only root may:
 * for other users those cases are skipped).
 */
class RegistryDirectoryTest {
    private static final int OTHER_UID = 65534;
    private Path root;
    private int uid;

    @BeforeEach
    void fakeRoot() throws IOException {
        root = Files.createTempDirectory("registry-root");
        uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    @AfterEach
    void removeFakeRoot() throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void aMissingDirectoryIsCreatedPrivate() throws IOException {
        Path d = SegmentRegistry.openDirectory(root, uid);

        assertThat(d).isEqualTo(root.resolve("multiproc-" + uid));
        assertThat(mode(d)).isEqualTo(0700);
        assertThat(Files.getAttribute(d, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(uid);
        assertThat(SegmentRegistry.openDirectory(root, uid)).as("opening it again").isEqualTo(d);
    }

    @Test
    void aDirectoryOwnedByAnotherUserIsRefusedNamingPathOwnerAndMode() throws IOException {
        Path d = root.resolve("multiproc-" + uid);
        Files.createDirectory(d);
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
        giveToAnotherUser(d);

        assertThatThrownBy(() -> SegmentRegistry.openDirectory(root, uid))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(d.toString())
                .hasMessageContaining("owned by uid=" + OTHER_UID)
                .hasMessageContaining("mode=0777")
                .hasMessageContaining("must be a directory owned by uid=" + uid + " with mode 0700");
        assertThat(Files.getAttribute(d, "unix:uid", LinkOption.NOFOLLOW_LINKS)).as("left as it was").isEqualTo(OTHER_UID);
    }

    @Test
    void aSymbolicLinkIsRefusedEvenToADirectoryOfOurs() throws IOException {
        Path ours = Files.createDirectory(root.resolve("elsewhere"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path d = Files.createSymbolicLink(root.resolve("multiproc-" + uid), ours);

        assertThatThrownBy(() -> SegmentRegistry.openDirectory(root, uid))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(d.toString())
                .hasMessageContaining("a symbolic link");
    }

    @Test
    void aRegularFileIsRefused() throws IOException {
        Path d = Files.createFile(root.resolve("multiproc-" + uid));

        assertThatThrownBy(() -> SegmentRegistry.openDirectory(root, uid))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("not a directory");
    }

    @Test
    void ourDirectoryWithALooserModeIsTightenedAndForeignEntriesGo() throws IOException {
        Path d = root.resolve("multiproc-" + uid);
        Files.createDirectory(d);
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path ours = Files.createFile(d.resolve("mp_0011223344556677@1.2"));
        Path planted = Files.createFile(d.resolve("psm_victim@999999.1"));
        giveToAnotherUser(planted);
        Path plantedLink = Files.createSymbolicLink(d.resolve("registry.lock"), Path.of("/etc/passwd"));

        assertThat(SegmentRegistry.openDirectory(root, uid)).isEqualTo(d);

        assertThat(mode(d)).isEqualTo(0700);
        assertThat(ours).exists();
        assertThat(planted).doesNotExist();
        assertThat(Files.exists(plantedLink, LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    /** chown to uid 65534; only root may, so the test is skipped for other users. */
    private static void giveToAnotherUser(Path p) throws IOException {
        try {
            Files.setAttribute(p, "unix:uid", OTHER_UID, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.FileSystemException notRoot) {
            Assumptions.abort("cannot chown " + p + " to uid " + OTHER_UID + " (not root): " + notRoot.getMessage());
        }
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }
}
