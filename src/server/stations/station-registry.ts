import type { BatchEvents } from '../batches/batch-events.js';

export type StationKind = 'emulated' | 'pcsc' | 'remote';

export interface StationInfo {
  readonly id: string;
  readonly kind: StationKind;
  /** What it is doing ("idle", "encoding card 1234 of batch ..."). */
  readonly activity: string;
  /** Cards it encoded since the service started. */
  readonly cardsEncoded: number;
  readonly lastSeen: Date;
}

/**
 * The stations this service runs or has seen: its emulated and PC/SC stations report themselves,
 * remote station agents are seen when they relay a card. Card progress comes from the batch
 * events (`follow`), so every station kind is counted the same way. In memory: it describes this
 * process's stations, and starts empty with it.
 */
export class StationRegistry {
  readonly #stations = new Map<string, StationInfo>();
  readonly #now: () => Date;

  constructor(options: { readonly now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** The station is alive and doing `activity` (registered on first sight). */
  seen(id: string, kind: StationKind, activity: string): void {
    const known = this.#stations.get(id);
    this.#stations.set(id, { id, kind, activity, cardsEncoded: known?.cardsEncoded ?? 0, lastSeen: this.#now() });
  }

  /**
   * Follows card changes: the station working a card is seen doing it, and counted when the
   * card becomes encoded. A station first seen this way is a remote one (the service's own
   * stations register when they start). Returns the unsubscribe function.
   */
  follow(events: BatchEvents): () => void {
    return events.subscribe((event) => {
      if (event.kind !== 'card') return;
      const { card, stationId } = event;
      const known = this.#stations.get(stationId);
      const what = `card ${card.cardNumber} of batch ${card.batchId ?? '-'}`;
      const activity = card.state === 'encoding' ? `encoding ${what}` : `${what} ${card.state}${card.detail ? `: ${card.detail}` : ''}`;
      this.#stations.set(stationId, {
        id: stationId,
        kind: known?.kind ?? 'remote',
        activity,
        cardsEncoded: (known?.cardsEncoded ?? 0) + (card.state === 'encoded' ? 1 : 0),
        lastSeen: this.#now(),
      });
    });
  }

  get(id: string): StationInfo | undefined {
    return this.#stations.get(id);
  }

  /** In name order. */
  list(): StationInfo[] {
    return [...this.#stations.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
