/**
 * What a start-up has opened so far, to be closed in reverse order: by `stop()` once running,
 * or at once when a later step of the start-up fails, so a failed start leaves nothing open.
 */
export class Closers {
  readonly #steps: (() => unknown)[] = [];

  add(close: () => unknown): void {
    this.#steps.push(close);
  }

  /** Closes everything added, last first; each step runs once, even if called again. */
  async closeAll(): Promise<void> {
    for (const close of this.#steps.splice(0).reverse()) await close();
  }
}
