/** An in-memory message queue read as an async iterator: the two directions of a relay stream without gRPC. */
export class Channel<T> implements AsyncIterable<T> {
  readonly #queued: T[] = [];
  readonly #waiting: ((result: IteratorResult<T>) => void)[] = [];
  #ended = false;

  push(value: T): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value, done: false });
    else this.#queued.push(value);
  }

  end(): void {
    this.#ended = true;
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.#queued.length > 0) return Promise.resolve({ value: this.#queued.shift() as T, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiting.push(resolve));
      },
    };
  }

  /** The next value pushed (for a test playing one end). */
  async next(): Promise<T> {
    const result = await this[Symbol.asyncIterator]().next();
    if (result.done) throw new Error('the channel ended');
    return result.value;
  }
}
