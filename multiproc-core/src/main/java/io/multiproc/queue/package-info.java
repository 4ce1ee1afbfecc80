/**
 * Queues and pipes between processes over shared memory: Python's {@code multiprocessing.Queue},
 * {@code JoinableQueue}, {@code SimpleQueue} and {@code Pipe}.
 *
 * <pre>{@code
 * try (SharedQueue<String> q = SharedQueue.create(100); Pipe pipe = Pipe.open(true)) {
 *     Connection child = pipe.right();
 *     ChildProcess.start(() -> { q.put("from the child"); child.send(42); });
 *     q.take();              // "from the child"
 *     pipe.left().recv();    // 42
 * }
 * }</pre>
 *
 * <table>
 *   <caption>What each type is for</caption>
 *   <tr><th>type</th><th>producers / consumers</th><th>bounded by</th><th>ends when</th></tr>
 *   <tr><td>{@link io.multiproc.queue.SharedQueue}</td><td>many / many, any processes</td>
 *       <td>items and ring bytes (large items spill)</td><td>{@code closeForWriting()}: drained takers get
 *       {@link io.multiproc.queue.EndOfStreamException}; with peer tracking, every peer died:
 *       {@link io.multiproc.queue.PeerDiedException}</td></tr>
 *   <tr><td>{@link io.multiproc.queue.JoinableQueue}</td><td>many / many</td><td>the same</td>
 *       <td>{@code join()} waits for every {@code taskDone()}</td></tr>
 *   <tr><td>{@link io.multiproc.queue.SimpleQueue}</td><td>many / many</td><td>a 16 MiB ring</td>
 *       <td>{@code closeForWriting()}</td></tr>
 *   <tr><td>{@link io.multiproc.queue.Connection} of a {@link io.multiproc.queue.Pipe}</td>
 *       <td>one end each way, one process per end</td><td>ring bytes per direction</td>
 *       <td>the other end closes, exits or dies: {@code EOFException}</td></tr>
 * </table>
 *
 * <p>Names used in the implementation: <em>ring</em> a power-of-two byte area of records;
 * <em>record</em> one item with an 8-byte header; <em>tail/head word</em> count and byte position of
 * what was written / freed, packed in one long; <em>view</em> a side's cached copy of the other side's
 * word; <em>full position</em> a side's byte position as a 64-bit count that never wraps, stored beside
 * its word, which decides whether a view is still trusted; <em>spill segment</em> the segment of one item too large for its ring; <em>parent hold</em> the
 * registry record that keeps a spill segment while its ring's segment exists; <em>token</em> a
 * process's pid and start time in one long ({@code ProcessIdentity}).
 */
package io.multiproc.queue;
