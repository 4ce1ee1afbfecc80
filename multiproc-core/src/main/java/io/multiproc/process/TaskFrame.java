package io.multiproc.process;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The one message a parent sends a child on its control channel (the child's stdin):
 * <pre>
 *  int magic 0x4D505446 ("MPTF") | UTF name | boolean daemon | int length | length bytes: the task
 * </pre>
 * The task bytes are the serialized {@link SerializableRunnable}.
 */
record TaskFrame(String name, boolean daemon, byte[] task) {
    private static final int MAGIC = 0x4D50_5446;

    void write(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeUTF(name);
        out.writeBoolean(daemon);
        out.writeInt(task.length);
        out.write(task);
        out.flush();
    }

    static TaskFrame read(DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IOException("control channel: magic=0x" + Integer.toHexString(magic) + " is not a task frame");
        }
        String name = in.readUTF();
        boolean daemon = in.readBoolean();
        byte[] task = new byte[in.readInt()];
        in.readFully(task);
        return new TaskFrame(name, daemon, task);
    }
}
