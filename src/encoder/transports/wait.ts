export interface WaitOptions {
  /** Give up after this many milliseconds (default: wait until aborted). */
  readonly timeoutMs?: number;
  /** Stops the wait: the promise rejects with `signal.reason` (an AbortError unless given another). */
  readonly signal?: AbortSignal;
}

/**
 * Evaluates `check` now and each time `subscribe`'s notifier fires, until it returns a value
 * (resolves with it) or throws (rejects with that). Rejects with `timeout()` after `timeoutMs`,
 * and with the signal's reason when aborted. Leaves no timer or listener behind.
 */
export function waitUntil<T>(
  options: WaitOptions,
  subscribe: (notify: () => void) => () => void,
  check: () => T | undefined,
  timeout: () => Error,
): Promise<T> {
  const { signal, timeoutMs } = options;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: () => void = () => {};
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = () => settle(() => reject(signal!.reason));
    const evaluate = () => {
      if (settled) return;
      let value: T | undefined;
      try {
        value = check();
      } catch (error) {
        settle(() => reject(error));
        return;
      }
      if (value !== undefined) settle(() => resolve(value));
    };
    unsubscribe = subscribe(evaluate);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) timer = setTimeout(() => settle(() => reject(timeout())), Math.max(0, timeoutMs));
    evaluate();
  });
}
