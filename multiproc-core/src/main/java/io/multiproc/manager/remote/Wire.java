package io.multiproc.manager.remote;

import io.multiproc.manager.AuthenticationException;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * The remote manager's framing and handshake, shared by {@link ManagerServer} and {@link RemoteManager}.
 *
 * <h2>Frames</h2>
 * Every message either way is a frame: a 4-byte big-endian length, then that many bytes. The reader
 * checks the length against its limit before allocating anything, and allocates as the bytes arrive;
 * a length below 0 or above the limit is a protocol error that closes the connection.
 * <pre>
 * request  = op:u8  flags:u8 (bit 0: pipelined, no reply on success)  target:i64  args: one codec value
 * reply    = status:u8 (OK, FAILED, EARLIER_FAILED)  body: one codec value (the result or a RemoteFailure)
 * </pre>
 *
 * <h2>Handshake (mutual HMAC-SHA256 challenge-response)</h2>
 * <pre>
 * server -> client   MAGIC(8) serverChallenge(32)
 * client -> server   HMAC(key, "mpm-client" | serverChallenge)(32) clientChallenge(32)
 * server -> client   1 HMAC(key, "mpm-server" | clientChallenge)(32)    or   0 (refused), then close
 *                                                                         or   2 (full: the key was right,
 *                                                                            every connection is taken)
 * </pre>
 * The two labels keep an answer of one side from being replayed as the other side's (a reflection
 * attack); both challenges are fresh from SecureRandom, and answers are compared in constant time.
 * A server that refuses a key closes the connection and carries on: nothing is thrown or logged above
 * DEBUG there. The client throws {@link AuthenticationException}.
 */
final class Wire {
    static final byte[] MAGIC = "MPMGR\u0001\0\0".getBytes(StandardCharsets.ISO_8859_1);
    static final int CHALLENGE = 32;
    static final int HMAC = 32;
    /** Largest handshake frame either side accepts. */
    static final int MAX_HANDSHAKE_FRAME = 128;
    /** Largest request or reply: values go up to 16 MB, batches of them a few times that. */
    static final int MAX_FRAME = 64 << 20;
    /** A frame's buffer before any of its bytes arrived; it grows as they do. */
    static final int FIRST_CHUNK = 64 << 10;
    /**
     * A request or reply buffer grown past this is let go once its frame is sent or decoded: a connection
     * keeps its buffers for its life, and kept at its largest they pinned a batch's size (up to 64 MB) on
     * either end of every idle connection that had once sent or received one.
     */
    static final int KEPT_BUFFER = 1 << 20;
    /** Bytes before a request's codec value: op, flags, target. */
    static final int REQUEST_HEADER = 10;

    static final int FLAG_PIPELINED = 1;

    static final byte OK = 0;
    static final byte FAILED = 1;
    /** A pipelined request failed; the body is its failure, and the request this replies to was skipped. */
    static final byte EARLIER_FAILED = 2;

