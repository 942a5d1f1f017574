import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../src/server/emulator/lru-cache.js';

function cache(capacity: number, busy: ReadonlySet<string> = new Set()) {
  const evicted: string[] = [];
  const lru = new LruCache<number>(capacity, (key) => !busy.has(key), (key) => evicted.push(key));
  return { lru, evicted };
}

describe('LruCache', () => {
  it('evicts the least recently used entry beyond capacity; get() makes an entry recent, peek() does not', () => {
    const { lru, evicted } = cache(2);
    lru.add('a', 1);
    lru.add('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.add('c', 3);
    expect(evicted).toEqual(['b']);
    expect(lru.peek('a')).toBe(1);
    lru.add('d', 4);
    expect(evicted).toEqual(['b', 'a']);
    expect([lru.peek('c'), lru.peek('d'), lru.size]).toEqual([3, 4, 2]);
  });

  it('keeps entries in use beyond capacity, and evicts the next idle one instead', () => {
    const busy = new Set(['a', 'b']);
    const { lru, evicted } = cache(1, busy);
    lru.add('a', 1);
    lru.add('b', 2);
    expect([evicted, lru.size]).toEqual([[], 2]);
    lru.add('c', 3);
    expect([evicted, lru.size]).toEqual([[], 3]);
    busy.clear();
    lru.add('d', 4);
    expect(evicted).toEqual(['a', 'b', 'c']);
    expect(lru.size).toBe(1);
  });

  it('deletes and clears without eviction callbacks', () => {
    const { lru, evicted } = cache(3);
    lru.add('a', 1);
    lru.add('b', 2);
    expect(lru.delete('a')).toBe(1);
    expect(lru.delete('a')).toBeUndefined();
    expect(lru.clear()).toEqual([2]);
    expect([evicted, lru.size]).toEqual([[], 0]);
  });

  it('refuses a capacity below one', () => {
    expect(() => cache(0)).toThrow(RangeError);
  });
});
