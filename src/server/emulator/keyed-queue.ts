/**
 * Runs tasks one at a time per key, in arrival order; tasks of different keys run concurrently.
 * A failed task does not stop the ones queued behind it.
 */
export class KeyedQueue {
  readonly #queues = new Map<string, { tail: Promise<unknown>; pending: number }>();

  /** True while a task of `key` is queued or running. */
  busy(key: string): boolean {
    return this.#queues.has(key);
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), pending: 0 };
      this.#queues.set(key, queue);
    }
    const q = queue;
    q.pending++;
    const result = q.tail.then(task);
    q.tail = result.catch(() => undefined);
    return result.finally(() => {
      if (--q.pending === 0) this.#queues.delete(key);
    });
  }
}
