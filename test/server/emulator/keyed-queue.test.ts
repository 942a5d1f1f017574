import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../../src/server/emulator/keyed-queue.js';

/** A promise settled from outside. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedQueue', () => {
  it('runs one key\'s tasks one at a time, in order, and other keys meanwhile', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const hold = gate();
    const a1 = queue.run('a', async () => {
      log.push('a1 start');
      await hold.promise;
      log.push('a1 end');
    });
    const a2 = queue.run('a', async () => log.push('a2'));
    await queue.run('b', async () => log.push('b1'));
    expect(queue.busy('a')).toBe(true);
    hold.open();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
    expect([queue.busy('a'), queue.busy('b')]).toEqual([false, false]);
  });

  it('goes on after a failed task, which rejects its own caller only', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('a', async () => {
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('next');
    expect(queue.busy('a')).toBe(false);
  });
});
