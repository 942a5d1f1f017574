import { batchState, getBatch } from './batches.js';
import { toCardRecord, type CardRow } from './cards.js';
import { isoNow, type JournalContext } from './context.js';
import type { BatchRecord, CardRecord } from './records.js';

/**
 * What stations ask the journal while they work batches: which batch to take a card number
 * from, which cards they left unfinished, and whether a batch is done.
 */

/** Batches still handing out card numbers (neither completed nor cancelled). */
const OPEN = `('created', 'running')`;

/**
 * The oldest open batch with a card number not yet given to a card, or undefined when there is
 * none (every open batch's numbers are on cards, or no batch is open).
 */
export function nextOpenBatch(ctx: JournalContext): string | undefined {
  return ctx.db
    .prepare(
      `SELECT b.id FROM batches b
       WHERE b.state IN ${OPEN}
         AND EXISTS (SELECT 1 FROM cards c WHERE c.batch_id = b.id AND c.state = 'pending' AND c.uid IS NULL)
       ORDER BY b.created_at, b.rowid LIMIT 1`,
    )
    .pluck()
    .get() as string | undefined;
}

/**
 * Cards of open batches that a physical card holds (a UID) but that are not finished: pending
 * (claimed, never started), encoding (on a station, or interrupted by a crash) or failed
 * (stopped part-way). Presented again, each continues where it stopped. In card id order.
 */
export function resumableCards(ctx: JournalContext): CardRecord[] {
  const rows = ctx.db
    .prepare(
      `SELECT c.* FROM cards c JOIN batches b ON b.id = c.batch_id
       WHERE b.state IN ${OPEN} AND c.uid IS NOT NULL AND c.state IN ('pending', 'encoding', 'failed')
       ORDER BY c.id`,
    )
    .all() as CardRow[];
  return rows.map(toCardRecord);
}

/**
 * Completes an open batch once no card of it is pending or encoding (every card encoded or
 * failed; failed cards stay resumable when presented again). Checked and changed in one
 * transaction, so of stations finishing the last cards at once, one completes it. Returns the
 * completed batch when this call completed it, else undefined.
 */
export function completeIfDone(ctx: JournalContext, id: string): BatchRecord | undefined {
  const completed = ctx.db.transaction((): boolean => {
    const state = batchState(ctx, id);
    if (state !== 'created' && state !== 'running') return false;
    const unfinished = ctx.db.prepare(`SELECT 1 FROM cards WHERE batch_id = ? AND state IN ('pending', 'encoding') LIMIT 1`).get(id);
    if (unfinished !== undefined) return false;
    const at = isoNow(ctx);
    ctx.db.prepare(`UPDATE batches SET state = 'completed', updated_at = ?, finished_at = ? WHERE id = ?`).run(at, at, id);
    return true;
  }).immediate();
  return completed ? getBatch(ctx, id) : undefined;
}
