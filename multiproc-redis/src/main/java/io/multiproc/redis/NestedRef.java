package io.multiproc.redis;

/**
 * What a container stores in Redis for a nested container: the nested container's kind and key. It never
 * leaves the manager: reading turns it into a live proxy, storing a proxy turns it back into this. Each
 * stored ref counts once in the nested container's reference count (see {@link Nesting}).
 *
 * @param kind one of {@link Kind}'s labels
 * @param key  the nested container's Redis key
 */
record NestedRef(String kind, String key) {
}
