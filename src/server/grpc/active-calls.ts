/**
 * The calls in progress, so a shutdown can end the long ones (relay and watch streams) instead
 * of waiting for them: each call registers its AbortController and removes it when done.
 */
export class ActiveCalls {
  readonly #calls = new Set<AbortController>();
  #closing: string | undefined;

  /** A controller for a new call; already aborted when the service is shutting down. */
  open(): AbortController {
    const controller = new AbortController();
    if (this.#closing !== undefined) controller.abort(new ShuttingDown(this.#closing));
    this.#calls.add(controller);
    return controller;
  }

  close(controller: AbortController): void {
    this.#calls.delete(controller);
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Aborts every call in progress and every later one. */
  abortAll(reason: string): void {
    this.#closing = reason;
    for (const c of this.#calls) c.abort(new ShuttingDown(reason));
  }
}

/** Why a call was aborted by the service itself: mapped to UNAVAILABLE, so clients retry elsewhere. */
export class ShuttingDown extends Error {
  override readonly name = 'ShuttingDown';
}
