import { getBatch } from './batches.js';
import { toCardRecord, type CardRow } from './cards.js';
import type { JournalContext } from './context.js';
import type { BatchRecord, CardRecord } from './records.js';

/** A card whose last journalled step was `started` and never completed, skipped or failed. */
export interface InterruptedCard {
  readonly card: CardRecord;
  /** The step that may have run part-way (the personalizer re-checks it on the card). */
  readonly step: string;
  readonly startedAt: string;
}

export interface UnfinishedWork {
  /** In card id order. */
  readonly interruptedCards: InterruptedCard[];
  /** Batches neither completed nor cancelled, oldest first, with their counts. */
  readonly unfinishedBatches: BatchRecord[];
}

/**
 * What a restarted service must pick up after a crash: cards interrupted mid-step (present
 * them again; the personalizer's idempotent steps finish them) and batches to resume.
 */
export function unfinishedWork(ctx: JournalContext): UnfinishedWork {
  const rows = ctx.db
    .prepare(
      `SELECT c.*, s.step AS last_step, s.at AS last_at
       FROM cards c JOIN steps s ON s.id = (SELECT max(id) FROM steps WHERE card_id = c.id)
       WHERE s.phase = 'started'
       ORDER BY c.id`,
    )
    .all() as (CardRow & { last_step: string; last_at: string })[];
  const batchIds = ctx.db
    .prepare(`SELECT id FROM batches WHERE state IN ('created', 'running') ORDER BY created_at, id`)
    .pluck()
    .all() as string[];
  return {
    interruptedCards: rows.map((row) => ({ card: toCardRecord(row), step: row.last_step, startedAt: row.last_at })),
    unfinishedBatches: batchIds.map((id) => getBatch(ctx, id)),
  };
}
