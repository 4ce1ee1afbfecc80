package io.multiproc.process;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The one message a parent sends a child on its control channel (the child's stdin):
 * <pre>
 *  int magic 0x4D505446 ("MPTF") | UTF name | boolean daemon | UTF parent name | boolean parent is a child
 *  | UTF report file | int length | length bytes: the task
 * </pre>
 * The task bytes are the serialized {@link SerializableTask}; the report file is where the child writes
 * its failure, if it has one (see {@link ChildReport}; empty: nowhere). The parent's name and kind are
 * what {@link ChildProcess#parent()} says in the child.
 */
record TaskFrame(String name, boolean daemon, String parentName, boolean parentIsChild, String report, byte[] task) {
    private static final int MAGIC = 0x4D50_5446;

    void write(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeUTF(name);
        out.writeBoolean(daemon);
        out.writeUTF(parentName);
        out.writeBoolean(parentIsChild);
        out.writeUTF(report);
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
        String parentName = in.readUTF();
        boolean parentIsChild = in.readBoolean();
        String report = in.readUTF();
        byte[] task = new byte[in.readInt()];
        in.readFully(task);
        return new TaskFrame(name, daemon, parentName, parentIsChild, report, task);
    }
}
