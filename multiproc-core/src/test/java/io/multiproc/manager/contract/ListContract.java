package io.multiproc.manager.contract;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.NoSuchElementException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@link List} contract as the managers' lists keep it: run against {@link ArrayList} (to check the
 * suite) and against every managed list (local, and later Redis: subclass it from the test-jar).
 * Single process. Iterator removal is left out: managed lists iterate a snapshot.
 */
public abstract class ListContract {
    /** A new empty list. */
    protected abstract List<Object> create();

    /** Releases what {@link #create} needed (a manager); called after each test. */
    protected void dispose() {
    }

    @AfterEach
    final void tearDown() {
        dispose();
    }

    private List<Object> of(Object... items) {
        List<Object> l = create();
        l.addAll(Arrays.asList(items));
        return l;
    }

    @Test
    public void startsEmptyAndGrowsByAdd() {
        List<Object> l = create();
        assertThat(l.isEmpty()).isTrue();
        assertThat(l.add("a")).isTrue();
        assertThat(l.add(2)).isTrue();
        assertThat(l.size()).isEqualTo(2);
        assertThat(l.get(0)).isEqualTo("a");
        assertThat(l.get(1)).isEqualTo(2);
    }

    @Test
    public void keepsManyElementsInOrder() {
        List<Object> l = create();
        for (int i = 0; i < 1000; i++) {
            l.add(i);
        }
        assertThat(l).hasSize(1000);
        for (int i = 0; i < 1000; i++) {
            assertThat(l.get(i)).isEqualTo(i);
        }
    }

    @Test
    public void storesNullAndMixedTypes() {
        List<Object> l = of(null, 1L, 2.5, "s", true, List.of(1, 2), new byte[0].length);
        assertThat(l.get(0)).isNull();
        assertThat(l.get(1)).isEqualTo(1L);
        assertThat(l.get(2)).isEqualTo(2.5);
        assertThat(l.get(5)).isEqualTo(List.of(1, 2));
        assertThat(l.contains(null)).isTrue();
    }

    @Test
    public void insertsAndRemovesByIndex() {
        List<Object> l = of(1, 2, 3);
        l.add(0, 0);
        l.add(4, 4);
        l.add(2, 15);
        assertThat(l).containsExactly(0, 1, 15, 2, 3, 4);
        assertThat(l.remove(2)).isEqualTo(15);
        assertThat(l.remove(4)).isEqualTo(4);
        assertThat(l.remove(0)).isEqualTo(0);
        assertThat(l).containsExactly(1, 2, 3);
    }

    @Test
    public void setReturnsThePreviousElement() {
        List<Object> l = of("a", "b");
        assertThat(l.set(1, "c")).isEqualTo("b");
        assertThat(l).containsExactly("a", "c");
    }

    @Test
    public void removesByValueTheFirstEqualElement() {
        List<Object> l = of("a", "b", "a");
        assertThat(l.remove("a")).isTrue();
        assertThat(l).containsExactly("b", "a");
        assertThat(l.remove("zz")).isFalse();
    }

    @Test
    public void searches() {
        List<Object> l = of("a", "b", "a");
        assertThat(l.indexOf("a")).isEqualTo(0);
        assertThat(l.lastIndexOf("a")).isEqualTo(2);
        assertThat(l.indexOf("z")).isEqualTo(-1);
        assertThat(l.contains("b")).isTrue();
        assertThat(l.containsAll(List.of("a", "b"))).isTrue();
    }

