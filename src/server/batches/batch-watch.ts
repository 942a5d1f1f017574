import type { Journal } from '../journal/index.js';
import type { BatchRecord, CardRecord } from '../journal/records.js';
import type { BatchEvent, BatchEvents } from './batch-events.js';
import { waitForNews } from './wait-for-news.js';

/** One step of a batch's progress: the batch now, and the card whose change it follows (none for the first or a batch-only change). */
export interface BatchProgress {
  readonly batch: BatchRecord;
  readonly card?: CardRecord;
}

export interface WatchOptions {
  /** Ends the watch (the client went away, the service is stopping). */
  readonly signal: AbortSignal;
  /** How often the journal is read for changes made elsewhere (default 1000 ms). */
  readonly pollMs?: number;
}

const finished = (batch: BatchRecord): boolean => batch.state === 'completed' || batch.state === 'cancelled';

const sameProgress = (a: BatchRecord, b: BatchRecord): boolean => a.state === b.state && JSON.stringify(a.counts) === JSON.stringify(b.counts);

/**
 * A batch's progress: the batch as it is, then one step per card change this process makes
 * (with the batch's counts after it), until the batch is completed or cancelled or `signal`
 * aborts. Another process sharing the journal (a replica, a second service) changes cards this
 * one never hears of, so the journal is also read every `pollMs`, and a batch that changed
 * meanwhile is a step without a card. UNKNOWN_BATCH when the batch does not exist.
 */
export async function* watchBatch(journal: Journal, events: BatchEvents, batchId: string, options: WatchOptions): AsyncGenerator<BatchProgress> {
  const { signal, pollMs = 1000 } = options;
  const ours = (event: BatchEvent): boolean => (event.kind === 'card' ? event.card.batchId === batchId : event.batch.id === batchId);
  // Changes queue up while a step is being sent: a card change, or undefined for a batch change.
  const changes: (CardRecord | undefined)[] = [];
  const unsubscribe = events.subscribe((event) => {
    if (ours(event)) changes.push(event.kind === 'card' ? event.card : undefined);
  });
  try {
    let last = journal.getBatch(batchId);
    yield { batch: last };
    while (!finished(last) && !signal.aborted) {
      if (changes.length === 0) await waitForNews(events, pollMs, signal, ours);
      if (signal.aborted) return;
      const cards = changes.splice(0).filter((c): c is CardRecord => c !== undefined);
      if (cards.length === 0) {
        const now = journal.getBatch(batchId);
        if (sameProgress(now, last)) continue;
        last = now;
        yield { batch: now };
        continue;
      }
      // Every queued change is sent, even once the batch has finished meanwhile: the loop's
      // condition ends the watch after the last of them.
      for (const card of cards) {
        last = journal.getBatch(batchId);
        yield { batch: last, card };
      }
    }
  } finally {
    unsubscribe();
  }
}
