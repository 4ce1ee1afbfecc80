package io.multiproc.manager.remote;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * This process's authkeys for remote manager servers (CPython's {@code current_process().authkey}),
 * so that a remote proxy arriving in a task, a queue or a pipe can connect without its key travelling
 * with it (decision 116). A key is remembered when this process connects with it
 * ({@link RemoteManager#connect}) or receives it in its own task from the parent that connected. Keys
 * are found by their id: an HMAC of a fixed label under the key, which names the key without revealing
 * it. Also the guard that keeps a remote manager connection's own decoding from resolving proxies (a
 * hostile peer must not make this process connect elsewhere).
 */
final class RemoteKeys {
    private static final byte[] ID_LABEL = "mpm-key-id".getBytes(StandardCharsets.US_ASCII);
    /** Key id (hex) to key; written by any thread (connects, task decoding), read by handle decoding. */
    private static final ConcurrentHashMap<String, byte[]> KEYS = new ConcurrentHashMap<>();
    private static final io.multiproc.internal.ThreadFlag WIRE_DECODING = new io.multiproc.internal.ThreadFlag();
    private static final io.multiproc.internal.ThreadFlag WIRE_ENCODING = new io.multiproc.internal.ThreadFlag();

    private RemoteKeys() {
    }

    /** The key's id: HMAC-SHA256(key, "mpm-key-id"), first 16 bytes. */
    static byte[] idOf(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] full = mac.doFinal(ID_LABEL);
            return java.util.Arrays.copyOf(full, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
        }
    }

    /** Remembers {@code key} (copied) for this process; returns its id. */
    static byte[] remember(byte[] key) {
        byte[] id = idOf(key);
        KEYS.putIfAbsent(HexFormat.of().formatHex(id), key.clone());
        return id;
    }

    /** A copy of the key with id {@code id}, or null if this process has none. */
    static byte[] find(byte[] id) {
        byte[] key = KEYS.get(HexFormat.of().formatHex(id));
        return key == null ? null : key.clone();
    }

    /** Runs {@code decode} (of a remote manager frame) so that handles in it refuse to resolve. */
    static <T> T wireDecoding(Supplier<T> decode) {
        return WIRE_DECODING.during(decode);
    }

    /** Runs {@code encode} (of a remote manager request) so that proxies in it refuse to export themselves. */
    static <T> T wireEncoding(Supplier<T> encode) {
        return WIRE_ENCODING.during(encode);
    }

    /** True while this thread encodes a remote manager request. */
    static boolean inWireEncoding() {
        return WIRE_ENCODING.isSet();
    }

    /** True while this thread decodes a remote manager frame. */
    static boolean inWireDecoding() {
        return WIRE_DECODING.isSet();
    }
}
