package io.multiproc.manager.remote;

import io.multiproc.codec.BufferSink;
import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentMap;

import static io.multiproc.manager.remote.RemoteManagerTest.KEY;
import static io.multiproc.manager.remote.RemoteManagerTest.LOOPBACK_ANY_PORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A remote manager's server facing hostile or broken clients: random and truncated frames, lies about
 * lengths, gadget classes, clients killed in the middle of a request. Each ends that connection only:
 * the server keeps serving, and a client connected all along is unaffected.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteManagerHostileClientsTest {
    private Manager local;
    private ManagerServer server;
    private Manager bystander;
    private ConcurrentMap<String, Integer> bystanderDict;

    @BeforeEach
    void serve() {
        local = Manager.start();
        server = ManagerServer.start(local, LOOPBACK_ANY_PORT, KEY);
        bystander = Manager.connect(server.address(), KEY);
        bystanderDict = bystander.dict("bystander");
        bystanderDict.put("n", 0);
    }

    @AfterEach
    void stop() {
        bystander.close();
        server.close();
        local.close();
    }

    /** The server still serves, and the client that was connected all along still works. */
    private void serverStillServes(int round) {
        assertThat(bystanderDict.merge("n", 1, Integer::sum)).as("bystander after round %d", round).isEqualTo(round + 1);
        try (Manager fresh = Manager.connect(server.address(), KEY)) {
            assertThat(fresh.<String, Integer>dict("bystander").get("n")).isEqualTo(round + 1);
        }
    }

    private Socket raw() throws IOException {
        Socket s = new Socket();
        s.connect(server.address(), 5_000);
        s.setSoTimeout(10_000);
        return s;
    }

    private Socket authenticated() throws IOException {
        Socket s = raw();
        Wire.clientHandshake(new DataInputStream(s.getInputStream()), new DataOutputStream(s.getOutputStream()), KEY, "test");
        return s;
    }

    /** True if the server closed this connection (read sees end of stream) within the socket timeout. */
    private static boolean closedByServer(Socket s) throws IOException {
        try {
            byte[] b = new byte[4096];
            while (true) {
                int n = s.getInputStream().read(b);
                if (n < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: closed too
        }
    }

    private static byte[] frame(byte[] body) {
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    private static byte[] request(int op, int flags, long target, byte[] args) {
        return ByteBuffer.allocate(Wire.REQUEST_HEADER + args.length).put((byte) op).put((byte) flags).putLong(target)
                .put(args).array();
    }

    @Test
    void randomAndTruncatedFramesCloseOnlyTheirConnection() throws IOException {
        Random random = new Random(20261203);
        for (int round = 0; round < 120; round++) {
            boolean afterHandshake = round % 3 != 0;
            try (Socket s = afterHandshake ? authenticated() : raw()) {
                byte[] body = new byte[random.nextInt(64)];
                random.nextBytes(body);
                if (afterHandshake && round % 2 == 0 && body.length >= Wire.REQUEST_HEADER) {
                    body[0] = (byte) (10 + random.nextInt(80)); // a real op on a small target, garbage args
                    body[1] = 0;
                    java.util.Arrays.fill(body, 2, 9, (byte) 0);
                }
                byte[] f = frame(body);
                int cut = round % 5 == 0 ? random.nextInt(f.length) : f.length;   // truncated, then closed
                s.getOutputStream().write(f, 0, cut);
                s.getOutputStream().flush();
                if (cut < f.length) {
                    s.shutdownOutput();
                }
                // the server answers a valid request, or closes; it never hangs the other clients
                if (!afterHandshake || cut < f.length) {
                    assertThat(closedByServer(s)).as("round %d", round).isTrue();
                }
            }
            serverStillServes(round);
        }
    }

    @Test
    void lengthsThatLieAreRefusedBeforeAnythingIsAllocated() throws IOException {
        int round = 0;
        for (int length : new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, Wire.MAX_FRAME + 1}) {
            for (boolean afterHandshake : new boolean[] {false, true}) {
                try (Socket s = afterHandshake ? authenticated() : raw()) {
                    new DataOutputStream(s.getOutputStream()).writeInt(length);
                    assertThat(closedByServer(s)).as("length=%d", length).isTrue();
                }
                serverStillServes(round++);
            }
        }
        // a frame shorter than a request header, and a request with trailing bytes after its arguments
        BufferSink args = new BufferSink(16);
        ManagerServer.CODEC.encode(List.of(), args);
        byte[] trailing = new byte[args.size() + 3];
        System.arraycopy(args.toByteArray(), 0, trailing, 0, args.size());
        for (byte[] body : new byte[][] {{1, 0, 0}, request(Ops.SYNC, 0, 0, trailing), request(Ops.SYNC, 0, 99, args.toByteArray()),
                request(Ops.SIZE, Wire.FLAG_PIPELINED, 0, args.toByteArray()), request(250, 0, 0, args.toByteArray())}) {
            try (Socket s = authenticated()) {
                s.getOutputStream().write(frame(body));
                assertThat(closedByServer(s)).isTrue();
            }
            serverStillServes(round++);
        }
    }

    /** Deserializing this would be the attack; the server must never get that far. */
    public static final class Gadget implements Serializable {
        private static final long serialVersionUID = 1L;
        static volatile boolean triggered;

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            triggered = true;
        }
    }

    /** An application record: data, written in the built-in format (no JDK serialization). */
    public record Order(String id, long qty) {
    }

    @Test
    void gadgetClassesAreNeverDecodedButApplicationRecordsAreData() throws IOException {
        ByteArrayOutputStream jdk = new ByteArrayOutputStream();
        try (ObjectOutputStream oos = new ObjectOutputStream(jdk)) {
            oos.writeObject(new ArrayList<>(List.of(new Gadget())));
        }
        byte[] serialized = jdk.toByteArray();
        ByteBuffer gadget = ByteBuffer.allocate(1 + 5 + serialized.length).put((byte) 0x30);
        int n = serialized.length;   // unsigned LEB128 varint, as the codec writes lengths
        while ((n & ~0x7F) != 0) {
            gadget.put((byte) ((n & 0x7F) | 0x80));
            n >>>= 7;
        }
        gadget.put((byte) n).put(serialized);
        byte[] gadgetArgs = java.util.Arrays.copyOf(gadget.array(), gadget.position());
        // the payload is well formed: the task codec (application classes in JDK serialization) runs the gadget
        io.multiproc.codec.BuiltinCodec.taskCodec().decode(io.multiproc.codec.SegmentSource.of(gadgetArgs));
        assertThat(Gadget.triggered).isTrue();
        Gadget.triggered = false;

        int round = 0;
        try (Socket s = authenticated()) {
            long dictId = openDictRaw(s);
            s.getOutputStream().write(frame(request(Ops.D_PUT, 0, dictId, gadgetArgs)));
            assertThat(closedByServer(s)).isTrue();
        }
        serverStillServes(round++);
        assertThat(Gadget.triggered).as("a gadget's readObject ran on the server").isFalse();
        // the client refuses to send one at the call, before anything is sent
        ConcurrentMap<String, Object> d = bystander.dict("orders");
        assertThatThrownBy(() -> d.put("k", new ArrayList<>(List.of(new Gadget())))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Gadget.class.getName());
        // data: an application record travels in the built-in format (its canonical constructor runs, no readObject)
        d.put("order", new Order("a", 1));
        assertThat(d.get("order")).isEqualTo(new Order("a", 1));
        serverStillServes(round);
    }

    @Test
    void aTravellingProxyInsideARequestIsRefusedAndUnknownTokensFindNothing() throws IOException {
        BufferSink handle = new BufferSink(128);
        // a hostile client's codec: the wire's own refuses to write a handle (decision 184)
        io.multiproc.codec.BuiltinCodec.builder().maxDepth(64).build()
                .encode(new ArrayList<>(java.util.Arrays.asList("k", bystander.list())), handle);
        try (Socket s = authenticated()) {
            long dictId = openDictRaw(s);
            // a handle would make the server connect somewhere: refused while decoding, connection closed
            s.getOutputStream().write(frame(request(Ops.D_PUT, 0, dictId, handle.toByteArray())));
            assertThat(closedByServer(s)).isTrue();
        }
        serverStillServes(0);
        try (Socket s = authenticated()) {
            BufferSink args = new BufferSink(64);
            ManagerServer.CODEC.encode(new ArrayList<>(java.util.Arrays.asList(12345L, RemoteRef.KIND_LIST)), args);
            s.getOutputStream().write(frame(request(Ops.IMPORT, 0, 0, args.toByteArray())));
            byte[] reply = Wire.readFrame(new DataInputStream(s.getInputStream()), Wire.MAX_FRAME);
            assertThat(reply[0]).isEqualTo(Wire.FAILED);   // a stale token: an error reply, the connection stays
            BufferSink none = new BufferSink(8);
            ManagerServer.CODEC.encode(new ArrayList<>(), none);
            s.getOutputStream().write(frame(request(Ops.EXPORT, 0, 0, none.toByteArray())));
            assertThat(closedByServer(s)).isTrue();        // the manager itself is not exported
        }
        serverStillServes(1);
    }

    /**
     * A handle of a shared object of the server's host (here a SharedLong) inside a request: decoding it
     * attached the server to that segment (any segment, a pipe end, another manager's containers, a Redis
     * server named in a Redis handle). Refused before anything is attached; the client refuses to send one.
     */
    @Test
    void aSharedObjectsHandleInsideARequestIsRefusedBeforeTheServerAttachesIt() throws IOException {
        try (io.multiproc.shared.SharedLong secret = io.multiproc.shared.SharedLong.create(42)) {
            BufferSink args = new BufferSink(128);
            io.multiproc.codec.BuiltinCodec.builder().maxDepth(64).build()
                    .encode(new ArrayList<>(java.util.Arrays.asList("k", secret)), args);
            try (Socket s = authenticated()) {
                long dictId = openDictRaw(s);
                s.getOutputStream().write(frame(request(Ops.D_PUT, 0, dictId, args.toByteArray())));
                assertThat(closedByServer(s)).isTrue();
            }
            serverStillServes(0);
            assertThat(local.<String, Object>dict("gadgets")).doesNotContainKey("k");
            ConcurrentMap<String, Object> d = bystander.dict("hostile");
            assertThatThrownBy(() -> d.put("k", secret)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("shared object");
            assertThat(d).doesNotContainKey("k");
            assertThat(secret.get()).isEqualTo(42);
        }
    }

    private static byte[] encoded(Object... values) {
        BufferSink args = new BufferSink(64);
        ManagerServer.CODEC.encode(new ArrayList<>(java.util.Arrays.asList(values)), args);
        return args.toByteArray();
    }

    @Test
    void malformedReleasesCloseOnlyTheirConnection() throws IOException {
        int round = 0;
        // each on a fresh connection that was handed one dict, once: its id and a count of 1
        List<java.util.function.LongFunction<byte[]>> malformed = List.of(
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded()),                    // no pairs
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded(id)),                  // half a pair
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded(id, 0L)),              // count 0
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded(id, -1L)),             // negative
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded(id, 2L)),              // more than handed out
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded(id, 1L, id, 1L)),      // twice
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded(99L, 1L)),             // never given
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded(0L, 1L)),              // the manager
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded((int) id, 1L)),        // an int id
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded("x", 1L)),             // not a number
                id -> request(Ops.RELEASE, 0, 0, encoded(id, 1L)),                                // waits for a reply
                id -> request(Ops.RELEASE, Wire.FLAG_PIPELINED, id, encoded(id, 1L)));            // sent to the dict
        for (java.util.function.LongFunction<byte[]> body : malformed) {
            try (Socket s = authenticated()) {
                long id = openDictRaw(s);
                s.getOutputStream().write(frame(body.apply(id)));
                assertThat(closedByServer(s)).as("malformed release %d", round).isTrue();
            }
            serverStillServes(round++);
        }
        // a well-formed release gets no reply and leaves the connection usable; the released id is then unknown
        try (Socket s = authenticated()) {
            long id = openDictRaw(s);
            s.getOutputStream().write(frame(request(Ops.RELEASE, Wire.FLAG_PIPELINED, 0, encoded(id, 1L))));
            s.getOutputStream().write(frame(request(Ops.SYNC, 0, 0, encoded())));
            byte[] reply = Wire.readFrame(new DataInputStream(s.getInputStream()), Wire.MAX_FRAME);
            assertThat(reply[0]).isEqualTo(Wire.OK);
            assertThat(openDictRaw(s)).as("a container handed out again gets a new id").isNotEqualTo(id);
            s.getOutputStream().write(frame(request(Ops.SIZE, 0, id, encoded())));
            assertThat(closedByServer(s)).as("a request naming a released id").isTrue();
        }
        serverStillServes(round);
    }

    /** Opens dict "gadgets" over a raw authenticated connection; its id there. */
    private static long openDictRaw(Socket s) throws IOException {
        BufferSink args = new BufferSink(64);
        ManagerServer.CODEC.encode(new ArrayList<>(java.util.Arrays.asList(RemoteRef.KIND_DICT, "gadgets", null)), args);
        s.getOutputStream().write(frame(request(Ops.OPEN, 0, 0, args.toByteArray())));
        byte[] reply = Wire.readFrame(new DataInputStream(s.getInputStream()), Wire.MAX_FRAME);
        assertThat(reply[0]).isEqualTo(Wire.OK);
        Object ref = ManagerServer.CODEC.decode(io.multiproc.codec.SegmentSource.of(java.util.Arrays.copyOfRange(reply, 1, reply.length)));
        assertThat(ref).isInstanceOf(RemoteRef.class);
        return ((RemoteRef) ref).id();
    }

    @Test
    void aClientKilledInTheMiddleOfRequestsLeavesTheServerServing() throws Exception {
        String host = server.address().getHostString();
        int port = server.address().getPort();
        ChildProcess child = ChildProcess.start(() -> {
            try {
                InetSocketAddress at = new InetSocketAddress(host, port);
                // one connection stops in the middle of a frame
                Socket s = new Socket();
                s.connect(at, 5_000);
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                Wire.clientHandshake(new DataInputStream(s.getInputStream()), out, KEY, "child");
                out.writeInt(1_000);
                out.write(new byte[500]);
                out.flush();
                // another streams batches until it is killed
                Manager m = Manager.connect(at, KEY);
                ConcurrentMap<Integer, Integer> d = m.dict("killed");
                Map<Integer, Integer> batch = new HashMap<>();
                for (int i = 0; i < 1_000; i++) {
                    batch.put(i, i);
                }
                while (true) {
                    d.putAll(batch);
                    d.size();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            Children.awaitUntil("the child streams batches", () -> local.dict("killed").size() == 1_000);
            child.kill();
            assertThat(child.join(Children.TIMEOUT)).isTrue();
            for (int round = 0; round < 3; round++) {
                serverStillServes(round);
            }
        } finally {
            Children.reap(child);
        }
    }

    @Test
    void callsFailPromptlyWhenTheServerIsGone() {
        List<Integer> ls = bystander.list("gone");
        ls.add(1);
        server.close();
        long start = System.nanoTime();
        assertThatThrownBy(ls::size).isInstanceOf(UncheckedIOException.class).hasMessageContaining("connection lost");
        assertThatThrownBy(ls::size).isInstanceOf(IllegalStateException.class).hasMessageContaining("broken");
        assertThat(System.nanoTime() - start).isLessThan(5_000_000_000L);
    }
}
