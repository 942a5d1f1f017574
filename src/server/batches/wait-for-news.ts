import type { BatchEvents } from '../batches/batch-events.js';

/**
 * Waits, without polling in a loop, until something may have given an idle station work: any
 * batch or card change in this process (a new batch, a number given back), or `pollMs` passing
 * (another process sharing the journal may have added work), or `signal` aborting (stop).
 * Resolves in every case; leaves no timer or listener behind.
 */
export function idleWait(events: BatchEvents, pollMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, pollMs);
    const unsubscribe = events.subscribe(done);
    signal.addEventListener('abort', done, { once: true });
  });
}
