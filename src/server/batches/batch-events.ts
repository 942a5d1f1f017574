import type { BatchRecord, CardRecord } from '../journal/records.js';

/** A change the service made to a batch or one of its cards. */
export type BatchEvent =
  /** A card changed state (claimed onto a station, encoded, failed, refused), on `stationId`. */
  | { readonly kind: 'card'; readonly card: CardRecord; readonly stationId: string }
  /** A batch was created, completed or cancelled. */
  | { readonly kind: 'batch'; readonly batch: BatchRecord };

export type BatchListener = (event: BatchEvent) => void;

/**
 * In-process news of batch and card changes, for WatchBatch, the station registry and idle
 * stations. It is only a shortcut: the journal is the truth (another process sharing it makes
 * changes this one never hears of), so listeners that must not miss a change also poll it.
 * Listeners run synchronously inside `publish` and must not throw.
 */
export class BatchEvents {
  readonly #listeners = new Set<BatchListener>();

  /** Calls `listener` for every later event until the returned function is called. */
  subscribe(listener: BatchListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(event: BatchEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}
