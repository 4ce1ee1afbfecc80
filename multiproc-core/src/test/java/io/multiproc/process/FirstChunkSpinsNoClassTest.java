package io.multiproc.process;

import io.multiproc.codec.Codec;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A pool worker's first map chunk (decode the packed items, apply, encode the packed results, and the
 * parent's decode of that reply) makes the library define no class at run time: each class a pattern
 * switch spins ({@code $$TypeSwitch}) was built by the interpreter on the first map's critical path, in
 * every worker (the JDK's own, {@code Utils$BaseAndScale}'s, is spun by a worker's pipes at boot, not by
 * its first chunk).
 */
@Timeout(120)
@ExtendWith(ReapChildrenCheckShm.class)
class FirstChunkSpinsNoClassTest {
    static final String MARK = "first-chunk-begins";

    @Test
    void aFreshJvmsFirstChunkOfIntsLongsAndDoublesSpinsNoTypeSwitchClassOfTheLibrary() throws Exception {
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xlog:class+load=info:stdout", "-cp", System.getProperty("java.class.path"),
                FirstChunk.class.getName()).redirectErrorStream(true).start();
        try {
            String output = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(jvm.waitFor(90, TimeUnit.SECONDS)).as("the fresh JVM exits").isTrue();
            assertThat(jvm.exitValue()).as(output).isZero();
            assertThat(output).contains(MARK).contains("first-chunk-ends");
            String chunk = output.substring(output.indexOf(MARK));
            assertThat(chunk.lines().filter(l -> l.contains("$$TypeSwitch") && l.contains("io.multiproc.")).toList())
                    .as("classes spun while the first chunks went through").isEmpty();
        } finally {
            jvm.destroyForcibly();
        }
    }

    /** The fresh JVM: one chunk of each packed kind through the frames a worker and its pool use. */
    static final class FirstChunk {
        public static void main(String[] args) {
            Codec codec = TaskCodec.codec();
            Function<Object, Object> same = x -> x;
            PoolFrames.reply(0, PoolFrames.HELLO, codec, 1L); // as a worker says HELLO with its pid before any task
            System.out.println(MARK);
            System.out.flush();
            for (List<?> items : List.of(List.of(1, 2, 3), List.of(4L, 5L), List.of(6.5, 7.5))) {
                byte[] task = PoolFrames.task(1, PoolFrames.MAP, new byte[0], codec, items);
                Object results = PackedItems.applyPacked(codec, same, PoolFrames.decodeTask(codec, task).payload());
                Object back = PackedItems.unpack(PoolFrames.replyPayload(codec, PoolFrames.reply(1, PoolFrames.OK, codec, results)));
                if (!items.equals(back)) {
                    throw new AssertionError(items + " came back as " + back);
                }
            }
            System.out.println("first-chunk-ends");
        }
    }
}
