package io.multiproc.internal;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Liveness is judged through this process's /proc, which shows only this pid namespace: a process of
 * another namespace (another container sharing /dev/shm) must never be judged dead, whatever its pid
 * looks like here.
 */
class ProcessIdentityNamespaceTest {
    /** Above Linux's PID_MAX_LIMIT (2^22) - 1: no process here has it. */
    private static final long NO_SUCH_PID = (1L << 22) - 1;
    private static final long OTHER_NAMESPACE = ProcessIdentity.OWN_NAMESPACE + 1;

    @Test
    void thisProcessKnowsItsPidNamespace() {
        assertThat(ProcessIdentity.OWN_NAMESPACE).isPositive();
        assertThat(ProcessIdentity.current().pidNamespace()).isEqualTo(ProcessIdentity.OWN_NAMESPACE);
    }

    @Test
    void aMissingPidOfThisNamespaceIsDead() {
        ProcessIdentity gone = new ProcessIdentity(NO_SUCH_PID, 12345);
        assertThat(gone.isAlive()).isFalse();
        assertThat(ProcessIdentity.isAlive(gone.token())).isFalse();
        assertThat(ProcessIdentity.isAliveRecently(gone.token())).isFalse();
    }

    @Test
    void aProcessOfAnotherNamespaceIsNeverJudgedDead() {
        ProcessIdentity foreign = new ProcessIdentity(NO_SUCH_PID, 12345, OTHER_NAMESPACE);
        assertThat(foreign.isAlive()).as("by its identity").isTrue();
        assertThat(ProcessIdentity.isAlive(foreign.token())).as("by its token").isTrue();
        assertThat(ProcessIdentity.isAliveRecently(foreign.token())).isTrue();

        // its pid 1 is some other process here (init): still not judged by our /proc
        ProcessIdentity foreignInit = new ProcessIdentity(1, 7, OTHER_NAMESPACE);
        assertThat(ProcessIdentity.isAlive(foreignInit.token())).isTrue();
        assertThat(ProcessIdentity.isAlive(new ProcessIdentity(1, 7).token())).as("pid 1 of ours started at another time").isFalse();
    }

    @Test
    void aTokenKeepsPidAndStartTimeAndNeverSetsBit63() {
        ProcessIdentity me = ProcessIdentity.current();
        long token = me.token();
        assertThat(ProcessIdentity.pidOf(token)).isEqualTo(me.pid());
        assertThat(token & 0xffff_ffffL).isEqualTo(me.startTicks() & 0xffff_ffffL);
        assertThat(token).isPositive();
        assertThat(ProcessIdentity.isAlive(token)).isTrue();

        long foreign = new ProcessIdentity(NO_SUCH_PID, 5, OTHER_NAMESPACE).token();
        assertThat(foreign).isPositive();
        assertThat(ProcessIdentity.pidOf(foreign)).isEqualTo(NO_SUCH_PID);
        assertThat(foreign).isNotEqualTo(new ProcessIdentity(NO_SUCH_PID, 5).token());
    }
}
