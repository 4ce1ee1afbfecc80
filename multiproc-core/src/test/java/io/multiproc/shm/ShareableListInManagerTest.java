package io.multiproc.shm;

import io.multiproc.manager.Manager;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A ShareableList stored in a manager's container stays the shared list, as a SharedMemory does (and as
 * CPython's manager keeps it: it pickles the list by name): reading the item back attaches to the same
 * segment, so later writes to the list are seen through it. A plain java.util.List becomes a managed
 * copy; a ShareableList is not a plain list.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListInManagerTest {

    @Test
    void aShareableListStoredInAManagedListOrDictIsTheSharedListNotACopy() throws Exception {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, "a"));
             Manager m = Manager.start()) {
            try {
                List<Object> list = m.list();
                Map<String, Object> dict = m.dict();
                list.add(sl);
                dict.put("sl", sl);
                sl.set(0, 99L);
                for (Object back : List.of(list.get(0), dict.get("sl"))) {
                    assertThat(back).isInstanceOf(ShareableList.class);
                    try (ShareableList item = (ShareableList) back) {
                        assertThat(item.name()).isEqualTo(sl.name());
                        assertThat(item.get(0)).as("a write made after it was stored").isEqualTo(99L);
                        item.set(1, "b");
                        assertThat(sl.get(1)).isEqualTo("b");
                    }
                }
            } finally {
                sl.unlink();
            }
        }
    }
}
