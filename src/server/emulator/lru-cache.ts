/**
 * A bounded map that forgets its least recently used entries beyond `capacity`, except those
 * `evictable` says must stay (in use right now): the map may then hold more until they are done.
 */
export class LruCache<V> {
  readonly #entries = new Map<string, V>();

  constructor(
    private readonly capacity: number,
    private readonly evictable: (key: string) => boolean,
    private readonly onEvict: (key: string, value: V) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry, now the most recently used. */
  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  /** The entry, its place in the order untouched. */
  peek(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Adds an entry as the most recently used, then evicts beyond capacity (never this one). */
  add(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    for (const [k, v] of this.#entries) {
      if (this.#entries.size <= this.capacity) break;
      if (k === key || !this.evictable(k)) continue;
      this.#entries.delete(k);
      this.onEvict(k, v);
    }
  }

  delete(key: string): V | undefined {
    const value = this.#entries.get(key);
    this.#entries.delete(key);
    return value;
  }

  /** Removes every entry (no eviction callbacks). */
  clear(): V[] {
    const values = [...this.#entries.values()];
    this.#entries.clear();
    return values;
  }
}