    @Test
    public void indexesOutsideTheListThrowIndexOutOfBounds() {
        List<Object> l = of(1);
        assertThatThrownBy(() -> l.get(1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.get(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.set(5, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.add(3, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.remove(1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(l).containsExactly(1);
    }

    @Test
    public void insertingAtIndexMinusOneThrowsInsteadOfAppending() {
        List<Object> l = of(1);
        assertThatThrownBy(() -> l.add(-1, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.addAll(-1, List.of(2, 3))).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(l).containsExactly(1);
    }

    @Test
    public void emptyListHasNoFirstElement() {
        List<Object> l = create();
        assertThatThrownBy(l::getFirst).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(() -> l.iterator().next()).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    public void sortingIncomparableElementsThrowsClassCast() {
        List<Object> l = of(1, "a");
        assertThatThrownBy(() -> l.sort(null)).isInstanceOf(ClassCastException.class);
    }

    @Test
    public void naturalSortOfANullAfterANestedListThrowsNullPointerAsArrayListDoes() {
        List<Object> l = of(List.of(1), null);
        assertThatThrownBy(() -> l.sort(null)).isInstanceOf(NullPointerException.class);
        assertThat(l).containsExactly(List.of(1), null);
    }

    @Test
    public void nullFunctionsThrowNullPointer() {
        List<Object> l = of(1);
        assertThatThrownBy(() -> l.removeIf(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> l.replaceAll(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    public void bulkOperations() {
        List<Object> l = of(5, 1, 4, 2, 3);
        l.sort(Comparator.comparingInt(o -> (Integer) o));
        assertThat(l).containsExactly(1, 2, 3, 4, 5);
        l.replaceAll(o -> (Integer) o * 10);
        assertThat(l).containsExactly(10, 20, 30, 40, 50);
        assertThat(l.removeIf(o -> (Integer) o > 30)).isTrue();
        assertThat(l.removeIf(o -> false)).isFalse();
        assertThat(l).containsExactly(10, 20, 30);
        l.addAll(1, List.of(11, 12));
        assertThat(l).containsExactly(10, 11, 12, 20, 30);
        l.removeAll(List.of(11, 30));
        assertThat(l).containsExactly(10, 12, 20);
        l.retainAll(List.of(12, 20, 99));
        assertThat(l).containsExactly(12, 20);
        l.clear();
        assertThat(l).isEmpty();
    }

    @Test
    public void subListClearRemovesTheRange() {
        List<Object> l = of(0, 1, 2, 3, 4);
        l.subList(1, 3).clear();
        assertThat(l).containsExactly(0, 3, 4);
        assertThat(l.subList(1, 3)).containsExactly(3, 4);
    }

    @Test
    public void sortingASublistKeepsTheNestedListsItMoves() {
        List<Object> l = of(0, List.of(2), "a", 1);
        l.subList(1, 4).sort(Comparator.comparing(String::valueOf)); // "1" < "[2]" < "a"
        assertThat(l).containsExactly(0, 1, List.of(2), "a");
    }

    @Test
    public void iteratesInOrder() {
        List<Object> l = of(1, 2, 3);
        List<Object> seen = new ArrayList<>();
        for (Object o : l) {
            seen.add(o);
        }
        assertThat(seen).containsExactly(1, 2, 3);
        ListIterator<Object> it = l.listIterator(3);
        assertThat(it.previous()).isEqualTo(3);
        assertThat(it.previousIndex()).isEqualTo(1);
        Iterator<Object> done = l.iterator();
        done.next();
        done.next();
        done.next();
        assertThat(done.hasNext()).isFalse();
    }

    @Test
    public void aListIteratorsFailedNextLeavesNoElementToRemoveOrSet() {
        List<Object> l = of(1, 2);
        ListIterator<Object> it = l.listIterator(2);
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
        l.add(3); // as another process's append: a snapshot iterator does not see it
        // IllegalStateException where iterators write (as ArrayList's), UnsupportedOperationException where not
        assertThatThrownBy(it::remove).isInstanceOfAny(IllegalStateException.class, UnsupportedOperationException.class);
        assertThatThrownBy(() -> it.set(0)).isInstanceOfAny(IllegalStateException.class, UnsupportedOperationException.class);
        assertThat(l).containsExactly(1, 2, 3);
    }

    @Test
    public void equalsHashCodeToStringAreAList() {
        List<Object> l = of(1, "two", 3.0);
        List<Object> plain = new ArrayList<>(List.of(1, "two", 3.0));
        assertThat(l).isEqualTo(plain);
        assertThat(plain).isEqualTo(l);
        assertThat(l.hashCode()).isEqualTo(plain.hashCode());
        assertThat(l.toString()).isEqualTo("[1, two, 3.0]");
        assertThat(l.toArray()).containsExactly(1, "two", 3.0);
        assertThat(l.toArray(new Object[0])).containsExactly(1, "two", 3.0);
    }
}
