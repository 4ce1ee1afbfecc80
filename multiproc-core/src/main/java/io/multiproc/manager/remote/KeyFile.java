package io.multiproc.manager.remote;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;

/**
 * A remote manager's key file, read the same way by the server ({@code multiproc manager serve
 * --authkey-file}) and by clients ({@code Manager.readKey}): a key written with {@code echo} ends in a
 * newline the other side must not count, and a random key whose last byte happens to be 0x0A must be the
 * same key on both sides (the README's client once read the raw bytes while the server dropped it).
 */
public final class KeyFile {
    private KeyFile() {
    }

    /**
     * The file's bytes with one trailing {@code \n} (or {@code \r\n}) dropped. Refuses a missing, empty or
     * non-regular file and one that other users may read or write; a symlink is followed and its target
     * checked (a Kubernetes secret is a symlink to a 0400/0600 file).
     *
     * @param label how messages name the file ({@code "--authkey-file"}, {@code "keyFile"})
     * @throws IllegalArgumentException naming the file and why
     */
    public static byte[] read(Path file, String label) {
        if (file == null) {
            throw new IllegalArgumentException(label + "=null");
        }
        byte[] key;
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(label + "=" + file
                        + (Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? " is not a regular file" : " does not exist"));
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            for (PosixFilePermission p : perms) {
                if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
                    throw new IllegalArgumentException(label + "=" + file + " is accessible to other users ("
                            + PosixFilePermissions.toString(perms) + "): chmod 600 it");
                }
            }
            key = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(label + "=" + file + " cannot be read: " + e, e);
        }
        int n = key.length;
        if (n > 0 && key[n - 1] == '\n') {
            n--;
            if (n > 0 && key[n - 1] == '\r') {
                n--;
            }
        }
        byte[] trimmed = Arrays.copyOf(key, n);
        Arrays.fill(key, (byte) 0);
        if (n == 0) {
            throw new IllegalArgumentException(label + "=" + file + " is empty");
        }
        return trimmed;
    }
}
