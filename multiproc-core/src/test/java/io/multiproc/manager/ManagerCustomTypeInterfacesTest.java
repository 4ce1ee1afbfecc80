package io.multiproc.manager;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A custom type whose interface is package-private, as a program's own {@code interface Tally} beside its
 * classes usually is: in a package other than multiproc's, so that access checks apply as in a program.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerCustomTypeInterfacesTest {
    private final Manager m = Manager.start();

    @AfterEach
    void close() {
        m.close();
    }

    interface Tally {
        int add(int n);

        default int addTwice(int n) {
            add(n);
            return add(n);
        }
    }

    static final class TallyImpl implements Tally {
        private final AtomicInteger n = new AtomicInteger();

        @Override
        public int add(int k) {
            return n.addAndGet(k);
        }
    }

    @Test
    void aPackagePrivateInterfaceIsCalledInTheServer() {
        m.register("tally", TallyImpl::new, Tally.class);
        Tally t = m.create("tally");
        assertThat(t.add(2)).isEqualTo(2);
        assertThat(t.add(3)).isEqualTo(5);
    }

    @Test
    void aPackagePrivateInterfacesDefaultMethodRunsHere() {
        m.register("tally", TallyImpl::new, Tally.class);
        Tally t = m.create("tally");
        assertThat(t.addTwice(3)).isEqualTo(6);
    }
}
