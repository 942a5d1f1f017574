import { randomUUID } from 'node:crypto';
import { toCardRecord, type CardRow } from './cards.js';
import { isoNow, type JournalContext } from './context.js';
import { fromSqliteError, JournalError } from './errors.js';
import type { BatchRecord, BatchState, CardCounts, CardRecord } from './records.js';
import { cardNumberText, keyVersionValue, nonEmpty, uidText } from './values.js';

export interface BatchCardInput {
  readonly cardNumber: bigint;
  /** Per-card data as the service serializes it (holder name, validity...); never key material. */
  readonly data?: string;
}

export interface CreateBatchInput {
  readonly profile: string;
  readonly keySet: string;
  readonly cards: readonly BatchCardInput[];
  /** Default: a random UUID. */
  readonly id?: string;
}

interface BatchRow {
  id: string;
  profile: string;
  key_set: string;
  state: BatchState;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/**
 * A batch and one pending card per card number, in one transaction: all or nothing.
 * CARD_NUMBER_TAKEN when a number is already held in the profile (or given twice).
 */
export function createBatch(ctx: JournalContext, input: CreateBatchInput): BatchRecord {
  const profile = nonEmpty(input.profile, 'profile');
  const keySet = nonEmpty(input.keySet, 'key set');
  const id = input.id === undefined ? randomUUID() : nonEmpty(input.id, 'batch id');
  const numbers = input.cards.map((c) => cardNumberText(c.cardNumber));
  const at = isoNow(ctx);
  const insertCard = ctx.db.prepare(
    `INSERT INTO cards (card_number, profile, batch_id, data, state, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
  );
  ctx.db.transaction(() => {
    try {
      ctx.db
        .prepare(`INSERT INTO batches (id, profile, key_set, state, created_at, updated_at) VALUES (?, ?, ?, 'created', ?, ?)`)
        .run(id, profile, keySet, at, at);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new JournalError('BATCH_EXISTS', `batch ${id} exists already`, { cause: e });
      throw e;
    }
    input.cards.forEach((card, i) => {
      try {
        insertCard.run(numbers[i], profile, id, card.data ?? null, at, at);
      } catch (e) {
        throw fromSqliteError(e, { cardNumber: numbers[i], profile });
      }
    });
  }).immediate();
  return getBatch(ctx, id);
}

export function getBatch(ctx: JournalContext, id: string): BatchRecord {
  const row = ctx.db.prepare('SELECT * FROM batches WHERE id = ?').get(id) as BatchRow | undefined;
  if (!row) throw new JournalError('UNKNOWN_BATCH', `no batch ${id}`);
  return {
    id: row.id,
    profile: row.profile,
    keySet: row.key_set,
    state: row.state,
    counts: batchCounts(ctx, id),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at ?? undefined,
  };
}

/** A batch's state alone (no counts: they read every card of the batch); UNKNOWN_BATCH when absent. */
export function batchState(ctx: JournalContext, id: string): BatchState {
  const state = ctx.db.prepare('SELECT state FROM batches WHERE id = ?').pluck().get(id) as BatchState | undefined;
  if (state === undefined) throw new JournalError('UNKNOWN_BATCH', `no batch ${id}`);
  return state;
}

/** Cards of a batch per state (progress); `total` is the number of card numbers (refused rows excluded). */
export function batchCounts(ctx: JournalContext, id: string): CardCounts {
  const rows = ctx.db
    .prepare('SELECT state, count(*) AS n FROM cards WHERE batch_id = ? GROUP BY state')
    .all(id) as { state: keyof CardCounts; n: number }[];
  const counts = { total: 0, pending: 0, encoding: 0, encoded: 0, failed: 0, refused: 0 };
  for (const { state, n } of rows) {
    counts[state] = n;
    if (state !== 'refused') counts.total += n;
  }
  return counts;
}

const NEXT: Readonly<Record<BatchState, readonly BatchState[]>> = {
  created: ['running', 'completed', 'cancelled'],
  running: ['completed', 'cancelled'],
  completed: [],
  cancelled: [],
};

/** INVALID_TRANSITION for a finished batch, or a change the lifecycle forbids. */
export function setBatchState(ctx: JournalContext, id: string, state: BatchState): BatchRecord {
  ctx.db.transaction(() => {
    const current = getBatch(ctx, id).state;
    if (current === state) return;
    if (!NEXT[current].includes(state)) throw new JournalError('INVALID_TRANSITION', `batch ${id} cannot go from ${current} to ${state}`);
    const at = isoNow(ctx);
    const finished = state === 'completed' || state === 'cancelled' ? at : null;
    ctx.db.prepare('UPDATE batches SET state = ?, updated_at = ?, finished_at = ? WHERE id = ?').run(state, at, finished, id);
  }).immediate();
  return getBatch(ctx, id);
}

export interface ClaimInput {
  readonly uid: Uint8Array | string;
  readonly keySet: string;
  readonly keyVersion: number;
}

/**
 * A station presents a card to a batch. If the UID already holds a card of this batch (a card
 * pulled out and presented again, or resumed after a crash), that card; otherwise the batch's
 * lowest pending card without a UID gets it, with the key set and version it will be encoded
 * with. Undefined when no card number is left. Atomic, so stations (and replicas sharing the
 * file) never get the same number. UID_TAKEN when the UID belongs to a live card of another
 * batch or profile; INVALID_TRANSITION when the batch is finished.
 */
export function claimCard(ctx: JournalContext, batchId: string, input: ClaimInput): CardRecord | undefined {
  const uid = uidText(input.uid);
  const keySet = nonEmpty(input.keySet, 'key set');
  const keyVersion = keyVersionValue(input.keyVersion);
  return ctx.db.transaction((): CardRecord | undefined => {
    const state = batchState(ctx, batchId);
    const held = ctx.db.prepare(`SELECT * FROM cards WHERE uid = ? AND state <> 'refused'`).get(uid) as CardRow | undefined;
    if (held) {
      if (held.batch_id === batchId) return toCardRecord(held);
      throw new JournalError('UID_TAKEN', `UID ${uid} already belongs to card ${held.id}`);
    }
    if (state === 'completed' || state === 'cancelled') {
      throw new JournalError('INVALID_TRANSITION', `batch ${batchId} is ${state}`);
    }
    const at = isoNow(ctx);
    const row = ctx.db
      .prepare(
        `UPDATE cards SET uid = ?, key_set = ?, key_version = ?, updated_at = ?
         WHERE id = (SELECT id FROM cards WHERE batch_id = ? AND state = 'pending' AND uid IS NULL ORDER BY id LIMIT 1)
         RETURNING *`,
      )
      .get(uid, keySet, keyVersion, at, batchId) as CardRow | undefined;
    if (row && state === 'created') {
      ctx.db.prepare(`UPDATE batches SET state = 'running', updated_at = ? WHERE id = ?`).run(at, batchId);
    }
    return row ? toCardRecord(row) : undefined;
  }).immediate();
}
