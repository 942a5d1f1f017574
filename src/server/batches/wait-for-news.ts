import type { BatchEvent, BatchEvents } from './batch-events.js';

/**
 * Waits, without polling in a loop, for news: the next event `accept` takes (by default any: a
 * new batch, a number given back), or `pollMs` passing (another process sharing the journal may
 * have changed it), or `signal` aborting. Resolves in every case; leaves no timer or listener
 * behind.
 */
export function waitForNews(events: BatchEvents, pollMs: number, signal: AbortSignal, accept: (event: BatchEvent) => boolean = () => true): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, pollMs);
    const unsubscribe = events.subscribe((event) => {
      if (accept(event)) done();
    });
    signal.addEventListener('abort', done, { once: true });
  });
}
