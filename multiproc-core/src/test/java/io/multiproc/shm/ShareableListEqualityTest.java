package io.multiproc.shm;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * equals and hashCode of a ShareableList follow what it holds, byte arrays by content as its indexOf,
 * contains and count do: two handles on one list are equal, and hashCode does not change while the
 * list does not.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListEqualityTest {

    @Test
    void twoHandlesOnOneListWithBytesAreEqualAndHashAlike() throws Exception {
        List<Object> items = Arrays.asList(1L, 2.5, true, "abc", new byte[] {1, 2}, null);
        try (ShareableList sl = ShareableList.create(null, items)) {
            try (ShareableList other = ShareableList.attach(sl.name())) {
                assertThat(sl.hashCode()).as("hashCode of an unchanged list, asked twice").isEqualTo(sl.hashCode());
                assertThat(sl.equals(other)).as("a list equals another handle on it").isTrue();
                assertThat(sl.hashCode()).as("equal lists hash alike").isEqualTo(other.hashCode());
                assertThat(sl.contains(new byte[] {1, 2})).isTrue();
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void listsThatDifferInABytesItemAreNotEqual() throws Exception {
        try (ShareableList a = ShareableList.create(null, List.of(new byte[] {1, 2}));
             ShareableList b = ShareableList.create(null, List.of(new byte[] {1, 3}))) {
            try {
                assertThat(a.equals(b)).isFalse();
                assertThat(a.equals(List.of(1L))).isFalse();
            } finally {
                a.unlink();
                b.unlink();
            }
        }
    }
}
