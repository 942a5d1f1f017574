/** What waiting for the reader host's next message came to. */
export type NextMessage<T> =
  | { readonly kind: 'message'; readonly value: T }
  | { readonly kind: 'end' }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted'; readonly reason: unknown };

/**
 * The next message of `messages`, waiting at most `timeoutMs` and no longer than `signal` allows.
 * Leaves no timer or listener behind. After a timeout or an abort the iterator's pending read is
 * abandoned: the relay is broken by then and never reads again.
 */
export function nextMessage<T>(messages: AsyncIterator<T>, timeoutMs: number, signal: AbortSignal): Promise<NextMessage<T>> {
  if (signal.aborted) return Promise.resolve({ kind: 'aborted', reason: signal.reason });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: NextMessage<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => settle({ kind: 'aborted', reason: signal.reason });
    const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    messages.next().then(
      (result) => settle(result.done ? { kind: 'end' } : { kind: 'message', value: result.value }),
      (error: unknown) => settle({ kind: 'error', error }),
    );
  });
}
