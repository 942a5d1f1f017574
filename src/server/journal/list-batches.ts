import { getBatch } from './batches.js';
import type { JournalContext } from './context.js';
import { JournalError } from './errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type PageRequest } from './list-cards.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { BATCH_STATES, type BatchRecord, type BatchState } from './records.js';

export interface BatchFilter {
  readonly state?: BatchState;
}

export interface BatchPage {
  /** Newest first. */
  readonly batches: BatchRecord[];
  /** Empty when this is the last page. */
  readonly nextPageToken: string;
}

/**
 * Batches, newest first, one page at a time: keyset pagination on the row's insertion order
 * (rowid), so each page costs the same and batches created meanwhile never shift a page.
 */
export function listBatches(ctx: JournalContext, filter: BatchFilter = {}, page: PageRequest = {}): BatchPage {
  const pageSize = page.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new JournalError('INVALID_ARGUMENT', `page size must be 1..${MAX_PAGE_SIZE}`);
  }
  if (filter.state !== undefined && !BATCH_STATES.includes(filter.state)) {
    throw new JournalError('INVALID_ARGUMENT', `state must be one of ${BATCH_STATES.join(', ')}`);
  }
  const filterKey = JSON.stringify({ batches: true, s: filter.state ?? null });
  // The token holds the rowid of the page's last (oldest) batch; 0: the first page.
  const before = decodePageToken(page.pageToken, filterKey);
  const rows = ctx.db
    .prepare(
      `SELECT rowid AS seq, id FROM batches
       WHERE (? = 0 OR rowid < ?) AND (? IS NULL OR state = ?)
       ORDER BY rowid DESC LIMIT ?`,
    )
    .all(before, before, filter.state ?? null, filter.state ?? null, pageSize + 1) as { seq: number; id: string }[];
  const more = rows.length > pageSize;
  const shown = rows.slice(0, pageSize);
  return {
    batches: shown.map((row) => getBatch(ctx, row.id)),
    nextPageToken: more ? encodePageToken(shown[shown.length - 1].seq, filterKey) : '',
  };
}
