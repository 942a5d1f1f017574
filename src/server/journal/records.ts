/**
 * The journal's records as the service sees them (rows mapped to typed objects). Times are
 * ISO 8601 strings (UTC, milliseconds); UIDs are upper-case hex; card numbers are bigints
 * (1..2^64-1, as in the credential TLV), stored as decimal text.
 */

/** A card's lifecycle: `pending` (number reserved, not yet on a card or not started) ->
 * `encoding` -> `encoded`; `failed` (stopped part-way: resumable when the card comes back);
 * `refused` (the card was refused before anything was written: its number is free again). */
export const CARD_STATES = ['pending', 'encoding', 'encoded', 'failed', 'refused'] as const;
export type CardState = (typeof CARD_STATES)[number];

/** A batch's lifecycle: `created` -> `running` -> `completed` | `cancelled`. */
export const BATCH_STATES = ['created', 'running', 'completed', 'cancelled'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

/** Cards per state; `total` counts every card row of the batch except refused ones. */
export interface CardCounts {
  readonly total: number;
  readonly pending: number;
  readonly encoding: number;
  readonly encoded: number;
  readonly failed: number;
  readonly refused: number;
}

export interface BatchRecord {
  readonly id: string;
  readonly profile: string;
  readonly keySet: string;
  readonly state: BatchState;
  readonly counts: CardCounts;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When it became completed or cancelled. */
  readonly finishedAt: string | undefined;
}

export interface CardRecord {
  /** The journal's own id (a pending batch card has no UID yet). */
  readonly id: number;
  /** Upper-case hex, once a physical card holds this card number. */
  readonly uid: string | undefined;
  readonly cardNumber: bigint;
  readonly profile: string;
  readonly batchId: string | undefined;
  /** The key set and version the card is (being) encoded with, once assigned. */
  readonly keySet: string | undefined;
  readonly keyVersion: number | undefined;
  /** Per-card data from the batch request, as the service serialized it (never key material). */
  readonly data: string | undefined;
  readonly state: CardState;
  /** Why it failed or was refused. */
  readonly detail: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly encodedAt: string | undefined;
}

export interface StepRecord {
  /** Increasing in the order the events were recorded. */
  readonly id: number;
  readonly cardId: number;
  readonly uid: string;
  readonly step: string;
  readonly phase: string;
  readonly detail: string | undefined;
  readonly at: string;
}

/** Who used a key, and for what: the service's view of a key use (ARCHITECTURE.md §6). */
export interface AuditContext {
  /** The client identity (certificate subject, station id, "cli"...). */
  readonly actor: string;
  /** What for: "encode", "authenticate", "verify"... */
  readonly purpose: string;
}

export interface AuditRecord extends AuditContext {
  readonly id: number;
  readonly at: string;
  readonly keySet: string;
  readonly keyVersion: number;
  /** 'picc' or the application key number, as text. */
  readonly keyRef: string;
  readonly aid: number;
  readonly uid: string;
}
