import { toCardRecord, type CardRow } from './cards.js';
import type { JournalContext } from './context.js';
import { JournalError } from './errors.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { CARD_STATES, type CardRecord, type CardState } from './records.js';
import { cardNumberText, uidText } from './values.js';

export interface CardFilter {
  readonly batchId?: string;
  /** One state or any of several. */
  readonly state?: CardState | readonly CardState[];
  readonly uid?: Uint8Array | string;
  readonly cardNumber?: bigint;
  readonly profile?: string;
}

export interface PageRequest {
  /** 1..MAX_PAGE_SIZE; default DEFAULT_PAGE_SIZE. */
  readonly pageSize?: number;
  /** From the previous page's `nextPageToken`; empty or absent for the first page. */
  readonly pageToken?: string;
}

export interface CardPage {
  /** In increasing journal id (creation) order: stable while cards are added. */
  readonly cards: CardRecord[];
  /** Empty when this is the last page. */
  readonly nextPageToken: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/**
 * Cards matching every given filter field, one page at a time, by keyset pagination on the
 * card id (no OFFSET: each page costs the same, and cards added meanwhile never shift a page).
 */
export function listCards(ctx: JournalContext, filter: CardFilter = {}, page: PageRequest = {}): CardPage {
  const pageSize = page.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new JournalError('INVALID_ARGUMENT', `page size must be 1..${MAX_PAGE_SIZE}`);
  }
  const where: string[] = [];
  const params: (string | number)[] = [];
  const key: Record<string, unknown> = {};
  if (filter.batchId !== undefined) {
    where.push('batch_id = ?');
    params.push(filter.batchId);
    key.b = filter.batchId;
  }
  if (filter.state !== undefined) {
    const states = typeof filter.state === 'string' ? [filter.state] : [...filter.state];
    if (states.length === 0 || states.some((s) => !CARD_STATES.includes(s))) {
      throw new JournalError('INVALID_ARGUMENT', `state must be one of ${CARD_STATES.join(', ')}`);
    }
    where.push(`state IN (${states.map(() => '?').join(', ')})`);
    params.push(...states);
    key.s = [...states].sort();
  }
  if (filter.uid !== undefined) {
    const uid = uidText(filter.uid);
    where.push('uid = ?');
    params.push(uid);
    key.u = uid;
  }
  if (filter.cardNumber !== undefined) {
    const n = cardNumberText(filter.cardNumber);
    where.push('card_number = ?');
    params.push(n);
    key.n = n;
  }
  if (filter.profile !== undefined) {
    where.push('profile = ?');
    params.push(filter.profile);
    key.p = filter.profile;
  }
  const filterKey = JSON.stringify(key);
  const after = decodePageToken(page.pageToken, filterKey);
  where.push('id > ?');
  params.push(after);
  const rows = ctx.db
    .prepare(`SELECT * FROM cards WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`)
    .all(...params, pageSize + 1) as CardRow[];
  const more = rows.length > pageSize;
  const cards = rows.slice(0, pageSize).map(toCardRecord);
  return { cards, nextPageToken: more ? encodePageToken(cards[cards.length - 1].id, filterKey) : '' };
}
