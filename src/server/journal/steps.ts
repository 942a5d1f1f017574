import type { StepEvent } from '../../encoder/personalize/journal.js';
import { findCardRowByUid } from './cards.js';
import { isoNow, type JournalContext } from './context.js';
import { JournalError } from './errors.js';
import type { StepRecord } from './records.js';
import { uidText } from './values.js';

interface StepRow {
  id: number;
  card_id: number;
  uid: string;
  step: string;
  phase: string;
  detail: string | null;
  at: string;
}

export const toStepRecord = (row: StepRow): StepRecord => ({
  id: row.id,
  cardId: row.card_id,
  uid: row.uid,
  step: row.step,
  phase: row.phase,
  detail: row.detail ?? undefined,
  at: row.at,
});

/**
 * Writes one personalization step event (write-ahead: `started` is on disk before the
 * personalizer sends the step's APDUs, since the connection commits with synchronous = FULL).
 * The event's UID must belong to a live card (registered or claimed first): UNKNOWN_CARD
 * otherwise, which stops the personalizer before it changes the card. A `started` step moves a
 * pending or failed card to encoding, in the same transaction.
 */
export function recordStep(ctx: JournalContext, event: StepEvent): StepRecord {
  const uid = uidText(event.uid);
  return ctx.db.transaction(() => {
    const card = findCardRowByUid(ctx, uid);
    if (!card || card.state === 'refused') throw new JournalError('UNKNOWN_CARD', `no card with UID ${uid} to journal step ${event.step}`);
    const at = isoNow(ctx);
    const row = ctx.db
      .prepare('INSERT INTO steps (card_id, uid, step, phase, detail, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *')
      .get(card.id, uid, event.step, event.phase, event.detail ?? null, at) as StepRow;
    if (event.phase === 'started' && (card.state === 'pending' || card.state === 'failed')) {
      ctx.db.prepare(`UPDATE cards SET state = 'encoding', detail = NULL, updated_at = ? WHERE id = ?`).run(at, card.id);
    }
    return toStepRecord(row);
  }).immediate();
}

/** A card's step events in the order they were recorded. */
export function cardSteps(ctx: JournalContext, cardId: number): StepRecord[] {
  return (ctx.db.prepare('SELECT * FROM steps WHERE card_id = ? ORDER BY id').all(cardId) as StepRow[]).map(toStepRecord);
}