    private static final byte[] CLIENT_LABEL = "mpm-client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_LABEL = "mpm-server".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private Wire() {
    }

    /** A frame's bytes; {@link ProtocolException} if its length is outside 0..max, EOFException at end of stream. */
    static byte[] readFrame(DataInputStream in, int max) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > max) {
            throw new ProtocolException("frame length=" + length + " outside 0.." + max);
        }
        // NOTE: the buffer grows as bytes arrive (doubling: at most twice the copying), never to the
        // announced length up front: a peer that sends a 64 MB length and then nothing must not pin 64 MB
        byte[] frame = new byte[Math.min(length, FIRST_CHUNK)];
        int filled = 0;
        while (filled < length) {
            if (filled == frame.length) {
                frame = Arrays.copyOf(frame, (int) Math.min(length, 2L * frame.length));
            }
            int n = in.read(frame, filled, frame.length - filled);
            if (n < 0) {
                throw new EOFException("end of stream after " + filled + " of a frame's " + length + " bytes");
            }
            filled += n;
        }
        return frame;
    }

    static void writeFrame(DataOutputStream out, byte[] frame, int offset, int length) throws IOException {
        out.writeInt(length);
        out.write(frame, offset, length);
    }

    static byte[] checkedKey(byte[] authkey) {
        if (authkey == null || authkey.length == 0) {
            throw new IllegalArgumentException("authkey=" + (authkey == null ? "null" : "empty") + " must have at least one byte");
        }
        return authkey.clone();
    }

    /** What the server's side of a handshake ended with. */
    enum Outcome { ADMITTED, REFUSED, FULL }

    /**
     * The server's side: {@code admit} runs once the client proved it has the key (it takes a connection
     * slot); only then does the server prove it has the key too. The caller closes unless ADMITTED.
     */
    static Outcome serverHandshake(DataInputStream in, DataOutputStream out, byte[] key, BooleanSupplier admit)
            throws IOException {
        byte[] challenge = random();
        byte[] hello = concat(MAGIC, challenge);
        writeFrame(out, hello, 0, hello.length);
        out.flush();
        byte[] answer = readFrame(in, MAX_HANDSHAKE_FRAME);
        if (answer.length != HMAC + CHALLENGE
                || !MessageDigest.isEqual(Arrays.copyOf(answer, HMAC), hmac(key, CLIENT_LABEL, challenge))) {
            writeFrame(out, new byte[] {0}, 0, 1);
            out.flush();
            return Outcome.REFUSED;
        }
        if (!admit.getAsBoolean()) {
            writeFrame(out, new byte[] {2}, 0, 1);
            out.flush();
            return Outcome.FULL;
        }
        byte[] clientChallenge = Arrays.copyOfRange(answer, HMAC, HMAC + CHALLENGE);
        byte[] welcome = concat(new byte[] {1}, hmac(key, SERVER_LABEL, clientChallenge));
        writeFrame(out, welcome, 0, welcome.length);
        out.flush();
        return Outcome.ADMITTED;
    }

    /** The client's side; AuthenticationException unless both sides proved they have the key. */
    static void clientHandshake(DataInputStream in, DataOutputStream out, byte[] key, String server) throws IOException {
        byte[] hello;
        try {
            hello = readFrame(in, MAX_HANDSHAKE_FRAME);
        } catch (EOFException e) {
            throw new ProtocolException(server + " closed the connection before its greeting (not a multiproc manager"
                    + " server, or one that is closing)");
        }
        if (hello.length != MAGIC.length + CHALLENGE || !Arrays.equals(hello, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ProtocolException(server + " is not a multiproc manager server (or speaks another version)");
        }
        byte[] challenge = random();
        byte[] answer = concat(hmac(key, CLIENT_LABEL, Arrays.copyOfRange(hello, MAGIC.length, hello.length)), challenge);
        writeFrame(out, answer, 0, answer.length);
        out.flush();
        byte[] welcome;
        try {
            welcome = readFrame(in, MAX_HANDSHAKE_FRAME);
        } catch (EOFException e) {
            throw new AuthenticationException(server + " closed the connection during authentication");
        }
        if (welcome.length == 1 && welcome[0] == 0) {
            throw new AuthenticationException(server + " refused the authkey (the keys differ)");
        }
        if (welcome.length == 1 && welcome[0] == 2) {
            throw new ServerFullException(server + " serves at most " + ManagerServer.MAX_CONNECTIONS
                    + " connections at once and all are in use; try again once a client disconnects");
        }
        if (welcome.length != 1 + HMAC || welcome[0] != 1
                || !MessageDigest.isEqual(Arrays.copyOfRange(welcome, 1, welcome.length), hmac(key, SERVER_LABEL, challenge))) {
            throw new AuthenticationException(server + " could not prove it has the authkey");
        }
    }

    private static byte[] random() {
        byte[] b = new byte[CHALLENGE];
        RANDOM.nextBytes(b);
        return b;
    }

    private static byte[] hmac(byte[] key, byte[] label, byte[] challenge) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(label);
            return mac.doFinal(challenge);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** A request's arguments do not fit its op (unchecked, for the dispatch code); becomes a ProtocolException. */
    static final class ProtocolError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ProtocolError(String message) {
            super(message, null, false, false);
        }
    }

    /** A peer broke the protocol: the connection is closed, nothing else is affected. */
    /** The server had the key but no free connection slot (a client may try again later). */
    static final class ServerFullException extends IOException {
        private static final long serialVersionUID = 1L;

        ServerFullException(String message) {
            super(message);
        }
    }

    static final class ProtocolException extends IOException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }

        ProtocolException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
