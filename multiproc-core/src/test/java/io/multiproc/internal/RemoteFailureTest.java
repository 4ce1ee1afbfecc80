package io.multiproc.internal;

import io.multiproc.RemoteException;
import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;

import static org.assertj.core.api.Assertions.assertThat;

class RemoteFailureTest {

    static final class NotPublicException extends RuntimeException {
        NotPublicException(String m) {
            super(m);
        }
    }

    private static RemoteFailure throughCodec(RemoteFailure f) {
        BufferSink out = new BufferSink(256);
        Codec.defaultCodec().encode(f, out);
        return (RemoteFailure) Codec.defaultCodec().decode(SegmentSource.of(out.toByteArray()));
    }

    @Test
    void aJdkExceptionComesBackWithItsOwnTypeMessageAndRemoteTrace() {
        IllegalStateException original = new IllegalStateException("bad state");
        Throwable back = throughCodec(RemoteFailure.of(original)).toThrowable(RemoteFailure.ANY_CLASS);
        assertThat(back).isExactlyInstanceOf(IllegalStateException.class).hasMessage("bad state");
        assertThat(back.getStackTrace()).extracting(e -> e.getClassName() + "." + e.getMethodName() + ":" + e.getLineNumber())
                .containsExactly(java.util.Arrays.stream(original.getStackTrace())
                        .map(e -> e.getClassName() + "." + e.getMethodName() + ":" + e.getLineNumber()).toArray(String[]::new));
    }

    @Test
    void causesAndSuppressedAreKept() {
        Exception original = new UncheckedIOException("outer", new java.io.IOException("inner"));
        original.addSuppressed(new ArithmeticException("also"));
        Throwable back = throughCodec(RemoteFailure.of(original)).toThrowable(RemoteFailure.ANY_CLASS);
        assertThat(back).isExactlyInstanceOf(UncheckedIOException.class).hasMessage("outer");
        assertThat(back.getCause()).isExactlyInstanceOf(java.io.IOException.class).hasMessage("inner");
        assertThat(back.getSuppressed()).singleElement().isInstanceOf(ArithmeticException.class);
    }

    @Test
    void aClassThatCannotBeRecreatedBecomesRemoteExceptionNamingIt() {
        Throwable back = RemoteFailure.of(new NotPublicException("hidden")).toThrowable(RemoteFailure.ANY_CLASS);
        assertThat(back).isExactlyInstanceOf(RemoteException.class);
        RemoteException r = (RemoteException) back;
        assertThat(r.remoteClassName()).isEqualTo(NotPublicException.class.getName());
        assertThat(r.remoteMessage()).isEqualTo("hidden");
        assertThat(r.getStackTrace()).isNotEmpty();
    }

    @Test
    void aLessTrustedPeerGetsOnlyContractExceptionsRecreated() {
        RemoteFailure f = RemoteFailure.of(new java.util.concurrent.TimeoutException("slow"));
        assertThat(f.toThrowable(RemoteFailure.JDK_CONTRACT)).isExactlyInstanceOf(RemoteException.class);
        assertThat(RemoteFailure.of(new IndexOutOfBoundsException("i=3")).toThrowable(RemoteFailure.JDK_CONTRACT))
                .isExactlyInstanceOf(IndexOutOfBoundsException.class).hasMessage("i=3");
    }

    @Test
    void aHugeMessageAndADeepChainAreBounded() {
        Throwable t = new RuntimeException("x".repeat(RemoteFailure.MAX_MESSAGE * 2));
        for (int i = 0; i < 100; i++) {
            t = new RuntimeException("level " + i, t);
        }
        RemoteFailure f = RemoteFailure.of(t);
        int depth = 0;
        for (RemoteFailure c = f; c != null; c = c.cause()) {
            depth++;
            assertThat(c.message().length()).isLessThan(RemoteFailure.MAX_MESSAGE + 100);
        }
        assertThat(depth).isEqualTo(RemoteFailure.MAX_DEPTH);
    }
}
