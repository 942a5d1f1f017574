import { isoNow, type JournalContext } from './context.js';
import { fromSqliteError, JournalError } from './errors.js';
import type { CardRecord, CardState } from './records.js';
import { cardNumberText, keyVersionValue, nonEmpty, uidText } from './values.js';

export interface CardRow {
  id: number;
  uid: string | null;
  card_number: string;
  profile: string;
  batch_id: string | null;
  key_set: string | null;
  key_version: number | null;
  data: string | null;
  state: CardState;
  detail: string | null;
  created_at: string;
  updated_at: string;
  encoded_at: string | null;
}

export function toCardRecord(row: CardRow): CardRecord {
  return {
    id: row.id,
    uid: row.uid ?? undefined,
    cardNumber: BigInt(row.card_number),
    profile: row.profile,
    batchId: row.batch_id ?? undefined,
    keySet: row.key_set ?? undefined,
    keyVersion: row.key_version ?? undefined,
    data: row.data ?? undefined,
    state: row.state,
    detail: row.detail ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    encodedAt: row.encoded_at ?? undefined,
  };
}

/** A single card to encode outside a batch (the `Encode` RPC): UID and number known at once. */
export interface RegisterCardInput {
  readonly profile: string;
  readonly cardNumber: bigint;
  readonly uid: Uint8Array | string;
  readonly keySet: string;
  readonly keyVersion: number;
  readonly data?: string;
}

/** Inserts a pending card. CARD_NUMBER_TAKEN / UID_TAKEN when another live card holds either. */
export function registerCard(ctx: JournalContext, input: RegisterCardInput): CardRecord {
  const cardNumber = cardNumberText(input.cardNumber);
  const uid = uidText(input.uid);
  const profile = nonEmpty(input.profile, 'profile');
  const at = isoNow(ctx);
  try {
    const row = ctx.db
      .prepare(
        `INSERT INTO cards (uid, card_number, profile, key_set, key_version, data, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING *`,
      )
      .get(uid, cardNumber, profile, nonEmpty(input.keySet, 'key set'), keyVersionValue(input.keyVersion), input.data ?? null, at, at) as CardRow;
    return toCardRecord(row);
  } catch (e) {
    throw fromSqliteError(e, { cardNumber, uid, profile });
  }
}

export function getCard(ctx: JournalContext, id: number): CardRecord {
  const row = ctx.db.prepare('SELECT * FROM cards WHERE id = ?').get(id) as CardRow | undefined;
  if (!row) throw new JournalError('UNKNOWN_CARD', `no card ${id}`);
  return toCardRecord(row);
}

/**
 * The card a UID belongs to: the live one (not refused) if any, else the latest refused one.
 * UNKNOWN_CARD when the journal has never seen the UID.
 */
export function getCardByUid(ctx: JournalContext, uid: Uint8Array | string): CardRecord {
  const hex = uidText(uid);
  const row = findCardRowByUid(ctx, hex);
  if (!row) throw new JournalError('UNKNOWN_CARD', `no card with UID ${hex}`);
  return toCardRecord(row);
}

export function findCardRowByUid(ctx: JournalContext, hex: string): CardRow | undefined {
  return ctx.db
    .prepare(`SELECT * FROM cards WHERE uid = ? ORDER BY (state = 'refused'), id DESC LIMIT 1`)
    .get(hex) as CardRow | undefined;
}

/** Which states a card may move to from each state (a same-state change is always allowed). */
const NEXT: Readonly<Record<CardState, readonly CardState[]>> = {
  pending: ['encoding', 'encoded', 'failed', 'refused'],
  encoding: ['encoded', 'failed', 'refused'],
  failed: ['encoding', 'encoded', 'failed'],
  encoded: [],
  refused: [],
};

/**
 * Moves a card to `state` (with why, for failed and refused). INVALID_TRANSITION for a change
 * the lifecycle forbids: an encoded or refused card is final; a failed card may have been
 * written to, so it cannot be refused (its number stays with it).
 * Refusing a batch card puts its number back in the batch as a new pending card.
 */
export function setCardState(ctx: JournalContext, id: number, state: CardState, detail?: string): CardRecord {
  return ctx.db.transaction(() => {
    const card = getCard(ctx, id);
    if (card.state !== state && !NEXT[card.state].includes(state)) {
      throw new JournalError('INVALID_TRANSITION', `card ${id} cannot go from ${card.state} to ${state}`);
    }
    const at = isoNow(ctx);
    const row = ctx.db
      .prepare(
        `UPDATE cards SET state = ?, detail = ?, updated_at = ?,
           encoded_at = CASE WHEN ? = 'encoded' THEN coalesce(encoded_at, ?) ELSE encoded_at END
         WHERE id = ? RETURNING *`,
      )
      .get(state, detail ?? null, at, state, at, id) as CardRow;
    if (state === 'refused' && card.state !== 'refused' && card.batchId !== undefined) {
      ctx.db
        .prepare(
          `INSERT INTO cards (card_number, profile, batch_id, data, state, created_at, updated_at)
           VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
        )
        .run(card.cardNumber.toString(), card.profile, card.batchId, card.data ?? null, at, at);
    }
    return toCardRecord(row);
  }).immediate();
}
