import type { BatchEvent, BatchEvents } from '../../../../src/server/batches/batch-events.js';

/** Resolves with the first event `accept` takes (events published from now on). */
export function nextEvent(events: BatchEvents, accept: (event: BatchEvent) => boolean): Promise<BatchEvent> {
  return new Promise((resolve) => {
    const unsubscribe = events.subscribe((event) => {
      if (!accept(event)) return;
      unsubscribe();
      resolve(event);
    });
  });
}

/** The batch's completion, as the runner announces it. */
export const completion = (events: BatchEvents, batchId: string) =>
  nextEvent(events, (e) => e.kind === 'batch' && e.batch.id === batchId && e.batch.state === 'completed');
